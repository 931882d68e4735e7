#!/usr/bin/env bats
# Who did it: the actor recorded for each event, from MLCTL_ACTOR, the CI
# system, git's configuration or the login name, and the git signature made
# from it. mlctl runs under env -i with a HOME of the test's own, as on a CI
# runner: no git identity, no USER, no locale; helpers.bash's MLCTL_ACTOR is
# not passed on unless a test says so.

load helpers

# as [NAME=VALUE]... -- mlctl ARGS...: mlctl in a bare environment with those variables
as() {
	local vars=()
	while [ "$1" != -- ]; do
		vars+=("$1")
		shift
	done
	shift
	env -i PATH=/usr/bin:/bin HOME="$BATS_TEST_TMPDIR/home" MLCTL_REGISTRY="$MLCTL_REGISTRY" \
		NO_COLOR=1 "${vars[@]}" "$MLCTL" "$@"
}

git_reg() {
	git --git-dir="$MLCTL_REGISTRY/index.git" "$@"
}

# who VERSION: the last event's recorded actor, the last commit's signature, the version's tag's
who() {
	sqlite3 "$MLCTL_REGISTRY/mlctl.db" 'SELECT actor FROM events ORDER BY id DESC LIMIT 1'
	git_reg log -1 --format='%an <%ae>' main
	git_reg for-each-ref --format='%(taggername) %(taggeremail)' "refs/tags/demo@v$1"
}

# push_as EXPECTED-ACTOR EXPECTED-SIGNATURE [NAME=VALUE]...: push the next version, check who
push_as() {
	local actor=$1 sig=$2
	shift 2
	n=$((${n:-0} + 1))
	next_version p "1.0.$n"
	run -0 --separate-stderr as "$@" -- push p -q
	run -0 who "1.0.$n"
	[ "$output" = "$actor
$sig
$sig" ] || { printf 'with %s:\n%s\n' "$*" "$output"; false; }
}

teardown() {
	[ -z "${shared:-}" ] || rm -rf "$shared"
}

setup() {
	cd "$BATS_TEST_TMPDIR" || exit 1
	export MLCTL_REGISTRY="$BATS_TEST_TMPDIR/registry"
	mkdir home
	make_project p
}

@test "with no actor variable and no git identity, the login name is recorded and signed with an empty e-mail" {
	login=$(id -un)
	push_as "$login" "$login <>"
	push_as "$login" "$login <>" LANG=C.UTF-8
	# the history reads cleanly with git, and the event's JSON names the actor
	git_reg fsck --strict
	[[ "$(git_reg log -1 --format=%B main)" == *"\"actor\":\"$login\""* ]]
	run -0 as -- versions demo --json
	[[ "$output" == *"\"actor\": \"$login\","* ]]
	# an alias move signs its tag the same way
	run -0 as -- alias set demo:1.0.1 production
	[ "$(git_reg for-each-ref --format='%(taggername) %(taggeremail)' 'refs/tags/demo#production#*')" = "$login <>" ]
}

@test "any MLCTL_ACTOR string works: recorded as given, signed as git can hold it" {
	push_as "ci-bot" "ci-bot <>" MLCTL_ACTOR=ci-bot
	push_as "Zoë Ångström" "Zoë Ångström <>" MLCTL_ACTOR="Zoë Ångström"
	push_as "Zoë Ångström <zoë@example.org>" "Zoë Ångström <zoë@example.org>" \
		MLCTL_ACTOR="Zoë Ångström <zoë@example.org>"
	push_as "a<b>c" "abc <>" MLCTL_ACTOR="a<b>c"
	push_as "<>" "unknown <>" MLCTL_ACTOR="<>"
	push_as "<ops@example.com>" "ops@example.com <ops@example.com>" MLCTL_ACTOR="<ops@example.com>"
	push_as "x <y" "x y <>" MLCTL_ACTOR="x <y"
	push_as "Ann <ann@example.com> (bot)" "Ann ann@example.com (bot) <>" \
		MLCTL_ACTOR="Ann <ann@example.com> (bot)"
	push_as "J. Doe Jr. <j@example.com>" "J. Doe Jr <j@example.com>" MLCTL_ACTOR="J. Doe Jr. <j@example.com>"
	# bytes that are not UTF-8 would make the event's JSON invalid: U+FFFD stands for them
	push_as "caf�" "caf� <>" MLCTL_ACTOR="$(printf 'caf\351')"
	# an empty MLCTL_ACTOR is no actor: the next source is used
	push_as "$(id -un)" "$(id -un) <>" MLCTL_ACTOR=
	git_reg fsck --strict
	run -0 as MLCTL_ACTOR=ci-bot -- alias set demo:1.0.1 staging
}

@test "a CI system's user comes before git's identity, and MLCTL_ACTOR before both" {
	git config --file home/.gitconfig user.name "Git User"
	git config --file home/.gitconfig user.email git@example.com
	push_as "Git User <git@example.com>" "Git User <git@example.com>"
	push_as "octocat <583231+octocat@users.noreply.github.com>" \
		"octocat <583231+octocat@users.noreply.github.com>" GITHUB_ACTOR=octocat GITHUB_ACTOR_ID=583231
	push_as "octocat" "octocat <>" GITHUB_ACTOR=octocat
	push_as "jdoe <jdoe@example.com>" "jdoe <jdoe@example.com>" \
		GITLAB_USER_LOGIN=jdoe GITLAB_USER_EMAIL=jdoe@example.com
	push_as "jdoe" "jdoe <>" GITLAB_USER_LOGIN=jdoe
	push_as "Jane Doe <jane@example.com>" "Jane Doe <jane@example.com>" \
		BUILDKITE_BUILD_CREATOR="Jane Doe" BUILDKITE_BUILD_CREATOR_EMAIL=jane@example.com
	push_as "Az User <az@example.com>" "Az User <az@example.com>" \
		TF_BUILD=True BUILD_REQUESTEDFOR="Az User" BUILD_REQUESTEDFOREMAIL=az@example.com
	push_as "Jen User <jen@example.com>" "Jen User <jen@example.com>" \
		JENKINS_URL=https://ci.example.com/ BUILD_USER="Jen User" BUILD_USER_EMAIL=jen@example.com
	# Jenkins' and Azure's variable names are too common to trust outside them
	push_as "Git User <git@example.com>" "Git User <git@example.com>" BUILD_USER="Jen User" \
		BUILD_REQUESTEDFOR="Az User"
	push_as "circ" "circ <>" CIRCLE_USERNAME=circ
	push_as "release-bot" "release-bot <>" MLCTL_ACTOR=release-bot GITHUB_ACTOR=octocat
}

@test "git's identity: name and e-mail, the name alone, the e-mail alone with the login name, XDG config" {
	git config --file home/.gitconfig user.name "Zoë Git"
	push_as "Zoë Git" "Zoë Git <>"
	git config --file home/.gitconfig user.email zoe@example.org
	push_as "Zoë Git <zoe@example.org>" "Zoë Git <zoe@example.org>"
	git config --file home/.gitconfig --unset user.name
	push_as "$(id -un) <zoe@example.org>" "$(id -un) <zoe@example.org>"
	rm home/.gitconfig
	mkdir -p home/.config/git
	git config --file home/.config/git/config user.name "Xdg User"
	push_as "Xdg User" "Xdg User <>"
	git_reg fsck --strict
}

@test "a user with no account (a container's --user 4321): \$USER, else \$LOGNAME, else the uid" {
	[ "$(id -u)" = 0 ] && command -v setpriv >/dev/null || skip "needs root and setpriv to run as a uid with no account"
	getent passwd 4321 >/dev/null && skip "uid 4321 has an account here"
	# a folder that uid can use (the test's own is private to root)
	shared=$(mktemp -d)
	chmod 777 "$shared"
	cp -r p "$shared/p"
	chmod -R a+rwX "$shared/p"
	export MLCTL_REGISTRY=$shared/registry
	# and a copy of the binary: the checkout may sit in a folder only root can enter
	cp "$MLCTL" "$shared/mlctl"
	chmod 755 "$shared/mlctl"
	nobody() {
		setpriv --reuid=4321 --regid=4321 --clear-groups env -i PATH=/usr/bin:/bin \
			HOME="$shared" MLCTL_REGISTRY="$MLCTL_REGISTRY" "$@" "$shared/mlctl" push "$shared/p" -q
	}
	run -0 nobody USER=runner LOGNAME=other
	next_version "$shared/p" 1.0.1
	run -0 nobody LOGNAME=other
	next_version "$shared/p" 1.0.2
	run -0 nobody
	run -0 sqlite3 "$MLCTL_REGISTRY/mlctl.db" 'SELECT actor FROM events ORDER BY id'
	[ "$output" = "runner
other
uid 4321" ]
	[ "$(git_reg log -1 --format='%an <%ae>' main)" = "uid 4321 <>" ]
}
