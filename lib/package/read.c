/*
 * read.c - read a package back as a checked stream: the manifest
 * first, then each entry against the files index, its sha256 checked as it
 * is read; extraction into a folder.
 */
#define _GNU_SOURCE
#include "package/internal.h"

#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

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
			rc = pkg_arc_err(err, r->a, MLCTL_EINTEGRITY, "cannot read package", path);
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
			return pkg_arc_err(err, r->a, MLCTL_EINTEGRITY, "cannot read package", r->path);
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
		return pkg_arc_err(err, r->a, MLCTL_EINTEGRITY, "cannot read package", r->path);
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
		return pkg_arc_err(err, r->a, MLCTL_EINTEGRITY, "cannot read package", r->path);
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
