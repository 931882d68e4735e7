#!/usr/bin/env bats
# mlctl alias: movable names for versions, resolved wherever a REF is taken,
# kept in git (aliases.json, GTO tags) and the database, and checked by verify.

load helpers

two_versions() {
	make_project p
	mlctl push p -q
	next_version p 1.1.0
	mlctl push p -q
}

@test "set, resolve, move, list and remove an alias" {
	two_versions
	run -0 mlctl alias set demo:1.0.0 production --reason "first release"
	[ "$output" = "demo:production -> 1.0.0 (tag demo#production#1)" ]
	run -0 mlctl show demo:production
	[[ "${lines[1]}" == "version:     1.0.0" ]]
	[[ "$output" == *"aliases:     production"* ]]
	run -0 mlctl alias set demo:1.1.0 production
	[ "$output" = "demo:production -> 1.1.0, was 1.0.0 (tag demo#production#2)" ]
	run -0 mlctl alias set demo:1.0.0 staging
	run -0 mlctl alias list demo
	[[ "${lines[0]}" =~ ^MODEL\ +ALIAS\ +VERSION\ +DIGEST\ +BEFORE\ +MOVED\ +BY ]]
	[[ "${lines[1]}" =~ ^demo\ +production\ +1\.1\.0\ +sha256: ]]
	[[ "${lines[2]}" =~ ^demo\ +staging\ +1\.0\.0\ +sha256: ]]
	run -0 mlctl versions demo
	[[ "${lines[1]}" =~ ^1\.1\.0\ .*production$ ]]
	[[ "${lines[2]}" =~ ^1\.0\.0\ .*staging$ ]]
	run -0 mlctl pull demo:production -o out
	grep -q '"version": "1.1.0"' out/mlctl.json
	run -0 mlctl alias rm demo staging --reason "retired"
	# GTO's counter is the model's, whatever the alias: production 1, 2, staging 3, now 4
	[ "$output" = "removed demo:staging, which pointed at 1.0.0 (tag demo#staging!#4)" ]
	run -3 --separate-stderr mlctl show demo:staging
	[[ "$stderr" == "mlctl: alias 'staging' of 'demo' does not exist; see 'mlctl alias list demo', or set it with 'mlctl alias set demo:VERSION staging'" ]]
	run -0 mlctl registry verify
}

@test "setting an alias where it points already changes nothing (CI may re-run it)" {
	two_versions
	mlctl alias set demo:1.1.0 production -q
	before=$(registry_state; git -C "$MLCTL_REGISTRY/index.git" tag -l)
	run -0 mlctl alias set demo production
	[ "$output" = "demo:production already points at 1.1.0" ]
	[ "$(registry_state; git -C "$MLCTL_REGISTRY/index.git" tag -l)" = "$before" ]
	run -0 mlctl alias set demo:production production --json
	[[ "$output" == *'"changed": false'* ]]
}

@test "git holds every move: aliases.json, the event, GTO tags on the version's commit" {
	two_versions
	mlctl alias set demo:1.0.0 production -q
	mlctl alias set demo:1.1.0 production --reason "better recall" -q
	git=$MLCTL_REGISTRY/index.git
	run -0 git -C "$git" show main:models/demo/aliases.json
	/usr/bin/python3 -c '
import json, sys
a = json.loads(sys.argv[1])
assert list(a) == ["production"] and a["production"]["version"] == "1.1.0", a
assert a["production"]["digest"].startswith("sha256:")' "$output"
	run -0 git -C "$git" log -1 --format=%B main
	[[ "$output" == "alias demo production -> 1.1.0"* ]]
	[[ "$output" == *'"from":"1.0.0"'* ]]
	[[ "$output" == *'"reason":"better recall"'* ]]
	# GTO reads an assignment from a tag on the commit that registered the version
	[ "$(git -C "$git" rev-list -n1 'demo#production#2')" = "$(git -C "$git" rev-list -n1 'demo@v1.1.0')" ]
	[ "$(git -C "$git" rev-list -n1 'demo#production#1')" = "$(git -C "$git" rev-list -n1 'demo@v1.0.0')" ]
	run -0 git -C "$git" tag -l -n1 'demo#production#2'
	[[ "$output" == *"better recall"* ]]
}

@test "reindex rebuilds aliases from git; verify finds a database that disagrees" {
	two_versions
	mlctl alias set demo:1.0.0 production -q
	mlctl alias set demo:1.1.0 staging -q
	mlctl alias rm demo staging -q
	run -0 mlctl registry reindex
	[ "$output" = "reindexed: 5 events replayed from git: 2 versions, 0 records, 1 alias" ]
	run -0 mlctl alias list --json
	[[ "$output" == *'"alias": "production"'* && "$output" != *'"staging"'* ]]
	sqlite3 "$MLCTL_REGISTRY/mlctl.db" "UPDATE aliases SET version = '1.1.0'"
	run -5 mlctl registry verify
	[[ "$output" == *"alias production of demo points at 1.0.0 in git but at 1.1.0 in the database; run 'mlctl registry reindex'"* ]]
	sqlite3 "$MLCTL_REGISTRY/mlctl.db" "DELETE FROM aliases"
	run -5 mlctl registry verify
	[[ "$output" == *"the database has 0 aliases but git has 1"* ]]
	mlctl registry reindex
	run -0 mlctl registry verify
	run -0 mlctl show demo:production
}

@test "a crash between git and the database during an alias move is caught up" {
	two_versions
	MLCTL_FAULT=git-applied run -99 mlctl alias set demo:1.0.0 production
	run -0 sqlite3 "$MLCTL_REGISTRY/mlctl.db" "SELECT count(*) FROM aliases"
	[ "$output" = 0 ]
	run -0 mlctl show demo:production
	[[ "${lines[1]}" == "version:     1.0.0" ]]
	git -C "$MLCTL_REGISTRY/index.git" rev-parse -q --verify 'refs/tags/demo#production#1'
	run -0 mlctl registry verify
}

@test "bad alias commands are clear errors and change nothing" {
	two_versions
	before=$(registry_state)
	run -2 --separate-stderr mlctl alias set demo:1.0.0 1prod
	[[ "$stderr" == "mlctl: alias '1prod' is not valid; an alias starts with a lowercase letter, holds only lowercase letters, digits, '_' and '-' (no dots), ends in a letter or digit and has at most 64 characters, such as 'production'" ]]
	run -2 --separate-stderr mlctl alias set demo:1.0.0 'pro d'
	[[ "$stderr" == "mlctl: alias 'pro d' is not valid; an alias starts with a lowercase letter, holds only lowercase letters, digits, '_' and '-' (no dots), ends in a letter or digit and has at most 64 characters, such as 'production'" ]]
	run -2 --separate-stderr mlctl alias set demo:1.0.0 p..q
	[[ "$stderr" == "mlctl: alias 'p..q' is not valid; an alias starts with a lowercase letter, holds only lowercase letters, digits, '_' and '-' (no dots), ends in a letter or digit and has at most 64 characters, such as 'production'" ]]
	run -2 mlctl alias set demo:1.0.0 prod.v2
	run -2 mlctl alias set demo:1.0.0 prod-
	run -2 mlctl alias set demo:1.0.0 Production
	run -3 mlctl alias set demo:9.9.9 production
	run -3 mlctl alias set nosuch:1.0.0 production
	run -3 --separate-stderr mlctl alias rm demo production
	[[ "$stderr" == "mlctl: alias 'production' of 'demo' does not exist; see 'mlctl alias list demo'" ]]
	run -3 --separate-stderr mlctl alias list nosuch
	[[ "$stderr" == "mlctl: model 'nosuch' is not in the registry; see 'mlctl list'" ]]
	run -2 mlctl alias move demo production
	run -2 mlctl alias set demo:1.0.0
	run -2 mlctl alias set demo:1.0.0 production --reason ""
	run -2 mlctl alias list demo --reason x
	run -0 --separate-stderr mlctl alias list demo
	[[ "$stderr" == "no aliases of demo; set one with 'mlctl alias set NAME:VERSION ALIAS'" ]]
	[ "$(registry_state)" = "$before" ]
}

@test "alias set takes the short digest that versions prints, with NAME@ or alone" {
	two_versions
	short=$(mlctl versions demo | awk '$1 == "1.0.0" { print $2 }')
	run -0 mlctl alias set "demo@$short" production
	[ "$output" = "demo:production -> 1.0.0 (tag demo#production#1)" ]
	short=$(mlctl versions demo | awk '$1 == "1.1.0" { print $2 }')
	run -0 mlctl alias set "$short" staging
	[ "$output" = "demo:staging -> 1.1.0 (tag demo#staging#2)" ]
	before=$(registry_state)
	run -2 mlctl alias set "demo@${short:0:12}" canary
	[ "$(registry_state)" = "$before" ]
}
