# bash completion for mlctl
_mlctl() {
	local cur prev words cword
	_init_completion 2>/dev/null || {
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD-1]}
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
	}
	local commands="init validate package push pull list versions show alias smoke registry completion help"
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
	--registry | -o | --output | --junit | --sarif | --from) COMPREPLY=($(compgen -f -- "$cur" || true)); return ;;
	--color) COMPREPLY=($(compgen -W "auto always never" -- "$cur")); return ;;
	--compression) COMPREPLY=($(compgen -W "none gzip zstd gzip:9 zstd:19" -- "$cur")); return ;;
	--bump) COMPREPLY=($(compgen -W "major minor patch" -- "$cur")); return ;;
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
	push) opts="--bump --no-validate" ;;
	pull) opts="--output -o --force -f" ;;
	alias) opts="set rm list --reason" ;;
	registry) opts="verify reindex gc --dry-run --repair --from" ;;
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
