/*
 * run.c - a smoke run: check the section, start the model, run every case, judge the budgets.
 */
#define _GNU_SOURCE
#include "smoke/internal.h"

#include <fcntl.h>
#include <stdarg.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

static void fail_case(struct mlctl_smoke_case *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void fail_case(struct mlctl_smoke_case *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->passed = 0;
	free(c->message);
	c->message = mlctl_strdup(msg);
}

/* Why the model stopped answering, for a failed case. */
static void model_gone(struct run *rn, struct mlctl_smoke_case *c, enum answer a,
		       struct mlctl_buf *why)
{
	if (a == A_TIMEOUT) {
		fail_case(c, "no answer within %ld ms", rn->timeout_ms);
		if (!rn->res->died)
			rn->res->died = mlctl_aprintf("stopped answering (no answer within %ld ms)",
						      rn->timeout_ms);
	} else if (a == A_GARBAGE) {
		fail_case(c, "%s", why->len ? why->buf : "the model's answer is too long");
		return; /* the model is still there: go on */
	} else if (a == A_INTERRUPTED) {
		fail_case(c, "interrupted");
	} else {
		char *how;

		smk_wait_exit(&rn->pr, 1000);
		how = rn->pr.k.exited ? smk_how_it_ended(&rn->pr) : mlctl_strdup("closed its stdout");
		fail_case(c, "the model %s", how);
		if (!rn->res->died)
			rn->res->died = how;
		else
			free(how);
	}
	rn->broken = 1;
}

static void run_case(struct run *rn, const struct tcase *tc, struct mlctl_smoke_case *c,
		     int warmup, int repeat)
{
	const cJSON *input = cJSON_GetObjectItemCaseSensitive(tc->json, "input");
	const cJSON *expect = cJSON_GetObjectItemCaseSensitive(tc->json, "expect");
	const cJSON *expect_error = cJSON_GetObjectItemCaseSensitive(tc->json, "expect_error");
	const cJSON *tol = cJSON_GetObjectItemCaseSensitive(tc->json, "tolerance");
	const cJSON *tabs = cJSON_GetObjectItemCaseSensitive(tol, "abs");
	const cJSON *trel = cJSON_GetObjectItemCaseSensitive(tol, "rel");
	struct mlctl_buf why = MLCTL_BUF_INIT;
	double *lat = mlctl_calloc((size_t)repeat + 1, sizeof(double)), ms = 0;
	cJSON *answer = NULL;
	int i, wants_error = cJSON_IsTrue(expect_error) || cJSON_IsString(expect_error);
	enum answer a;

	c->name = mlctl_strdup(tc->name);
	c->passed = 1;
	c->message = mlctl_strdup("");
	c->warning = tc->warning ? mlctl_strdup(tc->warning) : NULL;
	if (rn->broken) {
		fail_case(c, "not run: the model %s", rn->res->died ? rn->res->died : "is gone");
		goto done;
	}
	for (i = 0; i < warmup + repeat; i++) {
		mlctl_buf_reset(&why);
		cJSON_Delete(answer);
		a = rn->curl ? smk_ask_http(rn, input, &answer, &ms, &why)
			     : smk_ask_exec(rn, input, &answer, &ms, &why);
		if (a != A_OK) {
			model_gone(rn, c, a, &why);
			goto done;
		}
		if (i >= warmup)
			lat[i - warmup] = ms;
		if (i == warmup) {
			const cJSON *out = cJSON_GetObjectItemCaseSensitive(answer, "output");
			const cJSON *errj = cJSON_GetObjectItemCaseSensitive(answer, "error");

			if (wants_error) {
				char *e = errj && !cJSON_IsString(errj) ? cJSON_PrintUnformatted(errj)
									 : NULL;
				const char *text = cJSON_IsString(errj) ? errj->valuestring : e;

				if (!errj)
					fail_case(c, "answered an output, but the case expects an error");
				else if (cJSON_IsString(expect_error) && text &&
					 !strstr(text, expect_error->valuestring))
					fail_case(c, "refused, but with \"%.200s\", which does not contain "
						  "\"%s\"", text, expect_error->valuestring);
				cJSON_free(e);
				continue;
			}
			if (errj) {
				char *e = cJSON_PrintUnformatted(errj);

				fail_case(c, "the model answered an error: %.200s", e ? e : "?");
				cJSON_free(e);
				continue;
			}
			if (!out) {
				fail_case(c, "the answer has neither \"output\" nor \"error\"");
				continue;
			}
			c->output = cJSON_Duplicate(out, 1);
			mlctl_buf_reset(&why);
			if ((expect && !mlctl_json_close(out, expect,
							 cJSON_IsNumber(tabs) ? tabs->valuedouble : 1e-9,
							 cJSON_IsNumber(trel) ? trel->valuedouble : 0,
							 "output", &why)) ||
			    !smk_check_spec(out, cJSON_GetObjectItemCaseSensitive(tc->json, "expect_shape"),
					    1, &why) ||
			    !smk_check_spec(out, cJSON_GetObjectItemCaseSensitive(tc->json, "expect_dtype"),
					    0, &why) ||
			    !smk_check_signature(out, rn->manifest, &why))
				fail_case(c, "%s", why.buf);
		}
	}
	qsort(lat, (size_t)repeat, sizeof(double), smk_dbl_cmp);
	c->ms = mlctl_percentile(lat, (size_t)repeat, 50);
	if (!wants_error) {
		rn->res->latencies = mlctl_realloc(rn->res->latencies,
						   (rn->res->nlatencies + (size_t)repeat) * sizeof(double));
		memcpy(rn->res->latencies + rn->res->nlatencies, lat, (size_t)repeat * sizeof(double));
		rn->res->nlatencies += (size_t)repeat;
	}
done:
	cJSON_Delete(answer);
	mlctl_buf_release(&why);
	free(lat);
}

static long opt_long(const cJSON *obj, const char *key, long dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsNumber(v) && v->valuedouble >= 0 ? (long)v->valuedouble : dflt;
}

const char *const mlctl_smoke_budget_names[5] = { "p50_ms", "p95_ms", "p99_ms", "startup_ms",
						   "max_rss_mb" };

/* The limit for name: the caller's (a number, or null for none), else the manifest's. */
static void add_budget(struct mlctl_smoke_result *res, const cJSON *manifest_budget,
		       const cJSON *over, const char *name, double value)
{
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(manifest_budget, name);
	struct mlctl_smoke_budget *x;

	if (cJSON_GetObjectItemCaseSensitive(over, name))
		b = cJSON_GetObjectItemCaseSensitive(over, name);
	if (!cJSON_IsNumber(b) || res->nbudgets >= MLCTL_ARRAY_SIZE(res->budgets))
		return;
	x = &res->budgets[res->nbudgets++];
	x->name = name;
	x->limit = b->valuedouble;
	x->value = value;
	x->passed = value <= b->valuedouble;
}

/* Remove the model's log: nothing will point at it. */
static void drop_log(struct mlctl_smoke_result *res)
{
	if (!res->log_path)
		return;
	unlink(res->log_path);
	free(res->log_path);
	res->log_path = NULL;
}

static char *tail_of(const char *path, int lines)
{
	struct mlctl_buf b = MLCTL_BUF_INIT;
	struct mlctl_err err = MLCTL_ERR_INIT;
	const char *p;
	int n = 0;

	if (mlctl_read_file(&b, path, 64u * 1024 * 1024, &err) || !b.len) {
		mlctl_buf_release(&b);
		return mlctl_strdup("");
	}
	for (p = b.buf + b.len - 1; p > b.buf; p--)
		if (*p == '\n' && p != b.buf + b.len - 1 && ++n == lines) {
			p++;
			break;
		}
	{
		char *out = mlctl_strdup(p);

		mlctl_buf_release(&b);
		return out;
	}
}

size_t mlctl_smoke_failures(const struct mlctl_smoke_result *res)
{
	size_t i, n = 0;

	for (i = 0; i < res->ncases; i++)
		n += !res->cases[i].passed;
	for (i = 0; i < res->nbudgets; i++)
		n += !res->budgets[i].passed;
	return n;
}

void mlctl_smoke_result_release(struct mlctl_smoke_result *res)
{
	size_t i;

	for (i = 0; i < res->ncases; i++) {
		free(res->cases[i].name);
		free(res->cases[i].message);
		free(res->cases[i].warning);
		cJSON_Delete(res->cases[i].output);
	}
	free(res->cases);
	free(res->latencies);
	free(res->died);
	free(res->log_tail);
	free(res->log_path);
	memset(res, 0, sizeof(*res));
}

/* The smoke section's keys and budget names: a misspelt one would be ignored. */
static int check_section(const cJSON *smoke, struct mlctl_err *err)
{
	static const char *const keys[] = { "runtime", "command", "cases", "timeout_ms",
					    "overall_timeout_ms", "startup_timeout_ms", "warmup",
					    "repeat", "budget", "url", "ready", "endpoint", "output",
					    "request" };
	const cJSON *budget = cJSON_GetObjectItemCaseSensitive(smoke, "budget"), *k;

	cJSON_ArrayForEach(k, smoke) if (!mlctl_str_in(k->string, keys, MLCTL_ARRAY_SIZE(keys))) return
		mlctl_err_set(err, MLCTL_EGATE,
			      "smoke.%s is not a smoke setting; see docs/mlctl-smoke.md for runtime, "
			      "command, cases, budget and the rest",
			      k->string);
	if (budget && !cJSON_IsObject(budget))
		return mlctl_err_set(err, MLCTL_EGATE, "smoke.budget must be an object such as "
				     "{\"p95_ms\": 50}");
	cJSON_ArrayForEach(k, budget) {
		if (!mlctl_str_in(k->string, mlctl_smoke_budget_names,
				  MLCTL_ARRAY_SIZE(mlctl_smoke_budget_names)))
			return mlctl_err_set(err, MLCTL_EGATE,
					     "smoke.budget.%s is not a budget; use p50_ms, p95_ms, "
					     "p99_ms, startup_ms or max_rss_mb",
					     k->string);
		if (!cJSON_IsNumber(k) || k->valuedouble < 0)
			return mlctl_err_set(err, MLCTL_EGATE,
					     "smoke.budget.%s must be a number >= 0", k->string);
	}
	return 0;
}

/* What a run holds beyond struct run: freed at its end whatever happened. */
struct held {
	struct tcase *tc;
	size_t ntc;
	char **argv, **owned; /* argc strings; owned: the ones with {port} filled in */
	int argc;
	char **envp;
	char *absdir;
	char portbuf[16];
};

/* Refuse a smoke section that cannot run, with what to write instead. */
static int check_smoke(const cJSON *manifest, const char *dir, const struct mlctl_smoke_opts *o,
		       int *http, struct mlctl_err *err)
{
	const cJSON *smoke = cJSON_GetObjectItemCaseSensitive(manifest, "smoke");
	const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(smoke, "command"), *c;
	const cJSON *runtime = cJSON_GetObjectItemCaseSensitive(smoke, "runtime");
	const cJSON *url = cJSON_GetObjectItemCaseSensitive(smoke, "url");
	int rc;

	if (!cJSON_IsObject(smoke)) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(manifest, "name");

		/* nothing to run is not a failed run: a usage error of its own kind */
		mlctl_err_set(err, MLCTL_EUSAGE,
			      "model '%s' has no \"smoke\" section in its mlctl.json, so there is "
			      "nothing to run; add one with runtime, command and cases (see "
			      "docs/mlctl-smoke.md)",
			      cJSON_IsString(name) ? name->valuestring : dir);
		err->kind = "no_smoke";
		return err->code;
	}
	if (runtime && (!cJSON_IsString(runtime) || (strcmp(runtime->valuestring, "exec") &&
						      strcmp(runtime->valuestring, "http"))))
		return mlctl_err_set(err, MLCTL_EGATE,
				     "smoke runtime '%s' is not known; use \"exec\" or \"http\"",
				     cJSON_IsString(runtime) ? runtime->valuestring : "?");
	if ((rc = check_section(smoke, err)))
		return rc;
	*http = runtime && !strcmp(runtime->valuestring, "http");
	if (*http && url && !cJSON_IsString(url))
		return mlctl_err_set(err, MLCTL_EGATE, "smoke.url must be a string such as "
				     "\"http://127.0.0.1:8080\"");
	if (*http && !cmd && !url)
		return mlctl_err_set(err, MLCTL_EGATE,
				     "an http smoke needs a command to start (with {port}) or the url "
				     "of a running server");
	if (!*http || cmd) {
		if (!cJSON_IsArray(cmd) || cJSON_GetArraySize(cmd) == 0)
			return mlctl_err_set(err, MLCTL_EGATE,
					     "smoke.command must be a non-empty array of strings (no "
					     "shell), such as [\"python3\", \"serve.py\"]");
		cJSON_ArrayForEach(c, cmd) {
			if (!cJSON_IsString(c))
				return mlctl_err_set(err, MLCTL_EGATE,
						     "smoke.command must hold strings only");
		}
	}
	if (!o->cases && !o->cases_abs &&
	    !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(smoke, "cases")))
		return mlctl_err_set(err, MLCTL_EGATE,
				     "smoke.cases must name the cases file, such as "
				     "\"smoke/cases.jsonl\"");
	return 0;
}

/* The command's argv, {port} in any argument becoming the chosen port. */
static void build_argv(struct held *h, const cJSON *cmd)
{
	const cJSON *c;

	h->argv = mlctl_calloc((size_t)cJSON_GetArraySize(cmd) + 1, sizeof(char *));
	h->owned = mlctl_calloc((size_t)cJSON_GetArraySize(cmd) + 1, sizeof(char *));
	cJSON_ArrayForEach(c, cmd) {
		const char *at = strstr(c->valuestring, "{port}");

		if (at && h->portbuf[0]) {
			h->owned[h->argc] = mlctl_aprintf("%.*s%s%s", (int)(at - c->valuestring),
							  c->valuestring, h->portbuf, at + 6);
			h->argv[h->argc] = h->owned[h->argc];
		} else {
			h->argv[h->argc] = c->valuestring;
		}
		h->argc++;
	}
}

/* The model's log file, kept in res->log_path. */
static int open_log(struct run *rn, struct mlctl_err *err)
{
	const char *tmp = getenv("TMPDIR");
	char *path = mlctl_aprintf("%s/mlctl-smoke-XXXXXX.log", tmp && *tmp ? tmp : "/tmp");

	rn->pr.k.log_fd = mkostemps(path, 4, O_CLOEXEC);
	if (rn->pr.k.log_fd < 0) {
		free(path);
		return mlctl_err_errno(err, MLCTL_EIO, "cannot create the model's log file");
	}
	rn->res->log_path = path;
	return 0;
}

/* An http model that never became ready: the first case says why, the rest were not run. */
static void fail_unready(struct run *rn, const struct held *h, struct mlctl_buf *why)
{
	struct mlctl_smoke_result *res = rn->res;
	size_t i;

	rn->broken = 1;
	res->cases[0].name = mlctl_strdup(h->tc[0].name);
	res->cases[0].message = mlctl_buf_detach(why);
	for (i = 0; i < h->ntc; i++)
		res->cases[i].warning = h->tc[i].warning ? mlctl_strdup(h->tc[i].warning) : NULL;
	for (i = 1; i < h->ntc; i++) {
		res->cases[i].name = mlctl_strdup(h->tc[i].name);
		res->cases[i].message =
			mlctl_aprintf("not run: the model %s", res->died ? res->died : "is gone");
	}
}

/* Percentiles, budgets, the verdict, and the log kept only where a report points at it. */
static void judge(struct mlctl_smoke_result *res, const struct run *rn, const cJSON *budget,
		  const struct mlctl_smoke_opts *o)
{
	/* in mlctl_smoke_budget_names' order; a model that answered nothing has no latency */
	double values[5];
	size_t i;

	res->peak_rss_mb = rn->pr.peak_rss_kb / 1024.0;
	if (res->nlatencies) {
		qsort(res->latencies, res->nlatencies, sizeof(double), smk_dbl_cmp);
		res->p50 = mlctl_percentile(res->latencies, res->nlatencies, 50);
		res->p95 = mlctl_percentile(res->latencies, res->nlatencies, 95);
		res->p99 = mlctl_percentile(res->latencies, res->nlatencies, 99);
	}
	values[0] = res->p50;
	values[1] = res->p95;
	values[2] = res->p99;
	values[3] = res->startup_ms;
	values[4] = res->peak_rss_mb;
	for (i = 0; i < 5; i++)
		if (i == 4 || res->nlatencies)
			add_budget(res, budget, o->budget, mlctl_smoke_budget_names[i], values[i]);
	res->passed = mlctl_smoke_failures(res) == 0;
	res->log_tail = tail_of(res->log_path, LOG_TAIL_LINES);
	/* the log stays only where a report points at it: a failed run that logged something */
	if (res->passed || !*res->log_tail || o->discard_log)
		drop_log(res);
}

static void held_release(struct run *rn, struct held *h)
{
	int i;

	if (rn->pr.k.keeper > 0)
		smk_stop(&rn->pr);
	if (rn->pr.k.log_fd >= 0)
		close(rn->pr.k.log_fd);
	mlctl_buf_release(&rn->pr.line);
	smk_free_cases(h->tc, h->ntc);
	smk_http_release(rn);
	free(rn->base);
	free(rn->endpoint_url);
	for (i = 0; h->owned && i < h->argc; i++)
		free(h->owned[i]);
	free(h->owned);
	free(h->argv);
	mlctl_strv_free(h->envp);
	free(h->absdir);
}

/* Start the model, wait until it is ready, run every case, stop all of it. */
static int run_cases(struct run *rn, struct held *h, const cJSON *smoke, int http, int warmup,
		     int repeat, struct mlctl_err *err)
{
	struct mlctl_smoke_result *res = rn->res;
	size_t nrun = h->ntc, i;
	void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN); /* a dying model must not take mlctl */
	double t0 = mlctl_mono_ms();
	int rc = 0;

	if (h->argc &&
	    (rc = mlctl_proc_start(&rn->pr.k, h->argv, h->envp, h->absdir, http, GRACE_MS, err))) {
		signal(SIGPIPE, old_pipe);
		return rc;
	}
	rn->overall_end = t0 + (double)opt_long(smoke, "overall_timeout_ms", OVERALL_MS_DEFAULT);
	res->cases = mlctl_calloc(h->ntc, sizeof(*res->cases));
	res->ncases = h->ntc;
	if (http) {
		struct mlctl_buf why = MLCTL_BUF_INIT;
		const cJSON *ready = cJSON_GetObjectItemCaseSensitive(smoke, "ready");

		if (smk_wait_ready(rn, cJSON_IsString(ready) ? ready->valuestring : "/",
				   opt_long(smoke, "startup_timeout_ms", 60000), &why) < 0) {
			fail_unready(rn, h, &why);
			nrun = 0; /* nothing to run; the cases are failed above */
		}
		mlctl_buf_release(&why);
	}
	for (i = 0; i < nrun; i++) {
		run_case(rn, &h->tc[i], &res->cases[i], warmup, repeat);
		if (i == 0)
			res->startup_ms = mlctl_mono_ms() - t0; /* start, warm-up and the first case */
	}
	smk_stop(&rn->pr);
	signal(SIGPIPE, old_pipe);
	return mlctl_interrupted() ? mlctl_err_interrupted(err) : 0;
}

int mlctl_smoke_run(struct mlctl_smoke_result *res, const char *dir, const cJSON *manifest,
		    const struct mlctl_smoke_opts *o, struct mlctl_err *err)
{
	const cJSON *smoke = cJSON_GetObjectItemCaseSensitive(manifest, "smoke");
	const cJSON *cases_path = cJSON_GetObjectItemCaseSensitive(smoke, "cases");
	struct run rn;
	struct held h;
	char *cpath;
	int warmup, repeat, rc, http = 0;

	memset(res, 0, sizeof(*res));
	memset(&rn, 0, sizeof(rn));
	memset(&h, 0, sizeof(h));
	mlctl_proc_init(&rn.pr.k);
	if ((rc = check_smoke(manifest, dir, o, &http, err)))
		return rc;
	cpath = o->cases_abs ? mlctl_strdup(o->cases_abs)
			     : mlctl_path_join(dir, o->cases ? o->cases : cases_path->valuestring);
	rc = smk_load_cases(&h.tc, &h.ntc, cpath, err);
	free(cpath);
	if (rc)
		goto done;
	warmup = o->warmup >= 0 ? o->warmup : (int)opt_long(smoke, "warmup", 1);
	repeat = o->repeat >= 0 ? o->repeat : (int)opt_long(smoke, "repeat", 5);
	if (repeat < 1)
		repeat = 1;
	if (warmup > 10000 || repeat > 100000) {
		rc = mlctl_err_set(err, MLCTL_EUSAGE, "warmup %d or repeat %d is too large", warmup,
				   repeat);
		goto done;
	}
	rn.timeout_ms = o->timeout_ms >= 0 ? o->timeout_ms : opt_long(smoke, "timeout_ms", 30000);
	rn.res = res;
	rn.manifest = manifest;
	if (http && (rc = smk_http_setup(&rn, smoke, h.portbuf, err)))
		goto done;
	build_argv(&h, cJSON_GetObjectItemCaseSensitive(smoke, "command"));
	h.absdir = realpath(dir, NULL);
	if (!h.absdir) {
		rc = mlctl_err_errno(err, MLCTL_ENOTFOUND, "cannot open the model folder '%s'", dir);
		goto done;
	}
	h.envp = smk_make_env(manifest, o, h.absdir);
	if ((rc = open_log(&rn, err)) ||
	    (rc = run_cases(&rn, &h, smoke, http, warmup, repeat, err)))
		goto done;
	judge(res, &rn, cJSON_GetObjectItemCaseSensitive(smoke, "budget"), o);
done:
	held_release(&rn, &h);
	if (rc) {
		drop_log(res);
		mlctl_smoke_result_release(res);
	}
	return rc;
}
