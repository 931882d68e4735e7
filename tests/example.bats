#!/usr/bin/env bats
# The real example: examples/iris trained with Debian's scikit-learn,
# packaged, pushed, pulled, and the pulled model answering.

load helpers

setup() {
	cd "$BATS_TEST_TMPDIR" || exit 1
	export MLCTL_REGISTRY="$BATS_TEST_TMPDIR/registry"
	export MLCTL_ACTOR="Test Runner <ci@example.com>"
	cp -r "$BATS_TEST_DIRNAME/../examples/iris" iris
	rm -f iris/model.pkl
	/usr/bin/python3 iris/train.py > train.out
}

@test "iris trains to the accuracy its manifest states" {
	run -0 cat train.out
	[[ "$output" == '{"accuracy": 0.9333, '* ]]
	grep -q '"accuracy": 0.9333' iris/mlctl.json
}

@test "iris packages deterministically: training twice gives the same digest" {
	run -0 mlctl package iris -o a.mlpkg -q
	first=$output
	/usr/bin/python3 iris/train.py > /dev/null
	touch iris/*
	run -0 mlctl package iris -o b.mlpkg -q
	[ "$output" = "$first" ]
	cmp a.mlpkg b.mlpkg
}

@test "iris goes through push and pull and the pulled model answers the smoke cases" {
	run -0 mlctl package iris -o iris.mlpkg -q
	run -0 mlctl push iris.mlpkg -q
	run -0 mlctl pull iris:1.0.0 -o pulled -q
	cd pulled
	# every case: the model's labels equal the expected ones, or it reports an error
	while IFS= read -r case; do
		req=$(echo "$case" | /usr/bin/python3 -c 'import json,sys; c=json.load(sys.stdin); print(json.dumps({"id": c["name"], "input": c["input"]}))')
		resp=$(echo "$req" | MLCTL_MODEL_DIR=$PWD /usr/bin/python3 serve.py)
		echo "$case" "$resp" | /usr/bin/python3 -c '
import json, sys
dec = json.JSONDecoder()
text = sys.stdin.read().strip()
case, end = dec.raw_decode(text)
resp, _ = dec.raw_decode(text[end:].strip())
if case.get("expect_error"):
    assert "error" in resp, resp
else:
    assert resp["output"]["label"] == case["expect"]["label"], (case, resp)
'
	done < smoke/cases.jsonl
}
