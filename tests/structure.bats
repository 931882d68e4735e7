#!/usr/bin/env bats
# The layout rules of docs/HACKING.md, checked on the source: each C library
# has one home, a wing's internal header stays in its wing, commands leave
# targets and the registry to lib/, check ids are constants, files and
# functions stay small, includes name their folder, banned.h comes last.
# Each test prints what breaks its rule.

bats_require_minimum_version 1.5.0

ROOT=$BATS_TEST_DIRNAME/..

setup() {
	cd "$ROOT"
}

# The C files of cmd/ and lib/, headers too.
sources() {
	find cmd lib -name '*.[ch]' | sort
}

# Files that include <HEADER...> outside the allowed folders (a regex on the path).
includes_outside() { # includes_outside HEADER-REGEX ALLOWED-PATH-REGEX
	sources | grep -Ev "$2" | xargs grep -lE "^#include <($1)" || true
}

@test "each C library has one home: SQLite, libgit2, libarchive, libcurl, zlib, libcrypto" {
	# lib/version.c only asks each library for its version (mlctl --version --json);
	# lib/lazy.c wraps curl_easy_setopt and curl_easy_getinfo (lib/lazy.h)
	v='^lib/version\.c$'
	bad=$(includes_outside 'sqlite3\.h' "^lib/registry/|$v")
	bad+=$(includes_outside 'git2' "^lib/gitstore/|$v")
	bad+=$(includes_outside 'archive' "^lib/package/|^lib/validate/compressed\.c$|$v")
	bad+=$(includes_outside 'curl/' "^lib/smoke/http\.c$|^lib/oci/internal\.h$|^lib/webhook\.c$|^lib/lazy\.c$|$v")
	bad+=$(includes_outside 'zlib\.h' '^lib/validate/(zip|compressed)\.c$')
	bad+=$(includes_outside 'openssl/' "^lib/util\.c$|$v")
	[ -z "$bad" ] || { echo "a library used outside its home: $bad"; false; }
	# and the homes exist, so that a rename cannot make this test pass by itself
	grep -q '^#include <sqlite3.h>' lib/registry/internal.h
	grep -q '^#include <git2.h>' lib/gitstore/internal.h
	grep -q '^#include <curl/curl.h>' lib/smoke/http.c
	grep -q '^#include <curl/curl.h>' lib/oci/internal.h
	grep -q '^#include <curl/curl.h>' lib/webhook.c
}

@test "a wing's internal header is included only inside that wing" {
	n=0
	for h in lib/*/internal.h lib/validate/pickle.h; do
		wing=$(dirname "$h")
		name=${h#lib/}
		users=$(sources | grep -v "^$wing/" | xargs grep -l "#include \"$name\"" || true)
		case $h in lib/validate/pickle.h)
			users=$(sources | grep -Ev '^lib/validate/(pickle|pickle_globals|pickle_stack|joblib)\.c$' |
				xargs grep -l '#include "validate/pickle.h"' || true) ;;
		esac
		[ -z "$users" ] || { echo "$name included outside $wing/: $users"; false; }
		n=$((n + 1))
	done
	[ "$n" -ge 5 ]
	# the format readers' headers: for lib/validate.c, lib/init.c (ONNX) and the readers
	users=$(sources | grep -Ev '^lib/validate/|^lib/validate\.c$|^lib/init\.c$' |
		xargs grep -lE '#include "validate/' || true)
	[ -z "$users" ] || { echo "validate/ headers included by $users"; false; }
}

@test "commands do not stat a target, open the registry or talk to a library themselves" {
	# cmd/cli.c is the one place that turns --registry into an open registry
	bad=$(grep -nE '\b(l?stat|fstatat|opendir|access|realpath)\(|mlctl_registry_open(_damaged)?\(|mlctl_registry_locate\(' cmd/*.c |
		grep -v '^cmd/cli\.c:' || true)
	[ -z "$bad" ] || { echo "$bad"; false; }
	bad=$(grep -nE '\b(sqlite3|git|archive|curl)_[a-z_]+\(' cmd/*.c || true)
	[ -z "$bad" ] || { echo "$bad"; false; }
}

@test "check ids are constants: no \"MLV...\" string outside the catalogue, and a mistyped one does not compile" {
	bad=$(sources | grep -v '^lib/checks\.h$' | xargs grep -nE '"MLV[0-9]{3}"' || true)
	[ -z "$bad" ] || { echo "$bad"; false; }
	# which checks mean a damaged package is a flag in the catalogue, not a list elsewhere
	grep -q 'MLCTL_CHECK_STRUCTURAL' lib/validate.c
	cc=${CC:-cc}
	flags="-std=c11 -Wall -Wextra -Werror -Ilib $(pkg-config --cflags libcjson 2>/dev/null)"
	printf '#include "report.h"\nvoid f(struct mlctl_report *r) { mlctl_report_ran(r, MLV001, ""); }\n' > "$BATS_TEST_TMPDIR/ok.c"
	run -0 $cc $flags -fsyntax-only "$BATS_TEST_TMPDIR/ok.c"
	printf '#include "report.h"\nvoid f(struct mlctl_report *r) { mlctl_report_ran(r, MLV999, ""); }\n' > "$BATS_TEST_TMPDIR/typo.c"
	run ! $cc $flags -fsyntax-only "$BATS_TEST_TMPDIR/typo.c"
	[[ "$output" == *MLV999* ]]
	printf '#include "report.h"\nvoid f(struct mlctl_report *r) { mlctl_report_ran(r, "MLV001", ""); }\n' > "$BATS_TEST_TMPDIR/str.c"
	run ! $cc $flags -fsyntax-only "$BATS_TEST_TMPDIR/str.c"
}

@test "no file in cmd/ or lib/ over 900 lines" {
	bad=$(sources | xargs wc -l | awk '$2 != "total" && $1 > 900 {print $2 ": " $1 " lines"}')
	[ -z "$bad" ] || { echo "$bad"; false; }
}

@test "no function over 120 lines, but those docs/HACKING.md names" {
	# a function: a line at column 0 that is '{' after its signature, to the '}' at column 0
	long=$(sources | grep '\.c$' | xargs awk '
		FNR == 1 { start = 0 }
		/^\{$/ { start = FNR; name = prev; next }
		/^\}/ { if (start && FNR - start + 1 > 120) { sub(/\(.*/, "", name); n = split(name, p, /[ *]+/);
			print p[n] } start = 0; next }
		/^[A-Za-z_]/ { prev = $0 }')
	for f in $long; do
		grep -q "^| \`$f\` |" docs/HACKING.md || { echo "$f is over 120 lines and not named in docs/HACKING.md"; false; }
	done
}

@test "includes name their folder, and the build has no flat -I list" {
	run -0 grep -E '^CFLAGS \+= .*-I' Makefile
	[[ "$output" == *" -Ilib"* ]]
	[[ "$output" != *"-Ilib/"* ]]
	# a header of a subfolder is included by its path from lib/
	bad=""
	for h in $(find lib -mindepth 2 -name '*.h'); do
		base=$(basename "$h")
		rel=${h#lib/}
		users=$(sources | xargs grep -lE "^#include \"$base\"" || true)
		[ -z "$users" ] || bad+="$base (use \"$rel\"): $users "
	done
	[ -z "$bad" ] || { echo "$bad"; false; }
}

@test "every C file in cmd/ and lib/ includes banned.h, last" {
	for f in $(sources | grep '\.c$'); do
		last=$(grep '^#include' "$f" | tail -1)
		[ "$last" = '#include "banned.h"' ] || { echo "$f: last include is $last"; false; }
	done
}
