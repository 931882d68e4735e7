#!/usr/bin/python3
"""Serve the iris model over mlctl's exec protocol: one JSON object per
line on stdin, {"id": ..., "input": [[4 floats], ...]}, and one per line on
stdout, {"id": ..., "output": {"label": [...], "probs": [[...], ...]}} or
{"id": ..., "error": "..."}."""
import json
import os
import pickle
import sys

model_dir = os.environ.get("MLCTL_MODEL_DIR", os.path.dirname(os.path.abspath(__file__)))
with open(os.path.join(model_dir, "model.pkl"), "rb") as f:
    model = pickle.load(f)

for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    req = {}
    try:
        req = json.loads(line)
        rows = req["input"]
        if not isinstance(rows, list) or not all(isinstance(r, list) and len(r) == 4 for r in rows):
            raise ValueError("input must be a list of rows of 4 numbers")
        labels = model.predict(rows).tolist()
        probs = [[round(p, 6) for p in row] for row in model.predict_proba(rows).tolist()]
        resp = {"id": req.get("id"), "output": {"label": labels, "probs": probs}}
    except Exception as e:  # the protocol reports errors per request
        resp = {"id": req.get("id") if isinstance(req, dict) else None, "error": str(e)}
    sys.stdout.write(json.dumps(resp) + "\n")
    sys.stdout.flush()
