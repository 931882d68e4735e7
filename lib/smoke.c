/*
 * smoke.c - the exec and http runtimes: start the model's command below a
 * keeper (proc.h), send each case as a JSON line or an HTTP request, read
 * its answer with a deadline, check it, time it, watch the memory of all it
 * started, and stop all of it (TERM, then KILL) whatever happened.
 */
#define _GNU_SOURCE
#include "smoke.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "manifest.h"
#include "proc.h"
#include "banned.h"

#define CASES_MAX (64u * 1024 * 1024)
#define LINE_MAX_BYTES (64u * 1024 * 1024) /* one answer */
#define GRACE_MS 2000
#define LOG_TAIL_LINES 20
#define OVERALL_MS_DEFAULT 600000

/* ---------------------------------------------------------------- helpers */

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double mlctl_percentile(const double *sorted, size_t n, double p)
{
	double rank, frac;
	size_t lo;

	if (n == 0)
		return 0;
	rank = p / 100.0 * (double)(n - 1);
	lo = (size_t)rank;
	if (lo + 1 >= n)
		return sorted[n - 1];
	frac = rank - (double)lo;
	return sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]);
}

static const char *json_kind(const cJSON *j)
{
	return cJSON_IsNumber(j) ? "a number" : cJSON_IsString(j) ? "a string" :
	       cJSON_IsBool(j) ? "a boolean" : cJSON_IsNull(j) ? "null" :
	       cJSON_IsArray(j) ? "an array" : cJSON_IsObject(j) ? "an object" : "nothing";
}

int mlctl_json_close(const cJSON *got, const cJSON *want, double abs_tol, double rel_tol,
		     const char *path, struct mlctl_buf *diff)
{
	const cJSON *w, *g;
	char *sub;
	int i, n, ok;

	if (cJSON_IsNumber(want)) {
		double tol = abs_tol + rel_tol * fabs(want->valuedouble);

		if (cJSON_IsNumber(got) && fabs(got->valuedouble - want->valuedouble) <= tol)
			return 1;
		if (cJSON_IsNumber(got))
			mlctl_buf_printf(diff, "%s: got %.10g, want %.10g ± %.3g", path,
					 got->valuedouble, want->valuedouble, tol);
		else
			mlctl_buf_printf(diff, "%s: got %s, want %.10g", path, json_kind(got),
					 want->valuedouble);
		return 0;
	}
	if (cJSON_IsArray(want)) {
		if (!cJSON_IsArray(got)) {
			mlctl_buf_printf(diff, "%s: got %s, want an array", path, json_kind(got));
			return 0;
		}
		n = cJSON_GetArraySize(want);
		if (cJSON_GetArraySize(got) != n) {
			mlctl_buf_printf(diff, "%s: got %d elements, want %d", path,
					 cJSON_GetArraySize(got), n);
			return 0;
		}
		for (i = 0, w = want->child, g = got->child; w && g; w = w->next, g = g->next, i++) {
			sub = mlctl_aprintf("%s[%d]", path, i);
			ok = mlctl_json_close(g, w, abs_tol, rel_tol, sub, diff);
			free(sub);
			if (!ok)
				return 0;
		}
		return 1;
	}
	if (cJSON_IsObject(want)) {
		if (!cJSON_IsObject(got)) {
			mlctl_buf_printf(diff, "%s: got %s, want an object", path, json_kind(got));
			return 0;
		}
		cJSON_ArrayForEach(w, want) {
			g = cJSON_GetObjectItemCaseSensitive(got, w->string);
			sub = mlctl_aprintf("%s.%s", path, w->string);
			if (!g) {
				mlctl_buf_printf(diff, "%s: missing", sub);
				free(sub);
				return 0;
			}
			ok = mlctl_json_close(g, w, abs_tol, rel_tol, sub, diff);
			free(sub);
			if (!ok)
				return 0;
		}
		return 1;
	}
	if (cJSON_Compare(got, want, 1))
		return 1;
	{
		char *gs = cJSON_PrintUnformatted(got), *ws = cJSON_PrintUnformatted(want);

		mlctl_buf_printf(diff, "%s: got %.80s, want %.80s", path, gs ? gs : "nothing",
				 ws ? ws : "?");
		cJSON_free(gs);
		cJSON_free(ws);
	}
	return 0;
}

/* Shape of a nested array ([] for a scalar); -1 in shape[0] when ragged. */
static int shape_of(const cJSON *v, long long *dims, int max)
{
	int rank = 0, sub;
	long long inner[16];
	const cJSON *c;

	while (cJSON_IsArray(v) && rank < max) {
		dims[rank++] = cJSON_GetArraySize(v);
		if (!v->child)
			break;
		/* every element must have the first one's shape */
		sub = shape_of(v->child, inner, 16);
		for (c = v->child->next; c; c = c->next) {
			long long other[16];

			if (shape_of(c, other, 16) != sub || memcmp(inner, other, (size_t)sub * sizeof(long long)))
				return -1;
		}
		v = v->child;
	}
	return rank;
}

static void shape_text(struct mlctl_buf *b, const long long *dims, int rank)
{
	int i;

	mlctl_buf_puts(b, "[");
	for (i = 0; i < rank; i++)
		mlctl_buf_printf(b, "%s%lld", i ? ", " : "", dims[i]);
	mlctl_buf_puts(b, "]");
}

/* 1 when v's shape fits want (an array of ints, -1 for any). */
static int check_shape(const cJSON *v, const cJSON *want, const char *what,
		       struct mlctl_buf *diff)
{
	long long dims[16];
	int rank = shape_of(v, dims, 16), i = 0;
	const cJSON *d;

	if (rank < 0) {
		mlctl_buf_printf(diff, "%s: the arrays are ragged, so it has no shape", what);
		return 0;
	}
	if (cJSON_GetArraySize(want) == rank) {
		int ok = 1;

		cJSON_ArrayForEach(d, want) {
			if (d->valuedouble >= 0 && (long long)d->valuedouble != dims[i])
				ok = 0;
			i++;
		}
		if (ok)
			return 1;
	}
	mlctl_buf_printf(diff, "%s: shape ", what);
	shape_text(diff, dims, rank);
	{
		char *w = cJSON_PrintUnformatted(want);

		mlctl_buf_printf(diff, ", want %s", w ? w : "?");
		cJSON_free(w);
	}
	return 0;
}

/* Every leaf of v fits dtype: float*, int*, uint*, bool, string. */
static int leaves_fit(const cJSON *v, const char *dtype)
{
	const cJSON *c;

	if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
		cJSON_ArrayForEach(c, v) if (!leaves_fit(c, dtype)) return 0;
		return 1;
	}
	if (!strncmp(dtype, "float", 5) || !strncmp(dtype, "bfloat", 6))
		return cJSON_IsNumber(v);
	if (!strncmp(dtype, "int", 3))
		return cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble);
	if (!strncmp(dtype, "uint", 4))
		return cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) &&
		       v->valuedouble >= 0;
	if (!strcmp(dtype, "bool"))
		return cJSON_IsBool(v);
	if (!strcmp(dtype, "string"))
		return cJSON_IsString(v);
	return 1;
}

static int check_dtype(const cJSON *v, const char *dtype, const char *what,
		       struct mlctl_buf *diff)
{
	if (leaves_fit(v, dtype))
		return 1;
	mlctl_buf_printf(diff, "%s: values are not all %s", what, dtype);
	return 0;
}

/* expect_shape / expect_dtype: one value for the whole output, or an object by output name. */
static int check_spec(const cJSON *output, const cJSON *spec, int is_shape,
		      struct mlctl_buf *diff)
{
	const cJSON *s;

	if (!spec)
		return 1;
	if (cJSON_IsObject(spec)) {
		cJSON_ArrayForEach(s, spec) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(output, s->string);
			char *what = mlctl_aprintf("output.%s", s->string);
			int ok;

			if (!v) {
				mlctl_buf_printf(diff, "%s: missing", what);
				free(what);
				return 0;
			}
			ok = is_shape ? check_shape(v, s, what, diff)
				      : check_dtype(v, cJSON_IsString(s) ? s->valuestring : "", what, diff);
			free(what);
			if (!ok)
				return 0;
		}
		return 1;
	}
	return is_shape ? check_shape(output, spec, "output", diff)
			: check_dtype(output, cJSON_IsString(spec) ? spec->valuestring : "", "output",
				      diff);
}

/* The manifest's signature outputs, where the answer names them. */
static int check_signature(const cJSON *output, const cJSON *manifest, struct mlctl_buf *diff)
{
	const cJSON *outs = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(manifest, "signature"), "outputs");
	const cJSON *t;

	if (!cJSON_IsObject(output))
		return 1;
	cJSON_ArrayForEach(t, outs) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(t, "name");
		const cJSON *shape = cJSON_GetObjectItemCaseSensitive(t, "shape");
		const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(t, "dtype");
		const cJSON *v;
		char *what;
		int ok = 1;

		if (!cJSON_IsString(name) ||
		    !(v = cJSON_GetObjectItemCaseSensitive(output, name->valuestring)))
			continue;
		what = mlctl_aprintf("output.%s (signature)", name->valuestring);
		if (cJSON_IsArray(shape))
			ok = check_shape(v, shape, what, diff);
		if (ok && cJSON_IsString(dtype))
			ok = check_dtype(v, dtype->valuestring, what, diff);
		free(what);
		if (!ok)
			return 0;
	}
	return 1;
}

/* ---------------------------------------------------------------- cases */

struct tcase {
	char *name;
	cJSON *json;   /* the whole line: input, expect… */
	char *warning; /* a case that checks nothing: why, or NULL */
};

static void free_cases(struct tcase *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(c[i].name);
		cJSON_Delete(c[i].json);
		free(c[i].warning);
	}
	free(c);
}

/* A case's keys and their types; a misspelt key would make a case check nothing. */
static int check_case(const cJSON *j, const char *path, size_t line, struct mlctl_err *err)
{
	static const char *const keys[] = { "name", "input", "expect", "tolerance",
					    "expect_shape", "expect_dtype", "expect_error" };
	const cJSON *k, *e = cJSON_GetObjectItemCaseSensitive(j, "expect_error");
	const cJSON *tol = cJSON_GetObjectItemCaseSensitive(j, "tolerance");

	cJSON_ArrayForEach(k, j) if (!mlctl_str_in(k->string, keys, MLCTL_ARRAY_SIZE(keys))) return
		mlctl_err_set(err, MLCTL_EGATE,
			      "%s line %zu: unknown key \"%s\"; a case has name, input, expect, "
			      "tolerance, expect_shape, expect_dtype, expect_error",
			      path, line, k->string);
	if (e && !cJSON_IsBool(e) && !cJSON_IsString(e))
		return mlctl_err_set(err, MLCTL_EGATE,
				     "%s line %zu: expect_error is true, or a text the model's error "
				     "must contain",
				     path, line);
	if (e && cJSON_IsTrue(e) + cJSON_IsString(e) &&
	    cJSON_GetObjectItemCaseSensitive(j, "expect"))
		return mlctl_err_set(err, MLCTL_EGATE,
				     "%s line %zu: a case expects an error or an output, not both",
				     path, line);
	if (tol && !cJSON_IsObject(tol))
		goto bad_tolerance;
	cJSON_ArrayForEach(k, tol) if ((strcmp(k->string, "abs") && strcmp(k->string, "rel")) ||
				       !cJSON_IsNumber(k) || k->valuedouble < 0) goto bad_tolerance;
	return 0;
bad_tolerance:
	return mlctl_err_set(err, MLCTL_EGATE,
			     "%s line %zu: tolerance is {\"abs\": X, \"rel\": Y} with numbers >= 0",
			     path, line);
}

/*
 * A case with no expect, expect_shape, expect_dtype or expect_error passes
 * whatever the model answers, short of an error: say so, or NULL.
 */
static char *checks_nothing(const cJSON *j, const char *name, const char *path, size_t line)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "expect_error");

	if (cJSON_GetObjectItemCaseSensitive(j, "expect") ||
	    cJSON_GetObjectItemCaseSensitive(j, "expect_shape") ||
	    cJSON_GetObjectItemCaseSensitive(j, "expect_dtype") || cJSON_IsTrue(e) ||
	    cJSON_IsString(e))
		return NULL;
	return mlctl_aprintf("%s line %zu: case '%s' checks nothing: it has no expect, "
			     "expect_shape, expect_dtype or expect_error; add one (smoke "
			     "--update-expect writes expect)", path, line, name);
}

static int load_cases(struct tcase **out, size_t *n, const char *path, struct mlctl_err *err)
{
	struct mlctl_buf text = MLCTL_BUF_INIT;
	struct tcase *c = NULL;
	size_t cnt = 0, line = 0;
	char *p, *nl;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = mlctl_read_file(&text, path, CASES_MAX, err))) {
		if (rc == MLCTL_ENOTFOUND)
			mlctl_err_set(err, MLCTL_EGATE,
				      "smoke cases '%s' are missing; write one JSON case a line", path);
		mlctl_buf_release(&text);
		return err->code;
	}
	for (p = text.buf; p && *p; p = nl ? nl + 1 : NULL) {
		cJSON *j;
		const cJSON *name;

		nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		line++;
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (!*p || *p == '#')
			continue;
		j = cJSON_Parse(p);
		if (!cJSON_IsObject(j) || !cJSON_GetObjectItemCaseSensitive(j, "input")) {
			cJSON_Delete(j);
			free_cases(c, cnt);
			mlctl_buf_release(&text);
			return mlctl_err_set(err, MLCTL_EGATE,
					     "%s line %zu: not a JSON object with an \"input\"; fix the "
					     "case",
					     path, line);
		}
		if ((rc = check_case(j, path, line, err))) {
			cJSON_Delete(j);
			free_cases(c, cnt);
			mlctl_buf_release(&text);
			return rc;
		}
		name = cJSON_GetObjectItemCaseSensitive(j, "name");
		c = mlctl_realloc(c, (cnt + 1) * sizeof(*c));
		c[cnt].name = cJSON_IsString(name) ? mlctl_strdup(name->valuestring)
						   : mlctl_aprintf("case %zu", cnt + 1);
		c[cnt].json = j;
		c[cnt].warning = checks_nothing(j, c[cnt].name, path, line);
		cnt++;
	}
	mlctl_buf_release(&text);
	if (cnt == 0)
		return mlctl_err_set(err, MLCTL_EGATE, "%s has no cases; add one JSON case a line",
				     path);
	*out = c;
	*n = cnt;
	return 0;
}

/* ---------------------------------------------------------------- process */

struct proc {
	struct mlctl_proc k;   /* the model's command, below a keeper (proc.h) */
	struct mlctl_buf line; /* bytes read but not yet a full line */
	double peak_rss_kb;
	double last_sample;    /* when peak_rss_kb was last brought up to date (ms) */
};

static const char *const inherited_env[] = { "PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE",
					     "TZ", "TMPDIR", "USER", "LOGNAME",
					     "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
					     "OMP_NUM_THREADS" };

/* Set NAME=VALUE in env (n entries, room for one more): a later value wins. */
static void env_set(char **env, size_t *n, char *entry)
{
	size_t i, len = strcspn(entry, "=");

	for (i = 0; i < *n; i++)
		if (!strncmp(env[i], entry, len) && env[i][len] == '=') {
			free(env[i]);
			env[i] = entry;
			return;
		}
	env[(*n)++] = entry;
}

/* A minimal environment, then the manifest's env, then the caller's, then MLCTL_MODEL_DIR. */
static char **make_env(const cJSON *manifest, const struct mlctl_smoke_opts *o, const char *dir)
{
	const cJSON *env = cJSON_GetObjectItemCaseSensitive(manifest, "env"), *e;
	size_t n = 0, i;
	char **out = mlctl_calloc(MLCTL_ARRAY_SIZE(inherited_env) + 2 + o->nenv +
					  (size_t)cJSON_GetArraySize(env),
				  sizeof(char *));

	for (i = 0; i < MLCTL_ARRAY_SIZE(inherited_env); i++) {
		const char *v = getenv(inherited_env[i]);

		if (v)
			out[n++] = mlctl_aprintf("%s=%s", inherited_env[i], v);
	}
	cJSON_ArrayForEach(e, env) if (cJSON_IsString(e)) env_set(
		out, &n, mlctl_aprintf("%s=%s", e->string, e->valuestring));
	for (i = 0; i < o->nenv; i++)
		env_set(out, &n, mlctl_strdup(o->env[i]));
	env_set(out, &n, mlctl_aprintf("MLCTL_MODEL_DIR=%s", dir));
	out[n] = NULL;
	return out;
}

/* Resident memory of the model and everything it started, at its highest. */
static void sample_rss(struct proc *pr)
{
	double kb;

	if (pr->k.keeper <= 0)
		return;
	kb = mlctl_proc_rss_kb(&pr->k);
	if (kb > pr->peak_rss_kb)
		pr->peak_rss_kb = kb;
}

/* Wait up to ms for the main process to end. */
static int wait_exit(struct proc *pr, int ms)
{
	double end = mlctl_mono_ms() + ms;

	while (!mlctl_proc_reap(&pr->k, 0)) {
		if (mlctl_mono_ms() >= end)
			return 0;
		usleep(10000);
	}
	return 1;
}

/*
 * Stop the model: EOF on stdin; then TERM to it and to everything it
 * started, wherever that went (its own session, a daemon's double fork);
 * then KILL to whatever is left.
 */
static void stop(struct proc *pr)
{
	if (pr->k.keeper <= 0)
		return;
	if (!pr->k.exited)
		sample_rss(pr); /* before EOF: a model that answered at once exits on it */
	if (pr->k.in_fd >= 0) {
		close(pr->k.in_fd);
		pr->k.in_fd = -1;
	}
	if (!wait_exit(pr, 500)) {
		mlctl_proc_signal_all(&pr->k, SIGTERM);
		wait_exit(pr, GRACE_MS);
	}
	mlctl_proc_end(&pr->k);
}

static char *how_it_ended(const struct proc *pr)
{
	if (WIFEXITED(pr->k.status))
		return mlctl_aprintf("exited with code %d", WEXITSTATUS(pr->k.status));
	if (WIFSIGNALED(pr->k.status))
		return mlctl_aprintf("was killed by signal %d (%s)", WTERMSIG(pr->k.status),
				     strsignal(WTERMSIG(pr->k.status)));
	return mlctl_strdup("ended");
}

enum answer { A_OK, A_TIMEOUT, A_DIED, A_GARBAGE, A_INTERRUPTED };

/* One line from the model, within deadline (ms on the monotonic clock). */
static enum answer read_line(struct proc *pr, double deadline, char **line)
{
	*line = NULL;
	for (;;) {
		char *nl = pr->line.buf ? memchr(pr->line.buf, '\n', pr->line.len) : NULL;
		struct pollfd pfd = { pr->k.out_fd, POLLIN, 0 };
		char chunk[65536];
		double left;
		ssize_t n;

		if (nl) {
			size_t k = (size_t)(nl - pr->line.buf);

			*line = mlctl_strndup(pr->line.buf, k);
			memmove(pr->line.buf, nl + 1, pr->line.len - k - 1);
			pr->line.len -= k + 1;
			pr->line.buf[pr->line.len] = '\0';
			return A_OK;
		}
		if (pr->line.len > LINE_MAX_BYTES)
			return A_GARBAGE;
		if (mlctl_interrupted())
			return A_INTERRUPTED;
		left = deadline - mlctl_mono_ms();
		if (left <= 0)
			return A_TIMEOUT;
		/* every 100 ms across requests, so fast answers are sampled too */
		if (mlctl_mono_ms() - pr->last_sample > 100) {
			sample_rss(pr);
			pr->last_sample = mlctl_mono_ms();
		}
		if (poll(&pfd, 1, left > 100 ? 100 : (int)left + 1) <= 0)
			continue;
		n = read(pr->k.out_fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return A_DIED;
		mlctl_buf_add(&pr->line, chunk, (size_t)n);
	}
}

static void log_line(struct proc *pr, const char *what, const char *line)
{
	dprintf(pr->k.log_fd, "mlctl: %s: %.2000s\n", what, line);
}

/* ---------------------------------------------------------------- run */

struct run {
	struct mlctl_smoke_result *res;
	struct proc pr;
	const cJSON *manifest;
	/* http runtime */
	CURL *curl;
	char *base;            /* http://127.0.0.1:PORT, or the manifest's url */
	char *endpoint_url;
	const cJSON *request;  /* body template; "{{input}}" strings become the input */
	const char *pointer;   /* JSON pointer to the output in the answer */
	long timeout_ms;
	double overall_end;
	int id;
	int broken; /* the model is gone or unusable: the remaining cases fail at once */
};

/* Send one request and wait for its answer; the answer into *answer (owned). */
static enum answer ask_exec(struct run *rn, const cJSON *input, cJSON **answer, double *ms,
			    struct mlctl_buf *why)
{
	cJSON *req = cJSON_CreateObject();
	char *text, *line = NULL;
	double t0, deadline;
	enum answer a;
	int id = ++rn->id;

	*answer = NULL;
	cJSON_AddNumberToObject(req, "id", id);
	cJSON_AddItemToObject(req, "input", cJSON_Duplicate(input, 1));
	text = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);
	t0 = mlctl_mono_ms();
	deadline = t0 + (double)rn->timeout_ms;
	if (deadline > rn->overall_end)
		deadline = rn->overall_end;
	if (mlctl_write_all(rn->pr.k.in_fd, text, strlen(text)) < 0 ||
	    mlctl_write_all(rn->pr.k.in_fd, "\n", 1) < 0) {
		cJSON_free(text);
		return A_DIED;
	}
	cJSON_free(text);
	for (;;) {
		const cJSON *rid;

		a = read_line(&rn->pr, deadline, &line);
		if (a != A_OK)
			return a;
		*answer = cJSON_Parse(line);
		rid = cJSON_GetObjectItemCaseSensitive(*answer, "id");
		if (!cJSON_IsObject(*answer) || !rid) {
			log_line(&rn->pr, "not a protocol line on stdout", line);
			mlctl_buf_printf(why, "the model printed a line that is not a JSON answer "
					 "with an \"id\": '%.60s'", line);
			cJSON_Delete(*answer);
			*answer = NULL;
			free(line);
			return A_GARBAGE;
		}
		free(line);
		line = NULL;
		if (cJSON_IsNumber(rid) && (int)rid->valuedouble == id)
			break;
		/* an answer to an earlier request that timed out: skip it */
		cJSON_Delete(*answer);
		*answer = NULL;
	}
	*ms = mlctl_mono_ms() - t0;
	return A_OK;
}

/* ---------------------------------------------------------------- http */

/* RFC 6901: "" is the whole document, "/a/0/b~1c" walks into it. */
static const cJSON *json_pointer(const cJSON *doc, const char *ptr)
{
	char tok[256];

	while (doc && *ptr == '/') {
		size_t n = 0;

		ptr++;
		while (*ptr && *ptr != '/' && n + 1 < sizeof(tok)) {
			if (ptr[0] == '~' && ptr[1] == '1') {
				tok[n++] = '/';
				ptr += 2;
			} else if (ptr[0] == '~' && ptr[1] == '0') {
				tok[n++] = '~';
				ptr += 2;
			} else {
				tok[n++] = *ptr++;
			}
		}
		tok[n] = '\0';
		if (cJSON_IsArray(doc)) {
			char *end;
			long i = strtol(tok, &end, 10);

			doc = *tok && !*end && i >= 0 ? cJSON_GetArrayItem(doc, (int)i) : NULL;
		} else {
			doc = cJSON_GetObjectItemCaseSensitive(doc, tok);
		}
	}
	return *ptr ? NULL : doc;
}

/* The request body: the template with "{{input}}" replaced, or the input itself. */
static cJSON *fill_template(const cJSON *tmpl, const cJSON *input)
{
	cJSON *out, *c;

	if (!tmpl)
		return cJSON_Duplicate(input, 1);
	if (cJSON_IsString(tmpl) && !strcmp(tmpl->valuestring, "{{input}}"))
		return cJSON_Duplicate(input, 1);
	if (!cJSON_IsObject(tmpl) && !cJSON_IsArray(tmpl))
		return cJSON_Duplicate(tmpl, 1);
	out = cJSON_IsObject(tmpl) ? cJSON_CreateObject() : cJSON_CreateArray();
	cJSON_ArrayForEach(c, tmpl) {
		cJSON *v = fill_template(c, input);

		if (cJSON_IsObject(out))
			cJSON_AddItemToObject(out, c->string, v);
		else
			cJSON_AddItemToArray(out, v);
	}
	return out;
}

static size_t collect_body(char *data, size_t size, size_t n, void *ctx)
{
	struct mlctl_buf *b = ctx;

	if (b->len + size * n > LINE_MAX_BYTES)
		return 0; /* too large: the transfer fails */
	mlctl_buf_add(b, data, size * n);
	return size * n;
}

/* One HTTP exchange; the status into *status and the body into body. */
static int http_do(struct run *rn, const char *url, const char *post, long *status,
		   struct mlctl_buf *body, long timeout_ms, char *errbuf)
{
	CURLcode cc;

	mlctl_buf_reset(body);
	curl_easy_setopt(rn->curl, CURLOPT_URL, url);
	curl_easy_setopt(rn->curl, CURLOPT_WRITEFUNCTION, collect_body);
	curl_easy_setopt(rn->curl, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(rn->curl, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 1);
	curl_easy_setopt(rn->curl, CURLOPT_ERRORBUFFER, errbuf);
	errbuf[0] = '\0';
	if (post) {
		curl_easy_setopt(rn->curl, CURLOPT_POSTFIELDS, post);
	} else {
		curl_easy_setopt(rn->curl, CURLOPT_HTTPGET, 1L);
	}
	cc = curl_easy_perform(rn->curl);
	if (cc != CURLE_OK) {
		if (!errbuf[0])
			snprintf(errbuf, CURL_ERROR_SIZE, "%s", curl_easy_strerror(cc));
		return cc == CURLE_OPERATION_TIMEDOUT ? 1 : -1;
	}
	curl_easy_getinfo(rn->curl, CURLINFO_RESPONSE_CODE, status);
	return 0;
}

static enum answer ask_http(struct run *rn, const cJSON *input, cJSON **answer, double *ms,
			    struct mlctl_buf *why)
{
	struct mlctl_buf body = MLCTL_BUF_INIT;
	cJSON *req = fill_template(rn->request, input), *doc;
	char *text = cJSON_PrintUnformatted(req), errbuf[CURL_ERROR_SIZE];
	double t0 = mlctl_mono_ms(), left = rn->overall_end - t0;
	long status = 0, limit = rn->timeout_ms < left ? rn->timeout_ms : (long)left;
	const cJSON *out;
	int rc;

	cJSON_Delete(req);
	*answer = NULL;
	rc = http_do(rn, rn->endpoint_url, text, &status, &body, limit, errbuf);
	cJSON_free(text);
	*ms = mlctl_mono_ms() - t0;
	if (rc) {
		mlctl_buf_release(&body);
		if (rc > 0)
			return A_TIMEOUT;
		if (rn->pr.k.keeper > 0 && mlctl_proc_reap(&rn->pr.k, 0))
			return A_DIED;
		mlctl_buf_printf(why, "the request failed: %s", errbuf);
		return A_GARBAGE;
	}
	*answer = cJSON_CreateObject();
	doc = cJSON_ParseWithLength(body.buf ? body.buf : "", body.len);
	if (status != 200) {
		char *e = mlctl_aprintf("HTTP %ld: %.200s", status, body.buf ? body.buf : "");

		cJSON_AddStringToObject(*answer, "error", e);
		free(e);
	} else if (!doc) {
		cJSON_Delete(*answer);
		*answer = NULL;
		mlctl_buf_printf(why, "the answer is not JSON: '%.60s'", body.buf ? body.buf : "");
		mlctl_buf_release(&body);
		return A_GARBAGE;
	} else if (!(out = json_pointer(doc, rn->pointer))) {
		char *e = mlctl_aprintf("the answer has nothing at JSON pointer '%s'", rn->pointer);

		cJSON_AddStringToObject(*answer, "error", e);
		free(e);
	} else {
		cJSON_AddItemToObject(*answer, "output", cJSON_Duplicate(out, 1));
	}
	cJSON_Delete(doc);
	mlctl_buf_release(&body);
	return A_OK;
}

/* A free TCP port on the loopback interface. */
static int free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

	if (fd < 0)
		return -1;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* Poll the ready path until 200; 0, or -1 with the reason in why. */
static int wait_ready(struct run *rn, const char *ready, long startup_ms, struct mlctl_buf *why)
{
	struct mlctl_buf body = MLCTL_BUF_INIT;
	char *url = mlctl_aprintf("%s%s", rn->base, ready), errbuf[CURL_ERROR_SIZE];
	double end = mlctl_mono_ms() + (double)startup_ms;
	long status = 0;
	int rc = -1;

	errbuf[0] = '\0';
	while (mlctl_mono_ms() < end && !mlctl_interrupted()) {
		if (rn->pr.k.keeper > 0 && mlctl_proc_reap(&rn->pr.k, 0)) {
			char *how = how_it_ended(&rn->pr);

			mlctl_buf_printf(why, "the model %s before it was ready", how);
			rn->res->died = how;
			goto done;
		}
		sample_rss(&rn->pr);
		status = 0;
		if (http_do(rn, url, NULL, &status, &body, 1000, errbuf) == 0 && status == 200) {
			rc = 0;
			goto done;
		}
		usleep(100000);
	}
	if (status)
		snprintf(errbuf, sizeof(errbuf), "HTTP %ld", status);
	mlctl_buf_printf(why, "the model was not ready at %s within %ld ms (last: %s)", url,
			 startup_ms, errbuf[0] ? errbuf : "no answer");
	if (!rn->res->died)
		rn->res->died = mlctl_aprintf("never became ready");
done:
	mlctl_buf_release(&body);
	free(url);
	return rc;
}

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

		wait_exit(&rn->pr, 1000);
		how = rn->pr.k.exited ? how_it_ended(&rn->pr) : mlctl_strdup("closed its stdout");
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
		a = rn->curl ? ask_http(rn, input, &answer, &ms, &why)
			     : ask_exec(rn, input, &answer, &ms, &why);
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
			    !check_spec(out, cJSON_GetObjectItemCaseSensitive(tc->json, "expect_shape"),
					1, &why) ||
			    !check_spec(out, cJSON_GetObjectItemCaseSensitive(tc->json, "expect_dtype"),
					0, &why) ||
			    !check_signature(out, rn->manifest, &why))
				fail_case(c, "%s", why.buf);
		}
	}
	qsort(lat, (size_t)repeat, sizeof(double), dbl_cmp);
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

int mlctl_smoke_run(struct mlctl_smoke_result *res, const char *dir, const cJSON *manifest,
		    const struct mlctl_smoke_opts *o, struct mlctl_err *err)
{
	const cJSON *smoke = cJSON_GetObjectItemCaseSensitive(manifest, "smoke");
	const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(smoke, "command"), *c;
	const cJSON *runtime = cJSON_GetObjectItemCaseSensitive(smoke, "runtime");
	const cJSON *cases_path = cJSON_GetObjectItemCaseSensitive(smoke, "cases");
	const cJSON *budget = cJSON_GetObjectItemCaseSensitive(smoke, "budget");
	struct run rn;
	struct tcase *tc = NULL;
	size_t ntc = 0, nrun = 0, i;
	char **argv = NULL, **envp = NULL, *cpath = NULL, *tmpdir_log = NULL, *absdir = NULL;
	const char *tmp = getenv("TMPDIR");
	const cJSON *url;
	char portbuf[16] = "", **owned = NULL;
	struct curl_slist *headers = NULL;
	int warmup, repeat, rc = 0, argc = 0, http;
	double t0;
	void (*old_pipe)(int);

	memset(res, 0, sizeof(*res));
	memset(&rn, 0, sizeof(rn));
	mlctl_proc_init(&rn.pr.k);
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
	http = runtime && !strcmp(runtime->valuestring, "http");
	url = cJSON_GetObjectItemCaseSensitive(smoke, "url");
	if (http && url && !cJSON_IsString(url))
		return mlctl_err_set(err, MLCTL_EGATE, "smoke.url must be a string such as "
				     "\"http://127.0.0.1:8080\"");
	if (http && !cmd && !url)
		return mlctl_err_set(err, MLCTL_EGATE,
				     "an http smoke needs a command to start (with {port}) or the url "
				     "of a running server");
	if (http && !cmd)
		goto no_command;
	if (!cJSON_IsArray(cmd) || cJSON_GetArraySize(cmd) == 0)
		return mlctl_err_set(err, MLCTL_EGATE,
				     "smoke.command must be a non-empty array of strings (no shell), "
				     "such as [\"python3\", \"serve.py\"]");
	cJSON_ArrayForEach(c, cmd) if (!cJSON_IsString(c)) return mlctl_err_set(
		err, MLCTL_EGATE, "smoke.command must hold strings only");
no_command:
	if (!o->cases && !o->cases_abs && !cJSON_IsString(cases_path))
		return mlctl_err_set(err, MLCTL_EGATE,
				     "smoke.cases must name the cases file, such as "
				     "\"smoke/cases.jsonl\"");
	cpath = o->cases_abs ? mlctl_strdup(o->cases_abs)
			     : mlctl_path_join(dir, o->cases ? o->cases : cases_path->valuestring);
	if ((rc = load_cases(&tc, &ntc, cpath, err)))
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
	if (http) {
		const cJSON *ptr = cJSON_GetObjectItemCaseSensitive(smoke, "output");
		const cJSON *endpoint = cJSON_GetObjectItemCaseSensitive(smoke, "endpoint");
		struct curl_slist *hdr;

		if (cmd) {
			int port = free_port();

			if (port < 0) {
				rc = mlctl_err_errno(err, MLCTL_EIO, "cannot find a free port on 127.0.0.1");
				goto done;
			}
			snprintf(portbuf, sizeof(portbuf), "%d", port);
			rn.base = mlctl_aprintf("http://127.0.0.1:%s", portbuf);
		} else {
			rn.base = mlctl_strdup(url->valuestring);
			while (*rn.base && rn.base[strlen(rn.base) - 1] == '/')
				rn.base[strlen(rn.base) - 1] = '\0';
		}
		rn.endpoint_url = mlctl_aprintf("%s%s", rn.base, cJSON_IsString(endpoint) ?
							       endpoint->valuestring : "/");
		rn.pointer = cJSON_IsString(ptr) ? ptr->valuestring : "";
		rn.request = cJSON_GetObjectItemCaseSensitive(smoke, "request");
		curl_global_init(CURL_GLOBAL_DEFAULT);
		rn.curl = curl_easy_init();
		hdr = curl_slist_append(NULL, "Content-Type: application/json");
		headers = hdr;
		curl_easy_setopt(rn.curl, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(rn.curl, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(rn.curl, CURLOPT_USERAGENT, "mlctl-smoke");
	}
	argv = mlctl_calloc((size_t)cJSON_GetArraySize(cmd) + 1, sizeof(char *));
	owned = mlctl_calloc((size_t)cJSON_GetArraySize(cmd) + 1, sizeof(char *));
	cJSON_ArrayForEach(c, cmd) {
		/* {port} in any argument becomes the chosen port */
		const char *at = strstr(c->valuestring, "{port}");

		if (at && portbuf[0]) {
			owned[argc] = mlctl_aprintf("%.*s%s%s", (int)(at - c->valuestring),
						    c->valuestring, portbuf, at + 6);
			argv[argc] = owned[argc];
		} else {
			argv[argc] = c->valuestring;
		}
		argc++;
	}
	absdir = realpath(dir, NULL);
	if (!absdir) {
		rc = mlctl_err_errno(err, MLCTL_ENOTFOUND, "cannot open the model folder '%s'", dir);
		goto done;
	}
	envp = make_env(manifest, o, absdir);
	tmpdir_log = mlctl_aprintf("%s/mlctl-smoke-XXXXXX.log", tmp && *tmp ? tmp : "/tmp");
	rn.pr.k.log_fd = mkostemps(tmpdir_log, 4, O_CLOEXEC);
	if (rn.pr.k.log_fd < 0) {
		rc = mlctl_err_errno(err, MLCTL_EIO, "cannot create the model's log file");
		goto done;
	}
	res->log_path = tmpdir_log;
	tmpdir_log = NULL;
	old_pipe = signal(SIGPIPE, SIG_IGN); /* a model that dies must not take mlctl along */
	t0 = mlctl_mono_ms();
	if (argc) {
		rc = mlctl_proc_start(&rn.pr.k, argv, envp, absdir, http, GRACE_MS, err);
		if (rc) {
			signal(SIGPIPE, old_pipe);
			goto done;
		}
	}
	rn.overall_end = t0 + (double)opt_long(smoke, "overall_timeout_ms", OVERALL_MS_DEFAULT);
	res->cases = mlctl_calloc(ntc, sizeof(*res->cases));
	res->ncases = ntc;
	nrun = ntc;
	if (http) {
		struct mlctl_buf why = MLCTL_BUF_INIT;
		const cJSON *ready = cJSON_GetObjectItemCaseSensitive(smoke, "ready");

		if (wait_ready(&rn, cJSON_IsString(ready) ? ready->valuestring : "/",
			       opt_long(smoke, "startup_timeout_ms", 60000), &why) < 0) {
			rn.broken = 1;
			res->cases[0].name = mlctl_strdup(tc[0].name);
			res->cases[0].message = mlctl_buf_detach(&why);
			for (i = 0; i < ntc; i++)
				res->cases[i].warning = tc[i].warning ? mlctl_strdup(tc[i].warning)
								      : NULL;
			for (i = 1; i < ntc; i++) {
				res->cases[i].name = mlctl_strdup(tc[i].name);
				res->cases[i].message = mlctl_aprintf("not run: the model %s",
								      res->died ? res->died : "is gone");
			}
			nrun = 0; /* nothing to run; the cases are failed above */
		}
		mlctl_buf_release(&why);
	}
	for (i = 0; i < nrun; i++) {
		run_case(&rn, &tc[i], &res->cases[i], warmup, repeat);
		if (i == 0)
			res->startup_ms = mlctl_mono_ms() - t0; /* start, warm-up and the first case */
	}
	stop(&rn.pr);
	signal(SIGPIPE, old_pipe);
	if (mlctl_interrupted()) {
		rc = mlctl_err_interrupted(err);
		goto done;
	}
	res->peak_rss_mb = rn.pr.peak_rss_kb / 1024.0;
	if (res->nlatencies) {
		qsort(res->latencies, res->nlatencies, sizeof(double), dbl_cmp);
		res->p50 = mlctl_percentile(res->latencies, res->nlatencies, 50);
		res->p95 = mlctl_percentile(res->latencies, res->nlatencies, 95);
		res->p99 = mlctl_percentile(res->latencies, res->nlatencies, 99);
	}
	{
		/* in mlctl_smoke_budget_names' order; a model that answered nothing has no
		 * latency to judge */
		const double values[5] = { res->p50, res->p95, res->p99, res->startup_ms,
					   res->peak_rss_mb };

		for (i = 0; i < 5; i++)
			if (i == 4 || res->nlatencies)
				add_budget(res, budget, o->budget, mlctl_smoke_budget_names[i],
					   values[i]);
	}
	res->passed = mlctl_smoke_failures(res) == 0;
	res->log_tail = tail_of(res->log_path, LOG_TAIL_LINES);
	/* the log stays only where a report points at it: a failed run that logged something */
	if (res->passed || !*res->log_tail || o->discard_log)
		drop_log(res);
done:
	if (rn.pr.k.keeper > 0)
		stop(&rn.pr);
	if (rn.pr.k.log_fd >= 0)
		close(rn.pr.k.log_fd);
	mlctl_buf_release(&rn.pr.line);
	free_cases(tc, ntc);
	if (rn.curl) {
		curl_easy_cleanup(rn.curl);
		curl_global_cleanup();
	}
	curl_slist_free_all(headers);
	free(rn.base);
	free(rn.endpoint_url);
	for (i = 0; owned && i < (size_t)argc; i++)
		free(owned[i]);
	free(owned);
	free(argv);
	mlctl_strv_free(envp);
	free(cpath);
	free(tmpdir_log);
	free(absdir);
	if (rc) {
		drop_log(res);
		mlctl_smoke_result_release(res);
	}
	return rc;
}

static int all_floats(const cJSON *arr)
{
	const cJSON *c;
	int any = 0;

	cJSON_ArrayForEach(c, arr) {
		if (!cJSON_IsNumber(c))
			return 0;
		if (c->valuedouble != floor(c->valuedouble))
			any = 1;
	}
	return any;
}

static int argmax(const cJSON *arr)
{
	const cJSON *c;
	int i = 0, best = 0;
	double top = -INFINITY;

	cJSON_ArrayForEach(c, arr) {
		if (c->valuedouble > top) {
			top = c->valuedouble;
			best = i;
		}
		i++;
	}
	return best;
}

int mlctl_output_drift(const cJSON *a, const cJSON *b, double *max_abs, size_t *agree,
		       size_t *total)
{
	const cJSON *x, *y;

	if (cJSON_IsNumber(a) && cJSON_IsNumber(b)) {
		double d = fabs(a->valuedouble - b->valuedouble);

		if (d > *max_abs)
			*max_abs = d;
		if (a->valuedouble == floor(a->valuedouble) &&
		    b->valuedouble == floor(b->valuedouble)) {
			(*total)++; /* whole numbers are labels */
			*agree += a->valuedouble == b->valuedouble;
		}
		return 0;
	}
	if (cJSON_IsArray(a) && cJSON_IsArray(b)) {
		if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
			return -1;
		if (all_floats(a) && all_floats(b)) {
			/* a vector of scores: its argmax is the label it stands for */
			(*total)++;
			*agree += argmax(a) == argmax(b);
		}
		for (x = a->child, y = b->child; x && y; x = x->next, y = y->next)
			if (mlctl_output_drift(x, y, max_abs, agree, total) < 0)
				return -1;
		return 0;
	}
	if (cJSON_IsObject(a) && cJSON_IsObject(b)) {
		cJSON_ArrayForEach(x, a) {
			y = cJSON_GetObjectItemCaseSensitive(b, x->string);
			if (!y || mlctl_output_drift(x, y, max_abs, agree, total) < 0)
				return -1;
		}
		return 0;
	}
	if ((cJSON_IsString(a) && cJSON_IsString(b)) || (cJSON_IsBool(a) && cJSON_IsBool(b))) {
		(*total)++;
		*agree += cJSON_Compare(a, b, 1);
		return 0;
	}
	return cJSON_Compare(a, b, 1) ? 0 : -1;
}
