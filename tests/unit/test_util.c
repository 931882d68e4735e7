/*
 * test_util.c - canonical JSON, safe paths and escaping (lib/util.c).
 */
#include <stdlib.h>

#include "manifest.h"
#include "unit.h"

void test_json(void)
{
	cJSON *a = cJSON_Parse("{ \"b\": [3, {\"z\": 1, \"a\": \"x\"}], \"a\": 1.5, \"c\": null }");
	cJSON *b = cJSON_Parse("{\"c\":null,\"a\":1.5,\"b\":[3,{\"a\":\"x\",\"z\":1}]}");
	cJSON *u = cJSON_Parse("{\"k\":\"caf\\u00e9 \\\"q\\\"\\n\",\"n\":4294967296}");
	char *ca = mlctl_json_canonical(a), *cb = mlctl_json_canonical(b);
	char *cu = mlctl_json_canonical(u);

	CHECK_STR(ca, "{\"a\":1.5,\"b\":[3,{\"a\":\"x\",\"z\":1}],\"c\":null}");
	CHECK_STR(ca, cb);
	CHECK_STR(cu, "{\"k\":\"caf\xc3\xa9 \\\"q\\\"\\n\",\"n\":4294967296}");
	free(ca);
	free(cb);
	free(cu);
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(u);
}

void test_paths(void)
{
	CHECK(mlctl_path_is_safe("model.pkl"));
	CHECK(mlctl_path_is_safe("a/b/c.bin"));
	CHECK(mlctl_path_is_safe("..hidden/x"));
	CHECK(mlctl_path_is_safe("a/...b"));
	CHECK(!mlctl_path_is_safe(""));
	CHECK(!mlctl_path_is_safe("/etc/passwd"));
	CHECK(!mlctl_path_is_safe(".."));
	CHECK(!mlctl_path_is_safe("../x"));
	CHECK(!mlctl_path_is_safe("a/../../x"));
	CHECK(!mlctl_path_is_safe("a/.."));
	CHECK(!mlctl_path_is_safe("./a"));
	CHECK(!mlctl_path_is_safe("a//b"));
	CHECK(!mlctl_path_is_safe("a/"));
	CHECK(!mlctl_path_is_safe("a\\..\\b"));
	CHECK(!mlctl_path_is_safe("a\nb"));
	/* names are UTF-8: any script, but no stray bytes */
	CHECK(mlctl_path_is_safe("donn\xc3\xa9" "es/\xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80.bin"));
	CHECK(mlctl_path_is_safe("cafe\xcc\x81.txt"));
	CHECK(!mlctl_path_is_safe("caf\xe9.txt"));
	CHECK(!mlctl_path_is_safe("\xc0\xae\xc0\xae/x")); /* an overlong "..", as old decoders read it */
	CHECK(!mlctl_path_is_safe("a\xed\xa0\x80")); /* a surrogate */
	CHECK(!mlctl_path_is_safe("a\xf0\x9f\x98")); /* cut short */
	CHECK(mlctl_utf8_check("ab\xc3\xa9\xff\xc3\xa9", 7) == 4);
}

void test_escape(void)
{
	char q[64], small[12];

	CHECK_STR(mlctl_escape(q, sizeof(q), "donn\xc3\xa9" "es/\xe6\x97\xa5 x.bin"),
		  "donn\xc3\xa9" "es/\xe6\x97\xa5 x.bin");
	CHECK_STR(mlctl_escape(q, sizeof(q), "caf\xe9.txt"), "caf\\xe9.txt");
	CHECK_STR(mlctl_escape(q, sizeof(q), "a\x1b[31mred\n"), "a\\x1b[31mred\\x0a");
	CHECK_STR(mlctl_escape(q, sizeof(q), "a\\b"), "a\\\\b");
	/* a C1 control and a right-to-left override: shown, not obeyed */
	CHECK_STR(mlctl_escape(q, sizeof(q), "x\xc2\x9b" "2J\xe2\x80\xae" "exe.txt"),
		  "x\\u009b2J\\u202eexe.txt");
	/* cut to fit, never inside a sequence */
	CHECK_STR(mlctl_escape(small, sizeof(small), "\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5"),
		  "\xe6\x97\xa5\xe6\x97\xa5...");
	CHECK_STR(mlctl_escape(q, sizeof(q), ""), "");
}

void test_run_pipe(void)
{
	char *const sh[] = { "sh", "-c", "cat; printf '[%s]' \"$MLCTL_UNIT_X\"; echo oops >&2; exit 3",
			     NULL };
	char *const none[] = { "mlctl-no-such-program", NULL };
	struct mlctl_buf out = MLCTL_BUF_INIT;
	int status = 0;

	CHECK(mlctl_run_pipe(&out, &status, sh, "in\n", "MLCTL_UNIT_X=y z", 1) == 0);
	CHECK(status == 3);
	mlctl_buf_add(&out, "", 1);
	CHECK_STR(out.buf, "in\n[y z]");
	mlctl_buf_reset(&out);
	CHECK(mlctl_run_pipe(&out, &status, none, NULL, NULL, 1) == -1);
	CHECK(status == -1);
	CHECK(out.len == 0);
	mlctl_buf_release(&out);
}
