/*
 * onnx.c - read an ONNX ModelProto from a stream by its protobuf wire
 * format, taking only the fields mlctl checks and skipping the rest
 * (initializer data included, so a 2 GiB model costs a read of its bytes
 * but no memory). Every length is checked against its enclosing message,
 * nesting is capped, and so is everything kept.
 *
 * Field numbers (onnx.proto): ModelProto 1 ir_version, 2 producer_name,
 * 7 graph, 8 opset_import; OperatorSetIdProto 1 domain, 2 version;
 * GraphProto 1 node, 5 initializer, 11 input, 12 output; NodeProto 4
 * op_type, 5 attribute; AttributeProto 5 t, 6 g, 10 tensors, 11 graphs;
 * TensorProto 8 name, 13 external_data, 14 data_location;
 * StringStringEntryProto 1 key, 2 value; ValueInfoProto 1 name, 2 type;
 * TypeProto 1 tensor_type; TypeProto.Tensor 1 elem_type, 2 shape;
 * TensorShapeProto 1 dim; Dimension 1 dim_value, 2 dim_param.
 */
#include "validate/onnx.h"
#include "validate/check.h"

#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

#define DEPTH_MAX 32
#define KEEP_MAX 100000 /* names kept (initializers, values): memory stays under ~100 MiB */
#define STR_KEEP 1024   /* longer strings are skipped, not kept */

struct pb {
	struct mlctl_vin *in;
	struct onnx_info *info;
	int depth;
	int failed;
};

static int fail(struct pb *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct pb *p, const char *fmt, ...)
{
	va_list ap;

	if (!p->failed) {
		va_start(ap, fmt);
		vsnprintf(p->info->error, sizeof(p->info->error), fmt, ap);
		va_end(ap);
	}
	p->failed = 1;
	return -1;
}

static int varint(struct pb *p, uint64_t *v, uint64_t end)
{
	int shift, c;

	*v = 0;
	for (shift = 0; shift < 64; shift += 7) {
		if (p->in->pos >= end)
			return fail(p, "a varint runs past its message at byte %llu",
				    (unsigned long long)p->in->pos);
		c = mlctl_vin_byte(p->in);
		if (c < 0)
			return fail(p, "file ends inside a varint");
		*v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return 0;
	}
	return fail(p, "a varint is longer than 10 bytes at byte %llu",
		    (unsigned long long)p->in->pos);
}

/* Read a field key; 0 at the end of the message, 1 with field/wire set, -1 on error. */
static int key(struct pb *p, uint64_t end, uint32_t *field, int *wire)
{
	uint64_t k;

	if (p->in->pos == end)
		return 0;
	if (p->in->pos > end)
		return fail(p, "a field runs past its message");
	if (varint(p, &k, end) < 0)
		return -1;
	*field = (uint32_t)(k >> 3);
	*wire = (int)(k & 7);
	if (*field == 0 || k >> 35)
		return fail(p, "field number %llu is not valid", (unsigned long long)(k >> 3));
	return 1;
}

/* The end of a length-delimited field that starts here. */
static int len_end(struct pb *p, uint64_t end, uint64_t *sub_end)
{
	uint64_t len;

	if (varint(p, &len, end) < 0)
		return -1;
	if (len > end - p->in->pos)
		return fail(p, "a %llu-byte field runs past its message at byte %llu",
			    (unsigned long long)len, (unsigned long long)p->in->pos);
	*sub_end = p->in->pos + len;
	return 0;
}

static int skip(struct pb *p, int wire, uint64_t end)
{
	uint64_t v, sub;

	switch (wire) {
	case 0:
		return varint(p, &v, end);
	case 1:
		if (end - p->in->pos < 8)
			return fail(p, "a 64-bit field runs past its message");
		return mlctl_vin_skip(p->in, 8) < 0 ? fail(p, "file ends inside a field") : 0;
	case 5:
		if (end - p->in->pos < 4)
			return fail(p, "a 32-bit field runs past its message");
		return mlctl_vin_skip(p->in, 4) < 0 ? fail(p, "file ends inside a field") : 0;
	case 2:
		if (len_end(p, end, &sub) < 0)
			return -1;
		return mlctl_vin_skip(p->in, sub - p->in->pos) < 0 ? fail(p, "file ends inside a field")
								      : 0;
	default:
		return fail(p, "wire type %d is not used by ONNX (at byte %llu)", wire,
			    (unsigned long long)p->in->pos);
	}
}

/* A string field: kept (NUL-terminated, malloc'd) when short enough, else NULL. */
static int string(struct pb *p, uint64_t end, char **out)
{
	uint64_t sub;
	size_t n;

	*out = NULL;
	if (len_end(p, end, &sub) < 0)
		return -1;
	n = (size_t)(sub - p->in->pos);
	if (n >= STR_KEEP)
		return mlctl_vin_skip(p->in, n) < 0 ? fail(p, "file ends inside a string") : 0;
	*out = mlctl_malloc(n + 1);
	if (mlctl_vin_exact(p->in, *out, n) < 0) {
		free(*out);
		*out = NULL;
		return fail(p, "file ends inside a string");
	}
	(*out)[n] = '\0';
	return 0;
}

static int enter(struct pb *p)
{
	if (++p->depth > DEPTH_MAX)
		return fail(p, "messages nest deeper than %d", DEPTH_MAX);
	return 0;
}

/* ---------------------------------------------------------------- types */

static int dimension(struct pb *p, uint64_t end, int64_t *dim)
{
	uint32_t f;
	int w, r;
	uint64_t v;

	*dim = -1;
	while ((r = key(p, end, &f, &w)) == 1) {
		if (f == 1 && w == 0) {
			if (varint(p, &v, end) < 0)
				return -1;
			*dim = (int64_t)v < 0 ? -1 : (int64_t)v;
		} else if (skip(p, w, end) < 0) {
			return -1;
		}
	}
	return r;
}

static int shape(struct pb *p, uint64_t end, struct onnx_value *val)
{
	uint32_t f;
	int w, r;
	uint64_t sub;

	val->rank = 0;
	while ((r = key(p, end, &f, &w)) == 1) {
		if (f == 1 && w == 2) {
			int64_t d;

			if (len_end(p, end, &sub) < 0 || dimension(p, sub, &d) < 0)
				return -1;
			if (val->rank < ONNX_MAX_DIMS)
				val->dims[val->rank] = d;
			if (val->rank < INT_MAX) /* 2^31 dimensions fit in a 4 GiB file */
				val->rank++;
		} else if (skip(p, w, end) < 0) {
			return -1;
		}
	}
	return r;
}

static int tensor_type(struct pb *p, uint64_t end, struct onnx_value *val)
{
	uint32_t f;
	int w, r;
	uint64_t v, sub;

	while ((r = key(p, end, &f, &w)) == 1) {
		if (f == 1 && w == 0) {
			if (varint(p, &v, end) < 0)
				return -1;
			val->elem_type = (int)(v & 0xffff);
		} else if (f == 2 && w == 2) {
			if (len_end(p, end, &sub) < 0 || shape(p, sub, val) < 0)
				return -1;
		} else if (skip(p, w, end) < 0) {
			return -1;
		}
	}
	return r;
}

static int type_proto(struct pb *p, uint64_t end, struct onnx_value *val)
{
	uint32_t f;
	int w, r;
	uint64_t sub;

	while ((r = key(p, end, &f, &w)) == 1) {
		if (f == 1 && w == 2) {
			if (len_end(p, end, &sub) < 0 || tensor_type(p, sub, val) < 0)
				return -1;
		} else if (skip(p, w, end) < 0) {
			return -1;
		}
	}
	return r;
}

/*
 * Room for one more element in an array of n: it doubles (16, 32, 64…), so
 * 100,000 appends copy the array about 17 times, not 100,000.
 */
static void *room_for_one(void *v, size_t n, size_t size)
{
	if (n == 0 || (n >= 16 && (n & (n - 1)) == 0))
		v = mlctl_realloc(v, (n ? 2 * n : 16) * size);
	return v;
}

static int value_info(struct pb *p, uint64_t end, struct onnx_value **list, size_t *n)
{
	struct onnx_value val;
	uint32_t f;
	int w, r;
	uint64_t sub;

	memset(&val, 0, sizeof(val));
	val.rank = -1;
	while ((r = key(p, end, &f, &w)) == 1) {
		if (f == 1 && w == 2) {
			free(val.name);
			if (string(p, end, &val.name) < 0)
				return -1;
		} else if (f == 2 && w == 2) {
			if (len_end(p, end, &sub) < 0 || type_proto(p, sub, &val) < 0) {
				free(val.name);
				return -1;
			}
		} else if (skip(p, w, end) < 0) {
			free(val.name);
			return -1;
		}
	}
	if (r < 0 || *n >= KEEP_MAX) {
		free(val.name);
		return r < 0 ? -1 : fail(p, "more than %d graph inputs or outputs", KEEP_MAX);
	}
	if (!val.name)
		val.name = mlctl_strdup("");
	*list = room_for_one(*list, *n, sizeof(**list));
	(*list)[(*n)++] = val;
	return 0;
}

/* ---------------------------------------------------------------- tensors */

static int entry(struct pb *p, uint64_t end, char **k, char **v)
{
	uint32_t f;
	int w, r;

	*k = *v = NULL;
	while ((r = key(p, end, &f, &w)) == 1) {
		if (f == 1 && w == 2) {
			free(*k);
			if (string(p, end, k) < 0)
				break;
		} else if (f == 2 && w == 2) {
			free(*v);
			if (string(p, end, v) < 0)
				break;
		} else if (skip(p, w, end) < 0) {
			break;
		}
	}
	if (r != 0) {
		free(*k);
		free(*v);
		*k = *v = NULL;
		return -1;
	}
	return 0;
}

static int tensor(struct pb *p, uint64_t end, int keep_name)
{
	struct onnx_info *info = p->info;
	char *name = NULL, *location = NULL, *k, *v;
	uint64_t offset = 0, length = 0, data_location = 0, sub;
	uint32_t f;
	int w, r, has_external = 0;

	while ((r = key(p, end, &f, &w)) == 1) {
		if (f == 8 && w == 2) {
			free(name);
			if (string(p, end, &name) < 0)
				goto bad;
		} else if (f == 13 && w == 2) {
			has_external = 1;
			if (len_end(p, end, &sub) < 0 || entry(p, sub, &k, &v) < 0)
				goto bad;
			if (k && v && !strcmp(k, "location")) {
				free(location);
				location = v;
				v = NULL;
			} else if (k && v && !strcmp(k, "offset")) {
				offset = strtoull(v, NULL, 10);
			} else if (k && v && !strcmp(k, "length")) {
				length = strtoull(v, NULL, 10);
			}
			free(k);
			free(v);
		} else if (f == 14 && w == 0) {
			if (varint(p, &data_location, end) < 0)
				goto bad;
		} else if (skip(p, w, end) < 0) {
			goto bad;
		}
	}
	if (r < 0)
		goto bad;
	if (has_external || data_location == 1) {
		if (info->nexternals >= KEEP_MAX) {
			fail(p, "more than %d external tensors", KEEP_MAX);
			goto bad;
		}
		info->externals = room_for_one(info->externals, info->nexternals,
					       sizeof(*info->externals));
		info->externals[info->nexternals].tensor = mlctl_strdup(name ? name : "");
		info->externals[info->nexternals].location = location ? location : mlctl_strdup("");
		info->externals[info->nexternals].offset = offset;
		info->externals[info->nexternals].length = length;
		info->nexternals++;
		location = NULL;
	}
	if (keep_name && name) {
		if (info->ninitializers >= KEEP_MAX) {
			fail(p, "more than %d initializers", KEEP_MAX);
			goto bad;
		}
		info->initializers = room_for_one(info->initializers, info->ninitializers,
						  sizeof(char *));
		info->initializers[info->ninitializers++] = name;
		name = NULL;
	}
	free(name);
	free(location);
	return 0;
bad:
	free(name);
	free(location);
	return -1;
}

/* ---------------------------------------------------------------- graphs */

static int graph(struct pb *p, uint64_t end, int top);

static int attribute(struct pb *p, uint64_t end)
{
	uint32_t f;
	int w, r;
	uint64_t sub;

	if (enter(p) < 0)
		return -1;
	while ((r = key(p, end, &f, &w)) == 1) {
		if ((f == 5 || f == 10) && w == 2) { /* t, tensors */
			if (len_end(p, end, &sub) < 0 || tensor(p, sub, 0) < 0)
				return -1;
		} else if ((f == 6 || f == 11) && w == 2) { /* g, graphs: subgraphs */
			if (len_end(p, end, &sub) < 0 || graph(p, sub, 0) < 0)
				return -1;
		} else if (skip(p, w, end) < 0) {
			return -1;
		}
	}
	p->depth--;
	return r;
}

static int node(struct pb *p, uint64_t end, int top)
{
	uint32_t f;
	int w, r;
	uint64_t sub;

	if (top)
		p->info->nnodes++;
	while ((r = key(p, end, &f, &w)) == 1) {
		if (f == 5 && w == 2) {
			if (len_end(p, end, &sub) < 0 || attribute(p, sub) < 0)
				return -1;
		} else if (skip(p, w, end) < 0) {
			return -1;
		}
	}
	return r;
}

/* top: the model's main graph (its inputs, outputs and nodes are kept). */
static int graph(struct pb *p, uint64_t end, int top)
{
	struct onnx_info *info = p->info;
	uint32_t f;
	int w, r;
	uint64_t sub;

	if (enter(p) < 0)
		return -1;
	while ((r = key(p, end, &f, &w)) == 1) {
		if (w != 2 || (f != 1 && f != 5 && f != 11 && f != 12)) {
			if (skip(p, w, end) < 0)
				return -1;
			continue;
		}
		if (len_end(p, end, &sub) < 0)
			return -1;
		if (f == 1 && node(p, sub, top) < 0)
			return -1;
		if (f == 5 && tensor(p, sub, top) < 0)
			return -1;
		if (f == 11 || f == 12) {
			if (top) {
				if (value_info(p, sub, f == 11 ? &info->inputs : &info->outputs,
					       f == 11 ? &info->ninputs : &info->noutputs) < 0)
					return -1;
			} else if (mlctl_vin_skip(p->in, sub - p->in->pos) < 0) {
				return fail(p, "file ends inside a graph");
			}
		}
	}
	p->depth--;
	return r;
}

static int opset(struct pb *p, uint64_t end)
{
	uint32_t f;
	int w, r;
	uint64_t v = 0;
	char *domain = NULL;

	while ((r = key(p, end, &f, &w)) == 1) {
		if (f == 1 && w == 2) {
			free(domain);
			if (string(p, end, &domain) < 0)
				return -1;
		} else if (f == 2 && w == 0) {
			if (varint(p, &v, end) < 0) {
				free(domain);
				return -1;
			}
		} else if (skip(p, w, end) < 0) {
			free(domain);
			return -1;
		}
	}
	p->info->nopsets++;
	if (!domain || !*domain || !strcmp(domain, "ai.onnx"))
		p->info->default_opset = (int64_t)v;
	free(domain);
	return r;
}

static int str_ptr_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int read_model(struct onnx_info *info, struct mlctl_vin *in)
{
	struct pb p = { in, info, 0, 0 };
	uint64_t end = in->size, v, sub;
	uint32_t f;
	int w, r;
	char *s;

	while ((r = key(&p, end, &f, &w)) == 1) {
		if (f == 1 && w == 0) {
			if (varint(&p, &v, end) < 0)
				return -1;
			info->ir_version = (int64_t)v;
		} else if (f == 2 && w == 2) {
			if (string(&p, end, &s) < 0)
				return -1;
			if (s)
				snprintf(info->producer, sizeof(info->producer), "%s", s);
			free(s);
		} else if (f == 7 && w == 2) {
			info->has_graph = 1;
			if (len_end(&p, end, &sub) < 0 || graph(&p, sub, 1) < 0)
				return -1;
		} else if (f == 8 && w == 2) {
			if (len_end(&p, end, &sub) < 0 || opset(&p, sub) < 0)
				return -1;
		} else if (skip(&p, w, end) < 0) {
			return -1;
		}
	}
	if (r < 0)
		return -1;
	if (in->failed)
		return fail(&p, "the file could not be read to its end");
	return 0;
}

int mlctl_onnx_read(struct onnx_info *info, struct mlctl_vin *in)
{
	int rc;

	memset(info, 0, sizeof(*info));
	rc = read_model(info, in);
	/* sorted for mlctl_onnx_is_initializer's binary search, also when cut short */
	if (info->ninitializers)
		qsort(info->initializers, info->ninitializers, sizeof(char *), str_ptr_cmp);
	return rc;
}

void mlctl_onnx_release(struct onnx_info *info)
{
	size_t i;

	for (i = 0; i < info->ninputs; i++)
		free(info->inputs[i].name);
	for (i = 0; i < info->noutputs; i++)
		free(info->outputs[i].name);
	for (i = 0; i < info->ninitializers; i++)
		free(info->initializers[i]);
	for (i = 0; i < info->nexternals; i++) {
		free(info->externals[i].tensor);
		free(info->externals[i].location);
	}
	free(info->inputs);
	free(info->outputs);
	free(info->initializers);
	free(info->externals);
	memset(info, 0, sizeof(*info));
}

int mlctl_onnx_is_initializer(const struct onnx_info *info, const char *name)
{
	return info->ninitializers &&
	       bsearch(&name, info->initializers, info->ninitializers, sizeof(char *),
		       str_ptr_cmp) != NULL;
}

const char *mlctl_onnx_dtype_name(int t)
{
	static const char *const names[] = { NULL,      "float32",  "uint8",   "int8",
					     "uint16",  "int16",    "int32",   "int64",
					     "string",  "bool",     "float16", "float64",
					     "uint32",  "uint64",   "complex64", "complex128",
					     "bfloat16" };

	return t > 0 && t < (int)MLCTL_ARRAY_SIZE(names) ? names[t] : NULL;
}

/* ---------------------------------------------------------------- checks */

#define OBAD(in, id, ...) mlctl_report_add((in)->rep, id, MLCTL_SEV_ERROR, (in)->path, __VA_ARGS__)

/* CVE-2022-25882 and its bypasses: a location must be a plain relative path. */
static const char *location_problem(const char *loc)
{
	const char *p = loc, *seg;

	if (!*loc)
		return "is empty";
	if (loc[0] == '/' || loc[0] == '\\' || (loc[0] && loc[1] == ':'))
		return "is absolute";
	if (strchr(loc, '\\'))
		return "has a backslash";
	for (; *p; p++)
		if ((unsigned char)*p < 0x20)
			return "has control characters";
	for (p = loc; *p;) {
		seg = p;
		while (*p && *p != '/')
			p++;
		if (p - seg == 2 && seg[0] == '.' && seg[1] == '.')
			return "climbs out with '..'";
		if (*p)
			p++;
	}
	return NULL;
}

static void check_externals(struct mlctl_vin *in, const struct onnx_info *info)
{
	char *base = mlctl_dirname(in->path);
	size_t i;

	mlctl_report_ran(in->rep, MLV162, in->path);
	mlctl_report_ran(in->rep, MLV163, in->path);
	for (i = 0; i < info->nexternals; i++) {
		const struct onnx_external *e = &info->externals[i];
		const char *why = location_problem(e->location), *loc = e->location;
		char *rel;
		uint64_t size = 0;
		int rc;

		if ((i & 1023) == 1023 && mlctl_interrupted())
			break; /* the caller sees the signal and fails */
		if (why) {
			OBAD(in, MLV162, "tensor '%.100s' keeps its data at '%.200s', which %s: "
			     "loading the model would read a file outside it (CVE-2022-25882)",
			     e->tensor, e->location, why);
			continue;
		}
		while (!strncmp(loc, "./", 2))
			loc += 2;
		rel = strcmp(base, ".") ? mlctl_aprintf("%s/%s", base, loc) : mlctl_strdup(loc);
		if (!in->proj) { /* nothing to look the file up in (fuzzing, init) */
			free(rel);
			continue;
		}
		if (!mlctl_path_is_safe(rel)) {
			OBAD(in, MLV162, "tensor '%.100s' keeps its data at '%.200s', which is not a "
			     "plain path inside the project", e->tensor, e->location);
			free(rel);
			continue;
		}
		rc = in->proj->lookup(in->proj->ctx, rel, &size);
		if (rc == MLCTL_ENOTFOUND)
			OBAD(in, MLV163, "tensor '%.100s' keeps its data in '%.200s', which is not in "
			     "the project; add it to the artifacts", e->tensor, rel);
		else if (rc)
			OBAD(in, MLV162, "tensor '%.100s' keeps its data in '%.200s', which is a "
			     "symlink or leaves the project; put the real file there", e->tensor, rel);
		else if (e->offset > size || (e->length && e->length > size - e->offset))
			OBAD(in, MLV163, "tensor '%.100s' reads bytes %llu to %llu of '%.200s', which "
			     "has only %llu", e->tensor, (unsigned long long)e->offset,
			     (unsigned long long)(e->offset + e->length), rel,
			     (unsigned long long)size);
		free(rel);
	}
	free(base);
}

static const struct onnx_value *find_value(const struct onnx_value *v, size_t n,
					   const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(v[i].name, name))
			return &v[i];
	return NULL;
}

static void compare_side(struct mlctl_vin *in, const struct onnx_info *info, const cJSON *list,
			 const char *side, const struct onnx_value *vals, size_t n)
{
	const cJSON *t;
	size_t i;

	cJSON_ArrayForEach(t, list) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(t, "name");
		const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(t, "dtype");
		const cJSON *shp = cJSON_GetObjectItemCaseSensitive(t, "shape");
		const struct onnx_value *v;
		const char *have;

		if (!cJSON_IsString(name))
			continue;
		v = find_value(vals, n, name->valuestring);
		if (!v || (!strcmp(side, "inputs") && mlctl_onnx_is_initializer(info, v->name))) {
			OBAD(in, MLV164, "signature.%s names '%.100s', which is not one of the "
			     "model's %s; fix the signature", side, name->valuestring, side);
			continue;
		}
		have = mlctl_onnx_dtype_name(v->elem_type);
		if (cJSON_IsString(dtype) && have && strcmp(have, dtype->valuestring))
			OBAD(in, MLV164, "signature.%s '%.100s' says %s but the model has %s", side,
			     v->name, dtype->valuestring, have);
		if (cJSON_IsArray(shp) && v->rank >= 0) {
			int rank = cJSON_GetArraySize(shp);

			if (rank != v->rank) {
				OBAD(in, MLV164, "signature.%s '%.100s' has rank %d but the model's has "
				     "rank %d", side, v->name, rank, v->rank);
				continue;
			}
			for (i = 0; i < (size_t)rank && i < ONNX_MAX_DIMS; i++) {
				double want = cJSON_GetArrayItem(shp, (int)i)->valuedouble;

				if (want >= 0 && v->dims[i] >= 0 && (int64_t)want != v->dims[i]) {
					OBAD(in, MLV164, "signature.%s '%.100s' has size %lld in "
					     "dimension %zu but the model has %lld", side, v->name,
					     (long long)want, i, (long long)v->dims[i]);
					break;
				}
			}
		}
	}
}

void mlctl_vcheck_onnx(struct mlctl_vin *in)
{
	struct onnx_info info;
	const cJSON *sig = in->proj ? cJSON_GetObjectItemCaseSensitive(in->proj->manifest,
									  "signature") : NULL;

	mlctl_report_ran(in->rep, MLV160, in->path);
	mlctl_report_ran(in->rep, MLV161, in->path);
	if (mlctl_onnx_read(&info, in) < 0) {
		OBAD(in, MLV160, "is not a readable ONNX model: %s", info.error);
		mlctl_onnx_release(&info);
		return;
	}
	if (info.ir_version < 3 || info.ir_version > 12)
		OBAD(in, MLV161, "has ir_version %lld; ONNX runtimes read 3 to 12",
		     (long long)info.ir_version);
	if (!info.nopsets)
		OBAD(in, MLV161, "imports no operator set (opset_import is empty)");
	if (!info.has_graph)
		OBAD(in, MLV161, "has no graph");
	else if (!info.noutputs)
		OBAD(in, MLV161, "has a graph without outputs");
	check_externals(in, &info);
	if (cJSON_IsObject(sig) && info.has_graph) {
		mlctl_report_ran(in->rep, MLV164, in->path);
		compare_side(in, &info, cJSON_GetObjectItemCaseSensitive(sig, "inputs"), "inputs",
			     info.inputs, info.ninputs);
		compare_side(in, &info, cJSON_GetObjectItemCaseSensitive(sig, "outputs"), "outputs",
			     info.outputs, info.noutputs);
	}
	mlctl_onnx_release(&info);
}
