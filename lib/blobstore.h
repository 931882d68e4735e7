/*
 * blobstore.h - the registry's content-addressed file store:
 * blobs/sha256/<2 hex>/<64 hex>, read-only, each stored once.
 *
 * A blob is written to tmp/, hashed while it is written (on a second
 * thread), fsync'd and renamed into place, so a crash leaves either the
 * whole blob or garbage in tmp/.
 *
 * tmp/ belongs to live writers: a process names what it puts there
 * blob-PID-…, reserve-PID, and holds a shared lock on tmp/owner-PID.lock
 * meanwhile (mlctl_tmp_claim). A file whose owner lock is free was left by
 * a process that is gone, and is garbage (mlctl_tmp_leftovers).
 */
#ifndef MLCTL_BLOBSTORE_H
#define MLCTL_BLOBSTORE_H

#include <stdint.h>
#include <sys/types.h>

#include "util.h"

/* root/blobs/sha256/ab/abcd...; caller frees. */
char *mlctl_blob_path(const char *root, const char *sha);
int mlctl_blob_exists(const char *root, const char *sha);

struct mlctl_blob_writer;

/*
 * Start a blob. With store unset the data is only hashed and checked
 * (for a blob that is already stored): nothing is written. With store set,
 * the caller holds a claim on tmp/ (mlctl_tmp_claim).
 */
int mlctl_blob_writer_open(struct mlctl_blob_writer **out, const char *root, int store,
			   struct mlctl_err *err);
/* A buffer to fill with the next bytes; then _push how many were put there. */
void *mlctl_blob_writer_buf(struct mlctl_blob_writer *w, size_t *cap);
int mlctl_blob_writer_push(struct mlctl_blob_writer *w, size_t len, struct mlctl_err *err);
/*
 * Finish: the sha256 into sha (may be NULL), the size into size (may be
 * NULL). With expected set, a different digest is MLCTL_EINTEGRITY. With
 * staged set and a storing writer, the fsync'd read-only file is left in
 * tmp/ and its path (the caller's, to free) put in *staged, for
 * mlctl_blob_install or mlctl_blob_discard; nothing is visible in the store
 * until then. Frees w whatever happens.
 */
int mlctl_blob_writer_commit(struct mlctl_blob_writer *w, char sha[65], const char *expected,
			     uint64_t *size, char **staged, struct mlctl_err *err);
/* Drop the blob; accepts NULL. */
void mlctl_blob_writer_abort(struct mlctl_blob_writer *w);

/*
 * Rename a staged blob into place, dropping it when the blob is stored
 * already, unless the stored one is untrusted (mlctl_blob_trusted): then the
 * staged bytes replace it. *created is 1 only for a blob that was not there.
 */
int mlctl_blob_install(const char *root, const char *staged, const char *sha, int *created,
		       struct mlctl_err *err);
/*
 * 1 when the blob is stored, size bytes long and not flagged corrupt: a
 * push may count on it without storing its bytes again.
 */
int mlctl_blob_trusted(const char *root, const char *sha, uint64_t size);
/*
 * Flag a stored blob as corrupt (blobs/corrupt/<sha>, written by verify),
 * so the next push or repair with good bytes replaces it. Best effort.
 */
void mlctl_blob_flag(const char *root, const char *sha);
/* Remove a staged blob; accepts NULL. */
void mlctl_blob_discard(const char *staged);

/* Stage what fd holds (read to its end). */
int mlctl_blob_put_fd(const char *root, int fd, const char *what, char sha[65],
		      uint64_t *size, char **staged, struct mlctl_err *err);

/*
 * Claim tmp/ for this process: a shared lock on tmp/owner-PID.lock, held
 * until mlctl_tmp_unclaim (or the process ends). The lock's fd into *fd.
 */
int mlctl_tmp_claim(int *fd, const char *root, struct mlctl_err *err);
/* Give the claim up: its lock file removed. Call after removing this process's files. */
void mlctl_tmp_unclaim(int fd, const char *root);

typedef void (*mlctl_tmp_cb)(void *payload, const char *name, uint64_t bytes);
/*
 * Call cb with each entry of tmp/ left by a process that is gone (its
 * owner lock free), or not named by mlctl and untouched for an hour. With
 * remove set, remove each, holding the owner's lock meanwhile so that a new
 * process with the same pid cannot start staging under it.
 */
int mlctl_tmp_leftovers(const char *root, int remove, mlctl_tmp_cb cb, void *payload,
			struct mlctl_err *err);

/* Re-hash a stored blob: 0 when its name is its digest, MLCTL_EINTEGRITY if not. */
int mlctl_blob_check(const char *root, const char *sha, uint64_t *size, struct mlctl_err *err);

/*
 * Call fn for every entry of every fan-out folder of blobs/sha256 (fan is
 * its two-character folder, name the entry, path the entry's full path);
 * with rmdir_empty, remove each fan-out folder that is empty afterwards.
 * -1 when blobs/sha256 cannot be opened. Stops early at a signal.
 */
int mlctl_blob_walk(const char *root,
		    void (*fn)(void *ctx, const char *fan, const char *name, const char *path),
		    void *ctx, int rmdir_empty);

#endif
