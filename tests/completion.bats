#!/usr/bin/env bats
# mlctl completion: scripts for bash, zsh and fish that their shells accept and that complete.

load helpers

@test "the completion scripts are valid for their shells" {
	mlctl completion bash | bash -n
	if command -v zsh >/dev/null; then mlctl completion zsh | zsh -n; fi
	if command -v fish >/dev/null; then mlctl completion fish | fish -n; fi
	run -2 --separate-stderr mlctl completion tcsh
	[ "$stderr" = "mlctl: no completion for shell 'tcsh'; use bash, zsh or fish" ]
}

@test "bash completion offers commands, options and option values" {
	source <(mlctl completion bash)
	COMP_WORDS=(mlctl pu); COMP_CWORD=1; _mlctl
	[ "${COMPREPLY[*]}" = "push pull" ]
	COMP_WORDS=(mlctl package --comp); COMP_CWORD=2; _mlctl
	[ "${COMPREPLY[*]}" = "--compression" ]
	COMP_WORDS=(mlctl push --bump m); COMP_CWORD=3; _mlctl
	[ "${COMPREPLY[*]}" = "major minor" ]
	COMP_WORDS=(mlctl registry v); COMP_CWORD=2; _mlctl
	[ "${COMPREPLY[*]}" = "verify" ]
	COMP_WORDS=(mlctl smoke --budget p9); COMP_CWORD=3; _mlctl
	[ "${COMPREPLY[*]}" = "p95_ms= p99_ms=" ]
	export MLCTL_TEST_ONLY_VARIABLE=1
	COMP_WORDS=(mlctl smoke --env MLCTL_TEST_ONLY_V); COMP_CWORD=3; _mlctl
	[ "${COMPREPLY[*]}" = "MLCTL_TEST_ONLY_VARIABLE" ]
}
