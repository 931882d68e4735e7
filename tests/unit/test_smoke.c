/*
 * test_smoke.c - comparing answers (tolerances, percentiles) and writing numbers back as
 * --update-expect does.
 */
#include <stdlib.h>

#include "smoke.h"
#include "unit.h"

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
