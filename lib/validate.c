/*
 * validate.c - the validate driver: walks a project, a package stream or a
 * registry version, runs the manifest checks, hands each file to the format
 * checkers (lib/validate/), then applies the gates.
 */
#define _GNU_SOURCE
#include "validate.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blobstore.h"
#include "package.h"
#include "validate/check.h"
#include "banned.h"

/* ---------------------------------------------------------------- gates */

int mlctl_gate_parse(char name[128], char op[3], double *value, const char *s)
{
	static const char *const ops[] = { ">=", "<=", "==", ">", "<" };
	const char *p = s;
	char *end;
	size_t n = 0, i;

	while (isspace((unsigned char)*p))
		p++;
	while (p[n] && (isalnum((unsigned char)p[n]) || strchr("._-/", p[n])))
		n++;
	if (n == 0 || n >= 128)
		return -1;
	memcpy(name, p, n);
	name[n] = '\0';
	p += n;
	while (isspace((unsigned char)*p))
		p++;
	for (i = 0; i < MLCTL_ARRAY_SIZE(ops); i++)
		if (!strncmp(p, ops[i], strlen(ops[i])))
			break;
	if (i == MLCTL_ARRAY_SIZE(ops))
		return -1;
	snprintf(op, 3, "%s", ops[i]);
	p += strlen(ops[i]);
	errno = 0;
	*value = strtod(p, &end);
	if (end == p || errno || !isfinite(*value))
		return -1;
	/* a decimal number: not nan, inf or hexadecimal, which strtod also reads */
	for (; p < end; p++)
		if (!strchr("0123456789.eE+- \t", *p))
			return -1;
	while (isspace((unsigned char)*end))
		end++;
	return *end ? -1 : 0;
}

int mlctl_gate_holds(double have, const char *op, double want)
{
	if (!strcmp(op, ">="))
		return have >= want;
	if (!strcmp(op, "<="))
		return have <= want;
	if (!strcmp(op, ">"))
		return have > want;
	if (!strcmp(op, "<"))
		return have < want;
	return have == want;
}

static void one_gate(struct mlctl_report *rep, const cJSON *metrics, const char *expr,
		     const char *where)
{
	char name[128], op[3];
	double want;
	const cJSON *m;

	mlctl_report_ran(rep, MLV202, "mlctl.json");
	if (mlctl_gate_parse(name, op, &want, expr) < 0) {
		mlctl_report_add(rep, MLV202, MLCTL_SEV_ERROR, "mlctl.json",
				 "gate '%s' (%s) is not METRIC OP NUMBER with OP one of >= <= > < ==",
				 expr, where);
		return;
	}
	mlctl_report_ran(rep, MLV200, "mlctl.json");
	m = cJSON_GetObjectItemCaseSensitive(metrics, name);
	if (!cJSON_IsNumber(m)) {
		mlctl_report_add(rep, MLV201, MLCTL_SEV_ERROR, "mlctl.json",
				 "gate '%s' (%s) needs metric '%s', which the manifest's metrics do "
				 "not have; add it",
				 expr, where, name);
		return;
	}
	if (!mlctl_gate_holds(m->valuedouble, op, want))
		mlctl_report_add(rep, MLV200, MLCTL_SEV_ERROR, "mlctl.json",
				 "metric %s is %g, but gate %s needs %s %g", name, m->valuedouble,
				 where, op, want);
}

static int licence_allowed(const char *id, const char *allow)
{
	const char *p = allow;
	size_t n = strlen(id);

	while (*p) {
		size_t k = strcspn(p, ", ");

		if (k == n && !strncasecmp(p, id, n))
			return 1;
		p += k;
		while (*p == ',' || *p == ' ')
			p++;
	}
	return 0;
}

/* Every id of an AND expression allowed, or any one of an OR. */
static int expression_allowed(const char *expr, const char *allow)
{
	char tok[128];
	const char *p = expr;
	int and = strstr(expr, " AND ") != NULL, any = 0, all = 1, skip_next = 0;

	while (*p) {
		size_t k;

		while (*p == ' ' || *p == '(' || *p == ')')
			p++;
		k = strcspn(p, " ()");
		if (!k)
			break;
		snprintf(tok, sizeof(tok), "%.*s", (int)(k < sizeof(tok) - 1 ? k : sizeof(tok) - 1), p);
		p += k;
		if (!strcmp(tok, "AND") || !strcmp(tok, "OR"))
			continue;
		if (!strcmp(tok, "WITH")) {
			skip_next = 1;
			continue;
		}
		if (skip_next) {
			skip_next = 0;
			continue;
		}
		if (licence_allowed(tok, allow))
			any = 1;
		else
			all = 0;
	}
	return and ? all : any;
}

static void check_gates(struct mlctl_report *rep, const cJSON *manifest, uint64_t total,
			const struct mlctl_validate_opts *o)
{
	const cJSON *gates = cJSON_GetObjectItemCaseSensitive(manifest, "gates");
	const cJSON *metrics = cJSON_GetObjectItemCaseSensitive(manifest, "metrics");
	const cJSON *g, *lic, *max;
	size_t i;

	cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(gates, "metrics")) {
		char *expr, *where;

		if (!cJSON_IsString(g)) {
			mlctl_report_add(rep, MLV202, MLCTL_SEV_ERROR, "mlctl.json",
					 "gates.metrics.%s must be a string such as \">= 0.9\"",
					 g->string);
			continue;
		}
		expr = mlctl_aprintf("%s %s", g->string, g->valuestring);
		where = mlctl_aprintf("gates.metrics.%s", g->string);
		one_gate(rep, metrics, expr, where);
		free(expr);
		free(where);
	}
	for (i = 0; i < o->ngates; i++)
		one_gate(rep, metrics, o->gates[i], "--gate");
	if (o->allow_licenses) {
		mlctl_report_ran(rep, MLV203, "mlctl.json");
		lic = cJSON_GetObjectItemCaseSensitive(manifest, "license");
		if (!cJSON_IsString(lic))
			mlctl_report_add(rep, MLV203, MLCTL_SEV_ERROR, "mlctl.json",
					 "no licence is given, and --allow-license needs one of %s; "
					 "add \"license\"",
					 o->allow_licenses);
		else if (!expression_allowed(lic->valuestring, o->allow_licenses))
			mlctl_report_add(rep, MLV203, MLCTL_SEV_ERROR, "mlctl.json",
					 "licence '%s' is not allowed here (allowed: %s)",
					 lic->valuestring, o->allow_licenses);
	}
	max = cJSON_GetObjectItemCaseSensitive(gates, "max_size_mb");
	if (max) {
		mlctl_report_ran(rep, MLV204, "mlctl.json");
		if (!cJSON_IsNumber(max) || max->valuedouble < 0)
			mlctl_report_add(rep, MLV202, MLCTL_SEV_ERROR, "mlctl.json",
					 "gates.max_size_mb must be a number of MiB");
		else if ((double)total > max->valuedouble * 1024 * 1024)
			mlctl_report_add(rep, MLV204, MLCTL_SEV_ERROR, "mlctl.json",
					 "the model's files add up to %.1f MiB, over the %g MiB limit "
					 "of gates.max_size_mb",
					 (double)total / (1024.0 * 1024.0), max->valuedouble);
	}
}

/* ---------------------------------------------------------------- files */

static ssize_t fd_read(void *ctx, void *buf, size_t n)
{
	int fd = *(int *)ctx;
	ssize_t r;

	do
		r = read(fd, buf, n);
	while (r < 0 && errno == EINTR);
	return r;
}

/* Project lookups: on disk for a folder, in the files index for packages and versions. */
struct dir_ctx {
	const char *dir;
};

static int dir_lookup(void *ctx, const char *path, uint64_t *size)
{
	struct dir_ctx *d = ctx;
	char *full = mlctl_path_join(d->dir, path), *real = NULL, *root = NULL;
	struct stat st;
	int rc = 0;
	size_t n;

	if (lstat(full, &st) < 0) {
		rc = MLCTL_ENOTFOUND;
		goto done;
	}
	real = realpath(full, NULL);
	root = realpath(d->dir, NULL);
	n = root ? strlen(root) : 0;
	if (S_ISLNK(st.st_mode) || !real || !root || strncmp(real, root, n) || real[n] != '/') {
		rc = MLCTL_EINTEGRITY;
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = MLCTL_ENOTFOUND;
		goto done;
	}
	*size = (uint64_t)st.st_size;
done:
	free(full);
	free(real);
	free(root);
	return rc;
}

static int index_lookup(void *ctx, const char *path, uint64_t *size)
{
	const struct mlctl_file_entry *f = mlctl_manifest_find_file(ctx, path);

	if (!f)
		return MLCTL_ENOTFOUND;
	*size = f->size;
	return 0;
}

static ssize_t fd_pread(void *ctx, void *buf, size_t n, uint64_t off)
{
	return mlctl_pread_all(*(int *)ctx, buf, n, off);
}

static int fd_seek(void *ctx, uint64_t n)
{
	return n > INT64_MAX || lseek(*(int *)ctx, (off_t)n, SEEK_CUR) < 0 ? -1 : 0;
}

/* Check one file on disk (a project file, or a blob). */
static int check_fd_file(struct mlctl_report *rep, const struct mlctl_vproj *proj,
			 const char *rel, const char *full, uint64_t size, struct mlctl_err *err)
{
	struct mlctl_vin in;
	int fd = mlctl_open_regular(full, MLCTL_EIO, err);

	if (fd < 0)
		return fd;
	mlctl_vin_init(&in, rel, size, fd_read, &fd, rep);
	in.proj = proj;
	in.pread = fd_pread;
	in.pread_ctx = &fd;
	in.seek = fd_seek;
	mlctl_vcheck_file(&in);
	mlctl_vin_release(&in);
	close(fd);
	if (mlctl_interrupted())
		return mlctl_err_interrupted(err);
	if (in.failed)
		return mlctl_err_errno(err, MLCTL_EIO, "cannot read '%s'", full);
	return 0;
}

/* ---------------------------------------------------------------- folders */

static int load_manifest_json(struct mlctl_report *rep, cJSON **root, const char *text,
			      size_t len)
{
	size_t line;

	mlctl_report_ran(rep, MLV001, "mlctl.json");
	*root = NULL;
	if ((line = mlctl_text_bad_utf8_line(text, len))) {
		mlctl_report_add(rep, MLV001, MLCTL_SEV_ERROR, "mlctl.json",
				 "not UTF-8 at line %zu; save the file as UTF-8", line);
		return -1;
	}
	*root = mlctl_json_parse_located(text, len, &line);
	if (!*root) {
		mlctl_report_add(rep, MLV001, MLCTL_SEV_ERROR, "mlctl.json",
				 "not valid JSON near line %zu; fix the syntax (or 'mlctl init "
				 "--force' to start over)",
				 line);
		return -1;
	}
	return 0;
}

static void manifest_findings(struct mlctl_report *rep, const cJSON *root, int with_files)
{
	static const enum mlctl_check ran[] = { MLV002, MLV003, MLV004, MLV005, MLV006,
						MLV007, MLV008 };
	size_t i;

	for (i = 0; i < MLCTL_ARRAY_SIZE(ran); i++)
		mlctl_report_ran(rep, ran[i], "mlctl.json");
	if (with_files)
		mlctl_report_ran(rep, MLV012, "mlctl.json");
	rep->file = "mlctl.json";
	mlctl_manifest_check(root, with_files, mlctl_report_sink, rep);
	rep->file = "";
}

static int validate_dir(struct mlctl_report *rep, const char *dir,
			const struct mlctl_validate_opts *o, struct mlctl_err *err)
{
	struct mlctl_buf text = MLCTL_BUF_INIT;
	char *mpath = mlctl_path_join(dir, MLCTL_MANIFEST_FILE);
	const cJSON *arts, *a, *smoke;
	cJSON *root = NULL;
	uint64_t total = 0;
	struct dir_ctx dctx = { dir };
	struct mlctl_vproj proj = { dir_lookup, &dctx, NULL };
	int rc;

	rc = mlctl_read_file(&text, mpath, MLCTL_MANIFEST_MAX, err);
	if (rc == MLCTL_ENOTFOUND)
		rc = mlctl_err_set(err, MLCTL_ENOTFOUND,
				   "no mlctl.json in '%s'; run 'mlctl init %s' to write one", dir, dir);
	if (rc)
		goto done;
	if (load_manifest_json(rep, &root, text.buf, text.len) < 0)
		goto done;
	manifest_findings(rep, root, 0);
	proj.manifest = root;
	arts = cJSON_GetObjectItemCaseSensitive(root, "artifacts");
	smoke = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "smoke"),
						 "cases");
	for (a = cJSON_IsArray(arts) ? arts->child : NULL; ; a = a->next) {
		const cJSON *p = a ? cJSON_GetObjectItemCaseSensitive(a, "path") : smoke;
		struct mlctl_file_entry *files = NULL;
		struct mlctl_err ferr = MLCTL_ERR_INIT;
		size_t n = 0, i;

		if (mlctl_interrupted()) {
			rc = mlctl_err_interrupted(err);
			goto done;
		}
		if (cJSON_IsString(p) && mlctl_path_is_safe(p->valuestring)) {
			mlctl_report_ran(rep, MLV020, p->valuestring);
			mlctl_report_ran(rep, MLV021, p->valuestring);
			mlctl_report_ran(rep, MLV022, p->valuestring);
			if (mlctl_project_collect_one(&files, &n, dir, p->valuestring, &ferr)) {
				if (!ferr.check) {
					*err = ferr;
					rc = ferr.code;
					goto done;
				}
				mlctl_report_add(rep, ferr.check, MLCTL_SEV_ERROR, p->valuestring,
						 "%s", ferr.msg);
			}
			for (i = 0; i < n && !rc; i++) {
				char *full = mlctl_path_join(dir, files[i].path);

				total += files[i].size;
				rc = check_fd_file(rep, &proj, files[i].path, full, files[i].size,
						   err);
				free(full);
			}
			mlctl_file_entries_free(files, n);
			if (rc)
				goto done;
		}
		if (!a)
			break;
	}
	check_gates(rep, root, total, o);
done:
	cJSON_Delete(root);
	mlctl_buf_release(&text);
	free(mpath);
	return rc;
}

/* ---------------------------------------------------------------- packages */

struct pkg_src {
	struct mlctl_pkg_reader *pkg;
	struct mlctl_err err;
};

static ssize_t pkg_read(void *ctx, void *buf, size_t n)
{
	struct pkg_src *s = ctx;

	return mlctl_pkg_read(s->pkg, buf, n, &s->err);
}

static int validate_pkg(struct mlctl_report *rep, const char *path,
			const struct mlctl_validate_opts *o, struct mlctl_err *err)
{
	struct mlctl_buf text = MLCTL_BUF_INIT;
	struct pkg_src src;
	const struct mlctl_file_entry *f;
	struct mlctl_manifest *m;
	struct mlctl_vproj proj = { index_lookup, NULL, NULL };
	cJSON *root = NULL;
	int rc;

	memset(&src, 0, sizeof(src));
	rc = mlctl_pkg_open_ex(&src.pkg, path, !o->skip_digests, &text, err);
	if (rc) {
		if (!text.buf) /* not a package at all: nothing to report on */
			goto done;
		/* the manifest itself is what is wrong: say everything about it */
		char why[MLCTL_ERR_MSG_MAX];

		snprintf(why, sizeof(why), "%s", err->msg);
		rc = 0;
		mlctl_err_clear(err);
		if (load_manifest_json(rep, &root, text.buf, text.len) == 0)
			manifest_findings(rep, root, 1);
		if (!mlctl_report_count(rep, MLCTL_SEV_ERROR))
			mlctl_report_add(rep, MLV012, MLCTL_SEV_ERROR, "mlctl.json", "%s", why);
		goto done;
	}
	m = mlctl_pkg_manifest(src.pkg);
	proj.ctx = m;
	proj.manifest = m->json;
	mlctl_manifest_digest(m, rep->digest);
	mlctl_report_ran(rep, MLV001, "mlctl.json");
	manifest_findings(rep, m->json, 1);
	for (;;) {
		struct mlctl_vin in;

		rc = mlctl_pkg_next(src.pkg, &f, &src.err);
		if (rc < 0 && mlctl_interrupted()) {
			rc = mlctl_err_interrupted(err);
			goto done;
		}
		if (rc <= 0)
			break;
		mlctl_report_ran(rep, MLV023, f->path);
		mlctl_vin_init(&in, f->path, f->size, pkg_read, &src, rep);
		in.proj = &proj;
		mlctl_vcheck_file(&in);
		mlctl_vin_release(&in);
		if (mlctl_interrupted()) {
			rc = mlctl_err_interrupted(err);
			goto done;
		}
		if (in.failed) {
			rc = src.err.code;
			break;
		}
	}
	if (rc < 0) {
		/* a damaged or hostile entry: a finding, and the stream cannot go on */
		mlctl_report_add(rep, MLV023, MLCTL_SEV_ERROR, f ? f->path : "", "%s",
				 src.err.msg);
		rc = 0;
	}
	check_gates(rep, m->json, mlctl_manifest_total_size(m), o);
done:
	cJSON_Delete(root);
	mlctl_pkg_free(src.pkg);
	mlctl_buf_release(&text);
	return rc;
}

int mlctl_validate_path(struct mlctl_report *rep, const char *path,
			const struct mlctl_validate_opts *o, struct mlctl_err *err)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return mlctl_err_errno(err, MLCTL_ENOTFOUND, "cannot validate '%s'", path);
	if (S_ISDIR(st.st_mode))
		return validate_dir(rep, path, o, err);
	return validate_pkg(rep, path, o, err);
}

int mlctl_validate_damaged(const struct mlctl_report *rep, int is_package, struct mlctl_err *err)
{
	size_t i;

	for (i = 0; i < rep->nfindings; i++) {
		const struct mlctl_finding *f = &rep->findings[i];
		int flags = mlctl_check_info(f->check)->flags;

		if (f->severity != MLCTL_SEV_ERROR)
			continue;
		if (flags & MLCTL_CHECK_INTEGRITY) {
			if (strstr(f->message, rep->subject))
				mlctl_err_set(err, MLCTL_EINTEGRITY, "%s", f->message);
			else
				mlctl_err_set(err, MLCTL_EINTEGRITY, "'%s', file '%s': %s",
					      rep->subject, f->file, f->message);
			return 1;
		}
		if (is_package && (flags & MLCTL_CHECK_STRUCTURAL)) {
			mlctl_err_set(err, MLCTL_EINTEGRITY, "package '%s' has a broken mlctl.json: %s",
				      rep->subject, f->message);
			return 1;
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- registry */

/* A stored version: its manifest and its blobs, re-hashed. */
static int validate_stored(struct mlctl_report *rep, const char *root,
			   const struct mlctl_version_info *info, struct mlctl_manifest *m,
			   const struct mlctl_validate_opts *o, struct mlctl_err *err)
{
	struct mlctl_vproj proj = { index_lookup, m, m->json };
	size_t i;
	int rc = 0;

	snprintf(rep->digest, sizeof(rep->digest), "%s", info->digest);
	mlctl_report_ran(rep, MLV001, "mlctl.json");
	manifest_findings(rep, m->json, 1);
	for (i = 0; i < m->nfiles && !rc; i++) {
		const struct mlctl_file_entry *f = &m->files[i];
		struct mlctl_err berr = MLCTL_ERR_INIT;
		char *blob = mlctl_blob_path(root, f->sha256);
		uint64_t size = 0;

		if (mlctl_interrupted()) {
			free(blob);
			return mlctl_err_interrupted(err);
		}
		mlctl_report_ran(rep, MLV023, f->path);
		if (mlctl_blob_check(root, f->sha256, &size, &berr) || size != f->size) {
			mlctl_report_add(rep, MLV023, MLCTL_SEV_ERROR, f->path,
					 "stored content does not match the index (%s); run 'mlctl "
					 "registry verify'",
					 berr.msg[0] ? berr.msg : "size differs");
		} else {
			rc = check_fd_file(rep, &proj, f->path, blob, f->size, err);
		}
		free(blob);
	}
	if (!rc)
		check_gates(rep, m->json, mlctl_manifest_total_size(m), o);
	return rc;
}

int mlctl_validate_ref(struct mlctl_report *rep, struct mlctl_registry *r, const char *ref,
		       const struct mlctl_validate_opts *o, struct mlctl_err *err)
{
	struct mlctl_version_info info;
	struct mlctl_manifest m;
	int rc;

	if ((rc = mlctl_registry_resolve(r, &info, &m, ref, err)))
		return rc;
	rc = validate_stored(rep, mlctl_registry_root(r), &info, &m, o, err);
	mlctl_manifest_release(&m);
	mlctl_version_info_release(&info);
	return rc;
}

int mlctl_validate_target(struct mlctl_report *rep, struct mlctl_target *t,
			  const struct mlctl_validate_opts *o, struct mlctl_err *err)
{
	int rc;

	if (t->kind != MLCTL_TARGET_REF)
		return mlctl_validate_path(rep, t->word, o, err);
	if ((rc = mlctl_target_open(t, err)))
		return rc;
	return validate_stored(rep, mlctl_registry_root(t->reg), &t->info, &t->m, o, err);
}
