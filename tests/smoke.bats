#!/usr/bin/env bats
# mlctl smoke: real models answer their cases; broken ones fail with the
# right message, exit 1, and leave no process behind.

load helpers

smoke_model() { # smoke_model KIND [DIR]
	sh "$FIXTURES/make-smoke-model.sh" "$1" "${2:-$1}"
}

# no process of the model may outlive the run: none may be left that runs in, or
# names, this test's folder (the model runs in its own folder below it)
no_leftovers() {
	local left="" p cwd
	sleep 0.2
	for p in /proc/[0-9]*; do
		cwd=$(readlink "$p/cwd" 2>/dev/null) || continue
		[[ "$cwd/" == "$BATS_TEST_TMPDIR/"* ]] && [ "${p#/proc/}" != "$$" ] &&
			[ "${p#/proc/}" != "$BASHPID" ] && left="$left ${p#/proc/}"
	done
	left="$left $(pgrep -f "$BATS_TEST_TMPDIR" | tr '\n' ' ')"
	[ -z "${left// /}" ] || { echo "left behind:"; ps -o pid,pgid,args -p "$(echo $left | tr ' ' ',')"; false; }
}

@test "the iris example (scikit-learn, exec) passes its cases and budgets" {
	cp -r "$BATS_TEST_DIRNAME/../examples/iris" iris
	/usr/bin/python3 iris/train.py >/dev/null
	run -0 mlctl smoke iris
	[ "${lines[0]}" = "RESULT  CASE        MEDIAN   DETAIL" ]
	[[ "${lines[1]}" =~ ^ok\ +setosa\ +[0-9.]+\ ms ]]
	[[ "$output" == *"budget p95_ms     ok: "* ]]
	[[ "$output" == *"budget max_rss_mb ok: "* ]]
	[[ "${lines[-1]}" == "passed: 5 cases, 0 failures in iris" ]]
	no_leftovers
}

@test "smoke runs a package (unpacked to a temporary folder) and a registry version" {
	smoke_model good m
	mlctl package m -o m.mlpkg -q
	run -0 mlctl smoke m.mlpkg
	[[ "${lines[-1]}" == "passed: 4 cases, 0 failures in m.mlpkg" ]]
	mlctl push m.mlpkg -q
	run -0 mlctl smoke smoke-good:1.0.0
	[[ "${lines[-1]}" == "passed: 4 cases, 0 failures in smoke-good:1.0.0" ]]
	# the unpacked folders and the logs are gone (in a TMPDIR of this test's own)
	mkdir own-tmp
	TMPDIR=$PWD/own-tmp run -0 mlctl smoke m.mlpkg
	TMPDIR=$PWD/own-tmp run -0 mlctl smoke smoke-good:1.0.0
	[ -z "$(ls -A own-tmp)" ]
	no_leftovers
}

@test "a wrong answer names the first difference" {
	smoke_model wrong
	run -1 mlctl smoke wrong
	[[ "$output" == *"FAIL    one-two  "*"output.sum: got 4, want 3 ± 0.001"* ]]
	[[ "${lines[-1]}" == "FAILED: 4 cases, 3 failures in wrong" ]]
}

@test "an answer just outside the tolerance fails" {
	smoke_model tolerance
	run -1 mlctl smoke tolerance
	[[ "$output" == *"output.sum: got 3.0011, want 3 ± 0.001"* ]]
}

@test "a model too slow for its p95 budget fails the budget" {
	smoke_model slow
	run -1 mlctl smoke slow
	# each answer sleeps 50 ms: p95 is at least that, however loaded the machine
	[[ "$output" =~ budget\ p95_ms\ +FAIL:\ ([0-9]+)\.[0-9]+,\ limit\ 20.00 ]]
	[ "${BASH_REMATCH[1]}" -ge 50 ]
	[[ "${lines[-1]}" == "FAILED: 4 cases, 1 failure in slow" ]]
}

@test "a model that hangs times out, is killed, and leaves nothing" {
	smoke_model hang
	run -1 mlctl smoke hang
	[[ "$output" =~ FAIL\ +one-two\ +-\ +no\ answer\ within\ 500\ ms ]]
	[[ "$output" == *"not run: the model stopped answering (no answer within 500 ms)"* ]]
	no_leftovers
}

@test "a model that crashes after two cases says how it died" {
	smoke_model crash2
	run -1 mlctl smoke crash2
	[[ "$output" =~ ok\ +one-two ]]
	[[ "$output" =~ ok\ +floats ]]
	[[ "$output" =~ FAIL\ +three\ +-\ +the\ model\ was\ killed\ by\ signal\ 11\ \(Segmentation\ fault\) ]]
	[[ "$output" =~ FAIL\ +refuses\ +-\ +not\ run:\ the\ model\ was\ killed\ by\ signal\ 11 ]]
	no_leftovers
}

@test "garbage on stdout fails the case and shows the line" {
	smoke_model garbage
	run -1 mlctl smoke garbage
	[[ "$output" == *"the model printed a line that is not a JSON answer with an \"id\": 'loading weights...'"* ]]
	[[ "$output" == *"the model's log ("*"), last lines:"* ]]
}

@test "a model that exits at start: its exit code and the tail of its log" {
	smoke_model exitstart
	run -1 mlctl smoke exitstart
	[[ "$output" =~ FAIL\ +one-two\ +-\ +the\ model\ exited\ with\ code\ 2 ]]
	[[ "$output" == *"no GPU found, giving up"* ]]
	no_leftovers
}

@test "a model that eats memory past max_rss_mb fails the budget" {
	smoke_model memory
	run -1 mlctl smoke memory
	[[ "$output" =~ budget\ max_rss_mb\ FAIL:\ [0-9.]+,\ limit\ 100.00 ]]
	no_leftovers
}

@test "the memory of a native model that answers at once and exits at once is measured" {
	smoke_model good n
	cc -O2 -o n/native "$FIXTURES/native-model.c"
	"$PY" - n/mlctl.json <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["smoke"].update({"command": ["./native", "80"], "budget": {"max_rss_mb": 60}})
json.dump(m, open(sys.argv[1], "w"))
PY
	printf '{"name": "a", "input": [1, 2], "expect": {"sum": 3}}\n' > n/smoke/cases.jsonl
	run -1 mlctl smoke n
	[[ "$output" =~ budget\ max_rss_mb\ FAIL:\ 8[0-9]\.[0-9]+,\ limit\ 60\.00 ]]
	no_leftovers
}

@test "a model that ignores SIGTERM is killed after the grace period" {
	smoke_model ignoreterm
	run -0 mlctl smoke ignoreterm
	no_leftovers
}

@test "children the model starts are stopped with it" {
	smoke_model child
	run -0 mlctl smoke child
	no_leftovers
}

@test "expect_error: a model that answers an output instead fails the case" {
	smoke_model noerror
	run -1 mlctl smoke noerror
	[[ "$output" == *"FAIL    refuses  "*"answered an output, but the case expects an error"* ]]
}

@test "expect_shape, expect_dtype and the signature's outputs are checked" {
	smoke_model good
	cat > good/smoke/cases.jsonl <<'JSONL'
{"name": "shape", "input": [1, 2], "expect_shape": {"items": [3]}}
{"name": "dtype", "input": [1, 2], "expect_dtype": {"items": "string"}}
{"name": "whole", "input": [1, 2], "expect_shape": [2]}
JSONL
	sed -i 's|"shape": \[-1\]|"shape": [-1, 1]|' good/mlctl.json
	run -1 mlctl smoke good
	[[ "$output" == *"FAIL    shape  "*"output.items: shape [2], want [3]"* ]]
	[[ "$output" == *"FAIL    dtype  "*"output.items: values are not all string"* ]]
	[[ "$output" == *"FAIL    whole  "*"output: shape [], want [2]"* ]]
}

@test "--json and --junit report cases and budgets" {
	smoke_model slow
	run -1 mlctl smoke slow --json --junit smoke.xml --repeat 2 --warmup 0
	[[ "$output" == *'"passed": false'* ]]
	[[ "$output" == *'"runs": 6'* ]]
	[[ "$output" == *'"name": "p95_ms"'* ]]
	/usr/bin/python3 - smoke.xml <<'PY'
import sys, xml.etree.ElementTree as ET
suite = ET.parse(sys.argv[1]).getroot().find("testsuite")
cases = suite.findall("testcase")
assert len(cases) == 5 and suite.get("failures") == "1", suite.attrib
failed = [c for c in cases if c.find("failure") is not None]
assert failed[0].get("name") == "p95_ms" and failed[0].get("classname") == "mlctl.smoke.budget"
PY
}

@test "a model with no smoke section is exit 2 (no_smoke in JSON), not a failed run" {
	make_project p
	run -2 --separate-stderr mlctl smoke p
	[ "$stderr" = "mlctl: model 'demo' has no \"smoke\" section in its mlctl.json, so there is nothing to run; add one with runtime, command and cases (see docs/mlctl-smoke.md)" ]
	[ -z "$output" ]
	run -2 --separate-stderr mlctl smoke p --json
	/usr/bin/python3 -c '
import json, sys
e = json.loads(sys.argv[1])["error"]
assert (e["exit"], e["code"]) == (2, "no_smoke"), e' "$output"
	# the same for a baseline without one, before anything runs
	smoke_model good g
	run -2 --separate-stderr mlctl smoke g --baseline p
	[[ "$stderr" == "mlctl: model 'demo' has no \"smoke\" section"* ]]
}

@test "bad smoke set-ups are clear errors" {
	smoke_model good g
	run -1 --separate-stderr mlctl smoke g --cases nowhere.jsonl
	[[ "$stderr" == "mlctl: smoke cases 'g/nowhere.jsonl' are missing"* ]]
	echo 'not json' > g/smoke/cases.jsonl
	run -1 --separate-stderr mlctl smoke g
	[[ "$stderr" == "mlctl: g/smoke/cases.jsonl line 1: not a JSON object with an \"input\"; fix the case" ]]
	"$PY" - g/mlctl.json <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["smoke"]["budget"] = {"p90_ms": 5}
json.dump(m, open(sys.argv[1], "w"))
PY
	run -1 --separate-stderr mlctl smoke g
	[[ "$stderr" == "mlctl: smoke.budget.p90_ms is not a budget; use p50_ms, p95_ms, p99_ms, startup_ms or max_rss_mb" ]]
	sed -i 's/"p90_ms": 5/"p95_ms": "fast"/' g/mlctl.json
	run -1 --separate-stderr mlctl smoke g
	[[ "$stderr" == "mlctl: smoke.budget.p95_ms must be a number >= 0" ]]
	sed -i 's/"budget"/"budgets"/' g/mlctl.json
	run -1 --separate-stderr mlctl smoke g
	[[ "$stderr" == "mlctl: smoke.budgets is not a smoke setting; see docs/mlctl-smoke.md"* ]]
	run -2 mlctl smoke g --repeat many
	run -2 mlctl smoke g --cases ../x
	run -3 mlctl smoke nosuch:1.0.0
	run -3 --separate-stderr mlctl smoke nosuch
	[ "$stderr" = "mlctl: no folder or package './nosuch' and no model 'nosuch': no registry at '$MLCTL_REGISTRY'; push a model first or pass --registry DIR" ]
	run -3 --separate-stderr mlctl smoke g --baseline ./old
	[ "$stderr" = "mlctl: no folder or package './old'" ]
	# a baseline that is not there is found out before the model runs (this one would hang)
	smoke_model hang h
	sed -i 's/"timeout_ms": 500/"timeout_ms": 60000/' h/mlctl.json
	run -3 --separate-stderr timeout 20 "$MLCTL" smoke h --baseline nosuch:1.0.0
	[[ "$stderr" == "mlctl: no registry at '$MLCTL_REGISTRY'; push a model first or pass --registry DIR" ]]
	mlctl push h -q
	run -3 --separate-stderr timeout 20 "$MLCTL" smoke h --baseline smoke-hang:production
	[[ "$stderr" == "mlctl: alias 'production' of 'smoke-hang' does not exist"* ]]
}

@test "smoke NAME:VERSION --baseline NAME:production: the version behind the alias" {
	smoke_model good m
	mlctl push m -q
	mlctl alias set smoke-good:1.0.0 production -q
	smoke_model wrong m
	sed -i 's/"version": "1.0.0"/"version": "1.1.0"/; s/"name": "smoke-wrong"/"name": "smoke-good"/' m/mlctl.json
	mlctl push m -q
	run -1 mlctl smoke smoke-good:1.1.0 --baseline smoke-good:production --max-drift 0.5
	[[ "$output" == *"baseline smoke-good:production: p50 "* ]]
	[[ "$output" =~ FAIL\ +one-two\ +1\ +2/3 ]]
	# once production is 1.1.0 itself, there is no drift (its own cases still fail)
	mlctl alias set smoke-good:1.1.0 production -q
	run -1 mlctl smoke smoke-good:1.1.0 --baseline smoke-good:production --max-drift 0
	[[ "$output" == *"drift within the limit: limit 0"* ]]
	no_leftovers
}

@test "smoke and --baseline take the short digest that versions prints" {
	smoke_model good m
	mlctl push m -q
	short=$(mlctl versions smoke-good | awk '$1 == "1.0.0" { print $2 }')
	run -0 mlctl smoke "smoke-good@$short" --baseline "$short" --max-drift 0
	[[ "$output" == *"baseline $short: p50 "* ]]
	[[ "$output" == *"drift within the limit: limit 0"* ]]
	run -2 mlctl smoke m --baseline "smoke-good@${short:0:13}"
	no_leftovers
}

@test "an interrupted smoke run stops the model and exits 130-style" {
	smoke_model hang
	sed -i 's/"timeout_ms": 500/"timeout_ms": 60000/' hang/mlctl.json
	"$MLCTL" smoke hang > out.txt 2>&1 & pid=$!
	for i in $(seq 50); do pgrep -f "$BATS_TEST_TMPDIR/hang" >/dev/null && break; sleep 0.1; done
	sleep 0.3
	kill -TERM $pid
	status=0
	wait $pid || status=$?
	[ "$status" -eq 143 ]
	no_leftovers
	# with --json, the one document says so too
	"$MLCTL" smoke hang --json > out.json 2>/dev/null & pid=$!
	for i in $(seq 50); do pgrep -f "$BATS_TEST_TMPDIR/hang" >/dev/null && break; sleep 0.1; done
	sleep 0.3
	kill -TERM $pid
	status=0
	wait $pid || status=$?
	[ "$status" -eq 143 ]
	/usr/bin/python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))["error"]
assert (e["exit"], e["code"]) == (143, "interrupted"), e' out.json
	no_leftovers
}

@test "mlctl killed outright (SIGKILL): its keeper stops the model's whole group" {
	smoke_model childhang
	sed -i 's/"timeout_ms": 5000/"timeout_ms": 60000/' childhang/mlctl.json
	"$MLCTL" smoke childhang > out.txt 2>&1 & pid=$!
	# wait for the model (below mlctl's keeper) and the sleep it starts in its group
	model=""
	for i in $(seq 100); do
		keeper=$(pgrep -x mlctl-keeper -P "$pid" || true)
		[ -n "$keeper" ] && model=$(pgrep -f "python3 serve.py" -P "$keeper" || true)
		[ -n "$model" ] && [ -n "$(pgrep -g "$model" -x sleep || true)" ] && break
		sleep 0.1
	done
	[ -n "$(pgrep -g "$model" -x sleep)" ]
	kill -KILL "$pid"
	wait "$pid" || true
	for i in $(seq 50); do [ -z "$(pgrep -g "$model")" ] && break; sleep 0.1; done
	[ -z "$(pgrep -g "$model")" ] || { ps -o pid,pgid,args -g "$model"; false; }
}

# a daemon a failing test left behind must not outlive it
teardown() {
	local f
	for f in "$BATS_TEST_TMPDIR"/*/daemon.pid; do
		[ -s "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null
	done
	return 0
}

# daemon_pid DIR: the pid the model's daemon wrote, once it has
daemon_pid() {
	local i
	for i in $(seq 100); do [ -s "$1/daemon.pid" ] && break; sleep 0.1; done
	cat "$1/daemon.pid"
}

@test "a daemon the model starts (its own session, a double fork) is stopped with it" {
	smoke_model daemon
	run -0 mlctl smoke daemon
	[[ "${lines[-1]}" == "passed: 4 cases, 0 failures in daemon" ]]
	d=$(daemon_pid daemon)
	# the daemon left the model's group and session; it is gone all the same
	for i in $(seq 20); do kill -0 "$d" 2>/dev/null || break; sleep 0.1; done
	! kill -0 "$d" 2>/dev/null || { ps -o pid,ppid,pgid,sid,args -p "$d"; false; }
	# deaf to SIGTERM: KILL takes it
	smoke_model daemonterm
	run -0 mlctl smoke daemonterm
	d=$(daemon_pid daemonterm)
	for i in $(seq 20); do kill -0 "$d" 2>/dev/null || break; sleep 0.1; done
	! kill -0 "$d" 2>/dev/null || { ps -o pid,ppid,pgid,sid,args -p "$d"; false; }
}

@test "mlctl killed outright (SIGKILL) while the model hangs: its daemon goes too" {
	smoke_model daemonhang
	"$MLCTL" smoke daemonhang > out.txt 2>&1 & pid=$!
	d=$(daemon_pid daemonhang)
	[ -n "$d" ] && kill -0 "$d"
	sleep 0.3
	kill -KILL "$pid"
	wait "$pid" || true
	# TERM at once, KILL after the grace period (2 s)
	for i in $(seq 100); do kill -0 "$d" 2>/dev/null || break; sleep 0.1; done
	! kill -0 "$d" 2>/dev/null || { ps -o pid,ppid,pgid,sid,args -p "$d"; false; }
	no_leftovers
}

@test "http: the iris example behind http.server, started on a free port, passes" {
	cp -r "$BATS_TEST_DIRNAME/../examples/iris" iris
	/usr/bin/python3 iris/train.py >/dev/null
	/usr/bin/python3 - iris/mlctl.json <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["smoke"].update({"runtime": "http", "command": ["/usr/bin/python3", "serve_http.py", "{port}"],
                   "ready": "/health", "endpoint": "/predict", "output": "/predictions"})
json.dump(m, open(sys.argv[1], "w"))
PY
	run -0 mlctl smoke iris
	[[ "${lines[-1]}" == "passed: 5 cases, 0 failures in iris" ]]
	no_leftovers
}

@test "http: answers, errors (4xx) and the request template work" {
	smoke_model http-good
	run -0 mlctl smoke http-good --json
	[[ "$output" == *'"passed": true'* ]]
	[[ "$output" == *'"output": {
        "sum": 3,'* ]]
	no_leftovers
}

@test "http: a server that never becomes ready fails with the last status, and is stopped" {
	smoke_model http-neverready
	run -1 mlctl smoke http-neverready
	[[ "$output" =~ the\ model\ was\ not\ ready\ at\ http://127\.0\.0\.1:[0-9]+/ready\ within\ 2000\ ms\ \(last:\ HTTP\ 503\) ]]
	[[ "$output" == *"not run: the model never became ready"* ]]
	no_leftovers
}

@test "http: a server that exits at start says how, with its log" {
	smoke_model http-exitstart
	run -1 mlctl smoke http-exitstart
	[[ "$output" == *"the model exited with code 3 before it was ready"* ]]
	[[ "$output" == *"port already in use"* ]]
	no_leftovers
}

@test "http: a server that is already running is tested at its url" {
	smoke_model http-good srv
	port=$(free_port)
	(cd srv && KIND=http-good exec python3 serve_http.py "$port") & server=$!
	"$PY" - srv/mlctl.json "$port" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
del m["smoke"]["command"]
m["smoke"]["url"] = "http://127.0.0.1:%s/" % sys.argv[2]
json.dump(m, open(sys.argv[1], "w"))
PY
	run -0 mlctl smoke srv
	[[ "${lines[-1]}" == "passed: 4 cases, 0 failures in srv" ]]
	kill "$server"
	wait "$server" || true
}

@test "smoke REF --record stores the result for the version's digest" {
	smoke_model good m
	mlctl push m -q
	run -0 --separate-stderr mlctl smoke smoke-good:1.0.0 --record
	[[ "$stderr" == "recorded for smoke-good:1.0.0 in models/smoke-good/records/"*"/smoke-"*".json" ]]
	run -0 mlctl show smoke-good
	[[ "$output" == *"record:      smoke passed "*"(0 errors, 0 warnings)"* ]]
	run -2 mlctl smoke m --record
	run -0 mlctl registry verify
}

@test "--update-expect writes the outputs into the cases file; the next run passes" {
	smoke_model wrong
	printf '# sums, off by one on purpose\n' | cat - wrong/smoke/cases.jsonl > c && mv c wrong/smoke/cases.jsonl
	run -1 --separate-stderr mlctl smoke wrong --update-expect
	[[ "$stderr" == "wrote the outputs of 3 cases into wrong/smoke/cases.jsonl as expectations" ]]
	run -0 head -1 wrong/smoke/cases.jsonl
	[ "$output" = "# sums, off by one on purpose" ]
	grep -qF '"expect": {"sum": 4, "items": [1, 2]}, "tolerance": {"abs": 0.001}}' wrong/smoke/cases.jsonl
	grep -qF '{"name": "refuses", "input": "nonsense", "expect_error": true}' wrong/smoke/cases.jsonl
	run -0 mlctl smoke wrong
	run -2 mlctl smoke nosuch:1.0.0 --update-expect
}

@test "--update-expect changes only expect, byte for byte, in shortest floats; float32 outputs get a fitting tolerance" {
	smoke_model good g
	# comments, blank lines, compact and spaced keys in any order, other keys, a CRLF
	# line, and no newline at the end
	{
		printf '# sums of the input\n\n'
		printf '{"name": "one-two", "input": [1, 2], "expect": {"sum": 0}, "tolerance": {"abs": 0.001}}\n'
		printf '  {"input":[0.1,0.2],"name":"tenths","expect_shape":{"items":[2]}}  \n'
		printf '   {"name": "refuses",   "input": "nonsense", "expect_error": true}\n'
		printf '{"expect_dtype": {"sum": "float64"}, "name": "crlf", "input": [3, 4]}\r\n'
		printf '# a million and a half\n'
		printf '{"name": "big", "input": [1e6, 0.5]}'
	} > g/smoke/cases.jsonl
	run -1 --separate-stderr mlctl smoke g --update-expect
	[ "$stderr" = "wrote the outputs of 4 cases into g/smoke/cases.jsonl as expectations" ]
	# the signature says items is float32: abs is 1e-6 of the largest item, rel 1e-5
	{
		printf '# sums of the input\n\n'
		printf '{"name": "one-two", "input": [1, 2], "expect": {"sum": 3, "items": [1, 2]}, "tolerance": {"abs": 0.001}}\n'
		printf '  {"input":[0.1,0.2],"expect":{"sum":0.30000000000000004,"items":[0.1,0.2]},"tolerance":{"abs":2e-07,"rel":1e-05},"name":"tenths","expect_shape":{"items":[2]}}  \n'
		printf '   {"name": "refuses",   "input": "nonsense", "expect_error": true}\n'
		printf '{"expect_dtype": {"sum": "float64"}, "name": "crlf", "input": [3, 4], "expect": {"sum": 7, "items": [3, 4]}, "tolerance": {"abs": 4e-06, "rel": 1e-05}}\r\n'
		printf '# a million and a half\n'
		printf '{"name": "big", "input": [1e6, 0.5], "expect": {"sum": 1000000.5, "items": [1000000, 0.5]}, "tolerance": {"abs": 1, "rel": 1e-05}}'
	} > want.jsonl
	cmp g/smoke/cases.jsonl want.jsonl || diff want.jsonl g/smoke/cases.jsonl
	run -0 mlctl smoke g
	# again: the expectations are the same, and nothing else moves
	run -0 mlctl smoke g --update-expect -q
	cmp g/smoke/cases.jsonl want.jsonl
	# float64 outputs keep the default tolerance: no tolerance is written
	sed -i 's/"dtype": "float32"/"dtype": "float64"/' g/mlctl.json
	printf '{"name": "f64", "input": [0.1, 0.2]}\n' > g/smoke/cases.jsonl
	run -0 mlctl smoke g --update-expect -q
	[ "$(cat g/smoke/cases.jsonl)" = '{"name": "f64", "input": [0.1, 0.2], "expect": {"sum": 0.30000000000000004, "items": [0.1, 0.2]}}' ]
	# a case's own expect_dtype says float32 for the whole output
	printf '{"name": "f32", "input": [0.5, 2], "expect_dtype": "float32"}\n' > g/smoke/cases.jsonl
	run -0 mlctl smoke g --update-expect -q
	[ "$(cat g/smoke/cases.jsonl)" = '{"name": "f32", "input": [0.5, 2], "expect": {"sum": 2.5, "items": [0.5, 2]}, "tolerance": {"abs": 3e-06, "rel": 1e-05}, "expect_dtype": "float32"}' ]
}

@test "a case that checks nothing is a warning: on stderr, in --json and in --junit" {
	smoke_model good g
	cat > g/smoke/cases.jsonl <<'JSONL'
{"name": "checked", "input": [1, 2], "expect_shape": {"items": [2]}}
{"name": "unchecked", "input": [1, 2]}
{"name": "no-error-only", "input": [1, 2], "expect_error": false}
JSONL
	warning() { echo "g/smoke/cases.jsonl line $1: case '$2' checks nothing: it has no expect, expect_shape, expect_dtype or expect_error; add one (smoke --update-expect writes expect)"; }
	run -0 --separate-stderr mlctl smoke g --junit j.xml
	[ "$stderr" = "mlctl: warning: $(warning 2 unchecked)
mlctl: warning: $(warning 3 no-error-only)" ]
	[[ "${lines[-1]}" == "passed: 3 cases, 0 failures in g" ]]
	run -0 --separate-stderr mlctl smoke g -q
	[ -z "$stderr" ]
	run -0 --separate-stderr mlctl smoke g --json
	/usr/bin/python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert [c["warnings"] for c in d["cases"]] == [[], [sys.argv[2]], [sys.argv[3]]], d["cases"]' \
		"$output" "$(warning 2 unchecked)" "$(warning 3 no-error-only)"
	/usr/bin/python3 - j.xml "$(warning 2 unchecked)" <<'PY'
import sys, xml.etree.ElementTree as ET
suite = ET.parse(sys.argv[1]).getroot().find("testsuite")
out = {c.get("name"): c.findtext("system-out") for c in suite.findall("testcase")}
assert out["checked"] is None and out["unchecked"] == "warning: " + sys.argv[2], out
assert suite.get("failures") == "0", suite.attrib
PY
}

@test "a passing run leaves nothing in TMPDIR; a failing one only the log it names" {
	mkdir own-tmp
	export TMPDIR=$PWD/own-tmp
	smoke_model good g
	run -0 mlctl smoke g
	run -0 mlctl smoke g --json
	[[ "$output" == *'"log": ""'* ]]
	[ -z "$(ls -A own-tmp)" ]
	# a failure the model logged nothing about: no log to keep
	smoke_model wrong w
	run -1 mlctl smoke w
	[ -z "$(ls -A own-tmp)" ]
	# a model that says why it died: its log stays, and the report says where
	smoke_model exitstart x
	run -1 --separate-stderr mlctl smoke x
	log=$(ls own-tmp)
	[[ "$log" == mlctl-smoke-*.log ]]
	[[ "$output" == *"the model's log ($TMPDIR/$log), last lines:
no GPU found, giving up"* ]]
	rm own-tmp/*
	run -1 --separate-stderr mlctl smoke x --json
	log=$(ls own-tmp)
	[[ "$stderr" == *"; the model exited with code 2; its log is $TMPDIR/$log" ]]
	[[ "$output" == *"\"log\": \"$TMPDIR/$log\""* ]]
	[ "$(cat "own-tmp/$log")" = "no GPU found, giving up" ]
	rm own-tmp/*
	# a baseline's log is named nowhere: it goes, even when the baseline fails
	run -0 mlctl smoke g --baseline x
	[ -z "$(ls -A own-tmp)" ]
	no_leftovers
}

@test "--json: a failed run and a crashed model are one document with the error" {
	smoke_model crash2
	run -1 --separate-stderr mlctl smoke crash2 --json
	[ "$stderr" = "mlctl: 'crash2' failed its smoke test: 2 of 4 cases failed; the model was killed by signal 11 (Segmentation fault)" ]
	/usr/bin/python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["passed"] is False and len(d["cases"]) == 4, d
assert d["error"] == {"exit": 1, "code": "gate_failed", "exit_code": 1,
                      "message": sys.argv[2][len("mlctl: "):]}, d["error"]' "$output" "$stderr"
	smoke_model slow
	run -1 --separate-stderr mlctl smoke slow --json
	[ "$stderr" = "mlctl: 'slow' failed its smoke test: budget p95_ms failed" ]
	no_leftovers
}

@test "--baseline reports drift, label agreement and the latency ratio; --max-drift gates it" {
	smoke_model good new
	smoke_model wrong old
	run -1 mlctl smoke new --baseline old --max-drift 0.5
	[[ "$output" =~ baseline\ old:\ p50\ [0-9.]+\ ms\ against\ [0-9.]+\ ms\ \(latency\ ratio\ [0-9.]+\) ]]
	[[ "$output" =~ FAIL\ +one-two\ +1\ +2/3 ]]
	[[ "$output" =~ ok\ +refuses\ +no\ outputs ]]
	[[ "$output" == *"drift OVER the limit: limit 0.5"* ]]
	run -0 mlctl smoke new --baseline old --max-drift 1
	mlctl package old -o old.mlpkg -q
	mlctl push old.mlpkg -q
	run -1 mlctl smoke new --baseline smoke-wrong:1.0.0 --max-drift 0.5 --json
	[[ "$output" == *'"max_abs_diff": 1,'* ]]
	[[ "$output" == *'"latency_ratio":'* ]]
	run -0 mlctl smoke new --baseline new --max-drift 0
	run -2 mlctl smoke new --max-drift 1
	no_leftovers
}

@test "--baseline drift is a testcase per case in JUnit when gated, and goes into --record" {
	smoke_model good new
	smoke_model wrong old
	run -1 mlctl smoke new --baseline old --max-drift 0.5 --junit drift.xml
	/usr/bin/python3 - drift.xml <<'PY'
import sys, xml.etree.ElementTree as ET
suite = ET.parse(sys.argv[1]).getroot().find("testsuite")
drift = [c for c in suite.findall("testcase") if c.get("classname") == "mlctl.smoke.drift"]
assert [c.get("name") for c in drift] == ["one-two", "floats", "three", "refuses"], drift
failed = [c.get("name") for c in drift if c.find("failure") is not None]
assert failed == ["one-two", "floats", "three"], failed
assert "drifts by 1 from old, over the limit of 0.5" in drift[0].find("failure").get("message")
assert suite.get("failures") == "3" and suite.get("tests") == "9", suite.attrib
PY
	run -0 mlctl smoke new --baseline old --junit plain.xml
	! grep -q 'mlctl.smoke.drift' plain.xml || false
	mlctl push new -q
	run -1 mlctl smoke smoke-good:1.0.0 --baseline old --max-drift 0.5 --record -q
	run -0 mlctl show smoke-good
	[[ "$output" == *"record:      smoke failed "*"(3 errors, 0 warnings)"* ]]
}

@test "--budget sets, overrides and drops the manifest's budgets" {
	smoke_model good g
	run -1 mlctl smoke g --budget p50_ms=0 --budget startup_ms=100000
	[[ "$output" =~ budget\ p50_ms\ +FAIL:\ [0-9.]+,\ limit\ 0\.00 ]]
	[[ "$output" =~ budget\ startup_ms\ +ok:\ [0-9.]+,\ limit\ 100000\.00 ]]
	[[ "${lines[-1]}" == "FAILED: 4 cases, 1 failure in g" ]]
	smoke_model slow s
	run -1 mlctl smoke s
	run -0 mlctl smoke s --budget p95_ms=none --budget max_rss_mb=4096
	[[ "$output" != *"budget p95_ms"* ]]
	[[ "$output" == *"budget max_rss_mb ok: "*"limit 4096.00"* ]]
	run -2 --separate-stderr mlctl smoke g --budget p90_ms=5
	[[ "$stderr" == "mlctl: --budget 'p90_ms=5': give NAME=LIMIT with NAME one of p50_ms, p95_ms, p99_ms, startup_ms, max_rss_mb; see 'mlctl smoke --help'" ]]
	run -2 --separate-stderr mlctl smoke g --budget p95_ms=fast
	[[ "$stderr" == "mlctl: --budget p95_ms takes a number >= 0 (or 'none'), not 'fast'; see 'mlctl smoke --help'" ]]
	run -2 mlctl smoke g --budget p95_ms
}

@test "cases: expect_error may name the refusal; unknown keys and bad types are errors" {
	smoke_model good g
	cat > g/smoke/cases.jsonl <<'JSONL'
{"name": "right-reason", "input": "x", "expect_error": "list of numbers"}
{"name": "wrong-reason", "input": "x", "expect_error": "out of memory"}
JSONL
	run -1 mlctl smoke g
	[[ "$output" =~ ok\ +right-reason ]]
	[[ "$output" == *'FAIL    wrong-reason  '*'refused, but with "input must be a list of numbers", which does not contain "out of memory"'* ]]
	for bad in '{"input": [1], "expected": {"sum": 1}}|unknown key "expected"' \
		'{"input": [1], "expect_error": 3}|expect_error is true, or a text' \
		'{"input": [1], "expect_error": true, "expect": {"sum": 1}}|a case expects an error or an output, not both' \
		'{"input": [1], "tolerance": {"abs": -1}}|tolerance is {"abs": X, "rel": Y}' \
		'{"input": [1], "tolerance": 0.1}|tolerance is {"abs": X, "rel": Y}'; do
		printf '%s\n' "${bad%%|*}" > g/smoke/cases.jsonl
		run -1 --separate-stderr mlctl smoke g
		[[ "$stderr" == "mlctl: g/smoke/cases.jsonl line 1: ${bad#*|}"* ]] || { echo "$bad: $stderr"; false; }
	done
}

# ---- a second runtime family: ONNX under onnxruntime-node (npm) ----

NODE_MODULES=$BATS_TEST_DIRNAME/node/node_modules

# onnx_model KIND DIR: the ~35 MB classifier of make-onnx.py (built once per
# file), served by onnx-serve.js, with mlctl.json from `mlctl init` and a smoke section
onnx_model() {
	[ -d "$NODE_MODULES/onnxruntime-node" ] ||
		{ echo "onnxruntime-node is missing: run scripts/install-deps --with-node"; return 1; }
	if [ ! -f "$BATS_FILE_TMPDIR/$1/model.onnx" ]; then
		/usr/bin/python3 "$FIXTURES/make-onnx.py" "$1" "$BATS_FILE_TMPDIR/$1.tmp" &&
			mv "$BATS_FILE_TMPDIR/$1.tmp" "$BATS_FILE_TMPDIR/$1"
	fi
	cp -r "$BATS_FILE_TMPDIR/$1" "$2"
	cp "$FIXTURES/onnx-serve.js" "$2/serve.js"
	mlctl init "$2" --name "$1" -q
	/usr/bin/python3 - "$2/mlctl.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["license"] = "MIT"
m["smoke"] = {"runtime": "exec", "command": ["node", "serve.js"], "cases": "smoke/cases.jsonl",
              "warmup": 1, "repeat": 5, "budget": {"p95_ms": 1000, "max_rss_mb": 1024}}
json.dump(m, open(sys.argv[1], "w"), indent=2)
PY
}

@test "onnxruntime-node: a 35 MB ONNX classifier answers as numpy computes it" {
	onnx_model mlp m
	[ "$(stat -c %s m/model.onnx)" -gt 30000000 ]
	# init read the graph: the signature the outputs are checked against
	grep -q '"name": "label",' m/mlctl.json
	export NODE_PATH=$NODE_MODULES
	run -0 mlctl smoke m --env NODE_PATH
	[[ "$output" =~ ok\ +setosa\ +[0-9.]+\ ms ]]
	[[ "$output" =~ ok\ +batch\ +[0-9.]+\ ms ]]
	[[ "$output" =~ ok\ +three-features ]]
	[[ "$output" =~ budget\ max_rss_mb\ ok:\ [0-9.]+,\ limit\ 1024 ]]
	[[ "${lines[-1]}" == "passed: 5 cases, 0 failures in m" ]]
	run -0 mlctl smoke m --env NODE_PATH --json --repeat 1
	/usr/bin/python3 -c '
import json, sys
d = json.loads(sys.argv[1])
c = {x["name"]: x for x in d["cases"]}
assert c["batch"]["output"]["label"] == [0, 0, 1], c["batch"]
assert len(c["batch"]["output"]["probs"]) == 3 and abs(sum(c["setosa"]["output"]["probs"][0]) - 1) < 1e-5
assert d["peak_rss_mb"] > 30, d["peak_rss_mb"]' "$output"
	no_leftovers
}

@test "onnxruntime-node: without the runtime on NODE_PATH the model fails to start, and says why" {
	onnx_model mlp m
	unset NODE_PATH
	run -1 mlctl smoke m
	[[ "$output" == *"FAIL    setosa          -       the model exited with code 1"* ]]
	[[ "$output" == *"Cannot find module 'onnxruntime-node'"* ]]
	# the manifest's env is overridden by --env
	sed -i 's|"cases": "smoke/cases.jsonl",|&\n    "note": "x",|' m/mlctl.json
	/usr/bin/python3 - m/mlctl.json <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
del m["smoke"]["note"]
m["env"] = {"NODE_PATH": "/nonexistent"}
json.dump(m, open(sys.argv[1], "w"), indent=2)
PY
	run -1 mlctl smoke m
	run -0 mlctl smoke m --env NODE_PATH="$NODE_MODULES"
	run -2 --separate-stderr mlctl smoke m --env NO_SUCH_VARIABLE_HERE
	[[ "$stderr" == "mlctl: --env NO_SUCH_VARIABLE_HERE: mlctl has no NO_SUCH_VARIABLE_HERE in its environment to pass on; give --env NO_SUCH_VARIABLE_HERE=VALUE" ]]
	run -2 mlctl smoke m --env =x
	run -2 mlctl smoke m --env 1A=x
	no_leftovers
}

@test "onnxruntime-node: a drifted model fails its cases; the baseline measures and gates the drift" {
	onnx_model mlp m
	onnx_model mlp-drift d
	cp m/smoke/cases.jsonl d/smoke/cases.jsonl
	run -1 mlctl smoke d --env NODE_PATH="$NODE_MODULES"
	[[ "$output" =~ FAIL\ +setosa\ +[0-9.]+\ ms\ +output\.probs\[0\]\[0\]:\ got\ 0\.[0-9]+,\ want\ 0\.[0-9]+\ ±\ 0\.000[0-9]+ ]]
	[[ "$output" =~ ok\ +three-features ]]
	# accept the drifted outputs as its own expectations; then only the gate can fail it
	run -1 mlctl smoke d --env NODE_PATH="$NODE_MODULES" --update-expect -q
	run -0 mlctl smoke d --env NODE_PATH="$NODE_MODULES" --baseline m --max-drift 0.5
	[[ "$output" =~ ok\ +batch\ +0\.[0-9]+\ +6/6 ]]
	[[ "$output" == *"drift within the limit: limit 0.5"* ]]
	run -1 mlctl smoke d --env NODE_PATH="$NODE_MODULES" --baseline m --max-drift 0.001 --junit j.xml
	[[ "$output" =~ FAIL\ +setosa\ +0\.0[0-9]+\ +2/2 ]]
	grep -q 'classname="mlctl.smoke.drift" name="setosa"' j.xml
	grep -q 'over the limit of 0.001' j.xml
	no_leftovers
}

@test "onnxruntime-node: the ONNX model as a package and as a registry version, recorded" {
	onnx_model mlp m
	mlctl package m -o m.mlpkg -q
	run -0 mlctl smoke m.mlpkg --env NODE_PATH="$NODE_MODULES"
	[[ "${lines[-1]}" == "passed: 5 cases, 0 failures in m.mlpkg" ]]
	mlctl push m.mlpkg -q
	run -0 --separate-stderr mlctl smoke mlp:0.1.0 --env NODE_PATH="$NODE_MODULES" --record
	[[ "$stderr" == "recorded for mlp:0.1.0 in models/mlp/records/"* ]]
	run -0 mlctl show mlp
	[[ "$output" == *"record:      smoke passed "* ]]
	run -0 mlctl registry verify
	no_leftovers
}
