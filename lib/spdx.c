/*
 * spdx.c - SPDX licence identifiers and expressions ("MIT",
 * "Apache-2.0 WITH LLVM-exception", "(MIT OR Apache-2.0) AND BSD-3-Clause"),
 * checked against the SPDX project's lists, built in at compile time.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "manifest.h"
#include "gen/spdx_ids.h"
#include "banned.h"

static int cmp(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

static int in_list(const char *id, const char *const *list, size_t n)
{
	char low[128];
	size_t i, len = strlen(id);

	if (len == 0 || len >= sizeof(low))
		return 0;
	for (i = 0; i <= len; i++)
		low[i] = (char)tolower((unsigned char)id[i]);
	return bsearch(low, list, n, sizeof(*list), cmp) != NULL;
}

static int ref_ok(const char *s, const char *prefix)
{
	size_t n = strlen(prefix), i;

	if (strncmp(s, prefix, n) || !s[n])
		return 0;
	for (i = n; s[i]; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '-')
			return 0;
	return 1;
}

int mlctl_spdx_id_is_known(const char *id)
{
	char base[128];
	size_t n = strlen(id);
	const char *colon;

	if (ref_ok(id, "LicenseRef-"))
		return 1;
	colon = strchr(id, ':');
	if (!strncmp(id, "DocumentRef-", 12) && colon)
		return ref_ok(colon + 1, "LicenseRef-");
	if (n == 0 || n >= sizeof(base))
		return 0;
	memcpy(base, id, n + 1);
	if (base[n - 1] == '+') /* "or later" */
		base[n - 1] = '\0';
	return in_list(base, spdx_licenses, MLCTL_ARRAY_SIZE(spdx_licenses));
}

/* A small recursive-descent parser: expr := term (("AND"|"OR") term)*;
 * term := "(" expr ")" | id ["WITH" exception]. */
struct lexer {
	const char *p;
	char tok[128];
	int depth;
};

static int next(struct lexer *l)
{
	size_t n = 0;

	while (*l->p == ' ' || *l->p == '\t')
		l->p++;
	if (!*l->p) {
		l->tok[0] = '\0';
		return 0;
	}
	if (*l->p == '(' || *l->p == ')') {
		l->tok[0] = *l->p++;
		l->tok[1] = '\0';
		return 1;
	}
	while (*l->p && *l->p != ' ' && *l->p != '\t' && *l->p != '(' && *l->p != ')') {
		if (n + 1 >= sizeof(l->tok))
			return -1;
		l->tok[n++] = *l->p++;
	}
	l->tok[n] = '\0';
	return 1;
}

static int is_op(const char *t, const char *op)
{
	return !strcasecmp(t, op);
}

static int expr(struct lexer *l);

static int term(struct lexer *l)
{
	if (next(l) != 1)
		return 0;
	if (!strcmp(l->tok, "(")) {
		if (++l->depth > 32 || !expr(l) || strcmp(l->tok, ")"))
			return 0;
		l->depth--;
		return next(l) >= 0;
	}
	if (!strcmp(l->tok, ")") || is_op(l->tok, "AND") || is_op(l->tok, "OR") ||
	    is_op(l->tok, "WITH") || !mlctl_spdx_id_is_known(l->tok))
		return 0;
	if (next(l) < 0)
		return 0;
	if (is_op(l->tok, "WITH")) {
		if (next(l) != 1 ||
		    !in_list(l->tok, spdx_exceptions, MLCTL_ARRAY_SIZE(spdx_exceptions)))
			return 0;
		return next(l) >= 0;
	}
	return 1;
}

/* On return, l->tok holds the token after the expression. */
static int expr(struct lexer *l)
{
	if (!term(l))
		return 0;
	while (is_op(l->tok, "AND") || is_op(l->tok, "OR"))
		if (!term(l))
			return 0;
	return 1;
}

int mlctl_spdx_expression_is_valid(const char *s)
{
	struct lexer l = { s, { 0 }, 0 };

	return expr(&l) && l.tok[0] == '\0';
}
