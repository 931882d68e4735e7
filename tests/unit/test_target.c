/*
 * test_target.c - the DIR|PKG|REF classification of lib/target.c and the
 * registry location rule of lib/registry/locate.c: words and paths only, no
 * registry is opened.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "registry.h"
#include "target.h"
#include "unit.h"

static int kind_of(const char *word, enum mlctl_target_kind *kind)
{
	struct mlctl_target t;
	int rc = mlctl_target_init(&t, word, "/nonexistent/registry", &unit_err);

	*kind = t.kind;
	mlctl_target_release(&t);
	return rc;
}

void test_target(void)
{
	enum mlctl_target_kind k;
	char dir[] = "/tmp/mlctl-unit-XXXXXX", *file;
	FILE *f;

	if (!mkdtemp(dir)) {
		CHECK(!"mkdtemp");
		return;
	}
	file = mlctl_path_join(dir, "m.mlpkg");
	f = fopen(file, "w");
	if (f)
		fclose(f);
	CHECK(kind_of(dir, &k) == 0 && k == MLCTL_TARGET_DIR);
	CHECK(kind_of(file, &k) == 0 && k == MLCTL_TARGET_PKG);
	CHECK(kind_of("iris", &k) == 0 && k == MLCTL_TARGET_REF);
	CHECK(kind_of("iris:1.0.0", &k) == 0 && k == MLCTL_TARGET_REF);
	CHECK(kind_of("sha256:0123456789ab", &k) == 0 && k == MLCTL_TARGET_REF);
	/* written as a reference: the reference's error */
	CHECK_CODE(kind_of("iris@sha256:0123", &k), MLCTL_EUSAGE);
	CHECK_CODE(kind_of("iris:1.0", &k), MLCTL_EUSAGE);
	/* only a path could be meant */
	CHECK_CODE(kind_of("./iris", &k), MLCTL_ENOTFOUND);
	CHECK_STR(unit_err.msg, "no folder or package './iris'");
	CHECK_CODE(kind_of("a/b/c", &k), MLCTL_ENOTFOUND);
	CHECK_CODE(kind_of("Iris.v2", &k), MLCTL_ENOTFOUND);
	CHECK_CODE(kind_of("Bad Name", &k), MLCTL_EUSAGE);
	unlink(file);
	rmdir(dir);
	free(file);
}

void test_registry_location(void)
{
	static const char *const remote[] = {
		"oci://ghcr.io/acme/models", "https://example.com/r", "http://h/r", "ssh://git@h/r",
		"git@github.com:acme/models", "host:path", "localhost:5000/models", "localhost:5000",
		"ghcr.io/acme/models", "registry.example.com/x", "127.0.0.1/x", "localhost/x",
	};
	static const char *const local[] = {
		"./ghcr.io/acme/models", "/srv/ghcr.io/x", "../ghcr.io/x", "~/ghcr.io/x", "ghcr.io",
		"my.registry", ".hidden/registry", "a_b.c/x", "registry", "data/registry", "/a/b:c/d",
		".", "..",
	};
	size_t i;

	for (i = 0; i < MLCTL_ARRAY_SIZE(remote); i++)
		CHECK_CODE(mlctl_registry_check_local(remote[i], &unit_err), MLCTL_EUSAGE);
	for (i = 0; i < MLCTL_ARRAY_SIZE(local); i++)
		CHECK_OK(mlctl_registry_check_local(local[i], &unit_err));
}
