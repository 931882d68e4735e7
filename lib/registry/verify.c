/*
 * verify.c - registry verify: git, blobs and the database checked against each other.
 */
#define _GNU_SOURCE
#include "registry/internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "blobstore.h"
#include "banned.h"

void reg_problem(struct mlctl_verify_report *rep, const char *msg)
{
	mlctl_buf_printf(&rep->problems, "%s\n", msg);
	rep->nproblems++;
}

struct git_versions {
	struct mlctl_registry *r;
	struct mlctl_verify_report *rep;
	size_t n, records, aliases;
	size_t skipped; /* versions in git whose push the replay skipped */
};

/* models/NAME/aliases.json against the database's aliases of NAME. */
static void verify_aliases(struct git_versions *gv, const char *path, const char *data,
			   size_t len)
{
	char *name = mlctl_strndup(path + 7, strlen(path) - 7 - 13), *msg;
	cJSON *doc = cJSON_ParseWithLength(data, len), *a;
	struct mlctl_err perr = MLCTL_ERR_INIT;

	if (!cJSON_IsObject(doc)) {
		msg = mlctl_aprintf("%s in git is not a JSON object", path);
		reg_problem(gv->rep, msg);
		free(msg);
		cJSON_Delete(doc);
		free(name);
		return;
	}
	cJSON_ArrayForEach(a, doc) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(a, "version");
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(a, "digest");
		char version[256], digest[72];
		int64_t moves;

		gv->aliases++;
		if (reg_alias_state(gv->r, name, a->string, version, digest, &moves, &perr)) {
			reg_problem(gv->rep, perr.msg);
			continue;
		}
		if (!cJSON_IsString(v) || !cJSON_IsString(d) || strcmp(v->valuestring, version) ||
		    strcmp(d->valuestring, digest)) {
			msg = mlctl_aprintf("alias %s of %s points at %s in git but at %s in the "
					    "database; run 'mlctl registry reindex'",
					    a->string, name,
					    cJSON_IsString(v) ? v->valuestring : "?",
					    *version ? version : "nothing");
			reg_problem(gv->rep, msg);
			free(msg);
		}
	}
	cJSON_Delete(doc);
	free(name);
}

/* Was a push of NAME:VERSION skipped by the replay? (verify has said so already) */
static int push_skipped(struct mlctl_registry *r, const char *name, const char *version)
{
	sqlite3_stmt *st = NULL;
	struct mlctl_err perr = MLCTL_ERR_INIT;
	int found;

	if (reg_db_prepare(r, &st,
			   "SELECT 1 FROM events WHERE type = 'skipped' AND model = ? AND version = ?",
			   &perr))
		return 0;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, version, -1, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

/* Prepare sql, whose two parameters are m's name and version. */
static int version_query(struct mlctl_registry *r, sqlite3_stmt **st, const char *sql,
			 const struct mlctl_manifest *m, struct mlctl_err *err)
{
	int rc = reg_db_prepare(r, st, sql, err);

	if (!rc) {
		sqlite3_bind_text(*st, 1, m->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(*st, 2, m->version, -1, SQLITE_STATIC);
	}
	return rc;
}

/*
 * The database's copy of a version against git's manifest m: its stored
 * manifest has the same digest, and its files rows are m's files index, row
 * for row (both sorted by path).
 */
static void verify_db_copy(struct git_versions *gv, const struct mlctl_manifest *m,
			   const char *digest)
{
	struct mlctl_err perr = MLCTL_ERR_INIT;
	sqlite3_stmt *st = NULL;
	const char *why = NULL;
	char *msg, bad[sizeof(perr.msg) + 48];
	size_t i = 0;
	int s;

	if (version_query(gv->r, &st,
			  "SELECT v.manifest FROM versions v JOIN models mo ON mo.id = v.model_id "
			  "WHERE mo.name = ? AND v.version = ?",
			  m, &perr))
		goto fail;
	if (sqlite3_step(st) == SQLITE_ROW) {
		struct mlctl_manifest dm;
		char dd[72];

		if (mlctl_manifest_parse(&dm, (const char *)sqlite3_column_text(st, 0),
					 (size_t)sqlite3_column_bytes(st, 0), "the database",
					 MLCTL_MANIFEST_STORED, NULL, &perr)) {
			snprintf(bad, sizeof(bad), "its manifest there is refused (%s)", perr.msg);
			mlctl_err_clear(&perr);
			why = bad;
		} else {
			mlctl_manifest_digest(&dm, dd);
			if (strcmp(dd, digest))
				why = "its manifest there is not the one in git";
			mlctl_manifest_release(&dm);
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	if (!why) {
		if (version_query(gv->r, &st,
				  "SELECT f.path, f.size, f.mode, f.sha256 FROM files f JOIN versions "
				  "v ON v.id = f.version_id JOIN models mo ON mo.id = v.model_id "
				  "WHERE mo.name = ? AND v.version = ? ORDER BY f.path",
				  m, &perr))
			goto fail;
		while (!why && (s = sqlite3_step(st)) == SQLITE_ROW) {
			const struct mlctl_file_entry *f = i < m->nfiles ? &m->files[i] : NULL;
			const char *path = (const char *)sqlite3_column_text(st, 0);
			const char *sha = (const char *)sqlite3_column_text(st, 3);

			if (!f || !path || !sha || strcmp(path, f->path) ||
			    strcmp(sha, f->sha256) ||
			    (uint64_t)sqlite3_column_int64(st, 1) != f->size ||
			    (unsigned)sqlite3_column_int64(st, 2) != f->mode)
				why = "its files there are not the ones its manifest in git lists";
			i++;
		}
		if (!why && i != m->nfiles)
			why = "its files there are not the ones its manifest in git lists";
		sqlite3_finalize(st);
	}
	if (why) {
		msg = mlctl_aprintf("%s:%s in the database does not match git: %s; run 'mlctl "
				    "registry reindex'", m->name, m->version, why);
		reg_problem(gv->rep, msg);
		free(msg);
	}
	return;
fail:
	sqlite3_finalize(st);
	reg_problem(gv->rep, perr.msg);
}

static int verify_git_file(void *payload, const char *path, const char *data, size_t len,
			   struct mlctl_err *err)
{
	struct git_versions *gv = payload;
	struct mlctl_manifest m;
	struct mlctl_err perr = MLCTL_ERR_INIT;
	char digest[72], have[72], *msg;
	size_t plen = strlen(path);
	int rc;

	(void)err;
	if (!strncmp(path, "models/", 7) && plen > 20 &&
	    !strcmp(path + plen - 13, "/aliases.json")) {
		verify_aliases(gv, path, data, len);
		return 0;
	}
	if (!strncmp(path, "models/", 7) && strstr(path, "/records/")) {
		gv->records++;
		return 0;
	}
	if (strncmp(path, "models/", 7) || plen < 5 || strcmp(path + plen - 5, ".json") ||
	    !strstr(path, "/versions/"))
		return 0;
	gv->n++;
	if (mlctl_manifest_parse(&m, data, len, path, MLCTL_MANIFEST_STORED, NULL, &perr)) {
		reg_problem(gv->rep, perr.msg);
		return 0;
	}
	mlctl_manifest_digest(&m, digest);
	rc = reg_version_field(gv->r, have, sizeof(have), "digest", m.name, m.version, &perr);
	if (rc == 0 && push_skipped(gv->r, m.name, m.version)) {
		gv->skipped++;
	} else if (rc == 0) {
		msg = mlctl_aprintf("%s:%s is in git but not in the database; run 'mlctl registry "
				    "reindex'", m.name, m.version);
		reg_problem(gv->rep, msg);
		free(msg);
	} else if (rc == 1 && strcmp(have, digest)) {
		msg = mlctl_aprintf("%s:%s has digest %s in git but %s in the database; run "
				    "'mlctl registry reindex'", m.name, m.version, digest, have);
		reg_problem(gv->rep, msg);
		free(msg);
	} else if (rc == 1) {
		verify_db_copy(gv, &m, digest);
	} else if (rc < 0) {
		reg_problem(gv->rep, perr.msg);
	}
	mlctl_manifest_release(&m);
	return 0;
}

struct blob_verify {
	struct mlctl_registry *r;
	struct mlctl_verify_report *rep;
};

static void on_blob_verify(void *ctx, const char *fan, const char *name, const char *path)
{
	struct blob_verify *bv = ctx;
	struct mlctl_err berr = MLCTL_ERR_INIT;
	char *msg;

	(void)path;
	if (!mlctl_is_sha256_hex(name) || strncmp(name, fan, 2)) {
		msg = mlctl_aprintf("stray file blobs/sha256/%s/%s; remove it", fan, name);
		reg_problem(bv->rep, msg);
		free(msg);
		return;
	}
	bv->rep->blobs++;
	if (mlctl_blob_check(bv->r->root, name, NULL, &berr)) {
		reg_problem(bv->rep, berr.msg);
		/* so that the next push or repair with the good bytes replaces it */
		if (berr.code == MLCTL_EINTEGRITY)
			mlctl_blob_flag(bv->r->root, name);
	}
}

static void verify_blobs(struct mlctl_registry *r, struct mlctl_verify_report *rep)
{
	struct blob_verify bv = { r, rep };

	if (mlctl_blob_walk(r->root, on_blob_verify, &bv, 0) < 0)
		reg_problem(rep, "blobs/sha256 is missing");
}

/* A missing or unreadable git object: a problem line naming it and what referred to it. */
static void on_bad_object(void *payload, const char *id, const char *type, const char *what,
			  const char *from)
{
	struct mlctl_verify_report *rep = payload;
	char *msg = mlctl_aprintf("git %s %s is %s, referred to by %s; restore index.git from a "
				  "backup or a clone", type, id, what, from);

	reg_problem(rep, msg);
	free(msg);
}

/* PRAGMA quick_check: pages, indexes and rows of mlctl.db as SQLite reads them. */
static void verify_db_file(struct mlctl_registry *r, struct mlctl_verify_report *rep)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *t;
	char *msg = NULL;
	int s;

	if (sqlite3_prepare_v2(r->db, "PRAGMA quick_check(1)", -1, &st, NULL) != SQLITE_OK) {
		msg = mlctl_aprintf("registry database '%s/mlctl.db' cannot be read (%s); "
				    "rebuild it from index.git with 'mlctl registry reindex'",
				    r->root, sqlite3_errmsg(r->db));
	} else if ((s = sqlite3_step(st)) != SQLITE_ROW ||
		   !(t = sqlite3_column_text(st, 0)) || strcmp((const char *)t, "ok")) {
		msg = mlctl_aprintf("registry database '%s/mlctl.db' is damaged (%s); rebuild it "
				    "from index.git with 'mlctl registry reindex'",
				    r->root,
				    s == SQLITE_ROW && sqlite3_column_text(st, 0)
					    ? (const char *)sqlite3_column_text(st, 0)
					    : sqlite3_errmsg(r->db));
	}
	sqlite3_finalize(st);
	if (msg)
		reg_problem(rep, msg);
	free(msg);
}

/* Skipped events (the replay went past them) as verify's problems. */
static int verify_skipped(struct mlctl_registry *r, struct mlctl_verify_report *rep,
			  struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	char *msg;
	int rc, s;

	if ((rc = reg_db_prepare(r, &st,
				 "SELECT git_commit, reason FROM events WHERE type = 'skipped' "
				 "ORDER BY id",
				 err)))
		return rc;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		msg = mlctl_aprintf("commit %.12s of the registry's history was skipped (%s); "
				    "everything else is served, that event is not",
				    (const char *)sqlite3_column_text(st, 0),
				    (const char *)sqlite3_column_text(st, 1));
		reg_problem(rep, msg);
		free(msg);
	}
	if (s != SQLITE_DONE)
		rc = reg_db_fail(err, r->db, "registry database");
	sqlite3_finalize(st);
	return rc;
}

/* The database's side of verify: it matches git, and names blobs that are there. */
static int verify_db(struct mlctl_registry *r, struct mlctl_verify_report *rep,
		     struct git_versions *gv, const char *head, struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	char db_head[64], *msg;
	int rc, s;

	if ((rc = reg_meta_get(r, db_head, sizeof(db_head), "git_head", err)))
		return rc;
	if (strcmp(head, db_head)) {
		msg = mlctl_aprintf("database reflects commit '%.12s' but git is at '%.12s'; run "
				    "'mlctl registry reindex'", db_head, head);
		reg_problem(rep, msg);
		free(msg);
	}
	if ((rc = verify_skipped(r, rep, err)))
		return rc;
	/* every version in the database is in git, and its files are stored */
	if ((rc = reg_db_prepare(r, &st,
				 "SELECT m.name, v.version, (SELECT count(*) FROM files f WHERE "
				 "f.version_id = v.id), v.nfiles FROM versions v JOIN models m ON "
				 "m.id = v.model_id",
				 err)))
		return rc;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		rep->versions++;
		if (sqlite3_column_int64(st, 2) != sqlite3_column_int64(st, 3)) {
			msg = mlctl_aprintf("%s:%s lists %lld files but has %lld in the database",
					    sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
					    (long long)sqlite3_column_int64(st, 3),
					    (long long)sqlite3_column_int64(st, 2));
			reg_problem(rep, msg);
			free(msg);
		}
	}
	sqlite3_finalize(st);
	if ((rc = reg_db_prepare(r, &st, "SELECT count(*) FROM records", err)))
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW &&
	    (size_t)sqlite3_column_int64(st, 0) != gv->records) {
		msg = mlctl_aprintf("the database has %lld records but git has %zu; run 'mlctl "
				    "registry reindex'", (long long)sqlite3_column_int64(st, 0),
				    gv->records);
		reg_problem(rep, msg);
		free(msg);
	}
	sqlite3_finalize(st);
	if ((rc = reg_db_prepare(r, &st, "SELECT count(*) FROM aliases", err)))
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW &&
	    (size_t)sqlite3_column_int64(st, 0) != gv->aliases) {
		msg = mlctl_aprintf("the database has %lld aliases but git has %zu; run 'mlctl "
				    "registry reindex'", (long long)sqlite3_column_int64(st, 0),
				    gv->aliases);
		reg_problem(rep, msg);
		free(msg);
	}
	sqlite3_finalize(st);
	if (rep->versions != gv->n - gv->skipped) {
		msg = mlctl_aprintf("the database has %zu versions but git has %zu; run 'mlctl "
				    "registry reindex'", rep->versions, gv->n - gv->skipped);
		reg_problem(rep, msg);
		free(msg);
	}
	if ((rc = reg_db_prepare(r, &st,
				 "SELECT m.name, v.version, f.path, f.sha256, f.size FROM files f "
				 "JOIN versions v ON v.id = f.version_id JOIN models m ON "
				 "m.id = v.model_id WHERE NOT EXISTS (SELECT 1 FROM pruned p WHERE "
				 "p.model = m.name AND p.version = v.version)",
				 err)))
		return rc;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const char *sha = (const char *)sqlite3_column_text(st, 3);
		char *p = mlctl_blob_path(r->root, sha);
		struct stat sb;

		rep->files++;
		if (stat(p, &sb) < 0) {
			msg = mlctl_aprintf("%s:%s file '%s' has no blob (sha256:%s); push the "
					    "version again or run 'mlctl registry verify --repair "
					    "--from DIR|PKG' to restore it",
					    sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
					    sqlite3_column_text(st, 2), sha);
			reg_problem(rep, msg);
			free(msg);
		} else if ((sqlite3_int64)sb.st_size != sqlite3_column_int64(st, 4)) {
			msg = mlctl_aprintf("%s:%s file '%s': blob size %lld, index says %lld; push a "
					    "good copy or run 'mlctl registry verify --repair --from "
					    "DIR|PKG'",
					    sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
					    sqlite3_column_text(st, 2), (long long)sb.st_size,
					    (long long)sqlite3_column_int64(st, 4));
			reg_problem(rep, msg);
			free(msg);
		}
		free(p);
	}
	sqlite3_finalize(st);
	return 0;
}

int mlctl_registry_verify(struct mlctl_registry *r, struct mlctl_verify_report *rep,
			  int repair_blobs, const char *const *from, size_t nfrom,
			  struct mlctl_err *err)
{
	struct git_versions gv = { r, rep, 0, 0, 0, 0 };
	char head[41];
	size_t nbad = 0;
	int rc;

	memset(rep, 0, sizeof(*rep));
	if ((rc = mlctl_git_head(r->git, head, err)))
		return rc;
	if (repair_blobs && (rc = reg_repair(r, rep, head, from, nfrom, err)))
		return rc;
	if (r->db_problem)
		reg_problem(rep, r->db_problem);
	else
		verify_db_file(r, rep);
	if (mlctl_git_check_objects(r->git, &rep->git_objects, &nbad, on_bad_object, rep, err))
		reg_problem(rep, err->msg);
	if (*head && r->db && mlctl_git_files(r->git, head, verify_git_file, &gv, err))
		reg_problem(rep, err->msg);
	if (r->db && (rc = verify_db(r, rep, &gv, head, err)))
		return rc;
	verify_blobs(r, rep);
	/* under the write lock, so a write between installing blobs and COMMIT is not garbage
	 * (a registry the user cannot write has no writer to wait for); past a missing
	 * object nothing tells garbage apart: no garbage warnings then */
	rc = 0;
	if (r->db && !nbad && (r->readonly || (rc = reg_begin_write(r, err)) == 0))
		rc = reg_end_write(r, reg_collect_garbage(r, &rep->garbage, 0, err), err);
	if (rc)
		reg_problem(rep, err->msg);
	mlctl_err_clear(err);
	if (rep->nproblems)
		return mlctl_err_set(err, MLCTL_EINTEGRITY,
				     "registry '%s' has %zu problem%s (listed above): heal blobs "
				     "with 'mlctl registry verify --repair --from DIR|PKG', rebuild "
				     "the index with 'mlctl registry reindex'",
				     r->root, rep->nproblems, rep->nproblems == 1 ? "" : "s");
	return 0;
}

void mlctl_verify_report_release(struct mlctl_verify_report *rep)
{
	mlctl_buf_release(&rep->problems);
	mlctl_buf_release(&rep->healed);
	mlctl_garbage_release(&rep->garbage);
}

/* The first bad object, for reindex's refusal. */
