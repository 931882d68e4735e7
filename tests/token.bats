#!/usr/bin/env bats
# Token authentication (docker's, as GHCR, Docker Hub and Harbor use it): a
# real docker-registry configured with auth.token, and a token service of
# the tests' own (tests/fixtures/token-server.py) that signs JWTs with
# openssl and logs what it was asked.

load helpers
load oci

setup_file() {
	oci_start "$BATS_FILE_TMPDIR/oci" --token ci 'tok3n-pa55'
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

tokens() {
	grep -c "$1" "$OCI_DIR/token.log" || true
}

@test "push and pull through a token service: login tries the credentials, tokens per scope, reused" {
	run -7 mlctl push demo:1.0.0 --to "$NS"
	[[ "$output" == *"$OCI"* ]]
	run -7 mlctl login "$OCI" -u ci --password-stdin <<< wrong
	[[ "$output" == *"refused the credentials of 'ci'"*"for a token"* ]]
	[[ "$output" != *wrong* ]]
	run -0 mlctl login "$OCI" -u ci --password-stdin <<< 'tok3n-pa55'
	before=$(tokens "^ci repository:t$BATS_TEST_NUMBER/demo:pull,push")
	run -0 --separate-stderr mlctl push demo:1.0.0 --to "$NS" -v
	[[ "$output$stderr" != *tok3n* ]]
	# one token for the repository's pull and push, reused for every request after it;
	# asked for in one spelling (distribution names a challenge's actions in any order)
	! grep -q 'push,pull' "$OCI_DIR/token.log" || false
	[ $(( $(tokens "^ci repository:t$BATS_TEST_NUMBER/demo:pull,push") - before )) -eq 1 ]
	MLCTL_REGISTRY=$BATS_TEST_TMPDIR/other mlctl pull demo:1.0.0 --from "$NS" -o out -q
	cmp out/model.bin p/model.bin
	skopeo inspect --tls-verify=false --raw "docker://$NS/demo:1.0.0" > raw.json
	[ -s raw.json ]
}

@test "an identity token (docker's identitytoken, a helper's <token>) is traded in a POST for access tokens; a refused one is exit 7" {
	mkdir -p "$HOME/.docker"
	printf '{"auths": {"%s": {"identitytoken": "tok3n-pa55-refresh"}}}\n' "$OCI" > "$HOME/.docker/config.json"
	run -0 --separate-stderr mlctl push demo:1.0.0 --to "$NS" -v
	[[ "$output$stderr" != *tok3n* ]]
	# the OAuth form in a POST body, for the repository's pull and push at once
	grep -q "^oauth ci mlctl repository:t$BATS_TEST_NUMBER/demo:pull,push$" "$OCI_DIR/token.log"
	! grep -q '^oauth: ' "$OCI_DIR/token.log" || false
	MLCTL_REGISTRY=$BATS_TEST_TMPDIR/other mlctl pull demo:1.0.0 --from "$NS" -o out -q
	cmp out/model.bin p/model.bin
	# a credential helper's answer: Username "<token>", the identity token as Secret
	export PATH="$FIXTURES:$PATH" CREDS_STORE=$BATS_TEST_TMPDIR/store.json
	printf '{"credsStore": "mlctltest"}\n' > "$HOME/.docker/config.json"
	printf '{"%s": {"Username": "<token>", "Secret": "tok3n-pa55-refresh"}}\n' "$OCI" > store.json
	next_version p 1.1.0
	run -0 mlctl push p --to "$NS" -q
	[ "$(grep -c "^oauth ci mlctl repository:t$BATS_TEST_NUMBER/demo:pull,push$" "$OCI_DIR/token.log")" -ge 2 ]
	# one the token service refuses: exit 7, log in again; the token nowhere
	printf '{"%s": {"Username": "<token>", "Secret": "tok3n-stale"}}\n' "$OCI" > store.json
	next_version p 1.2.0
	mlctl push p -q
	run -7 mlctl push demo:1.2.0 --to "$NS" -v
	[[ "$output" == *"refused the identity token (from docker-credential-mlctltest"*"run 'mlctl login $OCI -u USER --password-stdin'"* ]]
	[[ "$output" != *tok3n* ]]
	grep -q '^oauth: refused$' "$OCI_DIR/token.log"
	# nothing went up: an anonymous pull finds no 1.2.0
	echo '{}' > none.json
	MLCTL_REGISTRY=$BATS_TEST_TMPDIR/other2 run -3 mlctl pull demo:1.2.0 --from "$NS" -o x \
		--registry-config none.json
	[ ! -e x ]
}

@test "a blob served by redirect to another host gets no token" {
	printf 'tok3n-pa55\n' | mlctl login "$OCI" -u ci --password-stdin -q
	mlctl push demo:1.0.0 --to "$NS" -q
	oci_redirect_start "$BATS_TEST_TMPDIR/bucket.log"
	oci_redirect_pull "$FRONT/t$BATS_TEST_NUMBER"
	# the token itself was there: the registry behind the front wanted one
	grep -q "^ci repository:t$BATS_TEST_NUMBER/demo:pull$" "$OCI_DIR/token.log"
}

@test "anonymous pulls get pull-only tokens; a push without credentials is refused, exit 7" {
	printf 'tok3n-pa55\n' | mlctl login "$OCI" -u ci --password-stdin -q
	mlctl push demo:1.0.0 --to "$NS" -q
	mlctl logout "$OCI" -q
	MLCTL_REGISTRY=$BATS_TEST_TMPDIR/other run -0 mlctl pull demo:1.0.0 --from "$NS" -o anon
	cmp anon/model.bin p/model.bin
	grep -q "^anonymous repository:t$BATS_TEST_NUMBER/demo:pull" "$OCI_DIR/token.log"
	next_version p 1.1.0
	run -7 mlctl push p --to "$NS"
	[[ "$output" == *"wants credentials"*"run 'mlctl login $OCI -u USER --password-stdin'"* ]]
}
