/*
 * test_manifest.c - semver, references, names, canonical JSON, paths and
 * manifest checks.
 */
#include <stdlib.h>

#include "hashpipe.h"
#include "smoke.h"
#include "manifest.h"
#include "report.h"
#include "unit.h"

static int cmp(const char *a, const char *b)
{
	struct mlctl_semver x, y;

	if (mlctl_semver_parse(&x, a, &unit_err) || mlctl_semver_parse(&y, b, &unit_err))
		return 99;
	return mlctl_semver_cmp(&x, &y);
}

void test_semver(void)
{
	static const char *const good[] = { "0.0.0", "1.2.3", "10.20.30", "1.0.0-alpha",
					    "1.0.0-alpha.1", "1.0.0-0.3.7", "1.0.0-x.7.z.92",
					    "1.0.0+20130313144700", "1.0.0-beta+exp.sha.5114f85" };
	static const char *const bad[] = { "", "1", "1.2", "1.2.3.4", "01.2.3", "1.02.3",
					   "1.2.03", "1.2.3-", "1.2.3-01", "1.2.3+", "v1.2.3",
					   "1.2.3-a..b", "1.2.3 ", "-1.2.3", "1.2.x",
					   "99999999999999999999999.0.0" };
	/* semver.org §11 ordering */
	static const char *const order[] = { "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta",
					     "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11",
					     "1.0.0-rc.1", "1.0.0", "1.0.1", "1.1.0", "2.0.0",
					     "10.0.0" };
	struct mlctl_semver v;
	char *s = NULL;
	size_t i;

	for (i = 0; i < MLCTL_ARRAY_SIZE(good); i++)
		CHECK_OK(mlctl_semver_parse(&v, good[i], &unit_err));
	for (i = 0; i < MLCTL_ARRAY_SIZE(bad); i++)
		CHECK_CODE(mlctl_semver_parse(&v, bad[i], &unit_err), MLCTL_EUSAGE);
	for (i = 0; i + 1 < MLCTL_ARRAY_SIZE(order); i++) {
		CHECK(cmp(order[i], order[i + 1]) < 0);
		CHECK(cmp(order[i + 1], order[i]) > 0);
	}
	CHECK(cmp("1.0.0+a", "1.0.0+b") == 0);
	CHECK_OK(mlctl_semver_bump(&s, "1.4.2", "patch", &unit_err));
	CHECK_STR(s, "1.4.3");
	free(s);
	CHECK_OK(mlctl_semver_bump(&s, "1.4.2", "minor", &unit_err));
	CHECK_STR(s, "1.5.0");
	free(s);
	CHECK_OK(mlctl_semver_bump(&s, "1.4.2-rc.1", "major", &unit_err));
	CHECK_STR(s, "2.0.0");
	free(s);
	CHECK_OK(mlctl_semver_bump(&s, "2.0.0-rc.1", "patch", &unit_err));
	CHECK_STR(s, "2.0.0");
	free(s);
	CHECK_CODE(mlctl_semver_bump(&s, "1.0.0", "micro", &unit_err), MLCTL_EUSAGE);
}

void test_ref(void)
{
	struct mlctl_ref r;
	char long_name[200];

	CHECK_OK(mlctl_ref_parse(&r, "iris", &unit_err));
	CHECK(r.kind == MLCTL_REF_LATEST);
	CHECK_STR(r.name, "iris");
	CHECK_OK(mlctl_ref_parse(&r, "iris:1.4.0", &unit_err));
	CHECK(r.kind == MLCTL_REF_VERSION);
	CHECK_STR(r.tag, "1.4.0");
	CHECK_OK(mlctl_ref_parse(&r, "team/iris:production", &unit_err));
	CHECK(r.kind == MLCTL_REF_ALIAS);
	CHECK_STR(r.name, "team/iris");
	CHECK_STR(r.tag, "production");
	CHECK_OK(mlctl_ref_parse(&r, "iris@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", &unit_err));
	CHECK(r.kind == MLCTL_REF_DIGEST);
	CHECK_STR(r.digest, "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	/* a prefix of 12 or more hex digits, with NAME@ or alone */
	CHECK_OK(mlctl_ref_parse(&r, "iris@sha256:0123456789ab", &unit_err));
	CHECK(r.kind == MLCTL_REF_DIGEST);
	CHECK_STR(r.digest, "sha256:0123456789ab");
	CHECK_OK(mlctl_ref_parse(&r, "sha256:0123456789abcdef", &unit_err));
	CHECK(r.kind == MLCTL_REF_DIGEST);
	CHECK_STR(r.name, "");
	CHECK_STR(r.digest, "sha256:0123456789abcdef");
	CHECK_CODE(mlctl_ref_parse(&r, "iris@sha256:0123456789a", &unit_err), MLCTL_EUSAGE);
	CHECK_CODE(mlctl_ref_parse(&r, "sha256:0123456789a", &unit_err), MLCTL_EUSAGE);
	CHECK_CODE(mlctl_ref_parse(&r, "iris@sha256:0123456789aB", &unit_err), MLCTL_EUSAGE);
	CHECK_CODE(mlctl_ref_parse(&r, "iris@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0", &unit_err), MLCTL_EUSAGE);
	CHECK_CODE(mlctl_ref_parse(&r, "@sha256:0123456789ab", &unit_err), MLCTL_EUSAGE);
	/* not hex after sha256: : a model named sha256 and its version */
	CHECK_OK(mlctl_ref_parse(&r, "sha256:1.0.0", &unit_err));
	CHECK(r.kind == MLCTL_REF_VERSION);
	CHECK_CODE(mlctl_ref_parse(&r, "iris@sha256:0123", &unit_err), MLCTL_EUSAGE);
	CHECK_CODE(mlctl_ref_parse(&r, "iris@md5:0123", &unit_err), MLCTL_EUSAGE);
	CHECK_CODE(mlctl_ref_parse(&r, "iris:1.0", &unit_err), MLCTL_EUSAGE);
	CHECK_CODE(mlctl_ref_parse(&r, "iris:", &unit_err), MLCTL_EUSAGE);
	CHECK_CODE(mlctl_ref_parse(&r, "iris:-x", &unit_err), MLCTL_EUSAGE);
	CHECK_CODE(mlctl_ref_parse(&r, "Iris", &unit_err), MLCTL_EUSAGE);
	CHECK_CODE(mlctl_ref_parse(&r, ":1.0.0", &unit_err), MLCTL_EUSAGE);
	CHECK_CODE(mlctl_ref_parse(&r, "a/b/c", &unit_err), MLCTL_EUSAGE);
	/* names and aliases with dots, which an older mlctl made, are still read */
	CHECK_OK(mlctl_ref_parse(&r, "a.b:prod.v1", &unit_err));
	CHECK(r.kind == MLCTL_REF_ALIAS && !strcmp(r.name, "a.b") && !strcmp(r.tag, "prod.v1"));
	CHECK_CODE(mlctl_alias_check("p..q", &unit_err), MLCTL_EUSAGE);
	CHECK_CODE(mlctl_alias_check("prod-", &unit_err), MLCTL_EUSAGE);
	CHECK_OK(mlctl_alias_check("prod-2", &unit_err));
	CHECK(mlctl_tag_problem("iris@v1.0.0-rc.1") == NULL);
	CHECK(mlctl_tag_problem("iris@v1.0.0-rc.lock") != NULL);
	CHECK(mlctl_tag_problem("iris@v1.0.0+build.lock") != NULL);
	CHECK(mlctl_tag_problem("a..b@v1.0.0") != NULL);
	CHECK(mlctl_tag_problem("team/x..y@v1.0.0") != NULL);
	CHECK(mlctl_tag_problem("a.lock/b@v1.0.0") != NULL);
	CHECK_CODE(mlctl_alias_tags_check("a..b", "prod", &unit_err), MLCTL_EUSAGE);
	CHECK_OK(mlctl_alias_tags_check("a.b", "prod", &unit_err));
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	CHECK_CODE(mlctl_ref_parse(&r, long_name, &unit_err), MLCTL_EUSAGE);
}

void test_names(void)
{
	char n128[129], n129[130];

	CHECK(mlctl_name_is_valid("iris"));
	CHECK(mlctl_name_is_valid("0iris"));
	CHECK(mlctl_name_is_valid("iris-classifier_v2"));
	/* dots: only names an older mlctl made, still read (GTO's grammar has none) */
	CHECK(!mlctl_name_is_valid("iris-classifier_v2.1"));
	CHECK(mlctl_name_is_readable("iris-classifier_v2.1"));
	CHECK(!mlctl_name_is_valid("a..b"));
	CHECK(!mlctl_name_is_valid("team/x..y"));
	CHECK(!mlctl_name_is_valid("iris-"));
	CHECK(!mlctl_name_is_valid("iris_"));
	CHECK(!mlctl_name_is_valid("team-/iris"));
	CHECK(mlctl_name_is_valid("a"));
	CHECK(!mlctl_name_is_readable("Iris"));
	CHECK(mlctl_name_is_valid("team/iris"));
	CHECK(!mlctl_name_is_valid(""));
	CHECK(!mlctl_name_is_valid("-iris"));
	CHECK(!mlctl_name_is_valid(".iris"));
	CHECK(!mlctl_name_is_valid("Iris"));
	CHECK(!mlctl_name_is_valid("iris classifier"));
	CHECK(!mlctl_name_is_valid("team/"));
	CHECK(!mlctl_name_is_valid("/iris"));
	CHECK(!mlctl_name_is_valid("a/b/c"));
	CHECK(!mlctl_name_is_valid("iris:1"));
	memset(n128, 'a', 128);
	n128[128] = '\0';
	memset(n129, 'a', 129);
	n129[129] = '\0';
	CHECK(mlctl_name_is_valid(n128));
	CHECK(!mlctl_name_is_valid(n129));
}

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

static int parse(struct mlctl_manifest *m, const char *text, int with_files)
{
	return mlctl_manifest_parse(m, text, strlen(text), "mlctl.json", with_files, NULL,
				    &unit_err);
}

void test_manifest(void)
{
	static const char *const bad[] = {
		"",
		"[]",
		"{\"schema\":\"mlctl/v2\",\"name\":\"a\",\"version\":\"1.0.0\",\"artifacts\":[{\"path\":\"m\"}]}",
		"{\"schema\":\"mlctl/v1\",\"version\":\"1.0.0\",\"artifacts\":[{\"path\":\"m\"}]}",
		"{\"schema\":\"mlctl/v1\",\"name\":\"A\",\"version\":\"1.0.0\",\"artifacts\":[{\"path\":\"m\"}]}",
		"{\"schema\":\"mlctl/v1\",\"name\":\"a\",\"version\":\"1.0\",\"artifacts\":[{\"path\":\"m\"}]}",
		"{\"schema\":\"mlctl/v1\",\"name\":\"a\",\"version\":\"1.0.0\",\"artifacts\":[]}",
		"{\"schema\":\"mlctl/v1\",\"name\":\"a\",\"version\":\"1.0.0\",\"artifacts\":[{\"path\":\"../m\"}]}",
		"{\"schema\":\"mlctl/v1\",\"name\":\"a\",\"version\":\"1.0.0\",\"artifacts\":[{\"path\":\"/m\"}]}",
		"{\"schema\":\"mlctl/v1\",\"name\":\"a\",\"version\":\"1.0.0\",\"artifacts\":[{\"path\":\"m\"},{\"path\":\"m\"}]}",
		"{\"schema\":\"mlctl/v1\",\"name\":\"a\",\"version\":\"1.0.0\",\"artifacts\":[{\"path\":\"m\",\"role\":\"weird\"}]}",
		"{\"schema\":\"mlctl/v1\",\"name\":\"a\",\"version\":\"1.0.0\",\"artifacts\":[{\"path\":\"m\"}],\"metrics\":{\"acc\":\"high\"}}",
		"{\"schema\":\"mlctl/v1\",\"name\":\"a\",\"version\":\"1.0.0\",\"artifacts\":[{\"path\":\"m\"}],\"authors\":\"me\"}",
		"{\"schema\":\"mlctl/v1\",\"name\":\"a\",\"version\":\"1.0.0\",\"artifacts\":[{\"path\":\"m\"}],\"description\":5}",
		"{\"schema\":\"mlctl/v1\",\"name\":\"a\",\"version\":\"1.0.0\",\"artifacts\":[{\"path\":\"mlctl.json\"}]}",
	};
	const char *ok = "{\"schema\":\"mlctl/v1\",\"name\":\"a\",\"version\":\"1.0.0\","
			 "\"artifacts\":[{\"path\":\"m\",\"role\":\"model\"}],\"colour\":1}";
	const char *with_files =
		"{\"schema\":\"mlctl/v1\",\"name\":\"a\",\"version\":\"1.0.0\","
		"\"artifacts\":[{\"path\":\"m\"}],\"files\":[{\"path\":\"m\",\"size\":3,"
		"\"mode\":\"0644\",\"sha256\":"
		"\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"}]}";
	const char *unsorted =
		"{\"schema\":\"mlctl/v1\",\"name\":\"a\",\"version\":\"1.0.0\","
		"\"artifacts\":[{\"path\":\"m\"}],\"files\":["
		"{\"path\":\"z\",\"size\":0,\"mode\":\"0644\",\"sha256\":\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"},"
		"{\"path\":\"m\",\"size\":0,\"mode\":\"0644\",\"sha256\":\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"}]}";
	struct mlctl_manifest m;
	struct mlctl_buf warn = MLCTL_BUF_INIT;
	char d1[72], d2[72];
	size_t i;

	for (i = 0; i < MLCTL_ARRAY_SIZE(bad); i++) {
		CHECK_CODE(parse(&m, bad[i], 0), MLCTL_EGATE);
		CHECK(strstr(unit_err.msg, "mlctl.json") != NULL);
	}
	CHECK_OK(mlctl_manifest_parse(&m, ok, strlen(ok), "mlctl.json", 0, &warn, &unit_err));
	CHECK(warn.buf && strstr(warn.buf, "unknown key 'colour'"));
	CHECK_STR(m.name, "a");
	CHECK_STR(m.version, "1.0.0");
	mlctl_manifest_release(&m);
	mlctl_buf_release(&warn);

	CHECK_CODE(parse(&m, ok, 1), MLCTL_EGATE); /* a package needs its files index */
	CHECK_OK(parse(&m, with_files, 1));
	CHECK(m.nfiles == 1 && m.files[0].size == 3 && m.files[0].mode == 0644);
	mlctl_manifest_digest(&m, d1);
	CHECK(!strncmp(d1, "sha256:", 7) && mlctl_is_sha256_hex(d1 + 7));
	mlctl_manifest_set_version(&m, "1.0.1");
	mlctl_manifest_digest(&m, d2);
	CHECK(strcmp(d1, d2) != 0);
	mlctl_manifest_set_version(&m, "1.0.0");
	mlctl_manifest_digest(&m, d2);
	CHECK_STR(d1, d2);
	mlctl_manifest_release(&m);
	CHECK_CODE(parse(&m, unsorted, 1), MLCTL_EGATE);
	/* a project's own "files" key is dropped: the index is always computed */
	CHECK_OK(parse(&m, with_files, 0));
	CHECK(m.nfiles == 0 && !cJSON_GetObjectItemCaseSensitive(m.json, "files"));
	mlctl_manifest_release(&m);
}

void test_hash(void)
{
	char hex[65];

	mlctl_sha256_hex(hex, "abc", 3);
	CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	mlctl_sha256_hex(hex, "", 0);
	CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	CHECK(mlctl_is_sha256_hex(hex));
	CHECK(!mlctl_is_sha256_hex("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"));
}

void test_hashpipe(void)
{
	size_t n = 5 * MLCTL_IO_CHUNK + 12345, off = 0, i;
	unsigned char *data = malloc(n);
	struct mlctl_hashpipe *hp = mlctl_hashpipe_new();
	char want[65], got[65];

	for (i = 0; i < n; i++)
		data[i] = (unsigned char)(i * 2654435761u >> 13);
	mlctl_sha256_hex(want, data, n);
	while (off < n) {
		size_t cap, k;
		char *slot = mlctl_hashpipe_slot(hp, &cap);

		k = n - off < cap ? n - off : cap;
		memcpy(slot, data + off, k);
		mlctl_hashpipe_push(hp, k);
		off += k;
	}
	mlctl_hashpipe_finish(hp, got);
	CHECK_STR(got, want);
	mlctl_hashpipe_free(hp);
	free(data);
}

void test_spdx(void)
{
	static const char *const good[] = { "MIT", "Apache-2.0", "apache-2.0", "GPL-2.0+",
					    "GPL-2.0-only", "MIT OR Apache-2.0",
					    "(MIT OR Apache-2.0) AND BSD-3-Clause",
					    "Apache-2.0 WITH LLVM-exception", "LicenseRef-my-licence",
					    "DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2" };
	static const char *const bad[] = { "", "Apache 2", "MIT OR", "OR MIT", "(MIT",
					   "MIT)", "MIT AND AND BSD-3-Clause", "Proprietary",
					   "MIT WITH Apache-2.0", "LicenseRef-", "((((((((((((((((((((((((((((((((((MIT))))))))))))))))))))))))))))))))))" };
	size_t i;

	for (i = 0; i < MLCTL_ARRAY_SIZE(good); i++)
		CHECK(mlctl_spdx_expression_is_valid(good[i]));
	for (i = 0; i < MLCTL_ARRAY_SIZE(bad); i++)
		CHECK(!mlctl_spdx_expression_is_valid(bad[i]));
}

struct collected {
	char ids[32][8];
	int sev[32];
	int n;
};

static void collect(void *ctx, enum mlctl_check check, int severity, const char *msg)
{
	struct collected *c = ctx;

	(void)msg;
	if (c->n < 32) {
		snprintf(c->ids[c->n], 8, "%s", mlctl_check_info(check)->id);
		c->sev[c->n++] = severity;
	}
}

void test_manifest_check(void)
{
	const char *text = "{\"schema\":\"mlctl/v9\",\"name\":\"Bad\",\"version\":\"x\","
			   "\"license\":\"Nope\",\"extra\":1,\"artifacts\":[{\"path\":\"../m\"},"
			   "{\"path\":\"a\",\"role\":\"toy\"},{\"path\":\"a\"}],"
			   "\"signature\":{\"inputs\":[{\"name\":\"x\",\"dtype\":\"float33\","
			   "\"shape\":[-2]}]}}";
	struct collected c;
	cJSON *j = cJSON_Parse(text);
	int errors, i;
	char all[400] = "";

	memset(&c, 0, sizeof(c));
	errors = mlctl_manifest_check(j, 0, collect, &c);
	for (i = 0; i < c.n; i++) {
		size_t n = strlen(all);

		snprintf(all + n, sizeof(all) - n, "%s%s:%d", i ? " " : "", c.ids[i], c.sev[i]);
	}
	CHECK_STR(all, "MLV005:1 MLV002:0 MLV003:0 MLV004:0 MLV006:1 MLV013:0 MLV013:0 "
		       "MLV009:0 MLV011:0 MLV010:0");
	CHECK(errors == 8);
	cJSON_Delete(j);
}

void test_smoke_compare(void)
{
	cJSON *want = cJSON_Parse("{\"label\": [0, 2], \"probs\": [[0.9, 0.1]]}");
	cJSON *same = cJSON_Parse("{\"label\": [0, 2], \"probs\": [[0.9004, 0.1]], \"extra\": 1}");
	cJSON *off = cJSON_Parse("{\"label\": [0, 2], \"probs\": [[0.9, 0.41]]}");
	cJSON *shorter = cJSON_Parse("{\"label\": [0], \"probs\": [[0.9, 0.1]]}");
	cJSON *missing = cJSON_Parse("{\"label\": [0, 2]}");
	struct mlctl_buf d = MLCTL_BUF_INIT;
	double v[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };

	CHECK(mlctl_json_close(same, want, 0.001, 0, "output", &d));
	CHECK(!mlctl_json_close(same, want, 0.0001, 0, "output", &d));
	mlctl_buf_reset(&d);
	CHECK(!mlctl_json_close(off, want, 0.001, 0, "output", &d));
	CHECK_STR(d.buf, "output.probs[0][1]: got 0.41, want 0.1 ± 0.001");
	mlctl_buf_reset(&d);
	CHECK(mlctl_json_close(off, want, 0, 4, "output", &d)); /* rel: 0.1 * 4 covers it */
	CHECK(!mlctl_json_close(shorter, want, 1, 0, "output", &d));
	CHECK_STR(d.buf, "output.label: got 1 elements, want 2");
	mlctl_buf_reset(&d);
	CHECK(!mlctl_json_close(missing, want, 1, 0, "output", &d));
	CHECK_STR(d.buf, "output.probs: missing");
	CHECK(mlctl_percentile(v, 10, 50) == 5.5);
	CHECK(mlctl_percentile(v, 10, 100) == 10);
	CHECK(mlctl_percentile(v, 10, 0) == 1);
	CHECK(mlctl_percentile(v, 1, 95) == 1);
	mlctl_buf_release(&d);
	cJSON_Delete(want);
	cJSON_Delete(same);
	cJSON_Delete(off);
	cJSON_Delete(shorter);
	cJSON_Delete(missing);
}

/* The numbers --update-expect writes: whole, or the shortest that reads back the same. */
void test_json_number(void)
{
	static const struct {
		double d;
		const char *want;
	} t[] = {
		{ 0.1, "0.1" },
		{ 0.1 + 0.2, "0.30000000000000004" },
		{ 100, "100" },
		{ 1e6, "1000000" },
		{ -3, "-3" },
		{ 1e20, "1e+20" },
		{ -0.5, "-0.5" },
		{ 2.5e-7, "2.5e-07" },
		{ 1.0 / 3, "0.3333333333333333" },
		{ 123456789.12345679, "123456789.12345679" },
		{ 5e-324, "5e-324" },
	};
	struct mlctl_buf b = MLCTL_BUF_INIT;
	size_t i;

	for (i = 0; i < MLCTL_ARRAY_SIZE(t); i++) {
		mlctl_buf_reset(&b);
		mlctl_json_number(&b, t[i].d);
		CHECK_STR(b.buf, t[i].want);
		CHECK(strtod(b.buf, NULL) == t[i].d);
	}
	mlctl_buf_release(&b);
}
