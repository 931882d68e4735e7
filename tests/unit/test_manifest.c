/*
 * test_manifest.c - semver, references, names, the manifest parser and its checks, SPDX licences.
 */
#include <stdlib.h>

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
