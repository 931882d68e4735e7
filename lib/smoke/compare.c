/*
 * compare.c - compare answers with expectations: tolerances, shapes, dtypes, the signature; percentiles; drift between two runs.
 */
#define _GNU_SOURCE
#include "smoke/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

int smk_dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double mlctl_percentile(const double *sorted, size_t n, double p)
{
	double rank, frac;
	size_t lo;

	if (n == 0)
		return 0;
	rank = p / 100.0 * (double)(n - 1);
	lo = (size_t)rank;
	if (lo + 1 >= n)
		return sorted[n - 1];
	frac = rank - (double)lo;
	return sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]);
}

static const char *json_kind(const cJSON *j)
{
	return cJSON_IsNumber(j) ? "a number" : cJSON_IsString(j) ? "a string" :
	       cJSON_IsBool(j) ? "a boolean" : cJSON_IsNull(j) ? "null" :
	       cJSON_IsArray(j) ? "an array" : cJSON_IsObject(j) ? "an object" : "nothing";
}

int mlctl_json_close(const cJSON *got, const cJSON *want, double abs_tol, double rel_tol,
		     const char *path, struct mlctl_buf *diff)
{
	const cJSON *w, *g;
	char *sub;
	int i, n, ok;

	if (cJSON_IsNumber(want)) {
		double tol = abs_tol + rel_tol * fabs(want->valuedouble);

		if (cJSON_IsNumber(got) && fabs(got->valuedouble - want->valuedouble) <= tol)
			return 1;
		if (cJSON_IsNumber(got))
			mlctl_buf_printf(diff, "%s: got %.10g, want %.10g ± %.3g", path,
					 got->valuedouble, want->valuedouble, tol);
		else
			mlctl_buf_printf(diff, "%s: got %s, want %.10g", path, json_kind(got),
					 want->valuedouble);
		return 0;
	}
	if (cJSON_IsArray(want)) {
		if (!cJSON_IsArray(got)) {
			mlctl_buf_printf(diff, "%s: got %s, want an array", path, json_kind(got));
			return 0;
		}
		n = cJSON_GetArraySize(want);
		if (cJSON_GetArraySize(got) != n) {
			mlctl_buf_printf(diff, "%s: got %d elements, want %d", path,
					 cJSON_GetArraySize(got), n);
			return 0;
		}
		for (i = 0, w = want->child, g = got->child; w && g; w = w->next, g = g->next, i++) {
			sub = mlctl_aprintf("%s[%d]", path, i);
			ok = mlctl_json_close(g, w, abs_tol, rel_tol, sub, diff);
			free(sub);
			if (!ok)
				return 0;
		}
		return 1;
	}
	if (cJSON_IsObject(want)) {
		if (!cJSON_IsObject(got)) {
			mlctl_buf_printf(diff, "%s: got %s, want an object", path, json_kind(got));
			return 0;
		}
		cJSON_ArrayForEach(w, want) {
			g = cJSON_GetObjectItemCaseSensitive(got, w->string);
			sub = mlctl_aprintf("%s.%s", path, w->string);
			if (!g) {
				mlctl_buf_printf(diff, "%s: missing", sub);
				free(sub);
				return 0;
			}
			ok = mlctl_json_close(g, w, abs_tol, rel_tol, sub, diff);
			free(sub);
			if (!ok)
				return 0;
		}
		return 1;
	}
	if (cJSON_Compare(got, want, 1))
		return 1;
	{
		char *gs = cJSON_PrintUnformatted(got), *ws = cJSON_PrintUnformatted(want);

		mlctl_buf_printf(diff, "%s: got %.80s, want %.80s", path, gs ? gs : "nothing",
				 ws ? ws : "?");
		cJSON_free(gs);
		cJSON_free(ws);
	}
	return 0;
}

/* Shape of a nested array ([] for a scalar); -1 in shape[0] when ragged. */
static int shape_of(const cJSON *v, long long *dims, int max)
{
	int rank = 0, sub;
	long long inner[16];
	const cJSON *c;

	while (cJSON_IsArray(v) && rank < max) {
		dims[rank++] = cJSON_GetArraySize(v);
		if (!v->child)
			break;
		/* every element must have the first one's shape */
		sub = shape_of(v->child, inner, 16);
		for (c = v->child->next; c; c = c->next) {
			long long other[16];

			if (shape_of(c, other, 16) != sub || memcmp(inner, other, (size_t)sub * sizeof(long long)))
				return -1;
		}
		v = v->child;
	}
	return rank;
}

static void shape_text(struct mlctl_buf *b, const long long *dims, int rank)
{
	int i;

	mlctl_buf_puts(b, "[");
	for (i = 0; i < rank; i++)
		mlctl_buf_printf(b, "%s%lld", i ? ", " : "", dims[i]);
	mlctl_buf_puts(b, "]");
}

/* 1 when v's shape fits want (an array of ints, -1 for any). */
static int check_shape(const cJSON *v, const cJSON *want, const char *what,
		       struct mlctl_buf *diff)
{
	long long dims[16];
	int rank = shape_of(v, dims, 16), i = 0;
	const cJSON *d;

	if (rank < 0) {
		mlctl_buf_printf(diff, "%s: the arrays are ragged, so it has no shape", what);
		return 0;
	}
	if (cJSON_GetArraySize(want) == rank) {
		int ok = 1;

		cJSON_ArrayForEach(d, want) {
			if (d->valuedouble >= 0 && (long long)d->valuedouble != dims[i])
				ok = 0;
			i++;
		}
		if (ok)
			return 1;
	}
	mlctl_buf_printf(diff, "%s: shape ", what);
	shape_text(diff, dims, rank);
	{
		char *w = cJSON_PrintUnformatted(want);

		mlctl_buf_printf(diff, ", want %s", w ? w : "?");
		cJSON_free(w);
	}
	return 0;
}

/* Every leaf of v fits dtype: float*, int*, uint*, bool, string. */
static int leaves_fit(const cJSON *v, const char *dtype)
{
	const cJSON *c;

	if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
		cJSON_ArrayForEach(c, v) if (!leaves_fit(c, dtype)) return 0;
		return 1;
	}
	if (!strncmp(dtype, "float", 5) || !strncmp(dtype, "bfloat", 6))
		return cJSON_IsNumber(v);
	if (!strncmp(dtype, "int", 3))
		return cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble);
	if (!strncmp(dtype, "uint", 4))
		return cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) &&
		       v->valuedouble >= 0;
	if (!strcmp(dtype, "bool"))
		return cJSON_IsBool(v);
	if (!strcmp(dtype, "string"))
		return cJSON_IsString(v);
	return 1;
}

static int check_dtype(const cJSON *v, const char *dtype, const char *what,
		       struct mlctl_buf *diff)
{
	if (leaves_fit(v, dtype))
		return 1;
	mlctl_buf_printf(diff, "%s: values are not all %s", what, dtype);
	return 0;
}

/* expect_shape / expect_dtype: one value for the whole output, or an object by output name. */
int smk_check_spec(const cJSON *output, const cJSON *spec, int is_shape,
		   struct mlctl_buf *diff)
{
	const cJSON *s;

	if (!spec)
		return 1;
	if (cJSON_IsObject(spec)) {
		cJSON_ArrayForEach(s, spec) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(output, s->string);
			char *what = mlctl_aprintf("output.%s", s->string);
			int ok;

			if (!v) {
				mlctl_buf_printf(diff, "%s: missing", what);
				free(what);
				return 0;
			}
			ok = is_shape ? check_shape(v, s, what, diff)
				      : check_dtype(v, cJSON_IsString(s) ? s->valuestring : "", what, diff);
			free(what);
			if (!ok)
				return 0;
		}
		return 1;
	}
	return is_shape ? check_shape(output, spec, "output", diff)
			: check_dtype(output, cJSON_IsString(spec) ? spec->valuestring : "", "output",
				      diff);
}

/* The manifest's signature outputs, where the answer names them. */
int smk_check_signature(const cJSON *output, const cJSON *manifest, struct mlctl_buf *diff)
{
	const cJSON *outs = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(manifest, "signature"), "outputs");
	const cJSON *t;

	if (!cJSON_IsObject(output))
		return 1;
	cJSON_ArrayForEach(t, outs) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(t, "name");
		const cJSON *shape = cJSON_GetObjectItemCaseSensitive(t, "shape");
		const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(t, "dtype");
		const cJSON *v;
		char *what;
		int ok = 1;

		if (!cJSON_IsString(name) ||
		    !(v = cJSON_GetObjectItemCaseSensitive(output, name->valuestring)))
			continue;
		what = mlctl_aprintf("output.%s (signature)", name->valuestring);
		if (cJSON_IsArray(shape))
			ok = check_shape(v, shape, what, diff);
		if (ok && cJSON_IsString(dtype))
			ok = check_dtype(v, dtype->valuestring, what, diff);
		free(what);
		if (!ok)
			return 0;
	}
	return 1;
}

static int all_floats(const cJSON *arr)
{
	const cJSON *c;
	int any = 0;

	cJSON_ArrayForEach(c, arr) {
		if (!cJSON_IsNumber(c))
			return 0;
		if (c->valuedouble != floor(c->valuedouble))
			any = 1;
	}
	return any;
}

static int argmax(const cJSON *arr)
{
	const cJSON *c;
	int i = 0, best = 0;
	double top = -INFINITY;

	cJSON_ArrayForEach(c, arr) {
		if (c->valuedouble > top) {
			top = c->valuedouble;
			best = i;
		}
		i++;
	}
	return best;
}

int mlctl_output_drift(const cJSON *a, const cJSON *b, double *max_abs, size_t *agree,
		       size_t *total)
{
	const cJSON *x, *y;

	if (cJSON_IsNumber(a) && cJSON_IsNumber(b)) {
		double d = fabs(a->valuedouble - b->valuedouble);

		if (d > *max_abs)
			*max_abs = d;
		if (a->valuedouble == floor(a->valuedouble) &&
		    b->valuedouble == floor(b->valuedouble)) {
			(*total)++; /* whole numbers are labels */
			*agree += a->valuedouble == b->valuedouble;
		}
		return 0;
	}
	if (cJSON_IsArray(a) && cJSON_IsArray(b)) {
		if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
			return -1;
		if (all_floats(a) && all_floats(b)) {
			/* a vector of scores: its argmax is the label it stands for */
			(*total)++;
			*agree += argmax(a) == argmax(b);
		}
		for (x = a->child, y = b->child; x && y; x = x->next, y = y->next)
			if (mlctl_output_drift(x, y, max_abs, agree, total) < 0)
				return -1;
		return 0;
	}
	if (cJSON_IsObject(a) && cJSON_IsObject(b)) {
		cJSON_ArrayForEach(x, a) {
			y = cJSON_GetObjectItemCaseSensitive(b, x->string);
			if (!y || mlctl_output_drift(x, y, max_abs, agree, total) < 0)
				return -1;
		}
		return 0;
	}
	if ((cJSON_IsString(a) && cJSON_IsString(b)) || (cJSON_IsBool(a) && cJSON_IsBool(b))) {
		(*total)++;
		*agree += cJSON_Compare(a, b, 1);
		return 0;
	}
	return cJSON_Compare(a, b, 1) ? 0 : -1;
}
