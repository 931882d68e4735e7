/*
 * fuzz_package.c - libFuzzer target: arbitrary bytes as a .mlpkg, read as a
 * stream through libarchive (lib/package.c): validated the way 'mlctl
 * validate PKG' does (every entry's digest, every model file checked from
 * the stream), then unpacked into an empty folder as 'pull PKG' does.
 * Nothing may be written outside that folder. Seeds:
 * tests/fixtures/make-package.py (a good package and each hostile kind).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "package.h"
#include "validate.h"
#include "report.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *dir, *pkg, *out;

static void cleanup(void)
{
	mlctl_rm_rf(dir);
}

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");
	char tmpl[4096];

	snprintf(tmpl, sizeof(tmpl), "%s/mlctl-fuzz-package-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	dir = mkdtemp(tmpl) ? strdup(tmpl) : NULL;
	if (!dir)
		abort();
	atexit(cleanup);
	pkg = mlctl_aprintf("%s/input.mlpkg", dir);
	out = mlctl_aprintf("%s/out", dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mlctl_validate_opts o = { 0 };
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_manifest m;
	struct mlctl_report rep;
	int fd;

	if (!dir)
		setup();
	fd = open(pkg, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || mlctl_write_all(fd, data, size) < 0)
		abort();
	close(fd);

	mlctl_report_init(&rep, "fuzz");
	mlctl_validate_path(&rep, pkg, &o, &err);
	cJSON_Delete(mlctl_report_json(&rep, 1));
	mlctl_report_release(&rep);

	if (mkdir(out, 0700) < 0)
		abort();
	err = (struct mlctl_err)MLCTL_ERR_INIT;
	if (mlctl_pkg_extract(&m, pkg, out, &err) == 0)
		mlctl_manifest_release(&m);
	mlctl_rm_rf(out);
	return 0;
}
