#!/usr/bin/env bats
# Large inputs: no loop may be quadratic in the size of an input, every long loop
# stops at SIGTERM, and a FIFO where a regular file belongs is an error, not a hang.
#
# No timings here (they are in 'make bench'): each command runs under timeout with
# a limit far above its linear time (seconds) and far below the quadratic one
# (minutes). Inputs are made by tests/load/gen.py.

load helpers

GEN=$BATS_TEST_DIRNAME/load/gen.py
N=100000

setup_file() {
	# one project of 100,000 artifacts (small files) and a 200,000-tensor file, shared
	/usr/bin/python3 "$BATS_TEST_DIRNAME/load/gen.py" project "$BATS_FILE_TMPDIR/big" 100000
	mkdir "$BATS_FILE_TMPDIR/st"
	/usr/bin/python3 "$BATS_TEST_DIRNAME/load/gen.py" safetensors \
		"$BATS_FILE_TMPDIR/st/model.safetensors" 200000
	cat > "$BATS_FILE_TMPDIR/st/mlctl.json" <<'JSON'
{"schema": "mlctl/v1", "name": "st", "version": "1.0.0",
 "artifacts": [{"path": "model.safetensors", "role": "model"}]}
JSON
}

# limited SECONDS CMD...: the command under timeout; 124 or 137 when it ran too long.
# A sanitizer build runs several times slower: 'make test SANITIZE=…' sets
# MLCTL_TEST_SLOW to the factor the limits stretch by.
limited() {
	local t=$(($1 * ${MLCTL_TEST_SLOW:-1}))
	shift
	timeout -s TERM -k 30 "$t" "$@"
}

# term_after_start PATTERN CMD...: start CMD, wait until it is working (PATTERN names
# a file it makes, or "" for a second), send SIGTERM; $status is its exit, 137 if it
# had to be killed because it did not stop within 10 s
term_after_start() {
	local pattern=$1 pid i
	shift
	"$@" >/dev/null 2>"$BATS_TEST_TMPDIR/term.err" &
	pid=$!
	for ((i = 0; i < 100; i++)); do
		if [ -n "$pattern" ]; then
			compgen -G "$pattern" >/dev/null && break
		elif ((i >= 2)); then
			break
		fi
		sleep 0.1
	done
	kill -0 "$pid" # still working when the signal comes
	kill -TERM "$pid"
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	status=0
	wait "$pid" || status=$?
}

@test "validate a project of 100,000 artifacts in linear time" {
	run -0 limited 60 "$MLCTL" validate "$BATS_FILE_TMPDIR/big" -q
}

@test "a repeated artifact among 3,000 is found once, by its name, as before" {
	/usr/bin/python3 "$GEN" project big 3000 --dup
	run -1 limited 60 "$MLCTL" validate big --json
	[ "$(grep -o '"MLV010"' <<<"$output" | wc -l)" -eq 1 ]
	[[ "$output" == *"artifact 'f/000/000000' is listed twice; remove one"* ]]
}

@test "package 100,000 artifacts, then validate the package of 100,000 entries" {
	run -0 limited 60 "$MLCTL" package "$BATS_FILE_TMPDIR/big" -o big.mlpkg -q
	run -0 tar -tf big.mlpkg
	[ "${#lines[@]}" -eq $((N + 1)) ]
	run -0 limited 60 "$MLCTL" validate big.mlpkg -q
}

@test "validate a safetensors file of 200,000 tensors in linear time" {
	run -0 limited 30 "$MLCTL" validate "$BATS_FILE_TMPDIR/st" -q
}

# one_file_project DIR FILE: a project whose one model artifact is FILE
one_file_project() {
	cat > "$1/mlctl.json" <<JSON
{"schema": "mlctl/v1", "name": "load", "version": "1.0.0", "license": "MIT",
 "artifacts": [{"path": "$2", "role": "model"}]}
JSON
}

@test "a safetensors header naming one tensor 30,000 times: one MLV110, in linear time" {
	mkdir d
	/usr/bin/python3 "$GEN" safetensors-dup d/model.safetensors 30000
	one_file_project d model.safetensors
	run -1 limited 10 "$MLCTL" validate d
	[ "$(grep -c "MLV110  header names tensor 'a' twice" <<<"$output")" = 1 ]
}

@test "pickles: 10,000,000 pickles in one file after a memo store, and 65,536 memo keys in one hash cluster, in linear time" {
	mkdir s m
	/usr/bin/python3 "$GEN" pickle-stops s/model.pkl 10000000
	one_file_project s model.pkl
	run -0 limited 5 "$MLCTL" validate s -q
	/usr/bin/python3 "$GEN" pickle-memo m/model.pkl 300000
	one_file_project m model.pkl
	run -0 limited 5 "$MLCTL" validate m -q
}

@test "ONNX: 100,000 graph inputs with as many initializers: init and validate in linear time" {
	mkdir w
	/usr/bin/python3 "$GEN" onnx-wide w/model.onnx 100000
	run -0 limited 10 "$MLCTL" init w --name wide --version 1.0.0
	run -0 limited 10 "$MLCTL" validate w -q
}

@test "SIGTERM stops validate of 100,000 artifacts: exit 143" {
	term_after_start "" "$MLCTL" validate "$BATS_FILE_TMPDIR/big"
	[ "$status" -eq 143 ]
}

@test "SIGTERM stops package of 100,000 artifacts: exit 143, no temporary file left" {
	mkdir out
	term_after_start "out/.*" "$MLCTL" package "$BATS_FILE_TMPDIR/big" -o out/big.mlpkg
	[ "$status" -eq 143 ]
	run -0 ls -A out
	[ -z "$output" ]
}

@test "SIGTERM stops validate of a package of 100,000 entries: exit 143" {
	run -0 mlctl package "$BATS_FILE_TMPDIR/big" -o big.mlpkg -q
	term_after_start "" "$MLCTL" validate big.mlpkg
	[ "$status" -eq 143 ]
}

@test "a FIFO named mlctl.json: validate, package and push fail at once with exit 2" {
	mkdir p
	mkfifo p/mlctl.json
	run -2 --separate-stderr timeout 10 "$MLCTL" validate p
	[ "$stderr" = "mlctl: 'p/mlctl.json' is a FIFO; it must be a regular file" ]
	run -2 --separate-stderr timeout 10 "$MLCTL" package p -o p.mlpkg
	[ "$stderr" = "mlctl: 'p/mlctl.json' is a FIFO; it must be a regular file" ]
	[ ! -e p.mlpkg ]
	run -2 --separate-stderr timeout 10 "$MLCTL" push p
	[ "$stderr" = "mlctl: 'p/mlctl.json' is a FIFO; it must be a regular file" ]
	[ ! -e "$MLCTL_REGISTRY/index.git" ]
}

@test "a FIFO given as a package: validate and push fail at once with exit 2" {
	mkfifo pipe.mlpkg
	run -2 --separate-stderr timeout 10 "$MLCTL" validate pipe.mlpkg
	[ "$stderr" = "mlctl: 'pipe.mlpkg' is a FIFO; it must be a regular file" ]
	run -2 --separate-stderr timeout 10 "$MLCTL" push pipe.mlpkg
	[ "$stderr" = "mlctl: 'pipe.mlpkg' is a FIFO; it must be a regular file" ]
}

@test "an artifact that is a FIFO is a finding (MLV022), and package refuses it" {
	make_project p
	mkfifo p/pipe
	sed -i 's|"artifacts": \[|"artifacts": [{"path": "pipe", "role": "data"}, |' p/mlctl.json
	run -1 timeout 10 "$MLCTL" validate p
	[[ "$output" == *"MLV022  artifact 'pipe' is not a regular file or folder"* ]]
	run -1 timeout 10 "$MLCTL" package p -o p.mlpkg
	[ ! -e p.mlpkg ]
}

@test "a report path or a package output that is a FIFO is refused, not replaced" {
	make_project p
	mkfifo report.xml out.mlpkg
	run -2 --separate-stderr timeout 10 "$MLCTL" validate p --junit report.xml
	[ "$stderr" = "mlctl: 'report.xml' is a FIFO; it must be a regular file" ]
	[ -p report.xml ]
	run -2 --separate-stderr timeout 10 "$MLCTL" package p -o out.mlpkg
	[ "$stderr" = "mlctl: 'out.mlpkg' is a FIFO; it must be a regular file" ]
	[ -p out.mlpkg ]
}
