/*
 * smoke.c - mlctl smoke [DIR|PKG|REF]: run the model on its smoke cases as a
 * deployment would; a table (or JSON, or JUnit) of cases and budgets; exit
 * 1 when any fails.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "manifest.h"
#include "registry.h"
#include "smoke.h"
#include "target.h"
#include "banned.h"

static const struct cli_opt opts[] = {
	{ "repeat", 0, "N", "timed runs of each case (default: the manifest's, else 5)" },
	{ "warmup", 0, "N", "untimed runs of each case first (default: the manifest's, else 1)" },
	{ "timeout-ms", 0, "MS", "longest wait for one answer (default: the manifest's, else 30000)" },
	{ "cases", 0, "FILE", "cases file in the model folder (default: the manifest's)" },
	{ "budget", 0, "NAME=LIMIT", "p50_ms, p95_ms, p99_ms, startup_ms or max_rss_mb over the "
				     "manifest's; LIMIT 'none' drops it (repeatable)" },
	{ "env", 0, "NAME[=VALUE]", "add to the model's environment; NAME alone passes mlctl's "
				    "value on (repeatable)" },
	{ "junit", 0, "FILE", "write a JUnit XML report (a testcase per case and per budget)" },
	{ "record", 0, NULL, "store the report in the registry for that version (REF only)" },
	{ "baseline", 0, "REF", "run this version (or package) on the same cases: drift and latency ratio" },
	{ "max-drift", 0, "X", "with --baseline: fail when a number drifts by more than X" },
	{ "update-expect", 0, NULL, "write the model's outputs into the cases file as expectations, "
				    "changing nothing else (DIR only)" },
	{ NULL, 0, NULL, NULL },
};

const struct cli_cmd cli_cmd_smoke = {
	"smoke", cmd_smoke, "run the model on known cases, as a deployment would; exit 1 on failure",
	"[DIR|PKG|REF] [--repeat N] [--warmup N] [--timeout-ms MS] [--cases FILE] "
	"[--budget NAME=LIMIT]... [--env NAME[=VALUE]]... [--junit FILE] [--record] "
	"[--update-expect] [--baseline REF [--max-drift X]]",
	opts, 0, 1,
};

static int int_opt(struct cli *cli, const char *name, long *out, long max)
{
	const char *v = cli_opt(cli, name);
	char *end;

	*out = -1;
	if (!v)
		return 0;
	*out = strtol(v, &end, 10);
	if (!*v || *end || *out < 0 || *out > max)
		return cli_usage(cli, "--%s takes a whole number from 0 to %ld, not '%s'", name, max,
				 v);
	return 0;
}

/* --budget NAME=LIMIT...: an object of limits (null for 'none'), or NULL and a usage error. */
static cJSON *budget_opts(struct cli *cli, int *rc)
{
	size_t n, i;
	const char *const *v = cli_opt_all(cli, "budget", &n);
	cJSON *over = cJSON_CreateObject();

	*rc = 0;
	for (i = 0; i < n; i++) {
		const char *eq = strchr(v[i], '='), *lim = eq ? eq + 1 : "";
		char name[32], *end;
		double x = 0;

		snprintf(name, sizeof(name), "%.*s", eq ? (int)(eq - v[i]) : 0, v[i]);
		if (!eq || !mlctl_str_in(name, mlctl_smoke_budget_names,
					 MLCTL_ARRAY_SIZE(mlctl_smoke_budget_names))) {
			*rc = cli_usage(cli, "--budget '%s': give NAME=LIMIT with NAME one of p50_ms, "
					"p95_ms, p99_ms, startup_ms, max_rss_mb", v[i]);
			break;
		}
		if (strcmp(lim, "none")) {
			x = strtod(lim, &end);
			if (!*lim || *end || !(x >= 0)) {
				*rc = cli_usage(cli, "--budget %s takes a number >= 0 (or 'none'), not "
						"'%s'", name, lim);
				break;
			}
		}
		cJSON_DeleteItemFromObjectCaseSensitive(over, name);
		cJSON_AddItemToObject(over, name, strcmp(lim, "none") ? cJSON_CreateNumber(x)
								      : cJSON_CreateNull());
	}
	if (*rc) {
		cJSON_Delete(over);
		return NULL;
	}
	return over;
}

/* --env NAME[=VALUE]...: "NAME=VALUE" strings (NAME alone takes mlctl's own value). */
static char **env_opts(struct cli *cli, size_t *n, int *rc)
{
	const char *const *v = cli_opt_all(cli, "env", n);
	char **out = mlctl_calloc(*n + 1, sizeof(char *));
	size_t i;

	*rc = 0;
	for (i = 0; i < *n; i++) {
		size_t len = strcspn(v[i], "=");
		char *name = mlctl_strndup(v[i], len);
		const char *have = getenv(name);
		int ok = len > 0 && strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
						 "0123456789_") == len && !(name[0] >= '0' && name[0] <= '9');

		if (!ok)
			*rc = cli_usage(cli, "--env '%s': NAME must be letters, digits and _, such as "
					"NODE_PATH=/opt/node_modules", v[i]);
		else if (!v[i][len] && !have)
			*rc = cli_usage(cli, "--env %s: mlctl has no %s in its environment to pass on; "
					"give --env %s=VALUE", name, name, name);
		else
			out[i] = v[i][len] ? mlctl_strdup(v[i]) : mlctl_aprintf("%s=%s", name, have);
		free(name);
		if (*rc)
			break;
	}
	return out;
}

static void histogram(struct cli *cli, const struct mlctl_smoke_result *res)
{
	size_t buckets[8] = { 0 }, i, top = 0;
	double lo = res->latencies[0], hi = res->latencies[res->nlatencies - 1], w;

	w = (hi - lo) / 8;
	if (w <= 0)
		w = 1e-9;
	for (i = 0; i < res->nlatencies; i++) {
		size_t b = (size_t)((res->latencies[i] - lo) / w);

		buckets[b > 7 ? 7 : b]++;
	}
	for (i = 0; i < 8; i++)
		if (buckets[i] > top)
			top = buckets[i];
	for (i = 0; i < 8; i++) {
		size_t bar = top ? (buckets[i] * 40 + top - 1) / top : 0, k;

		printf("  %8.2f ms %s", lo + w * (double)i, cli_c(cli, "green"));
		for (k = 0; k < bar; k++)
			fputs("#", stdout);
		printf("%s %zu\n", cli_c(cli, "reset"), buckets[i]);
	}
}

static void print_text(struct cli *cli, const struct mlctl_smoke_result *res, const char *what)
{
	struct cli_table t;
	size_t i, failed = mlctl_smoke_failures(res);

	cli_table_init(&t, 4);
	cli_table_row(&t, "RESULT", "CASE", "MEDIAN", "DETAIL");
	for (i = 0; i < res->ncases; i++) {
		const struct mlctl_smoke_case *c = &res->cases[i];
		char ms[32];

		snprintf(ms, sizeof(ms), c->passed || c->ms > 0 ? "%.2f ms" : "-", c->ms);
		cli_table_row(&t, c->passed ? "ok" : "FAIL", c->name, ms, c->message);
	}
	cli_table_print(cli, &t);
	cli_table_release(&t);
	if (res->nlatencies) {
		printf("\nlatency over %zu runs: p50 %.2f ms, p95 %.2f ms, p99 %.2f ms\n",
		       res->nlatencies, res->p50, res->p95, res->p99);
		if (isatty(1) && !cli->quiet)
			histogram(cli, res);
	}
	printf("start-up and first case: %.0f ms; peak memory of the model: %.1f MiB\n",
	       res->startup_ms, res->peak_rss_mb);
	for (i = 0; i < res->nbudgets; i++) {
		const struct mlctl_smoke_budget *b = &res->budgets[i];

		printf("budget %-10s %s%s%s: %.2f, limit %.2f\n", b->name,
		       cli_c(cli, b->passed ? "green" : "red"), b->passed ? "ok" : "FAIL",
		       cli_c(cli, "reset"), b->value, b->limit);
	}
	if (!res->passed && res->log_tail && *res->log_tail)
		printf("\nthe model's log (%s), last lines:\n%s%s", res->log_path, res->log_tail,
		       res->log_tail[strlen(res->log_tail) - 1] == '\n' ? "" : "\n");
	printf("\n%s%s%s: %zu case%s, %zu failure%s in %s\n",
	       cli_c(cli, res->passed ? "green" : "red"), res->passed ? "passed" : "FAILED",
	       cli_c(cli, "reset"), res->ncases, res->ncases == 1 ? "" : "s", failed,
	       failed == 1 ? "" : "s", what);
}

/*
 * A failed run as one line, for stderr and the JSON error: what failed, how
 * the model ended, where its log is.
 */
static void run_failed(struct mlctl_err *err, const struct mlctl_smoke_result *res,
		       const struct mlctl_smoke_drift *d, const char *target)
{
	struct mlctl_buf b = MLCTL_BUF_INIT, budgets = MLCTL_BUF_INIT;
	size_t i, cases = 0, nbudgets = 0, drift = mlctl_smoke_drift_failures(d);

	for (i = 0; i < res->ncases; i++)
		cases += !res->cases[i].passed;
	for (i = 0; i < res->nbudgets; i++)
		if (!res->budgets[i].passed)
			mlctl_buf_printf(&budgets, "%s%s", nbudgets++ ? ", " : "", res->budgets[i].name);
	mlctl_buf_printf(&b, "'%s' failed its smoke test:", target);
	if (cases)
		mlctl_buf_printf(&b, " %zu of %zu case%s,", cases, res->ncases,
				 res->ncases == 1 ? "" : "s");
	if (nbudgets)
		mlctl_buf_printf(&b, " budget%s %s,", nbudgets == 1 ? "" : "s", budgets.buf);
	if (drift)
		mlctl_buf_printf(&b, " %zu case%s drifting past %g from %s,", drift,
				 drift == 1 ? "" : "s", d->max_drift, d->ref);
	if (b.buf[b.len - 1] == ',')
		b.buf[--b.len] = '\0'; /* the last comma */
	mlctl_buf_puts(&b, " failed");
	if (res->died)
		mlctl_buf_printf(&b, "; the model %s", res->died);
	if (res->log_path)
		mlctl_buf_printf(&b, "; its log is %s", res->log_path);
	mlctl_err_set(err, MLCTL_EGATE, "%s", b.buf);
	mlctl_buf_release(&b);
	mlctl_buf_release(&budgets);
}

/* Store the report for the version the target opened (the one that ran). */
static int record(struct cli *cli, const struct mlctl_smoke_result *res,
		  const struct mlctl_smoke_drift *d, struct mlctl_target *t, struct mlctl_err *err)
{
	char *text = NULL, *path = NULL;
	cJSON *doc = cli_json_doc(), *sum;
	int rc;

	mlctl_smoke_json(doc, res, t->word, d);
	/* the record's summary, as validate's: what failed and how much was run */
	sum = cJSON_AddObjectToObject(doc, "summary");
	cJSON_AddNumberToObject(sum, "errors", (double)(mlctl_smoke_failures(res) +
							mlctl_smoke_drift_failures(d)));
	cJSON_AddNumberToObject(sum, "warnings", 0);
	cJSON_AddNumberToObject(sum, "checks", (double)(res->ncases + res->nbudgets +
							mlctl_smoke_drift_checks(d)));
	cJSON_AddNumberToObject(sum, "p95_ms", res->p95);
	text = mlctl_json_pretty(doc);
	cJSON_Delete(doc);
	rc = mlctl_target_record(t, "smoke", res->passed && (!d || d->passed), text, &path, err);
	if (!rc)
		cli_note(cli, "recorded for %s:%s in %s", t->info.name, t->info.version, path);
	free(path);
	free(text);
	return rc;
}

/* The drift table after the run's own. */
static void print_drift(struct cli *cli, const struct mlctl_smoke_drift *d)
{
	struct cli_table t;
	size_t i;

	printf("\nbaseline %s: p50 %.2f ms against %.2f ms (latency ratio %.2f)\n", d->ref, d->p50,
	       d->base_p50, d->ratio);
	cli_table_init(&t, 4);
	cli_table_row(&t, "DRIFT", "CASE", "MAX |DIFF|", "LABELS AGREE");
	for (i = 0; i < d->ncases; i++) {
		const struct mlctl_smoke_drift_case *c = &d->cases[i];
		char diff[32], agree[32];

		if (c->comparable)
			snprintf(diff, sizeof(diff), "%.3g", c->max_abs);
		else
			snprintf(diff, sizeof(diff), c->neither ? "no outputs" : "not comparable");
		snprintf(agree, sizeof(agree), "%zu/%zu", c->agree, c->labels);
		cli_table_row(&t, c->passed ? "ok" : "FAIL", c->name, diff, agree);
	}
	cli_table_print(cli, &t);
	cli_table_release(&t);
	if (d->gated)
		printf("drift %s: limit %g\n", d->passed ? "within the limit" : "OVER the limit",
		       d->max_drift);
}

/* What one smoke command holds: the target and the baseline, and where each runs. */
struct smoke_cmd {
	struct mlctl_smoke_opts o;
	const char *target, *baseline, *max_drift_s;
	double max_drift;
	cJSON *budget;
	char **envv;
	struct mlctl_target t, bt;
	struct mlctl_manifest m, bm;
	char *tmp, *dir, *btmp, *bdir;
};

static void smoke_cmd_release(struct smoke_cmd *s)
{
	if (s->tmp)
		mlctl_rm_rf(s->tmp);
	if (s->btmp)
		mlctl_rm_rf(s->btmp);
	free(s->tmp);
	free(s->dir);
	free(s->btmp);
	free(s->bdir);
	mlctl_manifest_release(&s->m);
	mlctl_manifest_release(&s->bm);
	cJSON_Delete(s->budget);
	mlctl_strv_free(s->envv);
	mlctl_target_release(&s->t);
	mlctl_target_release(&s->bt);
}

/* Options and targets; a usage error is printed and returned. */
static int parse(struct cli *cli, struct smoke_cmd *s)
{
	long repeat, warmup, timeout;
	int rc;

	if (s->max_drift_s) {
		char *end;

		s->max_drift = strtod(s->max_drift_s, &end);
		if (!*s->max_drift_s || *end || s->max_drift < 0)
			return cli_usage(cli, "--max-drift takes a number >= 0, not '%s'",
					 s->max_drift_s);
		if (!s->baseline)
			return cli_usage(cli, "--max-drift needs --baseline REF to compare with");
	}
	if ((rc = int_opt(cli, "repeat", &repeat, 100000)) ||
	    (rc = int_opt(cli, "warmup", &warmup, 10000)) ||
	    (rc = int_opt(cli, "timeout-ms", &timeout, 86400000)))
		return rc;
	s->o.repeat = (int)repeat;
	s->o.warmup = (int)warmup;
	s->o.timeout_ms = timeout;
	s->o.cases = cli_opt(cli, "cases");
	if (s->o.cases && !mlctl_path_is_safe(s->o.cases))
		return cli_usage(cli, "--cases '%s' must be a path inside the model folder",
				 s->o.cases);
	if ((rc = cli_target(cli, &s->t, s->target)) ||
	    (s->baseline && (rc = cli_target(cli, &s->bt, s->baseline))))
		return rc;
	if (cli_opt(cli, "record") && s->t.kind != MLCTL_TARGET_REF)
		return cli_usage(cli, "--record stores a result for a registry version; '%s' is a "
				 "path: push it, then smoke NAME:VERSION --record", s->target);
	if (cli_opt(cli, "update-expect") && s->t.kind != MLCTL_TARGET_DIR)
		return cli_usage(cli, "--update-expect writes into a project's cases file; '%s' is "
				 "not a folder", s->target);
	if ((s->budget = budget_opts(cli, &rc)))
		s->o.budget = s->budget;
	if (rc)
		return rc;
	s->envv = env_opts(cli, &s->o.nenv, &rc);
	s->o.env = (const char *const *)s->envv;
	return rc;
}

/* The cases file the target's run used, as a path. */
static char *cases_path(const struct smoke_cmd *s)
{
	const cJSON *cj = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(s->m.json, "smoke"), "cases");

	return mlctl_path_join(s->dir, s->o.cases ? s->o.cases : cj->valuestring);
}

/* Run the target (and the baseline on the same cases); --update-expect writes the outputs. */
static int run(struct cli *cli, struct smoke_cmd *s, struct mlctl_smoke_result *res,
	       struct mlctl_smoke_result *base, int *have_base, struct mlctl_err *err)
{
	int rc;

	/* the baseline is found (pulled, unpacked) before anything runs */
	if ((rc = mlctl_target_checkout(&s->t, &s->tmp, &s->dir, err)) ||
	    (rc = mlctl_manifest_load(&s->m, s->dir, NULL, err)))
		return rc;
	if (s->baseline && ((rc = mlctl_target_checkout(&s->bt, &s->btmp, &s->bdir, err)) ||
			    (rc = mlctl_manifest_load(&s->bm, s->bdir, NULL, err))))
		return rc;
	if ((rc = mlctl_smoke_run(res, s->dir, s->m.json, &s->o, err)))
		return rc;
	if (s->baseline) {
		/* the baseline answers the same cases: this model's file, by absolute path */
		char *rel = cases_path(s), *abs = mlctl_path_absolute(rel);
		struct mlctl_smoke_opts bo = s->o;

		bo.cases = NULL;
		bo.cases_abs = abs;
		bo.discard_log = 1; /* no report names the baseline's log */
		rc = mlctl_smoke_run(base, s->bdir, s->bm.json, &bo, err);
		*have_base = !rc;
		free(abs);
		free(rel);
	}
	if (!rc && cli_opt(cli, "update-expect")) {
		char *cpath = cases_path(s);
		size_t n = 0;

		rc = mlctl_smoke_update_expect(res, s->m.json, cpath, &n, err);
		if (!rc)
			cli_note(cli, "wrote the outputs of %zu case%s into %s as expectations", n,
				 n == 1 ? "" : "s", cpath);
		free(cpath);
	}
	if (rc) {
		mlctl_smoke_result_release(res);
		if (*have_base)
			mlctl_smoke_result_release(base);
		*have_base = 0;
	}
	return rc;
}

/* JUnit, the record, warnings, then the report: 0 when all passed, else 1 or the error's code. */
static int report(struct cli *cli, struct smoke_cmd *s, struct mlctl_smoke_result *res,
		  const struct mlctl_smoke_drift *d, struct mlctl_err *err)
{
	const char *junit = cli_opt(cli, "junit");
	size_t i;
	int rc = 0;

	if (junit) {
		char *x = mlctl_smoke_junit(res, s->target, d);

		rc = mlctl_write_file_atomic(junit, x, strlen(x), 0644, err);
		free(x);
	}
	if (!rc && cli_opt(cli, "record"))
		rc = record(cli, res, d, &s->t, err);
	/* not for a case --update-expect has just given an expect */
	for (i = 0; !rc && i < res->ncases; i++)
		if (res->cases[i].warning &&
		    !(cli_opt(cli, "update-expect") && res->cases[i].output))
			cli_note(cli, "mlctl: warning: %s", res->cases[i].warning);
	if (rc)
		return cli_fail(cli, err);
	if (cli->json) {
		cJSON *doc = cli_json_doc();

		mlctl_smoke_json(doc, res, s->target, d);
		if (!res->passed || (d && !d->passed)) {
			/* one document: the report, with the error in it */
			run_failed(err, res, d, s->target);
			return cli_fail_doc(cli, err, doc);
		}
		cli_print_json(doc);
	} else {
		print_text(cli, res, s->target);
		if (d)
			print_drift(cli, d);
	}
	return res->passed && (!d || d->passed) ? 0 : 1;
}

int cmd_smoke(struct cli *cli, int argc, char **argv)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct smoke_cmd s;
	struct mlctl_smoke_result res, base;
	struct mlctl_smoke_drift drift, *d = NULL;
	int have_base = 0, rc;

	memset(&s, 0, sizeof(s));
	s.target = argc > 0 ? argv[0] : ".";
	s.baseline = cli_opt(cli, "baseline");
	s.max_drift_s = cli_opt(cli, "max-drift");
	if (!(rc = parse(cli, &s)) && (rc = run(cli, &s, &res, &base, &have_base, &err)))
		rc = cli_fail(cli, &err);
	if (rc) {
		smoke_cmd_release(&s);
		return rc;
	}
	if (have_base) {
		mlctl_smoke_compare(&drift, &res, &base, s.baseline, s.max_drift,
				    s.max_drift_s != NULL);
		mlctl_smoke_result_release(&base);
		d = &drift;
	}
	rc = report(cli, &s, &res, d, &err);
	smoke_cmd_release(&s);
	mlctl_smoke_result_release(&res);
	if (d)
		mlctl_smoke_drift_release(d);
	return rc;
}
