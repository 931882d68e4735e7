#!/usr/bin/env bats
# A crash at any point of a write leaves a registry 'registry verify' calls
# clean, and no version, alias or record is ever half there. Each write
# command is run once with MLCTL_FAULT_TRACE to learn every fault point it
# passes (lib/util.h lists them), then crashed at each in turn
# (MLCTL_FAULT=POINT:N, the N-th pass), from the same registry each time.
# After each crash: verify exits 0; what the registry holds, read through
# mlctl, git and the database (view below), is what it held before the
# command or what the command makes, whole; the command run again succeeds;
# and 'registry gc' leaves no leftover (verify says nothing more, tmp/ is
# empty, blobs/ is what an uncrashed run leaves). Then kill -9 at random
# moments of pushes and pulls of a large model.

load helpers

# snapshot: keep the registry as it is now; restore puts it back (or none, if there was none)
snapshot() {
	rm -rf "$BATS_TEST_TMPDIR/snap"
	if [ -e "$MLCTL_REGISTRY" ]; then
		cp -a "$MLCTL_REGISTRY" "$BATS_TEST_TMPDIR/snap"
	fi
}

restore() {
	rm -rf "$MLCTL_REGISTRY"
	if [ -e "$BATS_TEST_TMPDIR/snap" ]; then
		cp -a "$BATS_TEST_TMPDIR/snap" "$MLCTL_REGISTRY"
	fi
}

# view: what the registry holds, read four ways and without times: mlctl's versions,
# aliases and records; git's commits, tags and tree; the database's rows (and that it
# reflects git's tip); and the files of every version git tags, pulled, with their hashes.
# A registry with no event yet (none, or just set up) is "empty". With "quick", no files.
view() {
	local reg=$MLCTL_REGISTRY git=$MLCTL_REGISTRY/index.git head tag
	head=$(git -C "$git" rev-parse -q --verify refs/heads/main 2>/dev/null) || head=
	if [ -z "$head" ] && { [ ! -f "$reg/mlctl.db" ] ||
		[ "$(sqlite3 "$reg/mlctl.db" 'SELECT count(*) FROM events' 2>&1)" = 0 ]; }; then
		echo "empty"
		return
	fi
	echo "== mlctl"
	mlctl versions demo --json 2>&1 | grep -v '"created"' |
		sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z/TIME/g'
	mlctl alias list demo --json 2>&1 | grep -v '"moved"'
	echo "== git"
	git -C "$git" rev-list --count main 2>&1
	git -C "$git" tag -l 2>&1 | sort
	git -C "$git" ls-tree -r --name-only main 2>&1 |
		sed -E 's/-[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}\.json$/-TIME.json/'
	git -C "$git" show main:models/demo/aliases.json 2>/dev/null
	echo "== database"
	sqlite3 "$reg/mlctl.db" 2>&1 <<SQL
SELECT 'model', name, deprecated IS NOT NULL, tag_n FROM models ORDER BY 2;
SELECT m.name, v.version, v.digest, v.validated, v.nfiles, v.deprecated IS NOT NULL,
  (SELECT count(*) FROM files f WHERE f.version_id = v.id)
  FROM versions v JOIN models m ON m.id = v.model_id ORDER BY 1, 2;
SELECT 'alias', model, alias, version FROM aliases ORDER BY 2, 3;
SELECT 'move', model, alias, n, version FROM alias_moves ORDER BY 2, 3, 4;
SELECT 'record', model, version, kind, passed FROM records ORDER BY 2, 3, 4;
SELECT 'event', type, model, version, alias FROM events ORDER BY id;
SELECT 'reflects git', value = '$head' FROM meta WHERE key = 'git_head';
SQL
	[ "${1:-}" != quick ] || return 0
	echo "== files"
	for tag in $(git -C "$git" tag -l '*@v*' | grep -v '[!#]'); do
		rm -rf "$BATS_TEST_TMPDIR/pulled"
		echo "$tag: $(mlctl show "${tag%@v*}:${tag#*@v}" --json 2>&1 |
			grep -c '"kind"') records"
		mlctl pull "${tag%@v*}:${tag#*@v}" -o "$BATS_TEST_TMPDIR/pulled" 2>&1 |
			sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z/TIME/g' &&
			(cd "$BATS_TEST_TMPDIR/pulled" && find . -type f | sort | xargs sha256sum)
	done
	rm -rf "$BATS_TEST_TMPDIR/pulled"
}

# points CMD...: run CMD once with a fault trace; every point it passes as POINT:N (the N-th
# time it passes it), in the order passed
points() {
	rm -f "$BATS_TEST_TMPDIR/trace"
	MLCTL_FAULT_TRACE=$BATS_TEST_TMPDIR/trace "$@" >/dev/null 2>&1 ||
		{ echo "run of '$*' with a trace failed" >&2; return 1; }
	awk '{ print $0 ":" ++n[$0] }' "$BATS_TEST_TMPDIR/trace"
}

# crash_each WHAT CMD...: from the registry as it is now, crash CMD at every point it passes
# and check what is left after each crash (see the top of this file)
crash_each() {
	local what=$1 before after after_quick twice twice_status blobs point took_effect=0 got n=0
	shift
	snapshot
	before=$(view)
	local list
	list=$(points "$@") || return 1
	after=$(view)
	after_quick=$(view quick)
	mlctl registry gc >/dev/null
	blobs=$(blobs_state)
	restore
	"$@" >/dev/null 2>&1
	"$@" >/dev/null 2>&1 && twice_status=0 || twice_status=$?
	twice=$(view quick)
	[ -n "$list" ] || { echo "$what passes no fault point"; return 1; }
	# the change is in once git's branch names it (a first push that builds its registry
	# beside: once that is renamed into place); from there on, it is wholly there
	local effect=${CRASH_EFFECT:-git-branch}
	! grep -q '^setup-renamed:' <<<"$list" || effect=setup-renamed
	for point in $list; do
		[[ $point != "$effect" && $point != "$effect":* ]] || took_effect=1
		restore
		MLCTL_FAULT=$point "$@" >/dev/null 2>&1 && got=0 || got=$?
		[ "$got" -eq 99 ] || { echo "MLCTL_FAULT=$point $*: exit $got, not the crash"; return 1; }
		n=$((n + 1))
		run mlctl registry verify
		# (exit 3, no registry, only when the crash came before any of it was made)
		if [ "$status" -ne 0 ] &&
			! { [ "$status" -eq 3 ] && [ ! -f "$MLCTL_REGISTRY/mlctl.db" ]; }; then
			echo "after MLCTL_FAULT=$point $*: verify exit $status: $output"
			return 1
		fi
		got=$(view)
		if [ $took_effect = 1 ] && [ "$got" != "$after" ]; then
			echo "after MLCTL_FAULT=$point $*, not what the command makes:"
			diff <(echo "$after") <(echo "$got")
			return 1
		elif [ $took_effect = 0 ] && [ "$got" != "$before" ]; then
			echo "after MLCTL_FAULT=$point $*, not what was there before:"
			diff <(echo "$before") <(echo "$got")
			return 1
		fi
		# run again: as if run the first time, or a second time
		"$@" >/dev/null 2>&1 && got=0 || got=$?
		if [ $took_effect = 1 ]; then
			[ "$got" -eq "$twice_status" ] && [ "$(view quick)" = "$twice" ] ||
				{ echo "after MLCTL_FAULT=$point $*: run again: exit $got"; return 1; }
		else
			[ "$got" -eq 0 ] && [ "$(view quick)" = "$after_quick" ] ||
				{ echo "after MLCTL_FAULT=$point $*: run again: exit $got"; return 1; }
		fi
		run mlctl registry gc
		[ "$status" -eq 0 ] || { echo "after MLCTL_FAULT=$point $*: gc: $output"; return 1; }
		run mlctl registry verify
		[ "$status" -eq 0 ] && [ "${#lines[@]}" -eq 1 ] && [[ $output == "ok: "* ]] ||
			{ echo "after MLCTL_FAULT=$point $* and gc: $output"; return 1; }
		[ -z "$(ls -A "$MLCTL_REGISTRY/tmp")" ] ||
			{ echo "after MLCTL_FAULT=$point $* and gc, in tmp/:"; ls -A "$MLCTL_REGISTRY/tmp"; return 1; }
		[ "$(blobs_state)" = "$blobs" ] || {
			echo "after MLCTL_FAULT=$point $* and gc, blobs/ is not what it should be:"
			diff <(echo "$blobs") <(blobs_state)
			return 1
		}
	done
	echo "# $what: $n crashes" >&3
}

@test "push of a folder: a crash at any point leaves it wholly there or wholly absent" {
	make_project p
	mlctl push p -q
	next_version p 1.0.1
	crash_each "push DIR" "$MLCTL" push p -q
}

@test "push of a package: a crash at any point leaves it wholly there or wholly absent" {
	make_project p
	mlctl push p -q
	next_version p 1.0.1
	mlctl package p -o p.mlpkg -q
	crash_each "push PKG" "$MLCTL" push p.mlpkg -q
}

@test "push --no-validate: a crash at any point leaves it wholly there or wholly absent" {
	make_project p
	mlctl push p -q
	next_version p 1.0.1
	crash_each "push --no-validate" "$MLCTL" push p --no-validate -q
}

@test "the first push, into a new registry: a crash at any point leaves it clean" {
	make_project p
	crash_each "first push" "$MLCTL" push p -q
}

@test "alias set and alias rm: a crash at any point leaves the alias where it was or moved" {
	make_project p
	mlctl push p -q
	next_version p 1.1.0
	mlctl push p -q
	mlctl alias set demo:1.0.0 production -q
	crash_each "alias set" "$MLCTL" alias set demo:1.1.0 production -q
	crash_each "alias rm" "$MLCTL" alias rm demo production -q
}

@test "deprecate and undeprecate: a crash at any point leaves it deprecated or not, wholly" {
	make_project p
	mlctl push p -q
	crash_each "deprecate a version" "$MLCTL" deprecate demo:1.0.0 --reason why -q
	crash_each "deprecate the model" "$MLCTL" deprecate demo -q
	mlctl deprecate demo -q
	crash_each "undeprecate the model" "$MLCTL" undeprecate demo -q
}

@test "smoke --record: a crash at any point leaves the record wholly there or absent" {
	smoke_project p
	mlctl push p -q
	crash_each "smoke --record" "$MLCTL" smoke demo:1.0.0 --record -q
}

@test "registry reindex and registry gc: a crash at any point changes nothing they keep" {
	smoke_project p
	mlctl push p -q
	next_version p 1.1.0
	mlctl push p -q
	mlctl alias set demo:1.0.0 production -q
	mlctl validate demo:1.1.0 --record -q
	crash_each "registry reindex" "$MLCTL" registry reindex
	# garbage for gc: a push killed once its blobs and git objects were written
	next_version p 1.2.0
	MLCTL_FAULT=git-objects run -99 mlctl push p -q
	run -0 mlctl registry verify
	[ "${#lines[@]}" -eq 4 ]
	crash_each "registry gc" "$MLCTL" registry gc
	mlctl deprecate demo:1.1.0 -q
	# a change of this registry's own, not of git: it is in once its first write commits
	CRASH_EFFECT=db-committed:1 crash_each "registry gc --prune-deprecated" "$MLCTL" registry gc \
		--prune-deprecated
}

# killed_after MS CMD...: start CMD, kill -9 it after MS milliseconds (if it still runs)
killed_after() {
	local ms=$1
	shift
	# exec: $! must be mlctl itself, not a subshell bats's traps leave around it
	(exec "$@" >/dev/null 2>&1) &
	local pid=$!
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" || true
}

# ms CMD...: how long CMD takes, in milliseconds
ms() {
	local start=$(date +%s%N)
	"$@" >/dev/null
	echo $((($(date +%s%N) - start) / 1000000 + 1))
}

@test "kill -9 at random moments of pushes and pulls of a 50 MB model" {
	local seed=${MLCTL_SEED:-$RANDOM} kills=20 v took delay
	RANDOM=$seed
	echo "# seed $seed (MLCTL_SEED=$seed replays it)" >&3
	make_project p
	head -c 50000000 /dev/urandom > p/data/big.bin
	mlctl push p -q
	next_version p 1.0.1
	took=$(ms "$MLCTL" push p -q)
	for v in $(seq 2 $((kills + 1))); do  # not i: bats's stack traces set a global i
		next_version p "1.0.$v"
		echo "$v" >> p/data/big.bin
		delay=$((RANDOM % (took * 12 / 10 + 1)))
		killed_after "$delay" "$MLCTL" push p -q
		run -0 --separate-stderr mlctl registry verify
		[[ "${lines[-1]}" == "ok: "* ]] || { echo "push killed after $delay ms: $output"; false; }
		if mlctl show "demo:1.0.$v" >/dev/null 2>&1; then
			# wholly there: tagged in git, a row, and every file pulls as it was pushed
			[ -n "$(git -C "$MLCTL_REGISTRY/index.git" tag -l "demo@v1.0.$v")" ]
			[ "$(sqlite3 "$MLCTL_REGISTRY/mlctl.db" "SELECT count(*) FROM versions WHERE version = '1.0.$v'")" = 1 ]
			run -0 mlctl pull "demo:1.0.$v" -o out
			cmp p/data/big.bin out/data/big.bin && cmp p/model.bin out/model.bin
			rm -rf out
		else
			# wholly absent
			[ -z "$(git -C "$MLCTL_REGISTRY/index.git" tag -l "demo@v1.0.$v")" ]
			[ "$(sqlite3 "$MLCTL_REGISTRY/mlctl.db" "SELECT count(*) FROM versions WHERE version = '1.0.$v'")" = 0 ]
			run -0 mlctl push p -q
		fi
		run -0 mlctl registry gc
		run -0 mlctl registry verify
		[ "${#lines[@]}" -eq 1 ] || { echo "push killed after $delay ms, then gc: $output"; false; }
		[ -z "$(ls -A "$MLCTL_REGISTRY/tmp")" ]
	done
	echo "# $kills pushes killed" >&3
	# pulls: into a new folder, and with --force over the folder of an older version
	took=$(ms "$MLCTL" pull demo:1.0.1 -o timed)
	rm -rf timed
	mlctl pull demo:1.0.1 -o old -q
	before=$(tree_state old)
	for v in $(seq 2 $((kills + 1))); do
		delay=$((RANDOM % (took * 12 / 10 + 1)))
		killed_after "$delay" "$MLCTL" pull "demo:1.0.$v" -o new
		if [ -e new ]; then
			# only ever whole: every file there, as pushed
			run -0 mlctl show new
			[ "$(tree_state new)" = "$(mlctl pull "demo:1.0.$v" -o check -q >/dev/null &&
				tree_state check)" ]
			rm -rf check
		fi
		rm -rf new
		killed_after "$delay" "$MLCTL" pull "demo:1.0.$v" -o old --force
		# the old version as it was, or the new one whole
		got=$(tree_state old)
		if [ "$got" != "$before" ]; then
			mlctl pull "demo:1.0.$v" -o check -q
			[ "$got" = "$(tree_state check)" ] || { echo "pull --force killed after $delay ms"; false; }
			rm -rf check old
			mlctl pull demo:1.0.1 -o old -q
		fi
		# a killed pull may leave its staging folder (.new.pull-PID) beside the target:
		# not the target, and not checked here
		rm -rf .new.pull-* .old.pull-* .old.old-*
	done
	echo "# $((2 * kills)) pulls killed" >&3
}
