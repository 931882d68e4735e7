#!/usr/bin/env bats
# What mlctl loads when it starts and when it runs: reads of the registry
# need none of libgit2, libcurl, libarchive, libcrypto (lib/lazy.h loads
# each at its first call); writes load them; a library that cannot be
# loaded is exit 6 naming it, and the registry is left as it was.

load helpers

# the libraries a command loaded at run time (ld.so's own account of it)
loaded() {
	LD_DEBUG=files "$MLCTL" "$@" 2>&1 >/dev/null |
		sed -n 's/.*file=\([^ ]*\) \[0\];  dynamically loaded by.*/\1/p' | sort -u | tr '\n' ' '
}

@test "mlctl is not linked with libgit2, libcurl, libarchive or libcrypto: they load when used" {
	command -v readelf || skip "readelf (binutils) is not installed"
	needed=$(readelf -d "$MLCTL" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
	echo "needed: $needed"
	[[ "$needed" == *libsqlite3* ]]
	[[ "$needed" != *libgit2* && "$needed" != *libcurl* ]]
	[[ "$needed" != *libarchive* && "$needed" != *libcrypto* ]]
}

@test "reads of the registry load no library; show loads libcrypto only (its digest check); a push loads libgit2" {
	make_project p iris 1.0.0
	mlctl push p -q
	mlctl alias set iris:1.0.0 production -q
	for c in "list" "versions iris" "history iris" "alias list iris" "policy list"; do
		got=$(loaded $c)
		echo "$c: '$got'"
		[ -z "$got" ]
	done
	got=$(loaded show iris:production)
	echo "show: '$got'"
	[ "$got" = "libcrypto.so.3 " ] || [[ "$got" =~ ^libcrypto\.so\.[0-9]+\ $ ]]
	next_version p 1.1.0
	got=$(loaded push p -q)
	echo "push: '$got'"
	[[ "$got" == *libgit2.so* ]]
	[[ "$got" != *libcurl* ]]
	# --version --json asks each library for its version: all four are there
	got=$(LD_DEBUG=files "$MLCTL" --version --json 2>&1 >/dev/null | grep -o 'file=lib[a-z0-9]*' | sort -u | tr '\n' ' ')
	echo "--version --json: '$got'"
	[[ "$got" == *libgit2* && "$got" == *libcurl* && "$got" == *libarchive* && "$got" == *libcrypto* ]]
}

# run a command in a mount namespace where the file behind SONAME is empty
without() { # without SONAME CMD...
	local so=$1 real
	shift
	real=$(readlink -f "$(ldconfig -p | awk -v s="$so" '$1 == s { print $NF; exit }')")
	[ -f "$real" ] || return 99
	unshare -m sh -c 'mount --bind /dev/null "$0" && exec "$@"' "$real" "$@"
}

@test "a library that cannot be loaded: exit 6 naming it, reads still work, the registry unchanged" {
	[ "$(id -u)" = 0 ] || skip "needs root for a mount namespace"
	unshare -m true 2>/dev/null || skip "no mount namespaces here"
	so=$(ldconfig -p | awk '$1 ~ /^libgit2\.so\./ { print $1; exit }')
	[ -n "$so" ] || skip "libgit2 is not in ld.so's cache"
	make_project p iris 1.0.0
	mlctl push p -q
	next_version p 1.1.0
	before=$(sqlite3 "$MLCTL_REGISTRY/mlctl.db" 'SELECT count(*) FROM versions; SELECT count(*) FROM events')
	run -6 without "$so" "$MLCTL" push p
	echo "$output"
	[ "${#lines[@]}" = 1 ]
	[[ "$output" == "mlctl: cannot load $so: "*"; install it"* ]]
	run -6 --separate-stderr without "$so" "$MLCTL" push p --json
	echo "$output" | jq -e --arg so "$so" '.error.exit == 6 and (.error.message | startswith("cannot load " + $so))'
	run -0 without "$so" "$MLCTL" versions iris
	[[ "$output" == *1.0.0* ]]
	[ "$(sqlite3 "$MLCTL_REGISTRY/mlctl.db" 'SELECT count(*) FROM versions; SELECT count(*) FROM events')" = "$before" ]
	run -0 mlctl registry verify
	[ -z "$(ls -A "$MLCTL_REGISTRY/tmp" 2>/dev/null)" ]
	# and the same push works with the library there
	run -0 mlctl push p -q
	run -0 mlctl versions iris
	[[ "$output" == *1.1.0* ]]
}
