/*
 * compressed.c - pickles inside a compression container, as joblib.dump
 * writes them with compress=N: zlib (its default), gzip, bz2, xz, lzma
 * (.lzma "alone" format) and lz4. The stream is inflated as it is read (zlib
 * itself, libarchive's filters for the others) and scanned as the pickle it
 * holds; nothing is written anywhere. A container mlctl cannot open is a
 * finding (MLV108), never a pass.
 */
#include <archive.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "validate/check.h"
#include "banned.h"

#define ZBUF 65536
#define LZMA_DICT_MAX (256u * 1024 * 1024) /* joblib's presets use a few MiB */

const char *mlctl_vin_compression(const unsigned char *p, size_t n)
{
	if (n >= 2 && p[0] == 0x78 && (p[1] == 0x01 || p[1] == 0x5e || p[1] == 0x9c || p[1] == 0xda))
		return "zlib";
	if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b)
		return "gzip";
	if (n >= 3 && !memcmp(p, "BZh", 3))
		return "bz2";
	if (n >= 6 && !memcmp(p, "\xfd" "7zXZ\0", 6))
		return "xz";
	if (n >= 3 && p[0] == 0x5d && p[1] == 0x00 && p[2] == 0x00)
		return "lzma";
	if (n >= 4 && !memcmp(p, "\x04\x22\x4d\x18", 4))
		return "lz4";
	if (n >= 4 && !memcmp(p, "\x28\xb5\x2f\xfd", 4))
		return "zstd";
	if (n >= 2 && !memcmp(p, "ZF", 2))
		return "joblib-zfile";
	return NULL;
}

/* ---------------------------------------------------------------- zlib */

struct zsrc {
	struct mlctl_vin *in;
	z_stream zs;
	int end, bad;
	unsigned char buf[ZBUF];
};

static ssize_t zsrc_read(void *ctx, void *out, size_t n)
{
	struct zsrc *z = ctx;

	if (z->bad)
		return -1;
	z->zs.next_out = out;
	z->zs.avail_out = n > 0x40000000u ? 0x40000000u : (uInt)n;
	while (z->zs.avail_out > 0 && !z->end) {
		int zr;

		if (z->zs.avail_in == 0) {
			size_t k = mlctl_vin_read(z->in, z->buf, sizeof(z->buf));

			if (k == 0) {
				z->bad = 1; /* the stream ends before zlib's end */
				break;
			}
			z->zs.next_in = z->buf;
			z->zs.avail_in = (uInt)k;
		}
		zr = inflate(&z->zs, Z_NO_FLUSH);
		if (zr == Z_STREAM_END) {
			z->end = 1;
		} else if (zr != Z_OK) {
			z->bad = 1;
			break;
		}
	}
	if (z->bad && (unsigned char *)z->zs.next_out == out)
		return -1;
	return (ssize_t)((unsigned char *)z->zs.next_out - (unsigned char *)out);
}

/* ---------------------------------------------------------------- libarchive */

struct asrc {
	struct mlctl_vin *in;
	struct archive *a;
	int bad;
	unsigned char buf[ZBUF];
};

static la_ssize_t outer_read(struct archive *a, void *ctx, const void **out)
{
	struct asrc *s = ctx;

	(void)a;
	*out = s->buf;
	return (la_ssize_t)mlctl_vin_read(s->in, s->buf, sizeof(s->buf));
}

static ssize_t asrc_read(void *ctx, void *out, size_t n)
{
	struct asrc *s = ctx;
	la_ssize_t r;

	if (s->bad)
		return -1;
	r = archive_read_data(s->a, out, n);
	if (r < 0) {
		s->bad = 1;
		return -1;
	}
	return (ssize_t)r;
}

/* ---------------------------------------------------------------- check */

static void scan_inflated(struct mlctl_vin *in, ssize_t (*src)(void *, void *, size_t),
			  void *ctx, const char *kind, int *bad)
{
	struct mlctl_vin sub;

	mlctl_vin_init(&sub, in->path, UINT64_MAX, src, ctx, in->rep);
	sub.depth = in->depth + 1;
	sub.proj = in->proj;
	sub.single = 1; /* joblib.load reads one pickle from the inflated stream */
	mlctl_vcheck_pickle(&sub);
	mlctl_vin_release(&sub);
	if (*bad)
		mlctl_report_add(in->rep, MLV108, MLCTL_SEV_ERROR, in->path,
				 "its %s compression is damaged at byte %llu of the inflated "
				 "stream, so the pickle in it cannot be scanned to its end",
				 kind, (unsigned long long)sub.pos);
}

void mlctl_vcheck_compressed_pickle(struct mlctl_vin *in)
{
	const unsigned char *p;
	size_t n = mlctl_vin_peek(in, &p, 16);
	const char *kind = mlctl_vin_compression(p, n);

	mlctl_report_ran(in->rep, MLV108, in->path);
	if (!kind)
		return;
	if (!strcmp(kind, "joblib-zfile")) {
		mlctl_report_add(in->rep, MLV108, MLCTL_SEV_ERROR, in->path,
				 "is a compressed pickle in the format of joblib before 0.10, which "
				 "mlctl does not read, so it cannot be scanned; load and dump it again "
				 "with a current joblib");
		return;
	}
	if (in->depth > 2) {
		mlctl_report_add(in->rep, MLV108, MLCTL_SEV_ERROR, in->path,
				 "holds compressed data nested too deep to scan");
		return;
	}
	if (!strcmp(kind, "lzma") && n >= 5 && mlctl_le32(p + 1) > LZMA_DICT_MAX) {
		mlctl_report_add(in->rep, MLV108, MLCTL_SEV_ERROR, in->path,
				 "its lzma header asks for a %u MiB dictionary, over the 256 MiB "
				 "limit; compress it with a smaller preset",
				 (unsigned)(mlctl_le32(p + 1) >> 20));
		return;
	}
	if (!strcmp(kind, "zlib")) {
		struct zsrc *z = mlctl_calloc(1, sizeof(*z));

		z->in = in;
		if (inflateInit(&z->zs) == Z_OK) {
			scan_inflated(in, zsrc_read, z, kind, &z->bad);
			inflateEnd(&z->zs);
		}
		free(z);
		return;
	}
	{
		struct asrc *s = mlctl_calloc(1, sizeof(*s));
		struct archive_entry *e;

		s->in = in;
		s->a = archive_read_new();
		archive_read_support_filter_all(s->a);
		archive_read_support_format_raw(s->a);
		if (archive_read_open(s->a, s, NULL, outer_read, NULL) != ARCHIVE_OK ||
		    archive_read_next_header(s->a, &e) != ARCHIVE_OK ||
		    archive_filter_code(s->a, 0) == ARCHIVE_FILTER_NONE) {
			mlctl_report_add(in->rep, MLV108, MLCTL_SEV_ERROR, in->path,
					 "looks %s-compressed but cannot be opened (%s), so the pickle "
					 "in it cannot be scanned",
					 kind, archive_error_string(s->a) ? archive_error_string(s->a)
									  : "unknown format");
		} else {
			scan_inflated(in, asrc_read, s, kind, &s->bad);
		}
		archive_read_free(s->a);
		free(s);
	}
}
