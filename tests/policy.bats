#!/usr/bin/env bats
# mlctl policy set|show|list|rm: the rules of an alias that promote checks,
# refused up front when malformed (an unknown metric or requirement, a
# threshold that is not a decimal number), kept as events in git.

load helpers

@test "policy set, show, list and rm; a policy naming an unknown metric is refused up front" {
	three
	run -0 mlctl policy set iris production --require validated --require smoke-passed \
		--gate 'accuracy>=0.93' --gate-vs-current 'accuracy>=-0.005' --approvals 2 --from staging
	[ "$output" = "iris:production policy: validated, smoke-passed, accuracy>=0.93, accuracy>=-0.005 vs current, 2 approvals, from staging" ]
	run -0 mlctl policy show iris production
	[[ "$output" == *"require:     smoke-passed"* && "$output" == *"from:        staging"* ]]
	run -0 mlctl policy show iris production --json
	/usr/bin/python3 -c '
import json, sys
p = json.loads(sys.argv[1])["policy"]
assert p["require"] == ["smoke-passed", "validated"] and p["gates"] == ["accuracy>=0.93"], p
assert p["gates_vs_current"] == ["accuracy>=-0.005"] and p["approvals"] == 2 and p["from"] == "staging", p
assert p["digest"].startswith("sha256:") and p["actor"].startswith("Test Runner"), p' "$output"
	run -0 mlctl policy list
	[[ "${lines[1]}" =~ ^iris\ +production\ +smoke-passed,\ validated ]]
	# the same rules again: nothing recorded
	before=$(registry_state)
	run -0 mlctl policy set iris production --require smoke-passed --require validated \
		--gate 'accuracy>=0.93' --gate-vs-current 'accuracy>=-0.005' --approvals 2 --from staging
	[ "$output" = "iris:production has this policy already" ]
	# and spelled otherwise: the gates are kept in one spelling
	run -0 mlctl policy set iris production --require validated --require smoke-passed \
		--gate ' accuracy >= 0.930' --gate-vs-current 'accuracy>=-5e-3' --approvals 2 --from staging
	[ "$output" = "iris:production has this policy already" ]
	[ "$(registry_state)" = "$before" ]
	run -2 --separate-stderr mlctl policy set iris production --gate 'f1>=0.9'
	[ "$stderr" = "mlctl: --gate 'f1>=0.9' names metric 'f1', which no version of 'iris' has; see 'mlctl show iris'" ]
	run -2 mlctl policy set iris production --gate-vs-current 'f1>=0'
	run -2 mlctl policy set iris production --gate 'accuracy=>0.9'
	# thresholds are decimal numbers: nan would never pass, inf always
	for bad in 'accuracy>=nan' 'accuracy<=inf' 'accuracy>=-nan' 'accuracy>=0x1p-1' 'accuracy>=1e999'; do
		run -2 mlctl policy set iris production --gate "$bad"
	done
	run -2 mlctl policy set iris production --require reviewed
	run -2 mlctl policy set iris production --from production
	run -2 mlctl policy set iris production --approvals -1
	run -2 mlctl policy set iris Production
	run -3 mlctl policy set nosuch production
	[ "$(registry_state)" = "$before" ]
	run -0 mlctl policy rm iris production --reason "moving to a new scheme"
	run -3 mlctl policy show iris production
	run -3 mlctl policy rm iris production
	run -0 mlctl history iris --type policy
	[ "${#lines[@]}" = 3 ]
	# a gate given twice is kept once
	run -0 mlctl policy set iris canary --gate 'accuracy >=  0.900' --gate 'accuracy>=0.9'
	run -0 mlctl policy show iris canary --json
	[ "$(echo "$output" | jq -c '.policy.gates')" = '["accuracy>=0.9"]' ]
	# set with no reason: the line ends with who set it
	run -0 mlctl policy show iris canary
	[[ "$output" == *"set:"*" by Test Runner <ci@example.com>"* ]]
	! grep -q ' $' <<< "$output" || false
	mlctl policy rm iris canary -q
}
