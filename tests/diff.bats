#!/usr/bin/env bats
# mlctl diff REF REF: files, sizes, metrics with deltas, signature, licence
# and the p95 latency of the newest smoke records of two versions.

load helpers

@test "diff names each file added, removed or changed, the metric deltas, licence, signature and latency" {
	smoke_project p
	mlctl push p -q
	cp -r p q
	echo more >> q/model.bin
	rm q/data/train.csv && printf 'x\n' > q/data/eval.csv
	/usr/bin/python3 - q/mlctl.json <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["version"] = "1.1.0"
m["license"] = "Apache-2.0"
m["metrics"] = {"accuracy": 0.95, "f1": 0.8}
m["signature"] = {"inputs": [{"name": "x", "dtype": "float32", "shape": [-1, 2]}]}
json.dump(m, open(sys.argv[1], "w"))
PY
	mlctl push q -q
	mlctl smoke demo:1.0.0 --record -q
	mlctl smoke demo:1.1.0 --record -q
	run -0 mlctl diff demo:1.0.0 demo:1.1.0
	[[ "${lines[0]}" =~ ^demo:1\.0\.0\ sha256:[0-9a-f]{12}\ -\>\ demo:1\.1\.0\ sha256:[0-9a-f]{12}$ ]]
	[[ "$output" == *"  - data/train.csv  8 B"* ]]
	[[ "$output" == *"  + data/eval.csv  2 B"* ]]
	[[ "$output" == *"  ~ model.bin  "* ]]
	[[ "$output" == *"  (3 unchanged)"* ]]
	[[ "$output" == *"  accuracy             0.91 -> 0.95 (+0.04)"* ]]
	[[ "$output" == *"  f1                   - -> 0.8 (new)"* ]]
	[[ "$output" == *"license:   MIT -> Apache-2.0"* ]]
	[[ "$output" == *"signature: changed"* ]]
	[[ "$output" =~ latency:\ +p95\ [0-9.]+\ ms\ -\>\ [0-9.]+\ ms\ \([+-][0-9.]+\ ms,\ [0-9.]+x\) ]]
	run -0 mlctl diff demo:1.0.0 demo:1.1.0 --json
	/usr/bin/python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["from"]["version"] == "1.0.0" and d["to"]["version"] == "1.1.0", d
ch = {f["path"]: f["change"] for f in d["files"]}
assert ch == {"cases.jsonl": "same", "data/train.csv": "removed", "data/eval.csv": "added",
              "model.bin": "changed", "serve.py": "same", "serve.sh": "same"}, ch
m = {x["name"]: x for x in d["metrics"]}
assert abs(m["accuracy"]["delta"] - 0.04) < 1e-9 and m["f1"]["from"] is None and m["f1"]["delta"] is None, m
assert d["license"] == {"from": "MIT", "to": "Apache-2.0", "changed": True}, d["license"]
assert d["signature"]["changed"] and d["signature"]["from"] is None, d["signature"]
l = d["latency_p95_ms"]
assert l["from"] > 0 and l["to"] > 0 and abs(l["delta"] - (l["to"] - l["from"])) < 1e-9, l
assert d["size"]["delta"] == d["size"]["to"] - d["size"]["from"], d["size"]' "$output"
	# the same version against itself: nothing changed
	run -0 mlctl diff demo:1.0.0 demo@sha256:$(mlctl show demo:1.0.0 --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["digest"][7:19])')
	[[ "$output" == *"(5 unchanged)"* && "$output" == *"license:   MIT (same)"* && "$output" == *"signature: (none)"* ]]
}

@test "diff without smoke records says how to make one; bad references are clear errors" {
	make_project p
	mlctl push p -q
	next_version p 1.1.0
	mlctl push p -q
	mlctl alias set demo:1.1.0 production -q
	run -0 mlctl diff demo:1.0.0 demo:production
	[[ "$output" == *"latency:   p95 - -> - (a version with no smoke record: 'mlctl smoke REF --record')"* ]]
	run -0 mlctl diff demo:1.0.0 demo:production --json
	[[ "$output" == *'"delta": null'* ]]
	run -3 mlctl diff demo:1.0.0 demo:9.9.9
	run -3 mlctl diff demo:1.0.0 nosuch
	run -2 mlctl diff demo:1.0.0
	run -2 mlctl diff demo:1.0.0 'demo:1.0.0:x'
}
