/*
 * diff.c - mlctl diff REF REF: what changed between two stored versions:
 * files (added, removed, changed, by their sha256), sizes, metrics with
 * their deltas, signature, licence, and the latency of their last smoke
 * records. Read-only.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "registry.h"
#include "banned.h"

static const struct cli_opt opts[] = {
	{ NULL, 0, NULL, NULL },
};

const struct cli_cmd cli_cmd_diff = {
	"diff", cmd_diff, "compare two versions: files, sizes, metrics, signature, licence, latency",
	"REF REF", opts, 2, 2,
};

struct side {
	struct mlctl_version_info info;
	struct mlctl_manifest m;
	double p95;      /* the newest smoke record's p95 latency, NAN when none */
	const char *ref;
};

/* The newest smoke record's p95_ms for a digest, NAN when there is none. */
static int latency(struct mlctl_registry *r, struct side *s, struct mlctl_err *err)
{
	struct mlctl_record_info *rec = NULL;
	size_t n = 0, i;
	int rc;

	s->p95 = NAN;
	if ((rc = mlctl_registry_records(r, &rec, &n, s->info.digest, err)))
		return rc;
	for (i = 0; i < n; i++) {
		cJSON *sum = cJSON_Parse(rec[i].summary);
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(sum, "p95_ms");
		int found = !strcmp(rec[i].kind, "smoke") && cJSON_IsNumber(p);

		if (found)
			s->p95 = p->valuedouble;
		cJSON_Delete(sum);
		if (found)
			break;
	}
	mlctl_record_infos_free(rec, n);
	return 0;
}

static const struct mlctl_file_entry *find_file(const struct mlctl_manifest *m, const char *path)
{
	size_t i;

	for (i = 0; i < m->nfiles; i++)
		if (!strcmp(m->files[i].path, path))
			return &m->files[i];
	return NULL;
}

static const char *str_field(const struct mlctl_manifest *m, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m->json, key));
}

/* Both sides' metric names, each once, in a's order then b's new ones. */
static void metric_names(const cJSON *a, const cJSON *b, const char **out, size_t *n, size_t max)
{
	const cJSON *it;

	*n = 0;
	cJSON_ArrayForEach(it, a)
		if (cJSON_IsNumber(it) && *n < max)
			out[(*n)++] = it->string;
	cJSON_ArrayForEach(it, b)
		if (cJSON_IsNumber(it) && *n < max &&
		    !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(a, it->string)))
			out[(*n)++] = it->string;
}

/* A field as canonical JSON, "null" when absent; the caller frees. */
static char *canon(cJSON *v)
{
	return v ? mlctl_json_canonical(v) : mlctl_strdup("null");
}

static cJSON *num_or_null(const cJSON *v)
{
	return cJSON_IsNumber(v) ? cJSON_CreateNumber(v->valuedouble) : cJSON_CreateNull();
}

/* A difference of two decimals without the binary noise (0.95 - 0.94 is 0.01, not 0.0100…009). */
static double delta(double to, double from)
{
	char s[32];

	snprintf(s, sizeof(s), "%.12g", to - from);
	return strtod(s, NULL);
}

static cJSON *side_json(const struct side *s)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "ref", s->ref);
	cJSON_AddStringToObject(o, "name", s->info.name);
	cJSON_AddStringToObject(o, "version", s->info.version);
	cJSON_AddStringToObject(o, "digest", s->info.digest);
	return o;
}

static void print_text(struct cli *cli, const struct side *a, const struct side *b)
{
	const cJSON *ma = cJSON_GetObjectItemCaseSensitive(a->m.json, "metrics");
	const cJSON *mb = cJSON_GetObjectItemCaseSensitive(b->m.json, "metrics");
	const char *names[256], *la = str_field(&a->m, "license"), *lb = str_field(&b->m, "license");
	char *sa, *sb, x[32], y[32];
	size_t i, n, same = 0;

	(void)cli;
	printf("%s:%s %.19s -> %s:%s %.19s\n", a->info.name, a->info.version, a->info.digest,
	       b->info.name, b->info.version, b->info.digest);
	printf("files:\n");
	for (i = 0; i < a->m.nfiles; i++) {
		const struct mlctl_file_entry *fa = &a->m.files[i], *fb = find_file(&b->m, fa->path);

		mlctl_human_size(x, fa->size);
		if (!fb) {
			printf("  - %s  %s\n", fa->path, x);
		} else if (strcmp(fa->sha256, fb->sha256)) {
			mlctl_human_size(y, fb->size);
			printf("  ~ %s  %s -> %s\n", fa->path, x, y);
		} else {
			same++;
		}
	}
	for (i = 0; i < b->m.nfiles; i++)
		if (!find_file(&a->m, b->m.files[i].path)) {
			mlctl_human_size(y, b->m.files[i].size);
			printf("  + %s  %s\n", b->m.files[i].path, y);
		}
	printf("  (%zu unchanged)\n", same);
	mlctl_human_size(x, a->info.size);
	mlctl_human_size(y, b->info.size);
	printf("size:      %s -> %s (%s%lld bytes)\n", x, y, b->info.size >= a->info.size ? "+" : "",
	       (long long)b->info.size - (long long)a->info.size);
	metric_names(ma, mb, names, &n, 256);
	if (n)
		printf("metrics:\n");
	for (i = 0; i < n; i++) {
		const cJSON *va = cJSON_GetObjectItemCaseSensitive(ma, names[i]);
		const cJSON *vb = cJSON_GetObjectItemCaseSensitive(mb, names[i]);

		if (cJSON_IsNumber(va) && cJSON_IsNumber(vb))
			printf("  %-20s %g -> %g (%+g)\n", names[i], va->valuedouble, vb->valuedouble,
			       vb->valuedouble - va->valuedouble);
		else if (cJSON_IsNumber(vb))
			printf("  %-20s - -> %g (new)\n", names[i], vb->valuedouble);
		else
			printf("  %-20s %g -> - (gone)\n", names[i], va->valuedouble);
	}
	if ((la && lb && !strcmp(la, lb)) || (!la && !lb))
		printf("license:   %s (same)\n", la ? la : "(none)");
	else
		printf("license:   %s -> %s\n", la ? la : "(none)", lb ? lb : "(none)");
	sa = canon(cJSON_GetObjectItemCaseSensitive(a->m.json, "signature"));
	sb = canon(cJSON_GetObjectItemCaseSensitive(b->m.json, "signature"));
	printf("signature: %s\n", !strcmp(sa, sb) ? (strcmp(sa, "null") ? "same" : "(none)")
					       : "changed");
	free(sa);
	free(sb);
	if (isnan(a->p95) || isnan(b->p95)) {
		snprintf(x, sizeof(x), isnan(a->p95) ? "-" : "%.1f ms", a->p95);
		snprintf(y, sizeof(y), isnan(b->p95) ? "-" : "%.1f ms", b->p95);
		printf("latency:   p95 %s -> %s (a version with no smoke record: 'mlctl smoke REF "
		       "--record')\n", x, y);
	} else
		printf("latency:   p95 %.1f ms -> %.1f ms (%+.1f ms, %.2fx)\n", a->p95, b->p95,
		       b->p95 - a->p95, a->p95 > 0 ? b->p95 / a->p95 : 0.0);
}

static void print_json(const struct side *a, const struct side *b)
{
	const cJSON *ma = cJSON_GetObjectItemCaseSensitive(a->m.json, "metrics");
	const cJSON *mb = cJSON_GetObjectItemCaseSensitive(b->m.json, "metrics");
	cJSON *ga = cJSON_GetObjectItemCaseSensitive(a->m.json, "signature");
	cJSON *gb = cJSON_GetObjectItemCaseSensitive(b->m.json, "signature");
	const char *names[256], *la = str_field(&a->m, "license"), *lb = str_field(&b->m, "license");
	cJSON *doc = cli_json_doc(), *files, *o, *metrics;
	char *sa, *sb;
	size_t i, n;

	cJSON_AddItemToObject(doc, "from", side_json(a));
	cJSON_AddItemToObject(doc, "to", side_json(b));
	files = cJSON_AddArrayToObject(doc, "files");
	for (i = 0; i < a->m.nfiles; i++) {
		const struct mlctl_file_entry *fa = &a->m.files[i], *fb = find_file(&b->m, fa->path);

		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "path", fa->path);
		cJSON_AddStringToObject(o, "change", !fb ? "removed" : strcmp(fa->sha256, fb->sha256)
					? "changed" : "same");
		cJSON_AddNumberToObject(o, "size_from", (double)fa->size);
		if (fb)
			cJSON_AddNumberToObject(o, "size_to", (double)fb->size);
		else
			cJSON_AddNullToObject(o, "size_to");
		cJSON_AddItemToArray(files, o);
	}
	for (i = 0; i < b->m.nfiles; i++)
		if (!find_file(&a->m, b->m.files[i].path)) {
			o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "path", b->m.files[i].path);
			cJSON_AddStringToObject(o, "change", "added");
			cJSON_AddNullToObject(o, "size_from");
			cJSON_AddNumberToObject(o, "size_to", (double)b->m.files[i].size);
			cJSON_AddItemToArray(files, o);
		}
	o = cJSON_AddObjectToObject(doc, "size");
	cJSON_AddNumberToObject(o, "from", (double)a->info.size);
	cJSON_AddNumberToObject(o, "to", (double)b->info.size);
	cJSON_AddNumberToObject(o, "delta", (double)b->info.size - (double)a->info.size);
	metrics = cJSON_AddArrayToObject(doc, "metrics");
	metric_names(ma, mb, names, &n, 256);
	for (i = 0; i < n; i++) {
		const cJSON *va = cJSON_GetObjectItemCaseSensitive(ma, names[i]);
		const cJSON *vb = cJSON_GetObjectItemCaseSensitive(mb, names[i]);

		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", names[i]);
		cJSON_AddItemToObject(o, "from", num_or_null(va));
		cJSON_AddItemToObject(o, "to", num_or_null(vb));
		if (cJSON_IsNumber(va) && cJSON_IsNumber(vb))
			cJSON_AddNumberToObject(o, "delta", delta(vb->valuedouble, va->valuedouble));
		else
			cJSON_AddNullToObject(o, "delta");
		cJSON_AddItemToArray(metrics, o);
	}
	o = cJSON_AddObjectToObject(doc, "license");
	cJSON_AddItemToObject(o, "from", la ? cJSON_CreateString(la) : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "to", lb ? cJSON_CreateString(lb) : cJSON_CreateNull());
	cJSON_AddBoolToObject(o, "changed", (la || lb) && (!la || !lb || strcmp(la, lb)));
	o = cJSON_AddObjectToObject(doc, "signature");
	sa = canon(ga);
	sb = canon(gb);
	cJSON_AddBoolToObject(o, "changed", strcmp(sa, sb) != 0);
	cJSON_AddItemToObject(o, "from", ga ? cJSON_Duplicate(ga, 1) : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "to", gb ? cJSON_Duplicate(gb, 1) : cJSON_CreateNull());
	free(sa);
	free(sb);
	o = cJSON_AddObjectToObject(doc, "latency_p95_ms");
	cJSON_AddItemToObject(o, "from", isnan(a->p95) ? cJSON_CreateNull()
						       : cJSON_CreateNumber(a->p95));
	cJSON_AddItemToObject(o, "to", isnan(b->p95) ? cJSON_CreateNull()
						     : cJSON_CreateNumber(b->p95));
	if (isnan(a->p95) || isnan(b->p95))
		cJSON_AddNullToObject(o, "delta");
	else
		cJSON_AddNumberToObject(o, "delta", delta(b->p95, a->p95));
	cli_print_json(doc);
}

int cmd_diff(struct cli *cli, int argc, char **argv)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_registry *r = NULL;
	struct side s[2];
	int rc, i;

	(void)argc;
	memset(s, 0, sizeof(s));
	if ((rc = cli_open_registry(cli, &r, 0)))
		return rc;
	for (i = 0; i < 2; i++) {
		s[i].ref = argv[i];
		if ((rc = mlctl_registry_resolve(r, &s[i].info, &s[i].m, argv[i], &err)) ||
		    (rc = latency(r, &s[i], &err)))
			break;
	}
	mlctl_registry_free(r);
	if (!rc) {
		if (cli->json)
			print_json(&s[0], &s[1]);
		else
			print_text(cli, &s[0], &s[1]);
	}
	for (i = 0; i < 2; i++) {
		mlctl_version_info_release(&s[i].info);
		mlctl_manifest_release(&s[i].m);
	}
	return rc ? cli_fail(cli, &err) : 0;
}
