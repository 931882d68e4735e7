#!/usr/bin/env bats
# File names outside ASCII, through package, push, pull, validate and smoke,
# whatever the locale. mlctl runs here under env -i, as on a CI runner with no
# locale at all, so the locale of the machine running the tests cannot hide a
# problem; names that are not UTF-8 are refused, shown escaped.

load helpers

# bare [NAME=VALUE]... CMD...: CMD in an environment as bare as a CI runner's
bare() {
	env -i PATH=/usr/bin:/bin HOME="$BATS_TEST_TMPDIR" MLCTL_REGISTRY="$MLCTL_REGISTRY" \
		MLCTL_ACTOR="$MLCTL_ACTOR" NO_COLOR=1 "$@"
}

NFD=$(printf 'cafe\314\201') # "café" with a decomposed é (e + U+0301), as macOS writes names

# names_project DIR: a project whose files, folders and smoke cases have names
# outside ASCII, and a model that reads two of them by name
names_project() {
	mkdir -p "$1/données/日本語" "$1/épreuves"
	printf 'weights\n' > "$1/modèle.bin"
	printf 'composed' > "$1/données/café.txt"
	printf 'decomposed' > "$1/données/$NFD.txt"
	printf 'x' > "$1/données/日本語/模型 😀 v2.txt"
	cat > "$1/serve.py" <<'PY'
import json, sys
for line in sys.stdin:
    req = json.loads(line)
    with open("données/" + req["input"], encoding="utf-8") as f:
        print(json.dumps({"id": req["id"], "output": {"text": f.read()}}), flush=True)
PY
	cat > "$1/épreuves/cas.jsonl" <<'JSONL'
{"name": "composé", "input": "café.txt", "expect": {"text": "composed"}}
{"name": "décomposé", "input": "cafe\u0301.txt", "expect": {"text": "decomposed"}}
JSONL
	cat > "$1/mlctl.json" <<'JSON'
{"schema": "mlctl/v1", "name": "noms", "version": "1.0.0", "license": "MIT",
 "description": "des fichiers aux noms accentués",
 "artifacts": [{"path": "modèle.bin", "role": "model"}, {"path": "données", "role": "data"},
               {"path": "serve.py", "role": "code"}],
 "smoke": {"runtime": "exec", "command": ["python3", "serve.py"], "cases": "épreuves/cas.jsonl",
           "warmup": 0, "repeat": 1}}
JSON
}

@test "names outside ASCII package to the same bytes and digest under every locale, LANG unset included" {
	names_project p
	run -0 --separate-stderr bare "$MLCTL" package p -o unset.mlpkg
	digest=$output
	[[ "$digest" =~ ^sha256:[0-9a-f]{64}$ ]]
	for loc in LC_ALL=C LC_ALL=POSIX LC_CTYPE=C LANG=C.UTF-8 LC_ALL=C.UTF-8 LANG=fr_FR.UTF-8 \
		LC_ALL=de_DE.ISO-8859-1; do
		run -0 --separate-stderr bare "$loc" "$MLCTL" package p -o other.mlpkg
		[ "$output" = "$digest" ] || { echo "$loc: $output"; false; }
		cmp unset.mlpkg other.mlpkg
	done
	# the names are in the tar as their UTF-8 bytes, the decomposed one too, in byte order
	run -0 bare LC_ALL=C.UTF-8 tar --quoting-style=literal -tf unset.mlpkg
	[ "$output" = "mlctl.json
données/$NFD.txt
données/café.txt
données/日本語/模型 😀 v2.txt
modèle.bin
serve.py
épreuves/cas.jsonl" ]
	# and so in the files index, which the digest covers
	run -0 bare LC_ALL=C.UTF-8 tar -xOf unset.mlpkg mlctl.json
	[[ "$output" == *"\"path\":\"données/$NFD.txt\""* ]]
	[[ "$output" == *"\"path\":\"données/日本語/模型 😀 v2.txt\""* ]]
}

@test "names outside ASCII push, pull, validate and smoke in the C locale, as folder, package and version" {
	names_project p
	run -0 bare "$MLCTL" package p -o p.mlpkg -q
	digest=$output
	run -0 bare "$MLCTL" validate p -q
	run -0 bare "$MLCTL" validate p.mlpkg -q
	run -0 --separate-stderr bare "$MLCTL" push p.mlpkg
	[ "$output" = "pushed noms:1.0.0 $digest" ]
	run -0 --separate-stderr bare LC_ALL=C "$MLCTL" push p
	[ "$output" = "noms:1.0.0 is already in the registry with digest $digest; nothing to do" ]
	run -0 bare "$MLCTL" validate noms:1.0.0 -q
	# pulled files have the names, bytes and modes they had, the decomposed é as it was
	run -0 bare "$MLCTL" pull noms:1.0.0 -o from-registry
	diff -r --exclude=mlctl.json p from-registry
	[ -f "from-registry/données/$NFD.txt" ]
	# and the pulled folder packages to the same digest
	run -0 bare "$MLCTL" package from-registry -o again.mlpkg -q
	[ "$output" = "$digest" ]
	# the model opens its files by their names, wherever it was unpacked
	for target in p p.mlpkg noms:1.0.0; do
		run -0 bare "$MLCTL" smoke "$target"
		[ "${lines[-1]}" = "passed: 2 cases, 0 failures in $target" ]
	done
}

@test "a file name that is not UTF-8, or holds a control character, is refused, shown escaped; nothing is written" {
	names_project p
	printf 'x' > "p/données/$(printf 'caf\351').txt" # Latin-1, as old archives hold
	before=$(tree_state p)
	run -1 --separate-stderr bare "$MLCTL" package p -o p.mlpkg
	[ "$stderr" = "mlctl: file name 'données/caf\xe9.txt' is not valid UTF-8; rename it to a UTF-8 name" ]
	[ ! -e p.mlpkg ]
	run -1 --separate-stderr bare "$MLCTL" push p --no-validate
	[ "$stderr" = "mlctl: file name 'données/caf\xe9.txt' is not valid UTF-8; rename it to a UTF-8 name" ]
	run -1 --separate-stderr bare "$MLCTL" validate p
	[[ "$output" == *"error   MLV009  file name 'données/caf\xe9.txt' is not valid UTF-8; rename it to a UTF-8 name"* ]]
	[ "$(tree_state p)" = "$before" ]
	# nothing stored: a refused first push leaves no registry
	[ ! -e "$MLCTL_REGISTRY" ]

	rm "p/données/$(printf 'caf\351').txt"
	printf 'x' > "p/données/$(printf 'a\033[31mred')" # an escape sequence would colour the terminal
	run -1 --separate-stderr bare "$MLCTL" package p -o p.mlpkg
	[ "$stderr" = "mlctl: file name 'données/a\x1b[31mred' cannot be packaged (control characters or backslash); rename it" ]
	[ ! -e p.mlpkg ]
}

@test "an mlctl.json that is not UTF-8 is refused with the line to fix" {
	names_project p
	# a Latin-1 description on line 2
	sed -i "2s/.*/ \"description\": \"$(printf 'donn\351es')\",/" p/mlctl.json
	run -1 --separate-stderr bare "$MLCTL" package p -o p.mlpkg
	[ "$stderr" = "mlctl: p/mlctl.json: not UTF-8 at line 2; save the file as UTF-8" ]
	[ ! -e p.mlpkg ]
	run -1 bare "$MLCTL" validate p
	[[ "${lines[1]}" == "  error   MLV001  not UTF-8 at line 2; save the file as UTF-8" ]]
	# inside a package, it is a broken package
	bad_package latin1-index l.mlpkg
	run -5 --separate-stderr bare "$MLCTL" push l.mlpkg
	[ "$stderr" = "mlctl: package 'l.mlpkg' has a broken mlctl.json: not UTF-8 at line 1; save the file as UTF-8" ]
	[ ! -e "$MLCTL_REGISTRY/mlctl.db" ]
}

@test "a package entry named outside UTF-8 or with control characters is exit 5, shown escaped, under any locale" {
	bad_package latin1-name n.mlpkg
	bad_package latin1-pax x.mlpkg
	bad_package control-name c.mlpkg
	for loc in LANG= LC_ALL=C LC_ALL=C.UTF-8; do
		run -5 --separate-stderr bare "$loc" "$MLCTL" push n.mlpkg
		[ "$stderr" = "mlctl: package 'n.mlpkg' has an entry name that is not UTF-8: 'zzz-caf\xe9.bin'; it is damaged or unsafe: rebuild it with 'mlctl package'" ]
		run -5 --separate-stderr bare "$loc" "$MLCTL" push x.mlpkg
		[ "$stderr" = "mlctl: package 'x.mlpkg' has an entry name that is not UTF-8: 'zzz-caf\xe9\xe9!.bin'; it is damaged or unsafe: rebuild it with 'mlctl package'" ]
		run -5 --separate-stderr bare "$loc" "$MLCTL" push c.mlpkg
		[ "$stderr" = "mlctl: package 'c.mlpkg' has an unsafe entry path 'zzz-\x1b[31mred.bin'; it is damaged or unsafe: rebuild it with 'mlctl package'" ]
		run -5 bare "$loc" "$MLCTL" validate c.mlpkg
		[ "${lines[1]}" = "  error   MLV023  package 'c.mlpkg' has an unsafe entry path 'zzz-\x1b[31mred.bin'; it is damaged or unsafe: rebuild it with 'mlctl package'" ]
	done
	[ -z "$(registry_state)" ]
}

# model_named DIR NAME VERSION [EXTRA]: a one-file project; EXTRA is more JSON members
model_named() {
	mkdir -p "$1"
	printf 'weights\n' > "$1/model.bin"
	printf '{"schema": "mlctl/v1", "name": "%s", "version": "%s", "license": "MIT",\n "artifacts": [{"path": "model.bin", "role": "model"}]%s}\n' \
		"$2" "$3" "${4:-}" > "$1/mlctl.json"
}

NAME_RULE="use lowercase letters, digits, '_' and '-', starting and ending with a letter or digit, no dots (optionally 'team/name'), at most 128 characters"

@test "names and versions git cannot tag (a..b, team/x..y, 1.0.0-rc.lock, 1.0.0+build.lock) are refused before anything is written" {
	model_named ok demo 1.0.0
	run -0 mlctl push ok
	run -0 mlctl alias set demo:1.0.0 production
	before=$(registry_state)
	for name in a..b team/x..y a.b demo- team/_x; do
		model_named p "$name" 1.0.0
		run -1 --separate-stderr mlctl validate p
		[[ "$output" == *"MLV003  name '$name' is not valid; $NAME_RULE"* ]]
		run -1 --separate-stderr mlctl push p
		[[ "$stderr" == *"failed validation"* ]]
		run -1 --separate-stderr mlctl push --no-validate p
		[ "$stderr" = "mlctl: p/mlctl.json: name '$name' is not valid; $NAME_RULE" ]
		run -1 mlctl package p -o p.mlpkg
		[ ! -e p.mlpkg ]
	done
	for v in 1.0.0-rc.lock 1.0.0+build.lock; do
		model_named p demo "$v"
		run -1 --separate-stderr mlctl validate p
		[[ "$output" == *"MLV004  version '$v' cannot be tagged 'demo@v$v' in the registry's git history: git refuses a reference name with a part ending in '.lock'; choose another pre-release or build part"* ]]
		run -1 --separate-stderr mlctl push --no-validate p
		[[ "$stderr" == *"version '$v' cannot be tagged 'demo@v$v'"* ]]
	done
	run -2 --separate-stderr mlctl alias set demo:1.0.0 p..q
	[[ "$stderr" == "mlctl: alias 'p..q' is not valid; an alias starts with a lowercase letter, holds only lowercase letters, digits, '_' and '-' (no dots)"* ]]
	run -2 mlctl alias rm demo p..q
	run -2 mlctl alias set demo:1.0.0 staging.lock
	[ "$(registry_state)" = "$before" ]
	run -0 mlctl registry verify
	# a version with a .lock part that is not its end tags fine
	model_named p demo 1.0.0-rc.lock.1
	run -0 mlctl push p
}

@test "numbers JSON cannot hold (1e999, -1e999), keys given twice, a files index listing mlctl.json: refused" {
	model_named ok demo 1.0.0
	run -0 mlctl push ok
	before=$(registry_state)
	model_named p demo 1.1.0 ', "metrics": {"accuracy": 1e999}'
	run -1 --separate-stderr mlctl validate p
	[[ "$output" == *"MLV001  metrics.accuracy is not a finite number (beyond +-1.8e308, which JSON cannot hold once read); use a number in range"* ]]
	run -1 --separate-stderr mlctl push --no-validate p
	[ "$stderr" = "mlctl: p/mlctl.json: metrics.accuracy is not a finite number (beyond +-1.8e308, which JSON cannot hold once read); use a number in range" ]
	model_named p demo 1.1.0 ', "metrics": {"loss": -1e999}'
	run -1 mlctl validate p
	[[ "$output" == *"MLV001  metrics.loss is not a finite number"* ]]
	model_named p demo 1.1.0 ', "smoke": {"runtime": "exec", "command": ["true"], "cases": "c.jsonl", "timeout_ms": 1e999}'
	run -1 mlctl validate p
	[[ "$output" == *"MLV001  smoke.timeout_ms is not a finite number"* ]]
	model_named p demo 1.1.0 ', "version": "2.0.0"'
	run -1 --separate-stderr mlctl validate p
	[[ "$output" == *"MLV001  key 'version' appears more than once in the manifest; keep one"* ]]
	run -1 --separate-stderr mlctl push --no-validate p
	[ "$stderr" = "mlctl: p/mlctl.json: key 'version' appears more than once in the manifest; keep one" ]
	model_named p demo 1.1.0 ', "metrics": {"auc": 0.9, "auc": 0.1}'
	run -1 mlctl validate p
	[[ "$output" == *"MLV001  key 'auc' appears more than once in metrics; keep one"* ]]
	run -1 mlctl push p
	bad_package self-index self.mlpkg
	run -5 --separate-stderr mlctl validate self.mlpkg
	[[ "$stderr$output" == *"files index lists 'mlctl.json', the manifest itself; rebuild the package with 'mlctl package'"* ]]
	run -5 --separate-stderr mlctl push self.mlpkg
	[[ "$stderr" == *"files index lists 'mlctl.json', the manifest itself"* ]]
	[ "$(registry_state)" = "$before" ]
	run -0 mlctl registry verify
}

@test "init names a model from a folder with dots by the rule: dots become '-'" {
	mkdir -p 'My.Model v2.' && printf 'w\n' > 'My.Model v2./model.bin'
	run -0 mlctl init 'My.Model v2.'
	grep -q '"name": "my-model-v2"' 'My.Model v2./mlctl.json'
	run -0 mlctl validate 'My.Model v2.'
}
