/*
 * report.c - what a smoke run found, as JSON and as JUnit XML, and
 * the comparison of a run with a baseline's on the same cases.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smoke.h"
#include "banned.h"

void mlctl_smoke_compare(struct mlctl_smoke_drift *d, const struct mlctl_smoke_result *res,
			 const struct mlctl_smoke_result *base, const char *ref, double max_drift,
			 int gated)
{
	size_t i, n = res->ncases < base->ncases ? res->ncases : base->ncases;

	memset(d, 0, sizeof(*d));
	d->ref = ref;
	d->p50 = res->p50;
	d->base_p50 = base->p50;
	d->ratio = base->p50 > 0 ? res->p50 / base->p50 : 0;
	d->max_drift = max_drift;
	d->gated = gated;
	d->passed = 1;
	d->cases = mlctl_calloc(n + 1, sizeof(*d->cases));
	d->ncases = n;
	for (i = 0; i < n; i++) {
		struct mlctl_smoke_drift_case *c = &d->cases[i];
		const cJSON *a = res->cases[i].output, *b = base->cases[i].output;

		c->name = res->cases[i].name;
		c->neither = !a && !b;
		c->comparable = a && b &&
				mlctl_output_drift(a, b, &c->max_abs, &c->agree, &c->labels) == 0;
		c->passed = !gated || (c->comparable ? c->max_abs <= max_drift : c->neither);
		d->passed &= c->passed;
	}
}

void mlctl_smoke_drift_release(struct mlctl_smoke_drift *d)
{
	free(d->cases);
	memset(d, 0, sizeof(*d));
}

size_t mlctl_smoke_drift_failures(const struct mlctl_smoke_drift *d)
{
	size_t i, n = 0;

	for (i = 0; d && d->gated && i < d->ncases; i++)
		n += !d->cases[i].passed;
	return n;
}

size_t mlctl_smoke_drift_checks(const struct mlctl_smoke_drift *d)
{
	return d && d->gated ? d->ncases : 0;
}

static void drift_json(cJSON *doc, const struct mlctl_smoke_drift *d)
{
	cJSON *b = cJSON_AddObjectToObject(doc, "baseline"), *arr;
	size_t i;

	cJSON_AddStringToObject(b, "ref", d->ref);
	cJSON_AddNumberToObject(b, "p50_ms", d->base_p50);
	cJSON_AddNumberToObject(b, "latency_ratio", d->ratio);
	if (d->gated)
		cJSON_AddNumberToObject(b, "max_drift", d->max_drift);
	cJSON_AddBoolToObject(b, "passed", d->passed);
	arr = cJSON_AddArrayToObject(b, "cases");
	for (i = 0; i < d->ncases; i++) {
		const struct mlctl_smoke_drift_case *c = &d->cases[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "name", c->name);
		cJSON_AddBoolToObject(o, "comparable", c->comparable);
		cJSON_AddNumberToObject(o, "max_abs_diff", c->max_abs);
		cJSON_AddNumberToObject(o, "labels_agree", (double)c->agree);
		cJSON_AddNumberToObject(o, "labels", (double)c->labels);
		cJSON_AddBoolToObject(o, "passed", c->passed);
		cJSON_AddItemToArray(arr, o);
	}
}

void mlctl_smoke_json(cJSON *doc, const struct mlctl_smoke_result *res, const char *subject,
		      const struct mlctl_smoke_drift *d)
{
	cJSON *arr, *lat, *w;
	size_t i;

	cJSON_AddStringToObject(doc, "subject", subject);
	cJSON_AddBoolToObject(doc, "passed", res->passed && (!d || d->passed));
	arr = cJSON_AddArrayToObject(doc, "cases");
	for (i = 0; i < res->ncases; i++) {
		const struct mlctl_smoke_case *c = &res->cases[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "name", c->name);
		cJSON_AddBoolToObject(o, "passed", c->passed);
		cJSON_AddNumberToObject(o, "median_ms", c->ms);
		cJSON_AddStringToObject(o, "message", c->message);
		w = cJSON_AddArrayToObject(o, "warnings");
		if (c->warning)
			cJSON_AddItemToArray(w, cJSON_CreateString(c->warning));
		if (c->output)
			cJSON_AddItemToObject(o, "output", cJSON_Duplicate(c->output, 1));
		cJSON_AddItemToArray(arr, o);
	}
	lat = cJSON_AddObjectToObject(doc, "latency_ms");
	cJSON_AddNumberToObject(lat, "runs", (double)res->nlatencies);
	cJSON_AddNumberToObject(lat, "p50", res->p50);
	cJSON_AddNumberToObject(lat, "p95", res->p95);
	cJSON_AddNumberToObject(lat, "p99", res->p99);
	cJSON_AddNumberToObject(doc, "startup_ms", res->startup_ms);
	cJSON_AddNumberToObject(doc, "peak_rss_mb", res->peak_rss_mb);
	arr = cJSON_AddArrayToObject(doc, "budgets");
	for (i = 0; i < res->nbudgets; i++) {
		const struct mlctl_smoke_budget *b = &res->budgets[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "name", b->name);
		cJSON_AddNumberToObject(o, "limit", b->limit);
		cJSON_AddNumberToObject(o, "value", b->value);
		cJSON_AddBoolToObject(o, "passed", b->passed);
		cJSON_AddItemToArray(arr, o);
	}
	if (res->died)
		cJSON_AddStringToObject(doc, "died", res->died);
	cJSON_AddStringToObject(doc, "log", res->log_path ? res->log_path : "");
	if (d)
		drift_json(doc, d);
}

/*
 * <testcase classname="mlctl.smoke.KIND" name="NAME" time="T">: a failure
 * with the log in system-err, a warning as "warning: …" in system-out
 * (JUnit has no element for one; CI systems show system-out), in the
 * schema's order; or closed at once.
 */
static void junit_case(struct mlctl_buf *b, const char *kind, const char *name, double seconds,
		       const char *failure, const char *log, const char *warning)
{
	mlctl_buf_printf(b, "    <testcase classname=\"mlctl.smoke.%s\" name=\"", kind);
	mlctl_buf_add_xml(b, name);
	mlctl_buf_printf(b, "\" time=\"%.6f\"", seconds);
	if (!failure && !warning) {
		mlctl_buf_puts(b, "/>\n");
		return;
	}
	mlctl_buf_puts(b, ">\n");
	if (failure) {
		mlctl_buf_puts(b, "      <failure message=\"");
		mlctl_buf_add_xml(b, failure);
		mlctl_buf_puts(b, "\"/>\n");
	}
	if (warning) {
		mlctl_buf_puts(b, "      <system-out>warning: ");
		mlctl_buf_add_xml(b, warning);
		mlctl_buf_puts(b, "</system-out>\n");
	}
	if (failure && log && *log) {
		mlctl_buf_puts(b, "      <system-err>");
		mlctl_buf_add_xml(b, log);
		mlctl_buf_puts(b, "</system-err>\n");
	}
	mlctl_buf_puts(b, "    </testcase>\n");
}

char *mlctl_smoke_junit(const struct mlctl_smoke_result *res, const char *subject,
			const struct mlctl_smoke_drift *d)
{
	struct mlctl_buf b = MLCTL_BUF_INIT;
	size_t i, tests = res->ncases + res->nbudgets + mlctl_smoke_drift_checks(d);
	size_t failures = mlctl_smoke_failures(res) + mlctl_smoke_drift_failures(d);

	mlctl_buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n"
			   "  <testsuite name=\"mlctl smoke ");
	mlctl_buf_add_xml(&b, subject);
	mlctl_buf_printf(&b, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\">\n", tests, failures);
	for (i = 0; i < res->ncases; i++) {
		const struct mlctl_smoke_case *c = &res->cases[i];

		junit_case(&b, "case", c->name, c->ms / 1000.0, c->passed ? NULL : c->message,
			   res->log_tail, c->warning);
	}
	for (i = 0; i < res->nbudgets; i++) {
		const struct mlctl_smoke_budget *x = &res->budgets[i];
		char *why = x->passed ? NULL
				      : mlctl_aprintf("%s is %.2f, over the limit of %.2f", x->name,
						      x->value, x->limit);

		junit_case(&b, "budget", x->name, 0, why, NULL, NULL);
		free(why);
	}
	for (i = 0; d && d->gated && i < d->ncases; i++) {
		const struct mlctl_smoke_drift_case *c = &d->cases[i];
		char *why = NULL;

		if (!c->passed && c->comparable)
			why = mlctl_aprintf("drifts by %.6g from %s, over the limit of %g",
					    c->max_abs, d->ref, d->max_drift);
		else if (!c->passed)
			why = mlctl_aprintf("cannot be compared with %s: one answered no output, or "
					    "the outputs are shaped differently", d->ref);
		junit_case(&b, "drift", c->name, 0, why, NULL, NULL);
		free(why);
	}
	mlctl_buf_puts(&b, "  </testsuite>\n</testsuites>\n");
	return mlctl_buf_detach(&b);
}
