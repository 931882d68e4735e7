#!/usr/bin/env bats
# Replay: the database is rebuilt from the registry's git history, one event
# per commit. A commit whose event cannot be applied (written by hand, by an
# older mlctl, or by an attacker) is skipped with a warning and reported by
# verify; it never stops the rest of the registry from being served.

load helpers

GIT_ID=(-c user.name=someone -c user.email=someone@example.com)

# git_add_commit PATH CONTENT MESSAGE: a commit on the registry's branch adding PATH, made
# with git's plumbing as a hand (or an older mlctl) would; prints its id
git_add_commit() {
	local gd=$MLCTL_REGISTRY/index.git blob tree parent
	blob=$(printf '%s' "$2" | git --git-dir="$gd" hash-object -w --stdin)
	GIT_INDEX_FILE=$BATS_TEST_TMPDIR/git-index git --git-dir="$gd" read-tree refs/heads/main
	GIT_INDEX_FILE=$BATS_TEST_TMPDIR/git-index git --git-dir="$gd" update-index --add \
		--cacheinfo "100644,$blob,$1"
	tree=$(GIT_INDEX_FILE=$BATS_TEST_TMPDIR/git-index git --git-dir="$gd" write-tree)
	parent=$(git --git-dir="$gd" rev-parse refs/heads/main)
	commit=$(printf '%s' "$3" | git "${GIT_ID[@]}" --git-dir="$gd" commit-tree "$tree" -p "$parent")
	git --git-dir="$gd" update-ref refs/heads/main "$commit"
	echo "$commit"
}

# stored_manifest NAME VERSION: demo 1.0.0's manifest from git, renamed
stored_manifest() {
	git --git-dir="$MLCTL_REGISTRY/index.git" show main:models/demo/versions/1.0.0.json |
		sed -e "s|\"name\": \"demo\"|\"name\": \"$1\"|" -e "s|\"version\": \"1.0.0\"|\"version\": \"$2\"|"
}

# push_event NAME VERSION DIGEST: a push event's commit message
push_event() {
	printf 'push %s %s\n\n{"actor":"someone","digest":"%s","model":"%s","time":1700000000,"type":"push","version":"%s"}\n' \
		"$1" "$2" "$3" "$1" "$2"
}

# the registry serves demo and other, whatever was skipped
serves_the_rest() {
	run -0 --separate-stderr mlctl list
	[[ "$output" == *demo* && "$output" == *other* ]]
	[ -z "$stderr" ]
	run -0 mlctl versions demo
	run -0 mlctl show demo:1.0.0
	run -0 mlctl show demo:production
	run -0 mlctl pull demo:1.0.0 -o "pulled-$1"
	cmp "pulled-$1/model.bin" p/model.bin
}

# base: demo 1.0.0 pushed and aliased
base() {
	make_project p demo 1.0.0
	run -0 mlctl push p
	run -0 mlctl alias set demo:1.0.0 production
}

@test "a push of a name git cannot tag (a..b, team/x..y) is skipped; the rest is served" {
	base
	for name in a..b team/x..y; do
		m=$(stored_manifest "$name" 1.0.0)
		c=$(git_add_commit "models/$name/versions/1.0.0.json" "$m" \
			"$(push_event "$name" 1.0.0 sha256:0000000000000000000000000000000000000000000000000000000000000000)")
		# the first open replays it: a warning naming the commit and why, and the rest served
		run -0 --separate-stderr mlctl list
		[[ "$stderr" == *"warning: skipped commit ${c:0:12} of the registry's history (push event: its tag '$name@v1.0.0' is not valid: git refuses '..' in a reference name)"* ]]
		[[ "$output" == *demo* ]]
	done
	make_project q other 1.0.0
	run -0 mlctl push q
	serves_the_rest a
	# verify names the skipped commits and fails
	run -5 --separate-stderr mlctl registry verify
	[[ "$output" == *"commit ${c:0:12} of the registry's history was skipped (push event: its tag 'team/x..y@v1.0.0' is not valid"* ]]
	# and only that: a skipped version is not also "missing from the database"
	[ "$(grep -c 'was skipped' <<<"$output")" = 2 ]
	[[ "$output" != *"not in the database"* ]]
	[[ "$output" != *"versions but git has"* ]]
	# reindex rebuilds everything else, says again what it skips, and succeeds
	run -0 --separate-stderr mlctl registry reindex
	[[ "$output" == "reindexed: 3 events replayed from git: "* ]]
	[ "$(grep -c 'warning: skipped commit' <<<"$stderr")" = 2 ]
	serves_the_rest b
	run -0 git --git-dir="$MLCTL_REGISTRY/index.git" tag -l
	[ "$output" = "demo#production#1
demo@v1.0.0
other@v1.0.0" ]
}

@test "a pushed manifest with a metric 1e999, stored as null by an older mlctl, is skipped; the rest is served" {
	base
	for metric in 1e999 -1e999 null; do
		m=$(stored_manifest "bad$RANDOM" 1.0.0 | sed "s/\"accuracy\": 0.91/\"accuracy\": $metric/")
		name=$(sed -n 's/.*"name": "\([^"]*\)".*/\1/p' <<<"$m")
		c=$(git_add_commit "models/$name/versions/1.0.0.json" "$m" \
			"$(push_event "$name" 1.0.0 sha256:0000000000000000000000000000000000000000000000000000000000000000)")
		run -0 --separate-stderr mlctl versions demo
		[[ "$stderr" == *"warning: skipped commit ${c:0:12} of the registry's history (push event: models/$name/versions/1.0.0.json: "* ]]
		run -3 mlctl show "$name:1.0.0"
	done
	make_project q other 1.0.0
	run -0 mlctl push q
	serves_the_rest a
	run -5 mlctl registry verify
	[[ "$output" == *"commit ${c:0:12} of the registry's history was skipped"* ]]
	run -0 --separate-stderr mlctl registry reindex
	[ "$(grep -c 'warning: skipped commit' <<<"$stderr")" = 3 ]
	serves_the_rest b
}

@test "a commit with no event, one with a time 1e999, a wrong digest, an alias of a skipped version: each skipped" {
	base
	c1=$(git_add_commit notes.txt "by hand" "a hand-made commit")
	m=$(stored_manifest demo 2.0.0)
	c2=$(git_add_commit models/demo/versions/2.0.0.json "$m" \
		"$(push_event demo 2.0.0 sha256:1111111111111111111111111111111111111111111111111111111111111111)")
	c3=$(git_add_commit x.txt x "$(printf 'push demo 3.0.0\n\n{"type":"push","actor":"a","time":1e999}')")
	c4=$(git_add_commit y.txt y "$(printf 'alias demo staging\n\n{"type":"alias","actor":"a","time":1,"model":"demo","alias":"staging","version":"2.0.0","digest":"sha256:11","n":1}')")
	run -0 --separate-stderr mlctl list
	[ "$(grep -c 'warning: skipped commit' <<<"$stderr")" = 4 ]
	[[ "$stderr" == *"${c1:0:12}"*"${c2:0:12}"*"has digest sha256:"*"${c3:0:12}"*"${c4:0:12}"* ]]
	run -0 --separate-stderr mlctl list
	[ -z "$stderr" ]
	run -3 mlctl show demo:2.0.0
	run -3 mlctl show demo:staging
	make_project q other 1.0.0
	run -0 mlctl push q
	serves_the_rest a
	run -5 mlctl registry verify
	for c in "$c1" "$c2" "$c3" "$c4"; do [[ "$output" == *"commit ${c:0:12} "*"was skipped"* ]]; done
}

@test "a registry holding a name with a dot, made by an older mlctl, is read, pulled, aliased and verified" {
	base
	m=$(stored_manifest iris.v2 1.0.0)
	digest=sha256:$(printf '%s' "$m" | "$PY" -c 'import json, sys, hashlib
print(hashlib.sha256(json.dumps(json.load(sys.stdin), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest())')
	c=$(git_add_commit models/iris.v2/versions/1.0.0.json "$m" "$(push_event iris.v2 1.0.0 "$digest")")
	run -0 --separate-stderr mlctl list
	[ -z "$stderr" ]
	[[ "$output" == *iris.v2* ]]
	run -0 mlctl show iris.v2:1.0.0
	run -0 mlctl pull iris.v2 -o out
	cmp out/model.bin p/model.bin
	run -0 mlctl alias set iris.v2:1.0.0 production
	run -0 mlctl show iris.v2:production
	run -0 mlctl alias rm iris.v2 production
	run -0 mlctl registry verify
	run -0 mlctl registry reindex
	run -0 git --git-dir="$MLCTL_REGISTRY/index.git" tag -l 'iris.v2*'
	[ "$output" = "iris.v2#production!#2
iris.v2#production#1
iris.v2@v1.0.0" ]
	# but no new version of it: the name is not valid for new pushes
	next_version p 1.0.1
	sed -i 's/"name": "demo"/"name": "iris.v2"/' p/mlctl.json
	run -1 --separate-stderr mlctl push p
	[[ "$stderr" == *"name 'iris.v2' is not valid; use lowercase letters, digits, '_' and '-', starting and ending with a letter or digit, no dots"* ]]
}
