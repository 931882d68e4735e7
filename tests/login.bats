#!/usr/bin/env bats
# mlctl login and logout, and the credentials push --to and pull --from
# use (docker's config.json, DOCKER_CONFIG, --registry-config, credential
# helpers), against real OCI registries (Debian's docker-registry on
# 127.0.0.1, one open, one with htpasswd authentication).

load helpers
load oci

setup_file() {
	oci_start "$BATS_FILE_TMPDIR/open"
	export OPEN=$OCI OPEN_DIR=$OCI_DIR OPEN_PID=$OCI_PID
	oci_start "$BATS_FILE_TMPDIR/auth" ci 'pa55-w0rd-secret'
	export AUTH=$OCI AUTH_DIR=$OCI_DIR AUTH_PID=$OCI_PID
	OCI=$OPEN OCI_DIR=$OPEN_DIR
}

teardown_file() {
	OCI_PID=$OPEN_PID OCI_DIR=$OPEN_DIR oci_stop
	OCI_PID=$AUTH_PID OCI_DIR=$AUTH_DIR OCI_TOKEN_PID= oci_stop
}

setup() {
	oci_test_setup
	OCI=$OPEN OCI_DIR=$OPEN_DIR
	# each test its own namespace on the shared registry
	NS="$OPEN/t$BATS_TEST_NUMBER"
}

@test "credentials: none, wrong and right; kept 0600 where docker keeps them; skopeo uses them; logout" {
	make_project p demo 1.0.0
	mlctl push p -q
	run -7 mlctl push demo:1.0.0 --to "$AUTH/ml"
	[[ "$output" == *"$AUTH wants credentials for GET /v2/ (401"*"run 'mlctl login $AUTH -u USER --password-stdin'"* ]]
	run -7 mlctl login "$AUTH" -u ci --password-stdin <<< 'wrong-pa55'
	[[ "$output" == *"$AUTH refused the credentials of 'ci'"* ]]
	[[ "$output" != *wrong-pa55* ]]
	[ ! -e home/.docker ]
	run -2 mlctl login "$AUTH" -u ci
	[[ "$output" == *"--password-stdin (never on the command line"* ]]
	run -0 mlctl login "$AUTH" -u ci --password-stdin <<< 'pa55-w0rd-secret'
	[ "$output" = "logged in to $AUTH as ci (credentials in $HOME/.docker/config.json)" ]
	[ "$(stat -c %a home/.docker/config.json)" = 600 ]
	[ "$(json home/.docker/config.json 'd["auths"]["'"$AUTH"'"]["auth"]')" = "$(printf 'ci:pa55-w0rd-secret' | base64)" ]
	run -0 --separate-stderr mlctl push demo:1.0.0 --to "$AUTH/ml" -v
	[[ "$output$stderr" != *pa55-w0rd-secret* ]]
	skopeo inspect --tls-verify=false --raw "docker://$AUTH/ml/demo:1.0.0" > raw.json
	MLCTL_REGISTRY=$BATS_TEST_TMPDIR/other mlctl pull demo:1.0.0 --from "$AUTH/ml" -o out
	cmp out/model.bin p/model.bin
	# nothing of it in the registry's history or settings
	! grep -rq pa55-w0rd-secret registry || false
	run -0 mlctl logout "$AUTH"
	[ "$output" = "removed the credentials for $AUTH from $HOME/.docker/config.json" ]
	[ "$(json home/.docker/config.json 'd["auths"]')" = "{}" ]
	run -7 mlctl pull demo:1.0.0 --from "$AUTH/ml" -o out2
	run -0 --separate-stderr mlctl logout "$AUTH"
	[[ "$stderr" == *"no credentials for $AUTH were kept"* ]]
}

@test "credentials from DOCKER_CONFIG and --registry-config; other keys of the file are kept" {
	make_project p demo 1.0.0
	mlctl push p -q
	mkdir dc
	printf '{"auths":{"https://%s/v1/":{"auth":"%s"}},"credsStore":"","experimental":"enabled"}\n' \
		"$AUTH" "$(printf 'ci:pa55-w0rd-secret' | base64)" > dc/config.json
	DOCKER_CONFIG=$PWD/dc run -0 mlctl push demo:1.0.0 --to "$AUTH/ml2"
	run -7 mlctl push demo:1.0.0 --to "$AUTH/ml2"
	run -0 mlctl login "$AUTH" -u ci --password-stdin --registry-config own.json <<< 'pa55-w0rd-secret'
	run -0 mlctl push demo:1.0.0 --to "$AUTH/ml2" --registry-config own.json
	DOCKER_CONFIG=$PWD/dc run -0 mlctl logout "$AUTH"
	[ "$(json dc/config.json 'd["experimental"]')" = enabled ]
	[ "$(json dc/config.json 'd["auths"]')" = "{}" ]
}

@test "credentials through docker's credential helpers: credsStore and credHelpers, for login, push and logout" {
	make_project p demo 1.0.0
	mlctl push p -q
	export PATH="$FIXTURES:$PATH" CREDS_STORE=$BATS_TEST_TMPDIR/store.json
	mkdir -p home/.docker
	printf '{"credsStore": "mlctltest"}\n' > home/.docker/config.json
	run -0 mlctl login "$AUTH" -u ci --password-stdin <<< 'pa55-w0rd-secret'
	# the helper keeps the secret; config.json only names the host
	[ "$(json store.json 'd["'"$AUTH"'"]["Secret"]')" = pa55-w0rd-secret ]
	! grep -q pa55 home/.docker/config.json || false
	[ "$(json home/.docker/config.json 'd["auths"]["'"$AUTH"'"]')" = "{}" ]
	run -0 mlctl push demo:1.0.0 --to "$AUTH/helper"
	run -0 mlctl logout "$AUTH"
	[ "$(json store.json 'd')" = "{}" ]
	run -7 mlctl push demo:1.0.0 --to "$AUTH/helper"
	# credHelpers names a helper for one host; a helper that is not installed is a clear error
	"$PY" -c 'import json,sys; json.dump({sys.argv[1]: {"Username": "ci", "Secret": "pa55-w0rd-secret"}}, open("store.json", "w"))' "$AUTH"
	printf '{"credHelpers": {"%s": "mlctltest"}, "credsStore": "nothere"}\n' "$AUTH" > home/.docker/config.json
	run -0 mlctl push demo:1.0.0 --to "$AUTH/helper2"
	# asked only when a registry wants credentials
	run -0 mlctl push demo:1.0.0 --to "$OPEN/t$BATS_TEST_NUMBER"
	printf '{"credsStore": "nothere"}\n' > home/.docker/config.json
	run -0 mlctl push demo:1.0.0 --to "$OPEN/t$BATS_TEST_NUMBER"
	run -6 mlctl push demo:1.0.0 --to "$AUTH/helper3"
	[[ "$output" == *"cannot run docker-credential-nothere, the credential helper docker's config.json names"* ]]
}

@test "login to a registry that asks for no credentials says they could not be tried" {
	run -0 --separate-stderr mlctl login "$OPEN" -u someone --password-stdin <<< 'whatever'
	[[ "$stderr" == *"asks for no credentials, so they could not be tried"* ]]
	run -0 mlctl logout "$OPEN"
}

@test "a blob served by redirect to another host gets no credentials (Basic)" {
	printf 'pa55-w0rd-secret\n' | mlctl login "$AUTH" -u ci --password-stdin -q
	make_project p demo 1.0.0
	mlctl push p --to "$AUTH/t$BATS_TEST_NUMBER" -q
	OCI=$AUTH OCI_DIR=$AUTH_DIR oci_redirect_start "$BATS_TEST_TMPDIR/bucket.log"
	printf 'pa55-w0rd-secret\n' | mlctl login "$FRONT" -u ci --password-stdin -q
	# every blob comes from the bucket, and none with the registry's credentials
	oci_redirect_pull "$FRONT/t$BATS_TEST_NUMBER"
}

@test "an identity token for a registry that wants a password (Basic) is exit 7 naming mlctl login" {
	make_project p demo 1.0.0
	mlctl push p -q
	mkdir -p home/.docker
	printf '{"auths": {"%s": {"identitytoken": "an-identity-token"}}}\n' "$AUTH" > home/.docker/config.json
	before=$(registry_state)
	run -7 mlctl push demo:1.0.0 --to "$AUTH/ident"
	[[ "$output" == *"$AUTH wants a user and password (Basic), and $HOME/.docker/config.json holds an identity token for it; run 'mlctl login $AUTH -u USER --password-stdin'"* ]]
	[[ "$output" != *an-identity-token* ]]
	[ "$(registry_state)" = "$before" ]
}

@test "login and logout take a registry host only: a scheme or a namespace is exit 2 saying what to give; a wrong password at login says to check it" {
	run -2 mlctl login "http://$AUTH" -u ci --password-stdin <<< x
	[[ "$output" == *"'http://$AUTH' is not a registry host: give HOST[:PORT] (no scheme, no path)"* ]]
	run -2 mlctl login "$AUTH/team" -u ci --password-stdin <<< x
	[[ "$output" == *"login names a registry host, not a namespace: 'mlctl login $AUTH'"* ]]
	printf 'pa55-w0rd-secret\n' | mlctl login "$AUTH" -u ci --password-stdin -q
	run -2 mlctl logout "$AUTH/team"
	[[ "$output" == *"logout names a registry host, not a namespace: 'mlctl logout $AUTH'"* ]]
	grep -q "$AUTH" home/.docker/config.json
	run -7 mlctl login "$AUTH" -u ci --password-stdin <<< 'not-it'
	[[ "$output" == *"$AUTH refused the credentials of 'ci' for GET /v2/ (401"*"check the user and password; nothing was kept"* ]]
	[[ "$output" != *not-it* ]]
}
