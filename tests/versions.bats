#!/usr/bin/env bats
# mlctl versions: a model's versions, highest first, as a table and as JSON.

load helpers

@test "versions lists highest first with digest, size, time and actor" {
	make_project a alpha 1.0.0
	mlctl push a -q
	for v in 1.10.0 1.2.0 2.0.0-rc.1; do
		sed -i "s/\"version\": \"[^\"]*\"/\"version\": \"$v\"/" a/mlctl.json
		echo "$v" >> a/model.bin
		mlctl push a -q
	done
	run -0 mlctl versions alpha
	[ "${lines[0]}" = "VERSION     DIGEST               SIZE      CREATED               BY                            ALIASES" ]
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
