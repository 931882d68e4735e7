/*
 * vin.c - the buffered stream checkers read from, and format detection:
 * the extension says what a file should be, its first bytes what it is.
 */
#include "vin.h"

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

/* ---------------------------------------------------------------- detection */

enum fmt { F_UNKNOWN, F_PICKLE, F_ZIP, F_SAFETENSORS, F_GGUF, F_HDF5, F_TFLITE, F_NPY, F_ONNX };

static const char *const fmt_names[] = { "unknown", "a pickle", "a zip archive",
					 "safetensors", "GGUF", "HDF5", "TFLite", "NumPy .npy",
					 "ONNX" };

static const struct {
	const char *ext;
	enum fmt fmt;
} exts[] = {
	{ ".pkl", F_PICKLE },	    { ".pickle", F_PICKLE }, { ".joblib", F_PICKLE },
	{ ".pt", F_PICKLE },	    { ".pth", F_PICKLE },    { ".ckpt", F_PICKLE },
	{ ".safetensors", F_SAFETENSORS }, { ".gguf", F_GGUF },   { ".h5", F_HDF5 },
	{ ".hdf5", F_HDF5 },	    { ".tflite", F_TFLITE }, { ".npy", F_NPY },
	{ ".npz", F_ZIP },	    { ".keras", F_ZIP },     { ".onnx", F_ONNX },
};

static enum fmt by_extension(const char *path)
{
	const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
	size_t i;

	if (!dot || (slash && dot < slash))
		return F_UNKNOWN;
	for (i = 0; i < MLCTL_ARRAY_SIZE(exts); i++)
		if (!strcasecmp(dot, exts[i].ext))
			return exts[i].fmt;
	return F_UNKNOWN;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !strcasecmp(s + n - k, suffix);
}

/* What the first bytes say; pickles only from their PROTO opcode (protocol 2+). */
static enum fmt by_magic(const unsigned char *p, size_t n)
{
	if (n >= 4 && !memcmp(p, "PK\x03\x04", 4))
		return F_ZIP;
	if (n >= 4 && !memcmp(p, "PK\x05\x06", 4))
		return F_ZIP; /* empty zip */
	if (n >= 4 && !memcmp(p, "GGUF", 4))
		return F_GGUF;
	if (n >= 8 && !memcmp(p, "\x89HDF\r\n\x1a\n", 8))
		return F_HDF5;
	if (n >= 6 && !memcmp(p, "\x93NUMPY", 6))
		return F_NPY;
	if (n >= 8 && !memcmp(p + 4, "TFL3", 4))
		return F_TFLITE;
	if (n >= 2 && p[0] == 0x80 && p[1] >= 2 && p[1] <= 5)
		return F_PICKLE;
	if (n >= 9 && mlctl_le64(p) > 1 && mlctl_le64(p) < 100000000 && p[8] == '{')
		return F_SAFETENSORS;
	return F_UNKNOWN;
}

/* Pickle opcodes a stream of protocol 0 or 1 can start with (2 and up start with PROTO). */
static int opens_pickle(int c)
{
	return c > 0 && strchr("(.012FIJKLMNPQRSTUVXabcdeghijloprstu}])GBCq", c) != NULL;
}

/*
 * A file whose name and first bytes say nothing may still be what a loader
 * unpickles: pickle.load and torch.load take a protocol 0 or 1 pickle under
 * any name, joblib.load a compressed one. Scan it quietly: when it is a
 * whole pickle, everything found counts; when it breaks off, an import on
 * the deny list before the break still does, since a loader has run it by
 * then. Anything else (text, data) says nothing.
 */
static void probe_pickle(struct mlctl_vin *in, int compressed)
{
	struct mlctl_report tmp, *real = in->rep;
	int whole = 1;
	size_t i;

	mlctl_report_init(&tmp, "probe");
	in->rep = &tmp;
	if (compressed)
		mlctl_vcheck_compressed_pickle(in);
	else
		mlctl_vcheck_pickle(in);
	in->rep = real;
	for (i = 0; i < tmp.nfindings; i++)
		if (!strcmp(tmp.findings[i].id, "MLV100") || !strcmp(tmp.findings[i].id, "MLV108") ||
		    !strcmp(tmp.findings[i].id, "MLV109"))
			whole = 0;
	for (i = 0; i < tmp.nruns && whole; i++)
		mlctl_report_ran(real, tmp.runs[i].id, tmp.runs[i].file);
	for (i = 0; i < tmp.nfindings; i++) {
		const struct mlctl_finding *f = &tmp.findings[i];

		if (whole || !strcmp(f->id, "MLV101")) {
			if (!whole)
				mlctl_report_ran(real, f->id, f->file);
			mlctl_report_add(real, f->id, f->severity, f->file, "%s", f->message);
		}
	}
	mlctl_report_release(&tmp);
}

void mlctl_vcheck_file(struct mlctl_vin *in)
{
	const unsigned char *p;
	size_t n = mlctl_vin_peek(in, &p, 16);
	enum fmt want = by_extension(in->path), got = by_magic(p, n);

	if (want == F_UNKNOWN && got == F_UNKNOWN) {
		/* code, data, docs: nothing to read natively, unless a loader would unpickle it */
		if (n > 0 && mlctl_vin_compression(p, n))
			probe_pickle(in, 1);
		else if (n > 0 && opens_pickle(p[0]))
			probe_pickle(in, 0);
		return;
	}
	mlctl_report_ran(in->rep, "MLV150", in->path);
	if (want == F_PICKLE) {
		/* .pt/.pth/.ckpt/.pkl: a plain pickle (any protocol) or a PyTorch zip */
		if (got == F_ZIP) {
			mlctl_vcheck_zip(in, "torch");
		} else if (got == F_UNKNOWN && mlctl_vin_compression(p, n)) {
			mlctl_vcheck_compressed_pickle(in); /* joblib.dump(..., compress=N) */
		} else if (got == F_UNKNOWN || got == F_PICKLE) {
			mlctl_vcheck_pickle(in);
		} else {
			mlctl_report_add(in->rep, "MLV150", MLCTL_SEV_ERROR, in->path,
					 "the name says a pickle but the bytes are %s; rename the "
					 "file or replace it",
					 fmt_names[got]);
		}
		return;
	}
	if ((want == F_SAFETENSORS || want == F_NPY || want == F_GGUF) && got == F_UNKNOWN) {
		/* its own checker says precisely what is wrong with the header */
		if (want == F_SAFETENSORS)
			mlctl_vcheck_safetensors(in);
		else if (want == F_NPY)
			mlctl_vcheck_npy(in);
		else
			mlctl_vcheck_gguf(in);
		return;
	}
	if (want != F_UNKNOWN && want != F_ONNX && got != want) {
		mlctl_report_add(in->rep, "MLV150", MLCTL_SEV_ERROR, in->path,
				 "the name says %s but the bytes are %s; rename the file or "
				 "replace it",
				 fmt_names[want], got == F_UNKNOWN ? "something else" : fmt_names[got]);
		return;
	}
	if (want == F_ONNX && got != F_UNKNOWN) {
		mlctl_report_add(in->rep, "MLV150", MLCTL_SEV_ERROR, in->path,
				 "the name says ONNX but the bytes are %s; rename the file or "
				 "replace it",
				 fmt_names[got]);
		return;
	}
	switch (got) {
	case F_PICKLE:
		mlctl_vcheck_pickle(in);
		break;
	case F_ZIP:
		/* a zip whose name says nothing may be loaded by torch.load or numpy.load */
		mlctl_vcheck_zip(in, ends_with(in->path, ".keras") ? "keras" :
				 ends_with(in->path, ".npz") ? "npz" : "any");
		break;
	case F_SAFETENSORS:
		mlctl_vcheck_safetensors(in);
		break;
	case F_NPY:
		mlctl_vcheck_npy(in);
		break;
	case F_GGUF:
		mlctl_vcheck_gguf(in);
		break;
	case F_UNKNOWN:
		if (want == F_ONNX)
			mlctl_vcheck_onnx(in);
		break;
	default:
		break; /* HDF5 and TFLite: their signature is the check */
	}
}
