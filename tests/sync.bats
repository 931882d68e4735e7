#!/usr/bin/env bats
# registry sync: two registries ("two teams") sharing their history through
# a bare git repository and their bytes through a real OCI registry
# (Debian's docker-registry on 127.0.0.1); git itself reads the result.

load helpers
load oci
load sshd

setup_file() {
	oci_start "$BATS_FILE_TMPDIR/oci"
}

teardown_file() {
	oci_stop
}

# what a test started beyond the registry, stopped even when it failed
teardown() {
	[ -z "${SSHD_PID:-}" ] || sshd_stop
	[ -z "${WEB_PID:-}" ] || kill "$WEB_PID" 2>/dev/null || true
}

setup() {
	oci_test_setup
	unset MLCTL_REGISTRY MLCTL_ACTOR # each team its own, through as()
	git init -q --bare hist.git
	NS="$OCI/t$BATS_TEST_NUMBER"
	for t in A B; do
		mlctl --registry "$t" remote add origin --oci "$NS" --git "$BATS_TEST_TMPDIR/hist.git" >/dev/null
	done
}

# as TEAM CMD...: mlctl on TEAM's registry, TEAM as the actor
as() {
	local t=$1
	shift
	MLCTL_ACTOR="Team $t <$t@example.com>" "$MLCTL" --registry "$BATS_TEST_TMPDIR/$t" "$@"
}

# gto_check GITDIR: the tags as DVC GTO reads them: annotated; NAME#ALIAS#N
# on the commit of NAME@vVERSION for the version the move named; numbers
# unique and increasing in time per alias
gto_check() {
	"$PY" - "$1" <<'PY'
import subprocess, sys, re
git = sys.argv[1]
out = subprocess.run(["git", "-C", git, "for-each-ref", "refs/tags",
                      "--format=%(refname:strip=2)|%(objecttype)|%(*objectname)|%(taggerdate:unix)"],
                     capture_output=True, text=True, check=True).stdout.split("\n")
tags = {}
for line in filter(None, out):
    name, kind, target, when = line.split("|")
    assert kind == "tag", f"{name} is not annotated"
    tags[name] = (target, int(when))
moves = {}
for name, (target, when) in tags.items():
    m = re.fullmatch(r"(.+)#(.+?)(!?)#(\d+)", name)
    if not m:
        assert re.fullmatch(r".+@v\d+\.\d+\.\d+.*", name), name
        continue
    msg = subprocess.run(["git", "-C", git, "cat-file", "tag", name], capture_output=True,
                         text=True, check=True).stdout
    moves.setdefault((m[1], m[2]), []).append((int(m[4]), when, target, name))
for key, ms in moves.items():
    ns = [n for n, *_ in ms]
    assert len(ns) == len(set(ns)), f"{key}: numbers repeat: {ns}"
    ms.sort()
    assert [w for _, w, *_ in ms] == sorted(w for _, w, *_ in ms), f"{key}: out of order"
    for n, w, target, name in ms:
        # the move's commit names the version; the tag must sit on that version's commit
        log = subprocess.run(["git", "-C", git, "log", "--format=%H %s", "main"],
                             capture_output=True, text=True, check=True).stdout
        assert any(l.startswith(target) for l in log.splitlines()), f"{name} is off the branch"
        vtags = [t for t, (tt, _) in tags.items() if "@v" in t and tt == target]
        assert vtags, f"{name} is not on a version's commit"
print(len(tags))
PY
}

@test "two teams push different versions and move the same alias; after syncing both see both" {
	make_project p demo 1.0.0
	as A push p --to origin -q
	as B registry sync origin -q
	cp -r p pa && next_version pa 1.1.0
	cp -r p pb && next_version pb 1.2.0
	as A push pa --to origin -q
	as A alias set demo:1.1.0 production --reason "A's eval" -q
	as A registry sync origin -q
	as B push pb -q
	as B alias set demo:1.2.0 production --reason "B's eval" -q
	run -0 --separate-stderr as B registry sync origin
	[[ "$output" == "synced with origin at "*": 2 events from the remote, 2 of ours put on top (1 tag renumbered), branch pushed, 2 tags pushed" ]]
	as A registry sync origin -q
	for t in A B; do
		run -0 as $t versions demo --json
		[ "$(echo "$output" | "$PY" -c 'import json,sys; print(sorted(v["version"] for v in json.load(sys.stdin)["versions"]))')" = "['1.0.0', '1.1.0', '1.2.0']" ]
		run -0 as $t alias list demo --json
		[ "$(echo "$output" | "$PY" -c 'import json,sys; a=json.load(sys.stdin)["aliases"][0]; print(a["version"], a["actor"])')" = "1.2.0 Team B <B@example.com>" ]
		run -0 as $t registry verify
		[ "$(git -C $t/index.git rev-parse main)" = "$(git -C hist.git rev-parse main)" ]
		diff <(git -C $t/index.git for-each-ref refs/tags) <(git -C hist.git for-each-ref refs/tags)
		# every file of every version is here, byte for byte
		as $t pull demo:1.1.0 -o $t-11 -q && cmp $t-11/model.bin pa/model.bin
		as $t pull demo:1.2.0 -o $t-12 -q && cmp $t-12/model.bin pb/model.bin
	done
	run -0 gto_check hist.git
	[ "$output" = 5 ]
	# DVC GTO's grammar and rules: one counter per model, tag times one second apart
	"$PY" "$FIXTURES/gto-check.py" hist.git
	git -C hist.git fsck --strict --no-dangling
	# the history keeps who did what and why, in the order it reached the remote
	run -0 git -C hist.git log --format='%an|%s' main
	[ "${lines[0]}" = "Team B|alias demo production -> 1.2.0" ]
	[ "${lines[2]}" = "Team A|alias demo production -> 1.1.0" ]
	[ "$(git -C hist.git tag -l 'demo#production#*' | sort | tr '\n' ' ')" = "demo#production#1 demo#production#2 " ]
	[ "$(git -C hist.git cat-file tag 'demo#production#2' | tail -1)" = "B's eval" ]
}

@test "the release workflow syncs: a policy and an approval made by one team count for the other's promotion" {
	make_project p demo 1.0.0
	as A push p --to origin -q
	as A policy set demo production --approvals 1 --reason "two people" -q
	as A registry sync origin -q
	as B registry sync origin -q
	cp -r p pb && next_version pb 1.1.0
	as B push pb --to origin -q
	as A registry sync origin -q
	# A approves B's version; B's promotion counts it once the history met
	run -0 as A approve demo:1.1.0 production --reason "read B's report"
	run -1 as B promote demo:1.1.0 production
	as A registry sync origin -q
	as B registry sync origin -q
	run -0 as B promote demo:1.1.0 production --reason "CHG-9"
	# both sides deprecate and move other things meanwhile: counters renumbered per model
	as A deprecate demo:1.0.0 --reason "old" -q
	as B alias set demo:1.0.0 canary -q
	as A registry sync origin -q
	run -0 --separate-stderr as B registry sync origin
	[[ "$output" == *"2 of ours put on top (2 tags renumbered)"* ]]
	as A registry sync origin -q
	for t in A B; do
		run -0 as $t policy show demo production --json
		[[ "$output" == *'"approvals": 1'* ]]
		run -0 as $t history demo --alias production --json
		"$PY" -c '
import json, sys
ev = json.loads(sys.argv[1])["events"]
kinds = [(e["type"], e.get("via"), e["actor"].split()[1]) for e in ev]
assert kinds == [("alias", "promote", "B"), ("approve", None, "A"), ("policy", None, "A")], kinds' "$output"
		run -0 as $t versions demo --json
		[[ "$output" == *'"deprecated": "20'* ]]
		run -0 as $t registry verify
		diff <(git -C $t/index.git for-each-ref refs/tags) <(git -C hist.git for-each-ref refs/tags)
	done
	"$PY" "$FIXTURES/gto-check.py" hist.git
}

@test "a shared remote an older mlctl wrote (per-alias tag counters): sync replaces its stale tags, both sides read as GTO" {
	tar -xzf "$FIXTURES/registry-v5.tar.gz"
	# the team's remote as the older mlctl left it: the same history, the old tags
	git -C registry/index.git push -q "$BATS_TEST_TMPDIR/hist.git" 'refs/heads/*:refs/heads/*' \
		'refs/tags/*:refs/tags/*'
	run -1 "$PY" "$FIXTURES/gto-check.py" hist.git
	# and a tag of someone else's, outside the tag space of this registry's models
	git -C registry/index.git -c user.name=Other -c user.email=o@example.com \
		tag -a -m "not mlctl's" 'release@v2' main
	git -C registry/index.git push -q "$BATS_TEST_TMPDIR/hist.git" 'refs/tags/release@v2'
	git -C registry/index.git tag -d 'release@v2' >/dev/null
	mlctl --registry registry remote add origin --oci "$NS" --git "$BATS_TEST_TMPDIR/hist.git" >/dev/null
	run -0 as registry registry sync origin
	[[ "$output" == *", 9 tags pushed (9 stale tags of the remote replaced or removed)" ]]
	# kept, there and here; then gone, for GTO's reading below
	git -C hist.git tag -d 'release@v2'
	git -C registry/index.git tag -d 'release@v2'
	run -0 "$PY" "$FIXTURES/gto-check.py" hist.git
	diff <(git -C registry/index.git for-each-ref refs/tags) <(git -C hist.git for-each-ref refs/tags)
	run -0 as registry registry sync origin --json
	[ "$(echo "$output" | jq -c '[.sync.pushed_tags, .sync.replaced_tags]')" = "[0,0]" ]
	# the bytes the older mlctl would have sent, then another team reads it all
	for v in iris:1.0.0 iris:1.1.0 iris:2.0.0 wine:0.1.0; do
		as registry push "$v" --to origin -q
	done
	run -0 as B registry sync origin
	diff <(git -C B/index.git for-each-ref refs/tags) <(git -C hist.git for-each-ref refs/tags)
	run -0 as B alias list
	[[ "$output" == *"production  1.1.0"* ]]
	run -0 as B registry verify
}

@test "a version pushed on both sides with other content: exit 4 naming both digests, nothing changed" {
	make_project p demo 1.0.0
	as A push p --to origin -q
	make_project q demo 1.0.0
	as B push q -q
	# what the registry says (fetched objects are a cache, and may stay)
	state() {
		git -C B/index.git for-each-ref refs/heads refs/tags
		sqlite3 B/mlctl.db .dump
		MLCTL_REGISTRY=$BATS_TEST_TMPDIR/B blobs_state
	}
	before=$(state)
	remote=$(git -C hist.git rev-parse main)
	run -4 as B registry sync origin
	da=$(as A show demo:1.0.0 --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["digest"])')
	db=$(as B show demo:1.0.0 --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["digest"])')
	[[ "$output" == *"demo:1.0.0 is $da on the remote 'origin' but $db here"*"nothing was synced"* ]]
	[ "$(state)" = "$before" ]
	run -0 as B registry verify
	[ "$(git -C hist.git rev-parse main)" = "$remote" ]
}

@test "a fresh machine: remote add and sync bring the history and the bytes; pull --from reads aliases from git" {
	make_project p demo 1.0.0
	as A push p --to origin -q
	as A alias set demo:1.0.0 production -q
	as A registry sync origin -q
	# another machine pulls production without syncing: the remote's git says where it points
	mlctl --registry C remote add origin --oci "$NS" --git "$BATS_TEST_TMPDIR/hist.git" -q
	run -0 mlctl --registry C pull demo:production --from origin -o prod
	[[ "${lines[0]}" == "pulled demo:1.0.0 sha256:"*" from $NS/demo@sha256:"*" into prod" ]]
	cmp prod/model.bin p/model.bin
	run -3 mlctl --registry C versions demo  # nothing was merged by the pull
	run -0 --separate-stderr mlctl --registry C registry sync origin
	[[ "$stderr" == *"3 files ("*") of the versions that arrived fetched from the OCI registry"* ]]
	run -0 mlctl --registry C registry verify
	run -0 mlctl --registry C pull demo:production -o local
	diff -r local prod
	# the alias moves on the remote: pull --from follows it, not this registry's copy
	cp -r p p2 && next_version p2 1.1.0
	as A push p2 --to origin -q
	as A alias set demo:1.1.0 production -q
	as A registry sync origin -q
	run -0 mlctl --registry C pull demo:production --from origin -o prod2
	[[ "$output" == "pulled demo:1.1.0 "* ]]
}

@test "push --to a remote with a git URL syncs after the bytes; a cut-short push is finished by the next sync" {
	make_project p demo 1.0.0
	run -0 --separate-stderr as A push p --to origin --json
	echo "$output" > out.json
	"$PY" -c 'import json,sys; d=json.load(open("out.json")); s=d["sync"]; assert s["pushed_branch"] and s["pushed_tags"] == 1, s'
	[ "$(git -C hist.git tag)" = "demo@v1.0.0" ]
	as A alias set demo:1.0.0 production -q
	# the branch goes by another way, the tags do not: a push cut short
	git -C A/index.git push -q "$BATS_TEST_TMPDIR/hist.git" main
	[ "$(git -C hist.git tag)" = "demo@v1.0.0" ]
	run -0 as A registry sync origin
	[[ "$output" == *"branch as it was, 1 tag pushed" ]]
	[ "$(git -C hist.git tag | sort | tr '\n' ' ')" = "demo#production#1 demo@v1.0.0 " ]
	run -0 as A registry sync origin
	[[ "$output" == *": 0 events from the remote, 0 of ours put on top, branch as it was, 0 tags pushed" ]]
}

@test "sync refuses what it cannot do: no git URL, a git remote that is not there, a git-only remote without the bytes" {
	mlctl --registry C remote add ocionly --oci "$NS" -q
	run -2 mlctl --registry C registry sync ocionly
	[[ "$output" == *"remote 'ocionly' has no git URL"* ]]
	mlctl --registry C remote add gone --git "$BATS_TEST_TMPDIR/nothere.git" -q
	run -7 mlctl --registry C registry sync gone
	[[ "$output" == *"no git repository at $BATS_TEST_TMPDIR/nothere.git (remote 'gone'); make one with 'git init --bare -b main $BATS_TEST_TMPDIR/nothere.git'"* ]]
	run -3 mlctl --registry C registry sync nosuch
	run -2 mlctl --registry C registry sync
	make_project p demo 1.0.0
	as A push p --to origin -q
	mlctl --registry D remote add gitonly --git "$BATS_TEST_TMPDIR/hist.git" -q
	run -2 mlctl --registry D registry sync gitonly
	[[ "$output" == *"names 3 files that are not here, and it has no OCI location to fetch them from"* ]]
	run -3 mlctl --registry D versions demo
}

@test "sync in a CI runner's bare environment: no git identity, no locale, no HOME config" {
	make_project p demo 1.0.0
	mkdir bare
	run -0 env -i PATH=/usr/bin:/bin HOME="$PWD/bare" MLCTL_RETRY_MS=1 "$MLCTL" --registry "$PWD/A" push p --to origin
	run -0 env -i PATH=/usr/bin:/bin HOME="$PWD/bare" MLCTL_RETRY_MS=1 "$MLCTL" --registry "$PWD/B" registry sync origin
	[ "$(git -C hist.git rev-parse main)" = "$(git -C B/index.git rev-parse main)" ]
	run -0 "$MLCTL" --registry "$PWD/B" registry verify
}

@test "a sync killed at any step leaves registries verify calls clean, and the next sync finishes it" {
	make_project p demo 1.0.0
	as A push p --to origin -q
	as B registry sync origin -q
	cp -r p pa && next_version pa 1.1.0
	as A push pa --to origin -q
	as A alias set demo:1.1.0 production -q
	as A registry sync origin -q
	cp -r p pb && next_version pb 1.2.0
	as B push pb -q
	as B alias set demo:1.2.0 production -q
	cp -r B B0
	n=0
	for point in git-object git-objects git-branch git-untag git-tag git-applied db-committed; do
		rm -rf B && cp -r B0 B
		MLCTL_FAULT=$point run as B registry sync origin
		[ "$status" -eq 99 ] || continue # this sync does not pass that point
		n=$((n + 1))
		run as B registry verify
		[ "$status" -eq 0 ] || { echo "after a kill at $point: $output"; false; }
		run -0 as B registry sync origin
		run -0 as B registry verify
		run -0 as B alias list demo --json
		[[ "$output" == *'"version": "1.2.0"'* ]]
		[ "$(as B versions demo --json | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["versions"]))')" = 3 ]
	done
	[ "$n" -ge 5 ]
}

@test "a relative --git path works from any folder; an empty remote syncs; a failed sync after push --to says the bytes went up" {
	mkdir sub && git init -q --bare sub/rel.git
	mlctl --registry "$PWD/E" remote add rel --oci "$NS" --git sub/rel.git -q
	[ "$(git -C E/index.git config remote.rel.url)" = "$BATS_TEST_TMPDIR/sub/rel.git" ]
	run -0 bash -c "cd / && '$MLCTL' --registry '$BATS_TEST_TMPDIR/E' registry sync rel"
	[ "$output" = "synced with rel: no history on either side yet" ]
	make_project p demo 1.0.0
	mlctl --registry "$PWD/E" remote add gone --oci "$NS" --git "$BATS_TEST_TMPDIR/nothere.git" -q
	run -7 mlctl --registry "$PWD/E" push p --to gone
	[[ "$output" == *"demo:1.0.0 is stored here and on the OCI registry, but its history was not synced with 'gone'"*"no git repository at $BATS_TEST_TMPDIR/nothere.git"* ]]
	run -0 skopeo inspect --tls-verify=false --raw "docker://$NS/demo:1.0.0"
}

@test "remote rm takes what the remote's sync fetched and its config section; a new remote of that name starts afresh" {
	make_project p demo 1.0.0
	as A push p --to origin -q
	as B registry sync origin -q
	[ -n "$(git -C B/index.git for-each-ref refs/mlctl/sync/origin/)" ]
	run -0 as B remote rm origin
	[ -z "$(git -C B/index.git for-each-ref refs/mlctl/sync/)" ]
	run -1 grep -F '[remote "origin"]' B/index.git/config
	# git reads what is left
	git -C B/index.git config --list > /dev/null
	# another history under the same name: nothing of the old one's taken for its own
	git init -q --bare other.git
	as B remote add origin --oci "$NS-2" --git "$BATS_TEST_TMPDIR/other.git" -q
	run -0 --separate-stderr as B registry sync origin
	[ -z "$(git -C B/index.git for-each-ref refs/mlctl/sync/origin/tags/)" ]
	[ "$(git -C other.git rev-parse main)" = "$(git -C B/index.git rev-parse main)" ]
	run -0 as B registry verify
	# a remote and its section survive when another remote is removed
	as B remote add mirror --oci "$NS-3" -q
	as B remote rm mirror -q
	[ "$(git -C B/index.git config remote.origin.url)" = "$BATS_TEST_TMPDIR/other.git" ]
	run -1 grep -F '[remote "mirror"]' B/index.git/config
}

@test "a git remote over http(s) that wants a password gets it from git's credential helper; none or a wrong one is exit 7 saying what to do" {
	port=$(free_port)
	python3 "$FIXTURES/git-http.py" "$BATS_TEST_TMPDIR" "$port" ci 'g1t-s3cret' git-http.log &
	WEB_PID=$!
	oci_wait_port "$port"
	url="http://127.0.0.1:$port/hist.git"
	mlctl --registry A remote add web --oci "$NS" --git "$url" -q
	make_project p demo 1.0.0
	as A push p -q
	# no helper: git's own answer would be a prompt; mlctl never prompts
	run -7 as A registry sync web
	[[ "$output" == *"it wants a user and password, and git's credential helpers have none for $url; set one up"* ]]
	# a helper (git's own store) with a wrong password: refused, and the helper told to drop it
	git config --global credential.helper "store --file=$BATS_TEST_TMPDIR/git-creds"
	echo "http://ci:wrong-one@127.0.0.1:$port" > git-creds
	run -7 as A registry sync web
	[[ "$output" == *"it refused the user and password git's credential helper gave for $url"* ]]
	[[ "$output" != *wrong-one* ]]
	[ ! -s git-creds ]
	grep -q " 401 refused$" git-http.log
	# the right one: the history goes up over http, and git itself reads it there
	echo "http://ci:g1t-s3cret@127.0.0.1:$port" > git-creds
	run -0 as A registry sync web
	[[ "$output" != *g1t-s3cret* ]]
	[ "$(git -C hist.git rev-parse main)" = "$(git -C A/index.git rev-parse main)" ]
	git -C hist.git log --format=%s main | grep -q 'demo'
	! grep -rq g1t-s3cret A/index.git/config || false
	# another team fetches through it too
	mlctl --registry B remote add web --oci "$NS" --git "$url" -q
	run -0 as B registry sync web
	run -0 as B versions demo
}

@test "git's url.*.insteadOf and pushInsteadOf rewrite the git URL as git would" {
	git init -q --bare pushed.git
	git config --global url."$BATS_TEST_TMPDIR/".insteadOf "team:"
	git config --global url."$BATS_TEST_TMPDIR/pushed.git".pushInsteadOf "team:hist.git"
	# a shorter match loses to the longest one
	git config --global url."$BATS_TEST_TMPDIR/nothere/".insteadOf "te"
	mlctl --registry C remote add short --oci "$NS" --git team:hist.git -q
	make_project p demo 1.0.0
	as C push p -q
	run -0 as C registry sync short
	# pushed where pushInsteadOf says (team:hist.git -> .../pushed.git)
	[ "$(git -C pushed.git rev-parse main)" = "$(git -C C/index.git rev-parse main)" ]
	run git -C hist.git rev-parse --verify -q main
	[ "$status" -ne 0 ]
	# without pushInsteadOf, insteadOf rewrites pushes too: C's history goes on top of
	# what another team put in hist.git, and both versions are there
	git config --global --unset url."$BATS_TEST_TMPDIR/pushed.git".pushInsteadOf
	next_version p 2.0.0
	as A push p --to origin -q
	run -0 as C registry sync short
	run -0 as C versions demo --json
	[[ "$output" == *'"2.0.0"'* && "$output" == *'"1.0.0"'* ]]
	[ "$(git -C hist.git rev-parse main)" = "$(git -C C/index.git rev-parse main)" ]
	# the URL is kept as it was given
	[ "$(git -C C/index.git config remote.short.url)" = team:hist.git ]
}

@test "an ssh git remote: ssh-agent's keys, and the host key checked against known_hosts (unknown, changed and revoked are refused)" {
	sshd_start "$BATS_TEST_TMPDIR/ssh" || skip "no OpenSSH server or agent here"
	# libgit2 1.5's ssh transport never frees what it allocates per connection
	# (libssh2_knownhost_init and its own buffers, under git_remote_fetch and
	# git_remote_push; valgrind shows none of it through mlctl's callbacks): under
	# AddressSanitizer, leaks are not counted for this test's commands
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
	url="ssh://$SSH_USER@127.0.0.1:$SSH_PORT$BATS_TEST_TMPDIR/hist.git"
	mlctl --registry C remote add ssh --oci "$NS" --git "$url" -q
	make_project p demo 1.0.0
	as C push p -q
	mkdir -p "$HOME/.ssh"
	# a host known_hosts does not name: refused, as ssh with StrictHostKeyChecking
	run -7 as C registry sync ssh
	[[ "$output" == *"[127.0.0.1]:$SSH_PORT is not in $HOME/.ssh/known_hosts or /etc/ssh/ssh_known_hosts; check its key and add it"* ]]
	# known with another key: refused (someone in the middle)
	ssh-keygen -q -t ed25519 -N '' -f other_key
	echo "[127.0.0.1]:$SSH_PORT $(cut -d' ' -f1,2 other_key.pub)" > "$HOME/.ssh/known_hosts"
	run -7 as C registry sync ssh
	[[ "$output" == *"the host key of [127.0.0.1]:$SSH_PORT is not the one known_hosts has for it"* ]]
	# known, in the hashed form ssh writes by default: the history goes up, git reads it there
	echo "[127.0.0.1]:$SSH_PORT $SSH_HOST_KEY" > "$HOME/.ssh/known_hosts"
	ssh-keygen -q -H -f "$HOME/.ssh/known_hosts" 2>/dev/null
	! grep -q 127.0.0.1 "$HOME/.ssh/known_hosts" || false
	run -0 as C registry sync ssh
	[ "$(git -C hist.git rev-parse main)" = "$(git -C C/index.git rev-parse main)" ]
	# the same key marked revoked: refused
	echo "@revoked [127.0.0.1]:$SSH_PORT $SSH_HOST_KEY" >> "$HOME/.ssh/known_hosts"
	run -7 as C registry sync ssh
	[[ "$output" == *"is not the one known_hosts has"* ]]
	# an agent without the key: refused, naming the user, not tried forever
	echo "[127.0.0.1]:$SSH_PORT $SSH_HOST_KEY" > "$HOME/.ssh/known_hosts"
	ssh-add -q -D 2>/dev/null
	run -7 as C registry sync ssh
	[[ "$output" == *"the ssh server took none of ssh-agent's keys for '$SSH_USER'"* ]]
}

@test "sync --theirs NAME:VERSION keeps the remote's side of a conflicting version: ours goes with what named it, the rest of ours stays" {
	make_project p demo 1.0.0
	as A push p --to origin -q
	make_project q demo 1.0.0
	as B push q -q
	as B alias set demo:1.0.0 staging -q
	next_version q 1.1.0
	as B push q -q
	as B alias set demo:1.1.0 canary -q
	ours=$(as B show demo:1.0.0 --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["digest"])')
	theirs=$(as A show demo:1.0.0 --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["digest"])')
	run -4 as B registry sync origin
	[[ "$output" == *"Keep the remote's with 'mlctl registry sync origin --theirs demo:1.0.0'"* ]]
	run -4 as B push demo:1.0.0 --to origin
	[[ "$output" == *"a version's tag never moves"*"to keep the remote's instead: 'mlctl registry sync origin --theirs demo:1.0.0'"* ]]
	[[ "$output" != *"sends the rest"* ]]
	# --theirs for a version that is not in conflict, or not a version: nothing moves
	before=$(git -C B/index.git rev-parse main)
	run -2 as B registry sync origin --theirs demo:1.0.0 --theirs demo:1.1.0
	[[ "$output" == *"--theirs demo:1.1.0: this registry has no demo:1.1.0 that the remote 'origin' has with other content; nothing was synced"* ]]
	run -2 as B registry sync origin --theirs demo:staging
	[[ "$output" == *"--theirs 'demo:staging' is not NAME:VERSION"* ]]
	run -2 as B registry verify --theirs demo:1.0.0
	[ "$(git -C B/index.git rev-parse main)" = "$before" ]
	run -0 --separate-stderr as B registry sync origin --theirs demo:1.0.0 --json
	[ "$(echo "$output" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["sync"]["given_up"])')" = 2 ]
	# the remote's 1.0.0 here, our 1.1.0 and its alias kept; the alias on our 1.0.0 gone
	[ "$(as B show demo:1.0.0 --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["digest"])')" = "$theirs" ]
	as B show demo:1.1.0 -q >/dev/null
	run -0 as B alias list demo --json
	[[ "$output" == *canary* && "$output" != *staging* ]]
	! git -C B/index.git log --format=%B main | grep -q "$ours" || false
	[ "$(git -C hist.git rev-parse main)" = "$(git -C B/index.git rev-parse main)" ]
	run -0 as B registry verify
	gto_check hist.git
	# the other team sees our 1.1.0, and their 1.0.0 unchanged
	run -0 as A registry sync origin
	[ "$(as A show demo:1.0.0 --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["digest"])')" = "$theirs" ]
	as A show demo:1.1.0 -q >/dev/null
}

@test "push --to --aliases tags from the history as synced: a tag never goes back to a version the alias left elsewhere" {
	make_project p demo 1.0.0
	as A push p -q
	as A alias set demo:1.0.0 production -q
	as A push demo:1.0.0 --to origin --aliases -q
	as B registry sync origin -q
	next_version p 1.1.0
	as B push p -q
	as B alias set demo:1.1.0 production -q
	as B push demo:1.1.0 --to origin --aliases -q
	tagged() { curl -sI "http://$OCI/v2/t$BATS_TEST_NUMBER/demo/manifests/$1" | tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p'; }
	new=$(tagged 1.1.0)
	[ "$(tagged production)" = "$new" ]
	# A still has production on 1.0.0 here; its push syncs first, and tags nothing back
	run -0 --separate-stderr as A push demo:1.0.0 --to origin --aliases
	[[ "$stderr" != *"tagged production"* ]]
	[ "$(tagged production)" = "$new" ]
	[ "$(as A alias list demo --json | "$PY" -c 'import json,sys; print([a["version"] for a in json.load(sys.stdin)["aliases"] if a["alias"] == "production"][0])')" = 1.1.0 ]
}
