#!/usr/bin/env bats
# mlctl registry verify|reindex, and recovery after a crash.

load helpers

@test "verify on a clean registry is exit 0 with counts" {
	make_project p
	mlctl push p -q
	run -0 mlctl registry verify
	[ "$output" = "ok: 1 version, 3 files, 3 blobs, 7 git objects checked" ]
	run -0 mlctl registry verify --json
	[[ "$output" == *'"ok": true'* ]]
}

@test "verify finds a corrupt blob: exit 5 naming it" {
	make_project p
	mlctl push p -q
	blob=$(find "$MLCTL_REGISTRY/blobs" -type f -size +10k | head -1)
	chmod u+w "$blob" && echo garbage >> "$blob"
	run -5 --separate-stderr mlctl registry verify
	[[ "$output" == *"blob $blob is corrupt"* ]]
	[[ "$output" == *"file 'model.bin': blob size"* ]]
	[[ "$stderr" == *"has 2 problems (listed above): heal blobs with 'mlctl registry verify --repair --from DIR|PKG', rebuild the index with 'mlctl registry reindex'" ]]
}

@test "verify finds a missing blob" {
	make_project p
	mlctl push p -q
	rm -f "$(find "$MLCTL_REGISTRY/blobs" -type f -size -100c | head -1)"
	run -5 mlctl registry verify
	[[ "$output" == *"has no blob"* ]]
}

@test "verify finds a database that disagrees with git, and reindex repairs it" {
	make_project p
	mlctl push p -q
	sqlite3 "$MLCTL_REGISTRY/mlctl.db" "UPDATE versions SET digest = 'sha256:0000' WHERE version = '1.0.0'"
	run -5 mlctl registry verify
	[[ "$output" == *"demo:1.0.0 has digest sha256:"*"in git but sha256:0000 in the database"* ]]
	run -0 mlctl registry reindex
	[ "$output" = "reindexed: 1 event replayed from git: 1 version, 0 records, 0 aliases" ]
	run -0 mlctl registry verify
}

@test "a crash between the git commit and the database commit is repaired on the next open" {
	make_project p
	mlctl push p -q
	next_version p 1.0.1
	MLCTL_FAULT=git-applied run -99 mlctl push p
	# git has the version, the database does not yet
	run -0 sqlite3 "$MLCTL_REGISTRY/mlctl.db" "SELECT count(*) FROM versions"
	[ "$output" = 1 ]
	run -0 mlctl versions demo
	[[ "$output" == *"1.0.1"* ]]
	run -0 mlctl registry verify
	run -0 mlctl push p -q
	[[ "$output" == "demo:1.0.1 is already in the registry"* ]]
}

@test "a git ref lock left by a crashed writer does not block the next push" {
	make_project p
	mlctl push p -q
	touch "$MLCTL_REGISTRY/index.git/refs/heads/main.lock"
	next_version p 1.0.1
	run -0 mlctl push p -q
	run -0 mlctl registry verify
}

@test "reindex rebuilds a deleted database from git alone" {
	make_project p
	mlctl push p -q
	next_version p 1.0.1
	mlctl push p -q
	rm "$MLCTL_REGISTRY"/mlctl.db*
	sqlite3 "$MLCTL_REGISTRY/mlctl.db" "PRAGMA user_version = 0" >/dev/null
	run -0 mlctl versions demo
	[[ "$output" == *"1.0.1"* && "$output" == *"1.0.0"* ]]
	run -0 mlctl registry reindex
	[ "$output" = "reindexed: 2 events replayed from git: 2 versions, 0 records, 0 aliases" ]
	run -0 mlctl registry verify
}

@test "a database whose tables are not this mlctl's: exit 5 naming reindex, which mends it" {
	make_project p
	mlctl push p -q
	mlctl alias set demo:1.0.0 production -q
	# a column and a table missing, as a registry made by a development build of the
	# same schema number may have them
	sqlite3 "$MLCTL_REGISTRY/mlctl.db" "ALTER TABLE events DROP COLUMN forced; DROP TABLE pruned"
	run -5 --separate-stderr mlctl history demo
	[[ "$stderr" == "mlctl: registry database: no such column: "*"forced: its tables are not the ones this mlctl made; rebuild it from git with 'mlctl registry reindex'" ]]
	next_version p 1.0.1
	run -5 --separate-stderr mlctl push p
	[[ "$stderr" == *"rebuild it from git with 'mlctl registry reindex'" ]]
	run -0 mlctl registry reindex
	run -0 mlctl registry verify
	run -0 mlctl history demo
	[[ "$output" == *"production"* ]]
	run -0 mlctl push p -q
	run -0 mlctl registry verify
}

@test "registry with an unknown subcommand is exit 2; on no registry exit 3" {
	run -2 mlctl registry fix
	run -3 mlctl --registry nowhere registry verify
}

@test "a crash at each step of a push leaves garbage only: verify warns (exit 0), gc puts everything back" {
	make_project p
	mlctl push p -q
	next_version p 1.0.1
	before=$(registry_state)
	for point in blobs-staged blobs-installed git-objects; do
		MLCTL_FAULT=$point run -99 mlctl push p
		run -0 mlctl registry verify
		[[ "${lines[-1]}" == "ok: 1 version, 3 files, "* ]] || { echo "$point: $output"; false; }
		[[ "${lines[0]}" == "warning: "* ]] || { echo "$point: $output"; false; }
		run -0 mlctl registry gc
		[[ "$output" == "freed "* ]]
		[ "$(registry_state)" = "$before" ] || { echo "$point"; diff <(echo "$before") <(registry_state); false; }
		run -0 mlctl registry verify
		[ "$output" = "ok: 1 version, 3 files, 3 blobs, 7 git objects checked" ]
	done
	run -0 mlctl push p -q
	run -0 mlctl registry gc
	[ "$output" = "nothing to remove" ]
}

@test "verify counts garbage in warnings and in --json; real problems are still exit 5" {
	make_project p
	mlctl push p -q
	next_version p 1.0.1
	MLCTL_FAULT=blobs-installed run -99 mlctl push p
	run -0 --separate-stderr mlctl registry verify
	[ "$output" = "warning: 1 orphan blob (19.5 KiB) that no version names; remove it with 'mlctl registry gc'
warning: 2 leftover files in tmp/ (32.0 KiB) of writers that are gone; remove them with 'mlctl registry gc'
ok: 1 version, 3 files, 4 blobs, 7 git objects checked" ]
	[ -z "$stderr" ]
	run -0 mlctl registry verify --json
	/usr/bin/python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["ok"] is True and d["problems"] == [], d
assert d["orphan_blobs"] == {"count": 1, "bytes": 20014}, d
assert d["tmp_leftovers"] == {"count": 2, "bytes": 32768}, d
assert d["unreachable_git_objects"] == {"count": 0, "bytes": 0}, d
assert len(d["warnings"]) == 2 and "orphan blob" in d["warnings"][0], d' "$output"
	# a corrupt blob is a problem, garbage or not
	blob=$(find "$MLCTL_REGISTRY/blobs" -type f -size +10k | head -1)
	chmod u+w "$blob" && echo garbage >> "$blob"
	run -5 --separate-stderr mlctl registry verify
	[[ "$output" == *"is corrupt"* && "$output" == *"warning: 2 leftover files in tmp/"* ]]
	[[ "${lines[-1]}" == "problems found: "* ]]
}

@test "gc --dry-run says what it would remove and removes nothing; gc removes it; --json" {
	make_project p
	mlctl push p -q
	next_version p 1.0.1
	MLCTL_FAULT=git-objects run -99 mlctl push p
	sha=$(sha256sum p/model.bin | cut -c1-64)
	state=$(registry_state)
	run -0 mlctl registry gc --dry-run
	[ "${lines[0]}" = "would remove blobs/sha256/${sha:0:2}/$sha" ]
	[[ "${lines[1]}" == "would remove index.git/objects/"* ]]
	[[ "${lines[-3]}" =~ ^"would remove tmp/owner-"[0-9]+".lock"$ ]]
	[[ "${lines[-2]}" =~ ^"would remove tmp/reserve-"[0-9]+$ ]]
	[[ "${lines[-1]}" =~ ^"would free "[0-9.]+" KiB: 1 orphan blob (19.5 KiB), "[0-9]+" git objects (".*"), 2 leftover files in tmp/ (32.0 KiB)"$ ]]
	[ "$(registry_state)" = "$state" ]
	run -0 mlctl registry gc --dry-run --json
	/usr/bin/python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["dry_run"] is True and d["orphan_blobs"]["count"] == 1, d
assert d["unreachable_git_objects"]["count"] >= 4 and d["tmp_leftovers"]["count"] == 2, d
assert d["bytes"] == sum(v["bytes"] for k, v in d.items() if isinstance(v, dict)), d
assert d["paths"][0] == "blobs/sha256/%s/%s" % (sys.argv[2][:2], sys.argv[2]), d
assert len(d["paths"]) == 3 + d["unreachable_git_objects"]["count"], d' "$output" "$sha"
	[ "$(registry_state)" = "$state" ]
	run -0 mlctl registry gc --json
	[[ "$output" == *'"dry_run": false'* ]]
	[ ! -e "$MLCTL_REGISTRY/blobs/sha256/${sha:0:2}/$sha" ]
	[ -z "$(ls -A "$MLCTL_REGISTRY/tmp")" ]
	run -0 mlctl registry gc --dry-run
	[ "$output" = "nothing to remove" ]
	run -2 --separate-stderr mlctl registry verify --dry-run
	[ "$stderr" = "mlctl: --dry-run and --prune-deprecated go with 'registry gc'; see 'mlctl registry --help'" ]
	run -3 mlctl --registry nowhere registry gc
}

@test "gc keeps every blob a version names, even one the database has lost" {
	make_project p
	mlctl push p -q
	sqlite3 "$MLCTL_REGISTRY/mlctl.db" "DELETE FROM files"
	run -0 mlctl registry gc
	[ "$output" = "nothing to remove" ]
	run -0 mlctl registry reindex
	run -0 mlctl registry verify
	[ "$output" = "ok: 1 version, 3 files, 3 blobs, 7 git objects checked" ]
	run -0 mlctl pull demo:1.0.0 -o out
	cmp p/model.bin out/model.bin
}

@test "gc leaves the tmp/ files of a live writer alone and removes them once it is gone" {
	make_project p
	mlctl push p -q
	tmp=$MLCTL_REGISTRY/tmp
	# a writer (pid 999999 as far as tmp/ goes) holding its owner lock, as mlctl does
	(exec 9>"$tmp/owner-999999.lock" && flock -s 9 && exec sleep 60) &
	holder=$!
	for _ in $(seq 50); do flock -n -x "$tmp/owner-999999.lock" true || break; sleep 0.1; done
	head -c 5000 /dev/urandom > "$tmp/blob-999999-AbCdEf"
	# files no owner names: garbage once untouched for an hour
	touch "$tmp/blob-Xy12Zz" "$tmp/stray"
	touch -d '2 hours ago' "$tmp/blob-Xy12Zz"
	run -0 mlctl registry verify
	[ "${lines[0]}" = "warning: 1 leftover file in tmp/ (0 B) of writers that are gone; remove it with 'mlctl registry gc'" ]
	run -0 --separate-stderr mlctl registry gc -v
	[ "$output" = "removed tmp/blob-Xy12Zz
freed 0 B: 0 orphan blobs (0 B), 0 git objects (0 B), 1 leftover file in tmp/ (0 B)" ]
	[ -e "$tmp/blob-999999-AbCdEf" ] && [ -e "$tmp/owner-999999.lock" ] && [ -e "$tmp/stray" ]
	kill "$holder"
	wait "$holder" || true
	run -0 mlctl registry gc
	[ "$output" = "freed 4.9 KiB: 0 orphan blobs (0 B), 0 git objects (0 B), 2 leftover files in tmp/ (4.9 KiB)" ]
	[ "$(ls -A "$tmp")" = "stray" ]
}

@test "gc while a push stages a large file never loses what the push stores" {
	make_project p
	mlctl push p -q
	next_version p 1.0.1
	head -c 64000000 /dev/urandom > p/data/big.bin
	(exec "$MLCTL" push p -q >/dev/null 2>&1) &
	pid=$!
	runs=0
	while kill -0 "$pid" 2>/dev/null; do
		mlctl registry gc -q >/dev/null
		runs=$((runs + 1))
	done
	wait "$pid"
	[ "$runs" -gt 1 ]
	run -0 mlctl registry verify
	[ "$output" = "ok: 2 versions, 7 files, 5 blobs, 14 git objects checked" ]
	run -0 mlctl pull demo:1.0.1 -o out
	cmp p/data/big.bin out/data/big.bin
}

@test "a package push whose stored blob gc removes meanwhile stages it again" {
	make_project p
	mlctl push p -q
	raced=
	for attempt in 1 2 3; do
		# model.bin of the next version stored by a push that died before naming it
		next_version p "1.0.$attempt"
		MLCTL_FAULT=blobs-installed run -99 mlctl push p
		# the package has a large file after model.bin, so gc can run between the two
		cp -r p q
		head -c 64000000 /dev/urandom > q/zz.bin
		sed -i 's|"artifacts": \[|"artifacts": [{"path": "zz.bin", "role": "data"},|' q/mlctl.json
		mlctl package q -o q.mlpkg -q >/dev/null
		(exec "$MLCTL" push q.mlpkg --no-validate -q >/dev/null 2>&1) &
		pid=$!
		# once it stages zz.bin, it has passed model.bin, counting on the stored blob
		for _ in $(seq 300); do
			[ -n "$(find "$MLCTL_REGISTRY/tmp" -name "blob-$pid-*" -size +1M)" ] && break
			sleep 0.01
		done
		run -0 mlctl registry gc
		kill -0 "$pid" 2>/dev/null && [[ "$output" == *" 1 orphan blob "* ]] && raced=1
		wait "$pid"
		run -0 mlctl pull "demo:1.0.$attempt" -o "out$attempt"
		cmp q/model.bin "out$attempt/model.bin"
		cmp q/zz.bin "out$attempt/zz.bin"
		rm -rf q q.mlpkg "out$attempt"
		[ -z "$raced" ] || break
	done
	run -0 mlctl registry verify
	[ "${#lines[@]}" -eq 1 ] && [[ "$output" == "ok: "* ]]
	[ -n "$raced" ] || skip "gc never ran while the push was staging"
}
