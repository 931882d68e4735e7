/*
 * detect.c - what a file is and which checker reads it: the extension says
 * what it should be, its first bytes what it is; a file that says nothing
 * is still scanned when a loader would unpickle it.
 */
#include "validate/check.h"

#include <string.h>
#include <strings.h>

#include "banned.h"

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
		if (tmp.findings[i].check == MLV100 || tmp.findings[i].check == MLV108 ||
		    tmp.findings[i].check == MLV109)
			whole = 0;
	for (i = 0; i < tmp.nruns && whole; i++)
		mlctl_report_ran(real, tmp.runs[i].check, tmp.runs[i].file);
	for (i = 0; i < tmp.nfindings; i++) {
		const struct mlctl_finding *f = &tmp.findings[i];

		if (whole || f->check == MLV101) {
			if (!whole)
				mlctl_report_ran(real, f->check, f->file);
			mlctl_report_add(real, f->check, f->severity, f->file, "%s", f->message);
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
	mlctl_report_ran(in->rep, MLV150, in->path);
	if (want == F_PICKLE) {
		/* .pt/.pth/.ckpt/.pkl: a plain pickle (any protocol) or a PyTorch zip */
		if (got == F_ZIP) {
			mlctl_vcheck_zip(in, "torch");
		} else if (got == F_UNKNOWN && mlctl_vin_compression(p, n)) {
			mlctl_vcheck_compressed_pickle(in); /* joblib.dump(..., compress=N) */
		} else if (got == F_UNKNOWN || got == F_PICKLE) {
			mlctl_vcheck_pickle(in);
		} else {
			mlctl_report_add(in->rep, MLV150, MLCTL_SEV_ERROR, in->path,
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
		mlctl_report_add(in->rep, MLV150, MLCTL_SEV_ERROR, in->path,
				 "the name says %s but the bytes are %s; rename the file or "
				 "replace it",
				 fmt_names[want], got == F_UNKNOWN ? "something else" : fmt_names[got]);
		return;
	}
	if (want == F_ONNX && got != F_UNKNOWN) {
		mlctl_report_add(in->rep, MLV150, MLCTL_SEV_ERROR, in->path,
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
