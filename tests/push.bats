#!/usr/bin/env bats
# mlctl push: versions are immutable, pushes are idempotent, bad packages
# change nothing, concurrent pushes both land.

load helpers

@test "push a folder, then the same again: exit 0 both times, the second says it was there" {
	make_project p
	run -0 --separate-stderr mlctl push p
	[[ "$output" =~ ^pushed\ demo:1\.0\.0\ sha256:[0-9a-f]{64}$ ]]
	digest=${output##* }
	run -0 --separate-stderr mlctl push p
	[ "$output" = "demo:1.0.0 is already in the registry with digest $digest; nothing to do" ]
}

@test "push of a package gives the same digest as package printed" {
	make_project p
	run -0 mlctl package p -o p.mlpkg -q
	digest=$output
	run -0 mlctl push p.mlpkg -q
	[ "$output" = "pushed demo:1.0.0 $digest" ]
	run -0 mlctl push p -q
	[ "$output" = "demo:1.0.0 is already in the registry with digest $digest; nothing to do" ]
}

@test "a compressed package pushes to the same digest" {
	make_project p
	run -0 mlctl package p -o p.mlpkg --compression zstd -q
	digest=$output
	run -0 mlctl push p.mlpkg -q
	[ "$output" = "pushed demo:1.0.0 $digest" ]
	run -0 mlctl registry verify
}

@test "same version with other content is exit 4, with the fix, and stores nothing" {
	make_project p
	run -0 mlctl push p -q
	before=$(registry_state)
	echo changed >> p/model.bin
	run -4 --separate-stderr mlctl push p
	[ "$stderr" = "mlctl: version '1.0.0' of 'demo' exists with another digest; versions are immutable: bump the version (or push with --bump patch)" ]
	[ "$(registry_state)" = "$before" ]
	[ -z "$(ls -A "$MLCTL_REGISTRY/tmp")" ]
}

@test "--bump picks the next version after the highest stored, and unchanged content is a no-op" {
	make_project p
	run -0 mlctl push p -q
	echo more >> p/model.bin
	run -0 mlctl push p --bump patch -q
	[[ "$output" == "pushed demo:1.0.1 "* ]]
	run -0 mlctl push p --bump patch -q
	[[ "$output" == "demo:1.0.1 is already in the registry"* ]]
	echo more >> p/model.bin
	run -0 mlctl push p --bump minor -q
	[[ "$output" == "pushed demo:1.1.0 "* ]]
	echo more >> p/model.bin
	run -0 mlctl push p --bump major -q
	[[ "$output" == "pushed demo:2.0.0 "* ]]
	run -2 --separate-stderr mlctl push p --bump tiny
	[ "$stderr" = "mlctl: --bump 'tiny' is not known; use major, minor or patch" ]
	run -0 mlctl versions demo --json
	[ "$(echo "$output" | grep -c '"version"')" -eq 4 ]
}

@test "--bump on the content of the highest version says on stderr and in JSON that the bump was skipped" {
	make_project p
	mlctl push p -q
	echo more >> p/model.bin
	mlctl push p --bump minor -q
	before=$(registry_state)
	run -0 --separate-stderr mlctl push p --bump minor
	[[ "$output" == "demo:1.1.0 is already in the registry with digest sha256:"*"; nothing to do" ]]
	[ "$stderr" = "--bump minor skipped: demo:1.1.0, the highest version, holds the same content; change the model's files or mlctl.json to push a new version" ]
	run -0 --separate-stderr mlctl push p --bump patch --json
	[[ "$output" == *'"version": "1.1.0",'* ]]
	[[ "$output" == *'"bump": {
    "part": "patch",
    "skipped": true,
    "reason": "demo:1.1.0, the highest version, holds the same content"
  }'* ]]
	[[ "$stderr" == "--bump patch skipped: "* ]]
	[ "$(registry_state)" = "$before" ]
	# a package of that content is skipped the same way
	mlctl package p -o p.mlpkg -q
	run -0 --separate-stderr mlctl push p.mlpkg --bump major
	[[ "$stderr" == "--bump major skipped: demo:1.1.0, the highest version, holds the same content;"* ]]
	# a bump that is made says so in JSON too
	echo again >> p/model.bin
	run -0 mlctl push p --bump patch --json
	[[ "$output" == *'"version": "1.1.1",'* ]]
	[[ "$output" == *'"bump": {
    "part": "patch",
    "skipped": false
  }'* ]]
}

@test "a file stored already is not written again" {
	make_project p
	run -0 mlctl push p --json
	[[ "$output" == *'"blobs_written": 3'* ]]
	echo v2 > p/serve.py
	sed -i 's/"1.0.0"/"1.0.1"/' p/mlctl.json
	run -0 mlctl push p --json
	[[ "$output" == *'"blobs_written": 1'* ]]
	[ "$(find "$MLCTL_REGISTRY/blobs" -type f | wc -l)" -eq 4 ]
	[ -z "$(find "$MLCTL_REGISTRY/blobs" -type f -perm /222)" ]
}

@test "push writes one git commit and a GTO-style annotated tag per version" {
	make_project p iris 1.2.0
	run -0 mlctl push p -q
	run -0 git -C "$MLCTL_REGISTRY/index.git" tag -n1
	[[ "$output" == "iris@v1.2.0"*"sha256:"* ]]
	run -0 git -C "$MLCTL_REGISTRY/index.git" cat-file -t iris@v1.2.0
	[ "$output" = "tag" ]
	run -0 git -C "$MLCTL_REGISTRY/index.git" log --format='%s|%an <%ae>' main
	[ "$output" = "push iris 1.2.0|Test Runner <ci@example.com>" ]
	run -0 git -C "$MLCTL_REGISTRY/index.git" show main:models/iris/versions/1.2.0.json
	[[ "$output" == *'"sha256": '* ]]
}

@test "hostile or broken packages are exit 5, say what is wrong, and change nothing" {
	declare -A want=(
		[dotdot]="unsafe entry path '../evil.sh'"
		[absolute]="unsafe entry path '/tmp/evil.sh'"
		[symlink]="symlink entry 'link'"
		[hardlink]="hardlink entry 'hard'"
		[device]="not a regular file: 'dev'"
		[repeat]="repeats or misorders the entry 'model.bin'"
		[extra]="entry not in its files index: 'zzz-extra.bin'"
		[missing]="missing the indexed file 'serve.py'"
		[size]="size that does not match its index for 'model.bin'"
		[digest]="does not match its digest for 'model.bin'"
		[truncated]="evil.mlpkg"
		[nomanifest]="does not start with mlctl.json but with 'model.bin'"
		[notar]="is not an mlctl package"
		[badmanifest]="not valid JSON"
		[unsafe-index]="missing or unsafe path"
	)
	make_project p
	run -0 mlctl push p -q
	before=$(registry_state)
	for kind in "${!want[@]}"; do
		bad_package "$kind" "evil.mlpkg"
		run -5 --separate-stderr mlctl push "evil.mlpkg"
		[[ "$stderr" == "mlctl: "*"${want[$kind]}"* ]] || { echo "$kind: $stderr"; false; }
		[ -z "$output" ]
		[ "$(registry_state)" = "$before" ]
		[ -z "$(ls -A "$MLCTL_REGISTRY/tmp")" ]
	done
}

@test "a truncated package is exit 5" {
	make_project p
	run -0 mlctl package p -o p.mlpkg -q
	head -c 15000 p.mlpkg > cut.mlpkg
	run -5 --separate-stderr mlctl push cut.mlpkg
	[[ "$stderr" == *"cut.mlpkg"* ]]
	# the one line says what to do, not only what libarchive saw
	[[ "$stderr" == *"; the package is damaged or cut short: make it again with 'mlctl package', or copy it again" ]]
	run -3 mlctl show demo
}

@test "a registry folder that is not a registry is exit 6 and left alone" {
	mkdir notreg && echo mine > notreg/file.txt
	make_project p
	run -6 --separate-stderr mlctl --registry notreg push p
	[ "$stderr" = "mlctl: 'notreg' is not an mlctl registry (no mlctl.db and index.git); use an empty folder or an existing registry" ]
	[ "$(ls -A notreg)" = "file.txt" ]
	echo x > afile
	run -6 --separate-stderr mlctl --registry afile push p
	[[ "$stderr" == *"is a file, not a folder"* ]]
}

@test "a registry that looks like a remote is exit 2 from --registry or MLCTL_REGISTRY; nothing is created" {
	make_project p
	for reg in ghcr.io/acme/models localhost:5000/models oci://ghcr.io/acme/models \
		https://example.com/models ssh://git@example.com/models git@example.com:acme/models \
		registry.example.com:5000/models 127.0.0.1/models; do
		run -2 --separate-stderr mlctl --registry "$reg" push p
		[[ "$stderr" == "mlctl: registry '$reg' "* ]] || { echo "$reg: $stderr"; false; }
		MLCTL_REGISTRY=$reg run -2 mlctl push p
		[ -z "$(ls -A | grep -v -e '^p$' -e '^separate-stderr-')" ] || { echo "$reg made: $(ls -A)"; false; }
	done
	run -2 --separate-stderr mlctl --registry ghcr.io/acme/models push p
	[ "$stderr" = "mlctl: registry 'ghcr.io/acme/models' looks like a remote (host 'ghcr.io'), not a folder: mlctl keeps its registry in a local folder (remote registries are reached with 'mlctl remote add' and push --to, pull --from); for a folder of that name write './ghcr.io/acme/models'" ]
	run -2 --separate-stderr mlctl --registry git@example.com:acme/models push p
	[[ "$stderr" == "mlctl: registry 'git@example.com:acme/models' looks like a remote (host 'git@example.com'), "* ]]
	run -2 --separate-stderr mlctl --registry oci://ghcr.io/acme/models push p
	[ "$stderr" = "mlctl: registry 'oci://ghcr.io/acme/models' is a URL, not a folder: mlctl keeps its registry in a local folder (remote registries are reached with 'mlctl remote add' and push --to, pull --from); give --registry or MLCTL_REGISTRY a path on this machine" ]
	# the remote is named before the model is validated
	echo '{' > p/mlctl.json
	run -2 mlctl --registry ghcr.io/acme/models push p
}

@test "a registry path that looks local is created by a push: ./, absolute, a dotted name alone" {
	make_project p
	run -0 mlctl --registry ./ghcr.io/acme/models push p -q
	[ -f ghcr.io/acme/models/mlctl.db ]
	run -0 mlctl --registry "$PWD/my.registry/models" push p -q
	[ -f my.registry/models/mlctl.db ]
	MLCTL_REGISTRY=models.d run -0 mlctl push p -q
	[ -f models.d/mlctl.db ]
	run -0 mlctl --registry .hidden/reg push p -q
	[ -f .hidden/reg/mlctl.db ]
}

@test "pushing something that does not exist is exit 3" {
	run -3 --separate-stderr mlctl push nowhere
	[[ "$stderr" == "mlctl: cannot push 'nowhere': No such file or directory" ]]
}

@test "two pushes at once into one registry both succeed and verify stays clean" {
	make_project a alpha
	make_project b beta
	for i in 1 2 3; do
		sed -i "s/\"version\": \"[^\"]*\"/\"version\": \"1.0.$i\"/" a/mlctl.json b/mlctl.json
		echo "$i" >> a/model.bin
		echo "$i" >> b/model.bin
		mlctl push a -q > a.out 2> a.err & pa=$!
		mlctl push b -q > b.out 2> b.err & pb=$!
		wait $pa || { cat a.err; false; }
		wait $pb || { cat b.err; false; }
	done
	run -0 mlctl list
	[[ "$output" == *"alpha  3"* ]]
	[[ "$output" == *"beta   3"* ]]
	run -0 mlctl registry verify
	run -0 git -C "$MLCTL_REGISTRY/index.git" rev-list --count main
	[ "$output" = 6 ]
}

@test "the first push into a new registry, twice at once, makes one registry" {
	make_project a alpha
	make_project b beta
	mlctl push a -q > a.out 2> a.err & pa=$!
	mlctl push b -q > b.out 2> b.err & pb=$!
	wait $pa || { cat a.err; false; }
	wait $pb || { cat b.err; false; }
	run -0 mlctl registry verify
}

@test "push validates first: a poisoned pickle is refused with exit 1 and nothing is stored" {
	model_project p evil-pickle-p4 model.pkl
	run -1 --separate-stderr mlctl push p
	[[ "$stderr" == *"error   MLV101  imports posix.system"* ]]
	[[ "$stderr" == *"mlctl: 'p' failed validation with 1 error; fix them (see 'mlctl validate p') or push with --no-validate" ]]
	[ -z "$output" ]
	run -3 mlctl show m
	mlctl package p -o p.mlpkg -q
	run -1 --separate-stderr mlctl push p.mlpkg
	[[ "$stderr" == *"MLV101"* ]]
}

@test "push --json refused by validation: one document with the error and validate's findings" {
	model_project p evil-pickle-p4 model.pkl
	run -1 --separate-stderr mlctl validate p --json
	validated=$output
	run -1 --separate-stderr mlctl push p --json
	[[ "$stderr" == *"mlctl: 'p' failed validation with 1 error; fix them (see 'mlctl validate p') or push with --no-validate" ]]
	stderr=${stderr##*$'\n'}
	/usr/bin/python3 -c '
import json, sys
push, validate = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert push["error"]["exit"] == 1 and push["error"]["code"] == "gate_failed", push
assert push["error"]["message"] == sys.argv[3][len("mlctl: "):], push
assert push["findings"] == validate["findings"], (push["findings"], validate["findings"])
assert [f["id"] for f in push["findings"] if f["severity"] == "error"] == ["MLV101"], push
assert push["summary"]["errors"] == 1 and push["passed"] is False, push' "$output" "$validated" "$stderr"
	run -3 mlctl show m
	# a package whose structure is broken is exit 5, with its findings too
	bad_package badmanifest b.mlpkg
	run -5 --separate-stderr mlctl push b.mlpkg --json
	/usr/bin/python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["error"]["exit"] == 5 and d["error"]["code"] == "integrity", d
assert any(f["severity"] == "error" for f in d["findings"]), d' "$output"
}

@test "push --no-validate stores the version marked unvalidated" {
	model_project p evil-pickle-p4 model.pkl
	run -0 mlctl push p --no-validate --json
	[[ "$output" == *'"validated": false'* ]]
	run -0 mlctl show m
	[[ "$output" == *"validated:   no (pushed with --no-validate)"* ]]
	run -0 mlctl versions m --json
	[[ "$output" == *'"validated": false'* ]]
	# the mark lives in git too: a rebuilt database keeps it
	run -0 mlctl registry reindex
	run -0 mlctl show m --json
	[[ "$output" == *'"validated": false'* ]]
	make_project q
	mlctl push q -q
	run -0 mlctl show demo --json
	[[ "$output" == *'"validated": true'* ]]
}

@test "a registry made by the first schema is migrated forward on open" {
	make_project p
	mlctl push p -q
	# take the database back to schema 1: no validated column, no records, no aliases, no uploads
	sqlite3 "$MLCTL_REGISTRY/mlctl.db" "DROP TABLE pruned; DROP TABLE outbox; DROP TABLE hooks; DROP TABLE approvals; DROP TABLE policies; ALTER TABLE events DROP COLUMN via; ALTER TABLE events DROP COLUMN forced; ALTER TABLE events DROP COLUMN unmet; DROP INDEX events_model; DROP INDEX events_time; DROP INDEX events_tag; ALTER TABLE events DROP COLUMN from_version; ALTER TABLE events DROP COLUMN tag; ALTER TABLE models DROP COLUMN tag_n; ALTER TABLE models DROP COLUMN tag_time; ALTER TABLE models DROP COLUMN deprecated; ALTER TABLE versions DROP COLUMN deprecated; DROP TABLE uploads; DROP TABLE records; DROP TABLE aliases; DROP TABLE alias_moves; ALTER TABLE events DROP COLUMN alias; ALTER TABLE versions DROP COLUMN validated; PRAGMA user_version = 1;"
	run -0 mlctl show demo
	[[ "$output" == *"validated:   yes"* ]]
	run -0 sqlite3 "$MLCTL_REGISTRY/mlctl.db" "PRAGMA user_version"
	[ "$output" = 6 ]
	# replayed afresh on the way: the tags are as this mlctl makes them
	run -0 "$PY" "$FIXTURES/gto-check.py" "$MLCTL_REGISTRY/index.git"
	run -0 mlctl registry verify
}
