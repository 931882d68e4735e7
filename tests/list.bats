#!/usr/bin/env bats
# mlctl list, versions, show: tables and JSON shapes.

load helpers

@test "list on a new machine prints nothing on stdout and exits 0" {
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

@test "versions lists highest first with digest, size, time and actor" {
	make_project a alpha 1.0.0
	mlctl push a -q
	for v in 1.10.0 1.2.0 2.0.0-rc.1; do
		sed -i "s/\"version\": \"[^\"]*\"/\"version\": \"$v\"/" a/mlctl.json
		echo "$v" >> a/model.bin
		mlctl push a -q
	done
	run -0 mlctl versions alpha
	[ "${lines[0]}" = "VERSION     DIGEST               SIZE      CREATED               BY" ]
	[[ "${lines[1]}" == "2.0.0-rc.1  sha256:"* ]]
	[[ "${lines[2]}" == "1.10.0      sha256:"* ]]
	[[ "${lines[3]}" == "1.2.0       sha256:"* ]]
	[[ "${lines[4]}" == "1.0.0       sha256:"*"Test Runner <ci@example.com>" ]]
	run -3 --separate-stderr mlctl versions nosuch
	[ "$stderr" = "mlctl: model 'nosuch' is not in the registry; see 'mlctl list'" ]
	run -2 mlctl versions alpha:1.0.0
	run -2 mlctl versions
}

@test "versions --json has the documented fields" {
	make_project a alpha 1.0.0
	mlctl push a -q
	run -0 mlctl versions alpha --json
	for key in schema_version name versions version digest size files created actor; do
		[[ "$output" == *"\"$key\":"* ]] || { echo "missing $key"; false; }
	done
}

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
