/*
 * gguf.c - check a GGUF file (llama.cpp's format) from its header alone:
 * magic and version (2 or 3), typed metadata (all 13 value types, arrays
 * nested to a small depth) with caps on every length and count, then the
 * tensor infos: dimensions, ggml types, and data offsets aligned to
 * general.alignment (default 32) that stay inside the file without
 * overlapping. A tokenizer.chat_template is a warning: it is a Jinja
 * template that inference servers execute.
 */
#include <stdlib.h>
#include <string.h>

#include "validate/check.h"
#include "banned.h"

#define KEY_MAX 65535
#define NAME_MAX_GGML 64 /* GGML_MAX_NAME, with its NUL */
#define DIMS_MAX 4       /* GGML_MAX_DIMS */
#define ARRAY_DEPTH_MAX 4
#define TENSORS_MAX 1000000 /* far above any real model; bounds the memory of the check */

enum { T_U8, T_I8, T_U16, T_I16, T_U32, T_I32, T_F32, T_BOOL, T_STR, T_ARR, T_U64, T_I64,
       T_F64, T_COUNT };

static const unsigned scalar_size[T_COUNT] = { 1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8 };

/* ggml types: id -> (block size, bytes per block); 0 = unknown id */
static const struct {
	unsigned id, block, bytes;
	const char *name;
} ggml_types[] = {
	{ 0, 1, 4, "F32" },        { 1, 1, 2, "F16" },        { 2, 32, 18, "Q4_0" },
	{ 3, 32, 20, "Q4_1" },     { 6, 32, 22, "Q5_0" },     { 7, 32, 24, "Q5_1" },
	{ 8, 32, 34, "Q8_0" },     { 9, 32, 40, "Q8_1" },     { 10, 256, 84, "Q2_K" },
	{ 11, 256, 110, "Q3_K" },  { 12, 256, 144, "Q4_K" },  { 13, 256, 176, "Q5_K" },
	{ 14, 256, 210, "Q6_K" },  { 15, 256, 292, "Q8_K" },  { 16, 256, 66, "IQ2_XXS" },
	{ 17, 256, 74, "IQ2_XS" }, { 18, 256, 98, "IQ3_XXS" }, { 19, 256, 50, "IQ1_S" },
	{ 20, 32, 18, "IQ4_NL" },  { 21, 256, 110, "IQ3_S" }, { 22, 256, 82, "IQ2_S" },
	{ 23, 256, 136, "IQ4_XS" }, { 24, 1, 1, "I8" },       { 25, 1, 2, "I16" },
	{ 26, 1, 4, "I32" },       { 27, 1, 8, "I64" },       { 28, 1, 8, "F64" },
	{ 29, 256, 56, "IQ1_M" },  { 30, 1, 2, "BF16" },      { 34, 256, 54, "TQ1_0" },
	{ 35, 256, 66, "TQ2_0" },  { 39, 32, 17, "MXFP4" },
};

struct tinfo {
	char name[NAME_MAX_GGML];
	uint64_t offset, bytes;
};

struct gguf {
	struct mlctl_vin *in;
	uint64_t alignment;
	int bad;
};

#define GBAD(g, id, ...) \
	do { \
		mlctl_report_add((g)->in->rep, id, MLCTL_SEV_ERROR, (g)->in->path, __VA_ARGS__); \
		(g)->bad = 1; \
	} while (0)

static int rd_u32(struct gguf *g, uint32_t *v)
{
	unsigned char b[4];

	if (mlctl_vin_exact(g->in, b, 4) < 0)
		return -1;
	*v = mlctl_le32(b);
	return 0;
}

static int rd_u64(struct gguf *g, uint64_t *v)
{
	unsigned char b[8];

	if (mlctl_vin_exact(g->in, b, 8) < 0)
		return -1;
	*v = mlctl_le64(b);
	return 0;
}

static uint64_t remaining(const struct gguf *g)
{
	return g->in->size > g->in->pos ? g->in->size - g->in->pos : 0;
}

/* A gguf string: u64 length + bytes. Kept in out (NUL-terminated) when it fits cap. */
static int rd_string(struct gguf *g, char *out, size_t cap, uint64_t *len, const char *what)
{
	unsigned char chunk[4096];
	uint64_t n, left;
	int utf8 = 1;

	if (rd_u64(g, &n) < 0)
		return -1;
	*len = n;
	if (n > remaining(g)) {
		GBAD(g, MLV122, "%s length %llu runs past the end of the file", what,
		     (unsigned long long)n);
		return -1;
	}
	if (out && n < cap) {
		if (mlctl_vin_exact(g->in, out, (size_t)n) < 0)
			return -1;
		out[n] = '\0';
		utf8 = mlctl_utf8_valid(out, (size_t)n);
	} else {
		/* too long to keep (or not wanted): stream through it; the length
		 * check above bounds the work */
		for (left = n; left > 0;) {
			size_t k = left < sizeof(chunk) ? (size_t)left : sizeof(chunk);

			if (mlctl_vin_exact(g->in, chunk, k) < 0)
				return -1;
			left -= k;
		}
		if (out)
			out[0] = '\0';
	}
	if (!utf8) {
		GBAD(g, MLV122, "%s is not valid UTF-8", what);
		return -1;
	}
	return 0;
}

static int skip_value(struct gguf *g, uint32_t type, const char *key, int depth);

static int skip_array(struct gguf *g, const char *key, int depth)
{
	uint32_t type;
	uint64_t count, i, len;

	if (rd_u32(g, &type) < 0 || rd_u64(g, &count) < 0)
		return -1;
	if (type >= T_COUNT) {
		GBAD(g, MLV122, "metadata '%.100s' is an array of unknown type %u", key, type);
		return -1;
	}
	if (depth >= ARRAY_DEPTH_MAX) {
		GBAD(g, MLV122, "metadata '%.100s' nests arrays deeper than %d", key,
		     ARRAY_DEPTH_MAX);
		return -1;
	}
	/* every element takes at least one byte (a string at least eight) */
	if (count > remaining(g) / (type == T_STR ? 8 : type == T_ARR ? 12 : scalar_size[type])) {
		GBAD(g, MLV122, "metadata '%.100s' claims %llu elements, more than the file holds",
		     key, (unsigned long long)count);
		return -1;
	}
	if (scalar_size[type])
		return mlctl_vin_skip(g->in, count * scalar_size[type]);
	for (i = 0; i < count; i++) {
		if (type == T_STR) {
			if (rd_string(g, NULL, 0, &len, "a metadata string") < 0)
				return -1;
		} else if (skip_value(g, type, key, depth + 1) < 0) {
			return -1;
		}
	}
	return 0;
}

static int skip_value(struct gguf *g, uint32_t type, const char *key, int depth)
{
	uint64_t len;

	if (type == T_STR)
		return rd_string(g, NULL, 0, &len, "a metadata string");
	if (type == T_ARR)
		return skip_array(g, key, depth);
	return mlctl_vin_skip(g->in, scalar_size[type]);
}

static int read_kv(struct gguf *g)
{
	char key[KEY_MAX + 1];
	unsigned char b[8];
	uint64_t klen;
	uint32_t type;

	if (rd_string(g, key, sizeof(key), &klen, "a metadata key") < 0)
		return -1;
	if (klen == 0 || klen > KEY_MAX) {
		GBAD(g, MLV122, "a metadata key is %s", klen ? "longer than 65535 bytes" : "empty");
		return -1;
	}
	if (rd_u32(g, &type) < 0)
		return -1;
	if (type >= T_COUNT) {
		GBAD(g, MLV122, "metadata '%.100s' has unknown value type %u", key, type);
		return -1;
	}
	if (!strcmp(key, "tokenizer.chat_template"))
		mlctl_report_add(g->in->rep, MLV121, MLCTL_SEV_WARNING, g->in->path,
				 "has a tokenizer.chat_template: a Jinja template that inference "
				 "servers execute; review it before serving the model");
	if (!strcmp(key, "general.alignment")) {
		if (type != T_U32) {
			GBAD(g, MLV122, "general.alignment must be a uint32");
			return -1;
		}
		if (mlctl_vin_exact(g->in, b, 4) < 0)
			return -1;
		g->alignment = mlctl_le32(b);
		if (g->alignment == 0 || (g->alignment & (g->alignment - 1))) {
			GBAD(g, MLV122, "general.alignment %llu is not a power of two",
			     (unsigned long long)g->alignment);
			return -1;
		}
		return 0;
	}
	return skip_value(g, type, key, 0);
}

static int tinfo_cmp(const void *a, const void *b)
{
	const struct tinfo *x = a, *y = b;

	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct tinfo *)a)->name, ((const struct tinfo *)b)->name);
}

static int read_tensor(struct gguf *g, struct tinfo *t)
{
	uint64_t len, ne[DIMS_MAX] = { 1, 1, 1, 1 }, nelem = 1, blocks;
	uint32_t ndims, type;
	size_t i, k;

	if (rd_string(g, t->name, sizeof(t->name), &len, "a tensor name") < 0)
		return -1;
	if (len >= NAME_MAX_GGML) {
		GBAD(g, MLV123, "a tensor name is %llu bytes, over ggml's 63",
		     (unsigned long long)len);
		return -1;
	}
	if (rd_u32(g, &ndims) < 0)
		return -1;
	if (ndims == 0 || ndims > DIMS_MAX) {
		GBAD(g, MLV123, "tensor '%s' has %u dimensions; ggml allows 1 to 4", t->name, ndims);
		return -1;
	}
	for (i = 0; i < ndims; i++) {
		if (rd_u64(g, &ne[i]) < 0)
			return -1;
		if (ne[i] == 0 || __builtin_mul_overflow(nelem, ne[i], &nelem) ||
		    nelem > (1ull << 62)) {
			GBAD(g, MLV123, "tensor '%s' has a zero or overflowing dimension", t->name);
			return -1;
		}
	}
	if (rd_u32(g, &type) < 0 || rd_u64(g, &t->offset) < 0)
		return -1;
	for (k = 0; k < MLCTL_ARRAY_SIZE(ggml_types); k++)
		if (ggml_types[k].id == type)
			break;
	if (k == MLCTL_ARRAY_SIZE(ggml_types)) {
		GBAD(g, MLV123, "tensor '%s' has unknown ggml type %u", t->name, type);
		return -1;
	}
	if (ne[0] % ggml_types[k].block) {
		GBAD(g, MLV123, "tensor '%s': first dimension %llu is not a multiple of %s's "
		     "block of %u", t->name, (unsigned long long)ne[0], ggml_types[k].name,
		     ggml_types[k].block);
		return -1;
	}
	blocks = nelem / ggml_types[k].block;
	if (__builtin_mul_overflow(blocks, (uint64_t)ggml_types[k].bytes, &t->bytes)) {
		GBAD(g, MLV123, "tensor '%s' is too large", t->name);
		return -1;
	}
	return 0;
}

void mlctl_vcheck_gguf(struct mlctl_vin *in)
{
	struct gguf g = { in, 32, 0 };
	unsigned char magic[4];
	uint32_t version;
	uint64_t ntensors, nkv, i, data_start, data_size, end = 0;
	struct tinfo *t = NULL;

	mlctl_report_ran(in->rep, MLV120, in->path);
	mlctl_report_ran(in->rep, MLV122, in->path);
	mlctl_report_ran(in->rep, MLV123, in->path);
	if (mlctl_vin_exact(in, magic, 4) < 0 || memcmp(magic, "GGUF", 4)) {
		GBAD(&g, MLV120, "no GGUF magic at the start");
		return;
	}
	if (rd_u32(&g, &version) < 0 || rd_u64(&g, &ntensors) < 0 || rd_u64(&g, &nkv) < 0) {
		GBAD(&g, MLV120, "file ends inside the GGUF header");
		return;
	}
	if (version < 2 || version > 3) {
		GBAD(&g, MLV120, "GGUF version %u is not supported (2 or 3)", version);
		return;
	}
	/* a metadata pair takes at least 13 bytes, a tensor info at least 33 */
	if (nkv > remaining(&g) / 13 || ntensors > remaining(&g) / 33) {
		GBAD(&g, MLV120, "header claims %llu metadata pairs and %llu tensors, more than "
		     "the %llu-byte file can hold", (unsigned long long)nkv,
		     (unsigned long long)ntensors, (unsigned long long)in->size);
		return;
	}
	for (i = 0; i < nkv; i++)
		if (read_kv(&g) < 0) {
			if (!g.bad)
				GBAD(&g, MLV122, "file ends inside metadata pair %llu",
				     (unsigned long long)i);
			return;
		}
	if (ntensors > TENSORS_MAX) {
		GBAD(&g, MLV120, "header claims %llu tensors, more than the %d mlctl reads",
		     (unsigned long long)ntensors, TENSORS_MAX);
		return;
	}
	t = mlctl_calloc((size_t)ntensors + 1, sizeof(*t));
	for (i = 0; i < ntensors; i++)
		if (read_tensor(&g, &t[i]) < 0) {
			if (!g.bad)
				GBAD(&g, MLV123, "file ends inside tensor info %llu",
				     (unsigned long long)i);
			goto done;
		}
	data_start = (in->pos + g.alignment - 1) / g.alignment * g.alignment;
	data_size = in->size > data_start ? in->size - data_start : 0;
	qsort(t, (size_t)ntensors, sizeof(*t), name_cmp);
	for (i = 1; i < ntensors; i++)
		if (!strcmp(t[i - 1].name, t[i].name)) {
			GBAD(&g, MLV123, "tensor '%s' is named twice", t[i].name);
			goto done;
		}
	qsort(t, (size_t)ntensors, sizeof(*t), tinfo_cmp);
	for (i = 0; i < ntensors; i++) {
		if (t[i].offset % g.alignment) {
			GBAD(&g, MLV123, "tensor '%s' starts at offset %llu, not a multiple of the "
			     "alignment %llu", t[i].name, (unsigned long long)t[i].offset,
			     (unsigned long long)g.alignment);
			goto done;
		}
		if (t[i].offset < end) {
			GBAD(&g, MLV123, "tensor '%s' overlaps the tensor before it", t[i].name);
			goto done;
		}
		if (t[i].offset > data_size || t[i].bytes > data_size - t[i].offset) {
			GBAD(&g, MLV123, "tensor '%s' (%llu bytes at offset %llu) runs past the end "
			     "of the file", t[i].name, (unsigned long long)t[i].bytes,
			     (unsigned long long)t[i].offset);
			goto done;
		}
		end = t[i].offset + t[i].bytes;
	}
done:
	free(t);
}
