# oci.bash - a real OCI registry for the remote tests: Debian's
# docker-registry (distribution) on 127.0.0.1 at a free port, with or
# without htpasswd authentication, storage in a folder of the test file's,
# a fixed http.secret so that upload sessions survive a restart. Started
# by setup_file, stopped by its process id in teardown_file.

# oci_wait_port PORT: wait (10 s at most) for something to listen on 127.0.0.1:PORT
oci_wait_port() {
	local i
	for i in $(seq 1 100); do
		python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])))' \
			"$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# oci_tls_certs DIR: a CA (DIR/ca.pem), a certificate it signed for
# 127.0.0.1 and localhost (DIR/server.pem, server.key) and one for a client
# (DIR/client.pem, client.key)
oci_tls_certs() {
	local d=$1 who
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=mlctl-test-ca \
		-keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null
	for who in server client; do
		openssl req -newkey rsa:2048 -nodes -subj "/CN=mlctl-test-$who" \
			-keyout "$d/$who.key" -out "$d/$who.csr" 2>/dev/null
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=%s\n' \
			"$([ $who = server ] && echo serverAuth || echo clientAuth)" > "$d/$who.ext"
		openssl x509 -req -in "$d/$who.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
			-CAcreateserial -days 2 -extfile "$d/$who.ext" -out "$d/$who.pem" 2>/dev/null
	done
}

# oci_start DIR [USER PASSWORD | --token USER PASSWORD | --tls | --mtls]:
# start a registry keeping its data in DIR, with htpasswd or token
# authentication (a token service of tests/fixtures/token-server.py's), or
# serving https with a certificate of DIR/ca.pem's (--mtls: and wanting a
# client certificate that CA signed); sets OCI (127.0.0.1:PORT), OCI_DIR,
# OCI_PID and OCI_URL (http://OCI or https://OCI)
oci_start() {
	local dir=$1 port i
	local -a curl_tls=()
	OCI_TOKEN_PID=
	mkdir -p "$dir/data"
	port=$(free_port)
	{
		printf 'version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: false\n'
		printf 'storage:\n  filesystem:\n    rootdirectory: %s/data\n  delete:\n    enabled: true\n' "$dir"
		printf 'http:\n  addr: 127.0.0.1:%s\n  secret: mlctl-test-secret\n' "$port"
		if [ "${2:-}" = --tls ] || [ "${2:-}" = --mtls ]; then
			oci_tls_certs "$dir"
			printf '  tls:\n    certificate: %s/server.pem\n    key: %s/server.key\n' "$dir" "$dir"
			[ "$2" = --tls ] || printf '    clientcas:\n      - %s/ca.pem\n' "$dir"
		elif [ "${2:-}" = --token ]; then
			# token authentication: a token service of its own on another free port
			OCI_TOKEN_PORT=$(free_port)
			python3 "$BATS_TEST_DIRNAME/fixtures/token-server.py" "$dir" --init
			printf 'auth:\n  token:\n    realm: http://127.0.0.1:%s/token\n    service: mlctl-test\n    issuer: mlctl-test-issuer\n    rootcertbundle: %s/cert.pem\n' "$OCI_TOKEN_PORT" "$dir"
		elif [ -n "${2:-}" ]; then
			htpasswd -Bbn "$2" "$3" > "$dir/htpasswd"
			printf 'auth:\n  htpasswd:\n    realm: mlctl-test\n    path: %s/htpasswd\n' "$dir"
		fi
	} > "$dir/config.yml"
	if [ "${2:-}" = --token ]; then
		python3 "$BATS_TEST_DIRNAME/fixtures/token-server.py" "$dir" "$OCI_TOKEN_PORT" "$3" "$4" &
		OCI_TOKEN_PID=$!
		export OCI_TOKEN_PID
	fi
	docker-registry serve "$dir/config.yml" >> "$dir/log" 2>&1 &
	OCI_PID=$!
	echo "$OCI_PID" > "$dir/pid" # a restart in a test's subshell writes its own
	OCI="127.0.0.1:$port"
	OCI_DIR=$dir
	OCI_URL="http://$OCI"
	if [ "${2:-}" = --tls ] || [ "${2:-}" = --mtls ]; then
		OCI_URL="https://$OCI"
		curl_tls=(--cacert "$dir/ca.pem" --cert "$dir/client.pem" --key "$dir/client.key")
	fi
	for i in $(seq 1 100); do
		curl -s "${curl_tls[@]}" -o /dev/null "$OCI_URL/v2/" && break
		sleep 0.1
	done
	curl -s "${curl_tls[@]}" -o /dev/null "$OCI_URL/v2/" || { cat "$dir/log"; return 1; }
	if [ -n "${OCI_TOKEN_PID:-}" ]; then
		for i in $(seq 1 100); do
			curl -s -o /dev/null "http://127.0.0.1:$OCI_TOKEN_PORT/token" && break
			sleep 0.1
		done
	fi
	export OCI OCI_DIR OCI_PID OCI_URL
}

# oci_stop: stop the registry oci_start started (and its token service)
oci_stop() {
	if [ -n "${OCI_TOKEN_PID:-}" ]; then
		kill "$OCI_TOKEN_PID" 2>/dev/null || true
		wait "$OCI_TOKEN_PID" 2>/dev/null || true
	fi
	[ -n "${OCI_PID:-}" ] || return 0
	# the registry running now: the one started last (perhaps by a test's restart)
	[ -f "$OCI_DIR/pid" ] && OCI_PID=$(cat "$OCI_DIR/pid")
	kill "$OCI_PID" 2>/dev/null || true
	wait "$OCI_PID" 2>/dev/null || true
	# not a child of this shell (started in a test's subshell): wait for it to go
	while kill -0 "$OCI_PID" 2>/dev/null; do sleep 0.05; done
}

# oci_requests METHOD PATH-REGEX: how many such requests the registry's access log has
oci_requests() {
	grep -cE "\"$1 $2" "$OCI_DIR/log" || true
}

# oci_blob_file DIGEST: where the registry keeps a blob's bytes
oci_blob_file() {
	local hex=${1#sha256:}
	echo "$OCI_DIR/data/docker/registry/v2/blobs/sha256/${hex:0:2}/$hex/data"
}

# oci_restart [PAUSE]: stop the registry and start it again on the same port,
# with the same storage and secret (upload sessions it kept survive)
oci_restart() {
	local i
	oci_stop
	sleep "${1:-0}"
	docker-registry serve "$OCI_DIR/config.yml" >> "$OCI_DIR/log" 2>&1 &
	OCI_PID=$!
	echo "$OCI_PID" > "$OCI_DIR/pid"
	for i in $(seq 1 100); do
		curl -s -o /dev/null "http://$OCI/v2/" && break
		sleep 0.1
	done
	export OCI_PID
}

# oci_test_setup: each test in a folder of its own, with a registry, an
# actor, a HOME (for docker's config.json) and quick retries
oci_test_setup() {
	cd "$BATS_TEST_TMPDIR" || exit 1
	export MLCTL_REGISTRY="$BATS_TEST_TMPDIR/registry" MLCTL_ACTOR="Test <t@example.com>"
	export NO_COLOR=1 HOME="$BATS_TEST_TMPDIR/home" MLCTL_RETRY_MS=1
	unset SOURCE_DATE_EPOCH DOCKER_CONFIG
	mkdir -p "$HOME"
}

# oci_redirect_start LOG: in front of the registry oci_start started, a server
# that answers blob GETs with a redirect to a bucket on another host and port
# (tests/fixtures/blob-redirect.py; the bucket logs to LOG what
# Authorization it was sent); sets FRONT (127.0.0.1:PORT) and FRONT_PID
oci_redirect_start() {
	local fp bp
	fp=$(free_port)
	bp=$(free_port)
	python3 "$BATS_TEST_DIRNAME/fixtures/blob-redirect.py" "$fp" "$bp" "http://$OCI" \
		"$OCI_DIR/data" "$1" &
	FRONT_PID=$!
	FRONT="127.0.0.1:$fp"
	oci_wait_port "$fp" && oci_wait_port "$bp"
}

# oci_redirect_pull FROM: pull demo:1.0.0 from FROM (the front oci_redirect_start
# started) into out, as another machine; stop the front; check every blob
# came from the bucket, and none with an Authorization header
oci_redirect_pull() {
	MLCTL_REGISTRY=$BATS_TEST_TMPDIR/other run -0 mlctl pull demo:1.0.0 --from "$1" -o out -q
	kill "$FRONT_PID"
	cmp out/model.bin p/model.bin
	[ "$(grep -c '^bucket sha256:' "$BATS_TEST_TMPDIR/bucket.log")" -ge 3 ]
	[ "$(grep -vc ' auth=none$' "$BATS_TEST_TMPDIR/bucket.log")" -eq 0 ]
}

# oci_inflight METHOD URI-REGEX: "N MOST": how many such requests the
# registry served, and the most it served at once (tests/fixtures/inflight.py)
oci_inflight() {
	python3 "$BATS_TEST_DIRNAME/fixtures/inflight.py" "$OCI_DIR/log" "$1" "$2"
}

# json FILE EXPR: a value out of a JSON document (python's json as the reader)
json() {
	"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
