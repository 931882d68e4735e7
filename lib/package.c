/*
 * package.c - collect a project's files, write deterministic packages and
 * read them back as a checked stream (libarchive).
 *
 * Writing reads every file once. The manifest comes first in the tar but
 * holds every file's sha256, which is known only after the file is read;
 * so the manifest is written with placeholder digests of the same length,
 * the files are archived and hashed in one pass, and the placeholder bytes
 * are then overwritten in place. A compressed package is made from that
 * tar in a second, streaming step (the user's files are still read once).
 */
#define _GNU_SOURCE
#include "package.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hashpipe.h"
#include "banned.h"

/* ---------------------------------------------------------------- project */

struct collect {
	struct mlctl_file_entry *files;
	size_t n, alloc;
	const char *dir;
	char *root_real;
	struct mlctl_err *err;
};

static int add_entry(struct collect *c, const char *rel, const struct stat *st)
{
	if (c->n == c->alloc) {
		c->alloc = c->alloc ? 2 * c->alloc : 16;
		c->files = mlctl_realloc(c->files, c->alloc * sizeof(*c->files));
	}
	memset(&c->files[c->n], 0, sizeof(c->files[c->n]));
	c->files[c->n].path = mlctl_strdup(rel);
	c->files[c->n].size = (uint64_t)st->st_size;
	c->files[c->n].mode = (st->st_mode & 0111) ? 0755 : 0644;
	c->n++;
	return 0;
}

/* Sort the files and keep one of each path (listed twice, through a folder and by name). */
static void sort_unique(struct collect *c)
{
	size_t i, k = 0;

	qsort(c->files, c->n, sizeof(*c->files), mlctl_file_entry_cmp);
	for (i = 0; i < c->n; i++) {
		if (k > 0 && !strcmp(c->files[k - 1].path, c->files[i].path)) {
			free(c->files[i].path);
			continue;
		}
		c->files[k++] = c->files[i];
	}
	c->n = k;
}

/* Check that full (dir/rel) stays inside the project once symlinks are resolved. */
static int check_inside(struct collect *c, const char *rel, const char *full)
{
	char *real = realpath(full, NULL);
	size_t n = strlen(c->root_real);
	int ok;

	if (!real) {
		mlctl_err_errno(c->err, MLCTL_EGATE,
				"artifact '%s' cannot be resolved (a dangling symlink?); fix or "
				"remove it",
				rel);
		c->err->check = MLV020;
		return MLCTL_EGATE;
	}
	ok = !strncmp(real, c->root_real, n) && real[n] == '/';
	free(real);
	if (!ok) {
		mlctl_err_set(c->err, MLCTL_EGATE,
			      "artifact '%s' leaves the project through a symlink; copy the file "
			      "into '%s' instead",
			      rel, c->dir);
		c->err->check = MLV021;
		return MLCTL_EGATE;
	}
	return 0;
}

/*
 * A name found in an artifact folder must be one a package can hold:
 * UTF-8 (what tar's pax headers and JSON carry), no control characters or
 * backslash. The error shows the name escaped, as the terminal cannot.
 */
static int check_name(struct collect *c, const char *rel)
{
	char q[512];
	int utf8 = mlctl_utf8_valid(rel, strlen(rel));

	if (mlctl_path_is_safe(rel))
		return 0;
	mlctl_err_set(c->err, MLCTL_EGATE,
		      utf8 ? "file name '%s' cannot be packaged (control characters or "
			     "backslash); rename it"
			   : "file name '%s' is not valid UTF-8; rename it to a UTF-8 "
			     "name",
		      mlctl_escape(q, sizeof(q), rel));
	c->err->check = MLV009;
	return MLCTL_EGATE;
}

static int walk(struct collect *c, const char *rel, int top)
{
	char *full = mlctl_path_join(c->dir, rel);
	struct stat lst, st;
	int rc = 0;

	if (mlctl_interrupted()) {
		rc = mlctl_err_interrupted(c->err);
		goto done;
	}
	if (lstat(full, &lst) < 0) {
		if (errno == ENOENT && top) {
			rc = mlctl_err_set(c->err, MLCTL_EGATE,
					   "artifact '%s' is listed in mlctl.json but missing from "
					   "'%s'; add the file or remove the entry",
					   rel, c->dir);
			c->err->check = MLV020;
		} else
			rc = mlctl_err_errno(c->err, MLCTL_EIO, "cannot read '%s'", full);
		goto done;
	}
	/* every artifact is resolved: a symlinked parent folder may leave too */
	if ((rc = check_inside(c, rel, full)))
		goto done;
	if (stat(full, &st) < 0) {
		rc = mlctl_err_errno(c->err, MLCTL_EIO, "cannot read '%s'", full);
		goto done;
	}
	if (S_ISDIR(st.st_mode)) {
		DIR *d;
		struct dirent *e;

		if (S_ISLNK(lst.st_mode)) {
			rc = mlctl_err_set(c->err, MLCTL_EGATE,
					   "artifact '%s' is a symlink to a folder; list the real "
					   "folder instead",
					   rel);
			c->err->check = MLV022;
			goto done;
		}
		d = opendir(full);
		if (!d) {
			rc = mlctl_err_errno(c->err, MLCTL_EIO, "cannot list '%s'", full);
			goto done;
		}
		while (!rc && (e = readdir(d))) {
			char *sub;

			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			sub = mlctl_aprintf("%s/%s", rel, e->d_name);
			rc = check_name(c, sub);
			if (!rc)
				rc = walk(c, sub, 0);
			free(sub);
		}
		closedir(d);
	} else if (S_ISREG(st.st_mode)) {
		rc = add_entry(c, rel, &st);
	} else {
		rc = mlctl_err_set(c->err, MLCTL_EGATE,
				   "artifact '%s' is not a regular file or folder; remove it from "
				   "mlctl.json",
				   rel);
		c->err->check = MLV022;
	}
done:
	free(full);
	return rc;
}

int mlctl_project_collect_one(struct mlctl_file_entry **out, size_t *n, const char *dir,
			      const char *rel, struct mlctl_err *err)
{
	struct collect c = { NULL, 0, 0, dir, NULL, err };
	int rc;

	*out = NULL;
	*n = 0;
	c.root_real = realpath(dir, NULL);
	if (!c.root_real)
		return mlctl_err_errno(err, MLCTL_ENOTFOUND, "cannot open project '%s'", dir);
	rc = walk(&c, rel, 1);
	free(c.root_real);
	if (rc) {
		mlctl_file_entries_free(c.files, c.n);
		return rc;
	}
	sort_unique(&c);
	*out = c.files;
	*n = c.n;
	return 0;
}

int mlctl_project_collect(struct mlctl_file_entry **out, size_t *n, const char *dir,
			  const struct mlctl_manifest *m, struct mlctl_err *err)
{
	struct collect c = { NULL, 0, 0, dir, NULL, err };
	cJSON *a, *smoke, *cases;
	int rc = 0;

	*out = NULL;
	*n = 0;
	c.root_real = realpath(dir, NULL);
	if (!c.root_real)
		return mlctl_err_errno(err, MLCTL_ENOTFOUND, "cannot open project '%s'", dir);
	cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(m->json, "artifacts")) {
		rc = walk(&c, cJSON_GetObjectItemCaseSensitive(a, "path")->valuestring, 1);
		if (rc)
			goto done;
	}
	smoke = cJSON_GetObjectItemCaseSensitive(m->json, "smoke");
	cases = cJSON_GetObjectItemCaseSensitive(smoke, "cases");
	if (cJSON_IsString(cases)) {
		if (!mlctl_path_is_safe(cases->valuestring)) {
			char q[512];

			rc = mlctl_err_set(err, MLCTL_EGATE,
					   "smoke cases path '%s' is unsafe; use a relative path "
					   "inside the project",
					   mlctl_escape(q, sizeof(q), cases->valuestring));
			goto done;
		}
		rc = walk(&c, cases->valuestring, 1);
		if (rc)
			goto done;
	}
	sort_unique(&c);
	*out = c.files;
	*n = c.n;
	c.files = NULL;
done:
	mlctl_file_entries_free(c.files, c.n);
	free(c.root_real);
	return rc;
}

/* Hash one collected file of the project into f->sha256, checking its size. */
static int hash_project_file(struct mlctl_file_entry *f, const char *dir, struct mlctl_err *err)
{
	char *full = mlctl_path_join(dir, f->path);
	uint64_t total = 0;
	int fd, rc;

	fd = mlctl_open_regular(full, MLCTL_EIO, err);
	if (fd < 0) {
		free(full);
		return fd;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	rc = mlctl_fd_hash_copy(fd, -1, f->sha256, &total, full, NULL, err);
	if (!rc && total != f->size)
		rc = mlctl_err_set(err, MLCTL_EIO,
				   "'%s' changed while it was read; try again when it is no longer "
				   "being written",
				   full);
	close(fd);
	free(full);
	return rc;
}

int mlctl_project_load(struct mlctl_manifest *m, const char *dir, struct mlctl_err *err)
{
	struct mlctl_file_entry *files = NULL;
	size_t n = 0, i;
	int rc;

	if ((rc = mlctl_manifest_load(m, dir, NULL, err)))
		return rc;
	rc = mlctl_project_collect(&files, &n, dir, m, err);
	for (i = 0; !rc && i < n; i++)
		rc = hash_project_file(&files[i], dir, err);
	if (!rc) {
		mlctl_manifest_set_files(m, files, n);
		files = NULL;
	}
	mlctl_file_entries_free(files, n);
	if (rc)
		mlctl_manifest_release(m);
	return rc;
}

/* ---------------------------------------------------------------- options */

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

static int arc_err(struct mlctl_err *err, struct archive *a, int code, const char *what,
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
			rc = arc_err(err, a, MLCTL_EIO, "cannot write", out_path);
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
			rc = arc_err(err, a, MLCTL_EIO, "cannot write", out_path);
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
		rc = arc_err(err, a, MLCTL_EIO, "cannot create", dst);
		goto done;
	}
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_pathname(e, "data");
	if (archive_write_header(a, e) != ARCHIVE_OK) {
		rc = arc_err(err, a, MLCTL_EIO, "cannot write", dst);
		goto done;
	}
	while ((n = read(fd, buf, MLCTL_IO_CHUNK)) > 0) {
		if (mlctl_interrupted()) {
			rc = mlctl_err_interrupted(err);
			goto done;
		}
		if (archive_write_data(a, buf, (size_t)n) != n) {
			rc = arc_err(err, a, MLCTL_EIO, "cannot write", dst);
			goto done;
		}
	}
	if (n < 0) {
		rc = mlctl_err_errno(err, MLCTL_EIO, "cannot read '%s'", src);
		goto done;
	}
	if (archive_write_close(a) != ARCHIVE_OK)
		rc = arc_err(err, a, MLCTL_EIO, "cannot write", dst);
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

int mlctl_package_write(struct mlctl_manifest *m, char digest[72], const char *dir,
			const char *out_path, const char *compression, struct mlctl_err *err)
{
	struct mlctl_file_entry *files = NULL;
	struct archive *a = NULL;
	struct archive_entry *e = NULL;
	char *placeholder = NULL, *real = NULL, *tar_tmp = NULL, *z_tmp = NULL, *outdir = NULL;
	char cname[8];
	int level, rc, out_fd = -1;
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
	out_fd = open(tar_tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out_fd < 0) {
		rc = mlctl_err_errno(err, MLCTL_EIO, "cannot create '%s'", tar_tmp);
		goto done;
	}
	a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	archive_write_add_filter_none(a);
	/* write in large blocks; no padding after the end-of-archive records */
	archive_write_set_bytes_per_block(a, MLCTL_IO_CHUNK);
	archive_write_set_bytes_in_last_block(a, 1);
	if (archive_write_open_fd(a, out_fd) != ARCHIVE_OK) {
		rc = arc_err(err, a, MLCTL_EIO, "cannot create", tar_tmp);
		goto done;
	}
	e = make_entry(MLCTL_MANIFEST_FILE, strlen(placeholder), 0644, mtime);
	if (archive_write_header(a, e) != ARCHIVE_OK ||
	    archive_write_data(a, placeholder, strlen(placeholder)) !=
		    (la_ssize_t)strlen(placeholder)) {
		rc = arc_err(err, a, MLCTL_EIO, "cannot write", tar_tmp);
		goto done;
	}
	for (i = 0; i < m->nfiles; i++) {
		if (mlctl_interrupted()) {
			rc = mlctl_err_interrupted(err);
			goto done;
		}
		if ((rc = archive_file(a, &m->files[i], dir, mtime, tar_tmp, out_fd, err)))
			goto done;
	}
	if (archive_write_close(a) != ARCHIVE_OK) {
		rc = arc_err(err, a, MLCTL_EIO, "cannot write", tar_tmp);
		goto done;
	}
	if (close(out_fd) < 0) {
		out_fd = -1;
		rc = mlctl_err_errno(err, MLCTL_EIO, "cannot write '%s'", tar_tmp);
		goto done;
	}
	out_fd = -1;
	/* the hashes are known now: put them into the manifest, same length */
	{
		struct mlctl_file_entry *done_files = m->files;
		size_t k = m->nfiles;

		m->files = NULL;
		m->nfiles = 0;
		mlctl_manifest_set_files(m, done_files, k);
	}
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
	if (a)
		archive_write_free(a);
	if (out_fd >= 0)
		close(out_fd);
	archive_entry_free(e);
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

/* ---------------------------------------------------------------- reading */

struct mlctl_pkg_reader {
	struct archive *a;
	int fd;
	char *path;
	struct mlctl_manifest m;
	size_t next;       /* index of the next expected file */
	const struct mlctl_file_entry *cur;
	uint64_t cur_read;
	int hash, at_end;
	struct mlctl_sha256 *sha;
};

static int pkg_bad(struct mlctl_err *err, const char *path, const char *what, const char *name)
{
	char q[512];

	return mlctl_err_set(err, MLCTL_EINTEGRITY, "package '%s' %s '%s'; it is damaged or "
			     "unsafe: rebuild it with 'mlctl package'",
			     path, what, mlctl_escape(q, sizeof(q), name));
}

/*
 * Is name, as libarchive read it from the tar, the index's path? libarchive
 * turns the UTF-8 names of pax headers into composed Unicode (NFC) as it
 * reads them, so a decomposed name (as macOS writes them: "e" + U+0301)
 * reads back as other bytes than were written. Compare with the index's
 * path put through the same conversion; files are always created under
 * the index's path, whose bytes the digest covers.
 */
static int entry_is(const char *name, const char *path)
{
	struct archive_entry *e;
	const char *read_as;
	int same;

	if (!strcmp(name, path))
		return 1;
	e = archive_entry_new();
	archive_entry_update_pathname_utf8(e, path);
	read_as = archive_entry_pathname(e);
	same = read_as && !strcmp(read_as, name);
	archive_entry_free(e);
	return same;
}

static int check_entry_type(struct mlctl_pkg_reader *r, struct archive_entry *e,
			    const char *name, struct mlctl_err *err)
{
	if (archive_entry_hardlink(e))
		return pkg_bad(err, r->path, "has a hardlink entry", name);
	if (archive_entry_filetype(e) == AE_IFLNK)
		return pkg_bad(err, r->path, "has a symlink entry", name);
	if (archive_entry_filetype(e) != AE_IFREG)
		return pkg_bad(err, r->path, "has an entry that is not a regular file:", name);
	if (!archive_entry_size_is_set(e) || archive_entry_size(e) < 0)
		return pkg_bad(err, r->path, "has an entry without a size:", name);
	return 0;
}

/* The first of the (sorted) files index at or after path: an index, nfiles when none. */
static size_t files_lower_bound(const struct mlctl_manifest *m, const char *path)
{
	size_t lo = 0, hi = m->nfiles;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(m->files[mid].path, path) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int check_artifacts_covered(struct mlctl_pkg_reader *r, struct mlctl_err *err)
{
	cJSON *a;

	cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(r->m.json, "artifacts")) {
		const char *p = cJSON_GetObjectItemCaseSensitive(a, "path")->valuestring;
		size_t n = strlen(p), i;
		char *folder = mlctl_aprintf("%s/", p);
		int found;

		/* the file itself, or the first file under the folder p/ (the index is sorted) */
		i = files_lower_bound(&r->m, p);
		found = i < r->m.nfiles && !strcmp(r->m.files[i].path, p);
		i = files_lower_bound(&r->m, folder);
		found = found || (i < r->m.nfiles && !strncmp(r->m.files[i].path, folder, n + 1));
		free(folder);
		if (!found)
			return pkg_bad(err, r->path, "lists an artifact missing from its files index:",
				       p);
	}
	return 0;
}

int mlctl_pkg_open(struct mlctl_pkg_reader **out, const char *path, int hash,
		   struct mlctl_err *err)
{
	return mlctl_pkg_open_ex(out, path, hash, NULL, err);
}

int mlctl_pkg_open_ex(struct mlctl_pkg_reader **out, const char *path, int hash,
		      struct mlctl_buf *manifest_text, struct mlctl_err *err)
{
	struct mlctl_pkg_reader *r = mlctl_calloc(1, sizeof(*r));
	struct archive_entry *e;
	struct mlctl_buf text = MLCTL_BUF_INIT;
	char *origin = NULL;
	int rc = 0, ar;

	*out = NULL;
	r->fd = -1;
	r->path = mlctl_strdup(path);
	r->hash = hash;
	r->a = archive_read_new();
	archive_read_support_filter_none(r->a);
	archive_read_support_filter_gzip(r->a);
	archive_read_support_filter_zstd(r->a);
	archive_read_support_format_tar(r->a);
	if (access(path, R_OK) < 0) {
		rc = mlctl_err_errno(err, errno == ENOENT ? MLCTL_ENOTFOUND : MLCTL_EIO,
				     "cannot open package '%s'", path);
		goto done;
	}
	/* a FIFO or a device named like a package would block the open, or the read */
	if ((r->fd = mlctl_open_regular(path, MLCTL_EUSAGE, err)) < 0) {
		rc = r->fd;
		goto done;
	}
	if (archive_read_open_fd(r->a, r->fd, MLCTL_IO_CHUNK) != ARCHIVE_OK) {
		const char *why = archive_error_string(r->a);

		rc = mlctl_err_set(err, MLCTL_EINTEGRITY,
				   "'%s' is not an mlctl package (%s); make one with 'mlctl package'",
				   path, why ? why : "unreadable");
		goto done;
	}
	ar = archive_read_next_header(r->a, &e);
	if (ar != ARCHIVE_OK) {
		rc = mlctl_err_set(err, MLCTL_EINTEGRITY,
				   "'%s' is not an mlctl package (%s); make one with 'mlctl package'",
				   path, ar == ARCHIVE_EOF ? "empty archive" :
				   archive_error_string(r->a) ? archive_error_string(r->a) : "unreadable");
		goto done;
	}
	if (strcmp(archive_entry_pathname(e) ? archive_entry_pathname(e) : "", MLCTL_MANIFEST_FILE)) {
		rc = pkg_bad(err, path, "does not start with mlctl.json but with",
			     archive_entry_pathname(e) ? archive_entry_pathname(e) : "(no name)");
		goto done;
	}
	if ((rc = check_entry_type(r, e, MLCTL_MANIFEST_FILE, err)))
		goto done;
	if (archive_entry_size(e) > (la_int64_t)MLCTL_MANIFEST_MAX) {
		rc = pkg_bad(err, path, "has an oversized", MLCTL_MANIFEST_FILE);
		goto done;
	}
	for (;;) {
		char buf[65536];
		la_ssize_t n = archive_read_data(r->a, buf, sizeof(buf));

		if (n < 0) {
			rc = arc_err(err, r->a, MLCTL_EINTEGRITY, "cannot read package", path);
			goto done;
		}
		if (n == 0)
			break;
		mlctl_buf_add(&text, buf, (size_t)n);
	}
	if (text.len != (size_t)archive_entry_size(e)) {
		rc = pkg_bad(err, path, "is truncated in", MLCTL_MANIFEST_FILE);
		goto done;
	}
	if (manifest_text)
		mlctl_buf_add(manifest_text, text.buf ? text.buf : "", text.len);
	origin = mlctl_aprintf("%s:%s", path, MLCTL_MANIFEST_FILE);
	rc = mlctl_manifest_parse(&r->m, text.buf ? text.buf : "", text.len, origin, 1, NULL, err);
	if (rc) {
		err->code = rc = MLCTL_EINTEGRITY;
		goto done;
	}
	rc = check_artifacts_covered(r, err);
done:
	mlctl_buf_release(&text);
	free(origin);
	if (rc)
		mlctl_pkg_free(r);
	else
		*out = r;
	return rc;
}

struct mlctl_manifest *mlctl_pkg_manifest(struct mlctl_pkg_reader *r)
{
	return &r->m;
}

static int finish_entry(struct mlctl_pkg_reader *r, struct mlctl_err *err)
{
	char hex[65];

	if (!r->cur)
		return 0;
	if (r->cur_read != r->cur->size)
		return pkg_bad(err, r->path, "is truncated or has a wrong size for", r->cur->path);
	if (r->sha) {
		mlctl_sha256_final_hex(r->sha, hex);
		mlctl_sha256_free(r->sha);
		r->sha = NULL;
		if (strcmp(hex, r->cur->sha256))
			return pkg_bad(err, r->path, "has content that does not match its digest for",
				       r->cur->path);
	}
	return 0;
}

int mlctl_pkg_next(struct mlctl_pkg_reader *r, const struct mlctl_file_entry **entry,
		   struct mlctl_err *err)
{
	struct archive_entry *e;
	const struct mlctl_file_entry *want;
	const char *name;
	int ar, rc;

	*entry = NULL;
	if (r->at_end)
		return 0;
	if (mlctl_interrupted())
		return mlctl_err_interrupted(err);
	if (r->cur && r->cur_read < r->cur->size && !r->hash) {
		/* not checking digests: skip the rest (a seek on an uncompressed file) */
		if (archive_read_data_skip(r->a) != ARCHIVE_OK)
			return arc_err(err, r->a, MLCTL_EINTEGRITY, "cannot read package", r->path);
	} else if (r->cur && r->cur_read < r->cur->size) {
		/* the caller did not read it all: read the rest (checks the digest) */
		char buf[65536];
		ssize_t n;

		while ((n = mlctl_pkg_read(r, buf, sizeof(buf), err)) > 0)
			;
		if (n < 0)
			return (int)n;
	} else if (r->cur && r->sha) {
		/* read to the byte but not to the end: check the digest now */
		if ((rc = finish_entry(r, err)))
			return rc;
	}
	r->cur = NULL;
	ar = archive_read_next_header(r->a, &e);
	if (ar == ARCHIVE_EOF) {
		if (r->next < r->m.nfiles)
			return pkg_bad(err, r->path, "is missing the indexed file",
				       r->m.files[r->next].path);
		r->at_end = 1;
		return 0;
	}
	name = ar == ARCHIVE_OK || ar == ARCHIVE_WARN ? archive_entry_pathname(e) : NULL;
	/* a pax name that is not UTF-8 is a warning; libarchive then gives its raw bytes */
	if (name && !mlctl_utf8_valid(name, strlen(name)))
		return pkg_bad(err, r->path, "has an entry name that is not UTF-8:", name);
	if (ar != ARCHIVE_OK)
		return arc_err(err, r->a, MLCTL_EINTEGRITY, "cannot read package", r->path);
	if (!name || !mlctl_path_is_safe(name))
		return pkg_bad(err, r->path, "has an unsafe entry path", name ? name : "(none)");
	if ((rc = check_entry_type(r, e, name, err)))
		return rc;
	if (r->next >= r->m.nfiles)
		return pkg_bad(err, r->path, "has an entry not in its files index:", name);
	want = &r->m.files[r->next];
	if (!entry_is(name, want->path)) {
		if (mlctl_manifest_find_file(&r->m, name))
			return pkg_bad(err, r->path, "repeats or misorders the entry", name);
		return pkg_bad(err, r->path, "has an entry not in its files index:", name);
	}
	if ((uint64_t)archive_entry_size(e) != want->size)
		return pkg_bad(err, r->path, "has a size that does not match its index for", name);
	r->next++;
	r->cur = want;
	r->cur_read = 0;
	if (r->hash)
		r->sha = mlctl_sha256_new();
	if (want->size == 0 && r->sha) {
		/* nothing to read: check the empty digest now */
		if ((rc = finish_entry(r, err)))
			return rc;
	}
	*entry = want;
	return 1;
}

ssize_t mlctl_pkg_read(struct mlctl_pkg_reader *r, void *buf, size_t len,
		       struct mlctl_err *err)
{
	la_ssize_t n;
	int rc;

	if (!r->cur)
		return 0;
	if (mlctl_interrupted())
		return mlctl_err_interrupted(err);
	n = archive_read_data(r->a, buf, len);
	if (n < 0)
		return arc_err(err, r->a, MLCTL_EINTEGRITY, "cannot read package", r->path);
	if (n == 0) {
		if (r->cur_read == r->cur->size && !r->sha)
			return 0;
		rc = finish_entry(r, err);
		r->cur_read = r->cur->size; /* finished either way */
		return rc;
	}
	r->cur_read += (uint64_t)n;
	if (r->sha)
		mlctl_sha256_update(r->sha, buf, (size_t)n);
	return n;
}

void mlctl_pkg_free(struct mlctl_pkg_reader *r)
{
	if (!r)
		return;
	if (r->a)
		archive_read_free(r->a);
	if (r->fd >= 0)
		close(r->fd);
	mlctl_manifest_release(&r->m);
	mlctl_sha256_free(r->sha);
	free(r->path);
	free(r);
}

int mlctl_path_is_package(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int mlctl_pkg_extract(struct mlctl_manifest *m, const char *path, const char *dir,
		      struct mlctl_err *err)
{
	struct mlctl_pkg_reader *r = NULL;
	const struct mlctl_file_entry *f;
	char *buf = NULL, *text = NULL, *mpath = NULL;
	int rc, fd = -1;

	memset(m, 0, sizeof(*m));
	if ((rc = mlctl_pkg_open(&r, path, 1, err)))
		return rc;
	buf = mlctl_malloc(MLCTL_IO_CHUNK);
	while ((rc = mlctl_pkg_next(r, &f, err)) == 1) {
		char *full = mlctl_path_join(dir, f->path), *parent = mlctl_dirname(full);
		ssize_t n;

		rc = mlctl_mkdir_p(parent, 0755, err);
		free(parent);
		if (!rc) {
			fd = open(full, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
			if (fd < 0)
				rc = mlctl_err_errno(err, MLCTL_EIO, "cannot create '%s'", full);
		}
		while (!rc && (n = mlctl_pkg_read(r, buf, MLCTL_IO_CHUNK, err)) != 0) {
			if (n < 0)
				rc = (int)n;
			else if (mlctl_write_all(fd, buf, (size_t)n) < 0)
				rc = mlctl_err_errno(err, MLCTL_EIO, "cannot write '%s'", full);
		}
		if (!rc && fchmod(fd, f->mode) < 0)
			rc = mlctl_err_errno(err, MLCTL_EIO, "cannot write '%s'", full);
		if (fd >= 0)
			close(fd);
		fd = -1;
		free(full);
		if (rc)
			goto done;
	}
	if (rc < 0)
		goto done;
	rc = 0;
	/* the manifest as a project has it: no files index */
	text = mlctl_manifest_pretty(mlctl_pkg_manifest(r), 0);
	mpath = mlctl_path_join(dir, MLCTL_MANIFEST_FILE);
	if ((rc = mlctl_write_file_atomic(mpath, text, strlen(text), 0644, err)))
		goto done;
	rc = mlctl_manifest_parse(m, text, strlen(text), mpath, 0, NULL, err);
done:
	mlctl_pkg_free(r);
	free(buf);
	free(text);
	free(mpath);
	return rc;
}
