# fish completion for mlctl
set -l cmds init validate package push pull list versions history show diff alias policy promote approve rollback deprecate undeprecate smoke registry hook remote login logout completion help
complete -c mlctl -f
complete -c mlctl -n "not __fish_seen_subcommand_from $cmds" -a init -d 'write mlctl.json from a folder'
complete -c mlctl -n "not __fish_seen_subcommand_from $cmds" -a validate -d 'check a project, package or version'
complete -c mlctl -n "not __fish_seen_subcommand_from $cmds" -a package -d 'make a deterministic package'
complete -c mlctl -n "not __fish_seen_subcommand_from $cmds" -a push -d 'store a version'
complete -c mlctl -n "not __fish_seen_subcommand_from $cmds" -a pull -d 'write a version, package or project into a folder'
complete -c mlctl -n "not __fish_seen_subcommand_from $cmds" -a list -d 'list the models'
complete -c mlctl -n "not __fish_seen_subcommand_from $cmds" -a versions -d "list a model's versions"
complete -c mlctl -n "not __fish_seen_subcommand_from $cmds" -a show -d 'show a version, package or project'
complete -c mlctl -n "not __fish_seen_subcommand_from $cmds" -a smoke -d 'run the model on known cases'
complete -c mlctl -n "not __fish_seen_subcommand_from $cmds" -a alias -d 'point a movable name at a version'
complete -c mlctl -n "not __fish_seen_subcommand_from $cmds" -a diff -d 'compare two versions'
complete -c mlctl -n "not __fish_seen_subcommand_from $cmds" -a history -d "a model's events, newest first"
complete -c mlctl -n "not __fish_seen_subcommand_from $cmds" -a policy -d 'the rules promote checks'
complete -c mlctl -n "not __fish_seen_subcommand_from $cmds" -a promote -d 'move an alias under its policy'
complete -c mlctl -n "not __fish_seen_subcommand_from $cmds" -a approve -d "approve a version for an alias's policy"
complete -c mlctl -n "not __fish_seen_subcommand_from $cmds" -a rollback -d 'move an alias back to what it held before'
complete -c mlctl -n "not __fish_seen_subcommand_from $cmds" -a deprecate -d 'mark a version or a model as not to be used'
complete -c mlctl -n "not __fish_seen_subcommand_from $cmds" -a undeprecate -d 'take a deprecation back'
complete -c mlctl -n "not __fish_seen_subcommand_from $cmds" -a registry -d 'verify, reindex, gc or sync'
complete -c mlctl -n "not __fish_seen_subcommand_from $cmds" -a hook -d "webhooks for the registry's events"
complete -c mlctl -n "not __fish_seen_subcommand_from $cmds" -a remote -d 'add, remove or list remotes'
complete -c mlctl -n "not __fish_seen_subcommand_from $cmds" -a login -d 'keep credentials for an OCI registry'
complete -c mlctl -n "not __fish_seen_subcommand_from $cmds" -a logout -d 'forget the credentials for an OCI registry'
complete -c mlctl -n "not __fish_seen_subcommand_from $cmds" -a completion -d 'print a completion script'
complete -c mlctl -n "not __fish_seen_subcommand_from $cmds" -a help -d 'show help'
# global options
complete -c mlctl -l registry -r -F -d 'registry folder'
complete -c mlctl -l json -d 'machine-readable output'
complete -c mlctl -s q -l quiet -d 'only results and errors'
complete -c mlctl -s v -l verbose -d 'more detail'
complete -c mlctl -l color -x -a 'auto always never' -d 'colour'
complete -c mlctl -s h -l help -d 'help'
complete -c mlctl -l version -n "not __fish_seen_subcommand_from init" -d 'print the version'
# init
complete -c mlctl -n '__fish_seen_subcommand_from init' -s f -l force -d 'overwrite mlctl.json'
complete -c mlctl -n '__fish_seen_subcommand_from init' -l name -x -d 'model name'
complete -c mlctl -n '__fish_seen_subcommand_from init' -l version -x -d 'first version'
complete -c mlctl -n '__fish_seen_subcommand_from init' -F
# validate
complete -c mlctl -n '__fish_seen_subcommand_from validate' -l strict -d 'warnings fail too'
complete -c mlctl -n '__fish_seen_subcommand_from validate' -l gate -x -d 'metric threshold'
complete -c mlctl -n '__fish_seen_subcommand_from validate' -l allow-license -x -d 'allowed SPDX ids'
complete -c mlctl -n '__fish_seen_subcommand_from validate' -l junit -r -F -d 'JUnit report'
complete -c mlctl -n '__fish_seen_subcommand_from validate' -l sarif -r -F -d 'SARIF report'
complete -c mlctl -n '__fish_seen_subcommand_from validate' -l record -d 'store the report in the registry'
complete -c mlctl -n '__fish_seen_subcommand_from validate' -F
# package
complete -c mlctl -n '__fish_seen_subcommand_from package' -s o -l output -r -F -d 'package file'
complete -c mlctl -n '__fish_seen_subcommand_from package' -l compression -x -a 'none gzip zstd gzip:9 zstd:19' -d 'compression'
complete -c mlctl -n '__fish_seen_subcommand_from package' -F
# push
complete -c mlctl -n '__fish_seen_subcommand_from push' -l bump -x -a 'major minor patch' -d 'next version'
complete -c mlctl -n '__fish_seen_subcommand_from push' -l no-validate -d 'store without validating'
complete -c mlctl -n '__fish_seen_subcommand_from push' -l to -x -a '(mlctl remote list -q 2>/dev/null | awk "NR > 1 { print \$1 }")' -d 'send to a remote'
complete -c mlctl -n '__fish_seen_subcommand_from push' -l chunk-size -x -d 'upload chunk size'
complete -c mlctl -n '__fish_seen_subcommand_from push' -l aliases -d 'also tag the version with its aliases'
complete -c mlctl -n '__fish_seen_subcommand_from push pull' -l limit-rate -x -d 'bytes a second at most'
complete -c mlctl -n '__fish_seen_subcommand_from push pull' -s j -l jobs -x -d 'blobs at once'
complete -c mlctl -n '__fish_seen_subcommand_from push' -F
# pull
complete -c mlctl -n '__fish_seen_subcommand_from pull' -s o -l output -r -F -d 'target folder'
complete -c mlctl -n '__fish_seen_subcommand_from pull' -s f -l force -d 'replace a folder'
complete -c mlctl -n '__fish_seen_subcommand_from pull show' -l from -x -a '(mlctl remote list -q 2>/dev/null | awk "NR > 1 { print \$1 }")' -d 'from a remote'
complete -c mlctl -n '__fish_seen_subcommand_from pull' -l file -x -d 'only matching files'
complete -c mlctl -n '__fish_seen_subcommand_from pull' -F
complete -c mlctl -n '__fish_seen_subcommand_from push pull show login registry' -l insecure -d "any certificate, or plain http"
complete -c mlctl -n '__fish_seen_subcommand_from push pull show login registry' -l registry-config -r -F -d "credentials file"
complete -c mlctl -n '__fish_seen_subcommand_from push pull show login registry' -l ca-file -r -F -d "CA certificates"
complete -c mlctl -n '__fish_seen_subcommand_from push pull show login registry' -l cert -r -F -d "client certificate"
complete -c mlctl -n '__fish_seen_subcommand_from push pull show login registry' -l key -r -F -d "the client certificate's key"
# show
complete -c mlctl -n '__fish_seen_subcommand_from show' -F
# remote, login, logout
complete -c mlctl -n '__fish_seen_subcommand_from remote; and not __fish_seen_subcommand_from add rm list' -a 'add rm list'
complete -c mlctl -n '__fish_seen_subcommand_from remote' -l oci -x -d 'OCI registry and namespace'
complete -c mlctl -n '__fish_seen_subcommand_from remote' -l git -x -d 'git repository URL'
complete -c mlctl -n '__fish_seen_subcommand_from remote' -l insecure -d 'any certificate, or plain http'
complete -c mlctl -n '__fish_seen_subcommand_from login' -s u -l username -x -d 'user name'
complete -c mlctl -n '__fish_seen_subcommand_from login' -l password-stdin -d 'read the password from standard input'
complete -c mlctl -n '__fish_seen_subcommand_from logout' -l registry-config -r -F -d 'credentials file'
# smoke
complete -c mlctl -n '__fish_seen_subcommand_from smoke' -l repeat -x -d 'timed runs per case'
complete -c mlctl -n '__fish_seen_subcommand_from smoke' -l warmup -x -d 'untimed runs first'
complete -c mlctl -n '__fish_seen_subcommand_from smoke' -l timeout-ms -x -d 'longest wait for an answer'
complete -c mlctl -n '__fish_seen_subcommand_from smoke' -l cases -r -F -d 'cases file'
complete -c mlctl -n '__fish_seen_subcommand_from smoke' -l budget -x -a 'p50_ms= p95_ms= p99_ms= startup_ms= max_rss_mb=' -d 'a budget over the manifest\'s'
complete -c mlctl -n '__fish_seen_subcommand_from smoke' -l env -x -a '(set -xn)' -d 'add to the model\'s environment'
complete -c mlctl -n '__fish_seen_subcommand_from smoke' -l junit -r -F -d 'JUnit report'
complete -c mlctl -n '__fish_seen_subcommand_from smoke' -l record -d 'store the report in the registry'
complete -c mlctl -n '__fish_seen_subcommand_from smoke' -l update-expect -d 'write outputs into the cases'
complete -c mlctl -n '__fish_seen_subcommand_from smoke' -l baseline -r -F -d 'compare with another version'
complete -c mlctl -n '__fish_seen_subcommand_from smoke' -l max-drift -x -d 'largest drift allowed'
complete -c mlctl -n '__fish_seen_subcommand_from smoke' -F
# alias
complete -c mlctl -n '__fish_seen_subcommand_from alias; and not __fish_seen_subcommand_from set rm list' -a 'set rm list'
complete -c mlctl -n '__fish_seen_subcommand_from alias' -l reason -x -d 'why the alias moves'
# deprecate, undeprecate, promote, approve, rollback
complete -c mlctl -n '__fish_seen_subcommand_from deprecate undeprecate promote approve rollback' -l reason -x -d 'why'
complete -c mlctl -n '__fish_seen_subcommand_from promote' -l force -d 'move though rules are unmet'
# hook
complete -c mlctl -n '__fish_seen_subcommand_from hook; and not __fish_seen_subcommand_from add list rm test deliver log' -a 'add list rm test deliver log'
complete -c mlctl -n '__fish_seen_subcommand_from hook' -l secret-env -x -a '(set -n)' -d 'the variable holding the secret'
complete -c mlctl -n '__fish_seen_subcommand_from hook' -l events -x -a 'model_version.created model_version.deprecated model_version.undeprecated model_version_alias.created model_version_alias.deleted model_version_record.created registered_model.deprecated registered_model.undeprecated approval.created policy.updated' -d 'only these events'
complete -c mlctl -n '__fish_seen_subcommand_from hook' -l reason -x -d 'why'
complete -c mlctl -n '__fish_seen_subcommand_from hook' -l max-wait -x -d 'seconds to wait for retries'
complete -c mlctl -n '__fish_seen_subcommand_from hook' -s n -l limit -x -d 'at most N messages'
# policy
complete -c mlctl -n '__fish_seen_subcommand_from policy; and not __fish_seen_subcommand_from set show list rm' -a 'set show list rm'
complete -c mlctl -n '__fish_seen_subcommand_from policy' -l require -x -a 'validated smoke-passed' -d 'a passing record'
complete -c mlctl -n '__fish_seen_subcommand_from policy' -l gate -x -d 'a metric threshold'
complete -c mlctl -n '__fish_seen_subcommand_from policy' -l gate-vs-current -x -d 'a bound on the change from the current version'
complete -c mlctl -n '__fish_seen_subcommand_from policy' -l approvals -x -d 'approvals by N others'
complete -c mlctl -n '__fish_seen_subcommand_from policy' -l from -x -d 'an alias that must hold it first'
complete -c mlctl -n '__fish_seen_subcommand_from policy' -l reason -x -d 'why'
# history
complete -c mlctl -n '__fish_seen_subcommand_from history' -l alias -x -d 'only this alias'
complete -c mlctl -n '__fish_seen_subcommand_from history' -l actor -x -d 'only this actor'
complete -c mlctl -n '__fish_seen_subcommand_from history' -l since -x -d 'from this UTC time'
complete -c mlctl -n '__fish_seen_subcommand_from history' -l until -x -d 'before this UTC time'
complete -c mlctl -n '__fish_seen_subcommand_from history' -l type -x -a 'push alias unalias promote rollback record deprecate undeprecate policy approve' -d 'only this event type'
complete -c mlctl -n '__fish_seen_subcommand_from history' -s n -l limit -x -d 'at most N events'
# registry, completion, help
complete -c mlctl -n '__fish_seen_subcommand_from registry; and not __fish_seen_subcommand_from verify reindex gc sync' -a 'verify reindex gc sync'
complete -c mlctl -n '__fish_seen_subcommand_from registry; and __fish_seen_subcommand_from sync' -x -a '(mlctl remote list -q 2>/dev/null | awk "NR > 1 { print \$1 }")'
complete -c mlctl -n '__fish_seen_subcommand_from registry' -l dry-run -d 'gc: say what would be removed, remove nothing'
complete -c mlctl -n '__fish_seen_subcommand_from registry' -l prune-deprecated -d 'gc: drop the bytes of deprecated versions no alias held'
complete -c mlctl -n '__fish_seen_subcommand_from registry' -l repair -d 'verify: heal missing or corrupt blobs from good copies'
complete -c mlctl -n '__fish_seen_subcommand_from registry' -l from -r -F -d 'verify --repair: a project folder or package with good copies'
complete -c mlctl -n '__fish_seen_subcommand_from registry' -l theirs -x -d "sync: keep the remote's NAME:VERSION, dropping ours"
complete -c mlctl -n '__fish_seen_subcommand_from completion' -a 'bash zsh fish'
complete -c mlctl -n '__fish_seen_subcommand_from help' -a "$cmds"
