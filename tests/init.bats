#!/usr/bin/env bats
# mlctl init: a first manifest from a folder's files.

load helpers

@test "init lists the files with guessed roles and names the model after the folder" {
	mkdir -p Iris_Model/smoke Iris_Model/__pycache__ Iris_Model/.git
	touch Iris_Model/model.onnx Iris_Model/serve.py Iris_Model/config.yaml \
		Iris_Model/README.md Iris_Model/smoke/cases.jsonl Iris_Model/tokenizer.json \
		Iris_Model/notes.xyz Iris_Model/.hidden Iris_Model/__pycache__/x.pyc Iris_Model/.git/HEAD
	run -0 --separate-stderr mlctl init Iris_Model
	[ "$output" = "wrote Iris_Model/mlctl.json: model 'iris_model', 7 artifacts" ]
	[ "$(cat Iris_Model/mlctl.json)" = '{
  "schema": "mlctl/v1",
  "name": "iris_model",
  "version": "0.1.0",
  "framework": "onnx",
  "artifacts": [
    {
      "path": "README.md",
      "role": "docs"
    },
    {
      "path": "config.yaml",
      "role": "config"
    },
    {
      "path": "model.onnx",
      "role": "model"
    },
    {
      "path": "notes.xyz",
      "role": "other"
    },
    {
      "path": "serve.py",
      "role": "code"
    },
    {
      "path": "smoke/cases.jsonl",
      "role": "data"
    },
    {
      "path": "tokenizer.json",
      "role": "tokenizer"
    }
  ]
}' ]
}

@test "the manifest init writes packages as it is" {
	make_project p
	rm p/mlctl.json
	run -0 mlctl init p --name mymodel --version 2.0.0
	run -0 mlctl package p -o p.mlpkg -q
	run -0 mlctl push p.mlpkg -q
	[[ "$output" == "pushed mymodel:2.0.0 "* ]]
}

@test "init never overwrites without --force" {
	make_project p
	cp p/mlctl.json before.json
	run -4 --separate-stderr mlctl init p
	[ "$stderr" = "mlctl: 'p/mlctl.json' exists; edit it, or pass --force to write a new one" ]
	cmp before.json p/mlctl.json
	run -0 mlctl init p --force -q
	! cmp -s before.json p/mlctl.json || false
}

@test "init in the current folder by default" {
	mkdir m && cd m && touch weights.safetensors
	run -0 mlctl init -q
	grep -q '"framework": "safetensors"' mlctl.json
	grep -q '"name": "m"' mlctl.json
}

@test "init refuses bad names, bad versions, empty and missing folders" {
	mkdir empty
	run -1 --separate-stderr mlctl init empty
	[ "$stderr" = "mlctl: 'empty' has no files to list; put the model's files there first" ]
	[ ! -e empty/mlctl.json ]
	mkdir x && touch x/a.bin
	run -2 --separate-stderr mlctl init x --name 'Not Valid'
	[[ "$stderr" == *"'Not Valid' is not a model name"* ]]
	run -2 mlctl init x --version v1
	[ ! -e x/mlctl.json ]
	run -3 mlctl init nowhere
}

@test "init makes a model name from any folder name: runs of other characters one '-', 'model' when none is left" {
	for pair in "日本:model" "Ünïcode Model:n-code-model" "My Model v2:my-model-v2" "__x__:x"; do
		dir=${pair%%:*} want=${pair#*:}
		mkdir -p "$dir" && printf 'weights\n' > "$dir/model.bin"
		run -0 mlctl init "$dir" -q
		run -0 grep -F "\"name\": \"$want\"" "$dir/mlctl.json"
	done
}

@test "init says which files it leaves out because no package can hold their names" {
	mkdir p only
	printf 'weights\n' > p/model.bin
	printf 'x' > "p/$(printf 'caf\xe9.txt')"
	printf 'x' > "only/$(printf 'caf\xe9.txt')"
	run -0 --separate-stderr mlctl init p
	[ "$output" = "wrote p/mlctl.json: model 'p', 1 artifact" ]
	[[ "$stderr" == *"mlctl: warning: left out 'caf\\xe9.txt': its name is not UTF-8 or holds a control character or backslash, which no package can hold; rename it"* ]]
	run -1 --separate-stderr mlctl init only
	[ "$stderr" = "mlctl: 'only' has no files a package can hold: 'caf\\xe9.txt' has a name that is not UTF-8 or holds a control character or backslash; rename it" ]
}
