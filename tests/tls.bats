#!/usr/bin/env bats
# TLS: a real docker-registry serving https with a certificate of a CA the
# test makes (not in the system's store), then one that also wants a client
# certificate. skopeo, trusting the same CA, is the independent reader.

load helpers
load oci

setup_file() {
	oci_start "$BATS_FILE_TMPDIR/tls" --tls
}

teardown_file() {
	oci_stop
}

setup() {
	oci_test_setup
	NS="$OCI/t$BATS_TEST_NUMBER"
	make_project p demo 1.0.0
	mlctl push p -q >/dev/null
}

teardown() {
	# the registry a test started of its own (mTLS)
	[ -z "${MTLS_PID:-}" ] || { kill "$MTLS_PID" 2>/dev/null; wait "$MTLS_PID" 2>/dev/null; } || true
}

@test "https with a CA not in the system's: refused with what to give, then pushed and pulled with --ca-file" {
	run -7 mlctl push demo:1.0.0 --to "$NS"
	[[ "$output" == *"$OCI"*"certificate"*"give --ca-file"* ]]
	# a certificate that is not trusted is no reason to try plain http
	! grep -q 'HTTP request to an HTTPS server' "$OCI_DIR/log" || false
	run -0 --separate-stderr mlctl push demo:1.0.0 --to "$NS" --ca-file "$OCI_DIR/ca.pem" --json
	digest=$(echo "$output" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["remote"]["digest"])')
	# skopeo trusts the same CA (a folder of *.crt) and reads the same bytes
	mkdir certs && cp "$OCI_DIR/ca.pem" certs/ca.crt
	skopeo inspect --cert-dir certs --raw "docker://$NS/demo:1.0.0" > raw.json
	[ "sha256:$(sha256sum < raw.json | cut -d' ' -f1)" = "$digest" ]
	MLCTL_REGISTRY=$BATS_TEST_TMPDIR/other run -0 mlctl pull demo:1.0.0 --from "$NS" \
		--ca-file "$OCI_DIR/ca.pem" -o out -q
	cmp out/model.bin p/model.bin
}

@test "--insecure takes the registry's certificate as it is" {
	run -0 mlctl push demo:1.0.0 --to "$NS" --insecure -q
	skopeo inspect --tls-verify=false --raw "docker://$NS/demo:1.0.0" > raw.json
	[ -s raw.json ]
}

@test "TLS files that cannot be read are refused before anything is sent" {
	before=$(wc -l < "$OCI_DIR/log")
	run -2 mlctl push demo:1.0.0 --to "$NS" --ca-file nowhere.pem
	[[ "$output" == *"--ca-file 'nowhere.pem' cannot be read"* ]]
	run -2 mlctl pull demo:1.0.0 --from "$NS" --cert c.pem -o x
	[[ "$output" == *"--cert 'c.pem' cannot be read"* ]]
	touch c.pem
	run -2 mlctl show demo:1.0.0 --from "$NS" --key c.pem
	[[ "$output" == *"--key needs --cert"* ]]
	[ "$(wc -l < "$OCI_DIR/log")" -eq "$before" ]
	[ ! -e x ]
}

@test "a registry that wants a client certificate: refused without one, pushed with --cert and --key" {
	oci_start "$BATS_TEST_TMPDIR/mtls" --mtls
	MTLS_PID=$OCI_PID
	NS="$OCI/m"
	run -7 mlctl push demo:1.0.0 --to "$NS" --ca-file "$OCI_DIR/ca.pem"
	[[ "$output" == *"$OCI"*"give --cert and --key"* ]]
	# a certificate of another CA is refused as well
	mkdir other && oci_tls_certs other
	run -7 mlctl push demo:1.0.0 --to "$NS" --ca-file "$OCI_DIR/ca.pem" \
		--cert other/client.pem --key other/client.key
	run -0 mlctl push demo:1.0.0 --to "$NS" --ca-file "$OCI_DIR/ca.pem" \
		--cert "$OCI_DIR/client.pem" --key "$OCI_DIR/client.key" -q
	mkdir certs
	cp "$OCI_DIR/ca.pem" certs/ca.crt
	cp "$OCI_DIR/client.pem" certs/client.cert
	cp "$OCI_DIR/client.key" certs/client.key
	skopeo inspect --cert-dir certs --raw "docker://$NS/demo:1.0.0" > raw.json
	[ -s raw.json ]
}

@test "HTTPS_PROXY carries every request through its tunnel; NO_PROXY goes around it" {
	port=$(free_port)
	"$PY" "$BATS_TEST_DIRNAME/fixtures/connect-proxy.py" "$port" "$BATS_TEST_TMPDIR/proxy.log" &
	MTLS_PID=$!
	oci_wait_port "$port"
	before=$(oci_requests GET '/v2/')
	HTTPS_PROXY=http://127.0.0.1:$port run -0 mlctl push demo:1.0.0 --to "$NS" --ca-file "$OCI_DIR/ca.pem" -q
	grep -q "^CONNECT $OCI$" proxy.log
	# nothing went around the proxy, nothing went in plain http through it
	[ "$(grep -vc "^CONNECT $OCI$" proxy.log)" -eq 0 ]
	[ "$(oci_requests GET '/v2/')" -gt "$before" ]
	rm proxy.log
	MLCTL_REGISTRY=$BATS_TEST_TMPDIR/other HTTPS_PROXY=http://127.0.0.1:$port NO_PROXY=127.0.0.1 \
		run -0 mlctl pull demo:1.0.0 --from "$NS" --ca-file "$OCI_DIR/ca.pem" -o out -q
	cmp out/model.bin p/model.bin
	[ ! -e proxy.log ]
	# a proxy that is not there: exit 7, naming the registry
	HTTPS_PROXY=http://127.0.0.1:1 run -7 mlctl show demo:1.0.0 --from "$NS" --ca-file "$OCI_DIR/ca.pem"
	[[ "$output" == *"$OCI"* ]]
}
