#!/usr/bin/env bats
# The registry's tags in DVC GTO's exact form, read back with git and checked
# against GTO's grammar and rules by tests/fixtures/gto-check.py: annotated,
# one counter per model, tag times strictly increasing per model, and an
# assignment on the commit its version is registered at. Registries an older
# mlctl wrote (per-alias counters) are rewritten when first opened.

load helpers

gto_check() {
	"$PY" "$FIXTURES/gto-check.py" "$MLCTL_REGISTRY/index.git"
}

# tag NAME FIELD: a field of a tag, read by git
tag() {
	git -C "$MLCTL_REGISTRY/index.git" for-each-ref "refs/tags/$1" --format="$2"
}

@test "moves of several aliases in one second take one counter per model and one-second steps" {
	make_project p demo 1.0.0
	mlctl push p -q
	next_version p 1.1.0
	mlctl push p -q
	make_project q other 1.0.0
	mlctl push q -q
	run -0 mlctl alias set demo:1.0.0 staging --reason "offline eval"
	[ "$output" = "demo:staging -> 1.0.0 (tag demo#staging#1)" ]
	run -0 mlctl alias set demo:1.0.0 production
	[ "$output" = "demo:production -> 1.0.0 (tag demo#production#2)" ]
	run -0 mlctl alias set other:1.0.0 production
	[ "$output" = "other:production -> 1.0.0 (tag other#production#1)" ]
	run -0 mlctl alias set demo:1.1.0 staging
	[ "$output" = "demo:staging -> 1.1.0, was 1.0.0 (tag demo#staging#3)" ]
	run -0 mlctl alias rm demo production --reason "incident 7"
	[ "$output" = "removed demo:production, which pointed at 1.0.0 (tag demo#production!#4)" ]
	run -0 gto_check
	[[ "$output" == *"assign 4"* && "$output" == *"register 3"* && "$output" == *"unassign 1"* ]]
	# tagger the actor, message the reason (else what moved)
	[ "$(tag 'demo#staging#1' '%(taggername) %(taggeremail)')" = "Test Runner <ci@example.com>" ]
	[ "$(tag 'demo#staging#1' '%(contents:subject)')" = "offline eval" ]
	[ "$(tag 'demo#production!#4' '%(contents:subject)')" = "incident 7" ]
	[ "$(tag 'demo#production#2' '%(contents:subject)')" = "alias demo production 1.0.0" ]
	# on the version's own commit, as NAME@vX.Y.Z is
	[ "$(tag 'demo#staging#3' '%(*objectname)')" = "$(tag 'demo@v1.1.0' '%(*objectname)')" ]
	# five tags of demo made within a second or two: each one second after the last
	t1=$(tag 'demo@v1.0.0' '%(taggerdate:unix)')
	t5=$(tag 'demo#production!#4' '%(taggerdate:unix)')
	[ $((t5 - t1)) -ge 5 ]
}

@test "a replay makes the very same tag objects (reindex, a lost database or tag)" {
	make_project p demo 1.0.0
	mlctl push p -q
	mlctl alias set demo:1.0.0 staging -q
	mlctl alias set demo:1.0.0 production -q
	before=$(git -C "$MLCTL_REGISTRY/index.git" for-each-ref refs/tags --format='%(refname) %(objectname)')
	run -0 mlctl registry reindex
	[ "$(git -C "$MLCTL_REGISTRY/index.git" for-each-ref refs/tags --format='%(refname) %(objectname)')" = "$before" ]
	# a tag lost (a clone that left it behind) is made again, the same object
	git -C "$MLCTL_REGISTRY/index.git" tag -d 'demo#staging#1'
	rm "$MLCTL_REGISTRY"/mlctl.db*
	run -0 mlctl registry reindex
	[ "$(git -C "$MLCTL_REGISTRY/index.git" for-each-ref refs/tags --format='%(refname) %(objectname)')" = "$before" ]
	run -0 gto_check
}

@test "a registry with per-alias counters (schema 5) is rewritten into GTO's form, keeping its history" {
	tar -C "$BATS_TEST_TMPDIR" -xzf "$FIXTURES/registry-v5.tar.gz"
	run -1 gto_check
	[[ "$output" == *"counters repeat"* ]]
	[ "$(sqlite3 "$MLCTL_REGISTRY/mlctl.db" 'PRAGMA user_version')" = 5 ]
	old_events=$(git -C "$MLCTL_REGISTRY/index.git" log --format=%H main | wc -l)
	run -0 mlctl alias list
	[[ "${lines[1]}" =~ ^iris\ +production\ +1\.1\.0 ]]
	[[ "${lines[2]}" =~ ^iris\ +staging\ +1\.1\.0 ]]
	[[ "${lines[3]}" =~ ^wine\ +staging\ +0\.1\.0 ]]
	[ "${#lines[@]}" = 4 ]
	[ "$(sqlite3 "$MLCTL_REGISTRY/mlctl.db" 'PRAGMA user_version')" -ge 6 ]
	run -0 gto_check
	run -0 git -C "$MLCTL_REGISTRY/index.git" tag -l
	[ "$output" = "$(printf '%s\n' 'iris#canary!#6' 'iris#canary#5' 'iris#production#2' \
		'iris#production#4' 'iris#staging#1' 'iris#staging#3' iris@v1.0.0 iris@v1.1.0 \
		iris@v2.0.0 'wine#staging#1' wine@v0.1.0)" ]
	# the history is the same commits; the reasons are on the tags
	[ "$(git -C "$MLCTL_REGISTRY/index.git" log --format=%H main | wc -l)" = "$old_events" ]
	[ "$(tag 'iris#production#4' '%(contents:subject)')" = "CHG-2" ]
	[ "$(tag 'iris#canary!#6' '%(contents:subject)')" = "too slow" ]
	[ "$(tag 'iris#production#4' '%(*objectname)')" = "$(tag 'iris@v1.1.0' '%(*objectname)')" ]
	[ "$(sqlite3 "$MLCTL_REGISTRY/mlctl.db" "SELECT count(*) FROM events WHERE type <> 'skipped'")" = "$old_events" ]
	run -0 mlctl registry verify
	# the next move goes on from the model's counter
	run -0 mlctl alias set iris:2.0.0 canary
	[ "$output" = "iris:canary -> 2.0.0 (tag iris#canary#7)" ]
	run -0 gto_check
}

@test "aliases and names outside GTO's grammar are refused; ones an older mlctl kept still work" {
	make_project p demo 1.0.0
	mlctl push p -q
	run -2 mlctl alias set demo:1.0.0 Production
	run -2 mlctl alias set demo:1.0.0 prod.eu
	run -2 mlctl alias set demo:1.0.0 1st
	run -2 mlctl alias set demo:1.0.0 prod-
	run -0 gto_check
}
