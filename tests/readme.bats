#!/usr/bin/env bats
# README.md's five-minute tour, run as written: every indented line of the
# tour, one after the other, in a fresh folder holding a copy of examples/,
# with the registry at its default place in a fresh HOME and the bare
# environment of a CI runner (no locale, no git identity, no actor, no
# terminal). A line that fails names itself, so the README cannot drift
# from the program.

load helpers
load oci

# section TITLE: the command lines of a README section, without their trailing comments
section() {
	sed -n "/^## $1/,/^##/p" "$BATS_TEST_DIRNAME/../README.md" |
		grep '^    ' | sed -E 's/^    //; s/ {2,}# .*$//'
}

tour() {
	section 'A five-minute tour'
}

# run_section WHAT: a fresh work folder with a copy of examples/ (the model not
# trained yet), then each line on stdin run in it in a CI runner's bare
# environment, localhost:5000 made $OCI; a line that fails names itself
run_section() {
	local n=0 line
	mkdir -p work/examples bin home
	cp -r "$BATS_TEST_DIRNAME/../examples/iris" work/examples/
	rm -f work/examples/iris/model.pkl
	ln -s "$MLCTL" bin/mlctl
	while IFS= read -r line; do
		n=$((n + 1))
		line=${line//localhost:5000/${OCI:-localhost:5000}}
		run env -i PATH="$PWD/bin:/usr/bin:/bin" HOME="$PWD/home" \
			bash -c "cd '$PWD/work' && $line" </dev/null
		[ "$status" -eq 0 ] || {
			echo "README $1 line $n exits $status: $line"
			echo "$output"
			return 1
		}
	done
	LINES_RUN=$n
}

@test "the README's tour has its lines (the extraction itself works)" {
	run -0 tour
	[ "${#lines[@]}" -ge 20 ]
	[ "${lines[0]}" = "/usr/bin/python3 examples/iris/train.py" ]
	[[ "$output" == *$'\nmlctl registry verify\n'* ]]
}

@test "the README's tour runs line by line in a fresh folder, fresh registry, bare environment" {
	run_section tour < <(tour)
	[ "$LINES_RUN" -ge 20 ]
	# what the tour says happened did happen, in the default registry
	reg=$PWD/home/.local/share/mlctl/registry
	[ -f "$reg/mlctl.db" ]
	run -0 env -i PATH="$PWD/bin:/usr/bin:/bin" HOME="$PWD/home" mlctl versions iris
	[[ "$output" == *"1.0.0"* && "$output" == *"1.1.0"* ]]
	[ -f work/my-model/mlctl.json ] && [ -f work/pulled/model.pkl ]
	[ -f work/smoke.xml ] && [ -f work/v.sarif ]
}

@test "the README's OCI lines run as written against a docker-registry on a free port" {
	oci_start "$BATS_TEST_TMPDIR/oci"
	run_section OCI < <(section 'Sharing through an OCI registry') || { oci_stop; false; }
	oci_stop
	[ "$LINES_RUN" -ge 7 ]
	cmp work/deploy/model.pkl work/examples/iris/model.pkl
	[ -f work/code/serve.py ] && [ ! -e work/code/model.pkl ]
}
