/*
 * vin.c - the buffered stream every checker reads from, whatever the bytes
 * come from (a project file, a package entry, a registry blob).
 */
#include "validate/vin.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "banned.h"

void mlctl_vin_init(struct mlctl_vin *in, const char *path, uint64_t size,
		    ssize_t (*src)(void *, void *, size_t), void *ctx, struct mlctl_report *rep)
{
	memset(in, 0, sizeof(*in));
	in->path = path;
	in->size = size;
	in->src = src;
	in->ctx = ctx;
	in->rep = rep;
	in->buf = mlctl_malloc(MLCTL_VIN_BUF);
}

void mlctl_vin_release(struct mlctl_vin *in)
{
	free(in->buf);
	in->buf = NULL;
}

/* Refill so that at least want bytes are buffered, if the source has them. */
static void fill(struct mlctl_vin *in, size_t want)
{
	if (want > MLCTL_VIN_BUF)
		want = MLCTL_VIN_BUF;
	if (in->len - in->off >= want || in->eof)
		return;
	if (in->off > 0) {
		memmove(in->buf, in->buf + in->off, in->len - in->off);
		in->len -= in->off;
		in->off = 0;
	}
	while (in->len < want && !in->eof) {
		/* 4 KiB, then 16, then the whole buffer: a header costs a few KiB */
		size_t room = MLCTL_VIN_BUF - in->len;
		size_t step = in->fills < 3 ? (size_t)4096 << (2 * in->fills) : room;
		ssize_t n;

		if (step > want && step < room)
			room = step;
		if (in->fills < 3)
			in->fills++;
		/* a signal stops every checker at its next read: the caller sees it and fails */
		n = mlctl_interrupted() ? -1 : in->src(in->ctx, in->buf + in->len, room);

		if (n < 0) {
			in->failed = 1;
			in->eof = 1;
		} else if (n == 0) {
			in->eof = 1;
		} else {
			in->len += (size_t)n;
		}
	}
}

size_t mlctl_vin_read(struct mlctl_vin *in, void *dst, size_t n)
{
	unsigned char *d = dst;
	size_t done = 0;

	while (done < n) {
		size_t avail, k;

		if (in->off == in->len) {
			/* large reads go straight to the caller's buffer */
			if (n - done >= MLCTL_VIN_BUF && !in->eof) {
				ssize_t r = mlctl_interrupted() ? -1 : in->src(in->ctx, d + done, n - done);

				if (r < 0) {
					in->failed = in->eof = 1;
					break;
				}
				if (r == 0) {
					in->eof = 1;
					break;
				}
				done += (size_t)r;
				in->pos += (uint64_t)r;
				continue;
			}
			fill(in, 1);
			if (in->off == in->len)
				break;
		}
		avail = in->len - in->off;
		k = avail < n - done ? avail : n - done;
		memcpy(d + done, in->buf + in->off, k);
		in->off += k;
		in->pos += k;
		done += k;
	}
	return done;
}

int mlctl_vin_exact_slow(struct mlctl_vin *in, void *dst, size_t n)
{
	return mlctl_vin_read(in, dst, n) == n ? 0 : -1;
}

size_t mlctl_vin_peek(struct mlctl_vin *in, const unsigned char **p, size_t n)
{
	fill(in, n);
	*p = in->buf + in->off;
	return in->len - in->off < n ? in->len - in->off : n;
}

int mlctl_vin_skip(struct mlctl_vin *in, uint64_t n)
{
	uint64_t buffered = in->len - in->off;

	if (in->seek && n > buffered + MLCTL_VIN_BUF && !in->eof) {
		/* a large skip in a file (array data): past the buffer without reading */
		if (in->pos + n > in->size)
			return -1;
		if (in->seek(in->ctx, n - buffered) < 0) {
			in->failed = in->eof = 1;
			return -1;
		}
		in->off = in->len = 0;
		in->pos += n;
		return 0;
	}
	while (n > 0) {
		size_t k;

		if (in->off == in->len) {
			fill(in, MLCTL_VIN_BUF);
			if (in->off == in->len)
				return -1;
		}
		k = in->len - in->off;
		if ((uint64_t)k > n)
			k = (size_t)n;
		in->off += k;
		in->pos += k;
		n -= k;
	}
	return 0;
}

int mlctl_vin_byte_slow(struct mlctl_vin *in)
{
	if (in->off == in->len) {
		fill(in, 1);
		if (in->off == in->len)
			return -1;
	}
	in->pos++;
	return in->buf[in->off++];
}
