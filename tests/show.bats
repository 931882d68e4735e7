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
