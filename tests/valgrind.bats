#!/usr/bin/env bats
# The main paths under valgrind: no invalid accesses, no leaks.

load helpers
load oci

vg() {
	valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--suppressions="$BATS_TEST_DIRNAME/valgrind.supp" --error-exitcode=42 "$MLCTL" "$@"
}

# a test that fails half-way must not leave its registry running (bats would
# wait for it at the end of the run)
teardown() {
	oci_stop
}

@test "init, package, push, list, versions, show, alias, pull, verify, reindex, smoke: valgrind-clean" {
	command -v valgrind >/dev/null || skip "valgrind is not installed"
	[[ "$MLCTL" != *build-san* ]] || skip "the sanitizer build checks this itself"
	make_project p
	rm p/mlctl.json
	run -0 vg init p --name vg
	run -0 vg package p -o p.mlpkg
	run -0 vg push p.mlpkg
	echo more >> p/model.bin
	run -0 vg push p --bump patch
	run -0 vg list
	run -0 vg versions vg
	run -0 vg show vg:0.1.0
	run -0 vg alias set vg:0.1.0 production --reason r
	run -0 vg alias set vg production
	run -0 vg alias list
	run -0 vg show vg:production
	run -0 vg versions vg --json
	run -0 vg pull vg -o out
	run -0 vg registry verify
	run -0 vg registry reindex
	run -0 vg alias rm vg production
	run -3 vg alias rm vg production
	bad_package digest bad.mlpkg
	run -5 vg push bad.mlpkg
	run -4 vg pull vg -o out
	sh "$FIXTURES/make-smoke-model.sh" good sm
	run -0 vg smoke sm
	sh "$FIXTURES/make-smoke-model.sh" http-good hs
	run -0 vg smoke hs
	sh "$FIXTURES/make-smoke-model.sh" crash2 c2
	run -1 vg smoke c2
	sh "$FIXTURES/make-smoke-model.sh" wrong wr
	run -1 vg smoke sm --baseline wr --max-drift 0.5 --junit j.xml --budget p95_ms=none \
		--budget max_rss_mb=4096 --env HOME --env X=1
	run -2 vg smoke sm --budget nope=1
	run -2 vg smoke sm --env 1=2
}

@test "remote, login, push --to, pull --from, show --from, logout: valgrind-clean" {
	command -v valgrind >/dev/null || skip "valgrind is not installed"
	[[ "$MLCTL" != *build-san* ]] || skip "the sanitizer build checks this itself"
	oci_start "$BATS_TEST_TMPDIR/oci" ci secret-pw
	export HOME=$BATS_TEST_TMPDIR/home MLCTL_RETRY_MS=1
	make_project p
	git init -q --bare h.git
	cp p/model.bin v1.bin
	run -0 vg remote add origin --oci "$OCI/ml" --git "$BATS_TEST_TMPDIR/h.git"
	run -0 vg remote list --json
	run -7 vg push p --to origin
	run -7 vg login "$OCI" -u ci --password-stdin <<< wrong
	run -0 vg login "$OCI" -u ci --password-stdin <<< secret-pw
	run -0 vg push p --to origin --chunk-size 8K
	run -0 vg push demo:1.0.0 --to origin --json
	run -0 vg pull demo:1.0.0 --from origin -o out
	run -0 vg pull demo --from origin --file '*.py' -o part
	run -0 vg show demo:1.0.0 --from origin --json
	run -3 vg pull demo:9.9.9 --from origin -o none
	run -0 vg registry sync origin
	MLCTL_REGISTRY=$BATS_TEST_TMPDIR/two run -0 vg remote add origin --oci "$OCI/ml" --git "$BATS_TEST_TMPDIR/h.git"
	MLCTL_REGISTRY=$BATS_TEST_TMPDIR/two run -0 vg registry sync origin
	run -0 vg alias set demo:1.0.0 production
	next_version p 1.1.0
	MLCTL_REGISTRY=$BATS_TEST_TMPDIR/two run -0 vg push p --no-validate
	MLCTL_REGISTRY=$BATS_TEST_TMPDIR/two run -0 vg registry sync origin
	run -0 vg registry sync origin
	MLCTL_REGISTRY=$BATS_TEST_TMPDIR/two run -0 vg pull demo:production --from origin -o prod
	run -0 vg logout "$OCI"
	run -0 vg remote rm origin
	oci_stop
	cmp out/model.bin v1.bin
	cmp prod/model.bin v1.bin
}

@test "token authentication and resumed uploads: valgrind-clean" {
	command -v valgrind >/dev/null || skip "valgrind is not installed"
	[[ "$MLCTL" != *build-san* ]] || skip "the sanitizer build checks this itself"
	oci_start "$BATS_TEST_TMPDIR/oci" --token ci secret-pw
	export HOME=$BATS_TEST_TMPDIR/home MLCTL_RETRY_MS=1
	make_project p
	head -c 300000 /dev/urandom >> p/model.bin
	mlctl push p -q
	run -0 vg login "$OCI" -u ci --password-stdin <<< secret-pw
	MLCTL_FAULT=oci-chunk:2 run vg push demo:1.0.0 --to "$OCI/ml" --chunk-size 64K
	[ "$status" -eq 99 ]
	run -0 vg push demo:1.0.0 --to "$OCI/ml" --chunk-size 64K
	run -0 vg pull demo:1.0.0 --from "$OCI/ml" -o out
	oci_stop
	cmp out/model.bin p/model.bin
}
