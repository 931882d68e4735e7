/*
 * package.h - model projects on disk and .mlpkg packages (docs/design.md §1).
 *
 * A package is a deterministic tar (pax, restricted to what ustar cannot
 * say): mlctl.json first, in canonical form with its files index, then
 * every file in path order, mode 0644 or 0755, uid/gid 0, no user names,
 * mtime SOURCE_DATE_EPOCH (else 0). Optionally gzip or zstd around it.
 */
#ifndef MLCTL_PACKAGE_H
#define MLCTL_PACKAGE_H

#include <sys/types.h>

#include "manifest.h"

/*
 * The files of a project: every artifact (a file, or a folder taken whole)
 * and the smoke cases file, sorted by path, each with size and mode filled
 * in (sha256 left empty). Refuses paths that leave the project, through
 * ".." or a symlink, and anything that is not a regular file.
 * *out belongs to the caller (mlctl_file_entries_free).
 */
int mlctl_project_collect(struct mlctl_file_entry **out, size_t *n, const char *dir,
			  const struct mlctl_manifest *m, struct mlctl_err *err);

/* The same for one artifact path (a file, or a folder taken whole). */
int mlctl_project_collect_one(struct mlctl_file_entry **out, size_t *n, const char *dir,
			      const char *rel, struct mlctl_err *err);

/*
 * A project as a package of it would hold it: its manifest with the files
 * index filled in, every file read and hashed (mlctl_manifest_digest then
 * gives the package's digest). m is the caller's to release.
 */
int mlctl_project_load(struct mlctl_manifest *m, const char *dir, struct mlctl_err *err);

/* Parse "none", "gzip[:1-9]", "zstd[:1-19]". */
int mlctl_compression_parse(char name[8], int *level, const char *spec, struct mlctl_err *err);

/* Seconds for package mtimes: SOURCE_DATE_EPOCH, else 0. */
int mlctl_source_date_epoch(int64_t *out, struct mlctl_err *err);

/*
 * Package the project in dir into out_path (written atomically). Reads
 * each file once: hashing and archiving in one pass. Fills the manifest
 * (caller releases it) and the digest.
 */
int mlctl_package_write(struct mlctl_manifest *m, char digest[72], const char *dir,
			const char *out_path, const char *compression, struct mlctl_err *err);

/* Streaming reader of a package; nothing is unpacked to disk. */
struct mlctl_pkg_reader;

/*
 * Open a package and read its manifest (the first entry). With hash set,
 * the reader hashes each file's data as it is read and checks size and
 * sha256 against the index at the end of each entry.
 */
int mlctl_pkg_open(struct mlctl_pkg_reader **out, const char *path, int hash,
		   struct mlctl_err *err);
/* The same; the manifest's raw text goes into manifest_text whenever it could be
 * read, even when it is not a valid manifest (for validate's findings). */
int mlctl_pkg_open_ex(struct mlctl_pkg_reader **out, const char *path, int hash,
		      struct mlctl_buf *manifest_text, struct mlctl_err *err);
/* Borrowed; lives as long as the reader. */
struct mlctl_manifest *mlctl_pkg_manifest(struct mlctl_pkg_reader *r);
/*
 * Move to the next file. Returns 1 and sets *entry (borrowed) when there is
 * one, 0 at the end (after checking that every indexed file was seen), or a
 * negative code: MLCTL_EINTEGRITY for unsafe, unexpected or truncated
 * entries.
 */
int mlctl_pkg_next(struct mlctl_pkg_reader *r, const struct mlctl_file_entry **entry,
		   struct mlctl_err *err);
/* Read the current file's data: bytes read, 0 at its end, or a negative code. */
ssize_t mlctl_pkg_read(struct mlctl_pkg_reader *r, void *buf, size_t len,
		       struct mlctl_err *err);
void mlctl_pkg_free(struct mlctl_pkg_reader *r);

/*
 * Unpack a package into dir (which must exist and be empty), checking every
 * file's size and sha256 as it is written; modes restored; mlctl.json
 * written without its files index. The manifest goes into m (caller
 * releases). Nothing outside dir is ever written: entry paths are checked.
 */
int mlctl_pkg_extract(struct mlctl_manifest *m, const char *path, const char *dir,
		      struct mlctl_err *err);

/* 1 when path looks like a package file (a regular file, not a folder). */
int mlctl_path_is_package(const char *path);

#endif
