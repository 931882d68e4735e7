/*
 * pull.c - pull a version into a folder, every file checked as it streams.
 */
#define _GNU_SOURCE
#include "registry/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "blobstore.h"
#include "hashpipe.h"
#include "banned.h"

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
	if (reg_pruned(r, info->name, info->version) == 1) {
		rc = mlctl_err_set(err, MLCTL_ENOTFOUND,
				   "%s:%s is deprecated and its files were pruned from this registry "
				   "('registry gc --prune-deprecated'); pull it from a remote that has "
				   "it ('mlctl pull %s:%s --from REMOTE'), or push its folder again",
				   info->name, info->version, info->name, info->version);
		mlctl_manifest_release(&m);
		mlctl_version_info_release(info);
		return rc;
	}
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
