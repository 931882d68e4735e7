/*
 * report.c - the check catalogue (built from checks.h), finding collection and report formats.
 */
#define _GNU_SOURCE
#include "report.h"

#include <search.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

/* Indexed by enum mlctl_check; entry 0 (MLCTL_CHECK_NONE) is empty. */
#define STRUCTURAL MLCTL_CHECK_STRUCTURAL
#define INTEGRITY MLCTL_CHECK_INTEGRITY
const struct mlctl_check_info mlctl_check_catalogue[MLCTL_CHECK_COUNT] = {
#define CATALOGUE_ENTRY(id, sev, name, flags, summary) \
	[id] = { #id, MLCTL_SEV_##sev, name, summary, flags },
	MLCTL_CHECKS(CATALOGUE_ENTRY)
#undef CATALOGUE_ENTRY
};
#undef STRUCTURAL
#undef INTEGRITY

static const char *const sev_names[] = { "error", "warning", "info" };

/* The catalogue's entry of a check; reports hold its id string, never a caller's. */
const struct mlctl_check_info *mlctl_check_info(enum mlctl_check check)
{
	if (check <= MLCTL_CHECK_NONE || check >= MLCTL_CHECK_COUNT) {
		fprintf(stderr, "mlctl: internal: check %d is not in the catalogue\n", (int)check);
		abort();
	}
	return &mlctl_check_catalogue[check];
}

/*
 * The key of a check run (msg NULL) or a finding in the trees that say
 * whether it is there already: a report on many files stays O(n log n).
 * The strings are the report's own copies.
 */
struct seen_key {
	const char *id, *file, *msg;
};

static int seen_cmp(const void *a, const void *b)
{
	const struct seen_key *x = a, *y = b;
	int c = strcmp(x->id, y->id);

	if (!c)
		c = strcmp(x->file, y->file);
	if (!c && x->msg && y->msg)
		c = strcmp(x->msg, y->msg);
	return c;
}

/* 1 when key is in *tree; else add a copy of it and return 0. */
static int seen_before(void **tree, const struct seen_key *key)
{
	struct seen_key *k;

	if (tfind(key, tree, seen_cmp))
		return 1;
	k = mlctl_malloc(sizeof(*k));
	*k = *key;
	if (!tsearch(k, tree, seen_cmp)) {
		fputs("mlctl: out of memory\n", stderr);
		abort();
	}
	return 0;
}

void mlctl_report_init(struct mlctl_report *rep, const char *subject)
{
	memset(rep, 0, sizeof(*rep));
	rep->subject = mlctl_strdup(subject);
	rep->file = "";
}

void mlctl_report_release(struct mlctl_report *rep)
{
	size_t i;

	for (i = 0; i < rep->nfindings; i++) {
		free(rep->findings[i].file);
		free(rep->findings[i].message);
	}
	for (i = 0; i < rep->nruns; i++)
		free(rep->runs[i].file);
	tdestroy(rep->runs_seen, free);
	tdestroy(rep->findings_seen, free);
	free(rep->findings);
	free(rep->runs);
	free(rep->subject);
	memset(rep, 0, sizeof(*rep));
}

void mlctl_report_ran(struct mlctl_report *rep, enum mlctl_check check, const char *file)
{
	const char *id = mlctl_check_info(check)->id;
	struct seen_key key;

	key.id = id;
	key.file = file;
	key.msg = NULL;
	if (tfind(&key, &rep->runs_seen, seen_cmp))
		return;
	if (rep->nruns == rep->runs_alloc) {
		rep->runs_alloc = rep->runs_alloc ? 2 * rep->runs_alloc : 32;
		rep->runs = mlctl_realloc(rep->runs, rep->runs_alloc * sizeof(*rep->runs));
	}
	rep->runs[rep->nruns].id = id;
	rep->runs[rep->nruns].check = check;
	rep->runs[rep->nruns].file = mlctl_strdup(file);
	key.file = rep->runs[rep->nruns].file;
	seen_before(&rep->runs_seen, &key);
	rep->nruns++;
}

void mlctl_report_add(struct mlctl_report *rep, enum mlctl_check check, int severity,
		      const char *file, const char *fmt, ...)
{
	char msg[MLCTL_ERR_MSG_MAX];
	struct seen_key key;
	struct mlctl_finding *f;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* the same finding twice (a repeated global) is said once */
	key.id = mlctl_check_info(check)->id;
	key.file = file;
	key.msg = msg;
	if (tfind(&key, &rep->findings_seen, seen_cmp))
		return;
	mlctl_report_ran(rep, check, file);
	if (rep->nfindings == rep->findings_alloc) {
		rep->findings_alloc = rep->findings_alloc ? 2 * rep->findings_alloc : 16;
		rep->findings = mlctl_realloc(rep->findings,
					      rep->findings_alloc * sizeof(*rep->findings));
	}
	f = &rep->findings[rep->nfindings];
	f->id = key.id;
	f->check = check;
	f->severity = severity;
	f->file = mlctl_strdup(file);
	f->message = mlctl_strdup(msg);
	key.file = f->file;
	key.msg = f->message;
	seen_before(&rep->findings_seen, &key);
	rep->nfindings++;
}

void mlctl_report_sink(void *ctx, enum mlctl_check check, int severity, const char *msg)
{
	struct mlctl_report *rep = ctx;

	mlctl_report_add(rep, check, severity, rep->file, "%s", msg);
}

size_t mlctl_report_count(const struct mlctl_report *rep, int severity)
{
	size_t i, n = 0;

	for (i = 0; i < rep->nfindings; i++)
		if (rep->findings[i].severity == severity)
			n++;
	return n;
}

int mlctl_report_failed(const struct mlctl_report *rep, int strict)
{
	return mlctl_report_count(rep, MLCTL_SEV_ERROR) > 0 ||
	       (strict && mlctl_report_count(rep, MLCTL_SEV_WARNING) > 0);
}

static int finding_cmp(const void *a, const void *b)
{
	const struct mlctl_finding *x = a, *y = b;
	int c = strcmp(x->file, y->file);

	if (!c)
		c = x->severity - y->severity;
	if (!c)
		c = strcmp(x->id, y->id);
	return c;
}

struct finding_at {
	struct mlctl_finding f;
	size_t at;
};

static int finding_at_cmp(const void *a, const void *b)
{
	const struct finding_at *x = a, *y = b;
	int c = finding_cmp(&x->f, &y->f);

	return c ? c : (x->at > y->at) - (x->at < y->at);
}

void mlctl_report_sort(struct mlctl_report *rep)
{
	/* stable: qsort is not, so equal keys are ordered by where they were */
	struct finding_at *v = mlctl_malloc(rep->nfindings * sizeof(*v));
	size_t i;

	for (i = 0; i < rep->nfindings; i++) {
		v[i].f = rep->findings[i];
		v[i].at = i;
	}
	qsort(v, rep->nfindings, sizeof(*v), finding_at_cmp);
	for (i = 0; i < rep->nfindings; i++)
		rep->findings[i] = v[i].f;
	free(v);
}

cJSON *mlctl_report_json(const struct mlctl_report *rep, int strict)
{
	cJSON *doc = cJSON_CreateObject(), *arr, *sum;
	size_t i;

	cJSON_AddNumberToObject(doc, "schema_version", 1);
	cJSON_AddStringToObject(doc, "subject", rep->subject);
	/* a folder has no digest until it is packaged: null, so the key is always there */
	if (rep->digest[0])
		cJSON_AddStringToObject(doc, "digest", rep->digest);
	else
		cJSON_AddNullToObject(doc, "digest");
	cJSON_AddBoolToObject(doc, "passed", !mlctl_report_failed(rep, strict));
	cJSON_AddBoolToObject(doc, "strict", strict);
	sum = cJSON_AddObjectToObject(doc, "summary");
	cJSON_AddNumberToObject(sum, "errors", (double)mlctl_report_count(rep, MLCTL_SEV_ERROR));
	cJSON_AddNumberToObject(sum, "warnings",
				(double)mlctl_report_count(rep, MLCTL_SEV_WARNING));
	cJSON_AddNumberToObject(sum, "infos", (double)mlctl_report_count(rep, MLCTL_SEV_INFO));
	cJSON_AddNumberToObject(sum, "checks", (double)rep->nruns);
	arr = cJSON_AddArrayToObject(doc, "findings");
	for (i = 0; i < rep->nfindings; i++) {
		const struct mlctl_finding *f = &rep->findings[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "id", f->id);
		cJSON_AddStringToObject(o, "severity", sev_names[f->severity]);
		cJSON_AddStringToObject(o, "file", f->file);
		cJSON_AddStringToObject(o, "message", f->message);
		cJSON_AddItemToArray(arr, o);
	}
	return doc;
}

/* Findings ordered by (id, file, position), to find a check run's own in O(log n). */
struct finding_ref {
	const char *id, *file;
	size_t at;
};

static int finding_ref_cmp(const void *a, const void *b)
{
	const struct finding_ref *x = a, *y = b;
	int c = strcmp(x->id, y->id);

	if (!c)
		c = strcmp(x->file, y->file);
	return c ? c : (x->at > y->at) - (x->at < y->at);
}

/* The first of v (n, sorted) for run r's check and file: its index, or n when none. */
static size_t finding_ref_first(const struct finding_ref *v, size_t n,
				const struct mlctl_check_run *r)
{
	struct finding_ref key = { r->id, r->file, 0 };
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (finding_ref_cmp(&v[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && !strcmp(v[lo].id, r->id) && !strcmp(v[lo].file, r->file) ? lo : n;
}

char *mlctl_report_junit(const struct mlctl_report *rep, int strict)
{
	struct mlctl_buf b = MLCTL_BUF_INIT;
	struct finding_ref *v = mlctl_malloc(rep->nfindings * sizeof(*v));
	size_t i, j, k, failures = 0;

	for (j = 0; j < rep->nfindings; j++) {
		v[j].id = rep->findings[j].id;
		v[j].file = rep->findings[j].file;
		v[j].at = j;
	}
	qsort(v, rep->nfindings, sizeof(*v), finding_ref_cmp);
	for (i = 0; i < rep->nruns; i++)
		for (k = finding_ref_first(v, rep->nfindings, &rep->runs[i]);
		     k < rep->nfindings && !strcmp(v[k].id, rep->runs[i].id) &&
		     !strcmp(v[k].file, rep->runs[i].file); k++) {
			j = v[k].at;
			if (rep->findings[j].severity == MLCTL_SEV_ERROR ||
			    (strict && rep->findings[j].severity == MLCTL_SEV_WARNING)) {
				failures++;
				break;
			}
		}
	mlctl_buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
	mlctl_buf_puts(&b, "  <testsuite name=\"mlctl validate ");
	mlctl_buf_add_xml(&b, rep->subject);
	mlctl_buf_printf(&b, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\">\n", rep->nruns,
			 failures);
	for (i = 0; i < rep->nruns; i++) {
		const struct mlctl_check_run *r = &rep->runs[i];
		const struct mlctl_check_info *c = mlctl_check_info(r->check);
		int failed = 0;

		mlctl_buf_printf(&b, "    <testcase classname=\"mlctl.validate.%s\" name=\"%s ",
				 r->id, r->id);
		mlctl_buf_add_xml(&b, c->name);
		if (r->file[0]) {
			mlctl_buf_puts(&b, ": ");
			mlctl_buf_add_xml(&b, r->file);
		}
		mlctl_buf_puts(&b, "\"");
		for (k = finding_ref_first(v, rep->nfindings, r);
		     k < rep->nfindings && !strcmp(v[k].id, r->id) && !strcmp(v[k].file, r->file);
		     k++) {
			const struct mlctl_finding *f = &rep->findings[v[k].at];
			int fails = f->severity == MLCTL_SEV_ERROR ||
				    (strict && f->severity == MLCTL_SEV_WARNING);

			if (!failed)
				mlctl_buf_puts(&b, ">\n");
			failed = 1;
			if (fails) {
				mlctl_buf_printf(&b, "      <failure type=\"%s\" message=\"",
						 sev_names[f->severity]);
				mlctl_buf_add_xml(&b, f->message);
				mlctl_buf_puts(&b, "\"/>\n");
			} else {
				mlctl_buf_printf(&b, "      <system-out>%s: ", sev_names[f->severity]);
				mlctl_buf_add_xml(&b, f->message);
				mlctl_buf_puts(&b, "</system-out>\n");
			}
		}
		mlctl_buf_puts(&b, failed ? "    </testcase>\n" : "/>\n");
	}
	mlctl_buf_puts(&b, "  </testsuite>\n</testsuites>\n");
	free(v);
	return mlctl_buf_detach(&b);
}

/*
 * A file path as a relative URI reference (RFC 3986): '/' and unreserved
 * characters as they are, every other byte (UTF-8 too, and the ':' of a
 * member "model.pt:data.pkl") percent-encoded.
 */
static void uri_path(struct mlctl_buf *b, const char *path)
{
	mlctl_buf_reset(b);
	for (; *path; path++) {
		unsigned char c = (unsigned char)*path;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-._~/", c))
			mlctl_buf_add(b, path, 1);
		else
			mlctl_buf_printf(b, "%%%02X", c);
	}
}

char *mlctl_report_sarif(const struct mlctl_report *rep, const char *tool_version)
{
	static const char *const levels[] = { "error", "warning", "note" };
	cJSON *doc = cJSON_CreateObject(), *runs, *run, *driver, *rules, *results;
	struct mlctl_buf uri = MLCTL_BUF_INIT;
	char *out;
	size_t i;

	cJSON_AddStringToObject(doc, "$schema",
				"https://json.schemastore.org/sarif-2.1.0.json");
	cJSON_AddStringToObject(doc, "version", "2.1.0");
	runs = cJSON_AddArrayToObject(doc, "runs");
	run = cJSON_CreateObject();
	cJSON_AddItemToArray(runs, run);
	driver = cJSON_AddObjectToObject(cJSON_AddObjectToObject(run, "tool"), "driver");
	cJSON_AddStringToObject(driver, "name", "mlctl");
	cJSON_AddStringToObject(driver, "version", tool_version);
	rules = cJSON_AddArrayToObject(driver, "rules");
	for (i = MLCTL_CHECK_NONE + 1; i < MLCTL_CHECK_COUNT; i++) {
		const struct mlctl_check_info *c = &mlctl_check_catalogue[i];
		cJSON *r = cJSON_CreateObject();

		cJSON_AddStringToObject(r, "id", c->id);
		cJSON_AddStringToObject(r, "name", c->name);
		cJSON_AddStringToObject(cJSON_AddObjectToObject(r, "shortDescription"), "text",
					c->summary);
		cJSON_AddStringToObject(cJSON_AddObjectToObject(r, "defaultConfiguration"),
					"level", levels[c->severity]);
		cJSON_AddItemToArray(rules, r);
	}
	results = cJSON_AddArrayToObject(run, "results");
	for (i = 0; i < rep->nfindings; i++) {
		const struct mlctl_finding *f = &rep->findings[i];
		cJSON *r = cJSON_CreateObject(), *loc, *phys;

		cJSON_AddStringToObject(r, "ruleId", f->id);
		/* rules are the catalogue in order, from its first check */
		cJSON_AddNumberToObject(r, "ruleIndex", (double)(f->check - MLCTL_CHECK_NONE - 1));
		cJSON_AddStringToObject(r, "level", levels[f->severity]);
		cJSON_AddStringToObject(cJSON_AddObjectToObject(r, "message"), "text", f->message);
		loc = cJSON_CreateObject();
		phys = cJSON_AddObjectToObject(loc, "physicalLocation");
		uri_path(&uri, f->file[0] ? f->file : "mlctl.json");
		cJSON_AddStringToObject(cJSON_AddObjectToObject(phys, "artifactLocation"), "uri",
					uri.buf);
		cJSON_AddItemToArray(cJSON_AddArrayToObject(r, "locations"), loc);
		cJSON_AddItemToArray(results, r);
	}
	mlctl_buf_release(&uri);
	out = mlctl_json_pretty(doc);
	cJSON_Delete(doc);
	return out;
}
