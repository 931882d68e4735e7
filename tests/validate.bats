#!/usr/bin/env bats
# mlctl validate: every check fires on a file made to break it, and stays
# quiet on a clean one; reports in text, JSON, JUnit and SARIF; gates.

load helpers

# expect KIND FILE ID [TEXT]: validating a project with that file fails with ID (and TEXT)
expect() {
	local kind=$1 file=$2 id=$3 text=${4:-}
	rm -rf "prj-$kind"
	model_project "prj-$kind" "$kind" "$file"
	run -1 --separate-stderr mlctl validate "prj-$kind"
	[[ "$output" == *"$id  "*"$text"* ]] || { echo "$kind: want $id $text, got:"; echo "$output"; false; }
}

# clean KIND FILE: validating a project with that file passes with no findings
clean() {
	rm -rf "prj-$1"
	model_project "prj-$1" "$1" "$2"
	run -0 --separate-stderr mlctl validate "prj-$1"
	[[ "$output" == "passed: 0 errors, 0 warnings in "* ]] || { echo "$1:"; echo "$output"; false; }
}

@test "the iris example validates clean, as a folder, a package and a registry version" {
	cp -r "$BATS_TEST_DIRNAME/../examples/iris" iris
	/usr/bin/python3 iris/train.py >/dev/null
	run -0 mlctl validate iris
	[[ "$output" == "passed: 0 errors, 0 warnings in "*" checks of iris" ]]
	mlctl package iris -o iris.mlpkg -q >/dev/null
	run -0 mlctl validate iris.mlpkg
	[[ "$output" == "passed: 0 errors, 0 warnings in "*" checks of iris.mlpkg sha256:"* ]]
	mlctl push iris.mlpkg -q
	run -0 mlctl validate iris:1.0.0
	[[ "$output" == "passed: "*" of iris:1.0.0 sha256:"* ]]
	cd iris && run -0 mlctl validate
}

@test "manifest checks MLV001-MLV013 each fire, all at once, naming the field" {
	make_project p
	cat > p/mlctl.json <<'JSON'
{"schema": "mlctl/v9", "name": "Bad Name", "version": "1.0", "license": "Nope",
 "colour": 1, "description": 5, "authors": "me",
 "artifacts": [{"path": "../up"}, {"path": "model.bin", "role": "toy"}, {"path": "model.bin"}],
 "signature": {"inputs": [{"name": "x", "dtype": "float33", "shape": [-2]}]}}
JSON
	run -1 mlctl validate p
	for id in MLV002 MLV003 MLV004 MLV005 MLV006 MLV007 MLV009 MLV010 MLV011 MLV013; do
		[[ "$output" == *"$id  "* ]] || { echo "missing $id"; echo "$output"; false; }
	done
	[[ "$output" == *"error   MLV003  name 'Bad Name' is not valid"* ]]
	[[ "$output" == *"warning MLV006  license 'Nope' is not an SPDX licence"* ]]
	printf '{"schema": ' > p/mlctl.json
	run -1 mlctl validate p
	[[ "$output" == *"error   MLV001  not valid JSON near line 1"* ]]
	echo '{"schema": "mlctl/v1", "name": "a", "version": "1.0.0", "artifacts": []}' > p/mlctl.json
	run -1 mlctl validate p
	[[ "$output" == *"MLV008  \"artifacts\" must be a non-empty array"* ]]
}

@test "file checks: missing (MLV020), leaving through a symlink (MLV021), not regular (MLV022)" {
	make_project p
	rm p/serve.py
	run -1 mlctl validate p
	[[ "$output" == *"serve.py"*"MLV020  artifact 'serve.py' is listed in mlctl.json but missing"* ]]
	make_project q
	echo secret > outside.txt
	rm q/serve.py && ln -s ../outside.txt q/serve.py
	run -1 mlctl validate q
	[[ "$output" == *"MLV021  artifact 'serve.py' leaves the project through a symlink"* ]]
	make_project r
	rm r/serve.py && mkfifo r/serve.py
	run -1 mlctl validate r
	[[ "$output" == *"MLV022  artifact 'serve.py' is not a regular file or folder"* ]]
}

@test "a package whose content does not match its index is MLV023, exit 5 (and MLV012, MLV001 for a bad index or manifest)" {
	bad_package digest d.mlpkg
	run -5 mlctl validate d.mlpkg
	[[ "$output" == *"MLV023  package 'd.mlpkg' has content that does not match its digest for 'model.bin'"* ]]
	bad_package unsafe-index u.mlpkg
	run -5 mlctl validate u.mlpkg
	[[ "$output" == *"MLV012  files index entry ../escape has a missing or unsafe path"* ]]
	bad_package badmanifest b.mlpkg
	run -5 mlctl validate b.mlpkg
	[[ "$output" == *"MLV001  not valid JSON"* ]]
	bad_package notar n.mlpkg
	run -5 --separate-stderr mlctl validate n.mlpkg
	[[ "$stderr" == *"is not an mlctl package"* ]]
	# the report goes to stdout, the one error line to stderr; --json says integrity
	run -5 --separate-stderr mlctl validate d.mlpkg
	[[ "$output" == *"MLV023"* ]]
	[[ "$stderr" == "mlctl: package 'd.mlpkg' has content that does not match its digest for 'model.bin'"* ]]
	[ "${#stderr_lines[@]}" -eq 1 ]
	run -5 --separate-stderr mlctl validate d.mlpkg --json
	/usr/bin/python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert (d["error"]["exit"], d["error"]["code"]) == (5, "integrity"), d["error"]
assert d["passed"] is False and d["findings"][0]["id"] == "MLV023", d' "$output"
}

@test "a stored version whose blob is corrupt: validate NAME:VERSION is MLV023, exit 5" {
	make_project p
	mlctl push p -q
	# intact, a missed gate is a failed gate (1), not damage
	run -1 --separate-stderr mlctl validate demo:1.0.0 --gate 'accuracy>=2'
	blob=$(find "$MLCTL_REGISTRY/blobs/sha256" -type f -size +10k)
	chmod u+w "$blob" && printf 'X' | dd of="$blob" bs=1 seek=500 conv=notrunc 2>/dev/null
	run -5 --separate-stderr mlctl validate demo:1.0.0
	[[ "$output" == *"MLV023  stored content does not match the index"* ]]
	[[ "$stderr" == "mlctl: 'demo:1.0.0', file 'model.bin': stored content does not match the index ("*"); run 'mlctl registry verify'" ]]
}

@test "pickles: os.system in every protocol 0-5 is MLV101" {
	for p in 0 1 2 3 4 5; do
		expect "evil-pickle-p$p" model.pkl MLV101 "imports posix.system"
	done
	expect eval-pickle model.pkl MLV101 "imports __builtin__.eval (GLOBAL)"
}

@test "pickles: memo tricks and a popped decoy do not hide os.system" {
	expect memo-global model.pkl MLV101 "imports os.system (STACK_GLOBAL)"
	expect pop-trick model.pkl MLV101 "imports os.system (STACK_GLOBAL)"
}

@test "pickles: unknown globals warn (MLV102), computed ones fail (MLV103), extension codes warn (MLV104)" {
	model_project u unknown-global model.pkl
	run -0 mlctl validate u
	[[ "$output" == *"warning MLV102  imports mymodels.Net, which is not on the list"* ]]
	run -1 mlctl validate u --strict
	[[ "$output" == *"FAILED: 0 errors, 1 warning in "* ]]
	expect hidden-global model.pkl MLV103 "not a plain string"
	model_project e ext-pickle model.pkl
	run -0 mlctl validate e
	[[ "$output" == *"warning MLV104  imports a global through copyreg extension code 5"* ]]
}

@test "pickles: malformed, truncated, unknown opcodes and 100001-deep stacks are MLV100; 10000-deep nesting is fine" {
	expect truncated-pickle model.pkl MLV100 "ends before STOP"
	expect badop-pickle model.pkl MLV100 "unknown opcode 0xff"
	expect deep-pickle model.pkl MLV100 "stack deeper than 100000"
	clean nested-list-pickle model.pkl
	clean clean-pickle model.pkl
	clean sklearn-like model.joblib
}

@test "PyTorch zips: data.pkl scanned whatever the top folder (MLV101), none is MLV105" {
	clean torch-zip model.pt
	clean torch-zip-oddtop model.pth
	expect torch-zip-evil model.pt MLV101 "imports posix.system"
	[[ "$output" == *"model.pt:archive/data.pkl"* ]]
	expect torch-zip-nodata model.pt MLV105 "holds no data.pkl"
	expect torch-zip-truncated model.pt MLV106 "cannot read"
}

@test "Keras: Lambda layers are MLV130, a missing or broken config.json MLV131" {
	clean keras-clean model.keras
	expect keras-lambda model.keras MLV130 "Lambda layer 'sneaky'"
	expect keras-noconfig model.keras MLV131 "without config.json"
	expect keras-badconfig model.keras MLV131 "not valid JSON"
}

@test "NumPy: headers MLV140; object arrays are scanned as pickles (MLV141 + MLV101), also inside .npz" {
	clean npy-clean weights.npy
	clean npy-v2 weights.npy
	expect npy-size weights.npy MLV140 "header says 24 bytes of data but the file holds 20"
	expect npy-badmagic weights.npy MLV140 "no \\x93NUMPY magic"
	expect npy-object weights.npy MLV101 "imports posix.system"
	[[ "$output" == *"info    MLV141  holds an object array"* ]]
	expect npz-evil weights.npz MLV101 "imports posix.system"
	[[ "$output" == *"weights.npz:b.npy"* ]]
}

@test "safetensors: header (MLV110), tensors (MLV111), metadata (MLV112), size (MLV113)" {
	clean st-clean model.safetensors
	expect st-hugeheader model.safetensors MLV110 "over the 100000000-byte limit"
	expect st-badjson model.safetensors MLV110 "not a JSON object"
	expect st-dtype model.safetensors MLV111 "unknown dtype 'F33'"
	expect st-shape model.safetensors MLV111 "F32 with 12 bytes of data, but its offsets span 8"
	expect st-gap model.safetensors MLV111 "(a gap)"
	expect st-overlap model.safetensors MLV111 "(an overlap)"
	expect st-overflow model.safetensors MLV111 "size overflows"
	expect st-deepjson model.safetensors MLV110 "not a JSON object"
	expect st-metadata model.safetensors MLV112 "__metadata__ 'epochs' is not a string"
	expect st-trailing model.safetensors MLV113 "(trailing bytes)"
}

@test "GGUF: header (MLV120), chat template (MLV121), metadata (MLV122), tensor infos (MLV123)" {
	clean gguf-clean model.gguf
	expect gguf-badversion model.gguf MLV120 "GGUF version 7 is not supported (2 or 3)"
	expect gguf-hugecount model.gguf MLV120 "header claims 9223372036854775808 metadata pairs"
	expect gguf-truncated model.gguf MLV120 "more than the 40-byte file can hold"
	model_project chat gguf-chat model.gguf
	run -0 mlctl validate chat
	[[ "$output" == *"warning MLV121  has a tokenizer.chat_template"* ]]
	expect gguf-badtype model.gguf MLV122 "unknown value type 13"
	expect gguf-badutf8 model.gguf MLV122 "not valid UTF-8"
	expect gguf-deeparray model.gguf MLV122 "nests arrays deeper than 4"
	expect gguf-bigarray model.gguf MLV122 "claims 1152921504606846976 elements"
	expect gguf-alignment model.gguf MLV122 "general.alignment 24 is not a power of two"
	expect gguf-unaligned model.gguf MLV123 "not a multiple of the alignment 32"
	expect gguf-pastend model.gguf MLV123 "runs past the end of the file"
	expect gguf-overlap model.gguf MLV123 "overlaps the tensor before it"
	expect gguf-dup model.gguf MLV123 "named twice"
	expect gguf-dims model.gguf MLV123 "5 dimensions; ggml allows 1 to 4"
	expect gguf-ggmltype model.gguf MLV123 "unknown ggml type 99"
	expect gguf-block model.gguf MLV123 "not a multiple of Q4_0's block of 32"
}

@test "a file whose bytes are not what its extension says is MLV150" {
	expect pickle-as-safetensors model.safetensors MLV150 "the name says safetensors but the bytes are a pickle"
	expect zip-as-onnx model.onnx MLV150 "the name says ONNX but the bytes are a zip archive"
	expect text-as-h5 model.h5 MLV150 "the name says HDF5"
}

@test "gates: metric thresholds from the manifest and --gate, licences, total size" {
	make_project p
	sed -i 's|"metrics": {"accuracy": 0.91}|"metrics": {"accuracy": 0.91, "latency": 12}, "gates": {"metrics": {"accuracy": ">= 0.95"}, "max_size_mb": 0.001}|' p/mlctl.json
	run -1 mlctl validate p --gate 'latency<10' --gate 'f1>=0.5' --allow-license Apache-2.0,BSD-3-Clause
	[[ "$output" == *"MLV200  metric accuracy is 0.91, but gate gates.metrics.accuracy needs >= 0.95"* ]]
	[[ "$output" == *"MLV200  metric latency is 12, but gate --gate needs < 10"* ]]
	[[ "$output" == *"MLV201  gate 'f1>=0.5' (--gate) needs metric 'f1'"* ]]
	[[ "$output" == *"MLV203  licence 'MIT' is not allowed here (allowed: Apache-2.0,BSD-3-Clause)"* ]]
	[[ "$output" == *"MLV204  the model's files add up to 0.0 MiB, over the 0.001 MiB limit"* ]]
	sed -i 's|">= 0.95"|"about 0.9"|' p/mlctl.json
	run -1 mlctl validate p
	[[ "$output" == *"MLV202  gate 'accuracy about 0.9' (gates.metrics.accuracy) is not METRIC OP NUMBER"* ]]
	make_project q
	run -0 mlctl validate q --gate 'accuracy>=0.9' --allow-license MIT,Apache-2.0
	run -2 --separate-stderr mlctl validate q --gate 'accuracy~0.9'
	[[ "$stderr" == "mlctl: --gate 'accuracy~0.9' is not METRIC OP NUMBER"* ]]
}

@test "--json prints the findings with a summary" {
	model_project p unknown-global model.pkl
	run -0 mlctl validate p --json
	[[ "$output" == *'"schema_version": 1'* ]]
	[[ "$output" == *'"passed": true'* ]]
	[[ "$output" == *'"warnings": 1'* ]]
	[[ "$output" == *'"id": "MLV102",
      "severity": "warning",
      "file": "model.pkl",'* ]]
	run -1 mlctl validate p --json --strict
	[[ "$output" == *'"passed": false'* ]]
	# every key the page lists is there: a folder's digest is null, a package's its digest
	run -0 mlctl validate p --json
	[[ "$output" == *'"digest": null,'* ]]
	mlctl package p -o p.mlpkg -q >/dev/null
	run -0 mlctl validate p.mlpkg --json
	[[ "$output" == *'"digest": "sha256:'* ]]
}

@test "--json on a failed gate: the report with the error in it, and the error line on stderr" {
	model_project p unknown-global model.pkl
	run -1 --separate-stderr mlctl validate p --json --strict
	[ "$stderr" = "mlctl: 'p' failed validation with 1 warning under --strict; fix what the findings say" ]
	/usr/bin/python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["passed"] is False and [f["id"] for f in d["findings"]] == ["MLV102"], d
assert d["error"] == {"exit": 1, "code": "gate_failed", "exit_code": 1,
                      "message": sys.argv[2][len("mlctl: "):]}, d["error"]' "$output" "$stderr"
	# the text report is as before: on stdout, with nothing on stderr
	run -1 --separate-stderr mlctl validate p --strict
	[ -z "$stderr" ]
	[[ "${lines[-1]}" == "FAILED: 0 errors, 1 warning in "* ]]
}

@test "--junit writes one testcase per check and a failure per error" {
	model_project p evil-pickle-p4 model.pkl
	run -1 mlctl validate p --junit report.xml -q
	/usr/bin/python3 - report.xml <<'PY'
import sys, xml.etree.ElementTree as ET
suite = ET.parse(sys.argv[1]).getroot().find("testsuite")
cases = suite.findall("testcase")
failed = [c for c in cases if c.find("failure") is not None]
assert int(suite.get("tests")) == len(cases) > 10, suite.attrib
assert int(suite.get("failures")) == len(failed) == 1, [c.get("name") for c in failed]
assert failed[0].get("classname") == "mlctl.validate.MLV101"
assert "posix.system" in failed[0].find("failure").get("message")
PY
}

@test "--sarif writes SARIF 2.1.0 with rules and located results" {
	model_project p evil-pickle-p2 model.pkl
	run -1 mlctl validate p --sarif report.sarif -q
	/usr/bin/python3 - report.sarif <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["version"] == "2.1.0"
run = doc["runs"][0]
rules = run["tool"]["driver"]["rules"]
assert all(r["id"].startswith("MLV") for r in rules)
res = run["results"]
assert len(res) == 1 and res[0]["ruleId"] == "MLV101" and res[0]["level"] == "error"
assert rules[res[0]["ruleIndex"]]["id"] == "MLV101"
assert res[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "model.pkl"
PY
	# a name outside ASCII, with spaces and URI delimiters, and a zip member: percent-encoded
	mkdir q
	"$PY" "$FIXTURES/make-models.py" torch-zip-evil "q/a<b>&\"c' 🚀.pt"
	cat > q/mlctl.json <<'JSON'
{"schema": "mlctl/v1", "name": "m", "version": "1.0.0", "license": "MIT",
 "artifacts": [{"path": "a<b>&\"c' 🚀.pt", "role": "model"}]}
JSON
	run -1 mlctl validate q --sarif q.sarif -q
	run -0 /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])' q.sarif
	[ "$output" = "a%3Cb%3E%26%22c%27%20%F0%9F%9A%80.pt%3Aarchive/data.pkl" ]
}

@test "validate takes the short digest that versions prints" {
	make_project p demo 1.0.0
	mlctl push p -q
	short=$(mlctl versions demo | awk '$1 == "1.0.0" { print $2 }')
	run -0 mlctl validate "demo@$short"
	[[ "${lines[-1]}" == "passed: 0 errors, 0 warnings in "*" checks of demo@$short sha256:"* ]]
	run -0 mlctl validate "$short" --record -q
	run -2 mlctl validate "demo@${short:0:14}"
}

@test "validate of something that is not there is exit 3; of nonsense exit 2" {
	run -3 mlctl validate nowhere:1.0.0
	run -2 --separate-stderr mlctl validate 'No Such Thing'
	[[ "$stderr" == *"is neither a folder, a package nor a registry reference"* ]]
	run -3 --separate-stderr mlctl validate nowhere
	[ "$stderr" = "mlctl: no folder or package './nowhere' and no model 'nowhere': no registry at '$MLCTL_REGISTRY'; push a model first or pass --registry DIR" ]
	run -3 --separate-stderr mlctl validate gone/sub/model.mlpkg
	[ "$stderr" = "mlctl: no folder or package 'gone/sub/model.mlpkg'" ]
	mkdir empty
	run -3 --separate-stderr mlctl validate empty
	[ "$stderr" = "mlctl: no mlctl.json in 'empty'; run 'mlctl init empty' to write one" ]
}

@test "docs/mlctl-validate.md lists every check id, and every id listed exists" {
	page=$BATS_TEST_DIRNAME/../docs/mlctl-validate.md
	checks=$BATS_TEST_DIRNAME/../lib/checks.h
	n=0
	for id in $(grep -o '^	X(MLV[0-9]\{3\}' "$checks" | cut -c4-); do
		grep -q "^| $id |" "$page" || { echo "$id is not in the docs"; false; }
		n=$((n + 1))
	done
	[ "$n" -ge 50 ]
	for id in $(grep -o '^| MLV[0-9]\{3\}' "$page" | cut -c3-); do
		grep -q "^	X($id," "$checks" || { echo "$id is documented but unknown"; false; }
	done
}

onnx_project() { # onnx_project DIR KIND: a model made by make-onnx.py, and its manifest from init
	/usr/bin/python3 "$FIXTURES/make-onnx.py" "$2" "$1"
	mlctl init "$1" --name m -q >/dev/null
}

@test "init reads an ONNX model's signature; the model validates clean, with external data too" {
	onnx_project clean onnx-clean
	run -0 cat clean/mlctl.json
	[[ "$output" == *'"framework": "onnx"'* ]]
	[[ "$output" == *'"name": "x",
        "dtype": "float32",
        "shape": [-1, 4]'* ]]
	[[ "$output" == *'"name": "y",
        "dtype": "float32",
        "shape": [-1, 3]'* ]]
	run -0 mlctl validate clean
	[[ "$output" == "passed: 0 errors, 0 warnings"* ]]
	onnx_project ext onnx-external
	run -0 mlctl validate ext
	mlctl package ext -o ext.mlpkg -q
	run -0 mlctl validate ext.mlpkg
}

@test "ONNX: malformed protobuf (MLV160), bad ir_version or no opset (MLV161)" {
	onnx_project t onnx-truncated
	run -1 mlctl validate t
	[[ "$output" == *"MLV160  is not a readable ONNX model: a "*"-byte field runs past its message"* ]]
	onnx_project ir onnx-badir
	run -1 mlctl validate ir
	[[ "$output" == *"MLV161  has ir_version 99; ONNX runtimes read 3 to 12"* ]]
	onnx_project op onnx-noopset
	run -1 mlctl validate op
	[[ "$output" == *"MLV161  imports no operator set"* ]]
}

@test "ONNX external data: '..', absolute, backslash and symlinked locations are MLV162 (CVE-2022-25882)" {
	for k in dotdot absolute backslash; do
		onnx_project "$k" "onnx-external-$k"
		run -1 mlctl validate "$k"
		[[ "$output" == *"MLV162  tensor 'W' keeps its data at '"*"CVE-2022-25882"* ]] || { echo "$output"; false; }
	done
	onnx_project sym onnx-external
	echo outside > outside.bin
	rm sym/weights.bin && ln -s ../outside.bin sym/weights.bin
	sed -i 's|"path": "weights.bin"|"path": "model.onnx"|' sym/mlctl.json
	run -1 mlctl validate sym
	[[ "$output" == *"MLV162  tensor 'W' keeps its data in 'weights.bin', which is a symlink or leaves the project"* ]]
}

@test "ONNX external data that is missing or too short is MLV163, in folders and packages" {
	onnx_project miss onnx-external-missing
	run -1 mlctl validate miss
	[[ "$output" == *"MLV163  tensor 'W' keeps its data in 'missing.bin', which is not in the project"* ]]
	onnx_project short onnx-external-short
	run -1 mlctl validate short
	[[ "$output" == *"MLV163  tensor 'W' reads bytes 4096 to 4160 of 'weights.bin', which has only 60"* ]]
	onnx_project ext onnx-external
	/usr/bin/python3 - ext/mlctl.json <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["artifacts"] = [a for a in m["artifacts"] if a["path"] != "weights.bin"]
json.dump(m, open(sys.argv[1], "w"))
PY
	mlctl package ext -o ext.mlpkg -q
	run -1 mlctl validate ext.mlpkg
	[[ "$output" == *"MLV163  tensor 'W' keeps its data in 'weights.bin', which is not in the project"* ]]
}

@test "ONNX: a signature that disagrees with the graph is MLV164" {
	onnx_project s onnx-clean
	/usr/bin/python3 - s/mlctl.json <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["signature"] = {"inputs": [{"name": "x", "dtype": "int64", "shape": [-1, 5]},
                             {"name": "W", "dtype": "float32"},
                             {"name": "z", "dtype": "float32"}],
                  "outputs": [{"name": "y", "dtype": "float32", "shape": [-1, 3, 1]}]}
json.dump(m, open(sys.argv[1], "w"))
PY
	run -1 mlctl validate s
	[[ "$output" == *"MLV164  signature.inputs 'x' says int64 but the model has float32"* ]]
	[[ "$output" == *"MLV164  signature.inputs 'x' has size 5 in dimension 1 but the model has 4"* ]]
	[[ "$output" == *"MLV164  signature.inputs names 'W', which is not one of the model's inputs"* ]]
	[[ "$output" == *"MLV164  signature.inputs names 'z', which is not one of the model's inputs"* ]]
	[[ "$output" == *"MLV164  signature.outputs 'y' has rank 3 but the model's has rank 2"* ]]
}

@test "validate REF --record stores the report in git and the database, failing or not" {
	make_project p
	mlctl push p -q
	run -1 mlctl validate demo:1.0.0 --record --gate 'accuracy>=0.99'
	run -0 --separate-stderr mlctl validate demo:1.0.0 --record
	[[ "$stderr" == "recorded for demo:1.0.0 in models/demo/records/"*"/validate-"*".json" ]]
	run -0 mlctl show demo
	[[ "$output" == *"record:      validate passed "*"by Test Runner <ci@example.com> (0 errors, 0 warnings)"* ]]
	[[ "$output" == *"record:      validate failed "*"(1 errors, 0 warnings)"* ]]
	run -0 git -C "$MLCTL_REGISTRY/index.git" log --format=%s
	[ "${lines[0]}" = "record validate demo 1.0.0: passed" ]
	[ "${lines[1]}" = "record validate demo 1.0.0: failed" ]
	path=$(git -C "$MLCTL_REGISTRY/index.git" show --name-only --format= main)
	run -0 git -C "$MLCTL_REGISTRY/index.git" show "main:$path"
	[[ "$output" == *'"passed": true'* ]]
	run -0 mlctl registry verify
	# the records come back from git alone
	run -0 mlctl registry reindex
	[ "$output" = "reindexed: 3 events replayed from git: 1 version, 2 records, 0 aliases" ]
	run -0 mlctl show demo --json
	[ "$(echo "$output" | grep -c '"kind": "validate"')" -eq 2 ]
	sqlite3 "$MLCTL_REGISTRY/mlctl.db" "DELETE FROM records"
	run -5 mlctl registry verify
	[[ "$output" == *"the database has 0 records but git has 2"* ]]
}

@test "the same report recorded twice in one second is two records in git, not one file" {
	make_project p
	mlctl push p -q
	# identical reports, as fast as they come: the file names must still differ
	for n in 1 2 3; do mlctl validate demo:1.0.0 --record -q; done
	run -0 git -C "$MLCTL_REGISTRY/index.git" ls-tree -r --name-only main models/demo/records
	[ "${#lines[@]}" -eq 3 ]
	run -0 mlctl registry verify
}

@test "--record of a path is a usage error; nothing is recorded" {
	make_project p
	run -2 --separate-stderr mlctl validate p --record
	[[ "$stderr" == "mlctl: --record stores a result for a registry version; 'p' is a path"* ]]
}

@test "a manifest nested 10000 deep is a finding, not a crash" {
	mkdir p
	/usr/bin/python3 -c 'print("{\"schema\": \"mlctl/v1\", \"x\": " + "[" * 10000 + "]" * 10000 + "}")' > p/mlctl.json
	run -1 mlctl validate p
	[[ "$output" == *"MLV001  not valid JSON"* ]]
}
