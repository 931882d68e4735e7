#!/usr/bin/env bats
# cmd/cli.c: the option parser and the global options every command shares
# (--registry, --json, -q, -v, --color; docs/mlctl-help.md).

load helpers

@test "global options go before or after the command, and --opt=value works" {
	make_project p
	mlctl push p -q
	run -0 "$MLCTL" --registry "$MLCTL_REGISTRY" list
	[[ "$output" == *"demo"* ]]
	run -0 "$MLCTL" list --registry="$MLCTL_REGISTRY"
	[[ "$output" == *"demo"* ]]
	run -0 mlctl --json list
	[[ "$output" == *'"models": ['* ]]
}

@test "-- ends the options: what follows is an argument" {
	make_project ./-odd
	run -0 mlctl init --force -q -- -odd
	[ -f ./-odd/mlctl.json ]
}

@test "-q keeps results and drops notes; -v names the registry" {
	make_project p
	run -0 --separate-stderr mlctl push p -q
	[ -z "$stderr" ]
	[[ "$output" == "pushed demo:1.0.0 "* ]]
	run -0 --separate-stderr mlctl list -v
	[ "$stderr" = "registry: $MLCTL_REGISTRY" ]
}

@test "--color always colours the table header, never and NO_COLOR do not" {
	make_project p
	mlctl push p -q
	run -0 mlctl list --color always
	[[ "$output" == $'\e[1mNAME'* ]]
	run -0 mlctl list --color never
	[[ "$output" == "NAME"* ]]
	run -2 --separate-stderr mlctl list --color sometimes
	[[ "$stderr" == "mlctl: --color takes auto, always or never, not 'sometimes'; see 'mlctl list --help'" ]]
}

@test "an option missing its value, a flag given a value, bundled short options: exit 2" {
	run -2 --separate-stderr mlctl pull demo -o
	[ "$stderr" = "mlctl: option '--output' needs a value; see 'mlctl pull --help'" ]
	run -2 --separate-stderr mlctl init --force=yes
	[ "$stderr" = "mlctl: option '--force' takes no value; see 'mlctl init --help'" ]
	run -2 --separate-stderr mlctl init -fq
	[[ "$stderr" == "mlctl: unknown option '-fq' (give short options one at a time)"* ]]
	run -2 --separate-stderr mlctl show
	[ "$stderr" = "mlctl: missing argument; see 'mlctl show --help'" ]
	run -2 --separate-stderr mlctl show a b
	[ "$stderr" = "mlctl: unexpected argument 'b'; see 'mlctl show --help'" ]
	# a global option before any command, missing its value
	run -2 --separate-stderr mlctl --registry
	[ "$stderr" = "mlctl: option '--registry' needs a value; see 'mlctl --help'" ]
	run -2 --separate-stderr mlctl --json --color
	[[ "$output" == *'"message": "option '"'"'--color'"'"' needs a value; see '"'"'mlctl --help'"'"'"'* ]]
}

@test "--help and --version fail when their output cannot be written" {
	run -6 --separate-stderr bash -c "'$MLCTL' --help > /dev/full"
	[ "$stderr" = "mlctl: cannot write the output: No space left on device" ]
	run -6 bash -c "'$MLCTL' --version > /dev/full"
	run -6 bash -c "'$MLCTL' --version --json > /dev/full"
	run -6 bash -c "'$MLCTL' list --help > /dev/full"
}

@test "the default registry: an absolute XDG_DATA_HOME, else HOME, else the account's home; never the current folder" {
	make_project p
	unset MLCTL_REGISTRY
	mkdir home
	HOME=$PWD/home XDG_DATA_HOME=relative run -0 mlctl push p -q
	[ -f home/.local/share/mlctl/registry/mlctl.db ]
	[ ! -e relative ]
	HOME=$PWD/home XDG_DATA_HOME=$PWD/xdg run -0 mlctl push p -q
	[ -f xdg/mlctl/registry/mlctl.db ]
	# no HOME at all (env -i): the password database's home, not ./.local
	pwhome=$(getent passwd "$(id -u)" | cut -d: -f6)
	run --separate-stderr env -i PATH=/usr/bin:/bin "$MLCTL" -v versions nosuch-model
	[[ "$stderr" == "registry: $pwhome/.local/share/mlctl/registry"* ]]
	[ ! -e .local ]
}

@test "repeatable options keep every value" {
	make_project p
	run -1 mlctl validate p --gate 'accuracy>=0.95' --gate 'accuracy<0.5'
	[ "$(echo "$output" | grep -c MLV200)" -eq 2 ]
}

@test "every read where there is no registry is exit 3 with one message, and creates nothing" {
	make_project p
	mkdir empty other && echo mine > other/notes.txt && echo x > afile
	for reg in nowhere empty other afile; do
		case $reg in
		other) want="mlctl: no registry at 'other': the folder holds other files (no mlctl.db and index.git); pass --registry DIR with a registry" ;;
		afile) want="mlctl: no registry at 'afile': it is a file, not a folder; pass --registry DIR with a registry" ;;
		*) want="mlctl: no registry at '$reg'; push a model first or pass --registry DIR" ;;
		esac
		for cmd in "list" "versions demo" "show demo:1.0.0" "pull demo:1.0.0 -o out" "alias list" \
			"alias set demo:1.0.0 production" "validate demo:1.0.0" "smoke demo:1.0.0" \
			"smoke p --baseline demo:1.0.0" "registry verify" "registry reindex"; do
			run -3 --separate-stderr mlctl --registry "$reg" $cmd
			[ "$stderr" = "$want" ] || { echo "$reg, $cmd: $stderr"; false; }
		done
	done
	[ ! -e nowhere ] && [ ! -e out ]
	[ -z "$(ls -A empty)" ] && [ "$(ls -A other)" = "notes.txt" ]
}

@test "every command refuses a registry that looks like a remote with exit 2" {
	make_project p
	for cmd in "list" "versions demo" "show demo:1.0.0" "pull demo:1.0.0 -o out" "alias list" \
		"validate demo:1.0.0" "smoke demo:1.0.0" "registry verify" "push p"; do
		MLCTL_REGISTRY=ghcr.io/acme/models run -2 --separate-stderr mlctl $cmd
		[[ "$stderr" == "mlctl: registry 'ghcr.io/acme/models' looks like a remote (host 'ghcr.io'), not a folder"* ]] ||
			{ echo "$cmd: $stderr"; false; }
	done
	[ ! -e ghcr.io ] && [ ! -e out ]
}

@test "text that is not UTF-8: a --reason is exit 2, nothing kept; an error quoting such bytes is still UTF-8 (and JSON)" {
	make_project p
	mlctl push p -q
	before=$(git --git-dir="$MLCTL_REGISTRY/index.git" rev-parse main)
	for cmd in "alias set demo:1.0.0 production" "deprecate demo:1.0.0" "policy set demo production --approvals 1"; do
		run -2 --separate-stderr mlctl $cmd --reason $'r\xe9ason'
		[[ "$stderr" == "mlctl: --reason is not UTF-8 text; give it in UTF-8 (iconv -t UTF-8 converts); see 'mlctl "* ]] ||
			{ echo "$cmd: $stderr"; false; }
	done
	[ "$(git --git-dir="$MLCTL_REGISTRY/index.git" rev-parse main)" = "$before" ]
	run -0 mlctl alias set demo:1.0.0 production --reason 'réason, in UTF-8' -q
	# errors that quote bad bytes: U+FFFD in their place, on stderr and in the JSON
	run -2 --separate-stderr mlctl show $'x\xff:1.0.0' --json
	echo "$output" | "$PY" -c 'import json, sys; m = json.loads(sys.stdin.buffer.read().decode("utf-8"))["error"]["message"]; assert m.startswith("\x27x\ufffd\x27 is not a model name"), m'
	printf '%s' "$stderr" | iconv -f UTF-8 -t UTF-8 >/dev/null
	run -2 --separate-stderr mlctl policy set demo production --gate $'acc\xff>=1'
	printf '%s' "$stderr" | iconv -f UTF-8 -t UTF-8 >/dev/null
	[[ "$stderr" == *$'acc\xef\xbf\xbd>=1'* ]]
	# a path that is not UTF-8 in a JSON result: U+FFFD there too, the files where asked
	run -0 --separate-stderr mlctl pull demo:1.0.0 -o $'out\xff' --json
	echo "$output" | "$PY" -c 'import json, sys; d = json.loads(sys.stdin.buffer.read().decode("utf-8")); assert "out\ufffd" in json.dumps(d, ensure_ascii=False), d'
	[ -f $'out\xff/model.bin' ]
}
