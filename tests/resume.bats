#!/usr/bin/env bats
# Uploads and downloads that break off go on: mlctl killed mid-upload, the
# registry restarted mid-upload or mid-download, a session the registry
# forgot. The registry's access log counts what it received.

load helpers
load oci

setup_file() {
	oci_start "$BATS_FILE_TMPDIR/oci"
}

teardown_file() {
	oci_stop
}

setup() {
	oci_test_setup
	mkdir -p big
	NS="$OCI/t$BATS_TEST_NUMBER"
	# 8 MiB of weights: eight chunks of 1 MiB
	head -c 8388608 /dev/urandom > big/w.bin
	printf '{"schema": "mlctl/v1", "name": "big", "version": "1.0.0", "license": "MIT", "artifacts": [{"path": "w.bin", "role": "weights"}]}\n' > big/mlctl.json
	mlctl push big -q >/dev/null
	SHA=$(sha256sum big/w.bin | cut -d' ' -f1)
}

patches() {
	oci_requests PATCH "/v2/t$BATS_TEST_NUMBER/big/blobs/uploads/"
}

posts() {
	oci_requests POST "/v2/t$BATS_TEST_NUMBER/big/blobs/uploads/"
}

@test "mlctl killed mid-upload: the next push asks the registry and sends only the rest" {
	MLCTL_FAULT=oci-chunk:3 run mlctl push big:1.0.0 --to "$NS" --chunk-size 1M
	[ "$status" -eq 99 ]
	[ "$(patches)" = 3 ]
	[ "$(sqlite3 registry/mlctl.db "SELECT offset FROM uploads WHERE digest = 'sha256:$SHA'")" = 3145728 ]
	run -0 --separate-stderr mlctl push big:1.0.0 --to "$NS" --chunk-size 1M --json
	[ "$(echo "$output" | "$PY" -c 'import json,sys; r=json.load(sys.stdin)["remote"]; print(r["bytes_resumed"], r["bytes_sent"] > 5242880)')" = "3145728 True" ]
	[[ "$stderr" == *"(and went on with uploads it had 3.0 MiB of)"* ]]
	# five more chunks, one session: the registry got each byte once
	[ "$(patches)" = 8 ]
	[ "$(oci_requests GET "/v2/t$BATS_TEST_NUMBER/big/blobs/uploads/")" = 1 ]
	[ "$(sqlite3 registry/mlctl.db 'SELECT count(*) FROM uploads')" = 0 ]
	MLCTL_REGISTRY=$BATS_TEST_TMPDIR/other mlctl pull big:1.0.0 --from "$NS" -o out -q
	cmp out/w.bin big/w.bin
}

@test "mlctl killed (SIGKILL) in the middle of a chunk: the next push asks, is told the upload is gone, says so and sends it whole" {
	mlctl push big:1.0.0 --to "$NS" --chunk-size 1M --limit-rate 512K -q &
	pid=$!
	# two chunks in and part of the third on the registry's disk (2 s a chunk): killed there
	up="$OCI_DIR/data/docker/registry/v2/repositories/t$BATS_TEST_NUMBER/big/_uploads"
	for i in $(seq 1 400); do
		[ "$(find "$up" -name data -size +2100k 2>/dev/null | wc -l)" -ge 1 ] && break
		sleep 0.05
	done
	kill -9 "$pid"
	wait "$pid" || true
	[ "$(sqlite3 registry/mlctl.db "SELECT offset FROM uploads WHERE digest = 'sha256:$SHA'")" = 2097152 ]
	# asked whatever the chunk size is now; distribution keeps nothing of an upload a
	# break cut mid-chunk (it drops it), so the blob goes again from its start
	run -0 --separate-stderr mlctl push big:1.0.0 --to "$NS" --json
	[ "$(echo "$output" | "$PY" -c 'import json,sys; r=json.load(sys.stdin)["remote"]; print(r["blobs_restarted"], r["bytes_resumed"])')" = "1 0" ]
	[[ "$stderr" == *"1 upload an earlier push began was dropped by the registry"*"sent again from the start"* ]]
	[ "$(oci_requests GET "/v2/t$BATS_TEST_NUMBER/big/blobs/uploads/")" = 1 ]
	[ "$(sqlite3 registry/mlctl.db 'SELECT count(*) FROM uploads')" = 0 ]
	MLCTL_REGISTRY=$BATS_TEST_TMPDIR/other mlctl pull big:1.0.0 --from "$NS" -o out -q
	cmp out/w.bin big/w.bin
}

@test "mlctl killed, the registry restarted: the session survives it and the push goes on" {
	MLCTL_FAULT=oci-chunk:5 run mlctl push big:1.0.0 --to "$NS" --chunk-size 1M
	[ "$status" -eq 99 ]
	oci_restart
	run -0 --separate-stderr mlctl push big:1.0.0 --to "$NS" --chunk-size 1M --json
	[ "$(echo "$output" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["remote"]["bytes_resumed"])')" = 5242880 ]
	[ "$(patches)" = 8 ]
	[ "$(posts)" -le 3 ] # w.bin once, mlctl.json, the config
	MLCTL_REGISTRY=$BATS_TEST_TMPDIR/other mlctl pull big:1.0.0 --from "$NS" -o out -q
	cmp out/w.bin big/w.bin
}

@test "the registry restarted while a push sends: the push retries, starts the forgotten upload afresh, and succeeds" {
	export MLCTL_RETRY_MS=300
	mlctl push big:1.0.0 --to "$NS" --chunk-size 1M --limit-rate 2M --json > out.json 2> err.txt &
	pid=$!
	for i in $(seq 1 100); do [ "$(patches)" -ge 2 ] && break; sleep 0.1; done
	oci_restart 0.5
	wait "$pid"
	"$PY" -c 'import json; r=json.load(open("out.json"))["remote"]; assert r["blobs_sent"] == 3, r'
	MLCTL_REGISTRY=$BATS_TEST_TMPDIR/other mlctl pull big:1.0.0 --from "$NS" -o out -q
	cmp out/w.bin big/w.bin
}

@test "an upload session the registry forgot (404): the next push starts it afresh" {
	MLCTL_FAULT=oci-chunk:2 run mlctl push big:1.0.0 --to "$NS" --chunk-size 1M
	[ "$status" -eq 99 ]
	rm -rf "$OCI_DIR/data/docker/registry/v2/repositories/t$BATS_TEST_NUMBER/big/_uploads"
	run -0 --separate-stderr mlctl push big:1.0.0 --to "$NS" --chunk-size 1M --json
	[ "$(echo "$output" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["remote"]["bytes_resumed"])')" = 0 ]
	[ "$(patches)" = 10 ]
	MLCTL_REGISTRY=$BATS_TEST_TMPDIR/other mlctl pull big:1.0.0 --from "$NS" -o out -q
	cmp out/w.bin big/w.bin
}

@test "a download cut off by a registry restart goes on from where it stopped (Range)" {
	# larger than what the kernel's socket buffers hold on the way, so the restart cuts it
	head -c 25165824 /dev/urandom > big/w.bin
	sed -i 's/1.0.0/2.0.0/' big/mlctl.json
	mlctl push big -q >/dev/null
	SHA=$(sha256sum big/w.bin | cut -d' ' -f1)
	mlctl push big:2.0.0 --to "$NS" -q
	export MLCTL_RETRY_MS=300
	MLCTL_REGISTRY=$BATS_TEST_TMPDIR/other mlctl pull big:2.0.0 --from "$NS" -o out --limit-rate 3M -q &
	pid=$!
	# the restart comes once the file is being written (a few MiB in)
	for i in $(seq 1 1200); do
		[ -n "$(find . -maxdepth 2 -path './.out*' -name w.bin -size +2M 2>/dev/null)" ] && break
		sleep 0.05
	done
	[ -n "$(find . -maxdepth 2 -path './.out*' -name w.bin 2>/dev/null)" ] # still under way
	oci_restart 0.5
	wait "$pid"
	cmp out/w.bin big/w.bin
	# the second request asked for the rest only, and got it (206)
	grep -E "\"GET /v2/t$BATS_TEST_NUMBER/big/blobs/sha256:$SHA HTTP/1.1\" 206" "$OCI_DIR/log"
}
