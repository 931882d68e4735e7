#!/usr/bin/env bats
# mlctl pull: references, checked writes, modes, atomic replacement.

load helpers

setup_file() {
	:
}

push_two() {
	make_project p demo 1.0.0
	mlctl push p -q >/dev/null
	cp p/model.bin v1-model.bin
	next_version p 1.1.0
	mlctl push p -q >/dev/null
}

@test "pull NAME:VERSION writes the files with their modes and a manifest" {
	push_two
	run -0 --separate-stderr mlctl pull demo:1.0.0 -o out
	[[ "$output" == "pulled demo:1.0.0 sha256:"*" into out" ]]
	cmp out/model.bin v1-model.bin
	cmp out/serve.py p/serve.py
	cmp out/data/train.csv p/data/train.csv
	[ -x out/serve.py ] && [ ! -x out/model.bin ]
	grep -q '"version": "1.0.0"' out/mlctl.json
	! grep -q '"files"' out/mlctl.json || false
}

@test "a pulled folder packages back to the same digest" {
	push_two
	run -0 mlctl show demo:1.1.0 --json
	digest=$(echo "$output" | sed -n 's/^  "digest": "\(.*\)",$/\1/p')
	run -0 mlctl pull demo:1.1.0 -o out -q
	run -0 mlctl package out -o again.mlpkg -q
	[ "$output" = "$digest" ]
}

@test "pull NAME takes the highest release; NAME@sha256 takes that digest" {
	push_two
	run -0 mlctl pull demo -o latest -q
	[[ "$output" == "pulled demo:1.1.0 "* ]]
	run -0 mlctl versions demo --json
	d1=$(echo "$output" | grep -A1 '"version": "1.0.0"' | sed -n 's/.*"digest": "\(.*\)",/\1/p')
	run -0 mlctl pull "demo@$d1" -o bydigest -q
	[[ "$output" == "pulled demo:1.0.0 "* ]]
	cmp bydigest/model.bin v1-model.bin
}

@test "pull without -o writes NAME-VERSION" {
	push_two
	run -0 mlctl pull demo:1.0.0 -q
	[ -f demo-1.0.0/model.bin ]
}

@test "a prerelease is not 'latest' while a release exists" {
	make_project p demo 1.0.0
	mlctl push p -q
	sed -i 's/"1.0.0"/"2.0.0-rc.1"/' p/mlctl.json
	echo x >> p/model.bin
	mlctl push p -q
	run -0 mlctl show demo --json
	[[ "$output" == *'"version": "1.0.0"'* ]]
}

@test "a non-empty target is refused without --force and replaced with it" {
	push_two
	mkdir out && echo keep > out/mine.txt
	run -4 --separate-stderr mlctl pull demo:1.0.0 -o out
	[ "$stderr" = "mlctl: 'out' is not empty; pull into a new folder or pass --force to replace it" ]
	[ "$(ls -A out)" = "mine.txt" ]
	run -0 mlctl pull demo:1.0.0 -o out --force -q
	[ ! -e out/mine.txt ] && [ -f out/model.bin ]
	[ -z "$(ls -A . | grep '^\.out')" ]
}

@test "an empty target folder is used" {
	push_two
	mkdir out
	run -0 mlctl pull demo:1.0.0 -o out -q
	[ -f out/model.bin ]
}

@test "unknown references are exit 3, malformed ones exit 2" {
	push_two
	run -3 --separate-stderr mlctl pull demo:9.9.9 -o x
	[ "$stderr" = "mlctl: 'demo:9.9.9' is not in the registry; see 'mlctl versions demo'" ]
	run -3 --separate-stderr mlctl pull nosuch -o x
	[ "$stderr" = "mlctl: no folder or package './nosuch' and no model 'nosuch' in the registry; see 'mlctl list'" ]
	run -3 mlctl pull demo@sha256:0000000000000000000000000000000000000000000000000000000000000000 -o x
	run -2 --separate-stderr mlctl pull demo:1.0 -o x
	[[ "$stderr" == "mlctl: '1.0' is not a semantic version"* ]]
	run -2 mlctl pull 'Demo' -o x
	[ ! -e x ]
}

@test "a corrupt blob is caught while pulling: exit 5, nothing left at the target" {
	push_two
	sha=$(sha256sum v1-model.bin | cut -c1-64)
	blob=$MLCTL_REGISTRY/blobs/sha256/${sha:0:2}/$sha
	chmod u+w "$blob"
	# flip every bit of byte 100, so it always differs
	"$PY" -c 'import sys; f = open(sys.argv[1], "r+b"); f.seek(100); b = f.read(1); f.seek(100); f.write(bytes([b[0] ^ 0xff]))' "$blob"
	run -5 --separate-stderr mlctl pull demo:1.0.0 -o out
	[[ "$stderr" == *"is corrupt in the registry"*"run 'mlctl registry verify'" ]]
	[ ! -e out ]
	[ -z "$(ls -A . | grep '^\.out')" ]
}

@test "pull from a registry that does not exist is exit 3" {
	run -3 --separate-stderr mlctl --registry nowhere pull demo -o x
	[ "$stderr" = "mlctl: no folder or package './demo' and no model 'demo': no registry at 'nowhere'; push a model first or pass --registry DIR" ]
	run -3 --separate-stderr mlctl --registry nowhere pull demo:1.0.0 -o x
	[ "$stderr" = "mlctl: no registry at 'nowhere'; push a model first or pass --registry DIR" ]
	[ ! -e nowhere ]
}

@test "an interrupted pull leaves no folder behind" {
	make_project p
	truncate -s 2G p/model.bin
	mlctl push p -q
	"$MLCTL" pull demo -o out -q & pid=$!
	for i in $(seq 100); do ls -d .out.pull-* >/dev/null 2>&1 && break; sleep 0.05; done
	kill -TERM $pid
	status=0
	wait $pid || status=$?
	[ "$status" -eq 143 ]
	[ ! -e out ]
	[ -z "$(ls -A . | grep -v -e '^p$' -e '^registry$')" ]
	run -0 mlctl registry verify
}

@test "pull takes the short digest that versions and alias list print" {
	push_two
	short=$(mlctl versions demo | awk '$1 == "1.0.0" { print $2 }')
	run -0 mlctl pull "demo@$short" -o a -q
	[[ "$output" == "pulled demo:1.0.0 "* ]]
	cmp a/model.bin v1-model.bin
	mlctl alias set demo:1.0.0 production -q
	short=$(mlctl alias list demo | awk '$2 == "production" { print $4 }')
	run -0 mlctl pull "$short" -o b -q
	[[ "$output" == "pulled demo:1.0.0 "* ]]
	run -2 mlctl pull "demo@${short:0:15}" -o c
	[ ! -e c ]
}

@test "pull PKG unpacks a package, every file checked, into NAME-VERSION or -o" {
	make_project p demo 1.0.0
	mlctl package p -o demo.mlpkg -q
	run -0 mlctl pull demo.mlpkg
	[[ "$output" == "pulled demo:1.0.0 sha256:"*" into demo-1.0.0" ]]
	cmp demo-1.0.0/model.bin p/model.bin
	[ -x demo-1.0.0/serve.py ] && [ ! -x demo-1.0.0/model.bin ]
	run -0 mlctl package demo-1.0.0 -o again.mlpkg -q
	cmp again.mlpkg demo.mlpkg
	run -4 mlctl pull demo.mlpkg -o demo-1.0.0
	run -0 mlctl pull demo.mlpkg -o demo-1.0.0 --force --json
	[[ "$output" == *'"path": "demo-1.0.0",'* ]]
	[ ! -e "$MLCTL_REGISTRY" ]
	# a file whose bytes do not match the package's index: exit 5, nothing left behind
	bad_package digest bad.mlpkg
	run -5 --separate-stderr mlctl pull bad.mlpkg -o out
	[[ "$stderr" == *"bad.mlpkg"* ]]
	[ ! -e out ]
	[ -z "$(ls -A . | grep '^\.out')" ]
	bad_package dotdot evil.mlpkg
	run -5 mlctl pull evil.mlpkg -o out
	[ ! -e out ] && [ ! -e evil ]
}

@test "pull DIR writes the files the project's package would hold, and nothing else" {
	make_project p demo 1.0.0
	echo notes > p/NOTES.txt
	run -0 mlctl pull p -o out
	[[ "$output" == "pulled demo:1.0.0 sha256:"*" into out" ]]
	[ "$(cd out && find . -type f | sort)" = "$(printf './data/train.csv\n./mlctl.json\n./model.bin\n./serve.py')" ]
	[ -x out/serve.py ]
	run -0 mlctl package p -o p.mlpkg -q
	digest=$output
	run -0 mlctl package out -o out.mlpkg -q
	[ "$output" = "$digest" ]
}
