/*
 * init.c - guess a manifest from a folder's files.
 */
#define _GNU_SOURCE
#include "init.h"

#include <ctype.h>
#include <fcntl.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manifest.h"
#include "report.h"
#include "validate/onnx.h"
#include "banned.h"

static const struct {
	const char *ext;
	const char *role;
	const char *framework;
} by_ext[] = {
	{ ".pkl", "model", "sklearn" },   { ".joblib", "model", "sklearn" },
	{ ".onnx", "model", "onnx" },     { ".pt", "model", "pytorch" },
	{ ".pth", "model", "pytorch" },   { ".safetensors", "model", "safetensors" },
	{ ".gguf", "model", "gguf" },     { ".h5", "model", "keras" },
	{ ".keras", "model", "keras" },   { ".tflite", "model", "tflite" },
	{ ".pb", "model", "tensorflow" }, { ".ckpt", "model", NULL },
	{ ".bin", "model", NULL },        { ".npy", "model", "numpy" },
	{ ".npz", "model", "numpy" },     { ".xgb", "model", "xgboost" },
	{ ".ubj", "model", "xgboost" },   { ".lgb", "model", "lightgbm" },
	{ ".cbm", "model", "catboost" },  { ".mlmodel", "model", "coreml" },
	{ ".py", "code", NULL },          { ".js", "code", NULL },
	{ ".mjs", "code", NULL },         { ".ts", "code", NULL },
	{ ".sh", "code", NULL },          { ".r", "code", NULL },
	{ ".ipynb", "code", NULL },       { ".go", "code", NULL },
	{ ".rs", "code", NULL },          { ".c", "code", NULL },
	{ ".json", "config", NULL },      { ".yaml", "config", NULL },
	{ ".yml", "config", NULL },       { ".toml", "config", NULL },
	{ ".cfg", "config", NULL },       { ".ini", "config", NULL },
	{ ".csv", "data", NULL },         { ".tsv", "data", NULL },
	{ ".jsonl", "data", NULL },       { ".parquet", "data", NULL },
	{ ".arrow", "data", NULL },       { ".md", "docs", NULL },
	{ ".rst", "docs", NULL },         { ".txt", "docs", NULL },
	{ ".pdf", "docs", NULL },
};

static const char *const tokenizer_names[] = { "tokenizer.json", "tokenizer_config.json",
					       "vocab.txt", "vocab.json", "merges.txt",
					       "tokenizer.model", "special_tokens_map.json" };

static const char *const skip_names[] = { "__pycache__", "node_modules", ".git",
					  "mlctl.json", ".DS_Store", ".ipynb_checkpoints" };

static int ext_index(const char *path)
{
	const char *dot = strrchr(mlctl_basename(path), '.');
	size_t i;

	if (!dot)
		return -1;
	for (i = 0; i < MLCTL_ARRAY_SIZE(by_ext); i++)
		if (!strcasecmp(dot, by_ext[i].ext))
			return (int)i;
	return -1;
}

const char *mlctl_guess_role(const char *path)
{
	const char *base = mlctl_basename(path);
	int e;

	if (mlctl_str_in(base, tokenizer_names, MLCTL_ARRAY_SIZE(tokenizer_names)))
		return "tokenizer";
	if (!strncasecmp(base, "README", 6) || !strncasecmp(base, "LICENSE", 7) ||
	    !strncasecmp(base, "MODEL_CARD", 10))
		return "docs";
	e = ext_index(path);
	return e >= 0 ? by_ext[e].role : "other";
}

struct scan {
	char **paths;
	size_t n, alloc;
	char **skipped; /* names no package can hold (not UTF-8, controls, '\\') */
	size_t nskipped;
};

static int path_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int scan_dir(struct scan *s, const char *root, const char *rel, struct mlctl_err *err)
{
	char *full = rel ? mlctl_path_join(root, rel) : mlctl_strdup(root);
	DIR *d = opendir(full);
	struct dirent *e;
	int rc = 0;

	if (!d) {
		rc = mlctl_err_errno(err, errno == ENOENT ? MLCTL_ENOTFOUND : MLCTL_EIO,
				     "cannot list '%s'", full);
		free(full);
		return rc;
	}
	while (!rc && (e = readdir(d))) {
		char *sub, *subfull;
		struct stat st;
		size_t i;
		int skip = e->d_name[0] == '.';

		for (i = 0; i < MLCTL_ARRAY_SIZE(skip_names); i++)
			if (!strcmp(e->d_name, skip_names[i]) && (rel == NULL || i != 3))
				skip = 1;
		if (skip)
			continue;
		sub = rel ? mlctl_aprintf("%s/%s", rel, e->d_name) : mlctl_strdup(e->d_name);
		subfull = mlctl_path_join(root, sub);
		if (!mlctl_path_is_safe(sub)) {
			s->skipped = mlctl_realloc(s->skipped, (s->nskipped + 1) * sizeof(char *));
			s->skipped[s->nskipped++] = mlctl_strdup(sub);
		} else if (lstat(subfull, &st) == 0) {
			if (S_ISDIR(st.st_mode)) {
				rc = scan_dir(s, root, sub, err);
			} else if (S_ISREG(st.st_mode)) {
				if (s->n == s->alloc) {
					s->alloc = s->alloc ? 2 * s->alloc : 16;
					s->paths = mlctl_realloc(s->paths, s->alloc * sizeof(char *));
				}
				s->paths[s->n++] = mlctl_strdup(sub);
			}
			/* symlinks and special files are left for the user to list by hand */
		}
		free(subfull);
		free(sub);
	}
	closedir(d);
	free(full);
	return rc;
}

static ssize_t fd_source(void *ctx, void *buf, size_t n)
{
	return read(*(int *)ctx, buf, n);
}

static cJSON *onnx_side(const struct onnx_info *info, const struct onnx_value *v, size_t n,
			int skip_initializers)
{
	cJSON *arr = cJSON_CreateArray();
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		const char *dtype = mlctl_onnx_dtype_name(v[i].elem_type);
		cJSON *t, *shape;

		if (skip_initializers && mlctl_onnx_is_initializer(info, v[i].name))
			continue;
		t = cJSON_CreateObject();
		cJSON_AddStringToObject(t, "name", v[i].name);
		if (dtype)
			cJSON_AddStringToObject(t, "dtype", dtype);
		if (v[i].rank >= 0 && v[i].rank <= ONNX_MAX_DIMS) {
			shape = cJSON_AddArrayToObject(t, "shape");
			for (k = 0; k < v[i].rank; k++)
				cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)v[i].dims[k]));
		}
		cJSON_AddItemToArray(arr, t);
	}
	return arr;
}

/* The signature of an ONNX model, read from its graph; NULL when it cannot be read. */
static cJSON *onnx_signature(const char *path)
{
	struct mlctl_report rep;
	struct onnx_info info;
	struct mlctl_vin in;
	struct stat st;
	cJSON *sig = NULL;
	int fd = mlctl_open_regular(path, MLCTL_EIO, NULL);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0) {
		mlctl_report_init(&rep, path);
		mlctl_vin_init(&in, path, (uint64_t)st.st_size, fd_source, &fd, &rep);
		if (mlctl_onnx_read(&info, &in) == 0 && info.has_graph) {
			sig = cJSON_CreateObject();
			cJSON_AddItemToObject(sig, "inputs",
					      onnx_side(&info, info.inputs, info.ninputs, 1));
			cJSON_AddItemToObject(sig, "outputs",
					      onnx_side(&info, info.outputs, info.noutputs, 0));
		}
		mlctl_onnx_release(&info);
		mlctl_vin_release(&in);
		mlctl_report_release(&rep);
	}
	close(fd);
	return sig;
}

/*
 * A model name from a folder name: ASCII letters lowercased, digits and '_'
 * kept, every run of anything else (dots, spaces, other scripts) one '-',
 * only a letter or digit at either end; "model" when nothing is left ('日本').
 */
static char *name_from_dir(const char *dir)
{
	char *real = realpath(dir, NULL);
	const char *base = mlctl_basename(real ? real : dir), *p;
	struct mlctl_buf b = MLCTL_BUF_INIT;

	for (p = base; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c < 0x80 && (isalnum(c) || c == '_')) {
			c = (unsigned char)tolower(c);
			mlctl_buf_add(&b, &c, 1);
		} else if (b.len > 0 && b.buf[b.len - 1] != '-') {
			mlctl_buf_add(&b, "-", 1);
		}
	}
	while (b.len > 0 && !isalnum((unsigned char)b.buf[b.len - 1]))
		b.buf[--b.len] = '\0';
	for (p = b.buf; p && *p && !isalnum((unsigned char)*p); p++)
		;
	{
		char *name = mlctl_strdup(p && *p ? p : "model");

		size_t n = strlen(name);

		if (n > MLCTL_NAME_MAX)
			name[n = MLCTL_NAME_MAX] = '\0';
		while (n > 1 && !isalnum((unsigned char)name[n - 1]))
			name[--n] = '\0';
		mlctl_buf_release(&b);
		free(real);
		return name;
	}
}

void mlctl_init_result_release(struct mlctl_init_result *res)
{
	size_t i;

	for (i = 0; i < res->nskipped; i++)
		free(res->skipped[i]);
	free(res->skipped);
	free(res->path);
	free(res->name);
	memset(res, 0, sizeof(*res));
}

int mlctl_init_project(struct mlctl_init_result *res, const char *dir, const char *name,
		       const char *version, int force, struct mlctl_err *err)
{
	struct scan s = { NULL, 0, 0, NULL, 0 };
	struct mlctl_semver sv;
	cJSON *doc = NULL, *arts;
	const char *framework = NULL, *model_path = NULL;
	char *text = NULL;
	size_t i, nmodels = 0;
	int rc = 0;

	memset(res, 0, sizeof(*res));
	if (!mlctl_is_dir(dir))
		return mlctl_err_set(err, MLCTL_ENOTFOUND, "'%s' is not a folder; pass the model's "
				     "folder", dir);
	res->path = mlctl_path_join(dir, MLCTL_MANIFEST_FILE);
	if (!force && access(res->path, F_OK) == 0) {
		rc = mlctl_err_set(err, MLCTL_ECONFLICT,
				   "'%s' exists; edit it, or pass --force to write a new one",
				   res->path);
		goto done;
	}
	res->name = name ? mlctl_strdup(name) : name_from_dir(dir);
	if (!mlctl_name_is_valid(res->name)) {
		rc = mlctl_err_set(err, MLCTL_EUSAGE,
				   "'%s' is not a model name; " MLCTL_NAME_RULE " (pass --name)",
				   res->name);
		goto done;
	}
	if (version && (rc = mlctl_semver_parse(&sv, version, err)))
		goto done;
	if ((rc = scan_dir(&s, dir, NULL, err)))
		goto done;
	res->skipped = s.skipped;
	res->nskipped = s.nskipped;
	s.skipped = NULL;
	if (s.n == 0 && res->nskipped) {
		char shown[256];

		rc = mlctl_err_set(err, MLCTL_EGATE,
				   "'%s' has no files a package can hold: '%s'%s has a name that is "
				   "not UTF-8 or holds a control character or backslash; rename it",
				   dir, mlctl_escape(shown, sizeof(shown), res->skipped[0]),
				   res->nskipped > 1 ? " (and others)" : "");
		goto done;
	}
	if (s.n == 0) {
		rc = mlctl_err_set(err, MLCTL_EGATE,
				   "'%s' has no files to list; put the model's files there first",
				   dir);
		goto done;
	}
	qsort(s.paths, s.n, sizeof(char *), path_cmp);
	doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "schema", MLCTL_SCHEMA);
	cJSON_AddStringToObject(doc, "name", res->name);
	cJSON_AddStringToObject(doc, "version", version ? version : "0.1.0");
	arts = cJSON_AddArrayToObject(doc, "artifacts");
	for (i = 0; i < s.n; i++) {
		cJSON *a = cJSON_CreateObject();
		const char *role = mlctl_guess_role(s.paths[i]);
		int e = ext_index(s.paths[i]);

		cJSON_AddStringToObject(a, "path", s.paths[i]);
		cJSON_AddStringToObject(a, "role", role);
		cJSON_AddItemToArray(arts, a);
		if (!strcmp(role, "model")) {
			nmodels++;
			framework = e >= 0 ? by_ext[e].framework : NULL;
			model_path = s.paths[i];
		}
	}
	if (nmodels == 1 && framework) {
		/* schema, name, version, framework, then the list: the order people read */
		cJSON_DetachItemViaPointer(doc, arts);
		cJSON_AddStringToObject(doc, "framework", framework);
		cJSON_AddItemToObject(doc, "artifacts", arts);
		if (!strcmp(framework, "onnx")) {
			char *full = mlctl_path_join(dir, model_path);
			cJSON *sig = onnx_signature(full);

			if (sig)
				cJSON_AddItemToObject(doc, "signature", sig);
			free(full);
		}
	}
	res->nartifacts = s.n;
	text = mlctl_json_pretty(doc);
	rc = mlctl_write_file_atomic(res->path, text, strlen(text), 0644, err);
done:
	for (i = 0; i < s.n; i++)
		free(s.paths[i]);
	free(s.paths);
	for (i = 0; i < s.nskipped && s.skipped; i++)
		free(s.skipped[i]);
	free(s.skipped);
	cJSON_Delete(doc);
	free(text);
	if (rc)
		mlctl_init_result_release(res);
	return rc;
}
