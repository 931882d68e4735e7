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
	[[ "$stderr" == *"has 2 problems" ]]
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
	[ "$output" = "reindexed: 1 event replayed from git" ]
	run -0 mlctl registry verify
}

@test "a crash between the git commit and the database commit is repaired on the next open" {
	make_project p
	mlctl push p -q
	next_version p 1.0.1
	MLCTL_TEST_CRASH_AFTER_GIT=1 run -99 mlctl push p
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
	[ "$output" = "reindexed: 2 events replayed from git" ]
	run -0 mlctl registry verify
}

@test "registry with an unknown subcommand is exit 2; on no registry exit 3" {
	run -2 mlctl registry fix
	run -3 mlctl --registry nowhere registry verify
}
