/*
 * zip.c - read zip containers the way the loaders do (torch.load, numpy.load
 * and Keras all go by the central directory), check that the archive has
 * only that one reading, then check what is inside: PyTorch checkpoints
 * (every .pkl, data.pkl whatever its top folder is called), Keras .keras
 * archives (config.json: no Lambda layers) and NumPy .npz archives (each
 * .npy).
 *
 * "One reading": the end record ends the file and is the last one in it;
 * the central directory ends where that record (or its zip64 form) starts;
 * every central entry's local header agrees with it (name, method, flags,
 * sizes, CRC, data descriptor); entries follow each other from byte 0 to the
 * central directory with nothing before, between or after them, and no two
 * have one name. An archive that breaks one of these rules can show a
 * scanner one member and a loader another (a second archive appended, a
 * header hidden in another entry's data), so it is refused as hostile
 * (MLV107), not as damaged.
 *
 * Member data comes from random access to the file (pread): stored members
 * as they are, deflated ones through zlib. A file that is only a stream (a
 * package entry) is first copied to an unlinked temporary file.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "validate/check.h"
#include "banned.h"

#define CONFIG_CAP (64u * 1024 * 1024)
#define CD_CAP (64u * 1024 * 1024)   /* central directory bytes read into memory */
#define TAIL_MAX (65535 + 22)        /* end record + the longest comment */
#define ZBUF 65536
#define ULL(x) ((unsigned long long)(x))

struct zent {
	char *name;
	size_t nlen;
	uint16_t flags, method;
	uint32_t crc;
	uint64_t csize, usize, lho; /* lho: offset of the local header */
	uint64_t data, end;         /* where the data starts; where the entry ends */
};

struct zip {
	struct mlctl_vin *in;
	ssize_t (*pread)(void *ctx, void *buf, size_t n, uint64_t off);
	void *pctx;
	uint64_t size, cd_off, cd_size;
	struct zent *e;
	size_t n;
	int spool_fd;
};

/* ---------------------------------------------------------------- access */

static ssize_t fd_pread(void *ctx, void *buf, size_t n, uint64_t off)
{
	return mlctl_pread_all(*(int *)ctx, buf, n, off);
}

/* Exactly n bytes at off, or -1. */
static int zread(struct zip *z, void *buf, size_t n, uint64_t off)
{
	if (off > z->size || n > z->size - off)
		return -1;
	return z->pread(z->pctx, buf, n, off) == (ssize_t)n ? 0 : -1;
}

/* A stream has no random access: copy the rest of it to an unlinked file. */
static int spool(struct zip *z)
{
	const char *dir = getenv("TMPDIR");
	char *path = NULL;
	unsigned char *buf = NULL;
	uint64_t total = 0;
	size_t n;
	int fd;

	if (!dir || !*dir)
		dir = "/tmp";
#ifdef O_TMPFILE
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
#endif
	{
		path = mlctl_path_join(dir, "mlctl-zip-XXXXXX");
		fd = mkstemp(path);
		if (fd >= 0)
			unlink(path);
	}
	if (fd < 0) {
		mlctl_report_add(z->in->rep, MLV106, MLCTL_SEV_ERROR, z->in->path,
				 "cannot make a temporary copy to read the zip directory in '%s': %s; "
				 "set TMPDIR to a writable folder",
				 dir, strerror(errno));
		free(path);
		return -1;
	}
	free(path);
	buf = mlctl_malloc(MLCTL_IO_CHUNK);
	while ((n = mlctl_vin_read(z->in, buf, MLCTL_IO_CHUNK)) > 0) {
		if (mlctl_write_all(fd, buf, n) < 0) {
			mlctl_report_add(z->in->rep, MLV106, MLCTL_SEV_ERROR, z->in->path,
					 "cannot make a temporary copy in '%s': %s; free some space "
					 "or set TMPDIR",
					 dir, strerror(errno));
			free(buf);
			close(fd);
			return -1;
		}
		total += n;
	}
	free(buf);
	z->spool_fd = fd;
	z->pread = fd_pread;
	z->pctx = &z->spool_fd;
	z->size = total;
	return z->in->failed ? -1 : 0;
}

/* ---------------------------------------------------------------- findings */

static int finding(struct zip *z, int hostile, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (hostile)
		mlctl_report_add(z->in->rep, MLV107, MLCTL_SEV_ERROR, z->in->path,
				 "zip archive can be read two ways (%s), so a loader may see other "
				 "members than a scanner; do not load it: rebuild it with the "
				 "library that made it",
				 msg);
	else
		mlctl_report_add(z->in->rep, MLV106, MLCTL_SEV_ERROR, z->in->path,
				 "cannot read it as a zip archive: %s", msg);
	return -1;
}

static int malformed(struct zip *z, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int malformed(struct zip *z, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	finding(z, 0, fmt, ap);
	va_end(ap);
	return -1;
}

static int hostile(struct zip *z, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int hostile(struct zip *z, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	finding(z, 1, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---------------------------------------------------------------- structure */

static uint16_t le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* The zip64 extended information of an extra field: values stand in for 0xffffffff ones. */
static int zip64_extra(const unsigned char *x, size_t len, uint64_t *usize, uint64_t *csize,
		       uint64_t *lho, int *used)
{
	size_t i = 0;

	*used = 0;
	while (i < len) {
		uint16_t id, sz;

		if (len - i < 4)
			return -1;
		id = le16(x + i);
		sz = le16(x + i + 2);
		if (sz > len - i - 4)
			return -1;
		if (id == 0x0001) {
			const unsigned char *p = x + i + 4;
			size_t left = sz;

			*used = 1;
			if (usize && *usize == 0xffffffffu) {
				if (left < 8)
					return -1;
				*usize = mlctl_le64(p), p += 8, left -= 8;
			}
			if (csize && *csize == 0xffffffffu) {
				if (left < 8)
					return -1;
				*csize = mlctl_le64(p), p += 8, left -= 8;
			}
			if (lho && *lho == 0xffffffffu) {
				if (left < 8)
					return -1;
				*lho = mlctl_le64(p);
			}
		}
		i += 4 + (size_t)sz;
	}
	return 0;
}

/* The end record: it must end the file and be the last one there. */
static int find_end(struct zip *z, uint64_t *eocd, uint64_t *entries)
{
	size_t tail = z->size < TAIL_MAX ? (size_t)z->size : TAIL_MAX, i;
	unsigned char *t = mlctl_malloc(tail);
	uint64_t base = z->size - tail, cd_end;
	int64_t stray = 0;
	int rc = -1, found = 0;

	if (zread(z, t, tail, base) < 0) {
		malformed(z, "cannot read its last %llu bytes", ULL(tail));
		goto done;
	}
	/* from the end back: the first signature met must be the record that ends the file */
	for (i = tail >= 22 ? tail - 22 + 1 : 0; i-- > 0;) {
		if (memcmp(t + i, "PK\x05\x06", 4))
			continue;
		if (i + 22 + le16(t + i + 20) == tail) {
			if (found) {
				hostile(z, "the comment of its end record holds another end record");
				goto done;
			}
			*eocd = base + i;
			break;
		}
		if (!found)
			stray = tail - i - 22 - le16(t + i + 20);
		found = 1;
	}
	if (i == (size_t)-1 && found) {
		hostile(z, "%lld bytes follow its end record: appended data or a second archive",
			(long long)stray);
		goto done;
	}
	if (i == (size_t)-1) {
		malformed(z, "no end-of-central-directory record in its last %llu bytes",
			  ULL(tail));
		goto done;
	}
	i = (size_t)(*eocd - base);
	if (le16(t + i + 4) != 0 || le16(t + i + 6) != 0 || le16(t + i + 8) != le16(t + i + 10)) {
		malformed(z, "it spans several disks");
		goto done;
	}
	*entries = le16(t + i + 10);
	z->cd_size = mlctl_le32(t + i + 12);
	z->cd_off = mlctl_le32(t + i + 16);
	cd_end = *eocd;
	if (*eocd >= 20 && i >= 20 && !memcmp(t + i - 20, "PK\x06\x07", 4)) {
		/* zip64: the locator names the zip64 end record, which holds the real values */
		unsigned char r[56];
		uint64_t at = mlctl_le64(t + i - 20 + 8);

		if (mlctl_le32(t + i - 20 + 4) != 0 || mlctl_le32(t + i - 20 + 16) != 1) {
			malformed(z, "it spans several disks");
			goto done;
		}
		if (zread(z, r, sizeof(r), at) < 0 || memcmp(r, "PK\x06\x06", 4)) {
			hostile(z, "its zip64 locator points at byte %llu, where no zip64 end record "
				   "is: data was added before the archive",
				ULL(at));
			goto done;
		}
		if (mlctl_le32(r + 16) != 0 || mlctl_le32(r + 20) != 0) {
			malformed(z, "it spans several disks");
			goto done;
		}
		if (at + 12 + mlctl_le64(r + 4) != *eocd - 20) {
			hostile(z, "its zip64 end record does not end where its locator starts");
			goto done;
		}
		if (mlctl_le64(r + 24) != mlctl_le64(r + 32)) {
			malformed(z, "it spans several disks");
			goto done;
		}
		*entries = mlctl_le64(r + 32);
		z->cd_size = mlctl_le64(r + 40);
		z->cd_off = mlctl_le64(r + 48);
		cd_end = at;
	} else if (*entries == 0xffff || z->cd_size == 0xffffffffu || z->cd_off == 0xffffffffu) {
		malformed(z, "it needs a zip64 end record and has none");
		goto done;
	}
	if (z->cd_off > cd_end || z->cd_size != cd_end - z->cd_off) {
		hostile(z, "its central directory does not end where its end record starts: "
			   "%llu bytes were added before the archive or after the directory",
			ULL(z->cd_off + z->cd_size > cd_end ? z->cd_off + z->cd_size - cd_end
							        : cd_end - z->cd_off - z->cd_size));
		goto done;
	}
	rc = 0;
done:
	free(t);
	return rc;
}

/* Every entry of the central directory, checked for form. */
static int read_directory(struct zip *z, uint64_t entries)
{
	unsigned char *cd;
	size_t i = 0, k;
	int rc = -1;

	if (z->cd_size > CD_CAP)
		return malformed(z, "its central directory has %llu bytes, over the 64 MiB "
				    "limit", ULL(z->cd_size));
	if (entries > z->cd_size / 46 + 1)
		return malformed(z, "its end record claims %llu entries, more than the "
				    "directory holds", ULL(entries));
	cd = mlctl_malloc((size_t)z->cd_size + 1);
	if (zread(z, cd, (size_t)z->cd_size, z->cd_off) < 0) {
		malformed(z, "cannot read its central directory");
		goto done;
	}
	z->e = mlctl_calloc((size_t)entries + 1, sizeof(*z->e));
	for (k = 0; k < entries; k++) {
		struct zent *e = &z->e[k];
		const unsigned char *p = cd + i;
		size_t nlen, xlen, clen;
		uint64_t disk;
		int used;

		if ((k & 65535) == 65535 && mlctl_interrupted())
			goto done; /* the caller sees the signal and fails */
		if (z->cd_size - i < 46 || memcmp(p, "PK\x01\x02", 4)) {
			malformed(z, "central directory entry %llu is not where the previous one "
				     "ends", ULL(k + 1));
			goto done;
		}
		e->flags = le16(p + 8);
		e->method = le16(p + 10);
		e->crc = mlctl_le32(p + 16);
		e->csize = mlctl_le32(p + 20);
		e->usize = mlctl_le32(p + 24);
		nlen = le16(p + 28);
		xlen = le16(p + 30);
		clen = le16(p + 32);
		disk = le16(p + 34);
		e->lho = mlctl_le32(p + 42);
		if (z->cd_size - i - 46 < nlen + xlen + clen) {
			malformed(z, "central directory entry %llu runs past the directory",
				  ULL(k + 1));
			goto done;
		}
		e->name = mlctl_strndup((const char *)p + 46, nlen);
		e->nlen = nlen;
		z->n = k + 1;
		if (memchr(p + 46, 0, nlen)) {
			malformed(z, "entry %llu has a NUL byte in its name", ULL(k + 1));
			goto done;
		}
		if (zip64_extra(p + 46 + nlen, xlen, &e->usize, &e->csize, &e->lho, &used) < 0) {
			malformed(z, "entry %llu has a malformed extra field", ULL(k + 1));
			goto done;
		}
		if (disk != 0 && !(disk == 0xffff && used)) {
			malformed(z, "it spans several disks");
			goto done;
		}
		i += 46 + nlen + xlen + clen;
	}
	if (i != z->cd_size) {
		hostile(z, "%llu bytes follow the last central directory entry",
			ULL(z->cd_size - i));
		goto done;
	}
	rc = 0;
done:
	free(cd);
	return rc;
}

static int by_name(const void *a, const void *b)
{
	const struct zent *x = *(const struct zent *const *)a, *y = *(const struct zent *const *)b;
	size_t n = x->nlen < y->nlen ? x->nlen : y->nlen;
	int c = memcmp(x->name, y->name, n);

	return c ? c : x->nlen < y->nlen ? -1 : x->nlen > y->nlen;
}

static int by_offset(const void *a, const void *b)
{
	const struct zent *x = *(const struct zent *const *)a, *y = *(const struct zent *const *)b;

	return x->lho < y->lho ? -1 : x->lho > y->lho;
}

/* The local header of e agrees with its central entry; e->data and e->end set. */
static int check_local(struct zip *z, struct zent *e)
{
	unsigned char h[30], d[24];
	unsigned char *x = NULL;
	char nm[160];
	uint64_t lcsize, lusize, end;
	size_t nlen, xlen;
	int used = 0, rc = -1;

	mlctl_escape(nm, sizeof(nm), e->name);
	if (zread(z, h, sizeof(h), e->lho) < 0 || memcmp(h, "PK\x03\x04", 4))
		return hostile(z, "the central directory puts '%s' at byte %llu, where no local "
				  "header is", nm, ULL(e->lho));
	nlen = le16(h + 26);
	xlen = le16(h + 28);
	x = mlctl_malloc(nlen + xlen + 1);
	if (zread(z, x, nlen + xlen, e->lho + 30) < 0) {
		malformed(z, "the local header of '%s' runs past the end", nm);
		goto done;
	}
	if (nlen != e->nlen || memcmp(x, e->name, nlen)) {
		hostile(z, "the local header at byte %2$llu names another file than the central "
			   "entry '%1$s'", nm, ULL(e->lho));
		goto done;
	}
	if (le16(h + 6) != e->flags || le16(h + 8) != e->method) {
		hostile(z, "the local header of '%s' has other flags or another compression "
			   "method than its central entry", nm);
		goto done;
	}
	lcsize = mlctl_le32(h + 18);
	lusize = mlctl_le32(h + 22);
	if (zip64_extra(x + nlen, xlen, &lusize, &lcsize, NULL, &used) < 0) {
		malformed(z, "the local header of '%s' has a malformed extra field", nm);
		goto done;
	}
	if (!(e->flags & 8) &&
	    (lcsize != e->csize || lusize != e->usize || mlctl_le32(h + 14) != e->crc)) {
		hostile(z, "the local header of '%s' gives other sizes or another CRC than its "
			   "central entry", nm);
		goto done;
	}
	e->data = e->lho + 30 + nlen + xlen;
	if (e->data > z->cd_off || e->csize > z->cd_off - e->data) {
		hostile(z, "the data of '%s' runs into the central directory", nm);
		goto done;
	}
	end = e->data + e->csize;
	if (e->flags & 8) {
		/* a data descriptor follows: with or without its signature, 32- or 64-bit sizes */
		static const size_t forms[][2] = { { 4, 4 }, { 0, 4 }, { 4, 8 }, { 0, 8 } };
		size_t f, have = z->cd_off - end < sizeof(d) ? (size_t)(z->cd_off - end) : sizeof(d);

		if (zread(z, d, have, end) < 0) {
			malformed(z, "cannot read the data descriptor of '%s'", nm);
			goto done;
		}
		for (f = 0; f < MLCTL_ARRAY_SIZE(forms); f++) {
			size_t sig = forms[f][0], w = forms[f][1], len = sig + 4 + 2 * w;
			const unsigned char *q = d + sig;

			if (len > have || (sig && memcmp(d, "PK\x07\x08", 4)))
				continue;
			if (mlctl_le32(q) == e->crc &&
			    (w == 4 ? mlctl_le32(q + 4) : mlctl_le64(q + 4)) == e->csize &&
			    (w == 4 ? mlctl_le32(q + 8) : mlctl_le64(q + 12)) == e->usize)
				break;
		}
		if (f == MLCTL_ARRAY_SIZE(forms)) {
			hostile(z, "the data descriptor of '%s' disagrees with its central "
				   "entry", nm);
			goto done;
		}
		end += forms[f][0] + 4 + 2 * forms[f][1];
	}
	e->end = end;
	rc = 0;
done:
	free(x);
	return rc;
}

/* One name per entry; entries tile the bytes before the central directory exactly. */
static int check_layout(struct zip *z)
{
	struct zent **v = mlctl_malloc((z->n + 1) * sizeof(*v));
	char nm[160];
	uint64_t at = 0;
	size_t i;
	int rc = -1;

	for (i = 0; i < z->n; i++)
		v[i] = &z->e[i];
	qsort(v, z->n, sizeof(*v), by_name);
	for (i = 1; i < z->n; i++)
		if (!by_name(&v[i - 1], &v[i])) {
			mlctl_escape(nm, sizeof(nm), v[i]->name);
			hostile(z, "it holds '%s' twice", nm);
			goto done;
		}
	qsort(v, z->n, sizeof(*v), by_offset);
	for (i = 0; i < z->n; i++) {
		if (mlctl_interrupted())
			goto done;
		mlctl_escape(nm, sizeof(nm), v[i]->name);
		if (v[i]->lho > at) {
			hostile(z, at == 0 ? "%llu bytes come before its first entry"
					   : "%llu bytes lie between two entries", ULL(v[i]->lho - at));
			goto done;
		}
		if (v[i]->lho < at) {
			hostile(z, "'%s' starts inside the entry before it (at byte %llu)", nm,
				ULL(v[i]->lho));
			goto done;
		}
		if (check_local(z, v[i]) < 0)
			goto done;
		at = v[i]->end;
	}
	if (at != z->cd_off) {
		hostile(z, "%llu bytes lie between the last entry and the central directory",
			ULL(z->cd_off - at));
		goto done;
	}
	rc = 0;
done:
	free(v);
	return rc;
}

/* ---------------------------------------------------------------- members */

struct member {
	struct zip *z;
	const struct zent *e;
	uint64_t in_off, in_left, out; /* compressed bytes still to read; bytes produced */
	uint32_t crc;
	z_stream zs;
	int zinit, zend, bad;
	unsigned char buf[ZBUF];
};

static ssize_t member_read(void *ctx, void *out, size_t n)
{
	struct member *m = ctx;
	ssize_t got;

	if (m->bad)
		return -1;
	if (m->e->method == 0) {
		size_t k = m->in_left < n ? (size_t)m->in_left : n;

		if (k == 0)
			return 0;
		if (zread(m->z, out, k, m->in_off) < 0)
			return m->bad = 1, -1;
		m->in_off += k;
		m->in_left -= k;
		got = (ssize_t)k;
	} else {
		m->zs.next_out = out;
		m->zs.avail_out = n > 0x40000000u ? 0x40000000u : (uInt)n;
		while (m->zs.avail_out > 0 && !m->zend) {
			int zr;

			if (m->zs.avail_in == 0 && m->in_left > 0) {
				size_t k = m->in_left < ZBUF ? (size_t)m->in_left : ZBUF;

				if (zread(m->z, m->buf, k, m->in_off) < 0)
					return m->bad = 1, -1;
				m->in_off += k;
				m->in_left -= k;
				m->zs.next_in = m->buf;
				m->zs.avail_in = (uInt)k;
			}
			zr = inflate(&m->zs, Z_NO_FLUSH);
			if (zr == Z_STREAM_END)
				m->zend = 1;
			else if (zr != Z_OK && !(zr == Z_BUF_ERROR && m->in_left > 0))
				return m->bad = 1, -1;
			if (zr == Z_BUF_ERROR && m->zs.avail_in == 0 && m->in_left == 0)
				return m->bad = 1, -1;
		}
		got = (ssize_t)((unsigned char *)m->zs.next_out - (unsigned char *)out);
	}
	if (m->out + (uint64_t)got > m->e->usize)
		return m->bad = 1, -1; /* more than the directory says: a damaged member */
	m->crc = (uint32_t)crc32_z(m->crc, out, (size_t)got);
	m->out += (uint64_t)got;
	return got;
}

static struct member *member_open(struct zip *z, const struct zent *e)
{
	struct member *m = mlctl_calloc(1, sizeof(*m));

	m->z = z;
	m->e = e;
	m->in_off = e->data;
	m->in_left = e->csize;
	if (e->method == 8) {
		if (inflateInit2(&m->zs, -MAX_WBITS) != Z_OK) {
			free(m);
			return NULL;
		}
		m->zinit = 1;
	}
	return m;
}

/* Read what the checker left and compare size and CRC with the directory. */
static void member_close(struct member *m, struct mlctl_vin *sub, int drain)
{
	char nm[160];

	mlctl_escape(nm, sizeof(nm), m->e->name);
	if (drain && !m->bad) {
		unsigned char *tmp = mlctl_malloc(ZBUF);

		while (mlctl_vin_read(sub, tmp, ZBUF) > 0 && !mlctl_interrupted())
			;
		free(tmp);
		if (!m->bad && (m->out != m->e->usize || m->crc != m->e->crc))
			mlctl_report_add(m->z->in->rep, MLV106, MLCTL_SEV_ERROR, m->z->in->path,
					 "member '%s' is damaged: its %s does not match the zip "
					 "directory",
					 nm, m->out != m->e->usize ? "size" : "CRC-32");
	}
	if (m->bad)
		mlctl_report_add(m->z->in->rep, MLV106, MLCTL_SEV_ERROR, m->z->in->path,
				 "member '%s' cannot be read: its compressed data is damaged", nm);
	if (m->zinit)
		inflateEnd(&m->zs);
	free(m);
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !strcmp(s + n - k, suffix);
}

/* Find Lambda layers anywhere in a Keras config. */
static void find_lambdas(struct mlctl_vin *in, const cJSON *j, const char *entry, int depth)
{
	const cJSON *c, *cls = cJSON_GetObjectItemCaseSensitive(j, "class_name");

	if (depth > 200)
		return;
	if (cJSON_IsString(cls) && !strcmp(cls->valuestring, "Lambda")) {
		const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(j, "config");
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(cfg, "name");

		mlctl_report_add(in->rep, MLV130, MLCTL_SEV_ERROR, in->path,
				 "%s has a Lambda layer%s%.100s%s, whose Python code runs when the "
				 "model loads; replace it with a registered custom layer",
				 entry, cJSON_IsString(name) ? " '" : "",
				 cJSON_IsString(name) ? name->valuestring : "",
				 cJSON_IsString(name) ? "'" : "");
	}
	for (c = j ? j->child : NULL; c; c = c->next)
		find_lambdas(in, c, entry, depth + 1);
}

static void keras_config(struct mlctl_vin *in, struct mlctl_vin *sub)
{
	struct mlctl_buf text = MLCTL_BUF_INIT;
	size_t line;
	cJSON *j;

	if (sub->size > CONFIG_CAP) {
		mlctl_report_add(in->rep, MLV131, MLCTL_SEV_ERROR, in->path,
				 "config.json is larger than 64 MiB");
		return;
	}
	mlctl_buf_grow(&text, (size_t)sub->size);
	text.len = mlctl_vin_read(sub, text.buf, (size_t)sub->size);
	text.buf[text.len] = '\0';
	j = mlctl_json_parse_located(text.buf, text.len, &line);
	if (!j)
		mlctl_report_add(in->rep, MLV131, MLCTL_SEV_ERROR, in->path,
				 "config.json is not valid JSON (near line %zu)", line);
	find_lambdas(in, j, "config.json", 0);
	cJSON_Delete(j);
	mlctl_buf_release(&text);
}

/*
 * What to do with a member: 0 nothing, 1 pickle, 2 npy, 3 Keras config, 4
 * npy if it is one. Kind "any" is a zip whose name says nothing: read as
 * both torch.load and numpy.load would.
 */
static int member_kind(const char *kind, const char *name, int *found)
{
	if ((!strcmp(kind, "torch") || !strcmp(kind, "any")) && ends_with(name, ".pkl")) {
		if (ends_with(name, "/data.pkl") || !strcmp(name, "data.pkl"))
			*found = 1;
		return 1;
	}
	if (!strcmp(kind, "npz") || !strcmp(kind, "any"))
		return ends_with(name, ".npy") ? 2 : 4; /* numpy.load reads any member with npy's magic */
	if (!strcmp(kind, "keras") && !strcmp(name, "config.json")) {
		*found = 1;
		return 3;
	}
	return 0;
}

static void check_members(struct zip *z, const char *kind)
{
	struct mlctl_vin *in = z->in;
	int found = 0;
	size_t i;

	for (i = 0; i < z->n && !mlctl_interrupted(); i++) {
		const struct zent *e = &z->e[i];
		int what = member_kind(kind, e->name, &found);
		struct member *m;
		struct mlctl_vin sub;
		char nm[160], *sub_path;

		if (!what)
			continue;
		mlctl_escape(nm, sizeof(nm), e->name);
		if (e->flags & 1) {
			/* a member only its content could make a model is a warning, not an error */
			mlctl_report_add(in->rep, MLV106,
					 what == 4 ? MLCTL_SEV_WARNING : MLCTL_SEV_ERROR, in->path,
					 "member '%s' is encrypted, so it cannot be checked; store it "
					 "unencrypted",
					 nm);
			continue;
		}
		if (e->method != 0 && e->method != 8) {
			mlctl_report_add(in->rep, MLV106,
					 what == 4 ? MLCTL_SEV_WARNING : MLCTL_SEV_ERROR, in->path,
					 "member '%s' uses compression method %u, which mlctl cannot "
					 "read, so it cannot be checked; save it stored or deflated",
					 nm, e->method);
			continue;
		}
		m = member_open(z, e);
		if (!m)
			continue;
		sub_path = mlctl_aprintf("%s:%s", in->path, nm);
		mlctl_vin_init(&sub, sub_path, e->usize, member_read, m, in->rep);
		sub.depth = in->depth + 1;
		sub.proj = in->proj;
		if (what == 1) {
			sub.single = sub.plain = 1; /* torch unpickles data.pkl once, to its STOP */
			mlctl_vcheck_pickle(&sub);
		} else if (what == 2) {
			mlctl_vcheck_npy(&sub);
		} else if (what == 4) {
			const unsigned char *p;

			if (mlctl_vin_peek(&sub, &p, 6) == 6 && !memcmp(p, "\x93NUMPY", 6))
				mlctl_vcheck_npy(&sub);
			else
				what = 0; /* numpy.load gives such a member as bytes */
		} else {
			keras_config(in, &sub);
		}
		/* pickles and configs were read whole anyway: finish and check the CRC */
		member_close(m, &sub, what == 1 || what == 3 || e->usize <= CONFIG_CAP);
		mlctl_vin_release(&sub);
		free(sub_path);
	}
	if (!found && !strcmp(kind, "torch"))
		mlctl_report_add(in->rep, MLV105, MLCTL_SEV_ERROR, in->path,
				 "is a zip but holds no data.pkl, so it is not a PyTorch checkpoint; "
				 "rename or replace it");
	else if (!found && !strcmp(kind, "keras"))
		mlctl_report_add(in->rep, MLV131, MLCTL_SEV_ERROR, in->path,
				 "is a .keras archive without config.json");
}

void mlctl_vcheck_zip(struct mlctl_vin *in, const char *kind)
{
	struct zip z;
	uint64_t eocd = 0, entries = 0;
	size_t i;

	memset(&z, 0, sizeof(z));
	z.in = in;
	z.spool_fd = -1;
	mlctl_report_ran(in->rep, MLV106, in->path);
	mlctl_report_ran(in->rep, MLV107, in->path);
	if (!strcmp(kind, "torch"))
		mlctl_report_ran(in->rep, MLV105, in->path);
	if (!strcmp(kind, "keras")) {
		mlctl_report_ran(in->rep, MLV130, in->path);
		mlctl_report_ran(in->rep, MLV131, in->path);
	}
	if (in->depth > 2) {
		mlctl_report_add(in->rep, MLV106, MLCTL_SEV_ERROR, in->path,
				 "cannot read it as a zip archive: nested too deep");
		return;
	}
	if (in->pread) {
		z.pread = in->pread;
		z.pctx = in->pread_ctx;
		z.size = in->size;
	} else if (spool(&z) < 0) {
		goto done;
	}
	if (z.size < 22) {
		malformed(&z, "only %llu bytes long", ULL(z.size));
		goto done;
	}
	if (find_end(&z, &eocd, &entries) < 0 || read_directory(&z, entries) < 0 ||
	    check_layout(&z) < 0)
		goto done;
	check_members(&z, kind);
done:
	for (i = 0; i < z.n; i++)
		free(z.e[i].name);
	free(z.e);
	if (z.spool_fd >= 0)
		close(z.spool_fd);
}
