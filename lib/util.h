/*
 * util.h - errors, growable buffers, SHA-256 and file-system helpers shared
 * by every module of the mlctl library.
 *
 * Errors: library functions return 0 or a negative MLCTL_E* code and, on
 * failure only, fill the caller's struct mlctl_err with the code and a
 * one-line message. The exit status of the CLI is the negated code.
 */
#ifndef MLCTL_UTIL_H
#define MLCTL_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

enum mlctl_code {
	MLCTL_OK = 0,
	MLCTL_EGATE = -1,      /* validation failed, gate refused */
	MLCTL_EUSAGE = -2,     /* bad command line or reference syntax */
	MLCTL_ENOTFOUND = -3,  /* unknown model, version, file */
	MLCTL_ECONFLICT = -4,  /* version exists with another digest */
	MLCTL_EINTEGRITY = -5, /* digest mismatch, corrupt or unsafe archive */
	MLCTL_EIO = -6,        /* local I/O or environment */
	MLCTL_ENET = -7,       /* remote or network */
	MLCTL_EINTERNAL = -8,  /* a bug, or a library failing oddly */
};

#define MLCTL_ERR_MSG_MAX 1024

struct mlctl_err {
	int code;
	char msg[MLCTL_ERR_MSG_MAX];
	int check;         /* the validate check (an enum mlctl_check, checks.h) this error is a
			    * finding of, or 0 */
	const char *kind;  /* a machine name finer than the code's, such as "no_smoke", or NULL */
};

#define MLCTL_ERR_INIT { 0, { 0 }, 0, NULL }

/* Fill err (if not NULL) and return code, so callers can `return mlctl_err_set(...)`. */
int mlctl_err_set(struct mlctl_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Same, with ": strerror(errno)" appended. */
int mlctl_err_errno(struct mlctl_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void mlctl_err_clear(struct mlctl_err *err);

/* Growable, always NUL-terminated buffer held by value. */
struct mlctl_buf {
	char *buf;
	size_t len, alloc;
};

#define MLCTL_BUF_INIT { NULL, 0, 0 }

void mlctl_buf_grow(struct mlctl_buf *b, size_t extra);
void mlctl_buf_add(struct mlctl_buf *b, const void *data, size_t len);
void mlctl_buf_puts(struct mlctl_buf *b, const char *s);
void mlctl_buf_printf(struct mlctl_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Append s escaped for XML text and attributes (characters XML 1.0 forbids become \xNN). */
void mlctl_buf_add_xml(struct mlctl_buf *b, const char *s);
void mlctl_buf_reset(struct mlctl_buf *b);
void mlctl_buf_release(struct mlctl_buf *b);
/* Hand the string to the caller (who frees it) and reset b. */
char *mlctl_buf_detach(struct mlctl_buf *b);

/* Allocation that aborts on out-of-memory: nothing useful can follow it. */
void *mlctl_malloc(size_t n);
void *mlctl_calloc(size_t n, size_t size);
void *mlctl_realloc(void *p, size_t n);
char *mlctl_strdup(const char *s);
char *mlctl_strndup(const char *s, size_t n);
/* 1 when s is one of the n strings of list. */
int mlctl_str_in(const char *s, const char *const *list, size_t n);
/* Free a NULL-terminated array of strings and the array. */
void mlctl_strv_free(char **v);
char *mlctl_aprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* SHA-256, streaming (OpenSSL libcrypto). */
struct mlctl_sha256;
struct mlctl_sha256 *mlctl_sha256_new(void);
void mlctl_sha256_update(struct mlctl_sha256 *h, const void *data, size_t len);
/* Writes 64 lowercase hex digits and a NUL to hex. */
void mlctl_sha256_final_hex(struct mlctl_sha256 *h, char hex[65]);
void mlctl_sha256_free(struct mlctl_sha256 *h);
void mlctl_sha256_hex(char hex[65], const void *data, size_t len);
/* Base64 (RFC 4648, with padding): encoded text (the caller's); decoded bytes appended to out
 * (NUL-terminated), -1 when text is not base64. */
char *mlctl_base64_encode(const void *data, size_t len);
int mlctl_base64_decode(struct mlctl_buf *out, const char *text);
int mlctl_is_sha256_hex(const char *s);
/* HMAC-SHA256 of data under key (libcrypto). */
void mlctl_hmac_sha256(unsigned char mac[32], const void *key, size_t keylen, const void *data,
		       size_t len);
/* A random (version 4) UUID, 36 characters and a NUL. */
void mlctl_random_uuid(char out[37]);

/* Files. */
#define MLCTL_IO_CHUNK (1024 * 1024)
/*
 * Open a file the user named, for reading, as a regular file only: opened
 * with O_NONBLOCK (a FIFO or a device cannot hang the open; cleared after),
 * then fstat'd. Returns the descriptor (O_CLOEXEC), or a negative code:
 * MLCTL_ENOTFOUND when it is not there, notreg_code when it is a FIFO, a
 * device, a socket or a folder ("'PATH' is a FIFO; it must be a regular
 * file"), MLCTL_EIO when it cannot be opened.
 */
int mlctl_open_regular(const char *path, int notreg_code, struct mlctl_err *err);
/* 0 when path is absent or a regular file (so it may be replaced), else notreg_code. */
int mlctl_check_regular_or_absent(const char *path, int notreg_code, struct mlctl_err *err);
/* What st is, for messages: "a FIFO", "a folder", "a device", "a socket", "a symlink". */
const char *mlctl_file_kind(mode_t mode);
/* The whole of a regular file (see mlctl_open_regular: anything else is MLCTL_EUSAGE). */
int mlctl_read_file(struct mlctl_buf *out, const char *path, size_t cap, struct mlctl_err *err);
/*
 * Write data to path atomically: a temporary sibling, fsync, rename, fsync
 * dir. A path that is there but not a regular file is MLCTL_EUSAGE.
 */
int mlctl_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
			    struct mlctl_err *err);
int mlctl_write_all(int fd, const void *data, size_t len);
/*
 * Run argv[0] (looked up on PATH) with input (may be NULL) on its stdin and
 * env_add ("NAME=value", may be NULL) added to the environment; what it
 * prints on stdout into out (at most 64 KiB kept); its stderr goes to
 * /dev/null when quiet. Its exit status into *status (128 when a signal
 * ended it). -1 with errno set when it could not be started.
 */
int mlctl_run_pipe(struct mlctl_buf *out, int *status, char *const argv[], const char *input,
		   const char *env_add, int quiet);
/*
 * Read fd `in` to its end, hashing into h (hex, 65 bytes, when it is done)
 * and, when out >= 0, writing every byte there too; *total counts them.
 * src and dst name the two for messages. Stops at a signal.
 */
int mlctl_fd_hash_copy(int in, int out, char hex[65], uint64_t *total, const char *src,
		       const char *dst, struct mlctl_err *err);
/* Up to n bytes at off: the count, short only at the end of the file; -1 on error. */
ssize_t mlctl_pread_all(int fd, void *buf, size_t n, uint64_t off);
int mlctl_mkdir_p(const char *path, mode_t mode, struct mlctl_err *err);
int mlctl_fsync_dir(const char *path);
/* Remove a tree (no error if it does not exist). */
int mlctl_rm_rf(const char *path);
int mlctl_is_dir(const char *path);
int mlctl_dir_is_empty(const char *path);
char *mlctl_path_join(const char *a, const char *b);
/* path made absolute, links resolved (realpath); a copy of path when it cannot be (owned). */
char *mlctl_path_absolute(const char *path);

/*
 * A folder written as a whole: filled in a temporary sibling (.NAME.pull-PID),
 * then renamed into place, so a failure leaves no partial folder. An empty
 * or absent dir is used; a file there, or a folder that is not empty
 * without force, is MLCTL_ECONFLICT. With force, the old folder is removed
 * only once the new one is in place. A symbolic link to a folder is
 * followed: the folder it points to is filled (as cp -r and tar -C do).
 * The sibling is locked (flock) while it is filled; siblings of the same
 * name whose lock is free were left by a killed process and are removed.
 */
struct mlctl_dir_stage {
	char *dir;    /* the target, without trailing '/' (where a link points) */
	char *tmp;    /* the sibling to fill */
	char *parent;
	int exists;
	int lock;     /* fd of tmp, flock'd while it is filled, else -1 */
};

int mlctl_dir_stage_begin(struct mlctl_dir_stage *st, const char *dir, int force,
			  struct mlctl_err *err);
int mlctl_dir_stage_commit(struct mlctl_dir_stage *st, struct mlctl_err *err);
/* Remove the sibling if it is still there (after a failure); free the strings. */
void mlctl_dir_stage_release(struct mlctl_dir_stage *st);
/*
 * Remove the folders parent/PREFIXPID left by processes that are gone (not
 * this one); with locked set, only those whose flock is free as well.
 */
void mlctl_sweep_dead(const char *parent, const char *prefix, int locked);

/* Directory part of path ("." when there is none); caller frees. */
char *mlctl_dirname(const char *path);
const char *mlctl_basename(const char *path);

/*
 * A relative path that is safe to create under a folder: not empty, not
 * absolute, no "." or ".." component, no empty component, no backslash or
 * control characters, well-formed UTF-8, at most 4096 bytes. Returns 1 when
 * safe.
 */
int mlctl_path_is_safe(const char *path);

/*
 * Interruption: mlctl_catch_signals makes SIGINT, SIGTERM and SIGHUP set a
 * flag instead of killing the process; long loops check mlctl_interrupted
 * and fail with mlctl_err_interrupted, so every cleanup path runs (no
 * temporary files left behind), then the caller exits 128 + the signal.
 */
void mlctl_catch_signals(void);
int mlctl_interrupted(void); /* the signal caught, or 0 */
int mlctl_err_interrupted(struct mlctl_err *err);

/*
 * Fault points, for tests: every write step of the registry calls
 * mlctl_fault("name"). With MLCTL_FAULT=name[:n] in the environment the
 * process dies there (_exit(99), as a crash would: no cleanup, no buffers
 * flushed) the n-th time (default 1) it passes that point. With
 * MLCTL_FAULT_TRACE=FILE each point passed is appended to FILE as a line, so
 * a test can list the points a command passes and crash it at each in turn.
 * A build with FAULTS=0 (make FAULTS=0) compiles them out.
 *
 * The points, in the order a write passes them (tests/crash.bats crashes
 * every write command at each):
 *   blob-written     a blob's bytes are in tmp/, not fsync'd (once per file stored)
 *   blob-synced      fsync'd and read-only in tmp/, not renamed
 *   blobs-staged     every file of a push is in tmp/; the write lock is not taken
 *   alias-staged     an alias move's commit, tag and rows are made, nothing written
 *   record-staged    the same for a record (validate or smoke --record)
 *   blob-renamed     a blob renamed into blobs/, its folder not fsync'd
 *   blobs-installed  a push's blobs are all in blobs/; git and the database untouched
 *   git-object       one loose object written to index.git (once per object)
 *   git-objects      every object written, no ref moved
 *   git-branch       refs/heads/main moved: from here the change is in (replayed on open)
 *   git-tag          one tag ref written (once per tag)
 *   git-applied      git is whole, the database not committed
 *   db-committed     the database committed (any write, set-up and verify's lock too)
 *   reindex-cleared  reindex emptied the tables, inside its transaction
 *   replay-event     one event of git replayed into the database (reindex, catch-up)
 *   gc-blob          gc removed an orphan blob (or found one, in a dry run or verify)
 *   gc-git-object    gc removed a git object no ref reaches (or found one)
 *   gc-tmp           gc removed a leftover of tmp/
 *   setup-*          creating a registry (mlctl_registry_open)
 */
#ifdef MLCTL_NO_FAULTS
#define mlctl_fault(point) ((void)0)
#else
void mlctl_fault(const char *point);
#endif

/*
 * A warning: something the user should know that did not stop the command
 * (printed on stderr as "mlctl: warning: ..."). One line, no newline.
 */
void mlctl_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* 1 when s[0, n) is well-formed UTF-8 (no overlongs, surrogates or values past U+10FFFF). */
int mlctl_utf8_valid(const char *s, size_t n);
/* The length of the longest well-formed UTF-8 prefix of s[0, n): n when all of it is. */
size_t mlctl_utf8_check(const char *s, size_t n);
/* s (malloc'd, taken) with every byte that is not part of well-formed UTF-8 made U+FFFD */
char *mlctl_utf8_fixed(char *s);

/*
 * s as a terminal can show it, for messages: UTF-8 text as it is, but
 * bytes that are not UTF-8 and ASCII controls as \xNN, other controls and
 * text-direction marks as \uNNNN, and a backslash as \\. Written into out
 * (cut with "..." to fit cap, at least 4), which is returned.
 */
const char *mlctl_escape(char *out, size_t cap, const char *s);
/* Columns s takes on a terminal (UTF-8: wide CJK and emoji count 2); bytes when it is not text. */
size_t mlctl_display_width(const char *s);

/*
 * Make LC_CTYPE a UTF-8 locale (C.UTF-8 when installed, else the user's
 * own if it is UTF-8): file names in packages are UTF-8, and libarchive
 * converts every name through LC_CTYPE, even one given to its _utf8
 * functions, so under the C locale (LANG unset) any name outside ASCII
 * fails. C.UTF-8 first, so that every environment behaves the same. Only
 * LC_CTYPE changes (numbers keep their '.'). Call once, at start-up,
 * before any thread; mlctl_locale_is_utf8 says if it worked.
 */
void mlctl_locale_utf8(void);
int mlctl_locale_is_utf8(void);

/* UTC time as "2026-01-02T03:04:05Z". */
void mlctl_time_iso(char out[32], int64_t t);
/* YYYY-MM-DD, or with THH:MM[:SS][Z] after it, as UTC: 0, or -1 for anything else. */
int mlctl_time_parse(int64_t *out, const char *s);
int64_t mlctl_now(void);
/* Milliseconds on the monotonic clock: for deadlines and durations. */
double mlctl_mono_ms(void);
/* Human size: "1.2 MiB". */
void mlctl_human_size(char out[32], uint64_t n);

#define MLCTL_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
