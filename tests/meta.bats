#!/usr/bin/env bats
# Every command: --help works without a registry, a bad option is exit 2,
# it has a docs page naming each of its options, and each completion
# script knows the command and its options.

load helpers

commands() {
	mlctl --help | sed -n 's/^  \([a-z]*\)  .*/\1/p'
}

# the long options a command's --help lists (its own, then the global ones)
options_of() {
	mlctl "$1" --help | grep -o -- '--[a-z][a-z-]*' | sort -u
}

@test "the command list is what we expect" {
	run -0 commands
	[ "$(echo $output)" = "init validate package push pull list versions show alias smoke registry completion help" ]
}

@test "every command's --help exits 0 without touching any registry" {
	export MLCTL_REGISTRY=$BATS_TEST_TMPDIR/none
	for c in $(commands); do
		run -0 mlctl "$c" --help
		[[ "${lines[0]}" == "usage: mlctl $c"* ]] || { echo "$c: ${lines[0]}"; false; }
		run -0 mlctl "$c" -h
		run -0 mlctl help "$c"
	done
	[ ! -e "$MLCTL_REGISTRY" ]
}

@test "every command refuses an unknown option with exit 2 and points at --help" {
	for c in $(commands); do
		run -2 --separate-stderr mlctl "$c" --no-such-option
		[ "$stderr" = "mlctl: unknown option '--no-such-option'; see 'mlctl $c --help'" ]
	done
}

@test "mlctl with no command, or an unknown one, is exit 2" {
	run -2 mlctl
	run -2 --separate-stderr mlctl frobnicate
	[ "$stderr" = "mlctl: 'frobnicate' is not a command; see 'mlctl --help'" ]
	run -0 mlctl --version
	[[ "$output" =~ ^mlctl\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
}

@test "every command has a docs page that names each of its options" {
	for c in $(commands); do
		page=$BATS_TEST_DIRNAME/../docs/mlctl-$c.md
		[ -f "$page" ] || { echo "no $page"; false; }
		for o in $(options_of "$c"); do
			case $o in --registry|--json|--quiet|--verbose|--color|--help) continue ;; esac
			grep -q -- "$o" "$page" || { echo "docs/mlctl-$c.md lacks $o"; false; }
		done
	done
	for o in --registry --json --quiet --verbose --color --help; do
		grep -q -- "$o" "$BATS_TEST_DIRNAME/../docs/mlctl-help.md"
	done
}

@test "each completion script names every command and every option" {
	for shell in bash zsh fish; do
		run -0 mlctl completion "$shell"
		script=$output
		for c in $(commands); do
			[[ "$script" == *"$c"* ]] || { echo "$shell lacks $c"; false; }
			for o in $(options_of "$c"); do
				name=${o#--}
				# bash and zsh spell --name, fish spells -l name
				[[ "$script" == *"--$name"* || "$script" == *"-l $name"* ]] ||
					{ echo "$shell completion lacks $o of $c"; false; }
			done
		done
	done
}

@test "docs/exit-codes.md lists every exit code" {
	for code in 0 1 2 3 4 5 6 7 8; do
		grep -q "^| $code |" "$BATS_TEST_DIRNAME/../docs/exit-codes.md"
	done
}

@test "a closed stdout is not silent success" {
	make_project p
	mlctl push p -q >/dev/null
	run -6 bash -c "'$MLCTL' show demo > /dev/full"
}
