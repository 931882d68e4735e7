/*
 * gc.c - garbage: blobs and git objects nothing names, and leftovers of dead runs.
 */
#define _GNU_SOURCE
#include "registry/internal.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "blobstore.h"
#include "banned.h"

/* A sorted set of sha256 hex digests. */
struct sha_set {
	char (*v)[65];
	size_t n, alloc;
};

static void sha_set_add(struct sha_set *set, const char *sha)
{
	if (!mlctl_is_sha256_hex(sha))
		return;
	if (set->n == set->alloc) {
		set->alloc = set->alloc ? 2 * set->alloc : 64;
		set->v = mlctl_realloc(set->v, set->alloc * sizeof(*set->v));
	}
	memcpy(set->v[set->n++], sha, 65);
}

static int sha_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int sha_set_has(const struct sha_set *set, const char *sha)
{
	return set->n && bsearch(sha, set->v, set->n, sizeof(*set->v), sha_cmp) != NULL;
}

struct named {
	struct mlctl_registry *r;
	struct sha_set *set;
};

/* Every blob a version's manifest in git's tip names (but a version pruned here). */
static int named_in_git(void *payload, const char *path, const char *data, size_t len,
			struct mlctl_err *err)
{
	struct named *nm = payload;
	struct sha_set *set = nm->set;
	struct mlctl_manifest m;
	size_t plen = strlen(path), i;
	int pruned;

	if (strncmp(path, "models/", 7) || plen < 5 || strcmp(path + plen - 5, ".json") ||
	    !strstr(path, "/versions/"))
		return 0;
	if (mlctl_manifest_parse(&m, data, len, path, MLCTL_MANIFEST_STORED, NULL, err))
		return mlctl_err_set(err, MLCTL_EINTEGRITY,
				     "%s in git cannot be read, so the blobs it names are unknown; "
				     "run 'mlctl registry verify'",
				     path);
	pruned = reg_pruned(nm->r, m.name, m.version);
	for (i = 0; pruned == 0 && i < m.nfiles; i++)
		sha_set_add(set, m.files[i].sha256);
	mlctl_manifest_release(&m);
	return pruned < 0 ? reg_db_fail(err, nm->r->db, "registry database") : 0;
}

/* What no blob may be removed from under: every file of every version, in the database and in git. */
static int named_blobs(struct mlctl_registry *r, struct sha_set *set, struct mlctl_err *err)
{
	struct named nm = { r, set };
	sqlite3_stmt *st = NULL;
	char head[41];
	int rc, s;

	if ((rc = reg_db_prepare(r, &st,
				 "SELECT DISTINCT f.sha256 FROM files f JOIN versions v ON "
				 "v.id = f.version_id JOIN models m ON m.id = v.model_id WHERE NOT "
				 "EXISTS (SELECT 1 FROM pruned p WHERE p.model = m.name AND "
				 "p.version = v.version)",
				 err)))
		return rc;
	while ((s = sqlite3_step(st)) == SQLITE_ROW)
		sha_set_add(set, (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (s != SQLITE_DONE)
		return reg_db_fail(err, r->db, "registry database");
	if ((rc = mlctl_git_head(r->git, head, err)))
		return rc;
	if (*head && (rc = mlctl_git_files(r->git, head, named_in_git, &nm, err)))
		return rc;
	if (set->n)
		qsort(set->v, set->n, sizeof(*set->v), sha_cmp);
	return 0;
}

static void garbage_add(struct mlctl_garbage *g, char *path)
{
	g->paths = mlctl_realloc(g->paths, (g->npaths + 1) * sizeof(*g->paths));
	g->paths[g->npaths++] = path;
}

static void on_tmp_leftover(void *payload, const char *name, uint64_t bytes)
{
	struct mlctl_garbage *g = payload;

	g->tmp++;
	g->tmp_bytes += bytes;
	garbage_add(g, mlctl_aprintf("tmp/%s", name));
}

static void on_git_garbage(void *payload, const char *path, uint64_t bytes)
{
	struct mlctl_garbage *g = payload;

	g->git_objects++;
	g->git_bytes += bytes;
	garbage_add(g, mlctl_aprintf("index.git/%s", path));
}

static int path_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Under the write lock: find the blobs nothing names, git objects no ref
 * reaches and tmp/'s leftovers, and with remove set, delete them (and the
 * folders they leave empty).
 */
struct blob_garbage {
	struct mlctl_garbage *g;
	const struct sha_set *named;
	int remove;
};

static void on_blob_garbage(void *ctx, const char *fan, const char *name, const char *path)
{
	struct blob_garbage *bg = ctx;
	struct stat st;

	/* anything else there is a problem for verify, not garbage */
	if (!mlctl_is_sha256_hex(name) || strncmp(name, fan, 2) || sha_set_has(bg->named, name))
		return;
	if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && (!bg->remove || unlink(path) == 0)) {
		bg->g->blobs++;
		bg->g->blob_bytes += (uint64_t)st.st_size;
		garbage_add(bg->g, mlctl_aprintf("blobs/sha256/%s/%s", fan, name));
		mlctl_fault("gc-blob");
	}
}

int reg_pruned(struct mlctl_registry *r, const char *name, const char *version)
{
	sqlite3_stmt *st = NULL;
	int s;

	if (sqlite3_prepare_v2(r->db, "SELECT 1 FROM pruned WHERE model = ? AND version = ?", -1,
			       &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, version, -1, SQLITE_STATIC);
	s = sqlite3_step(st);
	sqlite3_finalize(st);
	return s == SQLITE_ROW ? 1 : s == SQLITE_DONE ? 0 : -1;
}

int reg_collect_garbage(struct mlctl_registry *r, struct mlctl_garbage *g, int remove,
			struct mlctl_err *err)
{
	struct sha_set named = { NULL, 0, 0 };
	struct blob_garbage bg = { g, &named, remove };
	int rc;

	if ((rc = named_blobs(r, &named, err)))
		goto done;
	mlctl_blob_walk(r->root, on_blob_garbage, &bg, remove);
	if (!(rc = mlctl_git_garbage(r->git, remove, on_git_garbage, g, err)))
		rc = mlctl_tmp_leftovers(r->root, remove, on_tmp_leftover, g, err);
	if (g->npaths)
		qsort(g->paths, g->npaths, sizeof(*g->paths), path_cmp);
done:
	free(named.v);
	return rc;
}

void mlctl_garbage_release(struct mlctl_garbage *g)
{
	size_t i;

	for (i = 0; i < g->npaths; i++)
		free(g->paths[i]);
	free(g->paths);
	for (i = 0; i < g->npruned; i++)
		free(g->pruned[i]);
	free(g->pruned);
	memset(g, 0, sizeof(*g));
}

/*
 * Inside the write: note as pruned every deprecated version (or version of a
 * deprecated model) that no alias ever held, each into g->pruned.
 */
static int prune_deprecated(struct mlctl_registry *r, struct mlctl_garbage *g,
			    struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL, *ins = NULL;
	char *actor = mlctl_actor();
	int rc, s;

	if ((rc = reg_db_prepare(r, &st,
				 "SELECT m.name, v.version, v.digest FROM versions v JOIN models m ON "
				 "m.id = v.model_id WHERE (v.deprecated IS NOT NULL OR m.deprecated "
				 "IS NOT NULL) AND NOT EXISTS (SELECT 1 FROM alias_moves a WHERE "
				 "a.model = m.name AND a.digest = v.digest AND a.version IS NOT "
				 "NULL) AND NOT EXISTS (SELECT 1 FROM pruned p WHERE p.model = m.name "
				 "AND p.version = v.version) ORDER BY m.name, v.id",
				 err)) ||
	    (rc = reg_db_prepare(r, &ins,
				 "INSERT INTO pruned(model, version, digest, time, actor) "
				 "VALUES(?,?,?,?,?)",
				 err)))
		goto done;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		sqlite3_reset(ins);
		sqlite3_bind_text(ins, 1, (const char *)sqlite3_column_text(st, 0), -1,
				  SQLITE_TRANSIENT);
		sqlite3_bind_text(ins, 2, (const char *)sqlite3_column_text(st, 1), -1,
				  SQLITE_TRANSIENT);
		sqlite3_bind_text(ins, 3, (const char *)sqlite3_column_text(st, 2), -1,
				  SQLITE_TRANSIENT);
		sqlite3_bind_int64(ins, 4, mlctl_now());
		sqlite3_bind_text(ins, 5, actor, -1, SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE) {
			rc = reg_db_fail(err, r->db, "registry database");
			goto done;
		}
		g->pruned = mlctl_realloc(g->pruned, (g->npruned + 1) * sizeof(*g->pruned));
		g->pruned[g->npruned++] = mlctl_aprintf("%s:%s", sqlite3_column_text(st, 0),
							sqlite3_column_text(st, 1));
	}
	if (s != SQLITE_DONE)
		rc = reg_db_fail(err, r->db, "registry database");
done:
	sqlite3_finalize(st);
	sqlite3_finalize(ins);
	free(actor);
	return rc;
}

int mlctl_registry_gc(struct mlctl_registry *r, struct mlctl_garbage *out, int dry_run,
		      int prune, struct mlctl_err *err)
{
	int rc;

	memset(out, 0, sizeof(*out));
	/* the versions pruned are noted (committed) before any of their bytes go */
	if (prune && !dry_run) {
		if ((rc = reg_begin_write(r, err)))
			return rc;
		if (!(rc = reg_catch_up_locked(r, NULL, err)))
			rc = prune_deprecated(r, out, err);
		if ((rc = reg_end_write(r, rc, err)))
			return rc;
		mlctl_fault("gc-pruned");
	}
	/* installs happen under this lock, and versions are committed under it */
	if ((rc = reg_begin_write(r, err)))
		return rc;
	if (!(rc = reg_catch_up_locked(r, NULL, err)) &&
	    !(rc = prune && dry_run ? prune_deprecated(r, out, err) : 0))
		rc = reg_collect_garbage(r, out, !dry_run, err);
	/* a dry run notes nothing: what it would prune is rolled back */
	if (!rc && dry_run && out->npruned)
		return reg_end_write(r, 1, err) == 1 ? 0 : MLCTL_EINTERNAL;
	return reg_end_write(r, rc, err);
}
