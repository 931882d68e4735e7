/*
 * main.c - run every unit test group and print TAP and a summary line.
 */
#include "unit.h"

int unit_n, unit_failed;
struct mlctl_err unit_err;

void unit_check(int ok, const char *what, const char *file, int line)
{
	unit_n++;
	if (ok) {
		printf("ok %d - %s\n", unit_n, what);
		return;
	}
	unit_failed++;
	printf("not ok %d - %s\n#   at %s:%d\n", unit_n, what, file, line);
	if (unit_err.msg[0])
		printf("#   library said: %s\n", unit_err.msg);
}

void unit_check_str(const char *got, const char *want, const char *what, const char *file,
		    int line)
{
	int ok = got && want && !strcmp(got, want);

	unit_check(ok, what, file, line);
	if (!ok)
		printf("#   got:  '%s'\n#   want: '%s'\n", got ? got : "(null)", want ? want : "(null)");
}

int main(void)
{
	test_semver();
	test_ref();
	test_names();
	test_json();
	test_paths();
	test_run_pipe();
	test_escape();
	test_manifest();
	test_hash();
	test_hashpipe();
	test_spdx();
	test_manifest_check();
	test_smoke_compare();
	test_target();
	test_registry_location();
	test_oci_quirks();
	test_json_number();
	printf("1..%d\n", unit_n);
	return unit_failed ? 1 : 0;
}
