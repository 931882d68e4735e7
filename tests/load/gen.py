#!/usr/bin/python3
"""gen.py - large inputs for tests/load.bats and scripts/bench, made on the spot.

  gen.py project DIR N [--dup]   DIR/mlctl.json with N artifacts f/NNN/NNNNNN, one small file
                                 each (--dup: the last artifact repeats the first)
  gen.py safetensors FILE N      a safetensors file with N one-element F32 tensors, laid out
                                 as the format's documentation says: an 8-byte little-endian
                                 header length, the JSON header, the data
  gen.py safetensors-dup FILE N  a safetensors header naming tensor 'a' N times
  gen.py pickle-stops FILE N     a pickle that stores one memo key, then N more pickles
                                 (NONE, STOP) after it in the same file
  gen.py pickle-memo FILE N      a pickle storing a name under the 65,536 memo keys below
                                 2^20 that a multiplicative hash puts in one cluster, then
                                 fetching them N times
  gen.py onnx-wide FILE N        an ONNX model (made by the onnx library) whose graph has N
                                 inputs, each with an initializer of its name (defaults)
"""
import json
import os
import struct
import sys


def project(d, n, dup):
	arts = []
	for i in range(n):
		rel = "f/%03d/%06d" % (i // 1000, i)
		os.makedirs(os.path.join(d, os.path.dirname(rel)), exist_ok=True)
		with open(os.path.join(d, rel), "w") as f:
			f.write("%d\n" % i)
		arts.append({"path": rel, "role": "data"})
	if dup:
		arts.append(dict(arts[0]))
	man = {"schema": "mlctl/v1", "name": "load", "version": "1.0.0", "license": "MIT",
	       "artifacts": arts}
	with open(os.path.join(d, "mlctl.json"), "w") as f:
		json.dump(man, f)


def safetensors(path, n):
	header = {"__metadata__": {"format": "pt"}}
	for i in range(n):
		header["t%07d" % i] = {"dtype": "F32", "shape": [1], "data_offsets": [4 * i, 4 * i + 4]}
	text = json.dumps(header, separators=(",", ":")).encode()
	text += b" " * (-len(text) % 8)
	with open(path, "wb") as f:
		f.write(struct.pack("<Q", len(text)))
		f.write(text)
		f.write(struct.pack("<%df" % n, *range(n)))



def safetensors_dup(path, n):
	one = b'"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}'
	text = b"{" + b",".join([one] * n) + b"}"
	text += b" " * (-len(text) % 8)
	with open(path, "wb") as f:
		f.write(struct.pack("<Q", len(text)))
		f.write(text)
		f.write(b"\0" * 4)


def pickle_stops(path, n):
	# protocol 2: PROTO 2, NONE, BINPUT 0, STOP; then n times NONE, STOP
	with open(path, "wb") as f:
		f.write(b"\x80\x02Nq\x00.")
		f.write(b"N." * n)


def onnx_wide(path, n):
	import onnx
	from onnx import TensorProto, helper
	names = ["x%06d" % i for i in range(n)]
	inputs = [helper.make_tensor_value_info(m, TensorProto.FLOAT, [1]) for m in names]
	inits = [helper.make_tensor(m, TensorProto.FLOAT, [1], [0.0]) for m in names]
	node = helper.make_node("Identity", [names[0]], ["y"])
	out = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])
	graph = helper.make_graph([node], "wide", inputs, [out], initializer=inits)
	model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
	model.ir_version = 8
	onnx.save(model, path)


def pickle_memo(path, n):
	mult, mask = 0x9E3779B97F4A7C15, (1 << 17) - 1
	keys = [k for k in range(1 << 20) if (((k * mult) % (1 << 64)) >> 20) & mask < 8192][:65536]
	out = [b"\x80\x02"]
	for k in keys:  # BINUNICODE 'a', LONG_BINPUT k, POP
		out.append(b"X\x01\x00\x00\x00ar" + struct.pack("<I", k) + b"0")
	for i in range(n):  # LONG_BINGET, POP
		out.append(b"j" + struct.pack("<I", keys[(i * 7919) % len(keys)]) + b"0")
	out.append(b"N.")
	with open(path, "wb") as f:
		f.write(b"".join(out))

if __name__ == "__main__":
	if sys.argv[1] == "project":
		project(sys.argv[2], int(sys.argv[3]), "--dup" in sys.argv[4:])
	elif sys.argv[1] == "safetensors":
		safetensors(sys.argv[2], int(sys.argv[3]))
	elif sys.argv[1] == "safetensors-dup":
		safetensors_dup(sys.argv[2], int(sys.argv[3]))
	elif sys.argv[1] == "pickle-stops":
		pickle_stops(sys.argv[2], int(sys.argv[3]))
	elif sys.argv[1] == "onnx-wide":
		onnx_wide(sys.argv[2], int(sys.argv[3]))
	elif sys.argv[1] == "pickle-memo":
		pickle_memo(sys.argv[2], int(sys.argv[3]))
	else:
		sys.exit(__doc__)
