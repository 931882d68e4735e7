#!/usr/bin/env bats
# Zip archives that can be read two ways (tests/fixtures/make-zip-tricks.py:
# zipfile's output with one documented edit each) are refused with the
# finding each case names, from a folder and from a package (where the
# archive is a stream copied aside to be read); zipfile's clean archives,
# zip64 and data descriptors included, pass.

load helpers

TRICKS=$BATS_TEST_DIRNAME/fixtures/make-zip-tricks.py

# check TARGET WANT: validate TARGET passes (WANT clean), or validate --strict fails with
# finding WANT (an error, or a warning for a member numpy.load may take as bytes), never MLV100
check() {
	if [ "$2" = clean ]; then
		run -0 --separate-stderr mlctl validate "$1"
		[[ "$output" == "passed: 0 errors, 0 warnings in "* ]] || { echo "$1:"; echo "$output"; false; }
	else
		run -1 --separate-stderr mlctl validate --strict "$1"
		[[ "$output" == *" $2  "* ]] || { echo "$1: want $2, got:"; echo "$output"; false; }
		[[ "$output" != *MLV100* ]] || { echo "$1: reported as malformed:"; echo "$output"; false; }
	fi
}

@test "every zip trick is refused with its finding, from a folder and from a package; clean archives pass" {
	local name doc want n=0
	while IFS=$'\t' read -r name doc; do
		want=${doc%%:*}
		model_project "$name" "$name" model.npz "$TRICKS"
		check "$name" "$want"
		mlctl package "$name" -o "$name.mlpkg" -q >/dev/null
		check "$name.mlpkg" "$want"
		n=$((n + 1))
	done < <("$PY" "$TRICKS" --list)
	[ "$n" -ge 30 ]
}

@test "zipfile's clean archives (deflated, data descriptors, zip64) pass as torch checkpoints" {
	local name
	for name in clean-stored clean-deflated clean-descriptor clean-zip64-local clean-zip64-end; do
		model_project "$name" "$name" model.pt "$TRICKS"
		check "$name" clean
	done
}
