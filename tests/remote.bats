#!/usr/bin/env bats
# Remotes: mlctl remote, push --to, pull --from, show --from and login
# against a real OCI registry (Debian's docker-registry on 127.0.0.1),
# with skopeo as an independent client reading what mlctl pushed.

load helpers
load oci

setup_file() {
	oci_start "$BATS_FILE_TMPDIR/open"
	export OPEN=$OCI OPEN_DIR=$OCI_DIR
}

teardown_file() {
	oci_stop
}

teardown() {
	[ -z "${FLAKY_PID:-}" ] || kill "$FLAKY_PID" 2>/dev/null || true
}

setup() {
	oci_test_setup
	OCI=$OPEN OCI_DIR=$OPEN_DIR
	# each test its own namespace on the shared registry
	NS="$OPEN/t$BATS_TEST_NUMBER"
}

@test "remote add, list and rm; git reads the URL from index.git/config" {
	run -0 mlctl remote add origin --oci "$NS" --git "$BATS_TEST_TMPDIR/hist.git"
	[ "$output" = "added remote origin: OCI $NS, git $BATS_TEST_TMPDIR/hist.git" ]
	run -0 mlctl remote add mirror --oci registry.example.com:5443/ml/team
	run -0 mlctl remote list
	[ "${lines[0]}" = "NAME    OCI                                GIT" ]
	[[ "${lines[1]}" == "mirror  registry.example.com:5443/ml/team  -" ]]
	[[ "${lines[2]}" == "origin  $NS "*"$BATS_TEST_TMPDIR/hist.git" ]]
	run -0 git -C registry/index.git config remote.origin.url
	[ "$output" = "$BATS_TEST_TMPDIR/hist.git" ]
	run -0 mlctl remote list --json
	[ "$(echo "$output" | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print([(r["name"], r["oci"], r["git"]) for r in d["remotes"]])')" = "[('mirror', 'registry.example.com:5443/ml/team', None), ('origin', '$NS', '$BATS_TEST_TMPDIR/hist.git')]" ]
	run -0 mlctl remote rm mirror
	[ "$output" = "removed remote mirror" ]
	run -0 mlctl remote list --json
	[[ "$output" != *mirror* ]]
	run -0 git -C registry/index.git config --get-regexp '^remote\.'
	[[ "$output" != *mirror* ]]
}

@test "remote add refuses what it cannot use, and changes nothing" {
	mlctl remote add origin --oci "$NS"
	before=$(registry_state)
	run -4 mlctl remote add origin --oci "$OPEN/other"
	[[ "$output" == *"remote 'origin' is there already ($NS); remove it first with 'mlctl remote rm origin'"* ]]
	run -2 mlctl remote add 'bad name' --oci "$NS"
	[[ "$output" == *"remote name 'bad name' is not valid"* ]]
	run -2 mlctl remote add other --oci "https://$OPEN/ml"
	[[ "$output" == *"has a scheme: give HOST[:PORT]/NAMESPACE"* ]]
	run -2 mlctl remote add other --oci "$OPEN/Has_Upper"
	[[ "$output" == *"namespace 'Has_Upper' of OCI location"*"is not an OCI repository path"* ]]
	run -2 mlctl remote add other --oci "host:99999/ml"
	[[ "$output" == *"'host:99999' in OCI location"* ]]
	run -2 mlctl remote add other --git 'https://bob:hunter2@git.example.com/ml.git'
	[[ "$output" == *"the git URL holds a password"* ]]
	[[ "$output" != *hunter2* ]]
	run -2 mlctl remote add other
	[[ "$output" == *"needs --oci HOST/NAMESPACE, --git URL, or both"* ]]
	run -3 mlctl remote rm nothere
	[[ "$output" == *"no remote 'nothere'"* ]]
	run -2 mlctl remote rm origin --oci x/y
	[ "$(registry_state)" = "$before" ]
}

@test "push --to then pull --from: the same bytes as a local pull, and a second push sends nothing" {
	make_project p demo 1.0.0
	mlctl remote add origin --oci "$NS"
	run -0 --separate-stderr mlctl push p --to origin
	[[ "${lines[0]}" == "pushed demo:1.0.0 sha256:"* ]]
	[[ "${lines[1]}" == "sent to $NS/demo:1.0.0 sha256:"* ]]
	[[ "$stderr" == *"sent 5 blobs"*"skipped 0 the registry had"* ]]
	mlctl pull demo:1.0.0 -o local
	# another machine: a registry of its own that has never seen the version
	MLCTL_REGISTRY=$BATS_TEST_TMPDIR/other run -0 mlctl pull demo:1.0.0 --from "$NS" -o remote
	[[ "${lines[0]}" == "pulled demo:1.0.0 sha256:"*" from $NS/demo@sha256:"*" into remote" ]]
	[[ "${lines[1]}" == "received 3 files ("*" KiB) in "*" s ("*"/s)" ]]
	diff -r local remote
	[ -x remote/serve.py ] && [ ! -x remote/model.bin ]
	# the tag only resolved (HEAD); the manifest was read by its digest
	grep -qE "\"HEAD /v2/t$BATS_TEST_NUMBER/demo/manifests/1.0.0 HTTP/1.1\" 200" "$OPEN_DIR/log"
	grep -qE "\"GET /v2/t$BATS_TEST_NUMBER/demo/manifests/sha256:[0-9a-f]{64} HTTP/1.1\" 200" "$OPEN_DIR/log"
	[ ! -e other ] # the pull made no registry
	run -0 --separate-stderr mlctl push demo:1.0.0 --to origin --json
	[ "$(echo "$output" | "$PY" -c 'import json,sys; r=json.load(sys.stdin)["remote"]; print(r["blobs_sent"], r["blobs_skipped"], r["bytes_sent"])')" = "0 5 0" ]
}

@test "a new version with one changed file uploads only that file, mlctl.json and the config" {
	make_project p demo 1.0.0
	mlctl push p --to "$NS" -q
	next_version p 1.1.0
	run -0 --separate-stderr mlctl push p --to "$NS" --json
	echo "$output" > out.json
	[ "$(json out.json 'd["remote"]["blobs_sent"]')" = 3 ]
	[ "$(json out.json 'd["remote"]["blobs_skipped"]')" = 2 ]
	size=$(stat -c %s p/model.bin)
	[ "$(json out.json 'd["remote"]["bytes_sent"]')" -gt "$size" ]
	[ "$(json out.json 'd["remote"]["bytes_sent"]')" -lt $((size + 4096)) ]
	[ "$(json out.json 'd["remote"]["tag"]')" = 1.1.0 ]
}

@test "skopeo reads the exact manifest and copies it with the same digest" {
	make_project p demo 1.0.0
	run -0 --separate-stderr mlctl push p --to "$NS" --json
	digest=$(echo "$output" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["remote"]["digest"])')
	skopeo inspect --tls-verify=false --raw "docker://$NS/demo:1.0.0" > raw.json
	[ "sha256:$(sha256sum < raw.json | cut -d' ' -f1)" = "$digest" ]
	skopeo copy -q --src-tls-verify=false "docker://$NS/demo:1.0.0" "oci:$BATS_TEST_TMPDIR/layout:x"
	[ "$(json layout/index.json 'd["manifests"][0]["digest"]')" = "$digest" ]
	# the ModelPack form, read by python's json
	run -0 "$PY" - raw.json <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
assert m["mediaType"] == "application/vnd.oci.image.manifest.v1+json", m["mediaType"]
assert m["artifactType"] == "application/vnd.cncf.model.manifest.v1+json"
assert m["config"]["mediaType"] == "application/vnd.cncf.model.config.v1+json"
kinds = {}
for l in m["layers"]:
    a = l["annotations"]
    t = a["org.opencontainers.image.title"]
    assert t == a["org.cncf.model.filepath"], t
    assert not t.startswith("/") and ".." not in t.split("/"), t
    meta = json.loads(a["org.cncf.model.file.metadata+json"])
    assert meta["name"] == t and meta["size"] == l["size"] and meta["uid"] == 0
    assert meta["typeflag"] == 48 and meta["mtime"] == "1970-01-01T00:00:00Z"
    kinds[t] = l["mediaType"]
assert kinds == {
    "model.bin": "application/vnd.cncf.model.weight.v1.raw",
    "serve.py": "application/vnd.cncf.model.code.v1.raw",
    "data/train.csv": "application/vnd.cncf.model.dataset.v1.raw",
    "mlctl.json": "application/vnd.cncf.model.weight.config.v1.raw",
}, kinds
ann = m["annotations"]
assert ann["org.opencontainers.image.version"] == "1.0.0"
assert ann["org.opencontainers.image.licenses"] == "MIT"
assert ann["org.opencontainers.image.created"] == "1970-01-01T00:00:00Z"
print(ann["io.mlctl.digest"])
PY
	[ "$output" = "$(mlctl show demo:1.0.0 --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["digest"])')" ]
	# the config, as skopeo copied it: built from mlctl.json, diffIds in layer order
	cfg=$(json layout/index.json 'd["manifests"][0]["digest"]')
	run -0 "$PY" - layout <<'PY'
import json, sys, os
root = sys.argv[1]
idx = json.load(open(os.path.join(root, "index.json")))
blob = lambda d: open(os.path.join(root, "blobs", "sha256", d.split(":")[1]), "rb").read()
m = json.loads(blob(idx["manifests"][0]["digest"]))
c = json.loads(blob(m["config"]["digest"]))
assert c["descriptor"]["name"] == "demo" and c["descriptor"]["version"] == "1.0.0"
assert c["descriptor"]["licenses"] == ["MIT"]
assert c["modelfs"] == {"type": "layers", "diffIds": [l["digest"] for l in m["layers"]]}
PY
}

@test "the same version gives the same manifest digest wherever it is pushed; SOURCE_DATE_EPOCH sets createdAt" {
	make_project p demo 1.0.0
	mlctl push p -q
	d1=$(mlctl push demo:1.0.0 --to "$NS/a" --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["remote"]["digest"])')
	d2=$(mlctl push demo:1.0.0 --to "$NS/b" --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["remote"]["digest"])')
	[ "$d1" = "$d2" ]
	d3=$(SOURCE_DATE_EPOCH=1700000000 mlctl push demo:1.0.0 --to "$NS/c" --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["remote"]["digest"])')
	[ "$d3" != "$d1" ]
	skopeo inspect --tls-verify=false --raw "docker://$NS/c/demo:1.0.0" | grep -q '"org.opencontainers.image.created":"2023-11-14T22:13:20Z"'
}

@test "pull --from --file takes only the matching files; show --from lists the layers" {
	make_project p demo 1.0.0
	mlctl push p --to "$NS" -q
	run -0 --separate-stderr mlctl pull demo:1.0.0 --from "$NS" --file 'data/*' --file '*.py' -o part
	[[ "$stderr" == *"2 of 3 files (--file)"* ]]
	[ "$(cd part && find . -type f | sort | tr '\n' ' ')" = "./data/train.csv ./mlctl.json ./serve.py " ]
	cmp part/serve.py p/serve.py
	run -3 mlctl pull demo:1.0.0 --from "$NS" --file 'nothing*' -o none
	[[ "$output" == *"no file of demo:1.0.0 matches --file nothing*"* ]]
	[ ! -e none ]
	run -0 mlctl show demo:1.0.0 --from "$NS"
	[[ "$output" == *"remote:      $NS/demo@sha256:"* ]]
	[[ "$output" == *"model.bin "*"application/vnd.cncf.model.weight.v1.raw"* ]]
	run -0 mlctl show demo --from "$NS" --json
	echo "$output" > show.json
	[ "$(json show.json 'd["source"]')" = remote ]
	[ "$(json show.json '[l["path"] for l in d["layers"]]')" = "['data/train.csv', 'model.bin', 'serve.py', 'mlctl.json']" ]
	[ "$(json show.json 'd["digest"]')" = "$(mlctl show demo:1.0.0 --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["digest"])')" ]
}

@test "pull --from resolves the latest from the tags, and an alias through this registry" {
	make_project p demo 1.0.0
	mlctl push p --to "$NS" -q
	next_version p 1.10.0
	mlctl push p --to "$NS" -q
	next_version p 1.9.0
	mlctl push p --to "$NS" -q
	MLCTL_REGISTRY=$BATS_TEST_TMPDIR/other run -0 mlctl pull demo --from "$NS" -o latest
	[[ "$output" == "pulled demo:1.10.0 "* ]]
	mlctl alias set demo:1.9.0 production -q
	run -0 --separate-stderr mlctl pull demo:production --from "$NS" -o prod --json
	[ "$(echo "$output" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["version"])')" = 1.9.0 ]
	[[ "$stderr" == *"demo:production resolved to 1.9.0 by this registry's history, which may be behind the team's"* ]]
	MLCTL_REGISTRY=$BATS_TEST_TMPDIR/other run -3 mlctl pull demo:production --from "$NS" -o x
	[[ "$output" == *"give the version (NAME:VERSION)"* ]]
	run -3 mlctl pull demo:7.7.7 --from "$NS" -o x
	[[ "$output" == *"has no version '7.7.7' of demo (repository t$BATS_TEST_NUMBER/demo)"* ]]
}

@test "a version this registry holds with other content than the remote's is exit 4, naming both digests" {
	make_project p demo 1.0.0
	mlctl push p --to "$NS" -q
	make_project q demo 1.0.0
	MLCTL_REGISTRY=$BATS_TEST_TMPDIR/team2 mlctl push q -q
	MLCTL_REGISTRY=$BATS_TEST_TMPDIR/team2 mlctl alias set demo:1.0.0 production -q
	MLCTL_REGISTRY=$BATS_TEST_TMPDIR/team2 run -4 mlctl pull demo:production --from "$NS" -o x
	[[ "$output" == *"demo:1.0.0 is sha256:"*" in this registry but sha256:"*" on $OPEN"* ]]
	[ ! -e x ]
}

@test "a corrupt blob on the registry: exit 5 and nothing written" {
	make_project p demo 1.0.0
	mlctl push p --to "$NS" -q
	sha=$(sha256sum p/model.bin | cut -d' ' -f1)
	f=$(oci_blob_file "sha256:$sha")
	cp "$f" good
	printf 'X' | dd of="$f" bs=1 seek=100 conv=notrunc 2>/dev/null
	run -5 mlctl pull demo:1.0.0 --from "$NS" -o out
	[[ "$output" == *"sent model.bin for t$BATS_TEST_NUMBER/demo with sha256:"*"the blob on the registry is corrupt; nothing was written"* ]]
	[ ! -e out ]
	[ -z "$(find . -maxdepth 1 -name '.out*')" ]
	cp good "$f"
	run -0 mlctl pull demo:1.0.0 --from "$NS" -o out
	cmp out/model.bin p/model.bin
}

@test "large blobs go up in chunks (PATCH) and come back the same" {
	make_project p demo 1.0.0
	head -c 300000 /dev/urandom >> p/model.bin
	before=$(oci_requests PATCH "/v2/t$BATS_TEST_NUMBER/demo/blobs/uploads/")
	mlctl push p --to "$NS" --chunk-size 64K -q
	after=$(oci_requests PATCH "/v2/t$BATS_TEST_NUMBER/demo/blobs/uploads/")
	# model.bin is 320 KB: five chunks of 64 KiB
	[ $((after - before)) -eq 5 ]
	MLCTL_REGISTRY=$BATS_TEST_TMPDIR/other mlctl pull demo:1.0.0 --from "$NS" -o out
	cmp out/model.bin p/model.bin
	run -2 mlctl push p --to "$NS" --chunk-size 0
	[[ "$output" == *"--chunk-size '0' is not a size"* ]]
	run -2 mlctl push p --chunk-size 1M
	[[ "$output" == *"go with --to REMOTE"* ]]
}

@test "a model name OCI cannot hold is refused before anything is stored or sent" {
	make_project p 'a_-b' 1.0.0
	run -2 mlctl push p --to "$NS"
	[[ "$output" == *"model name 'a_-b' is not a valid OCI repository name"* ]]
	[ ! -e registry ]
	[ "$(curl -s "http://$OPEN/v2/_catalog" | grep -c "t$BATS_TEST_NUMBER/")" = 0 ]
}

@test "an artifact another tool wrote in the ModelPack form (here curl) is pulled" {
	make_project p demo 1.0.0
	mlctl push p -q
	mlctl pull demo:1.0.0 -o expect
	# what mlctl.json's layer holds: the canonical manifest with its files index
	"$PY" - p "$OPEN" "t$BATS_TEST_NUMBER/demo" <<'PY'
import hashlib, json, os, subprocess, sys
src, host, repo = sys.argv[1:]
def put(data):
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    loc = subprocess.run(["curl", "-sf", "-X", "POST", "-D", "-", "-o", "/dev/null",
                          f"http://{host}/v2/{repo}/blobs/uploads/"],
                         capture_output=True, text=True, check=True).stdout
    loc = [l.split(":", 1)[1].strip() for l in loc.splitlines() if l.lower().startswith("location:")][0]
    url = loc if loc.startswith("http") else f"http://{host}{loc}"
    url += ("&" if "?" in url else "?") + "digest=" + d
    subprocess.run(["curl", "-sf", "-X", "PUT", "-H", "Content-Type: application/octet-stream",
                    "--data-binary", "@-", url], input=data, check=True)
    return d
man = json.load(open(os.path.join(src, "mlctl.json")))
files, layers = [], []
for path in sorted(["model.bin", "serve.py", "data/train.csv"]):
    data = open(os.path.join(src, path), "rb").read()
    mode = "0755" if os.access(os.path.join(src, path), os.X_OK) else "0644"
    files.append({"path": path, "size": len(data), "mode": mode, "sha256": hashlib.sha256(data).hexdigest()})
    # another tool's order and annotations: the title only, layers newest file first
    layers.insert(0, {"mediaType": "application/vnd.cncf.model.weight.v1.raw", "digest": put(data),
                      "size": len(data), "annotations": {"org.opencontainers.image.title": path}})
man["files"] = files
canon = json.dumps(man, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
layers.append({"mediaType": "application/vnd.cncf.model.weight.config.v1.raw", "digest": put(canon),
               "size": len(canon), "annotations": {"org.opencontainers.image.title": "mlctl.json",
                                                   "io.mlctl.manifest": "mlctl/v1"}})
cfg = json.dumps({"descriptor": {"name": "demo"}, "modelfs": {"type": "layers",
                  "diffIds": [l["digest"] for l in layers]}, "config": {}}).encode()
m = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
     "artifactType": "application/vnd.cncf.model.manifest.v1+json",
     "config": {"mediaType": "application/vnd.cncf.model.config.v1+json", "digest": put(cfg), "size": len(cfg)},
     "layers": layers}
body = json.dumps(m, indent=2).encode()
subprocess.run(["curl", "-sf", "-X", "PUT", "-H", "Content-Type: application/vnd.oci.image.manifest.v1+json",
                "--data-binary", "@-", f"http://{host}/v2/{repo}/manifests/1.0.0"], input=body, check=True)
PY
	MLCTL_REGISTRY=$BATS_TEST_TMPDIR/other run -0 mlctl pull demo:1.0.0 --from "$NS" -o got
	diff -r expect got
}

@test "an unreachable registry is exit 7 with the address; nothing is stored when it is asked first" {
	make_project p demo 1.0.0
	port=$(free_port)
	run -7 mlctl push p --to "127.0.0.1:$port/ml"
	[[ "$output" == *"cannot reach the OCI registry 127.0.0.1:$port (GET /v2/)"* ]]
	[ ! -e registry ]
	run -7 mlctl pull demo:1.0.0 --from "127.0.0.1:$port/ml"
	run -3 mlctl pull demo:1.0.0 --from nosuchremote
	[[ "$output" == *"no registry at"* ]]
	mlctl remote add gitonly --git "$BATS_TEST_TMPDIR/h.git"
	run -2 mlctl pull demo:1.0.0 --from gitonly
	[[ "$output" == *"remote 'gitonly' has no OCI location"* ]]
	run -2 mlctl pull ./p --from "$NS"
	run -2 mlctl pull p --file '*.py'
	[[ "$output" == *"go with --from REMOTE"* ]]
}

@test "progress on a terminal (file, whole, rate, ETA on stderr); none on a pipe, with -q or --json" {
	command -v script >/dev/null || skip "script (util-linux) is not installed"
	make_project p demo 1.0.0
	head -c 3000000 /dev/urandom >> p/model.bin
	mlctl push p -q
	script -q -c "'$MLCTL' push demo:1.0.0 --to '$NS' --limit-rate 1M" /dev/null > tty.txt
	tr '\r' '\n' < tty.txt > lines.txt
	grep -qE '^.\[Kmodel\.bin [0-9.]+ [KM]iB/2\.[0-9] MiB · all [0-9.]+ [KM]iB/2\.[0-9] MiB · [0-9.]+ [KM]iB/s · ETA 0:0[0-9]' lines.txt
	grep -q "^sent to $NS/demo:1.0.0 sha256:" lines.txt
	# every progress line names a file (none drawn between two files)
	! grep -qE $'^\e\\[K [0-9]' lines.txt || false
	# a pipe: the summary only
	run -0 --separate-stderr mlctl push demo:1.0.0 --to "$NS/again" --limit-rate 4M
	[[ "$stderr" != *ETA* && "$stderr" != *$'\r'* ]]
	[[ "$stderr" == "sent 5 blobs"* ]]
	script -q -c "'$MLCTL' push demo:1.0.0 --to '$NS/quiet' -q --limit-rate 4M" /dev/null > q.txt
	! grep -q ETA q.txt || false
	script -q -c "'$MLCTL' pull demo:1.0.0 --from '$NS' -o out --limit-rate 1M" /dev/null > pull.txt
	tr '\r' '\n' < pull.txt | grep -qE 'model\.bin .* · ETA'
	cmp out/model.bin p/model.bin
}

@test "a blob another model holds in the same registry is mounted, not sent" {
	make_project a alpha 1.0.0
	mlctl push a --to "$NS" -q
	make_project b beta 1.0.0
	cp a/model.bin b/model.bin
	run -0 --separate-stderr mlctl push b --to "$NS" --json
	echo "$output" > out.json
	# model.bin, and serve.py and data/train.csv, which make_project writes alike
	[ "$(json out.json 'd["remote"]["blobs_mounted"]')" = 3 ]
	size=$(stat -c %s b/model.bin)
	[ "$(json out.json 'd["remote"]["bytes_sent"]')" -lt "$size" ]
	grep -qE "\"POST /v2/t$BATS_TEST_NUMBER/beta/blobs/uploads/\?mount=sha256%3A[0-9a-f]{64}&from=t$BATS_TEST_NUMBER%2Falpha HTTP/1.1\" 201" "$OCI_DIR/log"
	MLCTL_REGISTRY=$BATS_TEST_TMPDIR/other mlctl pull beta:1.0.0 --from "$NS" -o out -q
	cmp out/model.bin a/model.bin
}

@test "--aliases tags the version with its aliases on the OCI registry; pull --from never trusts such a tag" {
	make_project p demo 1.0.0
	mlctl push p -q
	next_version p 1.1.0
	mlctl push p -q
	mlctl alias set demo:1.0.0 production -q
	run -0 --separate-stderr mlctl push demo:1.0.0 --to "$NS" --aliases
	[[ "$stderr" == *"tagged production too"* ]]
	mlctl push demo:1.1.0 --to "$NS" -q
	a=$(skopeo inspect --tls-verify=false --raw "docker://$NS/demo:production" | sha256sum | cut -d' ' -f1)
	v=$(skopeo inspect --tls-verify=false --raw "docker://$NS/demo:1.0.0" | sha256sum | cut -d' ' -f1)
	[ "$a" = "$v" ]
	# someone moves the OCI tag by hand: mlctl still goes by the registry's history
	skopeo inspect --tls-verify=false --raw "docker://$NS/demo:1.1.0" > m11.json
	curl -sf -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
		--data-binary @m11.json "http://$OPEN/v2/t$BATS_TEST_NUMBER/demo/manifests/production"
	run -0 --separate-stderr mlctl pull demo:production --from "$NS" -o prod
	[[ "$output" == "pulled demo:1.0.0 "* ]]
	[[ "$stderr" == *"resolved to 1.0.0 by this registry's history"* ]]
	run -2 mlctl push p --aliases
	[[ "$output" == *"go with --to REMOTE"* ]]
}

@test "a version's tag never moves: another content under a pushed version is exit 4 before any byte is sent" {
	make_project p demo 3.0.0
	MLCTL_REGISTRY=$BATS_TEST_TMPDIR/teamb mlctl push p --to "$NS" -q
	before=$(skopeo inspect --tls-verify=false --raw "docker://$NS/demo:3.0.0" | sha256sum)
	make_project q demo 3.0.0
	mlctl push q -q
	puts=$(oci_requests PUT "/v2/t$BATS_TEST_NUMBER/demo/blobs/uploads/")
	run -4 mlctl push demo:3.0.0 --to "$NS"
	[[ "$output" == *"$NS/demo:3.0.0 holds other content (version digest sha256:"*"a version's tag never moves"* ]]
	[ "$(skopeo inspect --tls-verify=false --raw "docker://$NS/demo:3.0.0" | sha256sum)" = "$before" ]
	[ "$(oci_requests PUT "/v2/t$BATS_TEST_NUMBER/demo/blobs/uploads/")" = "$puts" ]
	# and a pull of that version into a registry that holds the other content says so
	run -4 mlctl pull demo:3.0.0 --from "$NS" -o x
	[[ "$output" == *"demo:3.0.0 is sha256:"*"in this registry but sha256:"*" on $OPEN"* ]]
	[ ! -e x ]
	# the same content built at another time (SOURCE_DATE_EPOCH) is the same version: nothing moves
	SOURCE_DATE_EPOCH=1700000000 MLCTL_REGISTRY=$BATS_TEST_TMPDIR/teamb run -0 --separate-stderr mlctl push demo:3.0.0 --to "$NS" --json
	[ "$(echo "$output" | "$PY" -c 'import json,sys; r=json.load(sys.stdin)["remote"]; print(r["blobs_sent"])')" = 0 ]
	[ "$(skopeo inspect --tls-verify=false --raw "docker://$NS/demo:3.0.0" | sha256sum)" = "$before" ]
}

@test "SIGTERM stops a transfer at once: exit 143, and no tag names a half-sent version" {
	make_project p demo 1.0.0
	head -c 8000000 /dev/urandom >> p/model.bin
	mlctl push p -q
	mlctl push demo:1.0.0 --to "$NS" --limit-rate 1M -q &
	pid=$!
	sleep 1
	kill -TERM "$pid"
	wait "$pid" && status=0 || status=$?
	[ "$status" -eq 143 ]
	# it stopped mid-way (8 MB at 1 MB/s): the version was never tagged
	run curl -s -o /dev/null -w '%{http_code}' "http://$OPEN/v2/t$BATS_TEST_NUMBER/demo/manifests/1.0.0"
	[ "$output" = 404 ]
}

# shards DIR N SIZE: N random files of SIZE bytes in DIR/data (the data artifact)
shards() {
	local i
	for i in $(seq 1 "$2"); do
		{ printf 'shard\n'; head -c "$3" /dev/urandom; } > "$1/data/s$i.bin"
	done
}

@test "--jobs N moves up to N blobs at once, no more, and the same bytes arrive" {
	make_project p demo 1.0.0
	shards p 4 300000
	mlctl push p -q
	# each shard takes 2 s at 150 KB/s: the registry's log says how many it served at once
	mlctl push demo:1.0.0 --to "$NS" -j 4 --limit-rate 150K -q
	[ "$(oci_inflight PUT "^/v2/t$BATS_TEST_NUMBER/demo/blobs/uploads/.*digest=")" = "9 4" ]
	mlctl push demo:1.0.0 --to "$NS/two" --jobs 2 --limit-rate 150K -q
	[ "$(oci_inflight PUT "^/v2/t$BATS_TEST_NUMBER/two/demo/blobs/uploads/.*digest=")" = "9 2" ]
	# downloads fit in the socket's buffers, so a front sends them slowly (1.5 s a shard)
	# and says when each was asked for
	flaky_start "GET /blobs/sha256: slow 200000 99"
	MLCTL_REGISTRY=$BATS_TEST_TMPDIR/other mlctl pull demo:1.0.0 \
		--from "$FLAKY/t$BATS_TEST_NUMBER" -o out -j 3 -q
	run -0 python3 "$FIXTURES/inflight.py" --front flaky.log GET "/t$BATS_TEST_NUMBER/demo/blobs/sha256:"
	echo "blob GETs, most at once: $output"
	# each blob once or more (a GET may be retried), never more than 3 at once, and at
	# some point more than one (1.5 s a shard; the rest are small)
	read -r n most <<< "$output"
	[ "$n" -ge 8 ] && [ "$most" -le 3 ] && [ "$most" -ge 2 ]
	mlctl pull demo:1.0.0 -o local
	diff -r local out
	run -2 mlctl push demo:1.0.0 --to "$NS" -j 0
	[[ "$output" == *"--jobs '0' is not a number of blobs at once: give 1 to 64"* ]]
	run -2 mlctl pull demo:1.0.0 --from "$NS" -o x --jobs 65
	[[ "$output" == *"--jobs '65'"* ]]
	run -2 mlctl push p -j 2
	[[ "$output" == *"--jobs"*"go with --to REMOTE"* ]]
	[ ! -e x ]
}

@test "with --jobs, the first failure stops the other transfers; a corrupt stored blob is exit 5, not the registry's fault" {
	make_project p demo 1.0.0
	shards p 3 600000
	mlctl push p -q
	# the stored model.bin spoilt: the OCI registry refuses its digest
	sha=$(sha256sum p/model.bin | cut -d' ' -f1)
	blob=registry/blobs/sha256/${sha:0:2}/$sha
	chmod u+w "$blob"
	printf 'X' | dd of="$blob" bs=1 seek=100 conv=notrunc 2>/dev/null
	run -5 mlctl push demo:1.0.0 --to "$NS" -j 4 --limit-rate 100K
	[[ "$output" == *"the stored blob of 'model.bin' is corrupt (sha256:"*", not sha256:$sha); nothing was tagged: run 'mlctl registry verify'"* ]]
	# the shards (6 s each at 100 KB/s) were cut off when model.bin failed: none arrived
	for i in 1 2 3; do
		s=$(sha256sum "p/data/s$i.bin" | cut -d' ' -f1)
		run curl -s -o /dev/null -w '%{http_code}' -I "http://$OPEN/v2/t$BATS_TEST_NUMBER/demo/blobs/sha256:$s"
		[ "$output" = 404 ]
	done
	run curl -s -o /dev/null -w '%{http_code}' "http://$OPEN/v2/t$BATS_TEST_NUMBER/demo/manifests/1.0.0"
	[ "$output" = 404 ]
	# verify names it, and good bytes pushed again repair it; then the push goes through
	run -5 mlctl registry verify
	[[ "$output" == *"$sha"* ]]
	mlctl push p -q
	mlctl push demo:1.0.0 --to "$NS" -q
	MLCTL_REGISTRY=$BATS_TEST_TMPDIR/other mlctl pull demo:1.0.0 --from "$NS" -o out -q
	cmp out/model.bin p/model.bin
}

# flaky_start RULES: tests/fixtures/flaky-front.py in front of the shared
# registry (RULES as it takes them); sets FLAKY (127.0.0.1:PORT) and FLAKY_PID
flaky_start() {
	local port
	port=$(free_port)
	python3 "$FIXTURES/flaky-front.py" "$port" "http://$OPEN" flaky.log "$1" &
	FLAKY_PID=$!
	FLAKY="127.0.0.1:$port"
	oci_wait_port "$port"
}

# gap METHOD PATH-REGEX: seconds between the first such request and the next one
gap() {
	awk -v m="$1" -v p="$2" '$2 == m && $3 ~ p { t[n++] = $1 } END { printf "%.3f\n", t[1] - t[0] }' flaky.log
}

@test "408, 429 (Retry-After in seconds or as a date), 500 and 503 are tried again; a 400 is not; five failures are exit 7" {
	make_project p demo 1.0.0
	mlctl push p -q
	flaky_start "POST /blobs/uploads/\$ 408 - 1;HEAD /manifests/1.0.0 429 1 1;PUT /blobs/uploads/.*digest= 503 - 2;GET /v2/\$ 429 date+2 1"
	run -0 mlctl push demo:1.0.0 --to "$FLAKY/t$BATS_TEST_NUMBER" -j 1
	# each refused request was sent again, and went through
	[ "$(grep -c ' injected$' flaky.log)" -eq 5 ]
	grep -qE "^[0-9.]+ POST /v2/t$BATS_TEST_NUMBER/demo/blobs/uploads/ 202 passed$" flaky.log
	# Retry-After honoured, in seconds and as an HTTP date (base delay here: 1 ms)
	[ "$(gap HEAD '/manifests/1.0.0$' | cut -d. -f1)" -ge 1 ]
	[ "$(gap GET '^/v2/$' | cut -d. -f1)" -ge 1 ]
	MLCTL_REGISTRY=$BATS_TEST_TMPDIR/other mlctl pull demo:1.0.0 --from "$OPEN/t$BATS_TEST_NUMBER" -o out -q
	cmp out/model.bin p/model.bin
	kill "$FLAKY_PID"
	# a blob the registry keeps failing to give: five tries, then exit 7 naming the status
	: > flaky.log
	flaky_start "GET /blobs/sha256: 500 - 99"
	MLCTL_REGISTRY=$BATS_TEST_TMPDIR/third run -7 mlctl pull demo:1.0.0 --from "$FLAKY/t$BATS_TEST_NUMBER" -o none -j 1
	[[ "$output" == *"answered 500"* ]]
	[ "$(grep -c ' GET .*/blobs/sha256:.* 500 injected$' flaky.log)" -eq 5 ]
	[ ! -e none ]
	kill "$FLAKY_PID"
	# a 400 is an answer, not a hiccup: asked once
	: > flaky.log
	flaky_start "POST /blobs/uploads/\$ 400 - 99"
	next_version p 1.1.0
	run -7 --separate-stderr mlctl push p --to "$FLAKY/t$BATS_TEST_NUMBER"
	[ "$(grep -c ' POST .* 400 injected$' flaky.log)" -eq 1 ]
	# stored before the network had its say: the push says so, and how to send the rest
	[[ "$output" == "pushed demo:1.1.0 sha256:"* ]]
	[[ "$stderr" == *"answered 400"*"demo:1.1.0 is stored here, not (all of it) on the remote: 'mlctl push demo:1.1.0 --to $FLAKY/t$BATS_TEST_NUMBER' sends the rest"* ]]
	mlctl show demo:1.1.0 -q >/dev/null
	kill "$FLAKY_PID"
}
