/*
 * write.c - write a deterministic package. Writing reads every
 * file once. The manifest comes first in the tar but holds every file's
 * sha256, which is known only after the file is read; so the manifest is
 * written with placeholder digests of the same length, the files are
 * archived and hashed in one pass, and the placeholder bytes are then
 * overwritten in place. A compressed package is made from that tar in a
 * second, streaming step (the user's files are still read once). Also the
 * package options (--compress, --level).
 */
#define _GNU_SOURCE
#include "package/internal.h"

#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "hashpipe.h"
#include "banned.h"

int mlctl_compression_parse(char name[8], int *level, const char *spec, struct mlctl_err *err)
{
	const char *colon = strchr(spec, ':');
	size_t n = colon ? (size_t)(colon - spec) : strlen(spec);
	int max;

	*level = 0;
	if (n == 4 && !strncmp(spec, "none", 4) && !colon) {
		memcpy(name, "none", 5);
		return 0;
	}
	if (n == 4 && !strncmp(spec, "gzip", 4)) {
		memcpy(name, "gzip", 5);
		max = 9;
	} else if (n == 4 && !strncmp(spec, "zstd", 4)) {
		memcpy(name, "zstd", 5);
		max = 19;
	} else {
		goto bad;
	}
	if (colon) {
		char *end;
		long v = strtol(colon + 1, &end, 10);

		if (!colon[1] || *end || v < 1 || v > max)
			goto bad;
		*level = (int)v;
	}
	return 0;
bad:
	return mlctl_err_set(err, MLCTL_EUSAGE,
			     "compression '%s' is not known; use none, gzip[:1-9] or zstd[:1-19]",
			     spec);
}

int mlctl_source_date_epoch(int64_t *out, struct mlctl_err *err)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	char *end;
	long long v;

	*out = 0;
	if (!s || !*s)
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < 0 || v > 077777777777LL)
		return mlctl_err_set(err, MLCTL_EUSAGE,
				     "SOURCE_DATE_EPOCH '%s' is not a number of seconds since 1970",
				     s);
	*out = v;
	return 0;
}

/* ---------------------------------------------------------------- writing */

int pkg_arc_err(struct mlctl_err *err, struct archive *a, int code, const char *what,
		const char *path)
{
	const char *msg = archive_error_string(a);

	/* a package that cannot be read is damaged or cut short: say what to do */
	return mlctl_err_set(err, code, "%s '%s': %s%s", what, path, msg ? msg : "unknown error",
			     code == MLCTL_EINTEGRITY ? "; the package is damaged or cut short: "
							"make it again with 'mlctl package', or "
							"copy it again"
						      : "");
}

static struct archive_entry *make_entry(const char *path, uint64_t size, unsigned mode,
					int64_t mtime)
{
	struct archive_entry *e = archive_entry_new();

	archive_entry_set_pathname(e, path);
	archive_entry_set_size(e, (la_int64_t)size);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, mode);
	archive_entry_set_mtime(e, (time_t)mtime, 0);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	return e;
}

/* Archive one file, hashing it on the way; fills f->sha256. */
static int archive_file(struct archive *a, struct mlctl_file_entry *f, const char *dir,
			int64_t mtime, const char *out_path, int out_fd, struct mlctl_err *err)
{
	char *full = mlctl_path_join(dir, f->path);
	struct archive_entry *e = make_entry(f->path, f->size, f->mode, mtime);
	struct mlctl_hashpipe *hp = NULL;
	uint64_t total = 0;
	int fd = -1, rc = 0;

	fd = mlctl_open_regular(full, MLCTL_EIO, err);
	if (fd < 0) {
		rc = fd;
		goto done;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	if (archive_write_header(a, e) != ARCHIVE_OK) {
		if (!mlctl_locale_is_utf8())
			rc = mlctl_err_set(err, MLCTL_EIO,
					   "cannot write the name of '%s': no UTF-8 locale is "
					   "installed; install C.UTF-8",
					   f->path);
		else
			rc = pkg_arc_err(err, a, MLCTL_EIO, "cannot write", out_path);
		goto done;
	}
	hp = mlctl_hashpipe_new();
	for (;;) {
		size_t cap;
		char *slot = mlctl_hashpipe_slot(hp, &cap);
		ssize_t n;

		if (total + cap > f->size)
			cap = (size_t)(f->size - total) + 1; /* one more byte shows growth */
		if (mlctl_interrupted()) {
			rc = mlctl_err_interrupted(err);
			goto done;
		}
		n = read(fd, slot, cap);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = mlctl_err_errno(err, MLCTL_EIO, "cannot read '%s'", full);
			goto done;
		}
		if (n == 0)
			break;
		total += (uint64_t)n;
		if (total > f->size)
			break;
		mlctl_hashpipe_push(hp, (size_t)n);
		if (archive_write_data(a, slot, (size_t)n) != n) {
			rc = pkg_arc_err(err, a, MLCTL_EIO, "cannot write", out_path);
			goto done;
		}
		/* start write-back as we go, so the final fsync has little left */
		if ((total & (32 * MLCTL_IO_CHUNK - 1)) < (uint64_t)n)
			sync_file_range(out_fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	}
	if (total != f->size) {
		rc = mlctl_err_set(err, MLCTL_EIO,
				   "'%s' changed size while it was packaged; package again when "
				   "it is no longer being written",
				   full);
		goto done;
	}
	mlctl_hashpipe_finish(hp, f->sha256);
done:
	mlctl_hashpipe_free(hp);
	if (fd >= 0)
		close(fd);
	archive_entry_free(e);
	free(full);
	return rc;
}

/* Overwrite the placeholder manifest near the start of the tar with the real one. */
static int patch_manifest(const char *path, const char *placeholder, const char *real,
			  struct mlctl_err *err)
{
	size_t len = strlen(placeholder), window = len + 65536;
	char *buf = mlctl_malloc(window);
	ssize_t got;
	char *at;
	int fd = open(path, O_RDWR | O_CLOEXEC), rc = 0;

	if (fd < 0) {
		rc = mlctl_err_errno(err, MLCTL_EIO, "cannot reopen '%s'", path);
		goto done;
	}
	got = pread(fd, buf, window, 0);
	if (got < 0) {
		rc = mlctl_err_errno(err, MLCTL_EIO, "cannot read '%s'", path);
		goto done;
	}
	at = memmem(buf, (size_t)got, placeholder, len);
	if (!at) {
		rc = mlctl_err_set(err, MLCTL_EINTERNAL,
				   "cannot find the manifest in '%s' to fill in its digests", path);
		goto done;
	}
	if (pwrite(fd, real, len, at - buf) != (ssize_t)len) {
		rc = mlctl_err_errno(err, MLCTL_EIO, "cannot write '%s'", path);
		goto done;
	}
done:
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc;
}

/* Stream the tar at src through a compressor into dst. */
static int compress_file(const char *src, const char *dst, const char *name, int level,
			 struct mlctl_err *err)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	char *buf = mlctl_malloc(MLCTL_IO_CHUNK), lv[16];
	int fd = open(src, O_RDONLY | O_CLOEXEC), rc = 0;
	ssize_t n;

	if (fd < 0) {
		rc = mlctl_err_errno(err, MLCTL_EIO, "cannot open '%s'", src);
		goto done;
	}
	archive_write_set_format_raw(a);
	if (!strcmp(name, "gzip")) {
		archive_write_add_filter_gzip(a);
		/* no time stamp in the gzip header: same input, same bytes */
		archive_write_set_filter_option(a, "gzip", "timestamp", NULL);
	} else {
		archive_write_add_filter_zstd(a);
	}
	if (level) {
		snprintf(lv, sizeof(lv), "%d", level);
		archive_write_set_filter_option(a, NULL, "compression-level", lv);
	}
	archive_write_set_bytes_in_last_block(a, 1);
	if (archive_write_open_filename(a, dst) != ARCHIVE_OK) {
		rc = pkg_arc_err(err, a, MLCTL_EIO, "cannot create", dst);
		goto done;
	}
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_pathname(e, "data");
	if (archive_write_header(a, e) != ARCHIVE_OK) {
		rc = pkg_arc_err(err, a, MLCTL_EIO, "cannot write", dst);
		goto done;
	}
	while ((n = read(fd, buf, MLCTL_IO_CHUNK)) > 0) {
		if (mlctl_interrupted()) {
			rc = mlctl_err_interrupted(err);
			goto done;
		}
		if (archive_write_data(a, buf, (size_t)n) != n) {
			rc = pkg_arc_err(err, a, MLCTL_EIO, "cannot write", dst);
			goto done;
		}
	}
	if (n < 0) {
		rc = mlctl_err_errno(err, MLCTL_EIO, "cannot read '%s'", src);
		goto done;
	}
	if (archive_write_close(a) != ARCHIVE_OK)
		rc = pkg_arc_err(err, a, MLCTL_EIO, "cannot write", dst);
done:
	if (fd >= 0)
		close(fd);
	archive_entry_free(e);
	archive_write_free(a);
	free(buf);
	return rc;
}

static int sync_file(const char *path, struct mlctl_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0 || fsync(fd) < 0)
		rc = mlctl_err_errno(err, MLCTL_EIO, "cannot write '%s'", path);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* The tar at path: the manifest with placeholder digests first, then every file, hashed. */
static int write_tar(struct mlctl_manifest *m, const char *dir, const char *path,
		     const char *placeholder, int64_t mtime, struct mlctl_err *err)
{
	struct archive *a = NULL;
	struct archive_entry *e = NULL;
	int rc = 0, fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	size_t i;

	if (fd < 0)
		return mlctl_err_errno(err, MLCTL_EIO, "cannot create '%s'", path);
	a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	archive_write_add_filter_none(a);
	/* write in large blocks; no padding after the end-of-archive records */
	archive_write_set_bytes_per_block(a, MLCTL_IO_CHUNK);
	archive_write_set_bytes_in_last_block(a, 1);
	if (archive_write_open_fd(a, fd) != ARCHIVE_OK) {
		rc = pkg_arc_err(err, a, MLCTL_EIO, "cannot create", path);
		goto done;
	}
	e = make_entry(MLCTL_MANIFEST_FILE, strlen(placeholder), 0644, mtime);
	if (archive_write_header(a, e) != ARCHIVE_OK ||
	    archive_write_data(a, placeholder, strlen(placeholder)) !=
		    (la_ssize_t)strlen(placeholder)) {
		rc = pkg_arc_err(err, a, MLCTL_EIO, "cannot write", path);
		goto done;
	}
	for (i = 0; i < m->nfiles && !rc; i++)
		rc = mlctl_interrupted() ? mlctl_err_interrupted(err)
					 : archive_file(a, &m->files[i], dir, mtime, path, fd, err);
	if (!rc && archive_write_close(a) != ARCHIVE_OK)
		rc = pkg_arc_err(err, a, MLCTL_EIO, "cannot write", path);
done:
	archive_write_free(a);
	archive_entry_free(e);
	if (close(fd) < 0 && !rc)
		rc = mlctl_err_errno(err, MLCTL_EIO, "cannot write '%s'", path);
	return rc;
}

int mlctl_package_write(struct mlctl_manifest *m, char digest[72], const char *dir,
			const char *out_path, const char *compression, struct mlctl_err *err)
{
	struct mlctl_file_entry *files = NULL, *hashed;
	char *placeholder = NULL, *real = NULL, *tar_tmp = NULL, *z_tmp = NULL, *outdir = NULL;
	char cname[8];
	int level, rc;
	int64_t mtime;
	size_t n = 0, i;

	memset(m, 0, sizeof(*m));
	if ((rc = mlctl_compression_parse(cname, &level, compression, err)) ||
	    (rc = mlctl_source_date_epoch(&mtime, err)))
		return rc;
	if ((rc = mlctl_check_regular_or_absent(out_path, MLCTL_EUSAGE, err)))
		return rc;
	if ((rc = mlctl_manifest_load(m, dir, NULL, err)))
		return rc;
	if ((rc = mlctl_project_collect(&files, &n, dir, m, err)))
		goto done;
	for (i = 0; i < n; i++)
		memset(files[i].sha256, '0', 64);
	mlctl_manifest_set_files(m, files, n);
	files = NULL;
	placeholder = mlctl_manifest_canonical(m);
	outdir = mlctl_dirname(out_path);
	tar_tmp = mlctl_aprintf("%s/.%s.tmp-%ld", outdir, mlctl_basename(out_path),
				(long)getpid());
	if ((rc = write_tar(m, dir, tar_tmp, placeholder, mtime, err)))
		goto done;
	/* the hashes are known now: put them into the manifest, same length */
	hashed = m->files;
	n = m->nfiles;
	m->files = NULL;
	m->nfiles = 0;
	mlctl_manifest_set_files(m, hashed, n);
	n = 0;
	real = mlctl_manifest_canonical(m);
	if (strlen(real) != strlen(placeholder)) {
		rc = mlctl_err_set(err, MLCTL_EINTERNAL, "manifest length changed while packaging");
		goto done;
	}
	if ((rc = patch_manifest(tar_tmp, placeholder, real, err)))
		goto done;
	if (strcmp(cname, "none")) {
		z_tmp = mlctl_aprintf("%s/.%s.z-%ld", outdir, mlctl_basename(out_path),
				      (long)getpid());
		if ((rc = compress_file(tar_tmp, z_tmp, cname, level, err)))
			goto done;
		unlink(tar_tmp);
		free(tar_tmp);
		tar_tmp = z_tmp;
		z_tmp = NULL;
	}
	if ((rc = sync_file(tar_tmp, err)))
		goto done;
	chmod(tar_tmp, 0644);
	if (rename(tar_tmp, out_path) < 0) {
		rc = mlctl_err_errno(err, MLCTL_EIO, "cannot write '%s'", out_path);
		goto done;
	}
	mlctl_fsync_dir(outdir);
	mlctl_manifest_digest(m, digest);
done:
	if (rc) {
		if (tar_tmp)
			unlink(tar_tmp);
		if (z_tmp)
			unlink(z_tmp);
		mlctl_manifest_release(m);
	}
	mlctl_file_entries_free(files, n);
	free(placeholder);
	free(real);
	free(tar_tmp);
	free(z_tmp);
	free(outdir);
	return rc;
}
