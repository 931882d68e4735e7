/*
 * open.c - open a registry: check, set up atomically, reg_migrate, catch up; publish a first push.
 */
#define _GNU_SOURCE
#include "registry/internal.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "blobstore.h"
#include "banned.h"

static int mkdir_sub(const char *root, const char *sub, struct mlctl_err *err)
{
	char *p = mlctl_path_join(root, sub);
	int rc = mlctl_mkdir_p(p, 0755, err);

	free(p);
	return rc;
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
				     "registry in a local folder (remote registries are reached with "
				     "'mlctl remote add' and push --to, pull --from); give --registry "
				     "or MLCTL_REGISTRY a path on this machine",
				     root);
	/* user@host:path names the host before the ':'; host:port/path keeps its port */
	if (colon && strspn(colon + 1, "0123456789") != (size_t)(root + first - colon - 1))
		host = (size_t)(colon - root);
	if (colon || (root[first] == '/' && is_host(root, first)))
		return mlctl_err_set(err, MLCTL_EUSAGE,
				     "registry '%s' looks like a remote (host '%.*s'), not a folder: "
				     "mlctl keeps its registry in a local folder (remote registries "
				     "are reached with 'mlctl remote add' and push --to, pull --from); "
				     "for a folder of that name write './%s'",
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
					     "command on it once with write access"
					   : "");
	else
		reg_db_functions(r->db);
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
	    (rc = reg_meta_get(r, db_head, sizeof(db_head), "git_head", err)))
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
	if ((rc = reg_db_exec(r, "BEGIN IMMEDIATE", err)))
		return rc;
	mlctl_git_stale_locks(gitdir, 1);
	return reg_db_exec(r, "COMMIT", err);
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
	char *dbpath = mlctl_path_join(dir, "mlctl.db"),
	     *gitdir = mlctl_path_join(dir, "index.git");
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
	if ((rc = reg_set_wal(&b, dbpath, err)) ||
	    (rc = reg_db_exec(&b, "PRAGMA synchronous = FULL", err)) ||
	    (rc = reg_db_exec(&b, "BEGIN", err)) || (rc = reg_migrate(&b, NULL, err)) ||
	    (rc = reg_db_exec(&b, "COMMIT", err)))
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

/* Nothing at root, or a file: a read finds no registry there, a write cannot make one. */
static int check_missing(const char *root, int create, struct mlctl_err *err)
{
	struct stat st;

	if (stat(root, &st) == 0) {
		if (create)
			return mlctl_err_set(err, MLCTL_EIO,
					     "registry '%s' is a file, not a folder; pass "
					     "--registry DIR with a folder",
					     root);
		return mlctl_err_set(err, MLCTL_ENOTFOUND,
				     "no registry at '%s': it is a file, not a folder; "
				     "pass --registry DIR with a registry",
				     root);
	}
	if (!create)
		return mlctl_err_set(err, MLCTL_ENOTFOUND,
				     "no registry at '%s'; push a model first or pass "
				     "--registry DIR",
				     root);
	return 0;
}

/*
 * Where r is opened: a first push's registry is built beside root (r->root
 * becomes that folder, r->final the target), a new one is set up atomically.
 * *fresh: root holds no registry yet.
 */
static int prepare_place(struct mlctl_registry *r, int create, int *fresh,
			 struct mlctl_err *err)
{
	const char *root = r->root;
	int rc;

	if (!mlctl_is_dir(root) && (rc = check_missing(root, create, err)))
		return rc;
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
				return rc;
		}
	}
	if (create && !r->final && !is_registry(root) && mlctl_dir_is_empty(root)) {
		/* a new registry: built beside and renamed into place (or in place, failing that) */
		if ((rc = setup_atomic(root, err)) < 0)
			return rc;
		if (rc == 1 && (rc = mlctl_mkdir_p(root, 0755, err)))
			return rc;
	}
	if ((rc = check_db_file(root, err)))
		return rc;
	*fresh = !is_registry(root);
	if (*fresh && !mlctl_dir_is_empty(root)) {
		char *db = mlctl_path_join(root, "mlctl.db");
		int has_db = access(db, F_OK) == 0;

		free(db);
		/* a registry another process is creating right now has mlctl.db first */
		if (!has_db && !create)
			return mlctl_err_set(err, MLCTL_ENOTFOUND,
					     "no registry at '%s': the folder holds other files (no "
					     "mlctl.db and index.git); pass --registry DIR with a "
					     "registry",
					     root);
		if (!has_db)
			return mlctl_err_set(err, MLCTL_EIO,
					     "'%s' is not an mlctl registry (no mlctl.db and "
					     "index.git); use an empty folder or an existing registry",
					     root);
	}
	if (*fresh && !create)
		return mlctl_err_set(err, MLCTL_ENOTFOUND,
				     "no registry at '%s'; push a model first or pass --registry DIR",
				     root);
	return 0;
}

/* Reads only: no catch-up, no lock, nothing written (a read-only mount, say). */
static int open_for_reading(struct mlctl_registry *r, const char *dbpath, const char *gitdir,
			    struct mlctl_err *err)
{
	int rc;

	r->readonly = 1;
	if ((rc = open_readonly(r, dbpath, err)))
		return rc;
	/* the database is open: checks of it go here, before anything reads it */
	if (reg_schema_version(r) != reg_schema_latest())
		return mlctl_err_set(err, MLCTL_EIO,
				     "registry '%s' needs an upgrade of its database, and it is "
				     "read-only for you; run any mlctl command on it once with "
				     "write access",
				     r->root);
	if ((rc = mlctl_git_open(&r->git, gitdir, 0, err)))
		return rc;
	return check_behind(r, err);
}

static int open_for_writing(struct mlctl_registry *r, const char *dbpath, const char *gitdir,
			    int fresh, struct mlctl_err *err)
{
	int rc, replay = 0;

	if (sqlite3_open_v2(dbpath, &r->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				    SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK)
		return mlctl_err_set(err, MLCTL_EIO, "cannot open '%s': %s", dbpath,
				     r->db ? sqlite3_errmsg(r->db) : "out of memory");
	sqlite3_busy_handler(r->db, reg_busy_wait, NULL);
	reg_db_functions(r->db);
	if ((rc = reg_set_wal(r, dbpath, err)))
		return rc;
	if ((rc = reg_db_exec(r, "PRAGMA synchronous = FULL", err)) ||
	    (rc = reg_db_exec(r, "PRAGMA foreign_keys = ON", err)))
		return rc;
	/* the database is open: checks of it go here, before anything reads it */
	/* a writer killed mid-way (or in an older mlctl's set-up) may have left git locks */
	if ((rc = clear_stale_locks(r, gitdir, err)))
		return rc;
	if (!fresh && reg_schema_version(r) == reg_schema_latest()) {
		/* the common case: nothing to set up, only catch up if git is ahead */
		if ((rc = mlctl_git_open(&r->git, gitdir, 0, err)))
			return rc;
		return reg_catch_up(r, err);
	}
	/* set up (or migrate) under the write lock, so two first pushes do not race */
	if ((rc = reg_begin_write(r, err)))
		return rc;
	rc = mkdir_sub(r->root, "blobs/sha256", err);
	if (!rc)
		rc = mkdir_sub(r->root, "tmp", err);
	if (!rc)
		rc = mlctl_git_open(&r->git, gitdir, 1, err);
	if (!rc)
		rc = reg_migrate(r, &replay, err);
	if (!rc && replay) /* every event is applied again, its tags made in today's form */
		rc = reg_db_reset(r, err);
	if (!rc)
		rc = reg_catch_up_locked(r, NULL, err);
	return reg_end_write(r, rc, err);
}

int mlctl_registry_open(struct mlctl_registry **out, const char *root, int create,
			struct mlctl_err *err)
{
	struct mlctl_registry *r = mlctl_calloc(1, sizeof(*r));
	char *dbpath = NULL, *gitdir = NULL;
	int rc, fresh = 0;

	*out = NULL;
	r->tmp_claim = -1;
	r->setup_lock = -1;
	r->root = mlctl_strdup(root);
	if (!(rc = mlctl_registry_check_local(root, err)) &&
	    !(rc = prepare_place(r, create, &fresh, err))) {
		dbpath = mlctl_path_join(r->root, "mlctl.db");
		gitdir = mlctl_path_join(r->root, "index.git");
		if (!fresh && (cannot_write(r->root) || cannot_write(dbpath)))
			rc = open_for_reading(r, dbpath, gitdir, err);
		else
			rc = open_for_writing(r, dbpath, gitdir, fresh, err);
	}
	free(dbpath);
	free(gitdir);
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
		reg_end_write(r, MLCTL_EINTERNAL, NULL); /* a write left open: undo it */
	if (r->db) {
		reg_rollback(r);
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
