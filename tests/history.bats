#!/usr/bin/env bats
# mlctl history NAME: every event of a model, newest first, with actor, UTC
# time, reason and old -> new; filtered by alias, actor, time and type;
# --json in its documented shape; the same after a reindex.

load helpers

# a model with events by two actors, one of them from a CI runner with no
# locale and no git identity
story() {
	make_project p demo 1.0.0
	mlctl push p -q
	next_version p 1.1.0
	MLCTL_ACTOR="Björk Guðmundsdóttir <bjork@example.com>" mlctl push p -q
	mlctl alias set demo:1.0.0 production --reason "CHG-1" -q
	mlctl alias set demo:1.0.0 staging -q
	MLCTL_ACTOR="Björk Guðmundsdóttir <bjork@example.com>" \
		mlctl alias set demo:1.1.0 production --reason "CHG-2: better recall" -q
	mlctl validate demo:1.1.0 --record -q
	env -i PATH=/usr/bin:/bin HOME="$BATS_TEST_TMPDIR" MLCTL_REGISTRY="$MLCTL_REGISTRY" \
		"$MLCTL" deprecate demo:1.0.0 --reason "leaked data" -q
}

@test "history lists every event newest first, with who, what moved and why" {
	story
	run -0 mlctl history demo
	[[ "${lines[0]}" =~ ^TIME\ +EVENT\ +WHAT\ +BY\ +REASON$ ]]
	[ "${#lines[@]}" = 8 ]
	[[ "${lines[1]}" =~ ^20[0-9-]+T[0-9:]+Z\ +deprecate\ +1\.0\.0\ .*leaked\ data$ ]]
	[[ "${lines[2]}" =~ \ record\ +1\.1\.0\ validate\ passed\  ]]
	[[ "${lines[3]}" =~ \ alias\ +production\ 1\.0\.0\ -\>\ 1\.1\.0\ +Björk\ Guðmundsdóttir\ \<bjork@example\.com\>\ +CHG-2:\ better\ recall$ ]]
	[[ "${lines[4]}" =~ \ alias\ +staging\ -\>\ 1\.0\.0\ +Test\ Runner ]]
	[[ "${lines[5]}" =~ \ alias\ +production\ -\>\ 1\.0\.0\ .*CHG-1$ ]]
	[[ "${lines[6]}" =~ \ push\ +1\.1\.0\ +Björk ]]
	[[ "${lines[7]}" =~ \ push\ +1\.0\.0\ +Test\ Runner ]]
}

@test "history filters by alias, actor, type, time and count" {
	story
	run -0 mlctl history demo --alias production
	[ "${#lines[@]}" = 3 ]
	[[ "${lines[1]}" == *"1.0.0 -> 1.1.0"* && "${lines[2]}" == *"-> 1.0.0"* ]]
	run -0 mlctl history demo --actor BJORK@example
	[ "${#lines[@]}" = 3 ]
	run -0 mlctl history demo --actor guðmundsdóttir --type push
	[ "${#lines[@]}" = 2 ]
	[[ "${lines[1]}" == *" push "*"1.1.0"* ]]
	run -0 mlctl history demo -n 2
	[ "${#lines[@]}" = 3 ]
	[[ "${lines[1]}" == *" deprecate "* ]]
	run -0 --separate-stderr mlctl history demo --since 2000-01-01 --until 2000-01-02T00:00:00Z --type push
	[ -z "$output" ]
	tomorrow=$(date -u -d tomorrow +%Y-%m-%d)
	run -0 --separate-stderr mlctl history demo --since "$tomorrow"
	[ -z "$output" ]
	[ "$stderr" = "no events of demo match" ]
	run -0 mlctl history demo --until "$tomorrow"
	[ "${#lines[@]}" = 8 ]
}

@test "history --json has the documented shape; reindex gives the same history" {
	story
	run -0 mlctl history demo --json
	json=$output
	/usr/bin/python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["schema_version"] == 1 and d["model"] == "demo", d
ev = d["events"]
assert [e["type"] for e in ev] == ["deprecate", "record", "alias", "alias", "alias", "push", "push"], ev
keys = {"type", "model", "version", "digest", "alias", "from", "actor", "time", "reason", "tag", "commit"}
for e in ev:
    assert keys <= set(e), e
    assert e["time"].endswith("Z") and len(e["commit"]) == 40, e
a = ev[2]
assert (a["alias"], a["from"], a["version"], a["reason"]) == ("production", "1.0.0", "1.1.0", "CHG-2: better recall"), a
assert a["tag"] == "demo#production#3" and a["actor"].startswith("Björk"), a
assert ev[1]["kind"] == "validate" and ev[1]["passed"] is True, ev[1]
assert ev[0]["tag"] == "demo@v1.0.0!#4" and ev[0]["reason"] == "leaked data", ev[0]
assert ev[4]["from"] is None and ev[6]["tag"] == "demo@v1.0.0", ev
' "$json"
	run -0 mlctl history demo --alias nope --json || true
	run -3 mlctl history demo --alias nope --json
	[[ "$output" == *'"code": "not_found"'* ]]
	run -0 mlctl registry reindex
	run -0 mlctl history demo --json
	[ "$output" = "$json" ]
	run -0 mlctl history demo --json --since 2999-01-01
	/usr/bin/python3 -c 'import json, sys; d = json.loads(sys.argv[1]); assert d["events"] == [], d' "$output"
}

@test "bad history commands are clear errors" {
	story
	run -3 --separate-stderr mlctl history nosuch
	[ "$stderr" = "mlctl: model 'nosuch' is not in the registry; see 'mlctl list'" ]
	run -3 --separate-stderr mlctl history demo --alias canary
	[ "$stderr" = "mlctl: 'demo' has never had an alias 'canary'; see 'mlctl alias list demo'" ]
	run -2 --separate-stderr mlctl history demo --since yesterday
	[ "$stderr" = "mlctl: --since 'yesterday' is not a time; give YYYY-MM-DD, YYYY-MM-DDTHH:MM or YYYY-MM-DDTHH:MM:SS, in UTC (a Z may end it)" ]
	run -2 mlctl history demo --until 2026-13-01
	for bad in 2026-02-30 2025-02-29 2026-12-03T11:20:61 '2026-12-03 11:00' ' 2026-12-03' 2026-12-03Z 2026-12-03T1:20; do
		run -2 mlctl history demo --since "$bad"
	done
	run -0 mlctl history demo --since 2024-02-29 --until 2999-12-31T23:59:59Z
	run -2 --separate-stderr mlctl history demo --type bogus
	[[ "$stderr" == "mlctl: --type 'bogus' is not an event type; use push, alias,"* ]]
	run -2 mlctl history demo -n 0
	run -2 mlctl history demo -n x
	run -2 mlctl history demo:1.0.0
	run -2 mlctl history
}
