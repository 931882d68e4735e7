/*
 * safetensors.c - check a safetensors file from its header alone: an 8-byte
 * little-endian length (capped), a JSON header whose tensors' dtypes and
 * shapes agree with their data_offsets, offsets that tile the data from 0
 * without gap or overlap, and data that ends where the file ends.
 */
#include <stdlib.h>
#include <string.h>

#include "validate/check.h"
#include "banned.h"

#define HEADER_CAP 100000000ull

static const struct {
	const char *name;
	unsigned bits;
} dtypes[] = {
	{ "BOOL", 8 }, { "U8", 8 },  { "I8", 8 },   { "F8_E5M2", 8 }, { "F8_E4M3", 8 },
	{ "I16", 16 }, { "U16", 16 }, { "F16", 16 }, { "BF16", 16 },   { "I32", 32 },
	{ "U32", 32 }, { "F32", 32 }, { "F64", 64 }, { "I64", 64 },    { "U64", 64 },
	{ "C64", 64 }, { "F8_E8M0", 8 }, { "F4", 4 }, { "F6_E2M3", 6 }, { "F6_E3M2", 6 },
};

struct span {
	uint64_t begin, end;
	const char *name;
};

static int span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return x->begin < y->begin ? -1 : x->begin > y->begin;
}

struct name_at {
	const char *name;
	size_t at;
};

static int name_at_cmp(const void *a, const void *b)
{
	const struct name_at *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->at > y->at) - (x->at < y->at);
}

/*
 * earlier[i] = how many keys before the i-th of the header have its name:
 * sorted by (name, position), the k-th of a run of equal names has k.
 */
static size_t *earlier_names(const cJSON *root, size_t n)
{
	struct name_at *v = mlctl_malloc(n * sizeof(*v));
	size_t *earlier = mlctl_calloc(n, sizeof(*earlier));
	const cJSON *t;
	size_t i = 0, run = 0;

	cJSON_ArrayForEach(t, root) {
		v[i].name = t->string;
		v[i].at = i;
		i++;
	}
	qsort(v, n, sizeof(*v), name_at_cmp);
	for (i = 0; i < n; i++) {
		run = i > 0 && !strcmp(v[i].name, v[i - 1].name) ? run + 1 : 0;
		earlier[v[i].at] = run;
	}
	free(v);
	return earlier;
}

static int as_u64(const cJSON *j, uint64_t *out)
{
	if (!cJSON_IsNumber(j) || j->valuedouble < 0 || j->valuedouble > 9007199254740992.0 ||
	    j->valuedouble != (double)(uint64_t)j->valuedouble)
		return -1;
	*out = (uint64_t)j->valuedouble;
	return 0;
}

#define BAD(id, ...) mlctl_report_add(in->rep, id, MLCTL_SEV_ERROR, in->path, __VA_ARGS__)

static int check_tensor(struct mlctl_vin *in, const cJSON *t, struct span *sp)
{
	const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(t, "dtype");
	const cJSON *shape = cJSON_GetObjectItemCaseSensitive(t, "shape");
	const cJSON *offs = cJSON_GetObjectItemCaseSensitive(t, "data_offsets"), *d;
	uint64_t nelem = 1, nbits, nbytes, dim;
	unsigned bits = 0;
	size_t i;

	if (!cJSON_IsObject(t) || !cJSON_IsString(dtype) || !cJSON_IsArray(shape) ||
	    !cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2) {
		BAD(MLV111, "tensor '%.200s' needs dtype, shape and data_offsets [begin, end]",
		    t->string);
		return -1;
	}
	for (i = 0; i < MLCTL_ARRAY_SIZE(dtypes); i++)
		if (!strcmp(dtype->valuestring, dtypes[i].name))
			bits = dtypes[i].bits;
	if (!bits) {
		BAD(MLV111, "tensor '%.200s' has unknown dtype '%.40s'", t->string,
		    dtype->valuestring);
		return -1;
	}
	cJSON_ArrayForEach(d, shape) {
		if (as_u64(d, &dim) < 0) {
			BAD(MLV111, "tensor '%.200s' has a shape that is not a list of sizes",
			    t->string);
			return -1;
		}
		if (__builtin_mul_overflow(nelem, dim, &nelem)) {
			BAD(MLV111, "tensor '%.200s' has a shape whose size overflows", t->string);
			return -1;
		}
	}
	if (as_u64(cJSON_GetArrayItem(offs, 0), &sp->begin) < 0 ||
	    as_u64(cJSON_GetArrayItem(offs, 1), &sp->end) < 0 || sp->end < sp->begin) {
		BAD(MLV111, "tensor '%.200s' has data_offsets that are not [begin, end] with "
		    "begin <= end", t->string);
		return -1;
	}
	if (__builtin_mul_overflow(nelem, (uint64_t)bits, &nbits)) {
		BAD(MLV111, "tensor '%.200s' has a shape whose size overflows", t->string);
		return -1;
	}
	nbytes = (nbits + 7) / 8;
	if (nbytes != sp->end - sp->begin) {
		BAD(MLV111, "tensor '%.200s' is %s%s with %llu bytes of data, but its offsets "
		    "span %llu", t->string, dtype->valuestring, "", (unsigned long long)nbytes,
		    (unsigned long long)(sp->end - sp->begin));
		return -1;
	}
	sp->name = t->string;
	return 0;
}

void mlctl_vcheck_safetensors(struct mlctl_vin *in)
{
	unsigned char lenbuf[8];
	uint64_t hlen, end = 0;
	char *text = NULL;
	cJSON *root = NULL, *t;
	struct span *spans = NULL;
	size_t *earlier = NULL;
	size_t n = 0, i, at = 0, line, nkeys;
	int bad = 0;

	mlctl_report_ran(in->rep, MLV110, in->path);
	mlctl_report_ran(in->rep, MLV111, in->path);
	mlctl_report_ran(in->rep, MLV113, in->path);
	if (mlctl_vin_exact(in, lenbuf, 8) < 0) {
		BAD(MLV110, "file is shorter than the 8-byte header length");
		return;
	}
	hlen = mlctl_le64(lenbuf);
	if (hlen > HEADER_CAP) {
		BAD(MLV110, "header length %llu is over the 100000000-byte limit; the file is "
		    "damaged or crafted", (unsigned long long)hlen);
		return;
	}
	if (hlen + 8 > in->size) {
		BAD(MLV110, "header length %llu runs past the end of the %llu-byte file",
		    (unsigned long long)hlen, (unsigned long long)in->size);
		return;
	}
	text = mlctl_malloc((size_t)hlen + 1);
	if (mlctl_vin_exact(in, text, (size_t)hlen) < 0) {
		BAD(MLV110, "file ends inside its header");
		goto done;
	}
	text[hlen] = '\0';
	root = mlctl_json_parse_located(text, (size_t)hlen, &line);
	if (!cJSON_IsObject(root)) {
		BAD(MLV110, "header is not a JSON object (near byte %llu); the file is damaged",
		    (unsigned long long)(8 + (root ? 0 : line)));
		goto done;
	}
	nkeys = (size_t)cJSON_GetArraySize(root);
	spans = mlctl_calloc(nkeys + 1, sizeof(*spans));
	earlier = earlier_names(root, nkeys);
	for (t = root->child; t; t = t->next, at++) {
		if ((at & 4095) == 0 && mlctl_interrupted())
			goto done; /* the caller sees the signal and fails */
		/* once per repeated name (at its second key), however often it repeats */
		if (earlier[at] == 1)
			BAD(MLV110, "header names tensor '%.200s' twice", t->string);
		if (earlier[at] > 0)
			bad = 1;
		if (!strcmp(t->string, "__metadata__")) {
			const cJSON *m;

			mlctl_report_ran(in->rep, MLV112, in->path);
			if (!cJSON_IsObject(t)) {
				mlctl_report_add(in->rep, MLV112, MLCTL_SEV_ERROR, in->path,
						 "__metadata__ must be an object of strings");
				bad = 1;
				continue;
			}
			cJSON_ArrayForEach(m, t) if (!cJSON_IsString(m)) {
				mlctl_report_add(in->rep, MLV112, MLCTL_SEV_ERROR, in->path,
						 "__metadata__ '%.200s' is not a string", m->string);
				bad = 1;
			}
			continue;
		}
		if (check_tensor(in, t, &spans[n]) < 0)
			bad = 1;
		else
			n++;
	}
	if (bad)
		goto done;
	qsort(spans, n, sizeof(*spans), span_cmp);
	for (i = 0; i < n; i++) {
		if (spans[i].begin != end) {
			BAD(MLV111, "tensor '%.200s' starts at byte %llu of the data but the "
			    "previous one ends at %llu (%s)", spans[i].name,
			    (unsigned long long)spans[i].begin, (unsigned long long)end,
			    spans[i].begin > end ? "a gap" : "an overlap");
			goto done;
		}
		end = spans[i].end;
	}
	if (end + 8 + hlen != in->size)
		mlctl_report_add(in->rep, MLV113, MLCTL_SEV_ERROR, in->path,
				 "data ends at byte %llu but the file has %llu bytes (%s)",
				 (unsigned long long)(end + 8 + hlen),
				 (unsigned long long)in->size,
				 end + 8 + hlen > in->size ? "truncated" : "trailing bytes");
done:
	cJSON_Delete(root);
	free(earlier);
	free(spans);
	free(text);
}
