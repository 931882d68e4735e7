#!/usr/bin/env bats
# mlctl show: one version, its metadata, files and records; JSON errors.

load helpers

@test "show prints the version, its metadata and files" {
	make_project a alpha 1.0.0
	mlctl push a -q
	run -0 mlctl show alpha:1.0.0
	[ "${lines[0]}" = "name:        alpha" ]
	[ "${lines[1]}" = "version:     1.0.0" ]
	[[ "${lines[2]}" =~ ^digest:\ +sha256:[0-9a-f]{64}$ ]]
	[[ "$output" == *"license:     MIT"* ]]
	[[ "$output" == *"metric:      accuracy = 0.91"* ]]
	[[ "$output" =~ serve\.py\ +15\ B\ +0755 ]]
	run -0 mlctl show alpha --json
	[[ "$output" == *'"manifest": {'* ]]
	[[ "$output" == *'"files": ['* ]]
	run -3 mlctl show alpha:3.0.0
	run -3 --separate-stderr mlctl show alpha:production
	[[ "$stderr" == *"alias 'production' of 'alpha' does not exist"* ]]
}

@test "errors in --json mode print an error object and keep the exit code" {
	run -3 --separate-stderr mlctl --json show nosuch
	[[ "$output" == *'"error": {'* ]]
	[[ "$output" == *'"exit_code": 3'* ]]
}

# two versions of demo and the short digests 'versions' prints for them
two_versions() {
	make_project p demo 1.0.0
	mlctl push p -q
	next_version p 1.1.0
	mlctl push p -q
	short10=$(mlctl versions demo | awk '$1 == "1.0.0" { print $2 }')
	short11=$(mlctl versions demo | awk '$1 == "1.1.0" { print $2 }')
	full10=$(mlctl show demo:1.0.0 --json | sed -n 's/^  "digest": "\(.*\)",$/\1/p')
}

@test "the short digest that versions prints names its version, with NAME@ or alone" {
	two_versions
	[[ "$short10" =~ ^sha256:[0-9a-f]{12}$ ]]
	[[ "$full10" == "$short10"* ]]
	run -0 mlctl show "demo@$short10"
	[ "${lines[1]}" = "version:     1.0.0" ]
	[ "${lines[2]}" = "digest:      $full10" ]
	run -0 mlctl show "$short10"
	[ "${lines[1]}" = "version:     1.0.0" ]
	run -0 mlctl show "demo@${full10:0:30}"
	[ "${lines[1]}" = "version:     1.0.0" ]
	run -0 mlctl show "$full10"
	[ "${lines[1]}" = "version:     1.0.0" ]
	run -0 mlctl show "demo@$short11" --json
	[[ "$output" == *'"version": "1.1.0",'* ]]
}

@test "a digest shorter than 12 hex digits is exit 2; one that names nothing exit 3" {
	two_versions
	run -2 --separate-stderr mlctl show "demo@${short10:0:18}"
	[ "$stderr" = "mlctl: digest '${short10:0:18}' in 'demo@${short10:0:18}' is too short: give at least 12 of its hex digits (see 'mlctl versions NAME')" ]
	run -2 --separate-stderr mlctl show "${short10:0:18}"
	[ "$stderr" = "mlctl: digest '${short10:0:18}' is too short: give at least 12 of its hex digits (see 'mlctl versions NAME')" ]
	run -2 --separate-stderr mlctl show "demo@sha256:ABCDEF012345"
	[ "$stderr" = "mlctl: 'demo@sha256:ABCDEF012345' has a malformed digest; use NAME@sha256:<hex>, with 12 to 64 lowercase hex digits" ]
	run -3 --separate-stderr mlctl show demo@sha256:000000000000
	[ "$stderr" = "mlctl: no version of 'demo' has digest sha256:000000000000; see 'mlctl versions demo'" ]
	run -3 --separate-stderr mlctl show sha256:000000000000
	[ "$stderr" = "mlctl: no version in the registry has digest sha256:000000000000; see 'mlctl list'" ]
	# the prefix of one model's digest does not name another model's version
	make_project q other 1.0.0
	mlctl push q -q
	run -3 mlctl show "other@$short10"
}

@test "a digest prefix that matches several versions is exit 2 and names them" {
	two_versions
	# two digests sharing 16 hex digits cannot be made by pushing (2^64 tries):
	# give the database's rows such digests, as a collision would
	sqlite3 "$MLCTL_REGISTRY/mlctl.db" "
		UPDATE versions SET digest = 'sha256:0123456789abcdef' || substr(digest, 24) WHERE version = '1.0.0';
		UPDATE versions SET digest = 'sha256:0123456789abcdee' || substr(digest, 24) WHERE version = '1.1.0';"
	run -2 --separate-stderr mlctl show demo@sha256:0123456789ab
	[ "$stderr" = "mlctl: digest sha256:0123456789ab in 'demo@sha256:0123456789ab' is ambiguous: demo:1.1.0 (sha256:0123456789abcdee), demo:1.0.0 (sha256:0123456789abcdef); give more of its digits" ]
	run -2 --separate-stderr mlctl pull sha256:0123456789abcde -o out
	[[ "$stderr" == "mlctl: digest sha256:0123456789abcde is ambiguous: demo:1.1.0 "* ]]
	[ ! -e out ]
	# a unique prefix finds its version (whose edited row no reader serves)
	run -5 --separate-stderr mlctl show demo@sha256:0123456789abcdef
	[[ "$stderr" == "mlctl: the registry's index holds a manifest for demo:1.0.0 that does not match its digest sha256:0123456789ab"* ]]
}

@test "show PKG prints the package's manifest, digest and files, with no registry at all" {
	make_project p demo 1.2.0
	run -0 mlctl package p -o demo.mlpkg -q
	digest=$output
	run -0 --separate-stderr mlctl show demo.mlpkg
	[ "${lines[0]}" = "name:        demo" ]
	[ "${lines[1]}" = "version:     1.2.0" ]
	[ "${lines[2]}" = "digest:      $digest" ]
	[[ "${lines[3]}" =~ ^size:\ +[0-9.]+\ KiB\ in\ 3\ files$ ]]
	[ "${lines[4]}" = "package:     demo.mlpkg" ]
	[[ "$output" =~ serve\.py\ +15\ B\ +0755\ +$(sha256sum p/serve.py | cut -c1-64) ]]
	run -0 mlctl show demo.mlpkg --json
	[[ "$output" == *"\"digest\": \"$digest\","* ]]
	[[ "$output" == *'"source": "package",'* ]]
	[[ "$output" == *'"path": "demo.mlpkg",'* ]]
	[[ "$output" == *'"files": ['* ]]
	[ ! -e "$MLCTL_REGISTRY" ]
	bad_package notar n.mlpkg
	run -5 --separate-stderr mlctl show n.mlpkg
	[[ "$stderr" == "mlctl: 'n.mlpkg' is not an mlctl package"* ]]
}

@test "show DIR shows the project as it would be packaged: the package's digest" {
	make_project p demo 1.2.0
	run -0 mlctl package p -o demo.mlpkg -q
	digest=$output
	run -0 mlctl show p
	[ "${lines[2]}" = "digest:      $digest" ]
	[ "${lines[4]}" = "project:     p (as it would be packaged)" ]
	[[ "$output" =~ model\.bin\ +[0-9.]+\ KiB\ +0644\ +$(sha256sum p/model.bin | cut -c1-64) ]]
	run -0 mlctl show p --json
	[[ "$output" == *'"source": "project",'* ]]
	run -3 --separate-stderr mlctl show . # the test's folder has no mlctl.json
	[ "$stderr" = "mlctl: no mlctl.json in '.'; run 'mlctl init .' to write one" ]
	cd p && run -0 mlctl show . && [ "${lines[2]}" = "digest:      $digest" ]
}

@test "a word that is neither a path nor a model says both, exit 3; a folder wins over a model" {
	run -3 --separate-stderr mlctl show x
	[ "$stderr" = "mlctl: no folder or package './x' and no model 'x': no registry at '$MLCTL_REGISTRY'; push a model first or pass --registry DIR" ]
	make_project demo demo 1.0.0
	mlctl push demo -q
	run -3 --separate-stderr mlctl show x
	[ "$stderr" = "mlctl: no folder or package './x' and no model 'x' in the registry; see 'mlctl list'" ]
	run -3 --separate-stderr mlctl show team/x
	[ "$stderr" = "mlctl: no folder or package 'team/x' and no model 'team/x' in the registry; see 'mlctl list'" ]
	run -3 --separate-stderr mlctl show ./x
	[ "$stderr" = "mlctl: no folder or package './x'" ]
	run -3 --separate-stderr mlctl show sub/dir/x.mlpkg
	[ "$stderr" = "mlctl: no folder or package 'sub/dir/x.mlpkg'" ]
	run -2 --separate-stderr mlctl show 'Bad Name'
	[ "$stderr" = "mlctl: 'Bad Name' is neither a folder, a package nor a registry reference (NAME, NAME:VERSION, NAME:ALIAS, NAME@sha256:<hex>)" ]
	# the folder 'demo' here is what 'demo' names; demo:1.0.0 is the registry's
	echo changed >> demo/model.bin
	run -0 mlctl show demo
	[ "${lines[4]}" = "project:     demo (as it would be packaged)" ]
	run -0 mlctl show demo:1.0.0
	[[ "${lines[4]}" == "created:     "* ]]
}

@test "show's table lines up with names outside ASCII (columns, not bytes)" {
	mkdir p && printf x > p/a.txt && printf y > 'p/données.txt' && printf z > 'p/日本語.bin'
	mlctl init p -q
	run -0 mlctl show p
	# every SIZE cell starts in the same terminal column
	/usr/bin/python3 - "$output" <<'PY'
import sys, unicodedata
def width(s):
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)
rows = [l for l in sys.argv[1].splitlines() if l.split()[:1] and l.split()[0] in ("PATH", "a.txt", "données.txt", "日本語.bin")]
cols = {width(l[:l.index(l.split()[1])]) for l in rows}
assert len(rows) == 4 and len(cols) == 1, (rows, cols)
PY
}
