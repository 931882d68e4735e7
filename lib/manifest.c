/*
 * manifest.c - parse and check mlctl.json and keep its files index; the same
 * checks give the first error (a push) or every finding (validate).
 */
#define _GNU_SOURCE
#include "manifest.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

static const char *const known_keys[] = {
	"schema",  "name",    "version", "description", "license", "authors", "framework",
	"artifacts", "signature", "metrics", "lineage", "smoke", "gates", "files", "env",
	"tags",
};

static const char *const roles[] = { "model", "code", "config", "data", "docs",
				     "tokenizer", "weights", "other" };

void mlctl_file_entries_free(struct mlctl_file_entry *files, size_t n)
{
	size_t i;

	if (!files)
		return;
	for (i = 0; i < n; i++)
		free(files[i].path);
	free(files);
}

int mlctl_file_entry_cmp(const void *a, const void *b)
{
	const struct mlctl_file_entry *x = a, *y = b;

	return strcmp(x->path, y->path);
}

void mlctl_manifest_release(struct mlctl_manifest *m)
{
	if (!m)
		return;
	cJSON_Delete(m->json);
	mlctl_file_entries_free(m->files, m->nfiles);
	memset(m, 0, sizeof(*m));
}

/* ---- checks, shared by parsing (first error wins) and validate (all findings) */

struct checker {
	mlctl_finding_fn fn;
	void *ctx;
	int errors;
};

static void emit(struct checker *c, enum mlctl_check check, int severity, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void emit(struct checker *c, enum mlctl_check check, int severity, const char *fmt, ...)
{
	char msg[MLCTL_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (severity == MLCTL_SEV_ERROR)
		c->errors++;
	c->fn(c->ctx, check, severity, msg);
}

static void check_files_index(struct checker *c, const cJSON *files)
{
	const cJSON *f, *prev = NULL;
	char q[512];

	if (!cJSON_IsArray(files)) {
		emit(c, MLV012, MLCTL_SEV_ERROR,
		     "missing \"files\" index; package the project with 'mlctl package'");
		return;
	}
	cJSON_ArrayForEach(f, files) {
		const cJSON *path = cJSON_GetObjectItemCaseSensitive(f, "path");
		const cJSON *size = cJSON_GetObjectItemCaseSensitive(f, "size");
		const cJSON *mode = cJSON_GetObjectItemCaseSensitive(f, "mode");
		const cJSON *sha = cJSON_GetObjectItemCaseSensitive(f, "sha256");

		if (!cJSON_IsString(path) || !mlctl_path_is_safe(path->valuestring)) {
			emit(c, MLV012, MLCTL_SEV_ERROR,
			     "files index entry %s has a missing or unsafe path",
			     cJSON_IsString(path) ? mlctl_escape(q, sizeof(q), path->valuestring)
						  : "(no path)");
			return;
		}
		if (!strcmp(path->valuestring, MLCTL_MANIFEST_FILE)) {
			emit(c, MLV012, MLCTL_SEV_ERROR,
			     "files index lists '%s', the manifest itself; rebuild the package with "
			     "'mlctl package'",
			     MLCTL_MANIFEST_FILE);
			return;
		}
		if (!cJSON_IsNumber(size) || size->valuedouble < 0 ||
		    size->valuedouble > 9007199254740992.0 ||
		    size->valuedouble != (double)(uint64_t)size->valuedouble ||
		    !cJSON_IsString(mode) ||
		    (strcmp(mode->valuestring, "0644") && strcmp(mode->valuestring, "0755")) ||
		    !cJSON_IsString(sha) || !mlctl_is_sha256_hex(sha->valuestring)) {
			emit(c, MLV012, MLCTL_SEV_ERROR,
			     "files index entry '%s' needs size (bytes), mode (\"0644\" or \"0755\") "
			     "and sha256 (64 hex digits)",
			     path->valuestring);
			return;
		}
		if (prev && strcmp(cJSON_GetObjectItemCaseSensitive(prev, "path")->valuestring,
				   path->valuestring) >= 0) {
			emit(c, MLV012, MLCTL_SEV_ERROR,
			     "files index is not sorted or repeats '%s'; rebuild the package",
			     path->valuestring);
			return;
		}
		prev = f;
	}
}

static const char *const dtypes[] = { "bool", "int8", "int16", "int32", "int64", "uint8",
				      "uint16", "uint32", "uint64", "float16", "bfloat16",
				      "float32", "float64", "complex64", "complex128", "string" };

int mlctl_dtype_is_known(const char *name)
{
	return mlctl_str_in(name, dtypes, MLCTL_ARRAY_SIZE(dtypes));
}

static void check_signature(struct checker *c, const cJSON *sig)
{
	static const char *const sides[] = { "inputs", "outputs" };
	size_t i;

	for (i = 0; i < 2; i++) {
		const cJSON *list = cJSON_GetObjectItemCaseSensitive(sig, sides[i]), *t, *d;

		if (!list)
			continue;
		if (!cJSON_IsArray(list)) {
			emit(c, MLV013, MLCTL_SEV_ERROR, "signature.%s must be an array of "
			     "{\"name\", \"dtype\", \"shape\"}", sides[i]);
			continue;
		}
		cJSON_ArrayForEach(t, list) {
			const cJSON *name = cJSON_GetObjectItemCaseSensitive(t, "name");
			const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(t, "dtype");
			const cJSON *shape = cJSON_GetObjectItemCaseSensitive(t, "shape");
			const char *n = cJSON_IsString(name) ? name->valuestring : "?";

			if (!cJSON_IsString(name))
				emit(c, MLV013, MLCTL_SEV_ERROR, "signature.%s: every tensor needs a "
				     "\"name\" string", sides[i]);
			if (!cJSON_IsString(dtype) || !mlctl_dtype_is_known(dtype->valuestring))
				emit(c, MLV013, MLCTL_SEV_ERROR,
				     "signature.%s '%s': dtype %s is not known; use one of bool, "
				     "int8…int64, uint8…uint64, float16, bfloat16, float32, float64, "
				     "complex64, complex128, string",
				     sides[i], n,
				     cJSON_IsString(dtype) ? dtype->valuestring : "(missing)");
			if (shape) {
				int ok = cJSON_IsArray(shape);

				cJSON_ArrayForEach(d, shape) if (!cJSON_IsNumber(d) ||
								 d->valuedouble < -1 ||
								 d->valuedouble != (double)(long long)d->valuedouble)
					ok = 0;
				if (!ok)
					emit(c, MLV013, MLCTL_SEV_ERROR,
					     "signature.%s '%s': shape must be an array of integers, -1 "
					     "for any size",
					     sides[i], n);
			}
		}
	}
}

static void check_fields(struct checker *c, const cJSON *root)
{
	static const char *const strings[] = { "description", "license", "framework" };
	static const char *const objects[] = { "signature", "metrics", "lineage",
					       "smoke", "gates", "env" };
	const cJSON *it, *x;
	size_t i;

	for (i = 0; i < MLCTL_ARRAY_SIZE(strings); i++) {
		it = cJSON_GetObjectItemCaseSensitive(root, strings[i]);
		if (it && !cJSON_IsString(it))
			emit(c, MLV007, MLCTL_SEV_ERROR, "\"%s\" must be a string", strings[i]);
	}
	for (i = 0; i < MLCTL_ARRAY_SIZE(objects); i++) {
		it = cJSON_GetObjectItemCaseSensitive(root, objects[i]);
		if (it && !cJSON_IsObject(it))
			emit(c, MLV007, MLCTL_SEV_ERROR, "\"%s\" must be an object", objects[i]);
	}
	it = cJSON_GetObjectItemCaseSensitive(root, "authors");
	if (it) {
		int ok = cJSON_IsArray(it);

		cJSON_ArrayForEach(x, it) if (!cJSON_IsString(x)) ok = 0;
		if (!ok)
			emit(c, MLV007, MLCTL_SEV_ERROR, "\"authors\" must be an array of strings");
	}
	it = cJSON_GetObjectItemCaseSensitive(root, "metrics");
	if (cJSON_IsObject(it))
		cJSON_ArrayForEach(x, it) if (!cJSON_IsNumber(x))
			emit(c, MLV007, MLCTL_SEV_ERROR, "metric '%s' must be a number", x->string);
	it = cJSON_GetObjectItemCaseSensitive(root, "license");
	if (cJSON_IsString(it) && !mlctl_spdx_expression_is_valid(it->valuestring))
		emit(c, MLV006, MLCTL_SEV_WARNING,
		     "license '%s' is not an SPDX licence identifier or expression; use one such "
		     "as \"Apache-2.0\" or \"MIT OR Apache-2.0\" (https://spdx.org/licenses/)",
		     it->valuestring);
	it = cJSON_GetObjectItemCaseSensitive(root, "signature");
	if (cJSON_IsObject(it))
		check_signature(c, it);
}

struct art_path {
	const char *path;
	size_t at;
};

static int art_path_cmp(const void *a, const void *b)
{
	const struct art_path *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	return c ? c : (x->at > y->at) - (x->at < y->at);
}

/*
 * repeated[i] = 1 when artifact i has a "path" string that an earlier
 * artifact has too: sorted by (path, position), every entry after the first
 * of its run is a repeat. O(n log n) for manifests of many artifacts.
 */
static unsigned char *artifact_repeats(const cJSON *arts, size_t n)
{
	struct art_path *v = mlctl_malloc(n * sizeof(*v));
	unsigned char *repeated = mlctl_calloc(n, 1);
	const cJSON *a;
	size_t i = 0, k = 0;

	cJSON_ArrayForEach(a, arts) {
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(a, "path");

		if (cJSON_IsString(p)) {
			v[k].path = p->valuestring;
			v[k++].at = i;
		}
		i++;
	}
	qsort(v, k, sizeof(*v), art_path_cmp);
	for (i = 1; i < k; i++)
		if (!strcmp(v[i].path, v[i - 1].path))
			repeated[v[i].at] = 1;
	free(v);
	return repeated;
}

static void check_artifacts(struct checker *c, const cJSON *root)
{
	const cJSON *arts = cJSON_GetObjectItemCaseSensitive(root, "artifacts"), *a;
	unsigned char *repeated;
	size_t at = 0;
	char q[512];

	if (!cJSON_IsArray(arts) || cJSON_GetArraySize(arts) == 0) {
		emit(c, MLV008, MLCTL_SEV_ERROR,
		     "\"artifacts\" must be a non-empty array of {\"path\", \"role\"}; run 'mlctl "
		     "init' to list the folder's files");
		return;
	}
	repeated = artifact_repeats(arts, (size_t)cJSON_GetArraySize(arts));
	for (a = arts->child; a; a = a->next, at++) {
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(a, "path");
		const cJSON *r = cJSON_GetObjectItemCaseSensitive(a, "role");

		if (!cJSON_IsObject(a) || !cJSON_IsString(p)) {
			emit(c, MLV008, MLCTL_SEV_ERROR, "each artifact needs a \"path\" string");
			continue;
		}
		if (!mlctl_path_is_safe(p->valuestring)) {
			emit(c, MLV009, MLCTL_SEV_ERROR,
			     "artifact path '%s' is unsafe; use a relative path inside the project, "
			     "without '..' or control characters",
			     mlctl_escape(q, sizeof(q), p->valuestring));
			continue;
		}
		if (!strcmp(p->valuestring, MLCTL_MANIFEST_FILE))
			emit(c, MLV009, MLCTL_SEV_ERROR,
			     "artifact '%s' is the manifest itself; remove it from \"artifacts\"",
			     p->valuestring);
		if (r && !(cJSON_IsString(r) &&
			   mlctl_str_in(r->valuestring, roles, MLCTL_ARRAY_SIZE(roles))))
			emit(c, MLV011, MLCTL_SEV_ERROR,
			     "artifact '%s' has an unknown role; use model, code, config, data, "
			     "docs, tokenizer, weights or other",
			     p->valuestring);
		if (repeated[at])
			emit(c, MLV010, MLCTL_SEV_ERROR, "artifact '%s' is listed twice; remove "
			     "one", p->valuestring);
	}
	free(repeated);
}

/* Where a value sits, for messages: "metrics.auc", "artifacts[1].path". */
struct value_walk {
	struct checker *c;
	struct mlctl_buf path;
	int reported; /* findings so far: a hostile file could have millions */
};

#define VALUE_FINDINGS_MAX 20

static int key_ptr_cmp(const void *a, const void *b)
{
	return strcmp((*(const cJSON *const *)a)->string, (*(const cJSON *const *)b)->string);
}

static const char *value_where(struct value_walk *w, char *q, size_t n)
{
	return w->path.len ? mlctl_escape(q, n, w->path.buf) : "the manifest";
}

/* Each key once per object, and every number one JSON can hold (cJSON reads 1e999 as inf). */
static void check_values(struct value_walk *w, const cJSON *item)
{
	const cJSON *ch;
	size_t mark = w->path.len, n = 0, i;
	char q[512], k[256];

	if (w->reported >= VALUE_FINDINGS_MAX)
		return;
	if (cJSON_IsNumber(item) && !isfinite(item->valuedouble)) {
		w->reported++;
		emit(w->c, MLV001, MLCTL_SEV_ERROR,
		     "%s is not a finite number (beyond +-1.8e308, which JSON cannot hold once "
		     "read); use a number in range",
		     value_where(w, q, sizeof(q)));
		return;
	}
	if (cJSON_IsObject(item)) {
		const cJSON **keys;

		for (ch = item->child; ch; ch = ch->next)
			n++;
		keys = mlctl_calloc(n ? n : 1, sizeof(*keys));
		for (i = 0, ch = item->child; ch; ch = ch->next)
			keys[i++] = ch;
		qsort(keys, n, sizeof(*keys), key_ptr_cmp);
		for (i = 1; i < n && w->reported < VALUE_FINDINGS_MAX; i++)
			if (!strcmp(keys[i]->string, keys[i - 1]->string) &&
			    (i < 2 || strcmp(keys[i]->string, keys[i - 2]->string))) {
				w->reported++;
				emit(w->c, MLV001, MLCTL_SEV_ERROR,
				     "key '%s' appears more than once in %s; keep one",
				     mlctl_escape(k, sizeof(k), keys[i]->string),
				     value_where(w, q, sizeof(q)));
			}
		free(keys);
	}
	for (i = 0, ch = item->child; ch; ch = ch->next, i++) {
		if (cJSON_IsObject(item))
			mlctl_buf_printf(&w->path, "%s%s", mark ? "." : "", ch->string);
		else
			mlctl_buf_printf(&w->path, "[%zu]", i);
		check_values(w, ch);
		w->path.len = mark;
		w->path.buf[mark] = '\0';
	}
}

int mlctl_manifest_check(const cJSON *root, int with_files, mlctl_finding_fn fn, void *ctx)
{
	struct checker c = { fn, ctx, 0 };
	struct value_walk vw = { &c, MLCTL_BUF_INIT, 0 };
	int stored = (with_files & MLCTL_MANIFEST_STORED) == MLCTL_MANIFEST_STORED;
	const cJSON *it, *name;

	with_files &= MLCTL_MANIFEST_FILES;
	if (!cJSON_IsObject(root)) {
		emit(&c, MLV002, MLCTL_SEV_ERROR, "the manifest must be a JSON object");
		return c.errors;
	}
	check_values(&vw, root);
	mlctl_buf_release(&vw.path);
	for (it = root->child; it; it = it->next)
		if (!mlctl_str_in(it->string, known_keys, MLCTL_ARRAY_SIZE(known_keys)))
			emit(&c, MLV005, MLCTL_SEV_WARNING,
			     "unknown key '%s' is ignored; check its spelling", it->string);
	it = cJSON_GetObjectItemCaseSensitive(root, "schema");
	if (!cJSON_IsString(it))
		emit(&c, MLV002, MLCTL_SEV_ERROR, "missing \"schema\"; add \"schema\": \"%s\"",
		     MLCTL_SCHEMA);
	else if (strcmp(it->valuestring, MLCTL_SCHEMA))
		emit(&c, MLV002, MLCTL_SEV_ERROR, "schema '%s' is not supported; use \"%s\"",
		     it->valuestring, MLCTL_SCHEMA);
	name = cJSON_GetObjectItemCaseSensitive(root, "name");
	if (!cJSON_IsString(name)) {
		emit(&c, MLV003, MLCTL_SEV_ERROR,
		     "missing \"name\"; add a model name such as \"iris\"");
		name = NULL;
	} else if (!(stored ? mlctl_name_is_readable : mlctl_name_is_valid)(name->valuestring)) {
		emit(&c, MLV003, MLCTL_SEV_ERROR, "name '%s' is not valid; " MLCTL_NAME_RULE,
		     name->valuestring);
		name = NULL;
	}
	it = cJSON_GetObjectItemCaseSensitive(root, "version");
	if (!cJSON_IsString(it)) {
		emit(&c, MLV004, MLCTL_SEV_ERROR,
		     "missing \"version\"; add a semantic version such as \"1.0.0\"");
	} else {
		struct mlctl_semver v;

		if (mlctl_semver_parse(&v, it->valuestring, NULL)) {
			emit(&c, MLV004, MLCTL_SEV_ERROR,
			     "version '%s' is not a semantic version; use MAJOR.MINOR.PATCH such as "
			     "1.0.0",
			     it->valuestring);
		} else if (name && !stored) {
			/* the registry tags each version NAME@vVERSION: git must be able to */
			char *tag = mlctl_version_tag(name->valuestring, it->valuestring);
			const char *why = mlctl_tag_problem(tag);

			if (why)
				emit(&c, MLV004, MLCTL_SEV_ERROR,
				     "version '%s' cannot be tagged '%s' in the registry's git "
				     "history: %s; choose another pre-release or build part",
				     it->valuestring, tag, why);
			free(tag);
		}
	}
	check_fields(&c, root);
	check_artifacts(&c, root);
	if (with_files)
		check_files_index(&c, cJSON_GetObjectItemCaseSensitive(root, "files"));
	return c.errors;
}

/* The sink parsing uses: the first error becomes err, warnings go to a buffer. */
struct first_error {
	const char *origin;
	struct mlctl_err *err;
	struct mlctl_buf *warnings;
	int have;
};

static void first_error_fn(void *ctx, enum mlctl_check check, int severity, const char *msg)
{
	struct first_error *fe = ctx;

	if (severity == MLCTL_SEV_ERROR && !fe->have) {
		fe->have = 1;
		mlctl_err_set(fe->err, MLCTL_EGATE, "%s: %s", fe->origin, msg);
	} else if (severity == MLCTL_SEV_WARNING && fe->warnings && check == MLV005) {
		mlctl_buf_printf(fe->warnings, "%s: %s\n", fe->origin, msg);
	}
}

static void files_from_json(struct mlctl_manifest *m, const cJSON *files)
{
	const cJSON *f;
	size_t n = (size_t)cJSON_GetArraySize(files), i = 0;

	m->files = mlctl_calloc(n, sizeof(*m->files));
	cJSON_ArrayForEach(f, files) {
		struct mlctl_file_entry *e = &m->files[i++];

		e->path = mlctl_strdup(cJSON_GetObjectItemCaseSensitive(f, "path")->valuestring);
		e->size = (uint64_t)cJSON_GetObjectItemCaseSensitive(f, "size")->valuedouble;
		e->mode = strcmp(cJSON_GetObjectItemCaseSensitive(f, "mode")->valuestring, "0755")
				  ? 0644 : 0755;
		memcpy(e->sha256, cJSON_GetObjectItemCaseSensitive(f, "sha256")->valuestring, 65);
	}
	m->nfiles = n;
}

size_t mlctl_text_bad_utf8_line(const char *text, size_t len)
{
	size_t off = mlctl_utf8_check(text, len), k, line = 1;

	if (off == len)
		return 0;
	for (k = 0; k < off; k++)
		if (text[k] == '\n')
			line++;
	return line;
}

cJSON *mlctl_json_parse_located(const char *text, size_t len, size_t *line)
{
	const char *endp = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(text, len, &endp, 0);
	size_t off, k;

	*line = 0;
	if (root)
		return root;
	off = endp && endp >= text ? (size_t)(endp - text) : 0;
	*line = 1;
	for (k = 0; k < off && k < len; k++)
		if (text[k] == '\n')
			(*line)++;
	return NULL;
}

int mlctl_manifest_parse(struct mlctl_manifest *out, const char *text, size_t len,
			 const char *origin, int with_files, struct mlctl_buf *warnings,
			 struct mlctl_err *err)
{
	struct first_error fe = { origin, err, warnings, 0 };
	size_t line;
	cJSON *root;

	memset(out, 0, sizeof(*out));
	if ((line = mlctl_text_bad_utf8_line(text, len)))
		return mlctl_err_set(err, MLCTL_EGATE,
				     "%s: not UTF-8 at line %zu; save the file as UTF-8", origin,
				     line);
	root = mlctl_json_parse_located(text, len, &line);
	if (!root)
		return mlctl_err_set(err, MLCTL_EGATE,
				     "%s: not valid JSON near line %zu; fix the syntax (run "
				     "'mlctl init --force' to start over)",
				     origin, line);
	out->json = root;
	if (mlctl_manifest_check(root, with_files, first_error_fn, &fe)) {
		mlctl_manifest_release(out);
		return MLCTL_EGATE;
	}
	out->name = cJSON_GetObjectItemCaseSensitive(root, "name")->valuestring;
	out->version = cJSON_GetObjectItemCaseSensitive(root, "version")->valuestring;
	if (with_files & MLCTL_MANIFEST_FILES)
		files_from_json(out, cJSON_GetObjectItemCaseSensitive(root, "files"));
	else
		cJSON_DeleteItemFromObjectCaseSensitive(root, "files");
	return 0;
}

int mlctl_manifest_load(struct mlctl_manifest *out, const char *dir, struct mlctl_buf *warnings,
			struct mlctl_err *err)
{
	struct mlctl_buf text = MLCTL_BUF_INIT;
	char *path = mlctl_path_join(dir, MLCTL_MANIFEST_FILE);
	int rc;

	memset(out, 0, sizeof(*out));
	rc = mlctl_read_file(&text, path, MLCTL_MANIFEST_MAX, err);
	if (rc == MLCTL_ENOTFOUND)
		rc = mlctl_err_set(err, MLCTL_ENOTFOUND,
				   "no %s in '%s'; run 'mlctl init %s' to write one",
				   MLCTL_MANIFEST_FILE, dir, dir);
	if (!rc)
		rc = mlctl_manifest_parse(out, text.buf, text.len, path, 0, warnings, err);
	mlctl_buf_release(&text);
	free(path);
	return rc;
}

void mlctl_manifest_set_files(struct mlctl_manifest *m, struct mlctl_file_entry *files, size_t n)
{
	cJSON *arr = cJSON_CreateArray();
	size_t i;

	mlctl_file_entries_free(m->files, m->nfiles);
	qsort(files, n, sizeof(*files), mlctl_file_entry_cmp);
	m->files = files;
	m->nfiles = n;
	for (i = 0; i < n; i++) {
		cJSON *f = cJSON_CreateObject();

		cJSON_AddStringToObject(f, "path", files[i].path);
		cJSON_AddNumberToObject(f, "size", (double)files[i].size);
		cJSON_AddStringToObject(f, "mode", files[i].mode == 0755 ? "0755" : "0644");
		cJSON_AddStringToObject(f, "sha256", files[i].sha256);
		cJSON_AddItemToArray(arr, f);
	}
	cJSON_DeleteItemFromObjectCaseSensitive(m->json, "files");
	cJSON_AddItemToObject(m->json, "files", arr);
}

void mlctl_manifest_set_version(struct mlctl_manifest *m, const char *version)
{
	cJSON_ReplaceItemInObjectCaseSensitive(m->json, "version", cJSON_CreateString(version));
	m->version = cJSON_GetObjectItemCaseSensitive(m->json, "version")->valuestring;
	m->name = cJSON_GetObjectItemCaseSensitive(m->json, "name")->valuestring;
}

char *mlctl_manifest_canonical(const struct mlctl_manifest *m)
{
	return mlctl_json_canonical(m->json);
}

char *mlctl_manifest_pretty(const struct mlctl_manifest *m, int with_files)
{
	cJSON *copy = cJSON_Duplicate(m->json, 1);
	char *out;

	if (!with_files)
		cJSON_DeleteItemFromObjectCaseSensitive(copy, "files");
	mlctl_json_sort_keys(copy);
	out = mlctl_json_pretty(copy);
	cJSON_Delete(copy);
	return out;
}

void mlctl_manifest_digest(const struct mlctl_manifest *m, char out[72])
{
	char *c = mlctl_manifest_canonical(m);
	char hex[65];

	mlctl_sha256_hex(hex, c, strlen(c));
	snprintf(out, 72, "sha256:%s", hex);
	free(c);
}

uint64_t mlctl_manifest_total_size(const struct mlctl_manifest *m)
{
	uint64_t t = 0;
	size_t i;

	for (i = 0; i < m->nfiles; i++)
		t += m->files[i].size;
	return t;
}

const struct mlctl_file_entry *mlctl_manifest_find_file(const struct mlctl_manifest *m,
							 const char *path)
{
	struct mlctl_file_entry key;

	key.path = (char *)path;
	return bsearch(&key, m->files, m->nfiles, sizeof(key), mlctl_file_entry_cmp);
}
