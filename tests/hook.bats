#!/usr/bin/env bats
# mlctl hook: Standard Webhooks for the registry's events, checked by a
# receiver on 127.0.0.1 that verifies each signature with npm's
# standardwebhooks (tests/fixtures/hook-receiver.js); an outbox in the
# database, sent at the end of the command that made the event, retried
# by 'mlctl hook deliver'.

load helpers

RECEIVER=$BATS_TEST_DIRNAME/fixtures/hook-receiver.js

# receiver [PLAN]: start one; its URL in $HOOK_URL, its log in $RX
receiver() {
	RX=$BATS_TEST_TMPDIR/rx.log
	: > "$RX"
	rm -f "$BATS_TEST_TMPDIR/rx.port"
	node "$RECEIVER" "$BATS_TEST_TMPDIR/rx.port" "$RX" "$HOOK_SECRET" "${1:-}" 3>&- &
	RX_PID=$!
	for _ in $(seq 100); do [ -s "$BATS_TEST_TMPDIR/rx.port" ] && break; sleep 0.05; done
	HOOK_URL="http://127.0.0.1:$(cat "$BATS_TEST_TMPDIR/rx.port")/hook"
}

teardown() {
	[ -z "${RX_PID:-}" ] || { kill "$RX_PID" 2>/dev/null; wait "$RX_PID" 2>/dev/null; } || true
}

# rx FIELD...: the receiver's log lines as python sees them
rx() {
	"$PY" - "$RX" "$@" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    b = json.loads(e["body"])
    print(e["ok"], e["answered"], b["entity"] + "." + b["action"],
          *[str(b["data"].get(k)) for k in sys.argv[2:]])
PY
}

hook_id() {
	mlctl hook list --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["hooks"][0]["id"])'
}

setup_file() {
	command -v node >/dev/null || skip "node is not installed"
	[ -d "$BATS_TEST_DIRNAME/node/node_modules/standardwebhooks" ] ||
		skip "standardwebhooks is not installed (scripts/install-deps --with-node)"
}

@test "each event sends a signed webhook at the command's end; the reference library verifies it" {
	export HOOK_SECRET="whsec_$(head -c 32 /dev/urandom | base64 -w0)"
	receiver
	make_project p demo 1.0.0
	mlctl push p -q
	run -0 mlctl hook add "$HOOK_URL" --secret-env HOOK_SECRET
	[[ "$output" =~ ^hook\ [0-9a-f]{16}\ added:\ http://127\.0\.0\.1: ]]
	next_version p 1.1.0
	mlctl push p -q
	mlctl alias set demo:1.0.0 production --reason "CHG-1" -q
	mlctl promote demo:1.1.0 production --reason "CHG-2" -q
	mlctl alias rm demo production -q
	mlctl deprecate demo:1.0.0 --reason leaked -q
	mlctl policy set demo staging --approvals 1 -q
	MLCTL_ACTOR="Ann <ann@example.com>" mlctl approve demo:1.1.0 staging -q
	mlctl validate demo:1.1.0 --record -q
	run -0 rx name version alias old new via reason actor
	[ "${lines[0]}" = "True 204 model_version.created demo 1.1.0 None None None None None Test Runner <ci@example.com>" ]
	[ "${lines[1]}" = "True 204 model_version_alias.created demo 1.0.0 production None 1.0.0 None CHG-1 Test Runner <ci@example.com>" ]
	[ "${lines[2]}" = "True 204 model_version_alias.created demo 1.1.0 production 1.0.0 1.1.0 promote CHG-2 Test Runner <ci@example.com>" ]
	[ "${lines[3]}" = "True 204 model_version_alias.deleted demo 1.1.0 production 1.1.0 None None None Test Runner <ci@example.com>" ]
	[ "${lines[4]}" = "True 204 model_version.deprecated demo 1.0.0 None None None None leaked Test Runner <ci@example.com>" ]
	[ "${lines[5]}" = "True 204 policy.updated demo None staging None None None None Test Runner <ci@example.com>" ]
	[ "${lines[6]}" = "True 204 approval.created demo 1.1.0 staging None None None None Ann <ann@example.com>" ]
	[ "${lines[7]}" = "True 204 model_version_record.created demo 1.1.0 None None None None None Test Runner <ci@example.com>" ]
	[ "${#lines[@]}" = 8 ]
	# the headers, as the spec has them: a uuid id, unix seconds, the body MLflow's shape
	"$PY" - "$RX" <<'PY'
import json, re, sys, time
for line in open(sys.argv[1]):
    e = json.loads(line)
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", e["id"]), e
    assert abs(int(e["timestamp"]) - time.time()) < 600, e
    b = json.loads(e["body"])
    assert set(b) == {"entity", "action", "timestamp", "data"} and b["timestamp"].endswith("Z"), b
PY
	run -0 mlctl hook log
	[ "${#lines[@]}" = 9 ]
	[[ "${lines[1]}" =~ \ model_version_record\.created\ +delivered\ +1\ +204 ]]
	# the secret is nowhere: not in git, the database, or any output
	! grep -rqF -- "${HOOK_SECRET#whsec_}" "$MLCTL_REGISTRY" || false
	! git -C "$MLCTL_REGISTRY/index.git" log -p --all | grep -qF -- "${HOOK_SECRET#whsec_}" || false
}

@test "a wrong secret is refused by the receiver's check (so the check can fail), and given up" {
	export HOOK_SECRET="whsec_$(head -c 32 /dev/urandom | base64 -w0)"
	receiver
	make_project p demo 1.0.0
	mlctl push p -q
	mlctl hook add "$HOOK_URL" --secret-env OTHER_SECRET -q
	OTHER_SECRET="whsec_$(head -c 32 /dev/urandom | base64 -w0)" run -0 --separate-stderr \
		mlctl alias set demo:1.0.0 production
	[[ "$stderr" == *"webhook "*" given up after 1 try: $HOOK_URL answered 401"* ]]
	run -0 rx
	[ "$output" = "False 401 model_version_alias.created" ]
	run -0 mlctl hook log --json
	[[ "$output" == *'"state": "failed"'* && "$output" == *'"status": 401'* ]]
}

@test "408, 429, 503 and a dead receiver are retried with backoff, honouring Retry-After; hook deliver drains" {
	export HOOK_SECRET="whsec_$(head -c 32 /dev/urandom | base64 -w0)"
	receiver "503r1,429r1,408"
	make_project p demo 1.0.0
	mlctl push p -q
	mlctl hook add "$HOOK_URL" --secret-env HOOK_SECRET --events model_version_alias.created -q
	run -0 --separate-stderr mlctl alias set demo:1.0.0 production
	[ "$output" = "demo:production -> 1.0.0 (tag demo#production#1)" ]
	[[ "$stderr" == *"1 webhook not delivered yet (see 'mlctl hook log'); 'mlctl hook deliver' sends it"* ]]
	run -0 mlctl hook deliver
	[ "$output" = "delivered 1, given up 0, still pending 0" ]
	run -0 rx
	[ "$output" = "$(printf '%s\n' 'True 503 model_version_alias.created' 'True 429 model_version_alias.created' 'True 408 model_version_alias.created' 'True 204 model_version_alias.created')" ]
	# one message: the same webhook-id on every try; Retry-After: 1 waited for
	"$PY" - "$RX" <<'PY'
import json, sys
e = [json.loads(l) for l in open(sys.argv[1])]
assert len({x["id"] for x in e}) == 1, e
t = [int(x["timestamp"]) for x in e]
assert t[1] - t[0] >= 1 and t[2] - t[1] >= 1, t
PY
	# the receiver gone: the event stands, the message waits
	kill "$RX_PID"
	wait "$RX_PID" 2>/dev/null || true
	RX_PID=
	run -0 --separate-stderr mlctl alias set demo:1.0.0 staging
	run -0 mlctl alias list demo
	[[ "$output" == *staging* ]]
	run -0 mlctl hook deliver --max-wait 0
	[ "$output" = "delivered 0, given up 0, still pending 1" ]
	run -0 mlctl hook log -n 1
	[[ "${lines[1]}" == *"pending"*"Connection refused"* || "${lines[1]}" == *"pending"*"connect"* ]]
}

@test "an unset secret variable keeps the message waiting; the events never fail for a webhook" {
	export HOOK_SECRET="whsec_$(head -c 32 /dev/urandom | base64 -w0)"
	receiver
	make_project p demo 1.0.0
	mlctl push p -q
	run -0 --separate-stderr mlctl hook add "$HOOK_URL" --secret-env NOT_SET_HERE
	[ "$stderr" = "note: NOT_SET_HERE is not set here; a command that sends a webhook needs it in its environment" ]
	run -0 --separate-stderr mlctl alias set demo:1.0.0 production
	[[ "$stderr" == *"not sent: the secret's environment variable NOT_SET_HERE is not set"* ]]
	[ ! -s "$RX" ]
	NOT_SET_HERE=$HOOK_SECRET run -0 mlctl hook deliver
	[ "$output" = "delivered 1, given up 0, still pending 0" ]
	run -0 rx
	[ "$output" = "True 204 model_version_alias.created" ]
}

@test "hook test, list, rm; hooks are events that sync and reindex, the outbox survives a reindex" {
	export HOOK_SECRET="whsec_$(head -c 32 /dev/urandom | base64 -w0)"
	receiver
	make_project p demo 1.0.0
	mlctl push p -q
	mlctl hook add "$HOOK_URL" --secret-env HOOK_SECRET --events model_version.created \
		--events model_version_alias.created,approval.created --reason "CI gate" -q
	id=$(hook_id)
	run -0 mlctl hook list
	[[ "${lines[1]}" =~ ^$id\ +http://127\.0\.0\.1:[0-9]+/hook\ +HOOK_SECRET\ +model_version\.created,model_version_alias\.created,approval\.created$ ]]
	run -0 mlctl hook test "$id"
	[ "$output" = "delivered 1, given up 0, still pending 0" ]
	run -0 rx hook
	[ "$output" = "True 204 hook.test $id" ]
	run -0 git -C "$MLCTL_REGISTRY/index.git" show "main:hooks/$id.json"
	[[ "$output" == *'"secret_env":"HOOK_SECRET"'* ]]
	# a message waiting when the database is rebuilt is still there after
	MLCTL_HOOK_BUDGET=0 mlctl alias set demo:1.0.0 production -q
	run -0 mlctl registry reindex
	run -0 mlctl hook list --json
	[[ "$output" == *"\"id\": \"$id\""* ]]
	run -0 mlctl hook deliver
	[ "$output" = "delivered 1, given up 0, still pending 0" ]
	run -0 mlctl hook rm "$id" --reason "moved to another CI"
	run -0 --separate-stderr mlctl hook list
	[ "$stderr" = "no hooks; add one with 'mlctl hook add URL --secret-env VAR'" ]
	mlctl alias set demo:1.0.0 staging -q
	# removed: it hears of nothing more
	[ "$(wc -l < "$RX")" = 2 ]
}

@test "bad hook commands are clear errors and change nothing" {
	make_project p demo 1.0.0
	mlctl push p -q
	before=$(registry_state)
	run -2 --separate-stderr mlctl hook add ftp://x/y --secret-env S
	[ "$stderr" = "mlctl: 'ftp://x/y' is not an http(s) URL; give the receiver's URL, such as https://ci.example.com/hook" ]
	run -2 --separate-stderr mlctl hook add https://x/y
	[[ "$stderr" == "mlctl: 'hook add' needs --secret-env VAR"* ]]
	run -2 mlctl hook add https://x/y --secret-env 'A-B'
	run -2 mlctl hook add http:// --secret-env S
	run -2 mlctl hook add https:///hook --secret-env S
	run -2 --separate-stderr mlctl hook add https://ci:s3cret@ci.example.com/hook --secret-env S
	[[ "$stderr" == "mlctl: the hook URL holds credentials (user@ or user:password@), which would be kept in the registry's git"* ]]
	run -2 --separate-stderr mlctl hook add https://x/y --secret-env S --events model.pushed
	[[ "$stderr" == "mlctl: --events: 'model.pushed' is not an event name"* ]]
	run -2 mlctl hook frob
	run -2 mlctl hook rm
	run -2 mlctl hook list extra
	run -2 mlctl hook deliver --max-wait soon
	run -2 mlctl hook log -n 0
	run -3 --separate-stderr mlctl hook rm 0123456789abcdef
	[ "$stderr" = "mlctl: no hook '0123456789abcdef'; see 'mlctl hook list'" ]
	run -3 mlctl hook test 0123456789abcdef
	[ "$(registry_state)" = "$before" ]
}

@test "a hook URL with a space, a control character or a byte that is not ASCII is exit 2, nothing kept" {
	make_project p
	mlctl push p -q
	for url in $'https://ci.example.com/h\xffook' 'https://ci.example.com/a b' $'https://ci.example.com/\x01' 'https://ci.example.com/é'; do
		run -2 --separate-stderr mlctl hook add "$url" --secret-env HOOK_SECRET
		[ "$stderr" = "mlctl: the hook URL holds a space, a control character or a byte that is not ASCII; percent-encode it (%20, %C3%A9…)" ]
	done
	run -0 mlctl hook list --json
	[ "$(echo "$output" | jq '.hooks | length')" = 0 ]
	run -0 mlctl hook add 'https://ci.example.com/%C3%A9' --secret-env HOOK_SECRET -q
}
