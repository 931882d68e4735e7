/*
 * fuzz_smoke.c - libFuzzer target: arbitrary bytes as a smoke cases file
 * (one JSON case a line), through what smoke does with it that runs no
 * model: 'smoke --update-expect' rewriting each case's line in place
 * (lib/smoke_expect.c, which scans the line's members itself), and the
 * comparisons of outputs with expectations and with a baseline's outputs
 * (mlctl_json_close, mlctl_output_drift). Each case's "output" is its own
 * expect, else its input. Reading the cases for a run (load_cases in
 * lib/smoke.c) is static and only reached by starting a model: not here.
 * Seeds: the cases files under examples/ and the smoke tests' shapes.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smoke.h"
#include "report.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *dir, *cases;
static cJSON *manifest;

static void cleanup(void)
{
	mlctl_rm_rf(dir);
}

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");
	char tmpl[4096];

	snprintf(tmpl, sizeof(tmpl), "%s/mlctl-fuzz-smoke-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	dir = mkdtemp(tmpl) ? strdup(tmpl) : NULL;
	if (!dir)
		abort();
	atexit(cleanup);
	cases = mlctl_aprintf("%s/cases.jsonl", dir);
	manifest = cJSON_Parse("{\"signature\": {\"outputs\": [{\"name\": \"y\", \"dtype\": "
			       "\"float32\"}, {\"name\": \"p\", \"dtype\": \"float16\"}]}}");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mlctl_smoke_result res;
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_buf diff = MLCTL_BUF_INIT;
	char *text, *p, *nl;
	size_t updated, agree, total, i;
	double max_abs;

	if (!dir)
		setup();
	memset(&res, 0, sizeof(res));
	text = mlctl_malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	for (p = text; p && *p && res.ncases < 256; p = nl ? nl + 1 : NULL) {
		const cJSON *out;
		cJSON *j;

		nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		j = cJSON_Parse(p);
		if (!j)
			continue;
		out = cJSON_GetObjectItemCaseSensitive(j, "expect");
		if (!out)
			out = cJSON_GetObjectItemCaseSensitive(j, "input");
		res.cases = mlctl_realloc(res.cases, (res.ncases + 1) * sizeof(*res.cases));
		memset(&res.cases[res.ncases], 0, sizeof(*res.cases));
		res.cases[res.ncases].output = out ? cJSON_Duplicate(out, 1) : NULL;
		res.ncases++;
		cJSON_Delete(j);
	}
	for (i = 1; i < res.ncases; i++) {
		const cJSON *a = res.cases[i - 1].output, *b = res.cases[i].output;

		if (!a || !b)
			continue;
		diff.len = 0;
		mlctl_json_close(a, b, 1e-6, 1e-5, "output", &diff);
		mlctl_output_drift(a, b, &max_abs, &agree, &total);
	}
	if (mlctl_write_file_atomic(cases, (const char *)data, size, 0600, &err) == 0)
		mlctl_smoke_update_expect(&res, manifest, cases, &updated, &err);
	for (i = 0; i < res.ncases; i++)
		cJSON_Delete(res.cases[i].output);
	free(res.cases);
	mlctl_buf_release(&diff);
	free(text);
	return 0;
}
