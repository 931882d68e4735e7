#!/usr/bin/env bats
# Every command: --help works without a registry, a bad option is exit 2,
# it has a docs page naming each of its options, and each completion
# script knows the command and its options.

load helpers

commands() {
	mlctl --help | sed -n 's/^  \([a-z]*\)  .*/\1/p'
}

# the long options a command's --help lists (its own, then the global ones)
options_of() {
	mlctl "$1" --help | grep -o -- '--[a-z][a-z-]*' | sort -u
}

@test "the command list is what we expect" {
	run -0 commands
	[ "$(echo $output)" = "init validate package push pull list versions history show diff alias policy promote approve rollback deprecate undeprecate smoke registry hook remote login logout completion help" ]
}

@test "every command's --help exits 0 without touching any registry" {
	export MLCTL_REGISTRY=$BATS_TEST_TMPDIR/none
	for c in $(commands); do
		run -0 mlctl "$c" --help
		[[ "${lines[0]}" == "usage: mlctl $c"* ]] || { echo "$c: ${lines[0]}"; false; }
		run -0 mlctl "$c" -h
		run -0 mlctl help "$c"
	done
	[ ! -e "$MLCTL_REGISTRY" ]
}

@test "every command refuses an unknown option with exit 2 and points at --help" {
	for c in $(commands); do
		run -2 --separate-stderr mlctl "$c" --no-such-option
		[ "$stderr" = "mlctl: unknown option '--no-such-option'; see 'mlctl $c --help'" ]
	done
}

@test "mlctl with no command, or an unknown one, is exit 2" {
	run -2 mlctl
	run -2 --separate-stderr mlctl frobnicate
	[ "$stderr" = "mlctl: 'frobnicate' is not a command; see 'mlctl --help'" ]
	run -0 mlctl --version
	[[ "$output" =~ ^mlctl\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
}

@test "mlctl --version --json: the version, the schema and the libraries' versions" {
	for args in "--version --json" "--json --version"; do
		run -0 --separate-stderr mlctl $args
		/usr/bin/python3 -c '
import json, re, sys
d = json.loads(sys.argv[1])
assert d["schema_version"] == 1 and re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+", d["version"]), d
assert sorted(d["libraries"]) == ["cjson", "libarchive", "libcurl", "libgit2", "openssl", "sqlite"], d
assert all(re.match(r"[0-9]+\.[0-9]+", v) for v in d["libraries"].values()), d' "$output"
	done
}

# json_failure EXIT CODE ARGS...: mlctl ARGS exits EXIT and prints on stdout exactly one
# JSON object, with schema_version and an error {exit: EXIT, code: CODE, message} whose
# message is the last line on stderr; exit_code, the older name of exit, too
json_failure() {
	local want=$1 code=$2
	shift 2
	run --separate-stderr "$MLCTL" "$@"
	[ "$status" -eq "$want" ] || { echo "mlctl $*: exit $status, want $want: $stderr"; return 1; }
	/usr/bin/python3 - "$status" "$code" "$output" "${stderr##*$'\n'}" "mlctl $*" <<'PY'
import json, sys
status, code, out, last, line = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
try:
    doc = json.loads(out)  # a second document after the first is "Extra data"
except ValueError as e:
    sys.exit("%s: stdout is not one JSON document (%s):\n%s" % (line, e, out))
e = doc.get("error") if isinstance(doc, dict) else None
ok = (doc.get("schema_version") == 1 and isinstance(e, dict) and e.get("exit") == status
      and e.get("exit_code") == status and e.get("code") == code
      and isinstance(e.get("message"), str) and last == "mlctl: " + e["message"])
if not ok:
    sys.exit("%s: want error {exit %d, code %s, message = %r}, got:\n%s" % (line, status, code, last, out))
PY
}

@test "--json: every failure of every command is one JSON document with the error" {
	# what any command can get wrong: its options, its arguments, --json anywhere
	for c in $(commands); do
		json_failure 2 usage "$c" --no-such-option --json
		json_failure 2 usage --json "$c" --no-such-option
		json_failure 2 usage "$c" --json --color sometimes
		json_failure 2 usage "$c" --json=yes
		json_failure 2 usage "$c" a b c d --json
		json_failure 2 usage "$c" --no-such-option --json --registry "$BATS_TEST_TMPDIR/r"
	done
	json_failure 2 usage --json
	json_failure 2 usage --json frobnicate
	json_failure 2 usage frobnicate --json
	json_failure 2 usage show --json
	json_failure 2 usage --json alias set demo:1.0.0 production --reason
	# refusals, gates, I/O and integrity, command by command
	make_project p
	model_project evil evil-pickle-p4 model.pkl
	json_failure 4 conflict init p --json
	json_failure 3 not_found init nowhere --json
	json_failure 3 not_found validate nosuch:1.0.0 --json
	json_failure 1 gate_failed validate p --gate 'accuracy>=0.99' --json
	json_failure 6 io validate p --junit "$BATS_TEST_TMPDIR/none/v.xml" --json
	json_failure 3 not_found package nowhere --json
	json_failure 2 usage package p --compression lzma --json
	json_failure 6 io package p -o "$BATS_TEST_TMPDIR/none/p.mlpkg" --json
	json_failure 1 gate_failed push evil --json
	mlctl push p -q
	echo changed >> p/model.bin
	json_failure 4 conflict push p --json
	bad_package digest bad.mlpkg
	json_failure 5 integrity push bad.mlpkg --json
	json_failure 3 not_found pull demo:9.9.9 --json
	mkdir full && touch full/x
	json_failure 4 conflict pull demo:1.0.0 -o full --json
	json_failure 2 usage pull 'Not A Name' --json
	touch afile
	json_failure 3 not_found list --registry afile --json
	json_failure 6 io push p --registry afile --json
	json_failure 2 usage list --registry ghcr.io/acme/models --json
	json_failure 3 not_found versions nosuch --json
	json_failure 2 usage versions demo:1.0.0 --json
	json_failure 3 not_found show demo:9.9.9 --json
	json_failure 3 not_found alias set demo:9.9.9 production --json
	json_failure 2 usage alias frob --json
	json_failure 3 not_found smoke nosuch:1.0.0 --json
	json_failure 2 no_smoke smoke p --json
	json_failure 2 usage smoke p --repeat many --json
	json_failure 2 usage registry frob --json
	json_failure 2 usage completion tcsh --json
	json_failure 2 usage help nosuch --json
	blob=$(find "$MLCTL_REGISTRY/blobs" -type f -size +10k | head -1)
	chmod u+w "$blob" && echo garbage >> "$blob"
	json_failure 5 integrity registry verify --json
}

@test "every command has a docs page that names each of its options" {
	for c in $(commands); do
		page=$BATS_TEST_DIRNAME/../docs/mlctl-$c.md
		[ -f "$page" ] || { echo "no $page"; false; }
		for o in $(options_of "$c"); do
			case $o in --registry|--json|--quiet|--verbose|--color|--help) continue ;; esac
			grep -q -- "$o" "$page" || { echo "docs/mlctl-$c.md lacks $o"; false; }
		done
	done
	for o in --registry --json --quiet --verbose --color --help; do
		grep -q -- "$o" "$BATS_TEST_DIRNAME/../docs/mlctl-help.md"
	done
}

@test "each completion script names every command and every option" {
	for shell in bash zsh fish; do
		run -0 mlctl completion "$shell"
		script=$output
		for c in $(commands); do
			[[ "$script" == *"$c"* ]] || { echo "$shell lacks $c"; false; }
			for o in $(options_of "$c"); do
				name=${o#--}
				# bash and zsh spell --name, fish spells -l name
				[[ "$script" == *"--$name"* || "$script" == *"-l $name"* ]] ||
					{ echo "$shell completion lacks $o of $c"; false; }
			done
		done
	done
}

@test "docs/exit-codes.md lists every exit code" {
	for code in 0 1 2 3 4 5 6 7 8; do
		grep -q "^| $code |" "$BATS_TEST_DIRNAME/../docs/exit-codes.md"
	done
}

@test "a closed stdout is not silent success" {
	make_project p
	mlctl push p -q >/dev/null
	run -6 bash -c "'$MLCTL' show demo > /dev/full"
}

@test "no assertion is a bare '! command' (bash's errexit ignores it): '! command || false' or 'run !'" {
	bad=$(grep -nE '^[[:space:]]*! ' "$BATS_TEST_DIRNAME"/*.bats | grep -vE '\|\||; then$' || true)
	[ -z "$bad" ] || { echo "$bad"; false; }
}
