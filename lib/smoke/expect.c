/*
 * expect.c - `smoke --update-expect`: write the outputs of a run into
 * the cases file as each case's "expect", and change nothing else: the
 * other keys, their order and spacing, comments, blank lines and line ends
 * stay byte for byte, so the diff a reviewer reads is the new expectations.
 * Numbers are written in the shortest form that reads back as the same
 * double; a case whose output is float32 (or float16, bfloat16) and that has
 * no tolerance gets one that fits the type, since the default (abs 1e-9)
 * would fail on the next machine's rounding.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smoke.h"
#include "banned.h"

#define CASES_MAX (64u * 1024 * 1024)

/* ---------------------------------------------------------------- writing JSON */

void mlctl_json_number(struct mlctl_buf *b, double d)
{
	char text[32];
	int digits;

	/* whole numbers as such: 100, not 1e+02 (a label stays an integer to a JSON reader) */
	if (d > -1e17 && d < 1e17 && d == (double)(long long)d) {
		snprintf(text, sizeof(text), "%.0f", d);
		mlctl_buf_puts(b, text);
		return;
	}
	/* %.17g always reads back; the first shorter one that does is the one to write */
	for (digits = 1; digits <= 17; digits++) {
		snprintf(text, sizeof(text), "%.*g", digits, d);
		if (strtod(text, NULL) == d)
			break;
	}
	mlctl_buf_puts(b, text);
}

/* v as JSON on one line; sep ", " and colon ": " when spaced, else "," and ":". */
static void put_json(struct mlctl_buf *b, const cJSON *v, int spaced)
{
	const cJSON *c;

	if (cJSON_IsNumber(v)) {
		mlctl_json_number(b, v->valuedouble);
	} else if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
		mlctl_buf_puts(b, cJSON_IsArray(v) ? "[" : "{");
		cJSON_ArrayForEach(c, v) {
			if (c != v->child)
				mlctl_buf_puts(b, spaced ? ", " : ",");
			if (cJSON_IsObject(v)) {
				cJSON *key = cJSON_CreateString(c->string);
				char *k = cJSON_PrintUnformatted(key);

				mlctl_buf_printf(b, "%s%s", k, spaced ? ": " : ":");
				cJSON_free(k);
				cJSON_Delete(key);
			}
			put_json(b, c, spaced);
		}
		mlctl_buf_puts(b, cJSON_IsArray(v) ? "]" : "}");
	} else {
		char *s = cJSON_PrintUnformatted(v); /* strings, booleans, null */

		mlctl_buf_puts(b, s ? s : "null");
		cJSON_free(s);
	}
}

/* ---------------------------------------------------------------- reading a case line */

/* Where a member of the line's top-level object is: [key, value_end), its value from value. */
struct member {
	size_t key, value, value_end;
	char *name; /* the key, unescaped */
};

static size_t skip_ws(const char *s, size_t i)
{
	while (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')
		i++;
	return i;
}

static size_t skip_string(const char *s, size_t i)
{
	for (i++; s[i] && s[i] != '"'; i++)
		if (s[i] == '\\' && s[i + 1])
			i++;
	return s[i] ? i + 1 : i;
}

static size_t skip_value(const char *s, size_t i)
{
	int depth = 0;

	if (s[i] == '"')
		return skip_string(s, i);
	if (s[i] != '{' && s[i] != '[') {
		while (s[i] && !strchr(",}] \t\r\n", s[i]))
			i++;
		return i;
	}
	while (s[i]) {
		if (s[i] == '"') {
			i = skip_string(s, i);
			continue;
		}
		if (s[i] == '{' || s[i] == '[')
			depth++;
		else if ((s[i] == '}' || s[i] == ']') && --depth == 0)
			return i + 1;
		i++;
	}
	return i;
}

/*
 * The members of the object on a line that cJSON has parsed (so it is well
 * formed); up to max of them. Returns how many.
 */
static size_t scan_members(const char *s, struct member *m, size_t max)
{
	size_t i = skip_ws(s, 0), n = 0;

	if (s[i] != '{')
		return 0;
	for (i = skip_ws(s, i + 1); s[i] == '"' && n < max; n++) {
		size_t key = i, end = skip_string(s, i);
		cJSON *k = cJSON_ParseWithLength(s + key, end - key);

		m[n].key = key;
		m[n].name = mlctl_strdup(cJSON_IsString(k) ? k->valuestring : "");
		cJSON_Delete(k);
		i = skip_ws(s, end);
		if (s[i] == ':')
			i = skip_ws(s, i + 1);
		m[n].value = i;
		m[n].value_end = skip_value(s, i);
		i = skip_ws(s, m[n].value_end);
		if (s[i] == ',')
			i = skip_ws(s, i + 1);
	}
	return n;
}

static const struct member *find_member(const struct member *m, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(m[i].name, name))
			return &m[i];
	return NULL;
}

/* ---------------------------------------------------------------- tolerance */

/*
 * rel for outputs of a low-precision type: about 80 units in the last place
 * of float32 (eps 1.2e-7), room for another BLAS, thread count or SIMD
 * width summing in another order; abs is rel / 10 times the largest
 * magnitude in the output, for values near zero. 0 for other types.
 */
static double dtype_rel(const char *dtype)
{
	if (!dtype)
		return 0;
	if (!strcmp(dtype, "float32"))
		return 1e-5;
	if (!strcmp(dtype, "float16"))
		return 1e-2;
	if (!strcmp(dtype, "bfloat16"))
		return 5e-2;
	return 0;
}

static void largest(const cJSON *v, double *top)
{
	const cJSON *c;

	if (cJSON_IsNumber(v) && fabs(v->valuedouble) > *top)
		*top = fabs(v->valuedouble);
	cJSON_ArrayForEach(c, v) largest(c, top);
}

/*
 * The dtype of output member name: the case's expect_dtype, else the
 * signature's output of that name. NULL name: of the whole output (an
 * expect_dtype string; or, for an output that is not an object, the
 * signature's only output).
 */
static const char *dtype_of(const cJSON *case_json, const cJSON *manifest, const cJSON *out,
			    const char *name)
{
	const cJSON *ed = cJSON_GetObjectItemCaseSensitive(case_json, "expect_dtype");
	const cJSON *outs = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(manifest, "signature"), "outputs");
	const cJSON *t, *d;

	if (!name) {
		if (cJSON_IsString(ed))
			return ed->valuestring;
		if (cJSON_IsObject(out) || cJSON_GetArraySize(outs) != 1)
			return NULL;
		d = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(outs, 0), "dtype");
		return cJSON_IsString(d) ? d->valuestring : NULL;
	}
	if (cJSON_IsString(d = cJSON_GetObjectItemCaseSensitive(ed, name)))
		return d->valuestring;
	cJSON_ArrayForEach(t, outs) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(t, "name");

		d = cJSON_GetObjectItemCaseSensitive(t, "dtype");
		if (cJSON_IsString(n) && !strcmp(n->valuestring, name) && cJSON_IsString(d))
			return d->valuestring;
	}
	return NULL;
}

/* Loosen *abs_tol and *rel_tol to fit v, of dtype. */
static void fit(const cJSON *v, const char *dtype, double *abs_tol, double *rel_tol)
{
	double rel = dtype_rel(dtype), top = 0;

	if (rel <= 0)
		return;
	largest(v, &top);
	if (rel > *rel_tol)
		*rel_tol = rel;
	if (rel / 10 * (top > 0 ? top : 1) > *abs_tol)
		*abs_tol = rel / 10 * (top > 0 ? top : 1);
}

/* x > 0 rounded up to one significant digit: 9.8e-07 reads better as 1e-06. */
static double round_up(double x)
{
	char t[32];
	int digit, exp10;
	double y;

	snprintf(t, sizeof(t), "%.0e", x);
	if (sscanf(t, "%de%d", &digit, &exp10) != 2)
		return x;
	y = strtod(t, NULL);
	if (y < x * (1 - 1e-9)) {
		if (++digit == 10) {
			digit = 1;
			exp10++;
		}
		snprintf(t, sizeof(t), "%de%d", digit, exp10);
		y = strtod(t, NULL);
	}
	return y;
}

/*
 * A tolerance fitting the output's precision: 1, with *abs_tol and
 * *rel_tol, the loosest its low-precision parts need; 0 when every part is
 * exact enough for the default.
 */
static int fitting_tolerance(const cJSON *out, const cJSON *case_json, const cJSON *manifest,
			     double *abs_tol, double *rel_tol)
{
	const char *whole = dtype_of(case_json, manifest, out, NULL);
	const cJSON *c;

	*abs_tol = *rel_tol = 0;
	if (whole)
		fit(out, whole, abs_tol, rel_tol);
	else if (cJSON_IsObject(out))
		cJSON_ArrayForEach(c, out) fit(c, dtype_of(case_json, manifest, out, c->string),
					       abs_tol, rel_tol);
	if (*rel_tol <= 0)
		return 0;
	*abs_tol = round_up(*abs_tol);
	return 1;
}

/* ---------------------------------------------------------------- the file */

/* The line s (a case) with expect set to out, and a tolerance when it needs one. */
static void rewrite_case(struct mlctl_buf *b, const char *s, const cJSON *case_json,
			 const cJSON *out, const cJSON *manifest)
{
	struct member m[64];
	size_t n = scan_members(s, m, MLCTL_ARRAY_SIZE(m)), i, at;
	const struct member *expect = find_member(m, n, "expect");
	const struct member *input = find_member(m, n, "input");
	/* the line's own style: "key": value, or "key":value */
	int spaced = n > 0 && s[m[0].value - 1] == ' ';
	const char *sep = spaced ? ", " : ",", *colon = spaced ? ": " : ":";
	double abs_tol, rel_tol;

	if (!n) {
		mlctl_buf_puts(b, s);
		return;
	}
	if (expect) {
		mlctl_buf_add(b, s, expect->value);
		put_json(b, out, spaced);
		at = expect->value_end;
	} else {
		/* after the input, where a reader looks for it */
		at = input ? input->value_end : m[n - 1].value_end;
		mlctl_buf_add(b, s, at);
		mlctl_buf_printf(b, "%s\"expect\"%s", sep, colon);
		put_json(b, out, spaced);
	}
	if (!find_member(m, n, "tolerance") &&
	    fitting_tolerance(out, case_json, manifest, &abs_tol, &rel_tol)) {
		/* right after the expectation it loosens */
		mlctl_buf_printf(b, "%s\"tolerance\"%s{\"abs\"%s", sep, colon, colon);
		mlctl_json_number(b, abs_tol);
		mlctl_buf_printf(b, "%s\"rel\"%s", sep, colon);
		mlctl_json_number(b, rel_tol);
		mlctl_buf_puts(b, "}");
	}
	mlctl_buf_puts(b, s + at);
	for (i = 0; i < n; i++)
		free(m[i].name);
}

int mlctl_smoke_update_expect(const struct mlctl_smoke_result *res, const cJSON *manifest,
			      const char *cases_path, size_t *updated, struct mlctl_err *err)
{
	struct mlctl_buf text = MLCTL_BUF_INIT, out = MLCTL_BUF_INIT;
	char *p, *nl;
	size_t k = 0;
	int rc;

	*updated = 0;
	if ((rc = mlctl_read_file(&text, cases_path, CASES_MAX, err)))
		return rc;
	mlctl_buf_puts(&out, "");
	for (p = text.buf; p && *p; p = nl ? nl + 1 : NULL) {
		const char *q = p;
		const cJSON *ee;
		cJSON *j;

		nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		while (*q == ' ' || *q == '\t' || *q == '\r')
			q++;
		if (!*q || *q == '#' || !(j = cJSON_Parse(q))) {
			mlctl_buf_puts(&out, p); /* kept as it is */
		} else {
			/* the k-th case of the file is the k-th case of the run */
			ee = cJSON_GetObjectItemCaseSensitive(j, "expect_error");
			if (k < res->ncases && res->cases[k].output && !cJSON_IsTrue(ee) &&
			    !cJSON_IsString(ee) && cJSON_IsObject(j)) {
				rewrite_case(&out, p, j, res->cases[k].output, manifest);
				(*updated)++;
			} else {
				mlctl_buf_puts(&out, p);
			}
			cJSON_Delete(j);
			k++;
		}
		if (nl)
			mlctl_buf_puts(&out, "\n");
	}
	rc = mlctl_write_file_atomic(cases_path, out.buf, out.len, 0644, err);
	mlctl_buf_release(&text);
	mlctl_buf_release(&out);
	return rc;
}
