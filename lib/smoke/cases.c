/*
 * cases.c - the cases file: one JSON object per line, each checked before anything runs.
 */
#define _GNU_SOURCE
#include "smoke/internal.h"

#include <stdlib.h>
#include <string.h>

#include "banned.h"

void smk_free_cases(struct tcase *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(c[i].name);
		cJSON_Delete(c[i].json);
		free(c[i].warning);
	}
	free(c);
}

/* A case's keys and their types; a misspelt key would make a case check nothing. */
static int check_case(const cJSON *j, const char *path, size_t line, struct mlctl_err *err)
{
	static const char *const keys[] = { "name", "input", "expect", "tolerance",
					    "expect_shape", "expect_dtype", "expect_error" };
	const cJSON *k, *e = cJSON_GetObjectItemCaseSensitive(j, "expect_error");
	const cJSON *tol = cJSON_GetObjectItemCaseSensitive(j, "tolerance");

	cJSON_ArrayForEach(k, j) if (!mlctl_str_in(k->string, keys, MLCTL_ARRAY_SIZE(keys))) return
		mlctl_err_set(err, MLCTL_EGATE,
			      "%s line %zu: unknown key \"%s\"; a case has name, input, expect, "
			      "tolerance, expect_shape, expect_dtype, expect_error",
			      path, line, k->string);
	if (e && !cJSON_IsBool(e) && !cJSON_IsString(e))
		return mlctl_err_set(err, MLCTL_EGATE,
				     "%s line %zu: expect_error is true, or a text the model's error "
				     "must contain",
				     path, line);
	if (e && cJSON_IsTrue(e) + cJSON_IsString(e) &&
	    cJSON_GetObjectItemCaseSensitive(j, "expect"))
		return mlctl_err_set(err, MLCTL_EGATE,
				     "%s line %zu: a case expects an error or an output, not both",
				     path, line);
	if (tol && !cJSON_IsObject(tol))
		goto bad_tolerance;
	cJSON_ArrayForEach(k, tol) if ((strcmp(k->string, "abs") && strcmp(k->string, "rel")) ||
				       !cJSON_IsNumber(k) || k->valuedouble < 0) goto bad_tolerance;
	return 0;
bad_tolerance:
	return mlctl_err_set(err, MLCTL_EGATE,
			     "%s line %zu: tolerance is {\"abs\": X, \"rel\": Y} with numbers >= 0",
			     path, line);
}

/*
 * A case with no expect, expect_shape, expect_dtype or expect_error passes
 * whatever the model answers, short of an error: say so, or NULL.
 */
static char *checks_nothing(const cJSON *j, const char *name, const char *path, size_t line)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "expect_error");

	if (cJSON_GetObjectItemCaseSensitive(j, "expect") ||
	    cJSON_GetObjectItemCaseSensitive(j, "expect_shape") ||
	    cJSON_GetObjectItemCaseSensitive(j, "expect_dtype") || cJSON_IsTrue(e) ||
	    cJSON_IsString(e))
		return NULL;
	return mlctl_aprintf("%s line %zu: case '%s' checks nothing: it has no expect, "
			     "expect_shape, expect_dtype or expect_error; add one (smoke "
			     "--update-expect writes expect)", path, line, name);
}

int smk_load_cases(struct tcase **out, size_t *n, const char *path, struct mlctl_err *err)
{
	struct mlctl_buf text = MLCTL_BUF_INIT;
	struct tcase *c = NULL;
	size_t cnt = 0, line = 0;
	char *p, *nl;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = mlctl_read_file(&text, path, CASES_MAX, err))) {
		if (rc == MLCTL_ENOTFOUND)
			mlctl_err_set(err, MLCTL_EGATE,
				      "smoke cases '%s' are missing; write one JSON case a line", path);
		mlctl_buf_release(&text);
		return err->code;
	}
	for (p = text.buf; p && *p; p = nl ? nl + 1 : NULL) {
		cJSON *j;
		const cJSON *name;

		nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		line++;
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (!*p || *p == '#')
			continue;
		j = cJSON_Parse(p);
		if (!cJSON_IsObject(j) || !cJSON_GetObjectItemCaseSensitive(j, "input")) {
			cJSON_Delete(j);
			smk_free_cases(c, cnt);
			mlctl_buf_release(&text);
			return mlctl_err_set(err, MLCTL_EGATE,
					     "%s line %zu: not a JSON object with an \"input\"; fix the "
					     "case",
					     path, line);
		}
		if ((rc = check_case(j, path, line, err))) {
			cJSON_Delete(j);
			smk_free_cases(c, cnt);
			mlctl_buf_release(&text);
			return rc;
		}
		name = cJSON_GetObjectItemCaseSensitive(j, "name");
		c = mlctl_realloc(c, (cnt + 1) * sizeof(*c));
		c[cnt].name = cJSON_IsString(name) ? mlctl_strdup(name->valuestring)
						   : mlctl_aprintf("case %zu", cnt + 1);
		c[cnt].json = j;
		c[cnt].warning = checks_nothing(j, c[cnt].name, path, line);
		cnt++;
	}
	mlctl_buf_release(&text);
	if (cnt == 0)
		return mlctl_err_set(err, MLCTL_EGATE, "%s has no cases; add one JSON case a line",
				     path);
	*out = c;
	*n = cnt;
	return 0;
}
