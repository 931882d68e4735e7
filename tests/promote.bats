#!/usr/bin/env bats
# The release workflow: mlctl policy, promote, approve and rollback. Rules
# checked in the write that moves the alias, every unmet one listed;
# approvals bound to the digest and the policy; rollback walking back; all
# of it events in git that reindex rebuilds and GTO reads.

load helpers

prod_policy() {
	mlctl policy set iris production --require validated --gate 'accuracy>=0.93' \
		--gate-vs-current 'accuracy>=-0.005' --approvals 2 --from staging --reason "prod rules" -q
}

as() { # as WHO mlctl ARGS...: act as another person
	local who=$1
	shift
	MLCTL_ACTOR="$who <$who@example.com>" "$@"
}

gto_check() {
	"$PY" "$FIXTURES/gto-check.py" "$MLCTL_REGISTRY/index.git"
}

@test "promote lists every unmet rule and moves nothing; met, it moves in one write" {
	three
	prod_policy
	before=$(registry_state)
	run -1 --separate-stderr mlctl promote iris:1.0.0 production --reason CHG-0
	[ "$stderr" = "mlctl: promoting iris:1.0.0 to production is refused, 4 of 6 rules unmet: validated: no passing validate record of ${d10:-sha256:}$(mlctl show iris:1.0.0 --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["digest"][7:19])') (run 'mlctl validate iris:1.0.0 --record'); gate accuracy>=0.93: accuracy is 0.9; from staging: iris:1.0.0 has never been iris:staging; approvals: 0 of 2 by others than the promoter (mlctl approve iris:1.0.0 production); nothing moved" ]
	[ "$(registry_state)" = "$before" ]
	run -1 --separate-stderr mlctl promote iris:1.0.0 production --json
	/usr/bin/python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["error"]["exit"] == 1 and d["error"]["code"] == "gate_failed", d
assert len(d["unmet"]) == 4 and d["unmet"][3].startswith("approvals: 0 of 2"), d' "$output"
	# meet them: staging first, a validate record, two approvals by others
	run -0 mlctl promote iris:1.1.0 staging --reason "offline eval"
	mlctl validate iris:1.1.0 --record -q
	run -0 as ann mlctl approve iris:1.1.0 production --reason "read the report"
	[ "$output" = "approved iris:1.1.0 for production (1 of 2 approvals)" ]
	run -1 --separate-stderr mlctl promote iris:1.1.0 production
	[[ "$stderr" == *"1 of 6 rules unmet: approvals: 1 of 2 by others than the promoter"* ]]
	run -0 as bob mlctl approve iris:1.1.0 production
	run -0 --separate-stderr mlctl promote iris:1.1.0 production --reason CHG-1
	[ "$output" = "iris:production -> 1.1.0 (tag iris#production#2)" ]
	[ "$stderr" = "all 6 rules of the policy of iris:production met" ]
	run -0 mlctl history iris --alias production --json
	/usr/bin/python3 -c '
import json, sys
ev = json.loads(sys.argv[1])["events"]
assert ev[0]["via"] == "promote" and ev[0]["reason"] == "CHG-1", ev[0]
assert [e["type"] for e in ev] == ["alias", "approve", "approve", "policy"], ev' "$output"
	# the event in git names the policy it met
	run -0 git -C "$MLCTL_REGISTRY/index.git" log -1 --format=%B main
	[[ "$output" == *'"policy_digest":"sha256:'* && "$output" == *'"via":"promote"'* ]]
	run -0 gto_check
	run -0 mlctl registry verify
}

@test "gates against the current version, --force with a reason, and deprecated versions" {
	three
	mlctl policy set iris production --gate-vs-current 'accuracy>=-0.005' -q
	run -0 mlctl promote iris:1.1.0 production
	# 1.2.0 is 0.01 worse than 1.1.0
	run -1 --separate-stderr mlctl promote iris:1.2.0 production
	[[ "$stderr" == *"gate-vs-current accuracy>=-0.005: accuracy moves by -0.01 from iris:1.1.0"* ]]
	run -2 --separate-stderr mlctl promote iris:1.2.0 production --force
	[ "$stderr" = "mlctl: --force needs --reason: a forced promotion is recorded with why; see 'mlctl promote --help'" ]
	run -0 --separate-stderr mlctl promote iris:1.2.0 production --force --reason "hotfix for CVE"
	[ "$output" = "iris:production -> 1.2.0, was 1.1.0 (tag iris#production#2), forced" ]
	[[ "$stderr" == "forced past: gate-vs-current accuracy>=-0.005"* ]]
	run -0 git -C "$MLCTL_REGISTRY/index.git" log -1 --format=%B main
	[[ "$output" == *'"forced":true'* && "$output" == *'"unmet":["gate-vs-current'* ]]
	# history keeps it for the audit: forced, and what it passed over
	run -0 mlctl history iris --type promote
	[[ "${lines[1]}" == *"production 1.1.0 -> 1.2.0 (forced)"*"hotfix for CVE" ]]
	[[ "${lines[2]}" != *"(forced)"* ]]
	run -0 mlctl history iris --type promote --json
	/usr/bin/python3 -c '
import json, sys
ev = json.loads(sys.argv[1])["events"]
assert ev[0]["forced"] is True and ev[0]["unmet"][0].startswith("gate-vs-current"), ev[0]
assert ev[1]["forced"] is False and ev[1]["unmet"] == [], ev[1]' "$output"
	# deprecated: refused with or without a policy, and --force does not pass it
	mlctl deprecate iris:1.0.0 -q
	run -1 --separate-stderr mlctl promote iris:1.0.0 staging
	[[ "$stderr" == *"not deprecated: iris:1.0.0 is deprecated (mlctl undeprecate iris:1.0.0)"* ]]
	run -1 --separate-stderr mlctl promote iris:1.0.0 production --force --reason "try"
	[[ "$stderr" == *"nothing moved (--force passes over rules, never a deprecation)" ]]
	run -1 mlctl promote iris:1.0.0 production
	# no policy, not deprecated: a plain move
	run -0 mlctl promote iris:1.1.0 canary
	[ "$output" = "iris:canary -> 1.1.0 (tag iris#canary#4)" ]
	run -0 mlctl promote iris:1.1.0 canary
	[ "$output" = "iris:canary already points at 1.1.0" ]
	# a deprecated model: no new promotion, but where it points already is no refusal
	mlctl deprecate iris -q
	run -1 --separate-stderr mlctl promote iris:1.2.0 canary
	[[ "$stderr" == *"not deprecated: model iris is deprecated (mlctl undeprecate iris)"* ]]
	run -0 mlctl promote iris:1.1.0 canary
	[ "$output" = "iris:canary already points at 1.1.0" ]
}

@test "approvals: by others, once each, bound to the digest and the policy" {
	three
	mlctl policy set iris production --approvals 1 -q
	run -0 as ann mlctl approve iris:1.1.0 production
	run -4 --separate-stderr as ann mlctl approve iris:1.1.0 production
	[ "$stderr" = "mlctl: iris:1.1.0 is approved for production by you already (ann <ann@example.com>); one approval per person counts" ]
	# a person is their address, however the name and the case are written
	run -4 --separate-stderr env MLCTL_ACTOR="Ann Other <ANN@Example.com>" "$MLCTL" approve iris:1.1.0 production
	[[ "$stderr" == *"is approved for production by you already (Ann Other <ANN@Example.com>)"* ]]
	# the promoter's own approval does not count, under another spelling either
	run -1 --separate-stderr as ann mlctl promote iris:1.1.0 production
	[[ "$stderr" == *"approvals: 0 of 1 by others than the promoter"* ]]
	run -1 --separate-stderr env MLCTL_ACTOR="A. N. N. <Ann@EXAMPLE.com>" "$MLCTL" promote iris:1.1.0 production
	[[ "$stderr" == *"approvals: 0 of 1 by others than the promoter"* ]]
	# case aside in every script, in a bare environment (no locale) too
	run -0 env MLCTL_ACTOR="Élodie <élodie@exämple.fr>" "$MLCTL" approve iris:1.1.0 production
	run -4 env -i PATH=/usr/bin:/bin MLCTL_REGISTRY="$MLCTL_REGISTRY" \
		MLCTL_ACTOR="E. <ÉLODIE@EXÄMPLE.FR>" "$MLCTL" approve iris:1.1.0 production
	run -0 mlctl history iris --actor ÉLODIE --json
	[ "$(echo "$output" | jq '.events | length')" = 1 ]
	# a policy change voids it
	mlctl policy set iris production --approvals 1 --reason "stricter" --gate 'accuracy>=0.5' -q
	run -1 as carl mlctl promote iris:1.1.0 production
	run -0 as bob mlctl approve iris:1.1.0 production
	run -0 as carl mlctl promote iris:1.1.0 production
	# approving what you promoted yourself, under any spelling of your name
	run -1 --separate-stderr as carl mlctl approve iris:1.1.0 production
	[ "$stderr" = "mlctl: iris:production holds 1.1.0, moved there by you: an approval is by someone other than the promoter" ]
	run -1 env MLCTL_ACTOR="Carl Jr <CARL@example.com>" "$MLCTL" approve iris:1.1.0 production
	run -3 --separate-stderr mlctl approve iris:1.1.0 staging
	[ "$stderr" = "mlctl: iris:staging has no policy, so approvals do not count there; set one with 'mlctl policy set iris staging --approvals N'" ]
	mlctl policy set iris staging --gate 'accuracy>=0.5' -q
	run -3 --separate-stderr mlctl approve iris:1.1.0 staging
	[ "$stderr" = "mlctl: the policy of iris:staging asks for no approvals, so they do not count there; see 'mlctl policy show iris staging', and set it again with its rules and --approvals N ('policy set' replaces the whole policy)" ]
	mlctl deprecate iris:1.2.0 -q
	run -1 as ann mlctl approve iris:1.2.0 production
	run -3 mlctl approve iris:9.9.9 production
	run -2 mlctl approve iris:1.1.0 Production
}

@test "rollback walks back one move at a time; alias list and show say where it would go" {
	three
	mlctl promote iris:1.0.0 production -q
	mlctl promote iris:1.1.0 production -q
	mlctl alias set iris:1.2.0 production -q
	run -0 mlctl alias list iris
	[[ "${lines[1]}" =~ ^iris\ +production\ +1\.2\.0\ +sha256:[0-9a-f]+\ +1\.1\.0\  ]]
	run -0 mlctl show iris:1.2.0
	[[ "$output" == *"aliases:     production (before: 1.1.0)"* ]]
	run -0 mlctl rollback iris production --reason "p95 regression"
	[ "$output" = "iris:production -> 1.1.0, was 1.2.0 (tag iris#production#4), rolled back" ]
	run -0 mlctl alias list iris --json
	[[ "$output" == *'"before": "1.0.0"'* ]]
	run -0 mlctl rollback iris production
	[ "$output" = "iris:production -> 1.0.0, was 1.1.0 (tag iris#production#5), rolled back" ]
	run -3 --separate-stderr mlctl rollback iris production
	[ "$stderr" = "mlctl: iris:production held no version before 1.0.0: nothing to roll back to; see 'mlctl history iris --alias production'" ]
	run -0 mlctl history iris --alias production --type rollback
	[ "${#lines[@]}" = 3 ]
	[[ "${lines[1]}" == *" rollback "*"1.1.0 -> 1.0.0"* ]]
	# a move after rollbacks goes on the stack again
	mlctl promote iris:1.2.0 production -q
	run -0 mlctl rollback iris production
	[[ "$output" == "iris:production -> 1.0.0, was 1.2.0"* ]]
	# the version before deprecated: refused, nothing moved
	mlctl promote iris:1.1.0 production -q
	mlctl deprecate iris:1.0.0 -q
	run -1 --separate-stderr mlctl rollback iris production
	[ "$stderr" = "mlctl: iris:production held 1.0.0 before 1.1.0, but it is deprecated; undeprecate it, or move the alias with 'mlctl alias set'" ]
	run -3 mlctl rollback iris canary
	run -3 mlctl rollback nosuch production
	run -0 gto_check
}

@test "two promotions of one alias at the same moment: one wins, the other exits 4" {
	three
	mlctl promote iris:1.0.0 production -q
	# hold the write lock while both look at the alias, then let them race for it
	mkfifo hold
	sqlite3 "$MLCTL_REGISTRY/mlctl.db" < hold &
	lock=$!
	exec 7>hold
	echo 'BEGIN IMMEDIATE;' >&7
	sleep 0.5
	{ rc=0; mlctl promote iris:1.1.0 production --reason A > a.out 2> a.err || rc=$?; echo $rc > a.rc; } &
	{ rc=0; mlctl promote iris:1.2.0 production --reason B > b.out 2> b.err || rc=$?; echo $rc > b.rc; } &
	sleep 1.5
	echo 'COMMIT;' >&7
	exec 7>&-
	wait
	[ "$(cat a.rc b.rc | sort | tr '\n' ' ')" = "0 4 " ]
	cat a.err b.err | grep -q "moved to 1\.[12]\.0 while this promotion was checked (another promotion won)"
	run -0 mlctl history iris --alias production --type promote
	[ "${#lines[@]}" = 3 ]
	run -0 mlctl registry verify
}

@test "policies, approvals, promotions and rollbacks survive reindex, every query the same" {
	three
	prod_policy
	mlctl promote iris:1.1.0 staging -q
	mlctl validate iris:1.1.0 --record -q
	as ann mlctl approve iris:1.1.0 production -q
	as bob mlctl approve iris:1.1.0 production -q
	mlctl promote iris:1.1.0 production -q
	mlctl promote iris:1.2.0 production --force --reason why -q
	mlctl rollback iris production -q
	mlctl deprecate iris:1.0.0 -q
	q() {
		mlctl policy list --json
		mlctl alias list --json
		mlctl history iris --json
		mlctl versions iris --json | grep -v created
		sqlite3 "$MLCTL_REGISTRY/mlctl.db" 'SELECT model, alias, version, digest, policy_digest, actor FROM approvals ORDER BY id'
		git -C "$MLCTL_REGISTRY/index.git" for-each-ref refs/tags --format='%(refname) %(objectname)'
	}
	before=$(q)
	run -0 mlctl registry reindex
	[ "$(q)" = "$before" ]
	run -0 gto_check
	run -0 mlctl registry verify
}
