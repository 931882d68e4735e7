/*
 * reindex.c - registry reindex: rebuild the database from git into a new file.
 */
#define _GNU_SOURCE
#include "registry/internal.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

struct first_bad {
	char *msg;
};

static void on_first_bad(void *payload, const char *id, const char *type, const char *what,
			 const char *from)
{
	struct first_bad *fb = payload;

	if (!fb->msg)
		fb->msg = mlctl_aprintf("git %s %s is %s (referred to by %s)", type, id, what,
					from);
}

static int count_rows(sqlite3 *db, const char *table)
{
	char *sql = mlctl_aprintf("SELECT count(*) FROM %s", table);
	sqlite3_stmt *st = NULL;
	int n = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	free(sql);
	return n;
}

static void unlink_db(const char *path)
{
	static const char *const ext[] = { "", "-wal", "-shm", "-journal" };
	size_t i;

	for (i = 0; i < MLCTL_ARRAY_SIZE(ext); i++) {
		char *p = mlctl_aprintf("%s%s", path, ext[i]);

		unlink(p);
		free(p);
	}
}

/*
 * What is this registry's own, not history (the webhooks still to send, the
 * versions whose bytes were pruned here), goes into the new database.
 */
static int keep_outbox(struct mlctl_registry *r, sqlite3 *fresh, struct mlctl_err *err)
{
	char *dbpath = mlctl_path_join(r->root, "mlctl.db"), *sql;
	int rc;

	sql = sqlite3_mprintf("ATTACH %Q AS old; INSERT INTO outbox SELECT * FROM old.outbox; "
			      "INSERT INTO pruned SELECT * FROM old.pruned; DETACH old;", dbpath);
	rc = sqlite3_exec(fresh, sql, NULL, NULL, NULL);
	sqlite3_free(sql);
	free(dbpath);
	if (rc != SQLITE_OK && !strstr(sqlite3_errmsg(fresh), "no such table"))
		return reg_db_fail(err, fresh, "registry database (keeping the webhook outbox)");
	sqlite3_exec(fresh, "DETACH old", NULL, NULL, NULL);
	return 0;
}

/* Replay all of git into the new database fresh (as r->db), committed when this returns 0. */
static int rebuild(struct mlctl_registry *r, sqlite3 *fresh, const char *path,
		   struct mlctl_reindex_result *res, struct mlctl_err *err)
{
	sqlite3 *old = r->db;
	int rc;

	r->db = fresh;
	sqlite3_busy_handler(fresh, reg_busy_wait, NULL);
	if (!(rc = reg_set_wal(r, path, err)) &&
	    !(rc = reg_db_exec(r, "PRAGMA synchronous = FULL", err)) &&
	    !(rc = reg_db_exec(r, "PRAGMA foreign_keys = ON", err)) &&
	    !(rc = reg_migrate(r, NULL, err)) && !(rc = reg_begin_write(r, err)))
		rc = reg_end_write(r, reg_catch_up_locked(r, &res->events, err), err);
	if (!rc && old)
		rc = keep_outbox(r, fresh, err);
	if (!rc) {
		res->versions = (size_t)count_rows(fresh, "versions");
		res->records = (size_t)count_rows(fresh, "records");
		res->aliases = (size_t)count_rows(fresh, "aliases");
	}
	r->db = old;
	return rc;
}

/*
 * Rebuild mlctl.db from git into a new file, and put it in place only once
 * the whole replay succeeded; a history with a missing object is refused
 * first. In place: a healthy database takes the new content through
 * SQLite's backup API, one write transaction on it, so that other processes
 * holding it open (and its -wal and -shm) go on with a consistent database
 * and never write to a file that is no longer mlctl.db. A broken database
 * (which no command uses) is replaced by renaming the new file over it,
 * its stale -wal and -shm removed first.
 */
int mlctl_registry_reindex(struct mlctl_registry *r, struct mlctl_reindex_result *res,
			   struct mlctl_err *err)
{
	struct first_bad fb = { NULL };
	sqlite3 *fresh = NULL;
	sqlite3_backup *b = NULL;
	char *tmp = NULL, *dbpath = mlctl_path_join(r->root, "mlctl.db"), head[41], db_head[64];
	size_t nobj, nbad;
	int rc;

	memset(res, 0, sizeof(*res));
	if ((rc = reg_claim_tmp(r, err)))
		goto done;
	/* writers wait from here to the end of the replay (which may also re-create tags) */
	if (r->db && (rc = reg_begin_write(r, err)))
		goto done;
	if ((rc = mlctl_git_check_objects(r->git, &nobj, &nbad, on_first_bad, &fb, err)))
		goto done;
	if (nbad) {
		rc = mlctl_err_set(err, MLCTL_EINTEGRITY,
				   "%s%s; the database is left as it was: restore index.git from "
				   "a backup or a clone ('mlctl registry verify' lists what is "
				   "missing)",
				   fb.msg, nbad > 1 ? ", and more" : "");
		goto done;
	}
	if ((rc = mlctl_git_head(r->git, head, err)))
		goto done;
	if (!*head && r->db && !reg_meta_get(r, db_head, sizeof(db_head), "git_head", NULL) &&
	    *db_head) {
		rc = mlctl_err_set(err, MLCTL_EINTEGRITY,
				   "index.git has no history but the database reflects commit "
				   "%.12s; the database is left as it was: restore index.git from "
				   "a backup",
				   db_head);
		goto done;
	}
	tmp = mlctl_aprintf("%s/tmp/reindex-%ld-mlctl.db", r->root, (long)getpid());
	unlink_db(tmp);
	if (sqlite3_open_v2(tmp, &fresh, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		rc = mlctl_err_set(err, MLCTL_EIO, "cannot create '%s': %s", tmp,
				   fresh ? sqlite3_errmsg(fresh) : "out of memory");
		goto done;
	}
	if ((rc = rebuild(r, fresh, tmp, res, err)))
		goto done;
	mlctl_fault("reindex-built");
	if (r->db) {
		reg_rollback(r); /* nothing was written to it: only the lock is let go */
		b = sqlite3_backup_init(r->db, "main", fresh, "main");
		if (!b || sqlite3_backup_step(b, -1) != SQLITE_DONE) {
			sqlite3_backup_finish(b);
			rc = reg_db_fail(err, r->db, "cannot write the rebuilt registry database");
			goto done;
		}
		if (sqlite3_backup_finish(b) != SQLITE_OK) {
			rc = reg_db_fail(err, r->db, "cannot write the rebuilt registry database");
			goto done;
		}
		goto done;
	}
	/* the last connection checkpoints its WAL into the file and removes it */
	if (sqlite3_close(fresh) != SQLITE_OK) {
		rc = mlctl_err_set(err, MLCTL_EIO, "cannot write '%s'", tmp);
		goto done;
	}
	fresh = NULL;
	{
		int fd = open(tmp, O_RDONLY | O_CLOEXEC);

		if (fd < 0 || fsync(fd) < 0) {
			rc = mlctl_err_errno(err, MLCTL_EIO, "cannot write '%s'", tmp);
			if (fd >= 0)
				close(fd);
			goto done;
		}
		close(fd);
	}
	{
		char *wal = mlctl_aprintf("%s-wal", dbpath), *shm = mlctl_aprintf("%s-shm", dbpath);

		unlink(wal);
		unlink(shm);
		free(wal);
		free(shm);
	}
	if (rename(tmp, dbpath) < 0) {
		rc = mlctl_err_errno(err, MLCTL_EIO, "cannot put the rebuilt database at '%s'",
				     dbpath);
		goto done;
	}
	mlctl_fsync_dir(r->root);
done:
	if (r->db)
		reg_rollback(r);
	if (fresh)
		sqlite3_close(fresh);
	if (tmp)
		unlink_db(tmp);
	free(fb.msg);
	free(tmp);
	free(dbpath);
	return rc;
}
