# bash completion for mlctl
_mlctl() {
	local cur prev words cword
	_init_completion 2>/dev/null || {
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD-1]}
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
	}
	local commands="init validate package push pull list versions history show diff alias policy promote approve rollback deprecate undeprecate smoke registry hook remote login logout completion help"
	local global="--registry --json --quiet -q --verbose -v --color --help -h --version"
	local cmd="" i
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		--registry | --color) ((i++)) ;;
		-*) ;;
		*) cmd=${words[i]}; break ;;
		esac
	done
	case $prev in
	--from | --to)
		if [[ $cmd == registry ]]; then
			COMPREPLY=($(compgen -f -- "$cur" || true))
		else # a remote's name (HOST/NAMESPACE is typed)
			COMPREPLY=($(compgen -W "$(mlctl remote list -q 2>/dev/null | awk 'NR > 1 { print $1 }')" -- "$cur"))
		fi
		return ;;
	--registry | -o | --output | --junit | --sarif | --registry-config | --ca-file | --cert | --key) COMPREPLY=($(compgen -f -- "$cur" || true)); return ;;
	--color) COMPREPLY=($(compgen -W "auto always never" -- "$cur")); return ;;
	--compression) COMPREPLY=($(compgen -W "none gzip zstd gzip:9 zstd:19" -- "$cur")); return ;;
	--bump) COMPREPLY=($(compgen -W "major minor patch" -- "$cur")); return ;;
	--oci | --git | --username | -u | --chunk-size | --limit-rate | --jobs | -j | --file | --theirs) return ;;
	--alias | --actor | --since | --until | --limit | -n | --gate-vs-current | --approvals | --max-wait) return ;;
	--secret-env) COMPREPLY=($(compgen -e -- "$cur")); return ;;
	--events) COMPREPLY=($(compgen -W "model_version.created model_version.deprecated model_version.undeprecated model_version_alias.created model_version_alias.deleted model_version_record.created registered_model.deprecated registered_model.undeprecated approval.created policy.updated" -- "$cur")); return ;;
	--require) COMPREPLY=($(compgen -W "validated smoke-passed" -- "$cur")); return ;;
	--type) COMPREPLY=($(compgen -W "push alias unalias promote rollback record deprecate undeprecate policy approve" -- "$cur")); return ;;
	--reason | --name | --version | --gate | --allow-license | --repeat | --warmup | --timeout-ms | --max-drift) return ;;
	--baseline) COMPREPLY=($(compgen -f -- "$cur" || true)); return ;;
	--cases) COMPREPLY=($(compgen -f -- "$cur" || true)); return ;;
	--budget) COMPREPLY=($(compgen -W "p50_ms= p95_ms= p99_ms= startup_ms= max_rss_mb=" -- "$cur")); compopt -o nospace 2>/dev/null || true; return ;;
	--env) COMPREPLY=($(compgen -e -- "$cur")); return ;;
	esac
	if [[ -z $cmd ]]; then
		COMPREPLY=($(compgen -W "$commands $global" -- "$cur"))
		return
	fi
	local opts=""
	case $cmd in
	init) opts="--force -f --name --version" ;;
	validate) opts="--strict --gate --allow-license --junit --sarif --record" ;;
	smoke) opts="--repeat --warmup --timeout-ms --cases --budget --env --junit --record --update-expect --baseline --max-drift" ;;
	package) opts="--output -o --compression" ;;
	push) opts="--bump --no-validate --to --chunk-size --limit-rate --jobs -j --aliases --insecure --registry-config --ca-file --cert --key" ;;
	pull) opts="--output -o --force -f --from --file --limit-rate --jobs -j --insecure --registry-config --ca-file --cert --key" ;;
	show) opts="--from --insecure --registry-config --ca-file --cert --key" ;;
	remote) opts="add rm list --oci --git --insecure" ;;
	login) opts="--username -u --password-stdin --insecure --registry-config --ca-file --cert --key" ;;
	logout) opts="--registry-config" ;;
	alias) opts="set rm list --reason" ;;
	deprecate | undeprecate | approve | rollback) opts="--reason" ;;
	promote) opts="--reason --force" ;;
	hook) opts="add list rm test deliver log --secret-env --events --reason --max-wait --limit -n" ;;
	policy) opts="set show list rm --require --gate --gate-vs-current --approvals --from --reason" ;;
	history) opts="--alias --actor --since --until --type --limit -n" ;;
	registry) opts="verify reindex gc sync --dry-run --prune-deprecated --repair --from --theirs --insecure --registry-config --ca-file --cert --key" ;;
	completion) opts="bash zsh fish" ;;
	help) opts="$commands" ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts $global" -- "$cur"))
	else
		COMPREPLY=($(compgen -W "${opts//-*/}" -- "$cur") $(compgen -f -- "$cur" || true))
	fi
}
complete -F _mlctl mlctl
