/*
 * db.c - the schema and its migrations, SQL helpers, and the write
 * transaction: the lock, the claim on tmp/, the undo reserve, and the commit
 * (git first, then SQLite).
 */
#define _GNU_SOURCE
#include "registry/internal.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <wctype.h>

#include "blobstore.h"
#include "banned.h"

static const char *const migrations[] = {
	/* 1 */
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE models(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
	" created INTEGER NOT NULL);"
	"CREATE TABLE versions(id INTEGER PRIMARY KEY,"
	" model_id INTEGER NOT NULL REFERENCES models(id), version TEXT NOT NULL,"
	" digest TEXT NOT NULL, size INTEGER NOT NULL, nfiles INTEGER NOT NULL,"
	" manifest TEXT NOT NULL, created INTEGER NOT NULL, actor TEXT NOT NULL,"
	" git_commit TEXT NOT NULL, UNIQUE(model_id, version));"
	"CREATE INDEX versions_digest ON versions(digest);"
	"CREATE TABLE files(version_id INTEGER NOT NULL REFERENCES versions(id),"
	" path TEXT NOT NULL, size INTEGER NOT NULL, mode INTEGER NOT NULL,"
	" sha256 TEXT NOT NULL, PRIMARY KEY(version_id, path));"
	"CREATE INDEX files_sha256 ON files(sha256);"
	"CREATE TABLE events(id INTEGER PRIMARY KEY, type TEXT NOT NULL, model TEXT,"
	" version TEXT, digest TEXT, actor TEXT NOT NULL, time INTEGER NOT NULL,"
	" reason TEXT, git_commit TEXT NOT NULL);"
	"INSERT INTO meta(key, value) VALUES('git_head', '');",
	/* 2: whether a version passed validate when it was pushed */
	"ALTER TABLE versions ADD COLUMN validated INTEGER NOT NULL DEFAULT 1;",
	/* 3: stored results of validate (and, later, smoke) per digest */
	"CREATE TABLE records(id INTEGER PRIMARY KEY, model TEXT NOT NULL,"
	" version TEXT NOT NULL, digest TEXT NOT NULL, kind TEXT NOT NULL,"
	" passed INTEGER NOT NULL, created INTEGER NOT NULL, actor TEXT NOT NULL,"
	" path TEXT NOT NULL, summary TEXT NOT NULL, git_commit TEXT NOT NULL);"
	"CREATE INDEX records_digest ON records(digest, kind);",
	/* 4: aliases (movable names for versions) and every move of them */
	"CREATE TABLE aliases(model TEXT NOT NULL, alias TEXT NOT NULL, version TEXT NOT NULL,"
	" digest TEXT NOT NULL, moved INTEGER NOT NULL, actor TEXT NOT NULL,"
	" git_commit TEXT NOT NULL, PRIMARY KEY(model, alias));"
	"CREATE TABLE alias_moves(id INTEGER PRIMARY KEY, model TEXT NOT NULL,"
	" alias TEXT NOT NULL, n INTEGER NOT NULL, version TEXT, digest TEXT,"
	" time INTEGER NOT NULL, actor TEXT NOT NULL, reason TEXT, git_commit TEXT NOT NULL,"
	" UNIQUE(model, alias, n));"
	"ALTER TABLE events ADD COLUMN alias TEXT;",
	/* 5: uploads to OCI registries in progress, to go on with after a break */
	"CREATE TABLE uploads(host TEXT NOT NULL, repo TEXT NOT NULL, digest TEXT NOT NULL,"
	" location TEXT NOT NULL, offset INTEGER NOT NULL, started INTEGER NOT NULL,"
	" PRIMARY KEY(host, repo, digest));",
	/* 6: GTO's tags (one counter and strictly increasing tag times per model),
	 * deprecations, and what each event moved from and tagged; the history is
	 * replayed afresh after it (reg_migrate's replay) so every tag takes this form */
	"ALTER TABLE models ADD COLUMN tag_n INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE models ADD COLUMN tag_time INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE models ADD COLUMN deprecated INTEGER;"
	"ALTER TABLE versions ADD COLUMN deprecated INTEGER;"
	"ALTER TABLE events ADD COLUMN from_version TEXT;"
	"ALTER TABLE events ADD COLUMN tag TEXT;"
	"CREATE INDEX events_model ON events(model, time);"
	"CREATE INDEX events_time ON events(time);"
	"CREATE INDEX events_tag ON events(tag);"
	"ALTER TABLE alias_moves ADD COLUMN via TEXT;"
	"ALTER TABLE events ADD COLUMN via TEXT;"
	"ALTER TABLE events ADD COLUMN forced INTEGER;"
	"ALTER TABLE events ADD COLUMN unmet TEXT;"
	"CREATE TABLE policies(model TEXT NOT NULL, alias TEXT NOT NULL, policy TEXT NOT NULL,"
	" policy_digest TEXT NOT NULL, actor TEXT NOT NULL, time INTEGER NOT NULL, reason TEXT,"
	" git_commit TEXT NOT NULL, PRIMARY KEY(model, alias));"
	"CREATE TABLE approvals(id INTEGER PRIMARY KEY, model TEXT NOT NULL, alias TEXT NOT NULL,"
	" version TEXT NOT NULL, digest TEXT NOT NULL, policy_digest TEXT NOT NULL,"
	" actor TEXT NOT NULL, time INTEGER NOT NULL, reason TEXT, git_commit TEXT NOT NULL);"
	"CREATE INDEX approvals_key ON approvals(model, alias, digest);"
	"CREATE TABLE hooks(id TEXT PRIMARY KEY, url TEXT NOT NULL, events TEXT NOT NULL,"
	" secret_env TEXT NOT NULL, actor TEXT NOT NULL, time INTEGER NOT NULL,"
	" git_commit TEXT NOT NULL);"
	/* the webhooks to send: this registry's own, not history (a reindex keeps them) */
	"CREATE TABLE outbox(id INTEGER PRIMARY KEY, hook_id TEXT NOT NULL, msg_id TEXT NOT NULL,"
	" event TEXT NOT NULL, body TEXT NOT NULL, created INTEGER NOT NULL,"
	" attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL,"
	" claimed_until INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL DEFAULT 'pending',"
	" last_status INTEGER, last_error TEXT, done_at INTEGER);"
	"CREATE INDEX outbox_due ON outbox(state, next_at);"
	/* versions whose bytes gc --prune-deprecated removed here: this registry's, not history */
	"CREATE TABLE pruned(model TEXT NOT NULL, version TEXT NOT NULL, digest TEXT NOT NULL,"
	" time INTEGER NOT NULL, actor TEXT NOT NULL, PRIMARY KEY(model, version));",
};

/* The first schema whose history must be replayed afresh when a registry reaches it. */
#define REPLAY_FROM 6

/* ---------------------------------------------------------------- SQL helpers */

/* SQLite's words for a database whose tables are not the ones this mlctl made */
static int schema_mismatch(const char *msg)
{
	return !strncmp(msg, "no such table", 13) || !strncmp(msg, "no such column", 14) ||
	       strstr(msg, "has no column named");
}

int reg_db_fail(struct mlctl_err *err, sqlite3 *db, const char *what)
{
	const char *msg = sqlite3_errmsg(db);

	/* the index is git's history in tables: rebuilt from it, it has them all */
	if (schema_mismatch(msg))
		return mlctl_err_set(err, MLCTL_EINTEGRITY,
				     "%s: %s: its tables are not the ones this mlctl made; rebuild "
				     "it from git with 'mlctl registry reindex'", what, msg);
	return mlctl_err_set(err, MLCTL_EIO, "%s: %s", what, msg);
}

int reg_db_exec(struct mlctl_registry *r, const char *sql, struct mlctl_err *err)
{
	char *msg = NULL;
	int rc = sqlite3_exec(r->db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		rc = msg && schema_mismatch(msg) ? reg_db_fail(err, r->db, "registry database")
		     : mlctl_err_set(err, MLCTL_EIO, "registry database: %s",
				     msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return rc;
	}
	return 0;
}

int reg_db_prepare(struct mlctl_registry *r, sqlite3_stmt **st, const char *sql,
		   struct mlctl_err *err)
{
	if (sqlite3_prepare_v2(r->db, sql, -1, st, NULL) != SQLITE_OK)
		return reg_db_fail(err, r->db, "registry database");
	return 0;
}

char *reg_col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return mlctl_strdup(t ? (const char *)t : "");
}

/*
 * Step st to its end (and finalise it): an array of one elem-byte item a
 * row, set by fill; its count into *n. *rc is 0, or the error (the array
 * and count are still returned, for the caller's free function).
 */
void *reg_collect_rows(struct mlctl_registry *r, sqlite3_stmt *st, size_t elem, size_t *n,
		       void (*fill)(void *item, sqlite3_stmt *st), int *rc,
		       struct mlctl_err *err)
{
	size_t alloc = 0;
	char *out = NULL;
	int s;

	*n = 0;
	*rc = 0;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == alloc) {
			alloc = alloc ? 2 * alloc : 8;
			out = mlctl_realloc(out, alloc * elem);
		}
		fill(out + (*n)++ * elem, st);
	}
	if (s != SQLITE_DONE)
		*rc = reg_db_fail(err, r->db, "registry database");
	sqlite3_finalize(st);
	return out;
}

/*
 * A column of one version's row (column: "digest" or "git_commit", never
 * user input) into out: 1 when the version is there, 0 when not (out "").
 */
int reg_version_field(struct mlctl_registry *r, char *out, size_t n, const char *column,
		      const char *name, const char *version, struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	char *sql = mlctl_aprintf("SELECT v.%s FROM versions v JOIN models m ON m.id = v.model_id "
				  "WHERE m.name = ? AND v.version = ?", column);
	int rc, s;

	out[0] = '\0';
	rc = reg_db_prepare(r, &st, sql, err);
	free(sql);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, version, -1, SQLITE_STATIC);
	s = sqlite3_step(st);
	if (s == SQLITE_ROW)
		snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0));
	rc = s == SQLITE_ROW ? 1 : s == SQLITE_DONE ? 0 : reg_db_fail(err, r->db, "registry database");
	sqlite3_finalize(st);
	return rc;
}

int reg_meta_get(struct mlctl_registry *r, char *out, size_t n, const char *key,
		 struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	out[0] = '\0';
	if ((rc = reg_db_prepare(r, &st, "SELECT value FROM meta WHERE key = ?", err)))
		return rc;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0));
	rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0
						     : reg_db_fail(err, r->db, "registry database");
	sqlite3_finalize(st);
	return rc;
}

int reg_meta_set(struct mlctl_registry *r, const char *key, const char *value,
		 struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = reg_db_prepare(r, &st,
				 "INSERT INTO meta(key, value) VALUES(?, ?) "
				 "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
				 err)))
		return rc;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : reg_db_fail(err, r->db, "registry database");
	sqlite3_finalize(st);
	return rc;
}

/* A write to a registry this process cannot write. */
static int readonly_fail(struct mlctl_registry *r, struct mlctl_err *err)
{
	return mlctl_err_set(err, MLCTL_EIO,
			     "registry '%s' is read-only for you: cannot change it; ask its owner "
			     "for write access, or pass --registry DIR with a folder you can write",
			     r->root);
}

int reg_begin_write(struct mlctl_registry *r, struct mlctl_err *err)
{
	if (r->readonly)
		return readonly_fail(r, err);
	return reg_db_exec(r, "BEGIN IMMEDIATE", err);
}

void reg_rollback(struct mlctl_registry *r)
{
	if (!sqlite3_get_autocommit(r->db))
		sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
}

/* tmp/ is this process's to use from now on (see blobstore.h). */
int reg_claim_tmp(struct mlctl_registry *r, struct mlctl_err *err)
{
	if (r->tmp_claim >= 0)
		return 0;
	if (r->readonly)
		return readonly_fail(r, err);
	return mlctl_tmp_claim(&r->tmp_claim, r->root, err);
}

static void tmp_forget(void *payload, const char *name, uint64_t bytes)
{
	(void)payload;
	(void)name;
	(void)bytes;
}

/* Under the write lock, before the first step that would need undoing: hold some space. */
int reg_reserve_space(struct mlctl_registry *r, struct mlctl_err *err)
{
	int fd, rc;

	if (r->reserve)
		return 0;
	if ((rc = reg_claim_tmp(r, err)))
		return rc;
	/* what killed writers left in tmp/ goes first: it may be the room this write needs */
	mlctl_tmp_leftovers(r->root, 1, tmp_forget, NULL, NULL);
	r->reserve = mlctl_aprintf("%s/tmp/reserve-%ld", r->root, (long)getpid());
	fd = open(r->reserve, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || (errno = posix_fallocate(fd, 0, UNDO_RESERVE)) != 0) {
		rc = mlctl_err_errno(err, MLCTL_EIO, "cannot write in '%s/tmp'; free some space",
				     r->root);
		if (fd >= 0)
			close(fd);
		unlink(r->reserve);
		free(r->reserve);
		r->reserve = NULL;
		return rc;
	}
	close(fd);
	return 0;
}

/* Remove what this write put in blobs/ (none of it is named by a committed version). */
static void uninstall_blobs(struct mlctl_registry *r)
{
	size_t i;

	for (i = r->ninstalled; i-- > 0;) {
		if (mlctl_is_dir(r->installed[i]))
			rmdir(r->installed[i]);
		else
			unlink(r->installed[i]);
	}
}

static void forget_installed(struct mlctl_registry *r)
{
	size_t i;

	for (i = 0; i < r->ninstalled; i++)
		free(r->installed[i]);
	free(r->installed);
	r->installed = NULL;
	r->ninstalled = 0;
}

/*
 * Finish a write begun with reg_begin_write. With rc 0: git's queued changes,
 * then the database's COMMIT. Otherwise, or when git's fails, undo all of
 * it: git put back, the blobs this write installed removed, the database
 * rolled back. Returns rc, or the error that stopped the commit. When git
 * took the change and only the COMMIT fails (a full disk), the change is
 * stored: a warning, and 0.
 */
int reg_end_write(struct mlctl_registry *r, int rc, struct mlctl_err *err)
{
	struct mlctl_err uerr = MLCTL_ERR_INIT;
	int applied = 0;

	if (!rc && r->git && mlctl_git_pending(r->git)) {
		rc = mlctl_git_apply(r->git, err);
		if (!rc) {
			applied = 1;
			mlctl_fault("git-applied");
		}
	}
	if (!rc && !sqlite3_get_autocommit(r->db))
		rc = reg_db_exec(r, "COMMIT", err);
	if (r->reserve) {
		/* first, so the undo below has room on a full disk */
		unlink(r->reserve);
		free(r->reserve);
		r->reserve = NULL;
	}
	if (rc && applied) {
		/*
		 * git, the source of truth, holds the change (durably: fsync'd) and
		 * only the index failed: the change is stored, and the next open
		 * replays it into the database. Say so, and succeed.
		 */
		mlctl_warn("%s; the change is stored in the registry's history, and its index "
			   "catches up on the next command",
			   err ? err->msg : "cannot commit the registry's index");
		mlctl_err_clear(err);
		reg_rollback(r);
		rc = 0;
	}
	if (!rc) {
		mlctl_fault("db-committed");
		if (r->git)
			mlctl_git_settle(r->git);
		forget_installed(r);
		return 0;
	}
	if (!r->git || mlctl_git_rollback(r->git, &uerr) == 0)
		uninstall_blobs(r); /* only when git no longer names them */
	else if (err)
		mlctl_err_set(err, rc, "%s; then %s: the registry may hold this change; run 'mlctl "
			      "registry verify'", err->msg, uerr.msg);
	forget_installed(r);
	reg_rollback(r);
	return rc;
}

/*
 * SQL mlctl_fold(TEXT): the text with every letter lowercase, across Unicode
 * as the C library knows it (mlctl_locale_utf8 sets a UTF-8 LC_CTYPE), where
 * SQLite's lower() knows A-Z only: "ÉLODIE" and "élodie" are one person.
 * Bytes that are not UTF-8 are kept as they are.
 */
static void sql_fold(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *s = (const char *)sqlite3_value_text(argv[0]);
	size_t n = (size_t)sqlite3_value_bytes(argv[0]), k, m;
	struct mlctl_buf b = MLCTL_BUF_INIT;
	char low[MB_LEN_MAX];
	mbstate_t in, out;
	wchar_t wc;

	if (!s) {
		sqlite3_result_null(ctx);
		return;
	}
	memset(&in, 0, sizeof(in));
	memset(&out, 0, sizeof(out));
	while (n > 0) {
		k = mbrtowc(&wc, s, n, &in);
		if (k == (size_t)-1 || k == (size_t)-2 || k == 0) { /* not text here: the byte */
			memset(&in, 0, sizeof(in));
			k = 1;
			mlctl_buf_add(&b, s, 1);
		} else if ((m = wcrtomb(low, (wchar_t)towlower((wint_t)wc), &out)) != (size_t)-1) {
			mlctl_buf_add(&b, low, m);
		} else {
			mlctl_buf_add(&b, s, k);
		}
		s += k;
		n -= k;
	}
	sqlite3_result_text64(ctx, b.buf ? b.buf : "", b.len, SQLITE_TRANSIENT, SQLITE_UTF8);
	mlctl_buf_release(&b);
}

void reg_db_functions(sqlite3 *db)
{
	sqlite3_create_function(db, "mlctl_fold", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
				sql_fold, NULL, NULL);
}

/* Wait for another writer, up to BUSY_TIMEOUT_MS, unless interrupted. */
int reg_busy_wait(void *arg, int tries)
{
	(void)arg;
	if (mlctl_interrupted() || (long)tries * 5 >= BUSY_TIMEOUT_MS)
		return 0;
	usleep(5000);
	return 1;
}

/*
 * Switch to WAL. Changing the journal mode can answer SQLITE_BUSY at once,
 * without the busy handler, while another process sets up the same new
 * registry: so wait and retry here, within the same time limit.
 */
int reg_set_wal(struct mlctl_registry *r, const char *dbpath, struct mlctl_err *err)
{
	int waited = 0, rc;

	for (;;) {
		rc = sqlite3_exec(r->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			return 0;
		if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || waited >= BUSY_TIMEOUT_MS ||
		    mlctl_interrupted())
			break;
		usleep(10000);
		waited += 10;
	}
	if ((rc & 0xff) == SQLITE_IOERR || (rc & 0xff) == SQLITE_FULL) {
		/* the disk, not the file: say what the system said (a full disk, say) */
		int sys = sqlite3_system_errno(r->db);

		return mlctl_err_set(err, MLCTL_EIO,
				     "cannot open the registry database '%s': %s%s%s%s%s", dbpath,
				     sqlite3_errmsg(r->db), sys ? " (" : "",
				     sys ? strerror(sys) : "", sys ? ")" : "",
				     sys == ENOSPC || sys == EDQUOT ? "; free some space" : "");
	}
	return mlctl_err_set(err, MLCTL_EIO, "'%s' is not a usable mlctl registry database: %s",
			     dbpath, sqlite3_errmsg(r->db));
}

int reg_schema_version(struct mlctl_registry *r)
{
	sqlite3_stmt *st = NULL;
	int version = -1;

	if (sqlite3_prepare_v2(r->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return version;
}

/* The schema version this mlctl writes: the number of migrations. */
int reg_schema_latest(void)
{
	return (int)MLCTL_ARRAY_SIZE(migrations);
}

int reg_migrate(struct mlctl_registry *r, int *replay, struct mlctl_err *err)
{
	int version = reg_schema_version(r), rc;
	size_t i;
	char sql[64];

	if (version > (int)MLCTL_ARRAY_SIZE(migrations))
		return mlctl_err_set(err, MLCTL_EIO,
				     "registry '%s' has schema %d, newer than this mlctl knows (%d); "
				     "upgrade mlctl",
				     r->root, version, (int)MLCTL_ARRAY_SIZE(migrations));
	for (i = (size_t)version; i < MLCTL_ARRAY_SIZE(migrations); i++) {
		if ((rc = reg_db_exec(r, migrations[i], err)))
			return rc;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %zu", i + 1);
		if ((rc = reg_db_exec(r, sql, err)))
			return rc;
	}
	if (replay)
		*replay = version > 0 && version < REPLAY_FROM;
	return 0;
}

int reg_db_reset(struct mlctl_registry *r, struct mlctl_err *err)
{
	static const char *const tables[] = { "hooks", "approvals", "policies", "alias_moves",
					      "aliases", "records", "events", "files", "versions",
					      "models" };
	size_t i;
	int rc = reg_db_exec(r, "PRAGMA defer_foreign_keys = ON", err);

	for (i = 0; !rc && i < MLCTL_ARRAY_SIZE(tables); i++) {
		char *sql = mlctl_aprintf("DELETE FROM %s", tables[i]);

		rc = reg_db_exec(r, sql, err);
		free(sql);
	}
	return rc ? rc : reg_meta_set(r, "git_head", "", err);
}
