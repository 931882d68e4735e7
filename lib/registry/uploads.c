/*
 * uploads.c - uploads to OCI registries in progress, kept in the
 * database (table uploads) so that a push after a crash, a lost
 * connection or a registry restart goes on where the registry says it
 * stopped. A cache: a reindex forgets them, and the next push starts
 * those uploads afresh. Written outside any write transaction, one
 * statement each; failures only lose the chance to resume.
 */
#include "registry/internal.h"

#include <stdlib.h>
#include <string.h>

#include "oci.h"
#include "banned.h"

/* Bind the key of an upload (host, repo, digest) to parameters 1-3. */
static void bind_key(sqlite3_stmt *st, const char *host, const char *repo, const char *digest)
{
	sqlite3_bind_text(st, 1, host, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, repo, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, digest, -1, SQLITE_STATIC);
}

static char *upload_get(void *ctx, const char *host, const char *repo, const char *digest)
{
	struct mlctl_registry *r = ctx;
	sqlite3_stmt *st = NULL;
	char *loc = NULL;

	if (reg_db_prepare(r, &st, "SELECT location FROM uploads WHERE host = ? AND repo = ? "
			   "AND digest = ?", NULL))
		return NULL;
	bind_key(st, host, repo, digest);
	if (sqlite3_step(st) == SQLITE_ROW)
		loc = reg_col_text(st, 0);
	sqlite3_finalize(st);
	return loc;
}

static void upload_put(void *ctx, const char *host, const char *repo, const char *digest,
		       const char *location, uint64_t offset)
{
	struct mlctl_registry *r = ctx;
	sqlite3_stmt *st = NULL;

	if (r->readonly ||
	    reg_db_prepare(r, &st, "INSERT OR REPLACE INTO uploads(host, repo, digest, location, "
			   "offset, started) VALUES(?,?,?,?,?,?)", NULL))
		return;
	bind_key(st, host, repo, digest);
	sqlite3_bind_text(st, 4, location, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)offset);
	sqlite3_bind_int64(st, 6, mlctl_now());
	sqlite3_step(st);
	sqlite3_finalize(st);
}

static void upload_drop(void *ctx, const char *host, const char *repo, const char *digest)
{
	struct mlctl_registry *r = ctx;
	sqlite3_stmt *st = NULL;

	if (r->readonly || reg_db_prepare(r, &st, "DELETE FROM uploads WHERE host = ? AND "
					  "repo = ? AND digest = ?", NULL))
		return;
	bind_key(st, host, repo, digest);
	sqlite3_step(st);
	sqlite3_finalize(st);
}

static char *blob_holder(void *ctx, const char *sha, const char *model)
{
	struct mlctl_registry *r = ctx;
	sqlite3_stmt *st = NULL;
	char *name = NULL;

	if (reg_db_prepare(r, &st, "SELECT m.name FROM files f JOIN versions v ON v.id = "
			   "f.version_id JOIN models m ON m.id = v.model_id WHERE f.sha256 = ? AND "
			   "m.name != ? ORDER BY v.created LIMIT 1", NULL))
		return NULL;
	sqlite3_bind_text(st, 1, sha, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, model, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		name = reg_col_text(st, 0);
	sqlite3_finalize(st);
	return name;
}

void mlctl_registry_uploads(struct mlctl_registry *r, struct mlctl_oci_uploads *out)
{
	memset(out, 0, sizeof(*out));
	if (!r->db)
		return;
	out->ctx = r;
	out->get = upload_get;
	out->put = upload_put;
	out->drop = upload_drop;
	out->holder = blob_holder;
}
