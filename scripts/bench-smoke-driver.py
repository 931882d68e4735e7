#!/usr/bin/env python3
"""The smallest possible client of the exec protocol, as a baseline for
mlctl smoke: send N requests to the model in DIR one at a time and print
the p50 and p95 round trip in microseconds.

usage: bench-smoke-driver.py DIR N"""
import json
import os
import subprocess
import sys
import time

d, n = sys.argv[1], int(sys.argv[2])
env = dict(os.environ, MLCTL_MODEL_DIR=d, KIND="good")
p = subprocess.Popen(["python3", "serve.py"], cwd=d, env=env, stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE)
lat = []
for i in range(n + 200):
    t = time.perf_counter()
    p.stdin.write((json.dumps({"id": i, "input": [1, 2]}) + "\n").encode())
    p.stdin.flush()
    p.stdout.readline()
    if i >= 200:
        lat.append((time.perf_counter() - t) * 1e6)
p.stdin.close()
p.wait()
lat.sort()
print("%.1f %.1f" % (lat[len(lat) // 2], lat[int(len(lat) * 0.95)]))
