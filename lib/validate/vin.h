/*
 * vin.h - one file under validation, read as a buffered stream whatever it
 * comes from (a project file, a package entry, a registry blob). The
 * checkers that read it are declared in validate/check.h.
 */
#ifndef MLCTL_VIN_H
#define MLCTL_VIN_H

#include <stdint.h>
#include <sys/types.h>

#include "report.h"

#define MLCTL_VIN_BUF (64 * 1024)

/* What a checker may ask of the rest of the project (ONNX external data, signature). */
struct mlctl_vproj {
	/*
	 * A project file by its path: 0 and its size when it is a regular file
	 * inside the project; MLCTL_ENOTFOUND; MLCTL_EINTEGRITY for a symlink or a
	 * path that leaves the project.
	 */
	int (*lookup)(void *ctx, const char *path, uint64_t *size);
	void *ctx;
	const cJSON *manifest;
};

struct mlctl_vin {
	const char *path;   /* path inside the project, for findings */
	uint64_t size;      /* total size of the file */
	ssize_t (*src)(void *ctx, void *buf, size_t n);
	void *ctx;
	unsigned char *buf;
	size_t off, len;    /* unread bytes are buf[off, len) */
	uint64_t pos;       /* bytes handed to the checker so far */
	int eof, failed;    /* failed: the source itself broke (I/O, package integrity) */
	unsigned fills;     /* reads so far: the first ones are small (headers are) */
	struct mlctl_report *rep;
	const struct mlctl_vproj *proj; /* may be NULL */
	int depth;          /* nesting of containers (a pickle in an npy in a zip) */
	int single;         /* one pickle only: the reader stops at its STOP (npy, joblib) */
	int plain;          /* read by a plain unpickler (torch, numpy), never by joblib.load */
	/*
	 * Random access to the whole file, when its source has it (a file on
	 * disk, memory): n bytes at off, the count read (short only at the end),
	 * or -1. NULL for streams (a package entry); zip readers then spool the
	 * stream to an unlinked temporary file.
	 */
	ssize_t (*pread)(void *ctx, void *buf, size_t n, uint64_t off);
	void *pread_ctx;
	/* Skip n bytes of the source without reading them (a file: lseek), or NULL. */
	int (*seek)(void *ctx, uint64_t n);
};

void mlctl_vin_init(struct mlctl_vin *in, const char *path, uint64_t size,
		    ssize_t (*src)(void *, void *, size_t), void *ctx, struct mlctl_report *rep);
void mlctl_vin_release(struct mlctl_vin *in);
/* Up to n bytes into dst: the count, short only at the end (or on failure). */
size_t mlctl_vin_read(struct mlctl_vin *in, void *dst, size_t n);
int mlctl_vin_exact_slow(struct mlctl_vin *in, void *dst, size_t n);

/* Exactly n bytes, or -1; inline while the buffer holds them. */
static inline int mlctl_vin_exact(struct mlctl_vin *in, void *dst, size_t n)
{
	if (in->len - in->off >= n) {
		__builtin_memcpy(dst, in->buf + in->off, n);
		in->off += n;
		in->pos += n;
		return 0;
	}
	return mlctl_vin_exact_slow(in, dst, n);
}
/* Make up to n (<= MLCTL_VIN_BUF) bytes available without consuming them. */
size_t mlctl_vin_peek(struct mlctl_vin *in, const unsigned char **p, size_t n);
/* Skip n bytes; 0, or -1 when the file ends first. */
int mlctl_vin_skip(struct mlctl_vin *in, uint64_t n);
int mlctl_vin_byte_slow(struct mlctl_vin *in);

/* One byte, or -1 at the end; inline while the buffer has bytes (pickle opcodes). */
static inline int mlctl_vin_byte(struct mlctl_vin *in)
{
	if (in->off < in->len) {
		in->pos++;
		return in->buf[in->off++];
	}
	return mlctl_vin_byte_slow(in);
}

/* Little-endian readers over a byte buffer. */
static inline uint64_t mlctl_le64(const unsigned char *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	       (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
	       (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

static inline uint32_t mlctl_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#endif
