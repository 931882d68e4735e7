/*
 * blobstore.c - write, check and locate content-addressed blobs.
 */
#define _GNU_SOURCE
#include "blobstore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
		w->tmp = mlctl_aprintf("%s/tmp/blob-XXXXXX", root);
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
	if (fsync(w->fd) < 0 || fchmod(w->fd, 0444) < 0) {
		rc = mlctl_err_errno(err, MLCTL_EIO, "cannot write '%s'", w->tmp);
		goto done;
	}
	*staged = w->tmp;
	w->tmp = NULL;
done:
	mlctl_blob_writer_abort(w);
	return rc;
}

int mlctl_blob_install(const char *root, const char *staged, const char *sha, int *created,
		       struct mlctl_err *err)
{
	char *final = mlctl_blob_path(root, sha), *dir = mlctl_dirname(final);
	int rc;

	if (created)
		*created = 0;
	if ((rc = mlctl_mkdir_p(dir, 0755, err)))
		goto done;
	if (mlctl_blob_exists(root, sha)) {
		unlink(staged); /* stored already */
		goto done;
	}
	if (rename(staged, final) < 0) {
		rc = mlctl_err_errno(err, MLCTL_EIO, "cannot store blob '%s'", final);
		goto done;
	}
	mlctl_fsync_dir(dir);
	if (created)
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
