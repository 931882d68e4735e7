#!/usr/bin/python3
"""Serve the iris model over HTTP (Python's standard http.server), as mlctl's
http smoke runtime expects: GET /health answers 200 once the model is
loaded; POST /predict with a JSON list of rows answers
{"predictions": {"label": [...], "probs": [[...]]}}, or 400 with an error.

usage: serve_http.py PORT"""
import json
import os
import pickle
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

model_dir = os.environ.get("MLCTL_MODEL_DIR", os.path.dirname(os.path.abspath(__file__)))
with open(os.path.join(model_dir, "model.pkl"), "rb") as f:
    model = pickle.load(f)


class Handler(BaseHTTPRequestHandler):
    def reply(self, status, doc):
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.reply(200 if self.path == "/health" else 404, {"ok": self.path == "/health"})

    def do_POST(self):
        try:
            rows = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            if not isinstance(rows, list) or not all(isinstance(r, list) and len(r) == 4 for r in rows):
                raise ValueError("input must be a list of rows of 4 numbers")
            labels = model.predict(rows).tolist()
            probs = [[round(p, 6) for p in r] for r in model.predict_proba(rows).tolist()]
            self.reply(200, {"predictions": {"label": labels, "probs": probs}})
        except Exception as e:  # a bad request is the client's error
            self.reply(400, {"error": str(e)})

    def log_message(self, *args):
        pass


HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
