/*
 * test_target.c - the DIR|PKG|REF classification of lib/target.c: words
 * and paths only, no registry is opened.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <unistd.h>

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
