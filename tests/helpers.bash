# helpers.bash - shared set-up for the bats files: a scratch folder per
# test, a registry inside it, and small projects made on the spot.

bats_require_minimum_version 1.5.0

MLCTL=${MLCTL:-$BATS_TEST_DIRNAME/../mlctl}
FIXTURES=$BATS_TEST_DIRNAME/fixtures
PY=$(command -v python3 || echo /usr/bin/python3)

setup() {
	cd "$BATS_TEST_TMPDIR" || exit 1
	export MLCTL_REGISTRY="$BATS_TEST_TMPDIR/registry"
	export MLCTL_ACTOR="Test Runner <ci@example.com>"
	export NO_COLOR=1
	unset SOURCE_DATE_EPOCH
}

mlctl() {
	"$MLCTL" "$@"
}

# make_project DIR [NAME] [VERSION]: a small project with a model, code and a folder
make_project() {
	local dir=$1 name=${2:-demo} version=${3:-1.0.0}
	mkdir -p "$dir/data"
	# random weights behind a fixed first line: random first bytes could be a format's
	# magic (0x80 0x02..0x05 opens a pickle, 1 in 16384) and fail validation now and then
	{ printf 'weights\n'; head -c 20000 /dev/urandom; } > "$dir/model.bin"
	printf 'print("serve")\n' > "$dir/serve.py"
	chmod 755 "$dir/serve.py"
	printf 'a,b\n1,2\n' > "$dir/data/train.csv"
	cat > "$dir/mlctl.json" <<JSON
{
  "schema": "mlctl/v1",
  "name": "$name",
  "version": "$version",
  "license": "MIT",
  "artifacts": [
    {"path": "model.bin", "role": "model"},
    {"path": "serve.py", "role": "code"},
    {"path": "data", "role": "data"}
  ],
  "metrics": {"accuracy": 0.91}
}
JSON
}

# three: iris 1.0.0, 1.1.0, 1.2.0 with accuracy 0.90, 0.95, 0.94 (policy and promote tests)
three() {
	local v acc
	for v in 1.0.0:0.90 1.1.0:0.95 1.2.0:0.94; do
		acc=${v#*:} v=${v%:*}
		make_project "p$v" iris "$v"
		sed -i "s/\"accuracy\": 0.91/\"accuracy\": $acc/" "p$v/mlctl.json"
		mlctl push "p$v" -q
	done
}

# next_version DIR VERSION: change the project's content and set its version
next_version() {
	echo "$2" >> "$1/model.bin"
	sed -i "s/\"version\": \"[^\"]*\"/\"version\": \"$2\"/" "$1/mlctl.json"
}

# tree_state DIR: a listing of paths, modes and hashes, to show nothing changed
tree_state() {
	(cd "$1" && find . -path ./tmp -prune -o -type f -print0 | sort -z |
		xargs -0 -r sha256sum; find . -path ./tmp -prune -o -print | sort)
}

# registry_state: everything a write could change: every file and folder of blobs/ and
# index.git (refs are files there) with its hash, what is in tmp/, and every table of
# the database (its content, not the WAL files)
registry_state() {
	(cd "$MLCTL_REGISTRY" && find blobs index.git tmp | sort &&
	 find blobs index.git -type f -print0 | sort -z | xargs -0 -r sha256sum &&
	 if [ -f mlctl.db ]; then sqlite3 mlctl.db .dump; fi)
}

# blobs_state: the files and folders of blobs/, with hashes
blobs_state() {
	(cd "$MLCTL_REGISTRY" && find blobs | sort && find blobs -type f | sort | xargs -r sha256sum)
}

bad_package() {
	"$PY" "$FIXTURES/make-package.py" "$1" "$2"
}

# model_project DIR KIND FILE [SCRIPT]: a project whose one model file is made by
# SCRIPT KIND PATH (default tests/fixtures/make-models.py)
model_project() {
	local dir=$1 kind=$2 file=$3 script=${4:-$FIXTURES/make-models.py}
	mkdir -p "$dir"
	"$PY" "$script" "$kind" "$dir/$file"
	cat > "$dir/mlctl.json" <<JSON
{"schema": "mlctl/v1", "name": "m", "version": "1.0.0", "license": "MIT",
 "artifacts": [{"path": "$file", "role": "model"}]}
JSON
}

# smoke_project DIR: make_project with a smoke section, a model that answers at once (sed)
smoke_project() {
	make_project "$1"
	printf '#!/bin/sh\nexec sed -u "s/.*\\"id\\": *\\([0-9]*\\).*/{\\"id\\":\\1,\\"output\\":{\\"sum\\":3}}/"\n' \
		> "$1/serve.sh"
	printf '{"name": "one-two", "input": [1, 2], "expect": {"sum": 3}}\n' > "$1/cases.jsonl"
	/usr/bin/python3 - "$1/mlctl.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["artifacts"] += [{"path": "serve.sh", "role": "code"}, {"path": "cases.jsonl", "role": "data"}]
m["smoke"] = {"runtime": "exec", "command": ["sh", "serve.sh"], "cases": "cases.jsonl",
              "warmup": 0, "repeat": 1, "timeout_ms": 5000}
json.dump(m, open(sys.argv[1], "w"))
PY
}

# with_room N CMD...: run CMD with N pages (4 KiB) left free on the small file system ($SMALL_FS),
# or, without one, with every file it writes limited to N KiB
with_room() {
	local n=$1 avail rc
	shift
	if [ -z "${SMALL_FS:-}" ]; then
		bash -c 'ulimit -f "$1" && trap "" XFSZ && shift && exec "$@"' - "$n" "$@"
		return
	fi
	avail=$(df -B4096 --output=avail "$SMALL_FS" | tail -1)
	if [ "$avail" -gt "$n" ]; then
		fallocate -l $(((avail - n) * 4096)) "$SMALL_FS/filler"
	fi
	"$@"
	rc=$?
	rm -f "$SMALL_FS/filler"
	return $rc
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on now
free_port() {
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
