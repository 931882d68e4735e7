/*
 * registry.c - open, push, query, pull, verify and reindex the embedded
 * registry. SQLite is the query index; git is the source of truth; blobs
 * hold the bytes.
 */
#define _GNU_SOURCE
#include "registry.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <search.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blobstore.h"
#include "gitstore.h"
#include "hashpipe.h"
#include "package.h"
#include "banned.h"

#define BUSY_TIMEOUT_MS 120000

/* A write can be undone until its COMMIT: what it put in blobs/, and space held for the undo. */
struct mlctl_registry {
	char *root;
	sqlite3 *db;
	struct mlctl_git *git;
	int tmp_claim;      /* fd of tmp/owner-PID.lock once this process uses tmp/, else -1 */
	char **installed;   /* blobs (and new blob folders) this write put in place, oldest first */
	size_t ninstalled;
	char *reserve;      /* tmp/reserve-PID while a write holds it */
	int readonly;       /* the user cannot write here: reads only, no catch-up, no locks */
	char *final;        /* a first push's registry, built at root and renamed here when it
			       succeeds (mlctl_registry_publish); removed when it does not */
	int setup_lock;     /* fd locking root while it is such a sibling, else -1 */
	char *db_problem;   /* mlctl_registry_open_damaged: why db is NULL */
};

/* Bytes held in tmp/ during a write and freed before an undo, so a full disk cannot stop it. */
#define UNDO_RESERVE (32 * 1024)

/* ---------------------------------------------------------------- schema */

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
};

/* ---------------------------------------------------------------- SQL helpers */

static int db_fail(struct mlctl_err *err, sqlite3 *db, const char *what)
{
	return mlctl_err_set(err, MLCTL_EIO, "%s: %s", what, sqlite3_errmsg(db));
}

static int db_exec(struct mlctl_registry *r, const char *sql, struct mlctl_err *err)
{
	char *msg = NULL;
	int rc = sqlite3_exec(r->db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		mlctl_err_set(err, MLCTL_EIO, "registry database: %s", msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return MLCTL_EIO;
	}
	return 0;
}

static int db_prepare(struct mlctl_registry *r, sqlite3_stmt **st, const char *sql,
		      struct mlctl_err *err)
{
	if (sqlite3_prepare_v2(r->db, sql, -1, st, NULL) != SQLITE_OK)
		return db_fail(err, r->db, "registry database");
	return 0;
}

static char *col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return mlctl_strdup(t ? (const char *)t : "");
}

/*
 * Step st to its end (and finalise it): an array of one elem-byte item a
 * row, set by fill; its count into *n. *rc is 0, or the error (the array
 * and count are still returned, for the caller's free function).
 */
static void *collect_rows(struct mlctl_registry *r, sqlite3_stmt *st, size_t elem, size_t *n,
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
		*rc = db_fail(err, r->db, "registry database");
	sqlite3_finalize(st);
	return out;
}

static int meta_get(struct mlctl_registry *r, char *out, size_t n, const char *key,
		    struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	out[0] = '\0';
	if ((rc = db_prepare(r, &st, "SELECT value FROM meta WHERE key = ?", err)))
		return rc;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0));
	rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : db_fail(err, r->db, "registry database");
	sqlite3_finalize(st);
	return rc;
}

static int meta_set(struct mlctl_registry *r, const char *key, const char *value,
		    struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = db_prepare(r, &st,
			     "INSERT INTO meta(key, value) VALUES(?, ?) "
			     "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
			     err)))
		return rc;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(err, r->db, "registry database");
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

static int begin_write(struct mlctl_registry *r, struct mlctl_err *err)
{
	if (r->readonly)
		return readonly_fail(r, err);
	return db_exec(r, "BEGIN IMMEDIATE", err);
}

static void rollback(struct mlctl_registry *r)
{
	if (!sqlite3_get_autocommit(r->db))
		sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
}

/* tmp/ is this process's to use from now on (see blobstore.h). */
static int claim_tmp(struct mlctl_registry *r, struct mlctl_err *err)
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
static int reserve_space(struct mlctl_registry *r, struct mlctl_err *err)
{
	int fd, rc;

	if (r->reserve)
		return 0;
	if ((rc = claim_tmp(r, err)))
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
 * Finish a write begun with begin_write. With rc 0: git's queued changes,
 * then the database's COMMIT. Otherwise, or when git's fails, undo all of
 * it: git put back, the blobs this write installed removed, the database
 * rolled back. Returns rc, or the error that stopped the commit. When git
 * took the change and only the COMMIT fails (a full disk), the change is
 * stored: a warning, and 0.
 */
static int end_write(struct mlctl_registry *r, int rc, struct mlctl_err *err)
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
		rc = db_exec(r, "COMMIT", err);
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
		rollback(r);
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
	rollback(r);
	return rc;
}

/* Wait for another writer, up to BUSY_TIMEOUT_MS, unless interrupted. */
static int busy_wait(void *arg, int tries)
{
	(void)arg;
	if (mlctl_interrupted() || (long)tries * 5 >= BUSY_TIMEOUT_MS)
		return 0;
	usleep(5000);
	return 1;
}

/* ---------------------------------------------------------------- location */

int mlctl_registry_locate(char **out, const char *flag, struct mlctl_err *err)
{
	const char *env = getenv("MLCTL_REGISTRY"), *xdg = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");

	*out = NULL;
	if (flag && *flag)
		*out = mlctl_strdup(flag);
	else if (env && *env)
		*out = mlctl_strdup(env);
	else if (xdg && xdg[0] == '/') /* XDG's rule: a relative XDG_DATA_HOME is ignored */
		*out = mlctl_aprintf("%s/mlctl/registry", xdg);
	if (*out)
		return 0;
	if (!home || home[0] != '/') {
		/* no HOME (a bare CI step): the account's home, never the current folder */
		const struct passwd *pw = getpwuid(getuid());

		home = pw && pw->pw_dir && pw->pw_dir[0] == '/' ? pw->pw_dir : NULL;
	}
	if (!home)
		return mlctl_err_set(err, MLCTL_EIO,
				     "no place for the registry: HOME is not set and the account has "
				     "no home folder; pass --registry DIR or set MLCTL_REGISTRY");
	*out = mlctl_aprintf("%s/.local/share/mlctl/registry", home);
	return 0;
}

const char *mlctl_registry_root(const struct mlctl_registry *r)
{
	return r->root;
}

/* The value of environment variable name, or NULL when unset or empty. */
static const char *env_value(const char *name)
{
	const char *v = name ? getenv(name) : NULL;

	return v && *v ? v : NULL;
}

/* "name <email>", or name alone when there is no e-mail. */
static char *with_email(const char *name, const char *email)
{
	return email ? mlctl_aprintf("%s <%s>", name, email) : mlctl_strdup(name);
}

/* Who a CI system says started the job, or NULL when not in one that says. */
static char *ci_actor(void)
{
	static const struct {
		const char *name, *email, *only_with;
	} ci[] = {
		{ "GITLAB_USER_LOGIN", "GITLAB_USER_EMAIL", NULL },
		{ "BUILDKITE_BUILD_CREATOR", "BUILDKITE_BUILD_CREATOR_EMAIL", NULL },
		{ "BUILD_REQUESTEDFOR", "BUILD_REQUESTEDFOREMAIL", "TF_BUILD" }, /* Azure */
		{ "BUILD_USER", "BUILD_USER_EMAIL", "JENKINS_URL" }, /* build-user-vars plugin */
		{ "CIRCLE_USERNAME", NULL, NULL },
	};
	const char *gh = env_value("GITHUB_ACTOR"), *id = env_value("GITHUB_ACTOR_ID");
	size_t i;

	if (gh && id && strspn(id, "0123456789") == strlen(id))
		/* the address GitHub gives each account for commits made on its behalf */
		return mlctl_aprintf("%s <%s+%s@users.noreply.github.com>", gh, id, gh);
	if (gh)
		return mlctl_strdup(gh);
	for (i = 0; i < MLCTL_ARRAY_SIZE(ci); i++)
		if (env_value(ci[i].name) && (!ci[i].only_with || env_value(ci[i].only_with)))
			return with_email(env_value(ci[i].name), env_value(ci[i].email));
	return NULL;
}

/* The login name: the password database, else $USER, else $LOGNAME. */
static char *login_name(void)
{
	struct passwd *pw = getpwuid(geteuid());

	if (pw && pw->pw_name && *pw->pw_name)
		return mlctl_strdup(pw->pw_name);
	if (env_value("USER"))
		return mlctl_strdup(env_value("USER"));
	if (env_value("LOGNAME"))
		return mlctl_strdup(env_value("LOGNAME"));
	return mlctl_aprintf("uid %u", (unsigned)geteuid());
}

/* s with every byte that is not part of well-formed UTF-8 made U+FFFD. */
static char *utf8_fixed(char *s)
{
	struct mlctl_buf b = MLCTL_BUF_INIT;
	size_t n = strlen(s), i = 0, k;

	if (mlctl_utf8_valid(s, n))
		return s;
	while (i < n) {
		k = mlctl_utf8_check(s + i, n - i);
		mlctl_buf_add(&b, s + i, k);
		i += k;
		if (i < n) {
			mlctl_buf_puts(&b, "\xef\xbf\xbd");
			i++;
		}
	}
	free(s);
	return mlctl_buf_detach(&b);
}

char *mlctl_actor(void)
{
	char *out = NULL, *name = NULL, *email = NULL;

	if (env_value("MLCTL_ACTOR"))
		out = mlctl_strdup(env_value("MLCTL_ACTOR"));
	if (!out)
		out = ci_actor();
	if (!out && mlctl_git_identity(&name, &email)) {
		if (!name)
			name = login_name(); /* as git does with user.email alone */
		out = with_email(name, email);
	}
	if (!out)
		out = login_name();
	free(name);
	free(email);
	return utf8_fixed(out);
}

/* ---------------------------------------------------------------- replay */

struct event {
	const char *type, *model, *version, *digest, *actor, *reason;
	const char *kind, *path; /* record: its kind and file in git */
	int passed;              /* record: the gate passed */
	const char *alias;       /* alias, unalias: which, and its move number */
	int64_t n;
	int64_t time;
	int validated; /* push: 1 unless pushed with --no-validate */
};

/* An event's integer field: 0 when absent; -1 when not a finite number in int64's range. */
static int event_int(int64_t *out, const cJSON *it)
{
	*out = 0;
	if (!it)
		return 0;
	if (!cJSON_IsNumber(it) || !(it->valuedouble >= -9.2e18 && it->valuedouble <= 9.2e18))
		return -1;
	*out = (int64_t)it->valuedouble;
	return 0;
}

/* The event in a commit's message (JSON after the first blank line); -1 when there is none. */
static int event_parse(struct event *ev, cJSON **json, const char *message)
{
	const char *body = strstr(message, "\n\n");
	cJSON *j, *it;

	memset(ev, 0, sizeof(*ev));
	*json = NULL;
	if (!body)
		return -1;
	j = cJSON_Parse(body + 2);
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return -1;
	}
#define STR(field) \
	it = cJSON_GetObjectItemCaseSensitive(j, #field); \
	ev->field = cJSON_IsString(it) ? it->valuestring : NULL;
	STR(type)
	STR(model)
	STR(version)
	STR(digest)
	STR(actor)
	STR(reason)
	STR(kind)
	STR(path)
	STR(alias)
#undef STR
	*json = j;
	if (event_int(&ev->n, cJSON_GetObjectItemCaseSensitive(j, "n")) ||
	    event_int(&ev->time, cJSON_GetObjectItemCaseSensitive(j, "time")))
		return -1;
	ev->passed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "passed"));
	it = cJSON_GetObjectItemCaseSensitive(j, "validated");
	ev->validated = !cJSON_IsFalse(it); /* absent (older events): validated */
	return ev->type && ev->actor ? 0 : -1;
}

static char *version_path(const char *name, const char *version)
{
	return mlctl_aprintf("models/%s/versions/%s.json", name, version);
}

static char *tag_name(const char *name, const char *version)
{
	return mlctl_version_tag(name, version);
}

static int model_id(struct mlctl_registry *r, int64_t *id, const char *name, int create,
		    int64_t when, struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*id = 0;
	if ((rc = db_prepare(r, &st, "SELECT id FROM models WHERE name = ?", err)))
		return rc;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(err, r->db, "registry database");
	if (*id || !create)
		return *id ? 0 : MLCTL_ENOTFOUND;
	if ((rc = db_prepare(r, &st, "INSERT INTO models(name, created) VALUES(?, ?)", err)))
		return rc;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, when);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(err, r->db, "registry database");
	sqlite3_finalize(st);
	*id = sqlite3_last_insert_rowid(r->db);
	return rc;
}

/* Insert a version's rows (inside a write transaction). */
static int insert_version(struct mlctl_registry *r, const struct mlctl_manifest *m,
			  const char *digest, const char *actor, int64_t when,
			  const char *commit, int validated, struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	int64_t mid, vid;
	char *canon = mlctl_manifest_canonical(m);
	size_t i;
	int rc;

	if ((rc = model_id(r, &mid, m->name, 1, when, err)))
		goto done;
	if ((rc = db_prepare(r, &st,
			     "INSERT INTO versions(model_id, version, digest, size, nfiles, "
			     "manifest, created, actor, git_commit, validated) "
			     "VALUES(?,?,?,?,?,?,?,?,?,?)",
			     err)))
		goto done;
	sqlite3_bind_int64(st, 1, mid);
	sqlite3_bind_text(st, 2, m->version, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, digest, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)mlctl_manifest_total_size(m));
	sqlite3_bind_int64(st, 5, (sqlite3_int64)m->nfiles);
	sqlite3_bind_text(st, 6, canon, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, when);
	sqlite3_bind_text(st, 8, actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, commit, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 10, validated);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = db_fail(err, r->db, "registry database");
		goto done;
	}
	sqlite3_finalize(st);
	st = NULL;
	vid = sqlite3_last_insert_rowid(r->db);
	if ((rc = db_prepare(r, &st,
			     "INSERT INTO files(version_id, path, size, mode, sha256) "
			     "VALUES(?,?,?,?,?)",
			     err)))
		goto done;
	for (i = 0; i < m->nfiles; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, vid);
		sqlite3_bind_text(st, 2, m->files[i].path, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)m->files[i].size);
		sqlite3_bind_int(st, 4, (int)m->files[i].mode);
		sqlite3_bind_text(st, 5, m->files[i].sha256, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			rc = db_fail(err, r->db, "registry database");
			goto done;
		}
	}
done:
	sqlite3_finalize(st);
	free(canon);
	return rc;
}

static int insert_event(struct mlctl_registry *r, const struct event *ev, const char *commit,
			struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = db_prepare(r, &st,
			     "INSERT INTO events(type, model, version, digest, actor, time, "
			     "reason, git_commit, alias) VALUES(?,?,?,?,?,?,?,?,?)",
			     err)))
		return rc;
	sqlite3_bind_text(st, 1, ev->type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ev->model, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ev->version, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, ev->digest, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, ev->actor, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, ev->time);
	sqlite3_bind_text(st, 7, ev->reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, commit, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, ev->alias, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(err, r->db, "registry database");
	sqlite3_finalize(st);
	return rc;
}

/* Under the write lock: one git commit with these changes, its message the event. */
static int git_event(struct mlctl_registry *r, char head[41], const struct mlctl_git_change *ch,
		     size_t n, cJSON *evj, const char *summary, const char *actor, int64_t now,
		     struct mlctl_err *err)
{
	char *evtext = mlctl_json_canonical(evj);
	char *msg = mlctl_aprintf("%s\n\n%s\n", summary, evtext);
	int rc;

	mlctl_git_clear_stale_locks(r->git);
	rc = mlctl_git_commit(r->git, head, ch, n, msg, actor, now, err);
	free(evtext);
	free(msg);
	return rc;
}

/* The summary object of a stored report, as canonical JSON ("{}" when absent). */
static char *report_summary(const char *report, size_t len)
{
	cJSON *j = cJSON_ParseWithLength(report, len);
	cJSON *sum = cJSON_GetObjectItemCaseSensitive(j, "summary");
	char *out = sum ? mlctl_json_canonical(sum) : mlctl_strdup("{}");

	cJSON_Delete(j);
	return out;
}

static int insert_record(struct mlctl_registry *r, const struct event *ev, const char *summary,
			 const char *commit, struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = db_prepare(r, &st,
			     "INSERT INTO records(model, version, digest, kind, passed, created, "
			     "actor, path, summary, git_commit) VALUES(?,?,?,?,?,?,?,?,?,?)",
			     err)))
		return rc;
	sqlite3_bind_text(st, 1, ev->model, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ev->version, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ev->digest, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, ev->kind, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, ev->passed);
	sqlite3_bind_int64(st, 6, ev->time);
	sqlite3_bind_text(st, 7, ev->actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, ev->path, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, summary, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, commit, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(err, r->db, "registry database");
	sqlite3_finalize(st);
	return rc;
}

/* GTO's tags: NAME#ALIAS#N when the alias is set, NAME#ALIAS!#N when it is removed. */
static char *alias_tag(const char *name, const char *alias, int removed, int64_t n)
{
	return mlctl_alias_tag(name, alias, removed, n);
}

/* The commit a version was pushed in, where its NAME@vVERSION tag points. */
static int version_commit(struct mlctl_registry *r, char out[41], const char *name,
			  const char *version, struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc, s;

	if ((rc = db_prepare(r, &st,
			     "SELECT v.git_commit FROM versions v JOIN models m ON "
			     "m.id = v.model_id WHERE m.name = ? AND v.version = ?",
			     err)))
		return rc;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, version, -1, SQLITE_STATIC);
	s = sqlite3_step(st);
	if (s == SQLITE_ROW)
		snprintf(out, 41, "%s", (const char *)sqlite3_column_text(st, 0));
	else if (s == SQLITE_DONE)
		rc = mlctl_err_set(err, MLCTL_EINTEGRITY,
				   "an alias names %s:%s, which is not in the registry; run 'mlctl "
				   "registry reindex'",
				   name, version);
	else
		rc = db_fail(err, r->db, "registry database");
	sqlite3_finalize(st);
	return rc;
}

/* Inside a write transaction: an alias event's row, its move, and its GTO tag. */
static int apply_alias(struct mlctl_registry *r, const struct event *ev, const char *commit,
		       struct mlctl_err *err)
{
	int removed = !strcmp(ev->type, "unalias"), rc;
	sqlite3_stmt *st = NULL;
	char vcommit[41], *tag = NULL, *msg = NULL;

	if ((rc = version_commit(r, vcommit, ev->model, ev->version, err)))
		return rc;
	if (removed)
		rc = db_prepare(r, &st, "DELETE FROM aliases WHERE model = ? AND alias = ?", err);
	else
		rc = db_prepare(r, &st,
				"INSERT OR REPLACE INTO aliases(model, alias, version, digest, moved, "
				"actor, git_commit) VALUES(?,?,?,?,?,?,?)",
				err);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, ev->model, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ev->alias, -1, SQLITE_STATIC);
	if (!removed) {
		sqlite3_bind_text(st, 3, ev->version, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, ev->digest, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, ev->time);
		sqlite3_bind_text(st, 6, ev->actor, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 7, commit, -1, SQLITE_STATIC);
	}
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(err, r->db, "registry database");
	sqlite3_finalize(st);
	if (rc || (rc = db_prepare(r, &st,
				   "INSERT INTO alias_moves(model, alias, n, version, digest, time, "
				   "actor, reason, git_commit) VALUES(?,?,?,?,?,?,?,?,?)",
				   err)))
		return rc;
	sqlite3_bind_text(st, 1, ev->model, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ev->alias, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, ev->n);
	if (!removed) {
		sqlite3_bind_text(st, 4, ev->version, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, ev->digest, -1, SQLITE_STATIC);
	}
	sqlite3_bind_int64(st, 6, ev->time);
	sqlite3_bind_text(st, 7, ev->actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, ev->reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, commit, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(err, r->db, "registry database");
	sqlite3_finalize(st);
	if (rc)
		return rc;
	/* the tag points at the version's own commit, so GTO reads it as that version's stage */
	tag = alias_tag(ev->model, ev->alias, removed, ev->n);
	msg = ev->reason ? mlctl_strdup(ev->reason)
			 : mlctl_aprintf("%s %s %s %s", removed ? "unalias" : "alias", ev->model,
					 ev->alias, ev->version);
	rc = mlctl_git_tag(r->git, tag, vcommit, msg, ev->actor, ev->time, err);
	free(tag);
	free(msg);
	return rc;
}

/* The alias's target (version and digest, "" when unset) and its last move number. */
static int alias_state(struct mlctl_registry *r, const char *name, const char *alias,
		       char version[256], char digest[72], int64_t *moves, struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc, s;

	version[0] = digest[0] = '\0';
	*moves = 0;
	if ((rc = db_prepare(r, &st,
			     "SELECT (SELECT version FROM aliases WHERE model = ?1 AND alias = ?2), "
			     "(SELECT digest FROM aliases WHERE model = ?1 AND alias = ?2), "
			     "(SELECT coalesce(max(n), 0) FROM alias_moves WHERE model = ?1 AND "
			     "alias = ?2)",
			     err)))
		return rc;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, alias, -1, SQLITE_STATIC);
	s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		if (sqlite3_column_text(st, 0))
			snprintf(version, 256, "%s", (const char *)sqlite3_column_text(st, 0));
		if (sqlite3_column_text(st, 1))
			snprintf(digest, 72, "%s", (const char *)sqlite3_column_text(st, 1));
		*moves = sqlite3_column_int64(st, 2);
	} else {
		rc = db_fail(err, r->db, "registry database");
	}
	sqlite3_finalize(st);
	return rc;
}

struct replay {
	struct mlctl_registry *r;
	size_t events, skipped;
};

/* Apply one event (its commit's) to the database; its rows are undone by the caller on failure. */
static int apply_event(struct mlctl_registry *r, const struct event *ev, const char *commit,
		       struct mlctl_err *err)
{
	struct mlctl_buf text = MLCTL_BUF_INIT;
	struct mlctl_manifest m;
	char *path = NULL, *tag = NULL, digest[72];
	const char *why;
	int rc = 0;

	memset(&m, 0, sizeof(m));
	if (!strcmp(ev->type, "push")) {
		if (!ev->model || !ev->version || !ev->digest) {
			rc = mlctl_err_set(err, MLCTL_EINTEGRITY,
					   "push event in commit %.12s lacks model, version or digest",
					   commit);
			goto done;
		}
		tag = tag_name(ev->model, ev->version);
		if ((why = mlctl_tag_problem(tag))) {
			rc = mlctl_err_set(err, MLCTL_EINTEGRITY, "its tag '%s' is not valid: %s", tag,
					   why);
			goto done;
		}
		path = version_path(ev->model, ev->version);
		if ((rc = mlctl_git_read(r->git, &text, commit, path, err)))
			goto done;
		if ((rc = mlctl_manifest_parse(&m, text.buf, text.len, path,
					       MLCTL_MANIFEST_STORED, NULL, err))) {
			err->code = rc = MLCTL_EINTEGRITY;
			goto done;
		}
		if (strcmp(m.name, ev->model) || strcmp(m.version, ev->version)) {
			rc = mlctl_err_set(err, MLCTL_EINTEGRITY,
					   "%s names %s:%s, not the event's model and version", path,
					   m.name, m.version);
			goto done;
		}
		mlctl_manifest_digest(&m, digest);
		if (strcmp(digest, ev->digest)) {
			rc = mlctl_err_set(err, MLCTL_EINTEGRITY,
					   "%s at commit %.12s has digest %s, but its event says %s",
					   path, commit, digest, ev->digest);
			goto done;
		}
		if ((rc = insert_version(r, &m, digest, ev->actor, ev->time, commit, ev->validated,
					 err)))
			goto done;
		if ((rc = mlctl_git_tag(r->git, tag, commit, ev->digest, ev->actor, ev->time, err)))
			goto done;
	}
	if (!strcmp(ev->type, "record")) {
		char *summary;

		if (!ev->model || !ev->version || !ev->digest || !ev->kind || !ev->path) {
			rc = mlctl_err_set(err, MLCTL_EINTEGRITY,
					   "record event in commit %.12s lacks model, version, digest, "
					   "kind or path",
					   commit);
			goto done;
		}
		if ((rc = mlctl_git_read(r->git, &text, commit, ev->path, err)))
			goto done;
		summary = report_summary(text.buf, text.len);
		rc = insert_record(r, ev, summary, commit, err);
		free(summary);
		if (rc)
			goto done;
	}
	if (!strcmp(ev->type, "alias") || !strcmp(ev->type, "unalias")) {
		if (!ev->model || !ev->alias || !ev->version || !ev->digest || ev->n < 1) {
			rc = mlctl_err_set(err, MLCTL_EINTEGRITY,
					   "%s event in commit %.12s lacks model, alias, version, "
					   "digest or move number",
					   ev->type, commit);
			goto done;
		}
		if ((rc = mlctl_alias_tags_check(ev->model, ev->alias, err)))
			goto done;
		if ((rc = apply_alias(r, ev, commit, err)))
			goto done;
	}
	/* events of kinds this version does not know are kept in the log as they are */
	rc = insert_event(r, ev, commit, err);
done:
	mlctl_manifest_release(&m);
	mlctl_buf_release(&text);
	free(path);
	free(tag);
	return rc;
}

/*
 * Whether a failure to apply an event stops the replay: the environment's
 * (I/O, a full disk, a signal) does; the event's own (a name git cannot tag,
 * a manifest that does not parse, a wrong digest, a row it repeats) does not.
 */
static int replay_stops(struct mlctl_registry *r, int rc)
{
	if (mlctl_interrupted())
		return 1;
	if (rc == MLCTL_EIO)
		return (sqlite3_errcode(r->db) & 0xff) != SQLITE_CONSTRAINT;
	return rc == MLCTL_EINTERNAL || rc == MLCTL_ENET;
}

/*
 * An event that cannot be applied: kept in the events table as type
 * "skipped" with why (so verify reports it), a warning on stderr, and the
 * replay goes on past it.
 */
static int skip_event(struct replay *rp, const struct event *ev, const char *commit,
		      const char *why, struct mlctl_err *err)
{
	struct event sk = *ev;
	char *reason = mlctl_aprintf("%s event: %s", ev->type ? ev->type : "no", why);
	int rc;

	sk.type = "skipped";
	sk.actor = ev->actor ? ev->actor : "";
	sk.reason = reason;
	rc = insert_event(rp->r, &sk, commit, err);
	if (!rc) {
		rp->skipped++;
		mlctl_warn("skipped commit %.12s of the registry's history (%s); the rest is "
			   "served; see 'mlctl registry verify'",
			   commit, reason);
	}
	free(reason);
	return rc;
}

/* Apply one git commit's event to the database (inside a write transaction). */
static int replay_commit(void *payload, const char *commit, const char *message,
			 struct mlctl_err *err)
{
	struct replay *rp = payload;
	struct mlctl_registry *r = rp->r;
	struct mlctl_err why = MLCTL_ERR_INIT;
	struct event ev;
	cJSON *json = NULL;
	int rc;

	if ((rc = db_exec(r, "SAVEPOINT replay_event", err)))
		return rc;
	if (event_parse(&ev, &json, message))
		rc = mlctl_err_set(&why, MLCTL_EINTEGRITY,
				   "no event record, or one without type and actor or with a time "
				   "or number that is not a finite integer");
	else
		rc = apply_event(r, &ev, commit, &why);
	if (rc && replay_stops(r, rc)) {
		*err = why;
		goto done;
	}
	if (rc) {
		/* undo what the event wrote before it failed, then record it as skipped */
		if ((rc = db_exec(r, "ROLLBACK TO replay_event", err)) ||
		    (rc = skip_event(rp, &ev, commit, why.msg, err)))
			goto done;
	} else {
		rp->events++;
	}
	if (!(rc = meta_set(r, "git_head", commit, err)))
		rc = db_exec(r, "RELEASE replay_event", err);
	if (!rc)
		mlctl_fault("replay-event");
done:
	cJSON_Delete(json);
	return rc;
}

static void problem(struct mlctl_verify_report *rep, const char *msg);

/* Skipped events (the replay went past them) as verify's problems. */
static int verify_skipped(struct mlctl_registry *r, struct mlctl_verify_report *rep,
			  struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	char *msg;
	int rc, s;

	if ((rc = db_prepare(r, &st,
			     "SELECT git_commit, reason FROM events WHERE type = 'skipped' "
			     "ORDER BY id",
			     err)))
		return rc;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		msg = mlctl_aprintf("commit %.12s of the registry's history was skipped (%s); "
				    "everything else is served, that event is not",
				    (const char *)sqlite3_column_text(st, 0),
				    (const char *)sqlite3_column_text(st, 1));
		problem(rep, msg);
		free(msg);
	}
	if (s != SQLITE_DONE)
		rc = db_fail(err, r->db, "registry database");
	sqlite3_finalize(st);
	return rc;
}

/* Inside a write transaction: bring the database up to git's tip. */
static int catch_up_locked(struct mlctl_registry *r, size_t *events, struct mlctl_err *err)
{
	struct replay rp = { r, 0, 0 };
	char head[41], db_head[64];
	int rc;

	if ((rc = mlctl_git_head(r->git, head, err)) ||
	    (rc = meta_get(r, db_head, sizeof(db_head), "git_head", err)))
		return rc;
	if (!strcmp(head, db_head))
		return 0;
	if (!*head)
		return mlctl_err_set(err, MLCTL_EINTEGRITY,
				     "the registry's database has events but its git history is "
				     "empty; restore index.git from a backup");
	mlctl_git_clear_stale_locks(r->git);
	rc = mlctl_git_log(r->git, db_head, head, replay_commit, &rp, err);
	if (events)
		*events = rp.events;
	return rc;
}

static int catch_up(struct mlctl_registry *r, struct mlctl_err *err)
{
	char head[41], db_head[64];
	int rc;

	if ((rc = mlctl_git_head(r->git, head, err)) ||
	    (rc = meta_get(r, db_head, sizeof(db_head), "git_head", err)))
		return rc;
	if (!strcmp(head, db_head))
		return 0;
	/* git is ahead (a writer crashed, or one is between its git commit and COMMIT):
	 * check again under the lock */
	if ((rc = begin_write(r, err)))
		return rc;
	return end_write(r, catch_up_locked(r, NULL, err), err);
}

/* ---------------------------------------------------------------- open */

/*
 * Switch to WAL. Changing the journal mode can answer SQLITE_BUSY at once,
 * without the busy handler, while another process sets up the same new
 * registry: so wait and retry here, within the same time limit.
 */
static int set_wal(struct mlctl_registry *r, const char *dbpath, struct mlctl_err *err)
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
				     sqlite3_errmsg(r->db), sys ? " (" : "", sys ? strerror(sys) : "",
				     sys ? ")" : "",
				     sys == ENOSPC || sys == EDQUOT ? "; free some space" : "");
	}
	return mlctl_err_set(err, MLCTL_EIO, "'%s' is not a usable mlctl registry database: %s",
			     dbpath, sqlite3_errmsg(r->db));
}

static int schema_version(struct mlctl_registry *r)
{
	sqlite3_stmt *st = NULL;
	int version = -1;

	if (sqlite3_prepare_v2(r->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return version;
}

static int mkdir_sub(const char *root, const char *sub, struct mlctl_err *err)
{
	char *p = mlctl_path_join(root, sub);
	int rc = mlctl_mkdir_p(p, 0755, err);

	free(p);
	return rc;
}

static int migrate(struct mlctl_registry *r, struct mlctl_err *err)
{
	int version = schema_version(r), rc;
	size_t i;
	char sql[64];

	if (version > (int)MLCTL_ARRAY_SIZE(migrations))
		return mlctl_err_set(err, MLCTL_EIO,
				     "registry '%s' has schema %d, newer than this mlctl knows (%d); "
				     "upgrade mlctl",
				     r->root, version, (int)MLCTL_ARRAY_SIZE(migrations));
	for (i = (size_t)version; i < MLCTL_ARRAY_SIZE(migrations); i++) {
		if ((rc = db_exec(r, migrations[i], err)))
			return rc;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %zu", i + 1);
		if ((rc = db_exec(r, sql, err)))
			return rc;
	}
	return 0;
}

/*
 * mlctl.db, before SQLite opens it (and would make an empty one): next to a
 * history in index.git it is there, and empty or an SQLite file as long as
 * its header says. MLCTL_EINTEGRITY naming it when not, so that nothing is created over
 * it and 'mlctl registry reindex' can rebuild it.
 */
static int check_db_file(const char *root, struct mlctl_err *err)
{
	char *db = mlctl_path_join(root, "mlctl.db");
	char *head = mlctl_path_join(root, "index.git/HEAD");
	unsigned char h[100];
	char what[96] = "";
	struct stat st;
	int fd = -1, rc = 0;

	if (access(head, F_OK) != 0)
		goto done; /* no history: a new registry, or none */
	if ((fd = open(db, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
		if (errno == ENOENT)
			snprintf(what, sizeof(what), "is missing");
		goto done; /* other errors are open's to report */
	}
	if (st.st_size == 0) {
		/* SQLite's empty database: set-up replays all of git into it */
	} else if (st.st_size < (off_t)sizeof(h) ||
	    mlctl_pread_all(fd, h, sizeof(h), 0) != (ssize_t)sizeof(h)) {
		snprintf(what, sizeof(what), "is cut short (%lld bytes)", (long long)st.st_size);
	} else if (memcmp(h, "SQLite format 3", 16)) {
		snprintf(what, sizeof(what), "is not an SQLite database");
	} else {
		uint64_t page = (uint64_t)h[16] << 8 | h[17], pages;

		page = page == 1 ? 65536 : page;
		pages = (uint64_t)h[28] << 24 | (uint64_t)h[29] << 16 | (uint64_t)h[30] << 8 |
			h[31];
		/* the page count is valid when its change counter matches the header's */
		if (!memcmp(h + 24, h + 92, 4) && (uint64_t)st.st_size < page * pages)
			snprintf(what, sizeof(what), "is cut short (%lld of %llu bytes)",
				 (long long)st.st_size, (unsigned long long)(page * pages));
	}
done:
	if (*what)
		rc = mlctl_err_set(err, MLCTL_EINTEGRITY,
				   "registry database '%s' %s; rebuild it from index.git with "
				   "'mlctl registry reindex'",
				   db, what);
	if (fd >= 0)
		close(fd);
	free(db);
	free(head);
	return rc;
}

static int is_registry(const char *root)
{
	char *db = mlctl_path_join(root, "mlctl.db");
	char *git = mlctl_path_join(root, "index.git");
	int ok = access(db, F_OK) == 0 && mlctl_is_dir(git);

	free(db);
	free(git);
	return ok;
}

/* 1 when s[0, n) is a host name: 'localhost', or two or more dot-separated labels. */
static int is_host(const char *s, size_t n)
{
	size_t i, label = 0, dots = 0;

	if (n == 9 && !strncmp(s, "localhost", 9))
		return 1;
	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (!label)
				return 0;
			dots++;
			label = 0;
		} else if ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
			   (s[i] >= '0' && s[i] <= '9') || s[i] == '-') {
			label++;
		} else {
			return 0;
		}
	}
	return dots > 0 && label > 0;
}

/*
 * Refuse (MLCTL_EUSAGE) a registry location that names a remote, not a
 * folder: a URL
 * (scheme://...), a first component with a ':' (git's host:path and
 * user@host:path, host:port/...), or a first component that is a host
 * name followed by a '/' (docker's rule: ghcr.io/acme/models). A path that
 * starts with '/', './', '../' or '~' is always a folder.
 */
int mlctl_registry_check_local(const char *root, struct mlctl_err *err)
{
	size_t first = strcspn(root, "/"), host = first;
	const char *scheme = strstr(root, "://"), *colon = memchr(root, ':', first);

	if (root[0] == '/' || root[0] == '~' || !strncmp(root, "./", 2) ||
	    !strncmp(root, "../", 3))
		return 0;
	if (scheme && (size_t)(scheme - root) < first)
		return mlctl_err_set(err, MLCTL_EUSAGE,
				     "registry '%s' is a URL, not a folder: mlctl keeps its "
				     "registry in a local folder and does not reach remote "
				     "registries; give --registry or MLCTL_REGISTRY a path on this "
				     "machine",
				     root);
	/* user@host:path names the host before the ':'; host:port/path keeps its port */
	if (colon && strspn(colon + 1, "0123456789") != (size_t)(root + first - colon - 1))
		host = (size_t)(colon - root);
	if (colon || (root[first] == '/' && is_host(root, first)))
		return mlctl_err_set(err, MLCTL_EUSAGE,
				     "registry '%s' looks like a remote (host '%.*s'), not a folder: "
				     "mlctl keeps its registry in a local folder and does not reach "
				     "remote registries; for a folder of that name write './%s'",
				     root, (int)host, root, root);
	return 0;
}

/* 1 when this process may not write in path (permissions, a read-only mount). */
static int cannot_write(const char *path)
{
	return faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) < 0 &&
	       (errno == EACCES || errno == EROFS || errno == EPERM);
}

/* path as an SQLite URI path: '%', '?' and '#' percent-encoded. */
static char *uri_path(const char *path)
{
	struct mlctl_buf b = MLCTL_BUF_INIT;

	for (; *path; path++) {
		if (*path == '%' || *path == '?' || *path == '#')
			mlctl_buf_printf(&b, "%%%02X", (unsigned char)*path);
		else
			mlctl_buf_add(&b, path, 1);
	}
	return mlctl_buf_detach(&b);
}

/*
 * Open the database of a registry this process cannot write. With no
 * committed changes in mlctl.db-wal (every mlctl leaves none when it
 * closes), the file is all there is: opened as immutable, which needs no
 * -shm, no locks and no writes. Otherwise its -wal must be read too, which
 * SQLite can do read-only through an existing -shm.
 */
static int open_readonly(struct mlctl_registry *r, const char *dbpath, struct mlctl_err *err)
{
	char *wal = mlctl_aprintf("%s-wal", dbpath), *upath = uri_path(dbpath), *uri;
	struct stat st;
	int has_wal = stat(wal, &st) == 0 && st.st_size > 0, rc = 0;

	uri = mlctl_aprintf("file:%s?%s", upath, has_wal ? "mode=ro" : "immutable=1");
	if (sqlite3_open_v2(uri, &r->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI |
				 SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK ||
	    sqlite3_exec(r->db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) !=
		    SQLITE_OK)
		rc = mlctl_err_set(err, MLCTL_EIO,
				   "cannot read the registry database '%s' without write access: "
				   "%s%s",
				   dbpath, r->db ? sqlite3_errmsg(r->db) : "out of memory",
				   has_wal ? "; its last changes are in mlctl.db-wal: run any mlctl "
					     "command on it once with write access" : "");
	free(wal);
	free(upath);
	free(uri);
	return rc;
}

/* Read-only: git ahead of the database cannot be replayed here; serve what it has, and say so. */
static int check_behind(struct mlctl_registry *r, struct mlctl_err *err)
{
	char head[41], db_head[64];
	int rc;

	if ((rc = mlctl_git_head(r->git, head, err)) ||
	    (rc = meta_get(r, db_head, sizeof(db_head), "git_head", err)))
		return rc;
	if (strcmp(head, db_head))
		mlctl_warn("registry '%s' is read-only for you and its index is behind its history "
			   "(git at %.12s, index at %.12s): showing what the index holds; any "
			   "mlctl command run once with write access brings it up to date",
			   r->root, head, *db_head ? db_head : "nothing");
	return 0;
}

/*
 * Git lock files of a writer that is gone (killed in set-up or mid-write)
 * would stop every later write: when there are any, remove them under the
 * write lock, where no live writer can hold one.
 */
static int clear_stale_locks(struct mlctl_registry *r, const char *gitdir,
			     struct mlctl_err *err)
{
	int rc;

	if (!mlctl_git_stale_locks(gitdir, 0))
		return 0;
	if ((rc = db_exec(r, "BEGIN IMMEDIATE", err)))
		return rc;
	mlctl_git_stale_locks(gitdir, 1);
	return db_exec(r, "COMMIT", err);
}

/* A folder next to a registry being set up by a process that is gone (.NAME.new-PID). */
static void sweep_setups(const char *parent, const char *name)
{
	char *prefix = mlctl_aprintf(".%s.new-", name);

	mlctl_sweep_dead(parent, prefix, 1);
	free(prefix);
}

/* The parts of a new registry in dir: blobs/, tmp/, mlctl.db with its schema, index.git. */
static int build_registry(const char *dir, struct mlctl_err *err)
{
	struct mlctl_registry b = { 0 };
	struct mlctl_git *git = NULL;
	char *dbpath = mlctl_path_join(dir, "mlctl.db"), *gitdir = mlctl_path_join(dir, "index.git");
	int rc;

	b.root = (char *)dir;
	b.tmp_claim = -1;
	if ((rc = mkdir_sub(dir, "blobs/sha256", err)) || (rc = mkdir_sub(dir, "tmp", err)))
		goto done;
	mlctl_fault("setup-dirs");
	if (sqlite3_open_v2(dbpath, &b.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				    SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		rc = mlctl_err_set(err, MLCTL_EIO, "cannot create '%s': %s", dbpath,
				   b.db ? sqlite3_errmsg(b.db) : "out of memory");
		goto done;
	}
	if ((rc = set_wal(&b, dbpath, err)) ||
	    (rc = db_exec(&b, "PRAGMA synchronous = FULL", err)) ||
	    (rc = db_exec(&b, "BEGIN", err)) || (rc = migrate(&b, err)) ||
	    (rc = db_exec(&b, "COMMIT", err)))
		goto done;
	mlctl_fault("setup-db");
	if ((rc = mlctl_git_open(&git, gitdir, 1, err)))
		goto done;
	mlctl_fault("setup-git");
done:
	mlctl_git_free(git);
	if (b.db && sqlite3_close(b.db) != SQLITE_OK && !rc)
		rc = mlctl_err_set(err, MLCTL_EIO, "cannot close '%s'", dbpath);
	if (!rc) {
		char *blobs = mlctl_path_join(dir, "blobs");

		mlctl_fsync_dir(blobs);
		mlctl_fsync_dir(gitdir);
		mlctl_fsync_dir(dir);
		free(blobs);
	}
	free(dbpath);
	free(gitdir);
	return rc;
}

/*
 * Set up a new registry at root (absent, or an empty folder) as a whole:
 * built in a sibling, .NAME.new-PID (locked while it is built), then
 * renamed into place, so a crash leaves no registry or a complete one, plus
 * a sibling the next set-up removes. Of two processes setting up the same
 * registry, one rename wins and the other uses the winner's registry.
 * 1 when no sibling can be made or renamed there (the parent is not
 * writable, root is a mount point or on another file system): the caller
 * sets up in place instead.
 */
static int build_beside(const char *path, char **tmp_out, int *lock_out, struct mlctl_err *err)
{
	char *parent = mlctl_dirname(path), *tmp = NULL;
	int lock = -1, rc;

	*tmp_out = NULL;
	*lock_out = -1;
	if ((rc = mlctl_mkdir_p(parent, 0755, err)))
		goto out;
	sweep_setups(parent, mlctl_basename(path));
	tmp = mlctl_aprintf("%s/.%s.new-%ld", parent, mlctl_basename(path), (long)getpid());
	mlctl_rm_rf(tmp);
	if (mkdir(tmp, 0755) < 0) {
		rc = 1;
		goto out;
	}
	if ((lock = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0)
		flock(lock, LOCK_EX);
	if ((rc = build_registry(tmp, err))) {
		mlctl_rm_rf(tmp);
		if (lock >= 0)
			close(lock);
		goto out;
	}
	mlctl_fault("setup-built");
	*tmp_out = tmp;
	*lock_out = lock;
	tmp = NULL;
out:
	free(tmp);
	free(parent);
	return rc;
}

/* root without its trailing slashes; caller frees */
static char *trimmed(const char *root)
{
	char *path = mlctl_strdup(root);
	size_t len = strlen(path);

	while (len > 1 && path[len - 1] == '/')
		path[--len] = '\0';
	return path;
}

/*
 * Rename a registry built by build_beside into place. 0 when it is there,
 * 1 when another registry (or other files) got there first, <0 an error.
 */
static int rename_into_place(const char *tmp, const char *path, struct mlctl_err *err)
{
	char *parent;

	if (rename(tmp, path) < 0) {
		if (errno == ENOTEMPTY || errno == EEXIST)
			return 1;
		return mlctl_err_set(err, MLCTL_EIO, "cannot move the new registry into '%s': %s",
				     path, strerror(errno));
	}
	parent = mlctl_dirname(path);
	mlctl_fsync_dir(parent);
	free(parent);
	mlctl_fault("setup-renamed");
	return 0;
}

static int setup_atomic(const char *root, struct mlctl_err *err)
{
	char *path = trimmed(root), *tmp = NULL;
	int lock = -1, rc;

	if ((rc = build_beside(path, &tmp, &lock, err)))
		goto out;
	/* another process's registry (or files) got there first: use it */
	rc = rename_into_place(tmp, path, err);
	if (rc == 1)
		rc = 0;
	else if (rc < 0)
		rc = 1;
	mlctl_rm_rf(tmp);
	if (lock >= 0)
		close(lock);
out:
	free(tmp);
	free(path);
	return rc;
}

int mlctl_registry_publish(struct mlctl_registry *r, struct mlctl_err *err)
{
	int rc;

	if (!r->final)
		return 0;
	/* closed first: the database's WAL is folded in, tmp/ released, before the move */
	if (r->db) {
		sqlite3_close_v2(r->db);
		r->db = NULL;
	}
	mlctl_git_free(r->git);
	r->git = NULL;
	mlctl_tmp_unclaim(r->tmp_claim, r->root);
	r->tmp_claim = -1;
	mlctl_fsync_dir(r->root);
	rc = rename_into_place(r->root, r->final, err);
	if (rc == 0) {
		free(r->root);
		r->root = r->final;
		r->final = NULL;
	}
	return rc;
}

int mlctl_registry_open(struct mlctl_registry **out, const char *root, int create,
			struct mlctl_err *err)
{
	struct mlctl_registry *r = mlctl_calloc(1, sizeof(*r));
	char *dbpath = NULL, *sub = NULL;
	int rc = 0, fresh;

	*out = NULL;
	r->tmp_claim = -1;
	r->setup_lock = -1;
	r->root = mlctl_strdup(root);
	if ((rc = mlctl_registry_check_local(root, err)))
		goto done;
	if (!mlctl_is_dir(root)) {
		struct stat st;

		if (stat(root, &st) == 0) {
			/* a read finds no registry there; a write cannot make one */
			if (create)
				rc = mlctl_err_set(err, MLCTL_EIO,
						   "registry '%s' is a file, not a folder; pass "
						   "--registry DIR with a folder",
						   root);
			else
				rc = mlctl_err_set(err, MLCTL_ENOTFOUND,
						   "no registry at '%s': it is a file, not a folder; "
						   "pass --registry DIR with a registry",
						   root);
			goto done;
		}
		if (!create) {
			rc = mlctl_err_set(err, MLCTL_ENOTFOUND,
					   "no registry at '%s'; push a model first or pass "
					   "--registry DIR",
					   root);
			goto done;
		}
	}
	if (create == MLCTL_OPEN_FIRST && !is_registry(root) && mlctl_dir_is_empty(root)) {
		/* the first push: built beside, written there, renamed into place when it succeeds */
		char *path = trimmed(root), *tmp = NULL;

		rc = build_beside(path, &tmp, &r->setup_lock, err);
		if (rc == 0) {
			free(r->root);
			r->root = tmp;
			r->final = path;
			root = r->root;
		} else {
			free(path);
			if (rc < 0)
				goto done;
		}
		rc = 0;
	}
	if (create && !r->final && !is_registry(root) && mlctl_dir_is_empty(root)) {
		/* a new registry: built beside and renamed into place (or in place, failing that) */
		if ((rc = setup_atomic(root, err)) < 0)
			goto done;
		if (rc == 1 && (rc = mlctl_mkdir_p(root, 0755, err)))
			goto done;
		rc = 0;
	}
	if ((rc = check_db_file(root, err)))
		goto done;
	fresh = !is_registry(root);
	if (fresh && !mlctl_dir_is_empty(root)) {
		char *db = mlctl_path_join(root, "mlctl.db");
		int has_db = access(db, F_OK) == 0;

		free(db);
		/* a registry another process is creating right now has mlctl.db first */
		if (!has_db && !create) {
			rc = mlctl_err_set(err, MLCTL_ENOTFOUND,
					   "no registry at '%s': the folder holds other files (no "
					   "mlctl.db and index.git); pass --registry DIR with a registry",
					   root);
			goto done;
		}
		if (!has_db) {
			rc = mlctl_err_set(err, MLCTL_EIO,
					   "'%s' is not an mlctl registry (no mlctl.db and index.git); "
					   "use an empty folder or an existing registry",
					   root);
			goto done;
		}
	}
	if (fresh && !create) {
		rc = mlctl_err_set(err, MLCTL_ENOTFOUND,
				   "no registry at '%s'; push a model first or pass --registry DIR",
				   root);
		goto done;
	}
	dbpath = mlctl_path_join(root, "mlctl.db");
	sub = mlctl_path_join(root, "index.git");
	if (!fresh && (cannot_write(root) || cannot_write(dbpath))) {
		/* reads only: no catch-up, no lock, nothing written (a read-only mount, say) */
		r->readonly = 1;
		if ((rc = open_readonly(r, dbpath, err)))
			goto done;
		/* the database is open: checks of it go here, before anything reads it */
		if (schema_version(r) != (int)MLCTL_ARRAY_SIZE(migrations)) {
			rc = mlctl_err_set(err, MLCTL_EIO,
					   "registry '%s' needs an upgrade of its database, and it is "
					   "read-only for you; run any mlctl command on it once with "
					   "write access",
					   root);
			goto done;
		}
		if (!(rc = mlctl_git_open(&r->git, sub, 0, err)))
			rc = check_behind(r, err);
		goto done;
	}
	if (sqlite3_open_v2(dbpath, &r->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				    SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		rc = mlctl_err_set(err, MLCTL_EIO, "cannot open '%s': %s", dbpath,
				   r->db ? sqlite3_errmsg(r->db) : "out of memory");
		goto done;
	}
	sqlite3_busy_handler(r->db, busy_wait, NULL);
	if ((rc = set_wal(r, dbpath, err)))
		goto done;
	if ((rc = db_exec(r, "PRAGMA synchronous = FULL", err)) ||
	    (rc = db_exec(r, "PRAGMA foreign_keys = ON", err)))
		goto done;
	/* the database is open: checks of it go here, before anything reads it */
	/* a writer killed mid-way (or in an older mlctl's set-up) may have left git locks */
	if ((rc = clear_stale_locks(r, sub, err)))
		goto done;
	if (!fresh && schema_version(r) == (int)MLCTL_ARRAY_SIZE(migrations)) {
		/* the common case: nothing to set up, only catch up if git is ahead */
		if ((rc = mlctl_git_open(&r->git, sub, 0, err)))
			goto done;
		rc = catch_up(r, err);
		goto done;
	}
	/* set up (or migrate) under the write lock, so two first pushes do not race */
	if ((rc = begin_write(r, err)))
		goto done;
	rc = mkdir_sub(root, "blobs/sha256", err);
	if (!rc)
		rc = mkdir_sub(root, "tmp", err);
	if (!rc)
		rc = mlctl_git_open(&r->git, sub, 1, err);
	if (!rc)
		rc = migrate(r, err);
	if (!rc)
		rc = catch_up_locked(r, NULL, err);
	rc = end_write(r, rc, err);
done:
	free(dbpath);
	free(sub);
	if (rc)
		mlctl_registry_free(r);
	else
		*out = r;
	return rc;
}

int mlctl_registry_open_damaged(struct mlctl_registry **out, const char *root,
				struct mlctl_err *err)
{
	struct mlctl_err derr = MLCTL_ERR_INIT;
	struct mlctl_registry *r;
	char *sub;
	int rc;

	*out = NULL;
	if ((rc = mlctl_registry_check_local(root, err)))
		return rc;
	if (!mlctl_is_dir(root) || check_db_file(root, &derr) == 0)
		return mlctl_registry_open(out, root, 0, err);
	r = mlctl_calloc(1, sizeof(*r));
	r->tmp_claim = -1;
	r->setup_lock = -1;
	r->root = mlctl_strdup(root);
	r->db_problem = mlctl_strdup(derr.msg);
	sub = mlctl_path_join(root, "index.git");
	rc = mlctl_git_open(&r->git, sub, 0, err);
	free(sub);
	if (rc)
		mlctl_registry_free(r);
	else
		*out = r;
	return rc;
}

void mlctl_registry_free(struct mlctl_registry *r)
{
	if (!r)
		return;
	if (r->db && r->git)
		end_write(r, MLCTL_EINTERNAL, NULL); /* a write left open: undo it */
	if (r->db) {
		rollback(r);
		sqlite3_close_v2(r->db);
	}
	mlctl_git_free(r->git);
	mlctl_tmp_unclaim(r->tmp_claim, r->root);
	if (r->final)
		mlctl_rm_rf(r->root); /* a first push that did not succeed: no registry */
	if (r->setup_lock >= 0)
		close(r->setup_lock);
	free(r->final);
	free(r->db_problem);
	free(r->root);
	free(r);
}

/* ---------------------------------------------------------------- queries */

void mlctl_version_info_release(struct mlctl_version_info *v)
{
	if (!v)
		return;
	free(v->name);
	free(v->version);
	free(v->digest);
	free(v->actor);
	memset(v, 0, sizeof(*v));
}

void mlctl_version_infos_free(struct mlctl_version_info *v, size_t n)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < n; i++)
		mlctl_version_info_release(&v[i]);
	free(v);
}

void mlctl_model_infos_free(struct mlctl_model_info *m, size_t n)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < n; i++) {
		free(m[i].name);
		free(m[i].latest);
	}
	free(m);
}

#define VERSION_COLS \
	"m.name, v.version, v.digest, v.actor, v.created, v.size, v.nfiles, v.manifest, " \
	"v.validated"

static void fill_version(struct mlctl_version_info *v, sqlite3_stmt *st)
{
	v->name = col_text(st, 0);
	v->version = col_text(st, 1);
	v->digest = col_text(st, 2);
	v->actor = col_text(st, 3);
	v->created = sqlite3_column_int64(st, 4);
	v->size = (uint64_t)sqlite3_column_int64(st, 5);
	v->nfiles = (size_t)sqlite3_column_int64(st, 6);
	v->validated = sqlite3_column_int(st, 8);
}

static void fill_version_row(void *item, sqlite3_stmt *st)
{
	fill_version(item, st);
}

static void fill_model_row(void *item, sqlite3_stmt *st)
{
	struct mlctl_model_info *m = item;

	m->name = col_text(st, 0);
	m->nversions = (size_t)sqlite3_column_int64(st, 1);
	m->updated = sqlite3_column_int64(st, 2);
	m->latest = NULL;
}

static int version_desc(const void *a, const void *b)
{
	const struct mlctl_version_info *x = a, *y = b;

	return mlctl_semver_cmp_str(y->version, x->version);
}

int mlctl_registry_versions(struct mlctl_registry *r, struct mlctl_version_info **out,
			    size_t *n, const char *name, struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	struct mlctl_version_info *v = NULL;
	size_t cnt = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = db_prepare(r, &st,
			     "SELECT " VERSION_COLS " FROM versions v JOIN models m ON "
			     "m.id = v.model_id WHERE m.name = ?",
			     err)))
		return rc;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	v = collect_rows(r, st, sizeof(*v), &cnt, fill_version_row, &rc, err);
	if (!rc && cnt == 0)
		rc = mlctl_err_set(err, MLCTL_ENOTFOUND,
				   "model '%s' is not in the registry; see 'mlctl list'", name);
	if (rc) {
		mlctl_version_infos_free(v, cnt);
		return rc;
	}
	qsort(v, cnt, sizeof(*v), version_desc);
	*out = v;
	*n = cnt;
	return 0;
}

int mlctl_registry_list(struct mlctl_registry *r, struct mlctl_model_info **out, size_t *n,
			struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	struct mlctl_model_info *m = NULL;
	size_t cnt = 0, i;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = db_prepare(r, &st,
			     "SELECT m.name, count(v.id), max(v.created) FROM models m "
			     "JOIN versions v ON v.model_id = m.id GROUP BY m.id ORDER BY m.name",
			     err)))
		return rc;
	m = collect_rows(r, st, sizeof(*m), &cnt, fill_model_row, &rc, err);
	for (i = 0; !rc && i < cnt; i++) {
		struct mlctl_version_info *v;
		size_t nv;

		if ((rc = mlctl_registry_versions(r, &v, &nv, m[i].name, err)))
			break;
		m[i].latest = mlctl_strdup(v[0].version);
		mlctl_version_infos_free(v, nv);
	}
	if (rc) {
		mlctl_model_infos_free(m, cnt);
		return rc;
	}
	*out = m;
	*n = cnt;
	return 0;
}

/* Candidates listed by an ambiguous digest prefix: at most this many. */
#define AMBIGUOUS_SHOWN 4

/*
 * A digest or a prefix of one (of ref->name's versions, or of any model's
 * when the name is empty) to the one version it names: ref becomes
 * NAME:VERSION. No match is MLCTL_ENOTFOUND; several are MLCTL_EUSAGE with
 * the candidates, each digest cut where it differs from the others.
 */
static int resolve_digest(struct mlctl_registry *r, struct mlctl_ref *ref, const char *refstr,
			  struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	struct mlctl_version_info *v = NULL;
	struct mlctl_buf list = MLCTL_BUF_INIT;
	size_t n = 0, i, cut = strlen(ref->digest) + 1;
	int rc;

	if ((rc = db_prepare(r, &st,
			     "SELECT " VERSION_COLS " FROM versions v JOIN models m ON "
			     "m.id = v.model_id WHERE (?1 = '' OR m.name = ?1) AND "
			     "substr(v.digest, 1, length(?2)) = ?2 ORDER BY v.digest",
			     err)))
		return rc;
	sqlite3_bind_text(st, 1, ref->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ref->digest, -1, SQLITE_STATIC);
	v = collect_rows(r, st, sizeof(*v), &n, fill_version_row, &rc, err);
	if (!rc && n == 0) {
		if (*ref->name)
			rc = mlctl_err_set(err, MLCTL_ENOTFOUND,
					   "no version of '%s' has digest %s; see 'mlctl versions %s'",
					   ref->name, ref->digest, ref->name);
		else
			rc = mlctl_err_set(err, MLCTL_ENOTFOUND,
					   "no version in the registry has digest %s; see 'mlctl list'",
					   ref->digest);
	} else if (!rc && n > 1) {
		/* sorted by digest: neighbours share the longest prefixes */
		for (i = 1; i < n; i++) {
			size_t k = 0;

			while (v[i].digest[k] && v[i].digest[k] == v[i - 1].digest[k])
				k++;
			if (k + 1 > cut)
				cut = k + 1;
		}
		for (i = 0; i < n && i < AMBIGUOUS_SHOWN; i++)
			mlctl_buf_printf(&list, "%s%s:%s (%.*s)", i ? ", " : "", v[i].name,
					 v[i].version, (int)cut, v[i].digest);
		if (n > AMBIGUOUS_SHOWN)
			mlctl_buf_printf(&list, " and %zu more", n - AMBIGUOUS_SHOWN);
		rc = mlctl_err_set(err, MLCTL_EUSAGE,
				   "digest %s%s%s%s is ambiguous: %s; give more of its digits",
				   ref->digest, *ref->name ? " in '" : "", *ref->name ? refstr : "",
				   *ref->name ? "'" : "", list.buf);
	} else if (!rc) {
		snprintf(ref->name, sizeof(ref->name), "%s", v[0].name);
		snprintf(ref->tag, sizeof(ref->tag), "%s", v[0].version);
		ref->kind = MLCTL_REF_VERSION;
	}
	mlctl_buf_release(&list);
	mlctl_version_infos_free(v, n);
	return rc;
}

/*
 * The version a reference names. Latest: highest release, else highest
 * prerelease. A digest may be shortened to a unique prefix of 12 or more
 * hex digits, and given without NAME@.
 */
int mlctl_registry_resolve(struct mlctl_registry *r, struct mlctl_version_info *info,
			   struct mlctl_manifest *m, const char *refstr, struct mlctl_err *err)
{
	struct mlctl_ref ref;
	sqlite3_stmt *st = NULL;
	char *manifest = NULL;
	int rc, s;

	memset(info, 0, sizeof(*info));
	if (m)
		memset(m, 0, sizeof(*m));
	if ((rc = mlctl_ref_parse(&ref, refstr, err)))
		return rc;
	if (ref.kind == MLCTL_REF_ALIAS) {
		char version[256], digest[72];
		int64_t moves;

		if ((rc = alias_state(r, ref.name, ref.tag, version, digest, &moves, err)))
			return rc;
		if (!*version)
			return mlctl_err_set(err, MLCTL_ENOTFOUND,
					     "alias '%s' of '%s' does not exist; see 'mlctl alias list "
					     "%s', or set it with 'mlctl alias set %s:VERSION %s'",
					     ref.tag, ref.name, ref.name, ref.name, ref.tag);
		snprintf(ref.tag, sizeof(ref.tag), "%s", version);
		ref.kind = MLCTL_REF_VERSION;
	}
	if (ref.kind == MLCTL_REF_LATEST) {
		struct mlctl_version_info *v;
		size_t n, i, pick = 0;

		if ((rc = mlctl_registry_versions(r, &v, &n, ref.name, err)))
			return rc;
		for (i = 0; i < n; i++)
			if (!strchr(v[i].version, '-')) {
				pick = i;
				break;
			}
		snprintf(ref.tag, sizeof(ref.tag), "%s", v[pick].version);
		mlctl_version_infos_free(v, n);
		ref.kind = MLCTL_REF_VERSION;
	}
	if (ref.kind == MLCTL_REF_DIGEST && (rc = resolve_digest(r, &ref, refstr, err)))
		return rc;
	if ((rc = db_prepare(r, &st,
			     "SELECT " VERSION_COLS " FROM versions v JOIN models m ON "
			     "m.id = v.model_id WHERE m.name = ? AND v.version = ?",
			     err)))
		return rc;
	sqlite3_bind_text(st, 1, ref.name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ref.tag, -1, SQLITE_STATIC);
	s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		fill_version(info, st);
		manifest = col_text(st, 7);
	} else if (s == SQLITE_DONE) {
		rc = mlctl_err_set(err, MLCTL_ENOTFOUND,
				   "'%s' is not in the registry; see 'mlctl versions %s'", refstr,
				   ref.name);
	} else {
		rc = db_fail(err, r->db, "registry database");
	}
	sqlite3_finalize(st);
	if (!rc && m) {
		struct mlctl_err perr = MLCTL_ERR_INIT;
		char digest[72];

		/* the index's copy must be the manifest its digest names: an edited
		 * row must not hand out other files under the version's name */
		if (mlctl_manifest_parse(m, manifest, strlen(manifest), info->name,
					 MLCTL_MANIFEST_STORED, NULL, &perr)) {
			rc = mlctl_err_set(err, MLCTL_EINTEGRITY,
					   "the registry's index holds a damaged manifest for %s:%s "
					   "(%s); run 'mlctl registry verify'",
					   info->name, info->version, perr.msg);
		} else {
			mlctl_manifest_digest(m, digest);
			if (strcmp(digest, info->digest)) {
				mlctl_manifest_release(m);
				rc = mlctl_err_set(err, MLCTL_EINTEGRITY,
						   "the registry's index holds a manifest for %s:%s "
						   "that does not match its digest %.19s…; run 'mlctl "
						   "registry verify'",
						   info->name, info->version, info->digest);
			}
		}
	}
	free(manifest);
	if (rc)
		mlctl_version_info_release(info);
	return rc;
}

/* ---------------------------------------------------------------- push */

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

/* Under the write lock: move the staged blobs into place, noting each one (and folder) made. */
static int staging_install(struct mlctl_registry *r, struct staging *sg, size_t *created,
			   struct mlctl_err *err)
{
	size_t i;
	int rc, made;

	for (i = 0; i < sg->n; i++) {
		char *blob = mlctl_blob_path(r->root, sg->shas[i]), *dir = mlctl_dirname(blob);
		int had_dir = mlctl_is_dir(dir);

		rc = mlctl_blob_install(r->root, sg->paths[i], sg->shas[i], &made, err);
		r->installed = mlctl_realloc(r->installed,
					     (r->ninstalled + 2) * sizeof(*r->installed));
		if (!had_dir && mlctl_is_dir(dir))
			r->installed[r->ninstalled++] = mlctl_strdup(dir);
		if (!rc && made)
			r->installed[r->ninstalled++] = mlctl_strdup(blob);
		free(blob);
		free(dir);
		if (rc)
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

/* Inside the write lock: find an existing version for m; 1 if found (digest into d). */
static int lookup_digest(struct mlctl_registry *r, char d[72], const char *name,
			 const char *version, struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc, s;

	d[0] = '\0';
	if ((rc = db_prepare(r, &st,
			     "SELECT v.digest FROM versions v JOIN models m ON m.id = v.model_id "
			     "WHERE m.name = ? AND v.version = ?",
			     err)))
		return rc;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, version, -1, SQLITE_STATIC);
	s = sqlite3_step(st);
	if (s == SQLITE_ROW)
		snprintf(d, 72, "%s", (const char *)sqlite3_column_text(st, 0));
	rc = s == SQLITE_ROW ? 1 : s == SQLITE_DONE ? 0 : db_fail(err, r->db, "registry database");
	sqlite3_finalize(st);
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
	int rc = lookup_digest(r, have, m->name, m->version, err);

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

/*
 * Under the write lock: settle the version, make its git commit and tag (in
 * memory) and its rows, and only then, when nothing but I/O can fail any
 * more, install the blobs and let end_write write git and COMMIT; a
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

	if ((rc = begin_write(r, err)))
		goto done;
	if ((rc = catch_up_locked(r, NULL, err)))
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
		if (rc == 1)
			rc = staging_install(r, sg, &healed, err);
		goto done;
	}
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
	path = version_path(m->name, m->version);
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
	if ((rc = git_event(r, head, &ch, 1, evj, msg, actor, now, err)))
		goto done;
	tag = tag_name(m->name, m->version);
	if ((rc = mlctl_git_tag(r->git, tag, head, digest, actor, now, err)))
		goto done;
	memset(&ev, 0, sizeof(ev));
	ev.type = "push";
	ev.model = m->name;
	ev.version = m->version;
	ev.digest = digest;
	ev.actor = actor;
	ev.time = now;
	ev.validated = validated;
	if ((rc = insert_version(r, m, digest, actor, now, head, validated, err)) ||
	    (rc = insert_event(r, &ev, head, err)) || (rc = meta_set(r, "git_head", head, err)))
		goto done;
	/* the blobs go in place before git names them; from here on a failure is undone */
	if ((rc = reserve_space(r, err)) ||
	    (rc = staging_install(r, sg, &res->blobs_written, err)))
		goto done;
	mlctl_fault("blobs-installed");
done:
	rc = end_write(r, rc, err);
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
	if ((rc = mlctl_project_collect(&files, &n, dir, &m, err)) || (rc = claim_tmp(r, err)))
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
		/* the digest is known from the first entry: a re-push reads nothing more */
		mlctl_manifest_digest(m, digest);
		if ((rc = check_existing(r, m, digest, res, err))) {
			if (rc == 1)
				rc = 0;
			goto done;
		}
	}
	if ((rc = claim_tmp(r, err)))
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

/* ---------------------------------------------------------------- pull */

/* Copy a blob into a new file at path, checking its digest; mode applied at the end. */
static int write_verified(const char *root, const struct mlctl_file_entry *f, const char *path,
			  struct mlctl_err *err)
{
	char *src = mlctl_blob_path(root, f->sha256);
	struct mlctl_hashpipe *hp = NULL;
	char hex[65];
	uint64_t total = 0;
	int in = -1, out = -1, rc = 0;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		rc = mlctl_err_errno(err, MLCTL_EINTEGRITY,
				     "blob for '%s' is missing from the registry (%s); run 'mlctl "
				     "registry verify'",
				     f->path, src);
		goto done;
	}
	posix_fadvise(in, 0, 0, POSIX_FADV_SEQUENTIAL);
	out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		rc = mlctl_err_errno(err, MLCTL_EIO, "cannot create '%s'", path);
		goto done;
	}
	hp = mlctl_hashpipe_new();
	for (;;) {
		size_t cap;
		char *slot = mlctl_hashpipe_slot(hp, &cap);
		ssize_t n;

		if (mlctl_interrupted()) {
			rc = mlctl_err_interrupted(err);
			goto done;
		}
		n = read(in, slot, cap);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = mlctl_err_errno(err, MLCTL_EIO, "cannot read '%s'", src);
			goto done;
		}
		if (n == 0)
			break;
		mlctl_hashpipe_push(hp, (size_t)n);
		if (mlctl_write_all(out, slot, (size_t)n) < 0) {
			rc = mlctl_err_errno(err, MLCTL_EIO, "cannot write '%s'", path);
			goto done;
		}
		/* start write-back now, so the fsync below has little left to do */
		sync_file_range(out, (off64_t)total, n, SYNC_FILE_RANGE_WRITE);
		total += (uint64_t)n;
	}
	mlctl_hashpipe_finish(hp, hex);
	if (strcmp(hex, f->sha256) || total != f->size) {
		mlctl_blob_flag(root, f->sha256); /* a push of the good bytes replaces it */
		rc = mlctl_err_set(err, MLCTL_EINTEGRITY,
				   "blob for '%s' is corrupt in the registry (sha256 %.12s…, want "
				   "%.12s…); run 'mlctl registry verify'",
				   f->path, hex, f->sha256);
		goto done;
	}
	if (fchmod(out, f->mode) < 0 || fsync(out) < 0) {
		rc = mlctl_err_errno(err, MLCTL_EIO, "cannot write '%s'", path);
		goto done;
	}
done:
	mlctl_hashpipe_free(hp);
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	free(src);
	return rc;
}

int mlctl_registry_pull(struct mlctl_registry *r, struct mlctl_version_info *info,
			const char *ref, const char *dir, int force, struct mlctl_err *err)
{
	struct mlctl_dir_stage st;
	struct mlctl_manifest m;
	char *pretty = NULL, *mpath = NULL;
	size_t i;
	int rc;

	if ((rc = mlctl_registry_resolve(r, info, &m, ref, err)))
		return rc;
	if ((rc = mlctl_dir_stage_begin(&st, dir, force, err)))
		goto done;
	for (i = 0; i < m.nfiles; i++) {
		char *path = mlctl_path_join(st.tmp, m.files[i].path);
		char *pdir = mlctl_dirname(path);

		rc = mlctl_mkdir_p(pdir, 0755, err);
		if (!rc)
			rc = write_verified(r->root, &m.files[i], path, err);
		free(pdir);
		free(path);
		if (rc)
			goto done;
		mlctl_fault("pull-file");
	}
	pretty = mlctl_manifest_pretty(&m, 0);
	mpath = mlctl_path_join(st.tmp, MLCTL_MANIFEST_FILE);
	if ((rc = mlctl_write_file_atomic(mpath, pretty, strlen(pretty), 0644, err)))
		goto done;
	rc = mlctl_dir_stage_commit(&st, err);
done:
	mlctl_dir_stage_release(&st);
	if (rc)
		mlctl_version_info_release(info);
	mlctl_manifest_release(&m);
	free(pretty);
	free(mpath);
	return rc;
}

/* ---------------------------------------------------------------- garbage */

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

/* Every blob a version's manifest in git's tip names. */
static int named_in_git(void *payload, const char *path, const char *data, size_t len,
			struct mlctl_err *err)
{
	struct sha_set *set = payload;
	struct mlctl_manifest m;
	size_t plen = strlen(path), i;

	if (strncmp(path, "models/", 7) || plen < 5 || strcmp(path + plen - 5, ".json") ||
	    !strstr(path, "/versions/"))
		return 0;
	if (mlctl_manifest_parse(&m, data, len, path, MLCTL_MANIFEST_STORED, NULL, err))
		return mlctl_err_set(err, MLCTL_EINTEGRITY,
				     "%s in git cannot be read, so the blobs it names are unknown; "
				     "run 'mlctl registry verify'",
				     path);
	for (i = 0; i < m.nfiles; i++)
		sha_set_add(set, m.files[i].sha256);
	mlctl_manifest_release(&m);
	return 0;
}

/* What no blob may be removed from under: every file of every version, in the database and in git. */
static int named_blobs(struct mlctl_registry *r, struct sha_set *set, struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	char head[41];
	int rc, s;

	if ((rc = db_prepare(r, &st, "SELECT DISTINCT sha256 FROM files", err)))
		return rc;
	while ((s = sqlite3_step(st)) == SQLITE_ROW)
		sha_set_add(set, (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (s != SQLITE_DONE)
		return db_fail(err, r->db, "registry database");
	if ((rc = mlctl_git_head(r->git, head, err)))
		return rc;
	if (*head && (rc = mlctl_git_files(r->git, head, named_in_git, set, err)))
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

static int collect_garbage(struct mlctl_registry *r, struct mlctl_garbage *g, int remove,
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
	memset(g, 0, sizeof(*g));
}

int mlctl_registry_gc(struct mlctl_registry *r, struct mlctl_garbage *out, int dry_run,
		      struct mlctl_err *err)
{
	int rc;

	memset(out, 0, sizeof(*out));
	/* installs happen under this lock, and versions are committed under it */
	if ((rc = begin_write(r, err)))
		return rc;
	if (!(rc = catch_up_locked(r, NULL, err)))
		rc = collect_garbage(r, out, !dry_run, err);
	return end_write(r, rc, err);
}

/* ---------------------------------------------------------------- verify */

static void problem(struct mlctl_verify_report *rep, const char *msg)
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
		problem(gv->rep, msg);
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
		if (alias_state(gv->r, name, a->string, version, digest, &moves, &perr)) {
			problem(gv->rep, perr.msg);
			continue;
		}
		if (!cJSON_IsString(v) || !cJSON_IsString(d) || strcmp(v->valuestring, version) ||
		    strcmp(d->valuestring, digest)) {
			msg = mlctl_aprintf("alias %s of %s points at %s in git but at %s in the "
					    "database; run 'mlctl registry reindex'",
					    a->string, name, cJSON_IsString(v) ? v->valuestring : "?",
					    *version ? version : "nothing");
			problem(gv->rep, msg);
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

	if (db_prepare(r, &st,
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
	int rc = db_prepare(r, st, sql, err);

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

			if (!f || !path || !sha || strcmp(path, f->path) || strcmp(sha, f->sha256) ||
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
		problem(gv->rep, msg);
		free(msg);
	}
	return;
fail:
	sqlite3_finalize(st);
	problem(gv->rep, perr.msg);
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
	if (!strncmp(path, "models/", 7) && plen > 20 && !strcmp(path + plen - 13, "/aliases.json")) {
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
		problem(gv->rep, perr.msg);
		return 0;
	}
	mlctl_manifest_digest(&m, digest);
	rc = lookup_digest(gv->r, have, m.name, m.version, &perr);
	if (rc == 0 && push_skipped(gv->r, m.name, m.version)) {
		gv->skipped++;
	} else if (rc == 0) {
		msg = mlctl_aprintf("%s:%s is in git but not in the database; run 'mlctl registry "
				    "reindex'", m.name, m.version);
		problem(gv->rep, msg);
		free(msg);
	} else if (rc == 1 && strcmp(have, digest)) {
		msg = mlctl_aprintf("%s:%s has digest %s in git but %s in the database; run "
				    "'mlctl registry reindex'", m.name, m.version, digest, have);
		problem(gv->rep, msg);
		free(msg);
	} else if (rc == 1) {
		verify_db_copy(gv, &m, digest);
	} else if (rc < 0) {
		problem(gv->rep, perr.msg);
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
		problem(bv->rep, msg);
		free(msg);
		return;
	}
	bv->rep->blobs++;
	if (mlctl_blob_check(bv->r->root, name, NULL, &berr)) {
		problem(bv->rep, berr.msg);
		/* so that the next push or repair with the good bytes replaces it */
		if (berr.code == MLCTL_EINTEGRITY)
			mlctl_blob_flag(bv->r->root, name);
	}
}

static void verify_blobs(struct mlctl_registry *r, struct mlctl_verify_report *rep)
{
	struct blob_verify bv = { r, rep };

	if (mlctl_blob_walk(r->root, on_blob_verify, &bv, 0) < 0)
		problem(rep, "blobs/sha256 is missing");
}

/* A missing or unreadable git object: a problem line naming it and what referred to it. */
static void on_bad_object(void *payload, const char *id, const char *type, const char *what,
			  const char *from)
{
	struct mlctl_verify_report *rep = payload;
	char *msg = mlctl_aprintf("git %s %s is %s, referred to by %s; restore index.git from a "
				  "backup or a clone", type, id, what, from);

	problem(rep, msg);
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
		problem(rep, msg);
	free(msg);
}

/* The database's side of verify: it matches git, and names blobs that are there. */
static int verify_db(struct mlctl_registry *r, struct mlctl_verify_report *rep,
		     struct git_versions *gv, const char *head, struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	char db_head[64], *msg;
	int rc, s;

	if ((rc = meta_get(r, db_head, sizeof(db_head), "git_head", err)))
		return rc;
	if (strcmp(head, db_head)) {
		msg = mlctl_aprintf("database reflects commit '%.12s' but git is at '%.12s'; run "
				    "'mlctl registry reindex'", db_head, head);
		problem(rep, msg);
		free(msg);
	}
	if ((rc = verify_skipped(r, rep, err)))
		return rc;
	/* every version in the database is in git, and its files are stored */
	if ((rc = db_prepare(r, &st,
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
			problem(rep, msg);
			free(msg);
		}
	}
	sqlite3_finalize(st);
	if ((rc = db_prepare(r, &st, "SELECT count(*) FROM records", err)))
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW &&
	    (size_t)sqlite3_column_int64(st, 0) != gv->records) {
		msg = mlctl_aprintf("the database has %lld records but git has %zu; run 'mlctl "
				    "registry reindex'", (long long)sqlite3_column_int64(st, 0),
				    gv->records);
		problem(rep, msg);
		free(msg);
	}
	sqlite3_finalize(st);
	if ((rc = db_prepare(r, &st, "SELECT count(*) FROM aliases", err)))
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW &&
	    (size_t)sqlite3_column_int64(st, 0) != gv->aliases) {
		msg = mlctl_aprintf("the database has %lld aliases but git has %zu; run 'mlctl "
				    "registry reindex'", (long long)sqlite3_column_int64(st, 0),
				    gv->aliases);
		problem(rep, msg);
		free(msg);
	}
	sqlite3_finalize(st);
	if (rep->versions != gv->n - gv->skipped) {
		msg = mlctl_aprintf("the database has %zu versions but git has %zu; run 'mlctl "
				    "registry reindex'", rep->versions, gv->n - gv->skipped);
		problem(rep, msg);
		free(msg);
	}
	if ((rc = db_prepare(r, &st,
			     "SELECT m.name, v.version, f.path, f.sha256, f.size FROM files f "
			     "JOIN versions v ON v.id = f.version_id JOIN models m ON "
			     "m.id = v.model_id",
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
			problem(rep, msg);
			free(msg);
		} else if ((sqlite3_int64)sb.st_size != sqlite3_column_int64(st, 4)) {
			msg = mlctl_aprintf("%s:%s file '%s': blob size %lld, index says %lld; push a "
					    "good copy or run 'mlctl registry verify --repair --from "
					    "DIR|PKG'",
					    sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
					    sqlite3_column_text(st, 2), (long long)sb.st_size,
					    (long long)sqlite3_column_int64(st, 4));
			problem(rep, msg);
			free(msg);
		}
		free(p);
	}
	sqlite3_finalize(st);
	return 0;
}

/* ---- repair: blobs a version names, healed from good copies */

struct need {
	char sha[65];
	uint64_t size;
	char *what; /* "file 'x' of demo:1.0.0" */
	int bad;
};

struct needs {
	struct need *v;
	size_t n;
};

static int collect_need(void *payload, const char *path, const char *data, size_t len,
			struct mlctl_err *err)
{
	struct needs *nd = payload;
	struct mlctl_manifest m;
	struct mlctl_err perr = MLCTL_ERR_INIT;
	size_t plen = strlen(path), i;

	(void)err;
	if (strncmp(path, "models/", 7) || plen < 5 || strcmp(path + plen - 5, ".json") ||
	    !strstr(path, "/versions/") ||
	    mlctl_manifest_parse(&m, data, len, path, 1, NULL, &perr))
		return 0;
	for (i = 0; i < m.nfiles; i++) {
		struct need *x;

		nd->v = mlctl_realloc(nd->v, (nd->n + 1) * sizeof(*nd->v));
		x = &nd->v[nd->n++];
		memcpy(x->sha, m.files[i].sha256, 65);
		x->size = m.files[i].size;
		x->what = mlctl_aprintf("file '%s' of %s:%s", m.files[i].path, m.name, m.version);
		x->bad = 0;
	}
	mlctl_manifest_release(&m);
	return 0;
}

static int need_cmp(const void *a, const void *b)
{
	return strcmp(((const struct need *)a)->sha, ((const struct need *)b)->sha);
}

/* The bad need of this sha256, or NULL. */
static struct need *need_find(struct needs *nd, const char *sha)
{
	struct need key, *x;

	memcpy(key.sha, sha, 65);
	x = nd->n ? bsearch(&key, nd->v, nd->n, sizeof(*nd->v), need_cmp) : NULL;
	return x && x->bad ? x : NULL;
}

static int need_size(const struct needs *nd, uint64_t size)
{
	size_t i;

	for (i = 0; i < nd->n; i++)
		if (nd->v[i].bad && nd->v[i].size == size)
			return 1;
	return 0;
}

/* Install staged bytes that hash to a needed blob; note it healed. */
static void heal(struct mlctl_registry *r, struct mlctl_verify_report *rep, struct need *x,
		 char *staged, const char *src)
{
	struct mlctl_err ierr = MLCTL_ERR_INIT;

	if (mlctl_blob_install(r->root, staged, x->sha, NULL, &ierr)) {
		problem(rep, ierr.msg);
		mlctl_blob_discard(staged);
		return;
	}
	x->bad = 0;
	rep->nhealed++;
	mlctl_buf_printf(&rep->healed, "healed blob sha256:%s (%s) from %s\n", x->sha, x->what,
			 src);
}

/* Every regular file under dir of a size some bad blob has: hashed, and installed if it is one. */
static void heal_from_dir(struct mlctl_registry *r, struct mlctl_verify_report *rep,
			  struct needs *nd, const char *dir, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && depth < 32 && (e = readdir(d))) {
		char *path, *staged = NULL, sha[65];
		struct mlctl_err ferr = MLCTL_ERR_INIT;
		struct need *x;
		struct stat st;
		int fd;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		path = mlctl_path_join(dir, e->d_name);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			heal_from_dir(r, rep, nd, path, depth + 1);
		} else if (S_ISREG(st.st_mode) && need_size(nd, (uint64_t)st.st_size) &&
			   (fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
			if (mlctl_blob_put_fd(r->root, fd, path, sha, NULL, &staged, &ferr) == 0) {
				if ((x = need_find(nd, sha)))
					heal(r, rep, x, staged, path);
				else
					mlctl_blob_discard(staged);
			}
			free(staged);
			close(fd);
		}
		free(path);
	}
	if (d)
		closedir(d);
}

/* The entries of a package that are bad blobs, each checked against its sha256 as staged. */
static void heal_from_pkg(struct mlctl_registry *r, struct mlctl_verify_report *rep,
			  struct needs *nd, const char *path)
{
	struct mlctl_err perr = MLCTL_ERR_INIT;
	struct mlctl_pkg_reader *pkg = NULL;
	const struct mlctl_file_entry *f;
	int rc;

	if (mlctl_pkg_open(&pkg, path, 0, &perr)) {
		problem(rep, perr.msg);
		return;
	}
	while ((rc = mlctl_pkg_next(pkg, &f, &perr)) == 1) {
		struct mlctl_blob_writer *w = NULL;
		struct need *x = need_find(nd, f->sha256);
		char *staged = NULL;
		ssize_t n = 0;

		if (!x)
			continue;
		if ((rc = mlctl_blob_writer_open(&w, r->root, 1, &perr)))
			break;
		for (;;) {
			size_t cap;
			void *buf = mlctl_blob_writer_buf(w, &cap);

			if ((n = mlctl_pkg_read(pkg, buf, cap, &perr)) <= 0 ||
			    mlctl_blob_writer_push(w, (size_t)n, &perr))
				break;
		}
		if (n < 0) {
			mlctl_blob_writer_abort(w);
			rc = (int)n;
			break;
		}
		if (mlctl_blob_writer_commit(w, NULL, f->sha256, NULL, &staged, &perr) == 0)
			heal(r, rep, x, staged, path);
		else
			problem(rep, perr.msg);
		free(staged);
	}
	if (rc < 0)
		problem(rep, perr.msg);
	mlctl_pkg_free(pkg);
}

/* Blobs the versions in git name that are missing or corrupt, healed from the sources. */
static int repair(struct mlctl_registry *r, struct mlctl_verify_report *rep, const char *head,
		  const char *const *from, size_t nfrom, struct mlctl_err *err)
{
	struct needs nd = { NULL, 0 };
	size_t i, j;
	int rc = 0;

	for (i = 0; i < nfrom; i++)
		if (!mlctl_is_dir(from[i]) && access(from[i], R_OK) != 0)
			return mlctl_err_errno(err, MLCTL_ENOTFOUND,
					       "no folder or package at '%s' to repair from",
					       from[i]);
	if (*head && (rc = mlctl_git_files(r->git, head, collect_need, &nd, err)))
		goto done;
	if (nd.n)
		qsort(nd.v, nd.n, sizeof(*nd.v), need_cmp);
	for (i = j = 0; i < nd.n; i++) {
		struct mlctl_err berr = MLCTL_ERR_INIT;

		if (j && !strcmp(nd.v[j - 1].sha, nd.v[i].sha)) {
			free(nd.v[i].what);
			continue;
		}
		nd.v[j] = nd.v[i];
		if (mlctl_blob_check(r->root, nd.v[j].sha, NULL, &berr)) {
			nd.v[j].bad = 1;
			if (mlctl_blob_exists(r->root, nd.v[j].sha))
				mlctl_blob_flag(r->root, nd.v[j].sha);
		}
		j++;
	}
	nd.n = j;
	if ((rc = claim_tmp(r, err)))
		goto done;
	for (i = 0; i < nfrom; i++) {
		if (mlctl_is_dir(from[i]))
			heal_from_dir(r, rep, &nd, from[i], 0);
		else
			heal_from_pkg(r, rep, &nd, from[i]);
	}
	for (i = 0; i < nd.n; i++)
		if (nd.v[i].bad)
			rep->nunhealed++;
done:
	for (i = 0; i < nd.n; i++)
		free(nd.v[i].what);
	free(nd.v);
	return rc;
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
	if (repair_blobs && (rc = repair(r, rep, head, from, nfrom, err)))
		return rc;
	if (r->db_problem)
		problem(rep, r->db_problem);
	else
		verify_db_file(r, rep);
	if (mlctl_git_check_objects(r->git, &rep->git_objects, &nbad, on_bad_object, rep, err))
		problem(rep, err->msg);
	if (*head && r->db && mlctl_git_files(r->git, head, verify_git_file, &gv, err))
		problem(rep, err->msg);
	if (r->db && (rc = verify_db(r, rep, &gv, head, err)))
		return rc;
	verify_blobs(r, rep);
	/* under the write lock, so a write between installing blobs and COMMIT is not garbage
	 * (a registry the user cannot write has no writer to wait for); past a missing
	 * object nothing tells garbage apart: no garbage warnings then */
	rc = 0;
	if (r->db && !nbad && (r->readonly || (rc = begin_write(r, err)) == 0))
		rc = end_write(r, collect_garbage(r, &rep->garbage, 0, err), err);
	if (rc)
		problem(rep, err->msg);
	mlctl_err_clear(err);
	if (rep->nproblems)
		return mlctl_err_set(err, MLCTL_EINTEGRITY,
				     "registry '%s' has %zu problem%s (listed above): heal blobs "
				     "with 'mlctl registry verify --repair --from DIR|PKG', rebuild "
				     "the index with 'mlctl registry reindex'", r->root, rep->nproblems,
				     rep->nproblems == 1 ? "" : "s");
	return 0;
}

void mlctl_verify_report_release(struct mlctl_verify_report *rep)
{
	mlctl_buf_release(&rep->problems);
	mlctl_buf_release(&rep->healed);
	mlctl_garbage_release(&rep->garbage);
}

/* The first bad object, for reindex's refusal. */
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

/* Replay all of git into the new database fresh (as r->db), committed when this returns 0. */
static int rebuild(struct mlctl_registry *r, sqlite3 *fresh, const char *path,
		   struct mlctl_reindex_result *res, struct mlctl_err *err)
{
	sqlite3 *old = r->db;
	int rc;

	r->db = fresh;
	sqlite3_busy_handler(fresh, busy_wait, NULL);
	if (!(rc = set_wal(r, path, err)) && !(rc = db_exec(r, "PRAGMA synchronous = FULL", err)) &&
	    !(rc = db_exec(r, "PRAGMA foreign_keys = ON", err)) && !(rc = migrate(r, err)) &&
	    !(rc = begin_write(r, err)))
		rc = end_write(r, catch_up_locked(r, &res->events, err), err);
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
	if ((rc = claim_tmp(r, err)))
		goto done;
	/* writers wait from here to the end of the replay (which may also re-create tags) */
	if (r->db && (rc = begin_write(r, err)))
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
	if (!*head && r->db && !meta_get(r, db_head, sizeof(db_head), "git_head", NULL) &&
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
		rollback(r); /* nothing was written to it: only the lock is let go */
		b = sqlite3_backup_init(r->db, "main", fresh, "main");
		if (!b || sqlite3_backup_step(b, -1) != SQLITE_DONE) {
			sqlite3_backup_finish(b);
			rc = db_fail(err, r->db, "cannot write the rebuilt registry database");
			goto done;
		}
		if (sqlite3_backup_finish(b) != SQLITE_OK) {
			rc = db_fail(err, r->db, "cannot write the rebuilt registry database");
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
		rollback(r);
	if (fresh)
		sqlite3_close(fresh);
	if (tmp)
		unlink_db(tmp);
	free(fb.msg);
	free(tmp);
	free(dbpath);
	return rc;
}

/* ---------------------------------------------------------------- records */

int mlctl_registry_record(struct mlctl_registry *r, const struct mlctl_version_info *v,
			  const char *kind, int passed, const char *report, char **path_out,
			  struct mlctl_err *err)
{
	char head[41], hex[65], when[32], have[72], tip[64] = "", *actor = mlctl_actor(), *path = NULL;
	char *summary = report_summary(report, strlen(report)), *msg = NULL;
	struct mlctl_git_change ch;
	struct event ev;
	cJSON *evj = NULL;
	int64_t now = mlctl_now();
	int rc;

	*path_out = NULL;
	mlctl_time_iso(when, now);
	if ((rc = begin_write(r, err)) || (rc = catch_up_locked(r, NULL, err)) ||
	    (rc = meta_get(r, tip, sizeof(tip), "git_head", err)))
		goto done;
	/*
	 * models/NAME/records/<digest hex>/<kind>-<time>-<hash>.json, the hash
	 * over the report and the commit it follows: the same report twice in
	 * one second is two records, never one file for two events
	 */
	{
		struct mlctl_sha256 *h = mlctl_sha256_new();

		mlctl_sha256_update(h, report, strlen(report));
		mlctl_sha256_update(h, tip, strlen(tip));
		mlctl_sha256_final_hex(h, hex);
		mlctl_sha256_free(h);
	}
	path = mlctl_aprintf("models/%s/records/%s/%s-%.4s%.2s%.2sT%.2s%.2s%.2sZ-%.8s.json",
			     v->name, v->digest + 7, kind, when, when + 5, when + 8, when + 11,
			     when + 14, when + 17, hex);
	rc = lookup_digest(r, have, v->name, v->version, err);
	if (rc < 0)
		goto done;
	if (rc == 0 || strcmp(have, v->digest)) {
		rc = mlctl_err_set(err, MLCTL_ENOTFOUND, "%s:%s is no longer in the registry",
				   v->name, v->version);
		goto done;
	}
	ch.path = path;
	ch.data = report;
	ch.len = strlen(report);
	evj = cJSON_CreateObject();
	cJSON_AddStringToObject(evj, "type", "record");
	cJSON_AddStringToObject(evj, "kind", kind);
	cJSON_AddStringToObject(evj, "model", v->name);
	cJSON_AddStringToObject(evj, "version", v->version);
	cJSON_AddStringToObject(evj, "digest", v->digest);
	cJSON_AddBoolToObject(evj, "passed", passed);
	cJSON_AddStringToObject(evj, "path", path);
	cJSON_AddStringToObject(evj, "actor", actor);
	cJSON_AddNumberToObject(evj, "time", (double)now);
	msg = mlctl_aprintf("record %s %s %s: %s", kind, v->name, v->version,
			    passed ? "passed" : "failed");
	if ((rc = git_event(r, head, &ch, 1, evj, msg, actor, now, err)))
		goto done;
	memset(&ev, 0, sizeof(ev));
	ev.type = "record";
	ev.kind = kind;
	ev.model = v->name;
	ev.version = v->version;
	ev.digest = v->digest;
	ev.actor = actor;
	ev.time = now;
	ev.passed = passed;
	ev.path = path;
	if ((rc = insert_record(r, &ev, summary, head, err)) ||
	    (rc = insert_event(r, &ev, head, err)) || (rc = meta_set(r, "git_head", head, err)))
		goto done;
	rc = reserve_space(r, err);
	mlctl_fault("record-staged");
done:
	if (!(rc = end_write(r, rc, err))) {
		*path_out = path;
		path = NULL;
	}
	cJSON_Delete(evj);
	free(actor);
	free(path);
	free(summary);
	free(msg);
	return rc;
}

void mlctl_record_infos_free(struct mlctl_record_info *rec, size_t n)
{
	size_t i;

	if (!rec)
		return;
	for (i = 0; i < n; i++) {
		free(rec[i].kind);
		free(rec[i].actor);
		free(rec[i].path);
		free(rec[i].summary);
	}
	free(rec);
}

static void fill_record_row(void *item, sqlite3_stmt *st)
{
	struct mlctl_record_info *rec = item;

	rec->kind = col_text(st, 0);
	rec->passed = sqlite3_column_int(st, 1);
	rec->created = sqlite3_column_int64(st, 2);
	rec->actor = col_text(st, 3);
	rec->path = col_text(st, 4);
	rec->summary = col_text(st, 5);
}

int mlctl_registry_records(struct mlctl_registry *r, struct mlctl_record_info **out, size_t *n,
			   const char *digest, struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	struct mlctl_record_info *rec = NULL;
	size_t cnt = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = db_prepare(r, &st,
			     "SELECT kind, passed, created, actor, path, summary FROM records "
			     "WHERE digest = ? ORDER BY created DESC, id DESC",
			     err)))
		return rc;
	sqlite3_bind_text(st, 1, digest, -1, SQLITE_STATIC);
	rec = collect_rows(r, st, sizeof(*rec), &cnt, fill_record_row, &rc, err);
	if (rc) {
		mlctl_record_infos_free(rec, cnt);
		return rc;
	}
	*out = rec;
	*n = cnt;
	return 0;
}

/* ---------------------------------------------------------------- aliases */

/* models/NAME/aliases.json after this move: every alias of the model and its target. */
static int aliases_file(struct mlctl_registry *r, char **out, const char *name,
			const char *alias, const char *version, const char *digest,
			struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	cJSON *doc = cJSON_CreateObject(), *o;
	char *text;
	int rc, s;

	if ((rc = db_prepare(r, &st, "SELECT alias, version, digest FROM aliases WHERE model = ?",
			     err))) {
		cJSON_Delete(doc);
		return rc;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		o = cJSON_AddObjectToObject(doc, (const char *)sqlite3_column_text(st, 0));
		cJSON_AddStringToObject(o, "version", (const char *)sqlite3_column_text(st, 1));
		cJSON_AddStringToObject(o, "digest", (const char *)sqlite3_column_text(st, 2));
	}
	if (s != SQLITE_DONE)
		rc = db_fail(err, r->db, "registry database");
	sqlite3_finalize(st);
	cJSON_DeleteItemFromObjectCaseSensitive(doc, alias);
	if (version) {
		o = cJSON_AddObjectToObject(doc, alias);
		cJSON_AddStringToObject(o, "version", version);
		cJSON_AddStringToObject(o, "digest", digest);
	}
	text = mlctl_json_canonical(doc);
	*out = mlctl_aprintf("%s\n", text);
	free(text);
	cJSON_Delete(doc);
	return rc;
}

/* Set (to != NULL) or remove an alias: git commit and tag, then rows, under the lock. */
static int move_alias(struct mlctl_registry *r, struct mlctl_alias_move *mv, const char *name,
		      const char *alias, const struct mlctl_version_info *to, const char *reason,
		      struct mlctl_err *err)
{
	char head[41], was[256], was_digest[72], have[72], *actor = mlctl_actor();
	char *path = mlctl_aprintf("models/%s/aliases.json", name), *file = NULL, *msg = NULL;
	struct mlctl_git_change ch;
	struct event ev;
	cJSON *evj = NULL;
	int64_t now = mlctl_now(), moves;
	int rc;

	if ((rc = begin_write(r, err)) || (rc = catch_up_locked(r, NULL, err)) ||
	    (rc = alias_state(r, name, alias, was, was_digest, &moves, err)))
		goto done;
	snprintf(mv->from, sizeof(mv->from), "%s", was);
	if (to) {
		rc = lookup_digest(r, have, to->name, to->version, err);
		if (rc < 0)
			goto done;
		if (rc == 0 || strcmp(have, to->digest)) {
			rc = mlctl_err_set(err, MLCTL_ENOTFOUND, "%s:%s is no longer in the registry",
					   to->name, to->version);
			goto done;
		}
		rc = 0;
		snprintf(mv->version, sizeof(mv->version), "%s", to->version);
		snprintf(mv->digest, sizeof(mv->digest), "%s", to->digest);
		if (!strcmp(was, to->version)) {
			mv->unchanged = 1; /* already there: nothing to record */
			goto done;
		}
	} else {
		if (!*was) {
			rc = mlctl_err_set(err, MLCTL_ENOTFOUND,
					   "alias '%s' of '%s' does not exist; see 'mlctl alias list "
					   "%s'",
					   alias, name, name);
			goto done;
		}
		snprintf(mv->version, sizeof(mv->version), "%s", was);
		snprintf(mv->digest, sizeof(mv->digest), "%s", was_digest);
	}
	if ((rc = aliases_file(r, &file, name, alias, to ? mv->version : NULL, mv->digest, err)))
		goto done;
	ch.path = path;
	ch.data = file;
	ch.len = strlen(file);
	memset(&ev, 0, sizeof(ev));
	ev.type = to ? "alias" : "unalias";
	ev.model = name;
	ev.alias = alias;
	ev.version = mv->version;
	ev.digest = mv->digest;
	ev.n = moves + 1;
	ev.actor = actor;
	ev.time = now;
	ev.reason = reason;
	evj = cJSON_CreateObject();
	cJSON_AddStringToObject(evj, "type", ev.type);
	cJSON_AddStringToObject(evj, "model", name);
	cJSON_AddStringToObject(evj, "alias", alias);
	cJSON_AddStringToObject(evj, "version", ev.version);
	cJSON_AddStringToObject(evj, "digest", ev.digest);
	cJSON_AddNumberToObject(evj, "n", (double)ev.n);
	if (to && *was)
		cJSON_AddStringToObject(evj, "from", was);
	cJSON_AddStringToObject(evj, "actor", actor);
	cJSON_AddNumberToObject(evj, "time", (double)now);
	if (reason)
		cJSON_AddStringToObject(evj, "reason", reason);
	msg = to ? mlctl_aprintf("alias %s %s -> %s", name, alias, ev.version)
		 : mlctl_aprintf("unalias %s %s (was %s)", name, alias, ev.version);
	if ((rc = git_event(r, head, &ch, 1, evj, msg, actor, now, err)))
		goto done;
	if ((rc = apply_alias(r, &ev, head, err)) || (rc = insert_event(r, &ev, head, err)) ||
	    (rc = meta_set(r, "git_head", head, err)) || (rc = reserve_space(r, err)))
		goto done;
	mv->tag = alias_tag(name, alias, !to, ev.n);
	mlctl_fault("alias-staged");
done:
	if ((rc = end_write(r, rc, err))) {
		free(mv->tag);
		mv->tag = NULL;
	}
	cJSON_Delete(evj);
	free(actor);
	free(path);
	free(file);
	free(msg);
	return rc;
}

int mlctl_registry_alias_set(struct mlctl_registry *r, struct mlctl_alias_move *mv,
			     const char *ref, const char *alias, const char *reason,
			     struct mlctl_err *err)
{
	struct mlctl_version_info to;
	int rc;

	memset(mv, 0, sizeof(*mv));
	if ((rc = mlctl_alias_check(alias, err)) ||
	    (rc = mlctl_registry_resolve(r, &to, NULL, ref, err)))
		return rc;
	snprintf(mv->name, sizeof(mv->name), "%s", to.name);
	rc = mlctl_alias_tags_check(to.name, alias, err);
	if (!rc)
		rc = move_alias(r, mv, to.name, alias, &to, reason, err);
	mlctl_version_info_release(&to);
	return rc;
}

int mlctl_registry_alias_rm(struct mlctl_registry *r, struct mlctl_alias_move *mv,
			    const char *name, const char *alias, const char *reason,
			    struct mlctl_err *err)
{
	int rc;

	memset(mv, 0, sizeof(*mv));
	/* names and aliases an older mlctl made (with dots) can still be removed */
	if (!mlctl_name_is_readable(name))
		return mlctl_err_set(err, MLCTL_EUSAGE, "'%s' is not a model name; " MLCTL_NAME_RULE,
				     name);
	if ((!mlctl_alias_is_readable(alias) && (rc = mlctl_alias_check(alias, err))) ||
	    (rc = mlctl_alias_tags_check(name, alias, err)))
		return rc;
	snprintf(mv->name, sizeof(mv->name), "%s", name);
	return move_alias(r, mv, name, alias, NULL, reason, err);
}

void mlctl_alias_move_release(struct mlctl_alias_move *mv)
{
	free(mv->tag);
	mv->tag = NULL;
}

void mlctl_alias_infos_free(struct mlctl_alias_info *a, size_t n)
{
	size_t i;

	for (i = 0; a && i < n; i++) {
		free(a[i].model);
		free(a[i].alias);
		free(a[i].version);
		free(a[i].digest);
		free(a[i].actor);
	}
	free(a);
}

static void fill_alias_row(void *item, sqlite3_stmt *st)
{
	struct mlctl_alias_info *a = item;

	a->model = col_text(st, 0);
	a->alias = col_text(st, 1);
	a->version = col_text(st, 2);
	a->digest = col_text(st, 3);
	a->moved = sqlite3_column_int64(st, 4);
	a->actor = col_text(st, 5);
}

int mlctl_registry_aliases(struct mlctl_registry *r, struct mlctl_alias_info **out, size_t *n,
			   const char *name, const char *digest, struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	struct mlctl_alias_info *a = NULL;
	size_t cnt = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (name) {
		int64_t id;

		if ((rc = model_id(r, &id, name, 0, 0, err)) == MLCTL_ENOTFOUND)
			return mlctl_err_set(err, rc, "model '%s' is not in the registry; see "
					     "'mlctl list'", name);
		if (rc)
			return rc;
	}
	if ((rc = db_prepare(r, &st,
			     "SELECT model, alias, version, digest, moved, actor FROM aliases "
			     "WHERE (?1 IS NULL OR model = ?1) AND (?2 IS NULL OR digest = ?2) "
			     "ORDER BY model, alias",
			     err)))
		return rc;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, digest, -1, SQLITE_STATIC);
	a = collect_rows(r, st, sizeof(*a), &cnt, fill_alias_row, &rc, err);
	if (rc) {
		mlctl_alias_infos_free(a, cnt);
		return rc;
	}
	*out = a;
	*n = cnt;
	return 0;
}
