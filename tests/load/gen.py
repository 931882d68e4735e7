#!/usr/bin/python3
"""gen.py - large inputs for tests/load.bats and scripts/bench, made on the spot.

  gen.py project DIR N [--dup]   DIR/mlctl.json with N artifacts f/NNN/NNNNNN, one small file
                                 each (--dup: the last artifact repeats the first)
  gen.py safetensors FILE N      a safetensors file with N one-element F32 tensors, laid out
                                 as the format's documentation says: an 8-byte little-endian
                                 header length, the JSON header, the data
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


if __name__ == "__main__":
	if sys.argv[1] == "project":
		project(sys.argv[2], int(sys.argv[3]), "--dup" in sys.argv[4:])
	elif sys.argv[1] == "safetensors":
		safetensors(sys.argv[2], int(sys.argv[3]))
	else:
		sys.exit(__doc__)
