#!/usr/bin/env bats
# Writes that are refused, fail or are killed: push (a folder, a package),
# validate --record, smoke --record, alias set and alias rm, run into every
# failure we can provoke. A failed write leaves the registry exactly as it
# was (registry_state: blobs/, index.git, tmp/ and every database table);
# a killed one leaves a registry 'registry verify' calls clean, and
# 'registry gc' puts blobs/ back as it was.

load helpers

teardown() {
	if [ -n "${SMALL_FS:-}" ]; then
		umount "$SMALL_FS" 2>/dev/null || umount -l "$SMALL_FS"
	fi
}

# unchanged WHAT: the registry is as $before says, and the last command failed
unchanged() {
	[ "$status" -ne 0 ] || { echo "$1: succeeded"; return 1; }
	[ "$(registry_state)" = "$before" ] || {
		echo "$1 (exit $status: $output) changed the registry:"
		diff <(echo "$before") <(registry_state) | head -20
		return 1
	}
}

# refuse_rows TABLE: the database refuses new rows in TABLE, as a failing disk would
refuse_rows() {
	sqlite3 "$MLCTL_REGISTRY/mlctl.db" \
		"CREATE TRIGGER refuse BEFORE INSERT ON $1 BEGIN SELECT RAISE(FAIL, 'disk I/O error'); END"
}

accept_rows() {
	sqlite3 "$MLCTL_REGISTRY/mlctl.db" "DROP TRIGGER refuse"
}

# bad_actor CMD...: run CMD as an actor git refuses for a signature; if mlctl refuses it
# too, nothing may have changed (mlctl may also learn to make such an actor acceptable)
bad_actor() {
	MLCTL_ACTOR='Ann <ann@example.com' run "$@"
	[ "$status" -eq 0 ] || unchanged "actor git refuses: $*"
}

@test "push of a folder: refused or failed, it leaves the registry exactly as it was" {
	make_project p
	mlctl push p -q
	next_version p 1.0.1
	git=$MLCTL_REGISTRY/index.git
	before=$(registry_state)
	mv p/serve.py serve.py
	run -1 mlctl push p
	unchanged "validation refusal"
	mv serve.py p/serve.py
	sed -i 's/"1.0.1"/"1.0.0"/' p/mlctl.json
	run -4 mlctl push p
	unchanged "version conflict"
	sed -i 's/"1.0.0"/"1.0.1"/' p/mlctl.json
	# GTO's tag for the new version exists already, on another commit
	git -C "$git" tag 'demo@v1.0.1' main
	before=$(registry_state)
	run -4 --separate-stderr mlctl push p
	unchanged "tag on another commit"
	[ "$stderr" = "mlctl: tag 'demo@v1.0.1' exists in the registry's history on another commit; run 'mlctl registry verify'" ]
	git -C "$git" tag -d 'demo@v1.0.1' >/dev/null
	# a ref git cannot write when the blobs are in place already (refs below that name)
	git -C "$git" tag 'demo@v1.0.1/x' main
	before=$(registry_state)
	run -6 mlctl push p
	unchanged "tag ref git cannot write"
	git -C "$git" tag -d 'demo@v1.0.1/x' >/dev/null
	refuse_rows events
	before=$(registry_state)
	run -6 mlctl push p
	unchanged "database refusing the row"
	accept_rows
	before=$(registry_state)
	bad_actor mlctl push p
	# and the same push goes through now
	run -0 mlctl push p -q
	run -0 mlctl registry verify
	[[ "$output" == "ok: "* ]]
}

@test "push of a package: refused or failed, it leaves the registry exactly as it was" {
	make_project p
	mlctl push p -q
	next_version p 1.0.1
	mlctl package p -o p.mlpkg -q
	git=$MLCTL_REGISTRY/index.git
	before=$(registry_state)
	bad_package digest evil.mlpkg
	run -5 mlctl push evil.mlpkg
	unchanged "damaged package"
	git -C "$git" tag 'demo@v1.0.1' main
	before=$(registry_state)
	run -4 mlctl push p.mlpkg
	unchanged "tag on another commit"
	git -C "$git" tag -d 'demo@v1.0.1' >/dev/null
	git -C "$git" tag 'demo@v1.0.1/x' main
	before=$(registry_state)
	run -6 mlctl push p.mlpkg
	unchanged "tag ref git cannot write"
	git -C "$git" tag -d 'demo@v1.0.1/x' >/dev/null
	refuse_rows versions
	before=$(registry_state)
	run -6 mlctl push p.mlpkg
	unchanged "database refusing the row"
	accept_rows
	before=$(registry_state)
	bad_actor mlctl push p.mlpkg
	run -0 mlctl push p.mlpkg -q
	echo changed >> p/model.bin
	mlctl package p -o p2.mlpkg -q
	before=$(registry_state)
	run -4 mlctl push p2.mlpkg
	unchanged "version conflict"
	run -0 mlctl registry verify
}

@test "validate --record and smoke --record: failed, they leave the registry exactly as it was" {
	smoke_project p
	mlctl push p -q
	for cmd in validate smoke; do
		refuse_rows records
		before=$(registry_state)
		run -6 mlctl "$cmd" demo:1.0.0 --record
		unchanged "$cmd --record, database refusing the row"
		accept_rows
		before=$(registry_state)
		bad_actor mlctl "$cmd" demo:1.0.0 --record
		run -0 mlctl "$cmd" demo:1.0.0 --record -q
	done
	run -0 mlctl registry verify
}

@test "alias set and alias rm: failed, they leave the registry exactly as it was" {
	make_project p
	mlctl push p -q
	next_version p 1.1.0
	mlctl push p -q
	mlctl alias set demo:1.0.0 production -q
	git=$MLCTL_REGISTRY/index.git
	# the next move of production is its second: GTO tag demo#production#2 on 1.1.0's
	# commit for the set, demo#production!#2 on 1.0.0's for the rm; each made elsewhere first
	for action in set rm; do
		if [ $action = set ]; then
			tag='demo#production#2' elsewhere='demo@v1.0.0' cmd=(alias set demo:1.1.0 production)
		else
			tag='demo#production!#2' elsewhere='demo@v1.1.0' cmd=(alias rm demo production)
		fi
		git -C "$git" tag "$tag" "$elsewhere"
		before=$(registry_state)
		run -4 mlctl "${cmd[@]}"
		unchanged "alias $action, $tag on another commit"
		git -C "$git" tag -d "$tag" >/dev/null
		# a ref git cannot write when the commit is made already (refs below that name)
		git -C "$git" tag "$tag/x" "$elsewhere"
		before=$(registry_state)
		run -6 mlctl "${cmd[@]}"
		unchanged "alias $action, a ref git cannot write"
		git -C "$git" tag -d "$tag/x" >/dev/null
	done
	refuse_rows alias_moves
	before=$(registry_state)
	run -6 mlctl alias set demo:1.1.0 production
	unchanged "alias set, database refusing the row"
	run -6 mlctl alias rm demo production
	unchanged "alias rm, database refusing the row"
	accept_rows
	before=$(registry_state)
	bad_actor mlctl alias set demo:1.1.0 production
	bad_actor mlctl alias rm demo production
	run -0 mlctl alias set demo:1.1.0 production -q
	run -0 mlctl registry verify
}

# small_disk: the registry on a file system of its own, a small tmpfs, when this runs as
# root and may mount; otherwise with_room limits the size of each file instead
small_disk() {
	mkdir -p "$BATS_TEST_TMPDIR/fs"
	if mount -t tmpfs -o size=8m,mode=755 tmpfs "$BATS_TEST_TMPDIR/fs" 2>/dev/null; then
		SMALL_FS=$BATS_TEST_TMPDIR/fs
	fi
	export MLCTL_REGISTRY=$BATS_TEST_TMPDIR/fs/registry
}

# until_it_fits WHAT CMD...: run CMD with ever more room until it succeeds; each run that
# fails must fail with exit 6 and leave the registry exactly as it was
until_it_fits() {
	local what=$1 n step=1 max=400
	shift
	[ -n "${SMALL_FS:-}" ] || { step=4; max=8192; }
	# a write that filled the disk after git's commit is stored with the index behind:
	# any command catches it up, so do that before taking the state
	"$MLCTL" list >/dev/null
	before=$(registry_state)
	for ((n = 0; n <= max; n += step)); do
		run with_room "$n" "$@"
		[ "$status" -eq 0 ] && return 0
		[ "$status" -eq 6 ] || { echo "$what with room $n: exit $status: $output"; return 1; }
		unchanged "$what with room $n" || return 1
	done
	echo "$what never fitted"
	return 1
}

@test "a full disk at any step of a write leaves the registry exactly as it was" {
	small_disk
	smoke_project p
	mlctl push p -q
	next_version p 1.1.0
	until_it_fits "push of a folder" "$MLCTL" push p -q
	next_version p 1.2.0
	"$MLCTL" package p -o "$BATS_TEST_TMPDIR/p.mlpkg" -q
	until_it_fits "push of a package" "$MLCTL" push "$BATS_TEST_TMPDIR/p.mlpkg" -q
	until_it_fits "validate --record" "$MLCTL" validate demo:1.1.0 --record -q
	until_it_fits "smoke --record" "$MLCTL" smoke demo:1.1.0 --record -q
	until_it_fits "alias set" "$MLCTL" alias set demo:1.1.0 production -q
	until_it_fits "alias rm" "$MLCTL" alias rm demo production -q
	run -0 mlctl registry verify
	[[ "$output" == "ok: "* ]]
}

@test "SIGKILL at random moments of a push: verify stays clean, gc puts blobs/ back" {
	make_project p
	mlctl push p -q
	head -c 32000000 /dev/urandom > p/data/big.bin
	# how long one push of it takes
	next_version p 1.0.1
	start=$(date +%s%N)
	mlctl push p -q
	took=$((($(date +%s%N) - start) / 1000000 + 1))
	for v in $(seq 2 9); do  # not i: bats's stack traces set a global i
		next_version p "1.0.$v"
		echo "$v" >> p/data/big.bin
		before=$(blobs_state)
		delay=$((RANDOM % (took * 12 / 10 + 1)))
		# exec: $! must be mlctl itself, not a subshell bats's traps leave around it
		(exec "$MLCTL" push p -q >/dev/null 2>&1) &
		pid=$!
		sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" || true
		run -0 --separate-stderr mlctl registry verify
		[[ "${lines[-1]}" == "ok: "* ]] || { echo "killed after ${delay} ms: $output"; false; }
		run -0 mlctl registry gc
		if mlctl show "demo:1.0.$v" >/dev/null 2>&1; then
			# the kill came after git had the version: it is there, whole, and nothing is garbage
			run -0 mlctl pull "demo:1.0.$v" -o "out$v"
			cmp p/data/big.bin "out$v/data/big.bin"
			rm -rf "out$v"
		else
			[ "$(blobs_state)" = "$before" ] ||
				{ echo "killed after ${delay} ms"; diff <(echo "$before") <(blobs_state) || false; }
		fi
		run -0 mlctl registry verify
		[ "${#lines[@]}" -eq 1 ] || { echo "killed after ${delay} ms: $output"; false; }
		[ -z "$(ls -A "$MLCTL_REGISTRY/tmp")" ]
	done
}
