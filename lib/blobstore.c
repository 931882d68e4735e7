/*
 * blobstore.c - write, check and locate content-addressed blobs.
 */
#define _GNU_SOURCE
#include "blobstore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hashpipe.h"
#include "banned.h"

struct mlctl_blob_writer {
	char *root;
	char *tmp; /* NULL when only hashing */
	int fd;
	uint64_t size;
	struct mlctl_hashpipe *hp;
	void *slot;
};

char *mlctl_blob_path(const char *root, const char *sha)
{
	return mlctl_aprintf("%s/blobs/sha256/%.2s/%s", root, sha, sha);
}

int mlctl_blob_exists(const char *root, const char *sha)
{
	char *p = mlctl_blob_path(root, sha);
	struct stat st;
	int ok = stat(p, &st) == 0 && S_ISREG(st.st_mode);

	free(p);
	return ok;
}

int mlctl_blob_writer_open(struct mlctl_blob_writer **out, const char *root, int store,
			   struct mlctl_err *err)
{
	struct mlctl_blob_writer *w = mlctl_calloc(1, sizeof(*w));

	*out = NULL;
	w->fd = -1;
	w->root = mlctl_strdup(root);
	if (store) {
		w->tmp = mlctl_aprintf("%s/tmp/blob-%ld-XXXXXX", root, (long)getpid());
		w->fd = mkostemp(w->tmp, O_CLOEXEC);
		if (w->fd < 0) {
			int rc = mlctl_err_errno(err, MLCTL_EIO, "cannot create a file in '%s/tmp'",
						 root);

			free(w->tmp);
			w->tmp = NULL;
			mlctl_blob_writer_abort(w);
			return rc;
		}
	}
	w->hp = mlctl_hashpipe_new();
	*out = w;
	return 0;
}

void *mlctl_blob_writer_buf(struct mlctl_blob_writer *w, size_t *cap)
{
	w->slot = mlctl_hashpipe_slot(w->hp, cap);
	return w->slot;
}

int mlctl_blob_writer_push(struct mlctl_blob_writer *w, size_t len, struct mlctl_err *err)
{
	if (mlctl_interrupted())
		return mlctl_err_interrupted(err);
	if (!len)
		return 0;
	mlctl_hashpipe_push(w->hp, len);
	w->size += len;
	if (w->fd >= 0) {
		if (mlctl_write_all(w->fd, w->slot, len) < 0)
			return mlctl_err_errno(err, MLCTL_EIO, "cannot write '%s'", w->tmp);
		/* start write-back now, so the final fsync has little left to do */
		sync_file_range(w->fd, (off64_t)(w->size - len), (off64_t)len,
				SYNC_FILE_RANGE_WRITE);
	}
	return 0;
}

void mlctl_blob_writer_abort(struct mlctl_blob_writer *w)
{
	if (!w)
		return;
	mlctl_hashpipe_free(w->hp);
	if (w->fd >= 0)
		close(w->fd);
	if (w->tmp)
		unlink(w->tmp);
	free(w->tmp);
	free(w->root);
	free(w);
}

int mlctl_blob_writer_commit(struct mlctl_blob_writer *w, char sha[65], const char *expected,
			     uint64_t *size, char **staged, struct mlctl_err *err)
{
	char hex[65];
	int rc = 0;

	if (staged)
		*staged = NULL;
	mlctl_hashpipe_finish(w->hp, hex);
	if (sha)
		memcpy(sha, hex, 65);
	if (size)
		*size = w->size;
	if (expected && strcmp(expected, hex)) {
		rc = mlctl_err_set(err, MLCTL_EINTEGRITY,
				   "content has sha256 %.12s… but sha256 %.12s… was expected", hex,
				   expected);
		goto done;
	}
	if (w->fd < 0 || !staged)
		goto done;
	mlctl_fault("blob-written");
	if (fsync(w->fd) < 0 || fchmod(w->fd, 0444) < 0) {
		rc = mlctl_err_errno(err, MLCTL_EIO, "cannot write '%s'", w->tmp);
		goto done;
	}
	mlctl_fault("blob-synced");
	*staged = w->tmp;
	w->tmp = NULL;
done:
	mlctl_blob_writer_abort(w);
	return rc;
}

static char *flag_path(const char *root, const char *sha)
{
	return mlctl_aprintf("%s/blobs/corrupt/%s", root, sha);
}

void mlctl_blob_flag(const char *root, const char *sha)
{
	char *dir = mlctl_aprintf("%s/blobs/corrupt", root), *p = flag_path(root, sha);
	int fd;

	mkdir(dir, 0755);
	fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
		mlctl_fsync_dir(dir);
	}
	free(p);
	free(dir);
}

static void unflag(const char *root, const char *sha)
{
	char *p = flag_path(root, sha);

	unlink(p);
	free(p);
}

int mlctl_blob_trusted(const char *root, const char *sha, uint64_t size)
{
	char *p = mlctl_blob_path(root, sha), *flag;
	struct stat st;
	int ok = stat(p, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == size;

	if (ok) {
		flag = flag_path(root, sha);
		ok = access(flag, F_OK) != 0;
		free(flag);
	}
	free(p);
	return ok;
}

int mlctl_blob_install(const char *root, const char *staged, const char *sha, int *created,
		       struct mlctl_err *err)
{
	char *final = mlctl_blob_path(root, sha), *dir = mlctl_dirname(final);
	int rc, had;
	struct stat st;

	if (created)
		*created = 0;
	if ((rc = mlctl_mkdir_p(dir, 0755, err)))
		goto done;
	had = mlctl_blob_exists(root, sha);
	/* a stored blob of another size, or one verify found corrupt, gives way to these bytes */
	if (had && (stat(staged, &st) < 0 || mlctl_blob_trusted(root, sha, (uint64_t)st.st_size))) {
		unlink(staged); /* stored already */
		goto done;
	}
	if (rename(staged, final) < 0) {
		rc = mlctl_err_errno(err, MLCTL_EIO, "cannot store blob '%s'", final);
		goto done;
	}
	mlctl_fault("blob-renamed");
	mlctl_fsync_dir(dir);
	if (had)
		unflag(root, sha);
	else if (created)
		*created = 1;
done:
	free(final);
	free(dir);
	return rc;
}

void mlctl_blob_discard(const char *staged)
{
	if (staged)
		unlink(staged);
}

int mlctl_blob_put_fd(const char *root, int fd, const char *what, char sha[65],
		      uint64_t *size, char **staged, struct mlctl_err *err)
{
	struct mlctl_blob_writer *w;
	int rc;

	if ((rc = mlctl_blob_writer_open(&w, root, 1, err)))
		return rc;
	for (;;) {
		size_t cap;
		void *buf = mlctl_blob_writer_buf(w, &cap);
		ssize_t n = read(fd, buf, cap);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = mlctl_err_errno(err, MLCTL_EIO, "cannot read '%s'", what);
			mlctl_blob_writer_abort(w);
			return rc;
		}
		if (n == 0)
			break;
		if ((rc = mlctl_blob_writer_push(w, (size_t)n, err))) {
			mlctl_blob_writer_abort(w);
			return rc;
		}
	}
	return mlctl_blob_writer_commit(w, sha, NULL, size, staged, err);
}

int mlctl_blob_check(const char *root, const char *sha, uint64_t *size, struct mlctl_err *err)
{
	char *path = mlctl_blob_path(root, sha);
	struct mlctl_blob_writer *w = NULL;
	char hex[65];
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0) {
		rc = mlctl_err_errno(err, errno == ENOENT ? MLCTL_EINTEGRITY : MLCTL_EIO,
				     "blob %s is missing", path);
		free(path);
		return rc;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	rc = mlctl_blob_writer_open(&w, root, 0, err);
	while (!rc) {
		size_t cap;
		void *buf = mlctl_blob_writer_buf(w, &cap);
		ssize_t n = read(fd, buf, cap);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = mlctl_err_errno(err, MLCTL_EIO, "cannot read '%s'", path);
			mlctl_blob_writer_abort(w);
			w = NULL;
			break;
		}
		if (n == 0)
			break;
		rc = mlctl_blob_writer_push(w, (size_t)n, err);
	}
	if (w && !rc) {
		rc = mlctl_blob_writer_commit(w, hex, NULL, size, NULL, err);
		if (!rc && strcmp(hex, sha))
			rc = mlctl_err_set(err, MLCTL_EINTEGRITY,
					   "blob %s is corrupt: its content hashes to sha256:%s",
					   path, hex);
	} else if (w) {
		mlctl_blob_writer_abort(w);
	}
	close(fd);
	free(path);
	return rc;
}

/* ---------------------------------------------------------------- tmp/ */

/* A file nobody names for an owner is garbage once untouched this long. */
#define UNOWNED_AGE_S 3600

static char *owner_lock_path(const char *root, long pid)
{
	return mlctl_aprintf("%s/tmp/owner-%ld.lock", root, pid);
}

static int same_file(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

int mlctl_tmp_claim(int *out, const char *root, struct mlctl_err *err)
{
	char *path = owner_lock_path(root, (long)getpid()), *dir = mlctl_path_join(root, "tmp");
	int fd, rc;

	*out = -1;
	if ((rc = mlctl_mkdir_p(dir, 0755, err)))
		goto done;
	for (;;) {
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0) {
			rc = mlctl_err_errno(err, MLCTL_EIO, "cannot create '%s'", path);
			break;
		}
		while (flock(fd, LOCK_SH) < 0) {
			if (errno == EINTR && !mlctl_interrupted())
				continue;
			rc = mlctl_err_errno(err, MLCTL_EIO, "cannot lock '%s'", path);
			close(fd);
			goto done;
		}
		/* 'registry gc' may have removed the file between our open and our lock */
		if (same_file(fd, path)) {
			*out = fd;
			break;
		}
		close(fd);
	}
done:
	free(path);
	free(dir);
	return rc;
}

void mlctl_tmp_unclaim(int fd, const char *root)
{
	char *path;

	if (fd < 0)
		return;
	path = owner_lock_path(root, (long)getpid());
	unlink(path);
	close(fd);
	free(path);
}

/* The pid a tmp/ name belongs to (blob-PID-…, reserve-PID, owner-PID.lock), or 0. */
static long tmp_owner(const char *name)
{
	static const struct {
		const char *prefix, *after; /* after the pid: "-" and more, "" or ".lock" */
	} kinds[] = { { "blob-", "-" }, { "reindex-", "-" }, { "reserve-", "" },
		      { "owner-", ".lock" } };
	size_t i;

	for (i = 0; i < MLCTL_ARRAY_SIZE(kinds); i++) {
		const char *p = name + strlen(kinds[i].prefix), *end = p;
		long pid = 0;

		if (strncmp(name, kinds[i].prefix, strlen(kinds[i].prefix)))
			continue;
		for (; *end >= '0' && *end <= '9' && end - p < 10; end++)
			pid = pid * 10 + (*end - '0');
		if (end == p || pid <= 0)
			return 0;
		if (!strcmp(kinds[i].after, "-"))
			return *end == '-' && end[1] ? pid : 0;
		return !strcmp(end, kinds[i].after) ? pid : 0;
	}
	return 0;
}

/*
 * Is pid's owner lock free? 1 when it is (or there is none), with the lock
 * held in *fd when fd is not NULL (made if missing, so a new process of
 * that pid waits); 0 when a live process holds it, or when in doubt.
 */
static int owner_gone(const char *root, long pid, int *fd)
{
	char *path = owner_lock_path(root, pid);
	int lfd = open(path, O_RDWR | O_CLOEXEC | (fd ? O_CREAT : 0), 0644), gone = 0;

	if (lfd < 0 && !fd && errno == ENOENT)
		gone = 1;
	else if (lfd < 0 && errno != ENOENT)
		lfd = open(path, O_RDONLY | O_CLOEXEC);
	if (lfd >= 0) {
		gone = flock(lfd, LOCK_EX | LOCK_NB) == 0 && same_file(lfd, path);
		if (gone && fd)
			*fd = lfd;
		else
			close(lfd);
	}
	free(path);
	return gone;
}

struct tmp_entry {
	char *name;
	long pid;
	uint64_t bytes;
	time_t mtime;
};

static int tmp_entry_cmp(const void *a, const void *b)
{
	const struct tmp_entry *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return strcmp(x->name, y->name);
}

int mlctl_tmp_leftovers(const char *root, int remove, mlctl_tmp_cb cb, void *payload,
			struct mlctl_err *err)
{
	char *dir = mlctl_path_join(root, "tmp");
	DIR *d = opendir(dir);
	struct tmp_entry *e = NULL;
	struct dirent *de;
	size_t n = 0, i, j;
	time_t now = time(NULL);
	int rc = 0;

	if (!d) {
		if (errno != ENOENT)
			rc = mlctl_err_errno(err, MLCTL_EIO, "cannot read '%s'", dir);
		free(dir);
		return rc;
	}
	while ((de = readdir(d))) {
		char *path;
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		path = mlctl_path_join(dir, de->d_name);
		if (lstat(path, &st) == 0) {
			e = mlctl_realloc(e, (n + 1) * sizeof(*e));
			e[n].name = mlctl_strdup(de->d_name);
			e[n].pid = tmp_owner(de->d_name);
			e[n].bytes = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
			e[n].mtime = st.st_mtime;
			n++;
		}
		free(path);
	}
	closedir(d);
	if (n)
		qsort(e, n, sizeof(*e), tmp_entry_cmp);
	for (i = 0; i < n; i = j) {
		int lock = -1, gone;

		for (j = i + 1; j < n && e[j].pid == e[i].pid; j++)
			;
		if (!e[i].pid) {
			/* not named for an owner (an older mlctl, or by hand): garbage once old */
			for (; i < j; i++) {
				char *path;

				if (now - e[i].mtime < UNOWNED_AGE_S)
					continue;
				cb(payload, e[i].name, e[i].bytes);
				if (!remove)
					continue;
				path = mlctl_path_join(dir, e[i].name);
				mlctl_rm_rf(path);
				free(path);
			}
			continue;
		}
		gone = owner_gone(root, e[i].pid, remove ? &lock : NULL);
		for (; gone && i < j; i++) {
			char *path;

			cb(payload, e[i].name, e[i].bytes);
			if (!remove || !strncmp(e[i].name, "owner-", 6))
				continue;
			path = mlctl_path_join(dir, e[i].name);
			mlctl_rm_rf(path);
			free(path);
			mlctl_fault("gc-tmp");
		}
		if (lock >= 0) {
			/* the owner file last, still locked: a newcomer of this pid sees it go */
			char *path = owner_lock_path(root, e[j - 1].pid);

			unlink(path);
			free(path);
			close(lock);
		}
	}
	for (i = 0; i < n; i++)
		free(e[i].name);
	free(e);
	free(dir);
	return rc;
}

int mlctl_blob_walk(const char *root,
		    void (*fn)(void *ctx, const char *fan, const char *name, const char *path),
		    void *ctx, int rmdir_empty)
{
	char *top = mlctl_path_join(root, "blobs/sha256");
	DIR *d = opendir(top), *sd;
	struct dirent *e, *f;

	if (!d) {
		free(top);
		return -1;
	}
	while (!mlctl_interrupted() && (e = readdir(d))) {
		char *sub;

		if (e->d_name[0] == '.')
			continue;
		sub = mlctl_path_join(top, e->d_name);
		sd = opendir(sub);
		while (sd && !mlctl_interrupted() && (f = readdir(sd))) {
			char *path;

			if (f->d_name[0] == '.')
				continue;
			path = mlctl_path_join(sub, f->d_name);
			fn(ctx, e->d_name, f->d_name, path);
			free(path);
		}
		if (sd)
			closedir(sd);
		/* an empty fan-out folder: emptied now, or made by a write killed before its rename */
		if (rmdir_empty && strlen(e->d_name) == 2)
			rmdir(sub);
		free(sub);
	}
	closedir(d);
	free(top);
	return 0;
}
