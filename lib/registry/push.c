/*
 * push.c - push a project folder or a package: stage blobs, commit to git, index.
 */
#define _GNU_SOURCE
#include "registry/internal.h"

#include <fcntl.h>
#include <search.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "blobstore.h"
#include "package.h"
#include "banned.h"

/* Blobs written to tmp/ by a push, installed only once the version is accepted. */
struct staging {
	char **paths;
	char (*shas)[65];
	size_t n, alloc;
	void *seen; /* the staged digests as a search tree (tsearch), so a lookup is not a scan */
};

static int sha_key_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void staging_add(struct staging *sg, char *path, const char *sha)
{
	if (!path)
		return;
	if (sg->n == sg->alloc) {
		sg->alloc = sg->alloc ? 2 * sg->alloc : 16;
		sg->paths = mlctl_realloc(sg->paths, sg->alloc * sizeof(*sg->paths));
		sg->shas = mlctl_realloc(sg->shas, sg->alloc * sizeof(*sg->shas));
	}
	sg->paths[sg->n] = path;
	memcpy(sg->shas[sg->n], sha, 65);
	sg->n++;
	if (!tfind(sha, &sg->seen, sha_key_cmp)) {
		char *key = mlctl_strdup(sha);

		if (!tsearch(key, &sg->seen, sha_key_cmp)) {
			fputs("mlctl: out of memory\n", stderr);
			abort();
		}
	}
}

static int staging_has(const struct staging *sg, const char *sha)
{
	return tfind(sha, &sg->seen, sha_key_cmp) != NULL;
}

int reg_install_blob(struct mlctl_registry *r, const char *staged, const char *sha, int *made,
		     struct mlctl_err *err)
{
	char *blob = mlctl_blob_path(r->root, sha), *dir = mlctl_dirname(blob);
	int had_dir = mlctl_is_dir(dir);
	int rc = mlctl_blob_install(r->root, staged, sha, made, err);

	r->installed = mlctl_realloc(r->installed, (r->ninstalled + 2) * sizeof(*r->installed));
	if (!had_dir && mlctl_is_dir(dir))
		r->installed[r->ninstalled++] = mlctl_strdup(dir);
	if (!rc && *made)
		r->installed[r->ninstalled++] = mlctl_strdup(blob);
	free(blob);
	free(dir);
	return rc;
}

/* Under the write lock: move the staged blobs into place, noting each one (and folder) made. */
static int staging_install(struct mlctl_registry *r, struct staging *sg, size_t *created,
			   struct mlctl_err *err)
{
	size_t i;
	int rc, made;

	for (i = 0; i < sg->n; i++) {
		if ((rc = reg_install_blob(r, sg->paths[i], sg->shas[i], &made, err)))
			return rc;
		if (made)
			(*created)++;
		free(sg->paths[i]);
		sg->paths[i] = NULL;
	}
	return 0;
}

/* Drop what was not installed, and free. */
static void staging_release(struct staging *sg)
{
	size_t i;

	for (i = 0; i < sg->n; i++) {
		mlctl_blob_discard(sg->paths[i]);
		free(sg->paths[i]);
	}
	free(sg->paths);
	free(sg->shas);
	tdestroy(sg->seen, free);
	memset(sg, 0, sizeof(*sg));
}

/* Stage one project file; its sha256 into f. */
static int store_project_file(struct mlctl_registry *r, struct mlctl_file_entry *f,
			      const char *dir, struct staging *sg, struct mlctl_err *err)
{
	char *full = mlctl_path_join(dir, f->path), *staged = NULL;
	uint64_t size;
	int fd, rc;

	fd = open(full, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = mlctl_err_errno(err, MLCTL_EIO, "cannot open '%s'", full);
		free(full);
		return rc;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	rc = mlctl_blob_put_fd(r->root, fd, full, f->sha256, &size, &staged, err);
	close(fd);
	if (!rc)
		staging_add(sg, staged, f->sha256);
	else
		mlctl_blob_discard(staged);
	if (!rc && size != f->size)
		rc = mlctl_err_set(err, MLCTL_EIO,
				   "'%s' changed while it was pushed; push again when it is no "
				   "longer being written",
				   full);
	free(full);
	return rc;
}

/*
 * Store one package entry, checking it against the index. A blob stored
 * already is only checked, not staged again, unless all is set.
 */
static int store_package_entry(struct mlctl_registry *r, struct mlctl_pkg_reader *pkg,
			       const struct mlctl_file_entry *f, const char *pkgpath, int all,
			       struct staging *sg, struct mlctl_err *err)
{
	struct mlctl_blob_writer *w = NULL;
	char *staged = NULL;
	int have = !all && mlctl_blob_trusted(r->root, f->sha256, f->size), rc;

	if ((rc = mlctl_blob_writer_open(&w, r->root, !have, err)))
		return rc;
	for (;;) {
		size_t cap;
		void *buf = mlctl_blob_writer_buf(w, &cap);
		ssize_t n = mlctl_pkg_read(pkg, buf, cap, err);

		if (n < 0) {
			mlctl_blob_writer_abort(w);
			return (int)n;
		}
		if (n == 0)
			break;
		if ((rc = mlctl_blob_writer_push(w, (size_t)n, err))) {
			mlctl_blob_writer_abort(w);
			return rc;
		}
	}
	rc = mlctl_blob_writer_commit(w, NULL, f->sha256, NULL, &staged, err);
	if (rc == MLCTL_EINTEGRITY)
		rc = mlctl_err_set(err, MLCTL_EINTEGRITY,
				   "package '%s' has content that does not match its digest for '%s'; "
				   "it is damaged: rebuild it with 'mlctl package'",
				   pkgpath, f->path);
	if (!rc)
		staging_add(sg, staged, f->sha256);
	else
		mlctl_blob_discard(staged);
	return rc;
}

static void fill_result(struct mlctl_push_result *res, const struct mlctl_manifest *m,
			const char *digest)
{
	snprintf(res->name, sizeof(res->name), "%s", m->name);
	snprintf(res->version, sizeof(res->version), "%s", m->version);
	snprintf(res->digest, sizeof(res->digest), "%s", digest);
}

/*
 * Is m's version stored already? 0 when not; 1 when it is, with this
 * digest (res filled, existed set); MLCTL_ECONFLICT with another digest.
 */
static int check_existing(struct mlctl_registry *r, const struct mlctl_manifest *m,
			  const char *digest, struct mlctl_push_result *res, struct mlctl_err *err)
{
	char have[72];
	int rc = reg_version_field(r, have, sizeof(have), "digest", m->name, m->version, err);

	if (rc != 1)
		return rc;
	if (strcmp(have, digest))
		return mlctl_err_set(err, MLCTL_ECONFLICT,
				     "version '%s' of '%s' exists with another digest; versions are "
				     "immutable: bump the version (or push with --bump patch)",
				     m->version, m->name);
	res->existed = 1;
	fill_result(res, m, digest);
	return 1;
}

/* Highest stored version of name ("" when none). */
static int highest_version(struct mlctl_registry *r, char out[256], char digest[72],
			   const char *name, struct mlctl_err *err)
{
	struct mlctl_version_info *v = NULL;
	size_t n = 0;
	int rc = mlctl_registry_versions(r, &v, &n, name, err);

	out[0] = digest[0] = '\0';
	if (rc == MLCTL_ENOTFOUND) {
		mlctl_err_clear(err);
		return 0;
	}
	if (rc)
		return rc;
	snprintf(out, 256, "%s", v[0].version);
	snprintf(digest, 72, "%s", v[0].digest);
	mlctl_version_infos_free(v, n);
	return 0;
}

static int unprune(struct mlctl_registry *r, const struct mlctl_manifest *m,
		   struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = reg_db_prepare(r, &st, "DELETE FROM pruned WHERE model = ? AND version = ?",
				 err)))
		return rc;
	sqlite3_bind_text(st, 1, m->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, m->version, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : reg_db_fail(err, r->db, "registry database");
	sqlite3_finalize(st);
	return rc;
}

/* A model deprecated takes no new version (MLCTL_EGATE), until it is undeprecated. */
static int refuse_deprecated(struct mlctl_registry *r, const char *name, struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc, s;

	if ((rc = reg_db_prepare(r, &st, "SELECT deprecated FROM models WHERE name = ?", err)))
		return rc;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	s = sqlite3_step(st);
	if (s == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		rc = mlctl_err_set(err, MLCTL_EGATE,
				   "model '%s' is deprecated and takes no new version; see 'mlctl "
				   "history %s', or take it back with 'mlctl undeprecate %s'",
				   name, name, name);
	else if (s != SQLITE_ROW && s != SQLITE_DONE)
		rc = reg_db_fail(err, r->db, "registry database");
	sqlite3_finalize(st);
	return rc;
}

/*
 * Under the write lock: settle the version, make its git commit and tag (in
 * memory) and its rows, and only then, when nothing but I/O can fail any
 * more, install the blobs and let reg_end_write write git and COMMIT; a
 * failure there undoes the lot. A blob the package's push did not stage
 * because it was stored, and that is gone now ('registry gc' removed it as
 * an orphan), sets *vanished: the caller stages everything and tries again.
 */
static int commit_version(struct mlctl_registry *r, struct mlctl_manifest *m,
			  struct mlctl_push_result *res, const char *bump, int validated,
			  struct staging *sg, int *vanished, struct mlctl_err *err)
{
	char digest[72], top[256], top_digest[72], head[41];
	char *actor = mlctl_actor(), *pretty = NULL, *path = NULL, *tag = NULL, *msg = NULL;
	struct mlctl_git_change ch;
	struct event ev;
	cJSON *evj = NULL;
	int64_t now = mlctl_now();
	size_t i, healed = 0;
	int rc;

	if ((rc = reg_begin_write(r, err)))
		goto done;
	if ((rc = reg_catch_up_locked(r, NULL, err)))
		goto done;
	if (bump) {
		if ((rc = highest_version(r, top, top_digest, m->name, err)))
			goto done;
		if (*top) {
			char *next = NULL;

			mlctl_manifest_set_version(m, top);
			mlctl_manifest_digest(m, digest);
			if (!strcmp(digest, top_digest)) {
				/* same content as the latest version: nothing to bump */
				res->existed = 1;
				fill_result(res, m, digest);
				goto done;
			}
			if ((rc = mlctl_semver_bump(&next, top, bump, err)))
				goto done;
			mlctl_manifest_set_version(m, next);
			free(next);
		}
	}
	mlctl_manifest_digest(m, digest);
	if ((rc = check_existing(r, m, digest, res, err))) {
		/* the version is stored: its blobs that are missing or corrupt take these bytes */
		if (rc == 1 && !(rc = staging_install(r, sg, &healed, err))) {
			rc = unprune(r, m, err); /* pruned here: its bytes are back */
			res->blobs_written = healed;
		}
		goto done;
	}
	if ((rc = refuse_deprecated(r, m->name, err)))
		goto done;
	for (i = 0; i < m->nfiles; i++)
		if (!staging_has(sg, m->files[i].sha256) &&
		    !mlctl_blob_exists(r->root, m->files[i].sha256)) {
			*vanished = 1;
			rc = mlctl_err_set(err, MLCTL_EIO,
					   "blob sha256:%s of '%s' was removed while it was pushed; "
					   "push again",
					   m->files[i].sha256, m->files[i].path);
			goto done;
		}
	/* accepted: git (the source of truth) and the rows, not written yet */
	pretty = mlctl_manifest_pretty(m, 1);
	path = reg_version_path(m->name, m->version);
	ch.path = path;
	ch.data = pretty;
	ch.len = strlen(pretty);
	evj = cJSON_CreateObject();
	cJSON_AddStringToObject(evj, "type", "push");
	cJSON_AddStringToObject(evj, "model", m->name);
	cJSON_AddStringToObject(evj, "version", m->version);
	cJSON_AddStringToObject(evj, "digest", digest);
	cJSON_AddStringToObject(evj, "actor", actor);
	cJSON_AddNumberToObject(evj, "time", (double)now);
	if (!validated)
		cJSON_AddFalseToObject(evj, "validated");
	msg = mlctl_aprintf("push %s %s", m->name, m->version);
	if ((rc = reg_git_event(r, head, &ch, 1, evj, msg, actor, now, err)))
		goto done;
	memset(&ev, 0, sizeof(ev));
	ev.type = "push";
	ev.model = m->name;
	ev.version = m->version;
	ev.digest = digest;
	ev.actor = actor;
	ev.time = now;
	ev.validated = validated;
	if ((rc = reg_insert_version(r, m, digest, actor, now, head, validated, err)) ||
	    (rc = reg_tag_push(r, &ev, head, err)) ||
	    (rc = reg_insert_event(r, &ev, head, err)) || (rc = reg_notify(r, evj, err)) ||
	    (rc = reg_meta_set(r, "git_head", head, err)))
		goto done;
	/* the blobs go in place before git names them; from here on a failure is undone */
	if ((rc = reg_reserve_space(r, err)) ||
	    (rc = staging_install(r, sg, &res->blobs_written, err)))
		goto done;
	mlctl_fault("blobs-installed");
done:
	rc = reg_end_write(r, rc, err);
	if (!rc && !res->existed)
		fill_result(res, m, digest);
	if (rc)
		res->blobs_written = 0;
	cJSON_Delete(evj);
	free(actor);
	free(pretty);
	free(path);
	free(tag);
	free(msg);
	return rc;
}

static int push_dir(struct mlctl_registry *r, struct mlctl_push_result *res, const char *dir,
		    const char *bump, int validated, struct mlctl_err *err)
{
	struct mlctl_manifest m;
	struct mlctl_file_entry *files = NULL;
	struct staging sg = { NULL, NULL, 0, 0, NULL };
	size_t n = 0, i;
	int rc, vanished = 0;

	if ((rc = mlctl_manifest_load(&m, dir, NULL, err)))
		return rc;
	if ((rc = mlctl_project_collect(&files, &n, dir, &m, err)) || (rc = reg_claim_tmp(r, err)))
		goto done;
	for (i = 0; i < n; i++) {
		if ((rc = store_project_file(r, &files[i], dir, &sg, err)))
			goto done;
		res->size += files[i].size;
	}
	res->nfiles = n;
	mlctl_manifest_set_files(&m, files, n);
	files = NULL;
	mlctl_fault("blobs-staged");
	rc = commit_version(r, &m, res, bump, validated, &sg, &vanished, err);
done:
	staging_release(&sg);
	mlctl_file_entries_free(files, n);
	mlctl_manifest_release(&m);
	return rc;
}

static int push_pkg(struct mlctl_registry *r, struct mlctl_push_result *res, const char *path,
		    const char *bump, int validated, int all, struct mlctl_err *err)
{
	struct mlctl_pkg_reader *pkg = NULL;
	struct mlctl_manifest *m;
	const struct mlctl_file_entry *f;
	struct staging sg = { NULL, NULL, 0, 0, NULL };
	char digest[72];
	int rc, vanished = 0;

	if ((rc = mlctl_pkg_open(&pkg, path, 0, err)))
		return rc;
	m = mlctl_pkg_manifest(pkg);
	res->nfiles = m->nfiles;
	res->size = mlctl_manifest_total_size(m);
	if (!bump) {
		/* the digest is known from the first entry: a re-push reads nothing more,
		 * unless files of the version are missing here (pruned, lost): then the
		 * package's bytes put them back, as a folder's do */
		size_t i, missing = 0;

		mlctl_manifest_digest(m, digest);
		if ((rc = check_existing(r, m, digest, res, err)) < 0)
			goto done;
		for (i = 0; rc == 1 && i < m->nfiles; i++)
			missing += !mlctl_blob_exists(r->root, m->files[i].sha256);
		if (rc == 1 && !missing) {
			rc = 0;
			goto done;
		}
		res->existed = 0;
	}
	if ((rc = reg_claim_tmp(r, err)))
		goto done;
	while ((rc = mlctl_pkg_next(pkg, &f, err)) == 1)
		if ((rc = store_package_entry(r, pkg, f, path, all, &sg, err)))
			goto done;
	if (rc < 0)
		goto done;
	mlctl_fault("blobs-staged");
	rc = commit_version(r, m, res, bump, validated, &sg, &vanished, err);
done:
	staging_release(&sg);
	mlctl_pkg_free(pkg);
	if (vanished && !all) {
		/* a blob it counted on was removed as garbage meanwhile: stage every file */
		mlctl_err_clear(err);
		memset(res, 0, sizeof(*res));
		return push_pkg(r, res, path, bump, validated, 1, err);
	}
	return rc;
}

int mlctl_registry_push(struct mlctl_registry *r, struct mlctl_push_result *res,
			const char *src, const char *bump, int validated, struct mlctl_err *err)
{
	struct stat st;

	memset(res, 0, sizeof(*res));
	if (bump && strcmp(bump, "major") && strcmp(bump, "minor") && strcmp(bump, "patch"))
		return mlctl_err_set(err, MLCTL_EUSAGE,
				     "--bump '%s' is not known; use major, minor or patch", bump);
	if (stat(src, &st) < 0)
		return mlctl_err_errno(err, MLCTL_ENOTFOUND, "cannot push '%s'", src);
	if (S_ISDIR(st.st_mode))
		return push_dir(r, res, src, bump, validated, err);
	return push_pkg(r, res, src, bump, validated, 0, err);
}
