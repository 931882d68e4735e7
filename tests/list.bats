#!/usr/bin/env bats
# mlctl list: the models, as a table and as JSON.

load helpers

@test "list where there is no registry is exit 3, as every other read, and creates nothing" {
	run -3 --separate-stderr mlctl list
	[ -z "$output" ]
	[ "$stderr" = "mlctl: no registry at '$MLCTL_REGISTRY'; push a model first or pass --registry DIR" ]
	run -3 mlctl list --json
	[[ "$output" == *'"exit_code": 3'* ]]
	[ ! -e "$MLCTL_REGISTRY" ]
}

@test "list of a registry with no models prints nothing on stdout and exits 0" {
	# a registry whose only model's history was cut back to none: a folder
	# of git alone, from which the next command builds an empty index
	make_project p
	mlctl push p -q
	rm -rf "$MLCTL_REGISTRY"
	mkdir -p "$MLCTL_REGISTRY/blobs/sha256" "$MLCTL_REGISTRY/tmp"
	git init -q --bare "$MLCTL_REGISTRY/index.git"
	: > "$MLCTL_REGISTRY/mlctl.db"
	run -0 --separate-stderr mlctl list
	[ -z "$output" ]
	[ "$stderr" = "no models yet; 'mlctl push DIR' stores one" ]
	run -0 mlctl list --json
	[ "$output" = '{
  "schema_version": 1,
  "models": []
}' ]
}

@test "list shows each model with its count and latest version" {
	make_project a alpha 1.0.0
	make_project b beta 0.3.0
	mlctl push a -q && mlctl push b -q
	sed -i 's/"1.0.0"/"1.2.0"/' a/mlctl.json && echo x >> a/model.bin && mlctl push a -q
	run -0 mlctl list
	[ "${lines[0]}" = "NAME   VERSIONS  LATEST  UPDATED" ]
	[[ "${lines[1]}" =~ ^alpha\ \ 2\ +1\.2\.0\ +20[0-9-]+T[0-9:]+Z$ ]]
	[[ "${lines[2]}" =~ ^beta\ \ \ 1\ +0\.3\.0\ +20 ]]
	run -0 mlctl list --json
	[[ "$output" == *'"name": "alpha",
      "versions": 2,
      "latest": "1.2.0",'* ]]
}
