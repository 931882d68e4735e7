#!/usr/bin/python3
"""Make the validate benchmark's inputs: a large pickle with many small
objects (the opcode scan's worst case per byte), and three 2 GiB models
whose data is sparse: safetensors, GGUF, and ONNX with external data.

usage: bench-validate.py DIR PICKLE_MB
"""
import json
import os
import pickle
import struct
import sys

import onnx
from onnx import TensorProto, helper

out, mb = sys.argv[1], int(sys.argv[2])
big = 2 * 1024 ** 3


def project(name, files, role="model"):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "mlctl.json"), "w") as f:
        json.dump({"schema": "mlctl/v1", "name": name, "version": "1.0.0",
                   "artifacts": [{"path": p, "role": role} for p in files]}, f)
    return d


d = project("pickle", ["model.pkl"])
n = mb * 1024 * 1024 // 37  # about 37 bytes a row
rows = [(i, i * 0.5, "s%d" % i, {"k": i}) for i in range(n)]
with open(os.path.join(d, "model.pkl"), "wb") as f:
    pickle.dump(rows, f, protocol=4)
del rows

d = project("safetensors", ["model.safetensors"])
header = json.dumps({"w": {"dtype": "F32", "shape": [big // 4], "data_offsets": [0, big]}}).encode()
with open(os.path.join(d, "model.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(header)) + header)
    f.truncate(8 + len(header) + big)

d = project("gguf", ["model.gguf"])
def gstr(s):
    return struct.pack("<Q", len(s)) + s.encode()
head = (b"GGUF" + struct.pack("<IQQ", 3, 1, 1) + gstr("general.architecture") +
        struct.pack("<I", 8) + gstr("llama") + gstr("w") + struct.pack("<I", 1) +
        struct.pack("<Q", big // 4) + struct.pack("<IQ", 0, 0))
head += b"\0" * ((-len(head)) % 32)
with open(os.path.join(d, "model.gguf"), "wb") as f:
    f.write(head)
    f.truncate(len(head) + big)

d = project("onnx", ["model.onnx", "weights.bin"])
w = TensorProto()
w.name, w.data_type, w.data_location = "W", TensorProto.FLOAT, TensorProto.EXTERNAL
w.dims.extend([big // 4 // 1024, 1024])
for k, v in (("location", "weights.bin"), ("offset", "0"), ("length", str(big))):
    e = w.external_data.add()
    e.key, e.value = k, v
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1024])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", big // 4 // 1024])
g = helper.make_graph([helper.make_node("MatMul", ["x", "WT"], ["y"]),
                       helper.make_node("Transpose", ["W"], ["WT"])], "big", [x], [y], [w])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
m.ir_version = 8
with open(os.path.join(d, "model.onnx"), "wb") as f:
    f.write(m.SerializeToString())
with open(os.path.join(d, "weights.bin"), "wb") as f:
    f.truncate(big)
