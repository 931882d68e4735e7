#!/usr/bin/env bats
# mlctl deprecate / undeprecate: versions and models marked not to be used,
# kept in git (a file per version or model, GTO's deregistration and
# deprecation tags) and the database, and honoured by push, pull, versions,
# show and alias set.

load helpers

two_versions() {
	make_project p
	mlctl push p -q
	next_version p 1.1.0
	mlctl push p -q
}

gto_check() {
	"$PY" "$FIXTURES/gto-check.py" "$MLCTL_REGISTRY/index.git"
}

@test "a deprecated version is marked, warned about on pull, and tagged as GTO deregisters" {
	two_versions
	run -0 mlctl deprecate demo:1.0.0 --reason "trained on leaked data"
	[ "$output" = "demo:1.0.0 is deprecated (tag demo@v1.0.0!#1)" ]
	run -0 mlctl versions demo
	[[ "${lines[0]}" =~ DEPRECATED$ ]]
	[[ "${lines[1]}" =~ ^1\.1\.0\ .*\ -$ ]]
	[[ "${lines[2]}" =~ ^1\.0\.0\ .*\ 20[0-9-]+T[0-9:]+Z$ ]]
	run -0 mlctl versions demo --json
	/usr/bin/python3 -c '
import json, sys
d = json.loads(sys.argv[1])
v = {x["version"]: x["deprecated"] for x in d["versions"]}
assert v["1.1.0"] is None and v["1.0.0"].endswith("Z"), v' "$output"
	run -0 --separate-stderr mlctl pull demo:1.0.0 -o out
	[[ "$stderr" == "mlctl: warning: demo:1.0.0 is deprecated (since "*"); pulled anyway: see 'mlctl history demo'" ]]
	[ -f out/model.bin ]
	run -0 mlctl show demo:1.0.0
	[[ "$output" == *"deprecated:  since "* ]]
	run -0 mlctl show demo:1.0.0 --json
	[[ "$output" == *'"deprecated": "20'* ]]
	git=$MLCTL_REGISTRY/index.git
	[ "$(git -C "$git" rev-parse 'demo@v1.0.0!#1^{commit}')" = "$(git -C "$git" rev-parse 'demo@v1.0.0^{commit}')" ]
	[ "$(git -C "$git" for-each-ref 'refs/tags/demo@v1.0.0!#1' --format='%(contents:subject)')" = "trained on leaked data" ]
	run -0 git -C "$git" show main:models/demo/deprecations/1.0.0.json
	[[ "$output" == *'"deprecated":true'* && "$output" == *'"reason":"trained on leaked data"'* ]]
	run -0 gto_check
	[[ "$output" == *"deregister 1"* ]]
	# again: nothing recorded
	before=$(registry_state)
	run -0 mlctl deprecate demo:1.0.0
	[ "$output" = "demo:1.0.0 is deprecated already" ]
	[ "$(registry_state)" = "$before" ]
	# an alias may still be set to it, with a warning
	run -0 --separate-stderr mlctl alias set demo:1.0.0 old
	[[ "$stderr" == *"demo:1.0.0 is deprecated; the alias moved as asked"* ]]
	run -0 mlctl undeprecate demo:1.0.0 --reason "false alarm"
	[ "$output" = "demo:1.0.0 is no longer deprecated" ]
	run -0 --separate-stderr mlctl pull demo:1.0.0 -o out2
	[ -z "$stderr" ]
	run -0 mlctl registry verify
}

@test "a deprecated model takes no new version until it is undeprecated" {
	two_versions
	cp -r p p110
	run -0 mlctl deprecate demo --reason "replaced by demo-v2"
	[ "$output" = "model demo is deprecated (tag demo@deprecated#1)" ]
	next_version p 1.2.0
	before=$(registry_state)
	run -1 --separate-stderr mlctl push p
	[ "$stderr" = "mlctl: model 'demo' is deprecated and takes no new version; see 'mlctl history demo', or take it back with 'mlctl undeprecate demo'" ]
	[ "$(registry_state)" = "$before" ]
	run -1 mlctl push p --json
	[[ "$output" == *'"code": "gate_failed"'* ]]
	# the version stored, pushed again, is still the no-op a CI re-run needs
	run -0 mlctl push p110
	[[ "$output" == *"demo:1.1.0"* ]]
	run -0 --separate-stderr mlctl versions demo
	[[ "$stderr" == "model demo is deprecated (since "*") and takes no new version; see 'mlctl history demo'" ]]
	run -0 mlctl list
	[[ "${lines[0]}" =~ DEPRECATED$ && "${lines[1]}" =~ ^demo\ .*\ 20[0-9-]+T[0-9:]+Z$ ]]
	run -0 mlctl list --json
	[[ "$output" == *'"deprecated": "20'* ]]
	run -0 --separate-stderr mlctl pull demo:1.1.0 -o out
	[[ "$stderr" == *"the model of demo:1.1.0 is deprecated"* ]]
	run -0 mlctl undeprecate demo
	[ "$output" = "model demo is no longer deprecated" ]
	next_version p 1.2.0
	run -0 mlctl push p -q
	run -0 gto_check
	[[ "$output" == *"deprecated 1"* ]]
	run -0 mlctl registry verify
}

@test "deprecations survive reindex and sync's rebuild as they were" {
	two_versions
	mlctl deprecate demo:1.0.0 -q
	mlctl deprecate demo -q
	mlctl undeprecate demo -q
	before=$(mlctl versions demo --json; git -C "$MLCTL_REGISTRY/index.git" for-each-ref refs/tags --format='%(refname) %(objectname)')
	run -0 mlctl registry reindex
	[ "$(mlctl versions demo --json; git -C "$MLCTL_REGISTRY/index.git" for-each-ref refs/tags --format='%(refname) %(objectname)')" = "$before" ]
	run -0 mlctl registry verify
}

@test "bad deprecate commands are clear errors and change nothing" {
	two_versions
	before=$(registry_state)
	run -3 --separate-stderr mlctl deprecate nosuch
	[ "$stderr" = "mlctl: model 'nosuch' is not in the registry; see 'mlctl list'" ]
	run -3 mlctl deprecate demo:9.9.9
	run -3 mlctl deprecate demo:production
	run -2 mlctl deprecate 'demo:1.0.0:x'
	run -2 mlctl deprecate demo:1.0.0 --reason ""
	run -2 mlctl deprecate
	run -2 mlctl deprecate demo extra
	run -0 mlctl undeprecate demo:1.0.0
	[ "$output" = "demo:1.0.0 is not deprecated" ]
	[ "$(registry_state)" = "$before" ]
}

@test "gc --prune-deprecated drops the bytes of deprecated versions no alias held, and nothing else" {
	make_project p
	mlctl push p -q
	cp -r p p100
	next_version p 1.1.0
	mlctl push p -q
	next_version p 1.2.0
	mlctl push p -q
	mlctl alias set demo:1.1.0 production -q
	mlctl alias set demo:1.2.0 production -q
	mlctl deprecate demo:1.0.0 -q
	mlctl deprecate demo:1.1.0 -q
	# plain gc keeps every version's bytes, deprecated or not
	run -0 mlctl registry gc
	[ "$output" = "nothing to remove" ]
	before=$(registry_state; blobs_state)
	run -0 mlctl registry gc --prune-deprecated --dry-run
	[ "${lines[0]}" = "would prune the bytes of demo:1.0.0 (deprecated, never held by an alias)" ]
	[ "$(registry_state; blobs_state)" = "$before" ]
	run -0 mlctl registry gc --prune-deprecated --json
	[[ "$output" == *'"pruned": ['*'"demo:1.0.0"'* ]]
	[[ "$output" == *'"count": 1'* ]]
	# 1.1.0 (a rollback target) and 1.2.0 pull; 1.0.0 says where to get it
	run -0 mlctl pull demo:1.1.0 -o a -q
	run -0 mlctl pull demo:1.2.0 -o b -q
	run -3 --separate-stderr mlctl pull demo:1.0.0 -o c
	[ "$stderr" = "mlctl: demo:1.0.0 is deprecated and its files were pruned from this registry ('registry gc --prune-deprecated'); pull it from a remote that has it ('mlctl pull demo:1.0.0 --from REMOTE'), or push its folder again" ]
	[ ! -e c ]
	run -0 mlctl versions demo
	[ "${#lines[@]}" = 4 ]
	run -0 mlctl registry verify
	run -0 mlctl registry reindex
	run -0 mlctl registry verify
	run -0 mlctl registry gc --prune-deprecated
	[ "$output" = "nothing to remove" ]
	# its folder pushed again: the bytes are back, and push says so
	run -0 mlctl push p100
	[[ "$output" == "demo:1.0.0 is already in the registry with digest sha256:"*"; restored 1 missing file" ]]
	run -0 mlctl push p100 --json
	[ "$(echo "$output" | jq -c '[.existed, .blobs_written]')" = "[true,0]" ]
	run -0 mlctl pull demo:1.0.0 -o c -q
	cmp c/model.bin p100/model.bin
	run -0 mlctl registry verify
	# pruned again, then its package pushed: the same
	mlctl package p100 -o p100.mlpkg -q
	run -0 mlctl registry gc --prune-deprecated
	run -3 mlctl pull demo:1.0.0 -o d -q
	run -0 mlctl push p100.mlpkg
	[[ "$output" == "demo:1.0.0 is already in the registry with digest sha256:"*"; restored 1 missing file" ]]
	run -0 mlctl pull demo:1.0.0 -o e -q
	cmp e/model.bin p100/model.bin
	run -0 mlctl push p100.mlpkg
	[[ "$output" == *"; nothing to do" ]]
	run -0 mlctl registry verify
}
