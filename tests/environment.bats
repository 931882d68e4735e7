#!/usr/bin/env bats
# The registry's surroundings: a registry the user cannot write, a disk that
# fills between git's commit and the database's, set-up killed half-way, git
# locks and staging folders left by killed processes, a pull onto a link.

load helpers

teardown() {
	if [ -n "${SMALL_FS:-}" ]; then
		umount "$SMALL_FS" 2>/dev/null || umount -l "$SMALL_FS"
	fi
	if [ -n "${SHARED:-}" ]; then
		chmod -R u+w "$SHARED" 2>/dev/null || true
		rm -rf "$SHARED"
	fi
}

# as_nobody CMD...: run mlctl as a uid with no account and no rights on the registry
as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups env -i PATH=/usr/bin:/bin \
		HOME="$SHARED/home" MLCTL_REGISTRY="$MLCTL_REGISTRY" \
		sh -c 'cd "$1" && shift && exec "$@"' - "$SHARED/home" "$SHARED/mlctl" "$@"
}

# shared_registry: a registry with one version in a folder another uid can reach, and a
# home there that uid can write
shared_registry() {
	[ "$(id -u)" = 0 ] && command -v setpriv >/dev/null || skip "needs root and setpriv"
	SHARED=$(mktemp -d)
	chmod 755 "$SHARED"
	cp "$MLCTL" "$SHARED/mlctl"
	chmod 755 "$SHARED/mlctl"
	mkdir "$SHARED/home"
	chmod 777 "$SHARED/home"
	export MLCTL_REGISTRY=$SHARED/registry
	smoke_project p
	mlctl push p -q
}

@test "a registry the user cannot write serves every read; a write says it is read-only (exit 6)" {
	shared_registry
	chmod -R a-w "$MLCTL_REGISTRY"
	before=$(cd "$MLCTL_REGISTRY" && find . -printf '%p %s %T@\n' | sort)
	run -0 as_nobody list
	[[ "$output" == *demo*1.0.0* ]]
	run -0 as_nobody versions demo
	[[ "$output" == *1.0.0* ]]
	run -0 as_nobody show demo:1.0.0
	run -0 as_nobody pull demo -o out
	[ -f "$SHARED/home/out/model.bin" ]
	run -0 as_nobody registry verify
	[[ "${lines[-1]}" == "ok: "* ]]
	run -0 as_nobody smoke demo:1.0.0
	run -6 --separate-stderr as_nobody push "$SHARED/home/out"
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"'$MLCTL_REGISTRY' is read-only for you"* ]] || { echo "$stderr"; false; }
	run -6 as_nobody alias set demo:1.0.0 production
	[ "$(cd "$MLCTL_REGISTRY" && find . -printf '%p %s %T@\n' | sort)" = "$before" ]
}

@test "a read-only registry whose index is behind git: one warning, what the index holds" {
	shared_registry
	next_version p 1.1.0
	MLCTL_FAULT=git-applied run mlctl push p -q
	[ "$status" -eq 99 ]
	chmod -R a-w "$MLCTL_REGISTRY"
	run -0 --separate-stderr as_nobody versions demo
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"index is behind its history"* ]]
	[[ "$output" == *1.0.0* ]]
	chmod -R u+w "$MLCTL_REGISTRY"
	run -0 --separate-stderr mlctl versions demo
	[ -z "$stderr" ]
	[[ "$output" == *1.1.0* ]]
}

# small_disk: the registry on a small tmpfs of its own (root only)
small_disk() {
	[ "$(id -u)" = 0 ] || skip "needs root to mount a small file system"
	mkdir -p "$BATS_TEST_TMPDIR/fs"
	mount -t tmpfs -o size=8m,mode=755 tmpfs "$BATS_TEST_TMPDIR/fs" || skip "cannot mount tmpfs"
	SMALL_FS=$BATS_TEST_TMPDIR/fs
	export MLCTL_REGISTRY=$SMALL_FS/registry
}

@test "disk full after git's commit: the version is stored, exit 0 with a warning; else exit 6 and not stored" {
	small_disk
	make_project p
	mlctl push p -q
	next_version p 1.1.0
	seen=
	for ((n = 0; n <= 400; n++)); do
		run --separate-stderr with_room "$n" "$MLCTL" push p -q
		if [ "$status" -eq 6 ]; then
			# not stored: git does not have it
			run -0 git --git-dir="$MLCTL_REGISTRY/index.git" tag -l 'demo@v1.1.0'
			[ -z "$output" ] || { echo "room $n: exit 6, but git has demo@v1.1.0"; false; }
			continue
		fi
		[ "$status" -eq 0 ] || { echo "room $n: exit $status: $output $stderr"; false; }
		[[ "$stderr" == *"index catches up"* ]] && seen=$n
		break
	done
	[ -n "$seen" ] || { echo "no room left git's commit in and the database's out (last: $n)"; false; }
	# stored: the next command's index has it, and all is consistent
	run -0 mlctl versions demo
	[[ "$output" == *1.1.0* ]]
	run -0 mlctl registry verify
	[[ "${lines[-1]}" == "ok: "* ]]
}

@test "set-up killed at any step leaves no registry (or a whole one); the next push clears what is left" {
	make_project p
	for point in setup-dirs setup-db setup-git setup-built setup-renamed; do
		rm -rf registry .registry.new-*
		MLCTL_FAULT=$point run mlctl push p -q
		[ "$status" -eq 99 ] || { echo "$point: exit $status: $output"; false; }
		if [ -e registry ]; then
			[ "$point" = setup-renamed ]
			run -0 mlctl list
		fi
		run -0 mlctl push p -q
		run -0 mlctl registry verify
		[[ "${lines[-1]}" == "ok: "* ]]
		[ -z "$(ls -A | grep '^\.registry\.new-')" ] || { echo "$point: left $(ls -A)"; false; }
	done
	# into an empty folder made first, as 'mkdir reg; mlctl --registry reg push' does
	mkdir reg
	MLCTL_FAULT=setup-built run mlctl --registry reg push p -q
	[ "$status" -eq 99 ]
	[ -d reg ] && [ -z "$(ls -A reg)" ]
	run -0 mlctl --registry reg push p -q
	run -0 mlctl --registry reg versions demo
	[ -z "$(ls -A | grep '^\.reg\.new-')" ]
}

@test "a first push that fails, or is killed before it is stored, leaves no registry" {
	make_project p
	rm p/serve.py
	run -1 mlctl push p --no-validate
	[[ "$output" == *"serve.py"* ]]
	[ ! -e registry ] || { ls -laR registry; false; }
	[ -z "$(ls -A | grep '^\.registry\.')" ]
	mkdir reg
	run -1 mlctl --registry reg push p --no-validate
	[ -d reg ] && [ -z "$(ls -A reg)" ]
	printf 'print("serve")\n' > p/serve.py
	for point in blobs-staged blobs-installed git-objects git-applied; do
		MLCTL_FAULT=$point run mlctl push p -q
		[ "$status" -eq 99 ] || { echo "$point: exit $status: $output"; false; }
		[ ! -e registry ] || { echo "$point: a registry was left"; false; }
	done
	run -0 mlctl push p -q
	run -0 mlctl versions demo
	[[ "$output" == *1.0.0* ]]
	run -0 mlctl registry verify
	[ -z "$(ls -A | grep '^\.registry\.')" ]
}

@test "two first pushes at once into the same new registry: both succeed, one registry" {
	make_project p
	make_project q other
	(exec "$MLCTL" push p -q >p.out 2>&1) &
	a=$!
	(exec "$MLCTL" push q -q >q.out 2>&1) &
	b=$!
	wait "$a" || { cat p.out; false; }
	wait "$b" || { cat q.out; false; }
	run -0 mlctl list
	[[ "$output" == *demo* && "$output" == *other* ]]
	run -0 mlctl registry verify
	[[ "${lines[-1]}" == "ok: "* ]]
}

@test "git locks left by a killed process: every command works" {
	make_project p
	mlctl push p -q
	# a process that takes git's locks and is killed holding them
	(cd registry/index.git && : >config.lock && mkdir -p refs/tags && : >refs/tags/x.lock &&
		: >refs/heads/main.lock && exec sleep 60) &
	pid=$!
	sleep 0.2
	kill -9 "$pid"
	wait "$pid" || true
	[ -e registry/index.git/config.lock ]
	run -0 mlctl list
	[ ! -e registry/index.git/config.lock ]
	[ ! -e registry/index.git/refs/tags/x.lock ]
	next_version p 1.1.0
	run -0 mlctl push p -q
	run -0 mlctl alias set demo:1.1.0 production
	run -0 mlctl registry verify
	[[ "${lines[-1]}" == "ok: "* ]]
}

@test "a killed push's tmp/ leftovers: verify lists them with sizes, the next push removes them" {
	make_project p
	mlctl push p -q
	head -c 20000000 /dev/urandom > p/data/big.bin
	next_version p 1.1.0
	MLCTL_FAULT=blobs-staged run mlctl push p -q
	[ "$status" -eq 99 ]
	left=$(du -sb registry/tmp | cut -f1)
	[ "$left" -gt 20000000 ]
	run -0 mlctl registry verify
	[[ "$output" == *"warning: "*"tmp/"*"of writers that are gone"* ]] || { echo "$output"; false; }
	run -0 mlctl registry verify --json
	bytes=$(printf '%s' "$output" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["tmp_leftovers"]["bytes"])')
	[ "$bytes" -gt 20000000 ]
	# and a real kill -9 in the middle of a push
	next_version p 1.2.0
	(exec "$MLCTL" push p -q >/dev/null 2>&1) &
	pid=$!
	for _ in $(seq 100); do
		[ -n "$(ls registry/tmp | grep "^blob-$pid-")" ] && break
		sleep 0.01
	done
	kill -9 "$pid"
	wait "$pid" || true
	next_version p 1.3.0
	run -0 mlctl push p -q
	[ "$(du -sb registry/tmp | cut -f1)" -lt 100000 ] || { ls -la registry/tmp; false; }
}

@test "a killed pull's hidden folder is removed by the next pull into the same folder" {
	make_project p
	head -c 30000000 /dev/urandom > p/data/big.bin
	mlctl push p -q
	MLCTL_FAULT=pull-file run mlctl pull demo -o out
	[ "$status" -eq 99 ]
	[ -n "$(ls -A | grep '^\.out\.pull-')" ]
	(exec "$MLCTL" pull demo -o out2 >/dev/null 2>&1) &
	pid=$!
	for _ in $(seq 200); do
		[ -d ".out2.pull-$pid" ] && break
		sleep 0.01
	done
	kill -9 "$pid"
	wait "$pid" || true
	run -0 mlctl pull demo -o out
	run -0 mlctl pull demo -o out2
	[ -z "$(ls -A | grep '^\.out2\?\.pull-')" ] || { ls -A; false; }
	# a live pull's folder of another name is left alone
	mkdir .other.pull-1
	run -0 mlctl pull demo -o other
	[ -d .other.pull-1 ]
}

@test "pull -o onto a link to an empty folder fills the folder it points to" {
	make_project p
	mlctl push p -q
	mkdir real
	ln -s real link
	run -0 mlctl pull demo -o link
	[[ "$output" == *"into link (the folder it links to, "*"/real)"* ]]
	[ -L link ]
	[ -f real/model.bin ] && [ -f real/mlctl.json ]
	run -4 mlctl pull demo -o link
	ln -s nowhere dangling
	run -4 mlctl pull demo -o dangling
	[ -L dangling ]
}
