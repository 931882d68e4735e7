#!/usr/bin/env bats
# Many mlctl processes writing one registry at once, with readers running
# throughout: every writer gets the answer it would get alone (or the one
# conflict the rules allow), the registry ends clean and whole, and no
# reader ever fails or sees a version whose files are not all there.

load helpers

# readers N [MISSING]: start N readers looping over list, versions, show --json and a pull
# of the latest version (which checks every file's sha256) until stop_readers; a failure is
# appended to readers.log. With MISSING (no registry yet), "not found" (exit 3) is fine.
readers() {
	local k missing=${2:+3}
	rm -f stop readers.log
	: > readers.log
	READERS=()
	for k in $(seq "$1"); do
		(
			n=0
			while [ ! -e stop ]; do
				for cmd in "list --json" "versions demo --json" "show demo --json" \
					"pull demo -o pulled$k -q"; do
					rm -rf "pulled$k"
					# shellcheck disable=SC2086
					out=$("$MLCTL" $cmd 2>&1) && rc=0 || rc=$?
					if [ "$rc" -ne 0 ] && [ "$rc" != "${missing:-0}" ]; then
						echo "reader $k: mlctl $cmd: exit $rc: $out" >> readers.log
					fi
				done
				n=$((n + 1))
			done
			echo "$n" > "reads$k"
		) &
		READERS+=($!)
	done
}

# stop_readers: stop them; none may have failed, and each read at least once
stop_readers() {
	local pid total=0 f
	touch stop
	for pid in "${READERS[@]}"; do
		wait "$pid"
	done
	[ ! -s readers.log ] || { cat readers.log; return 1; }
	for f in reads*; do
		[ "$(cat "$f")" -gt 0 ] || { echo "$f: no read"; return 1; }
		total=$((total + $(cat "$f")))
	done
	rm -f reads* stop
	echo "# $total rounds of reads" >&3
}

# together N CMD...: run N copies of CMD at once, CMD's {} replaced with the copy's number;
# each one's exit status into status.K, its stderr into err.K
together() {
	local n=$1 k pids=()
	shift
	for k in $(seq "$n"); do
		# (set -e is on: a failing copy would end the subshell before a plain 'echo $?')
		("${@//\{\}/$k}" >/dev/null 2>"err.$k" && echo 0 > "status.$k" ||
			echo $? > "status.$k") &
		pids+=($!)
	done
	for k in "${pids[@]}"; do
		wait "$k" || true
	done
}

# count STATUS: how many of the copies exited with STATUS
count() {
	cat status.* | grep -cx "$1" || true
}

# clean: verify finds nothing, not even a leftover
clean() {
	run -0 mlctl registry verify
	[ "${#lines[@]}" -eq 1 ] || { echo "$output"; return 1; }
	[ -z "$(ls -A "$MLCTL_REGISTRY/tmp")" ]
}

# projects N: p1 … pN, each demo with its own content and version 1.0.K
projects() {
	local k
	make_project p0
	for k in $(seq "$1"); do
		cp -a p0 "p$k"
		next_version "p$k" "1.0.$k"
	done
}

@test "16 processes push 16 versions at once: all are stored, whole" {
	projects 16
	mlctl push p0 -q
	readers 2
	together 16 "$MLCTL" push "p{}" -q
	stop_readers
	[ "$(count 0)" -eq 16 ] || { cat status.* err.*; false; }
	[ "$(mlctl versions demo | wc -l)" -eq 18 ]
	[ "$(git -C "$MLCTL_REGISTRY/index.git" tag -l 'demo@v*' | wc -l)" -eq 17 ]
	clean
}

@test "16 processes push one version with the same content: one event, all succeed" {
	projects 1
	mlctl push p0 -q
	readers 2
	together 16 "$MLCTL" push p1 -q
	stop_readers
	[ "$(count 0)" -eq 16 ] || { cat status.* err.*; false; }
	[ "$(sqlite3 "$MLCTL_REGISTRY/mlctl.db" "SELECT count(*) FROM events WHERE type = 'push'")" -eq 2 ]
	[ "$(git -C "$MLCTL_REGISTRY/index.git" rev-list --count main)" -eq 2 ]
	clean
}

@test "16 processes push one version with different contents: one wins, 15 exit 4" {
	projects 16
	mlctl push p0 -q
	for k in $(seq 16); do
		sed -i 's/"version": "[^"]*"/"version": "2.0.0"/' "p$k/mlctl.json"
	done
	readers 2
	together 16 "$MLCTL" push "p{}" -q
	stop_readers
	[ "$(count 0)" -eq 1 ] && [ "$(count 4)" -eq 15 ] || { cat status.* err.*; false; }
	for k in $(seq 16); do
		if [ "$(cat "status.$k")" -eq 4 ]; then
			[ "$(cat "err.$k")" = "mlctl: version '2.0.0' of 'demo' exists with another digest; versions are immutable: bump the version (or push with --bump patch)" ]
		else
			winner=$k
		fi
	done
	# the stored 2.0.0 is the winner's content
	run -0 mlctl pull demo:2.0.0 -o out
	cmp "p$winner/model.bin" out/model.bin
	[ "$(sqlite3 "$MLCTL_REGISTRY/mlctl.db" "SELECT count(*) FROM events WHERE type = 'push'")" -eq 2 ]
	clean
}

@test "8 processes move one alias at once: 8 moves, numbered 1 to 8, the alias on one of them" {
	projects 8
	for k in $(seq 8); do
		mlctl push "p$k" -q
	done
	readers 2
	together 8 "$MLCTL" alias set "demo:1.0.{}" production -q
	stop_readers
	[ "$(count 0)" -eq 8 ] || { cat status.* err.*; false; }
	[ "$(sqlite3 "$MLCTL_REGISTRY/mlctl.db" "SELECT group_concat(n) FROM (SELECT n FROM alias_moves WHERE alias = 'production' ORDER BY n)")" = "1,2,3,4,5,6,7,8" ]
	[ "$(git -C "$MLCTL_REGISTRY/index.git" tag -l 'demo#production#*' | wc -l)" -eq 8 ]
	# the alias names the version of the last move
	last=$(sqlite3 "$MLCTL_REGISTRY/mlctl.db" "SELECT version FROM alias_moves WHERE alias = 'production' AND n = 8")
	run -0 mlctl alias list demo
	[[ "${lines[1]}" == "demo "*" production "*" $last "* ]]
	clean
}

@test "the very first push, from 16 processes at once into no registry: all are stored" {
	projects 16
	[ ! -e "$MLCTL_REGISTRY" ]
	readers 2 missing
	together 16 "$MLCTL" push "p{}" -q
	stop_readers
	[ "$(count 0)" -eq 16 ] || { cat status.* err.*; false; }
	[ "$(mlctl versions demo | wc -l)" -eq 17 ]
	clean
}
