#!/usr/bin/env bats
# A damaged registry: git objects missing, mlctl.db lost or broken, corrupt blobs.
# reindex never loses what the database held; verify names what git fsck names;
# every other command refuses a broken database; corrupt blobs heal from good copies.

load helpers

# three versions and an alias: commits, trees, blobs and tags of every kind
three_versions() {
	make_project p
	mlctl push p -q
	next_version p 1.0.1
	mlctl push p -q
	mlctl alias set demo:1.0.0 production --reason first -q
	next_version p 1.1.0
	mlctl push p -q
}

git_reg() {
	git --git-dir="$MLCTL_REGISTRY/index.git" "$@"
}

# rm_object ID: delete one loose object of index.git
rm_object() {
	rm -f "$MLCTL_REGISTRY/index.git/objects/${1:0:2}/${1:2}"
}

# fsck_missing: the ids 'git fsck --connectivity-only' says are missing or point nowhere
fsck_missing() {
	git_reg fsck --connectivity-only 2>&1 |
		grep -oE '(missing [a-z]+ |invalid sha1 pointer |to +[a-z]+ )[0-9a-f]{40}' |
		grep -oE '[0-9a-f]{40}' | sort -u
}

@test "reindex with an older commit missing: exit 5 naming it, the database unchanged" {
	three_versions
	sqlite3 "$MLCTL_REGISTRY/mlctl.db" .dump > before
	old=$(git_reg rev-parse HEAD~2)
	rm_object "$old"
	run -5 --separate-stderr mlctl registry reindex
	[[ "$stderr" == *"git commit $old is missing"* ]]
	[[ "$stderr" == *"the database is left as it was"* ]]
	sqlite3 "$MLCTL_REGISTRY/mlctl.db" .dump > after
	cmp before after
	run -0 mlctl versions demo
	[[ "$output" == *1.0.0* && "$output" == *1.0.1* && "$output" == *1.1.0* ]]
	# nor does gc take what lies past the hole for garbage
	run -5 mlctl registry gc --dry-run
	[[ "$output" == *"missing objects"* ]]
}

@test "reindex of a healthy registry keeps every version, record and alias" {
	three_versions
	q() { sqlite3 "$MLCTL_REGISTRY/mlctl.db" "SELECT m.name, v.version, v.digest FROM versions v JOIN models m ON m.id = v.model_id ORDER BY 2; SELECT model, alias, version FROM aliases"; }
	q > before
	run -0 mlctl registry reindex
	[ "$output" = "reindexed: 4 events replayed from git: 3 versions, 0 records, 1 alias" ]
	q > after
	cmp before after
	run -0 mlctl registry verify
	# nothing left behind in tmp/
	[ -z "$(find "$MLCTL_REGISTRY/tmp" -name 'reindex-*')" ]
}

@test "verify names every git object git fsck finds missing, for commits, trees, blobs and tags" {
	three_versions
	cp -a "$MLCTL_REGISTRY" clean
	for kind in commit tree blob tag; do
		rm -rf "$MLCTL_REGISTRY" && cp -a clean "$MLCTL_REGISTRY"
		ids=$(git_reg cat-file --batch-all-objects --batch-check='%(objectname) %(objecttype)' |
			awk -v k=$kind '$2 == k { print $1 }' | head -2)
		[ -n "$ids" ]
		for id in $ids; do rm_object "$id"; done
		missing=$(fsck_missing)
		[ -n "$missing" ]
		run -5 mlctl registry verify
		for id in $missing; do
			[[ "$output" == *"$id is missing, referred to by "* ]] ||
				{ echo "$kind: verify did not name $id"; echo "$output"; false; }
		done
	done
}

@test "verify names what git fsck names when a third of the objects are gone" {
	three_versions
	for id in $(git_reg cat-file --batch-all-objects --batch-check='%(objectname)' | awk 'NR % 3 == 0'); do
		rm_object "$id"
	done
	missing=$(fsck_missing)
	run -5 mlctl registry verify
	for id in $missing; do
		[[ "$output" == *"$id is missing"* ]] || { echo "not named: $id"; false; }
	done
	[ "$(grep -c ' is missing, referred to by ' <<<"$output")" -eq "$(wc -w <<<"$missing")" ]
}

# broken_db HOW: break mlctl.db (deleted, truncated or garbage)
broken_db() {
	case $1 in
	deleted) rm -f "$MLCTL_REGISTRY"/mlctl.db ;;
	truncated) truncate -s 100 "$MLCTL_REGISTRY/mlctl.db" ;;
	garbage) head -c 8192 /dev/urandom > "$MLCTL_REGISTRY/mlctl.db" ;;
	esac
}

@test "a deleted, truncated or garbage mlctl.db: every command but reindex is exit 5, reindex rebuilds it" {
	three_versions
	cp -a "$MLCTL_REGISTRY" clean
	q() { sqlite3 "$MLCTL_REGISTRY/mlctl.db" "SELECT m.name, v.version, v.digest FROM versions v JOIN models m ON m.id = v.model_id ORDER BY 2; SELECT model, alias, version FROM aliases"; }
	q > want
	for how in deleted truncated garbage; do
		rm -rf "$MLCTL_REGISTRY" && cp -a clean "$MLCTL_REGISTRY"
		broken_db $how
		ls -l "$MLCTL_REGISTRY" > listing
		run -5 --separate-stderr mlctl registry verify
		[[ "$output" == *"registry database '$MLCTL_REGISTRY/mlctl.db' "* ]]
		[[ "$output" == *"'mlctl registry reindex'"* ]]
		next_version p 9.0.$RANDOM
		for cmd in "list" "versions demo" "show demo:1.0.0" "pull demo:1.0.0 -o out" \
			"push p" "alias set demo:1.0.1 staging --reason x" "alias list demo"; do
			run -5 --separate-stderr mlctl $cmd
			[[ "$stderr" == "mlctl: registry database '$MLCTL_REGISTRY/mlctl.db' "*"; rebuild it from index.git with 'mlctl registry reindex'" ]] ||
				{ echo "$how: $cmd: $stderr"; false; }
		done
		[ ! -e out ]
		# nothing made over it
		ls -l "$MLCTL_REGISTRY" | cmp - listing
		run -0 mlctl registry reindex
		[ "$output" = "reindexed: 4 events replayed from git: 3 versions, 0 records, 1 alias" ]
		q | cmp - want
		run -0 mlctl registry verify
		run -0 mlctl pull demo:production -o out
		rm -rf out
	done
}

@test "smoke --record on a broken mlctl.db is exit 5" {
	make_project p
	mlctl push p -q
	rm "$MLCTL_REGISTRY/mlctl.db"
	run -5 --separate-stderr mlctl smoke demo:1.0.0 --record
	[[ "$stderr" == *"mlctl registry reindex"* ]]
}

@test "a database row edited behind git's back (manifest or files) is named by verify; reindex puts it right" {
	make_project p
	mlctl push p -q
	db=$MLCTL_REGISTRY/mlctl.db
	cp "$db" "$BATS_TEST_TMPDIR/good.db"
	# a files row that escapes, the manifest untouched
	sqlite3 "$db" "UPDATE files SET path = '../../evil.bin' WHERE path = 'model.bin'"
	run -5 mlctl registry verify
	[[ "$output" == *"demo:1.0.0 in the database does not match git: its files there are not the ones its manifest in git lists; run 'mlctl registry reindex'"* ]]
	# a files row gone
	cp "$BATS_TEST_TMPDIR/good.db" "$db"
	sqlite3 "$db" "DELETE FROM files WHERE path = 'serve.py'; UPDATE versions SET nfiles = nfiles - 1"
	run -5 mlctl registry verify
	[[ "$output" == *"its files there are not the ones its manifest in git lists"* ]]
	# the stored manifest changed, its digest column not
	cp "$BATS_TEST_TMPDIR/good.db" "$db"
	sqlite3 "$db" "UPDATE versions SET manifest = replace(manifest, '\"license\":\"MIT\"', '\"license\":\"GPL-3.0-only\"')"
	run -5 mlctl registry verify
	[[ "$output" == *"demo:1.0.0 in the database does not match git: its manifest there is not the one in git"* ]]
	# and no reader hands it out under the version's digest
	for cmd in "pull demo:1.0.0 -o out" "show demo:1.0.0" "validate demo:1.0.0" "smoke demo:1.0.0"; do
		run -5 --separate-stderr mlctl $cmd
		[[ "$stderr" == "mlctl: the registry's index holds a manifest for demo:1.0.0 that does not match its digest sha256:"*"; run 'mlctl registry verify'" ]]
	done
	[ ! -e out ]
	# a manifest the index holds that is refused outright is named with why
	cp "$BATS_TEST_TMPDIR/good.db" "$db"
	sqlite3 "$db" "UPDATE versions SET manifest = replace(manifest, '\"path\":\"serve.py\"', '\"path\":\"../evil.py\"')"
	run -5 --separate-stderr mlctl pull demo:1.0.0 -o out
	[[ "$stderr" == "mlctl: the registry's index holds a damaged manifest for demo:1.0.0 ("*"../evil.py"*"); run 'mlctl registry verify'" ]]
	run -5 mlctl registry verify
	[[ "$output" == *"its manifest there is refused ("*"../evil.py"* ]]
	run -0 mlctl registry reindex
	run -0 mlctl registry verify
	run -0 mlctl show demo:1.0.0 --json
	[[ "$output" == *'"license": "MIT"'* ]]
}

@test "a blob cut short in the store: a push of a good copy replaces it and pull works" {
	make_project p
	mlctl push p -q
	blob=$(find "$MLCTL_REGISTRY/blobs/sha256" -type f -size +10k)
	chmod u+w "$blob" && truncate -s 1000 "$blob"
	run -5 mlctl pull demo:1.0.0 -o out
	rm -rf out
	sed -i 's/"version": "1.0.0"/"version": "1.0.1"/' p/mlctl.json
	run -0 mlctl push p
	run -0 mlctl pull demo:1.0.1 -o out1
	run -0 mlctl pull demo:1.0.0 -o out0
	cmp p/model.bin out0/model.bin
	run -0 mlctl registry verify
}

@test "a corrupt blob of the right size: flagged by verify, replaced by the next push of a good copy" {
	make_project p
	mlctl push p -q
	blob=$(find "$MLCTL_REGISTRY/blobs/sha256" -type f -size +10k)
	chmod u+w "$blob" && printf 'X' | dd of="$blob" bs=1 seek=500 conv=notrunc 2>/dev/null
	run -5 mlctl registry verify
	[[ "$output" == *"blob $blob is corrupt"* ]]
	# a package push of another version holding the same file
	sed -i 's/"version": "1.0.0"/"version": "2.0.0"/' p/mlctl.json
	mlctl package p -o v2.mlpkg -q
	run -0 mlctl push v2.mlpkg
	run -0 mlctl pull demo:1.0.0 -o out
	cmp p/model.bin out/model.bin
	run -0 mlctl registry verify
}

@test "verify --repair heals missing and corrupt blobs from a project folder" {
	make_project p
	mlctl push p -q
	big=$(find "$MLCTL_REGISTRY/blobs/sha256" -type f -size +10k)
	small=$(find "$MLCTL_REGISTRY/blobs/sha256" -type f -size -100c | head -1)
	chmod u+w "$big" && echo junk >> "$big"
	rm "$small"
	run -5 mlctl registry verify --repair
	[[ "$output" == *"repair: 0 blobs healed, 2 still missing or corrupt"* ]]
	run -0 mlctl registry verify --repair --from p
	[[ "$output" == *"healed blob sha256:$(basename "$big") (file 'model.bin' of demo:1.0.0) from p/model.bin"* ]]
	[[ "$output" == *"repair: 2 blobs healed, 0 still missing or corrupt"* ]]
	run -0 mlctl registry verify
	run -0 mlctl pull demo:1.0.0 -o out
}

@test "verify --repair heals from a package; a source that is not there is exit 3" {
	make_project p
	mlctl push p -q
	mlctl package p -o good.mlpkg -q
	find "$MLCTL_REGISTRY/blobs/sha256" -type f -delete
	run -3 --separate-stderr mlctl registry verify --repair --from nowhere
	[[ "$stderr" == *"no folder or package at 'nowhere'"* ]]
	run -0 mlctl registry verify --repair --from good.mlpkg --json
	[[ "$output" == *'"healed": 3'* && "$output" == *'"unhealed": 0'* ]]
	run -0 mlctl registry verify
}

@test "verify --repair with a folder lacking the file: still exit 5, naming it" {
	make_project p
	mlctl push p -q
	rm "$(find "$MLCTL_REGISTRY/blobs/sha256" -type f -size +10k)"
	mkdir other && echo hi > other/x
	run -5 mlctl registry verify --repair --from other
	[[ "$output" == *"1 still missing or corrupt"* ]]
	[[ "$output" == *"file 'model.bin' has no blob"* ]]
}

@test "--repair and --from go with verify only" {
	run -2 mlctl registry gc --repair
	run -2 mlctl registry verify --from x
}
