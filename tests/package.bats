#!/usr/bin/env bats
# mlctl package: deterministic packages, digests, and refusals of bad projects.

load helpers

@test "package prints the digest of the canonical manifest, which is mlctl.json's sha256" {
	make_project p
	run -0 --separate-stderr mlctl package p -o p.mlpkg
	[[ "$output" =~ ^sha256:[0-9a-f]{64}$ ]]
	[ "$output" = "sha256:$(tar -xOf p.mlpkg mlctl.json | sha256sum | cut -c1-64)" ]
	[[ "$stderr" == *"packaged demo 1.0.0: 3 files"* ]]
}

@test "package lays out mlctl.json first, then files sorted, uid 0, mtime 0, normalised modes" {
	make_project p
	chmod 600 p/model.bin
	run -0 mlctl package p -o p.mlpkg -q
	run -0 tar --numeric-owner -tvf p.mlpkg
	[[ "${lines[0]}" == "-rw-r--r-- 0/0 "*" 1970-01-01 00:00 mlctl.json" ]]
	[[ "${lines[1]}" == "-rw-r--r-- 0/0 "*"1970-01-01 00:00 data/train.csv" ]]
	[[ "${lines[2]}" == "-rw-r--r-- 0/0 "*"1970-01-01 00:00 model.bin" ]]
	[[ "${lines[3]}" == "-rwxr-xr-x 0/0 "*"1970-01-01 00:00 serve.py" ]]
	[ "${#lines[@]}" -eq 4 ]
}

@test "the same folder gives byte-identical packages after touch, another umask and another creation order" {
	make_project a
	run -0 mlctl package a -o first.mlpkg -q
	# the same content made again in another order, under another umask, later
	mkdir b
	(umask 077 && cp a/serve.py b/ && mkdir b/data && cp a/data/train.csv b/data/ &&
	 cp a/model.bin b/ && cp a/mlctl.json b/)
	chmod 755 b/serve.py
	touch -d '2001-02-03 04:05:06' b/model.bin a/serve.py
	run -0 mlctl package b -o second.mlpkg -q
	cmp first.mlpkg second.mlpkg
}

@test "SOURCE_DATE_EPOCH sets the mtimes and is still deterministic" {
	make_project p
	SOURCE_DATE_EPOCH=1700000000 run -0 mlctl package p -o a.mlpkg -q
	SOURCE_DATE_EPOCH=1700000000 run -0 mlctl package p -o b.mlpkg -q
	cmp a.mlpkg b.mlpkg
	run -0 tar -tvf a.mlpkg
	[[ "${lines[0]}" == *"2023-11-14"* ]]
	SOURCE_DATE_EPOCH=yesterday run -2 --separate-stderr mlctl package p -o c.mlpkg
	[[ "$stderr" == *"SOURCE_DATE_EPOCH 'yesterday'"* ]]
}

@test "the digest is the same whatever the compression, and compressed packages are deterministic" {
	make_project p
	run -0 mlctl package p -o none.mlpkg -q
	none=$output
	run -0 mlctl package p -o gz.mlpkg --compression gzip -q
	[ "$output" = "$none" ]
	run -0 mlctl package p -o zst.mlpkg --compression zstd:19 -q
	[ "$output" = "$none" ]
	sleep 1
	run -0 mlctl package p -o gz2.mlpkg --compression gzip:9 -q
	run -0 mlctl package p -o gz3.mlpkg --compression gzip:9 -q
	cmp gz2.mlpkg gz3.mlpkg
	[ "$(head -c 2 gz.mlpkg | od -An -tx1 | tr -d ' ')" = "1f8b" ]
	[ "$(head -c 4 zst.mlpkg | od -An -tx1 | tr -d ' ')" = "28b52ffd" ]
	run -2 --separate-stderr mlctl package p -o x.mlpkg --compression lz4
	[ "$stderr" = "mlctl: compression 'lz4' is not known; use none, gzip[:1-9] or zstd[:1-19]" ]
	[ ! -e x.mlpkg ]
}

@test "package names its output NAME-VERSION.mlpkg by default" {
	make_project p iris 2.1.0
	run -0 mlctl package p -q
	[ -f iris-2.1.0.mlpkg ]
}

@test "a missing mlctl.json is exit 3 with the fix" {
	mkdir empty
	run -3 --separate-stderr mlctl package empty
	[ "$stderr" = "mlctl: no mlctl.json in 'empty'; run 'mlctl init empty' to write one" ]
}

@test "malformed JSON is exit 1, naming the file and line" {
	make_project p
	printf '{\n "schema": "mlctl/v1",\n "name": \n' > p/mlctl.json
	run -1 --separate-stderr mlctl package p -o out.mlpkg
	[[ "$stderr" == "mlctl: p/mlctl.json: not valid JSON near line "* ]]
	[ ! -e out.mlpkg ]
}

@test "a bad name or version is exit 1 with the rule" {
	make_project p "Bad Name"
	run -1 --separate-stderr mlctl package p -o out.mlpkg
	[[ "$stderr" == *"name 'Bad Name' is not valid; use lowercase letters"* ]]
	make_project q demo 1.0
	run -1 --separate-stderr mlctl package q -o out.mlpkg
	[[ "$stderr" == *"version '1.0' is not a semantic version"* ]]
	[ ! -e out.mlpkg ]
}

@test "artifact paths that are absolute, use .., or leave through a symlink are refused" {
	make_project p
	sed -i 's|"path": "serve.py"|"path": "/etc/passwd"|' p/mlctl.json
	run -1 --separate-stderr mlctl package p -o out.mlpkg
	[[ "$stderr" == *"artifact path '/etc/passwd' is unsafe"* ]]
	make_project q
	sed -i 's|"path": "serve.py"|"path": "../outside"|' q/mlctl.json
	run -1 --separate-stderr mlctl package q -o out.mlpkg
	[[ "$stderr" == *"artifact path '../outside' is unsafe"* ]]
	make_project r
	echo secret > outside.txt
	rm r/serve.py && ln -s ../outside.txt r/serve.py
	run -1 --separate-stderr mlctl package r -o out.mlpkg
	[[ "$stderr" == *"artifact 'serve.py' leaves the project through a symlink"* ]]
	make_project s
	ln -s "$BATS_TEST_TMPDIR/outside.txt" s/data/link.csv
	run -1 --separate-stderr mlctl package s -o out.mlpkg
	[[ "$stderr" == *"artifact 'data/link.csv' leaves the project through a symlink"* ]]
	[ ! -e out.mlpkg ]
}

@test "a symlink that stays inside the project is packaged as the file it points to" {
	make_project p
	ln -s ../model.bin p/data/model-link.bin
	run -0 mlctl package p -o out.mlpkg -q
	run -0 tar -tvf out.mlpkg data/model-link.bin
	[[ "$output" == "-rw-r--r--"* ]]
}

@test "a listed artifact that is missing is exit 1 and names it" {
	make_project p
	rm p/serve.py
	run -1 --separate-stderr mlctl package p -o out.mlpkg
	[ "$stderr" = "mlctl: artifact 'serve.py' is listed in mlctl.json but missing from 'p'; add the file or remove the entry" ]
}

@test "unknown keys are accepted (validate warns about them)" {
	make_project p
	sed -i 's|"license": "MIT",|"license": "MIT", "colour": "blue",|' p/mlctl.json
	run -0 mlctl package p -o out.mlpkg -q
}

@test "package leaves no temporary file behind on failure" {
	make_project p
	rm p/model.bin
	run -1 mlctl package p -o out.mlpkg
	[ -z "$(ls -A . | grep -v '^p$')" ]
}

@test "an interrupted package removes its temporary file and dies of the signal" {
	make_project p
	truncate -s 4G p/model.bin
	"$MLCTL" package p -o big.mlpkg -q & pid=$!
	for i in $(seq 100); do ls .big.mlpkg.tmp-* >/dev/null 2>&1 && break; sleep 0.05; done
	kill -TERM $pid
	status=0
	wait $pid || status=$?
	[ "$status" -eq 143 ]
	[ ! -e big.mlpkg ]
	[ -z "$(ls -A . | grep -v '^p$')" ]
}
