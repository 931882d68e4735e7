/*
 * ref.c - model names, semantic versions and references (NAME,
 * NAME:VERSION, NAME:ALIAS, NAME@sha256:...): parsed, compared and checked
 * against what git can hold as a tag.
 */
#define _GNU_SOURCE
#include "manifest.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "gitstore.h"
#include "banned.h"

static int name_char_ok(char c, int legacy)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
	       (legacy && c == '.');
}

/* [a-z0-9]([a-z0-9_-]*[a-z0-9])?, or legacy: [a-z0-9][a-z0-9._-]* (older mlctl) */
static int name_part_ok(const char *s, size_t n, int legacy)
{
	size_t i;

	if (n == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return 0;
	for (i = 1; i < n; i++)
		if (!name_char_ok(s[i], legacy))
			return 0;
	return legacy || (s[n - 1] != '_' && s[n - 1] != '-');
}

static int name_ok(const char *name, int legacy)
{
	size_t n = strlen(name);
	const char *slash = strchr(name, '/');

	if (n == 0 || n > MLCTL_NAME_MAX)
		return 0;
	if (!slash)
		return name_part_ok(name, n, legacy);
	if (strchr(slash + 1, '/'))
		return 0;
	return name_part_ok(name, (size_t)(slash - name), legacy) &&
	       name_part_ok(slash + 1, n - (size_t)(slash - name) - 1, legacy);
}

int mlctl_name_is_valid(const char *name)
{
	return name_ok(name, 0);
}

int mlctl_name_is_readable(const char *name)
{
	return name_ok(name, 1);
}

/* ---------------------------------------------------------------- semver */

static int parse_num(uint64_t *out, const char **p)
{
	const char *s = *p;
	uint64_t v = 0;

	if (!isdigit((unsigned char)*s))
		return -1;
	if (s[0] == '0' && isdigit((unsigned char)s[1]))
		return -1; /* leading zero */
	while (isdigit((unsigned char)*s)) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
		s++;
	}
	*out = v;
	*p = s;
	return 0;
}

/* dot-separated identifiers of [0-9A-Za-z-]; numeric ones without leading zeros if pre */
static int idents_ok(const char *s, size_t n, int pre)
{
	size_t i = 0, start;

	if (n == 0)
		return 0;
	while (i <= n) {
		int numeric = 1;

		start = i;
		while (i < n && s[i] != '.') {
			char c = s[i];

			if (!isalnum((unsigned char)c) && c != '-')
				return 0;
			if (!isdigit((unsigned char)c))
				numeric = 0;
			i++;
		}
		if (i == start)
			return 0;
		if (pre && numeric && s[start] == '0' && i - start > 1)
			return 0;
		i++;
	}
	return 1;
}

int mlctl_semver_parse(struct mlctl_semver *out, const char *s, struct mlctl_err *err)
{
	const char *p = s, *pre = NULL, *build = NULL;
	size_t npre = 0, nbuild = 0;

	memset(out, 0, sizeof(*out));
	if (parse_num(&out->major, &p) || *p++ != '.' || parse_num(&out->minor, &p) ||
	    *p++ != '.' || parse_num(&out->patch, &p))
		goto bad;
	if (*p == '-') {
		pre = ++p;
		while (*p && *p != '+')
			p++;
		npre = (size_t)(p - pre);
		if (!idents_ok(pre, npre, 1) || npre >= sizeof(out->pre))
			goto bad;
		memcpy(out->pre, pre, npre);
	}
	if (*p == '+') {
		build = ++p;
		nbuild = strlen(build);
		if (!idents_ok(build, nbuild, 0) || nbuild >= sizeof(out->build))
			goto bad;
		memcpy(out->build, build, nbuild);
		p += nbuild;
	}
	if (*p)
		goto bad;
	return 0;
bad:
	return mlctl_err_set(err, MLCTL_EUSAGE,
			     "'%s' is not a semantic version; use MAJOR.MINOR.PATCH such as 1.0.0 "
			     "or 2.0.0-rc.1",
			     s);
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

static int ident_is_num(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return n > 0;
}

static int cmp_pre(const char *a, const char *b)
{
	if (!*a && !*b)
		return 0;
	if (!*a)
		return 1; /* a release ranks above any prerelease */
	if (!*b)
		return -1;
	for (;;) {
		size_t na = strcspn(a, "."), nb = strcspn(b, ".");
		int an = ident_is_num(a, na), bn = ident_is_num(b, nb), c;

		if (an && bn) {
			c = na != nb ? (na < nb ? -1 : 1) : memcmp(a, b, na);
		} else if (an) {
			c = -1;
		} else if (bn) {
			c = 1;
		} else {
			c = memcmp(a, b, na < nb ? na : nb);
			if (!c)
				c = na < nb ? -1 : na > nb;
		}
		if (c)
			return c < 0 ? -1 : 1;
		a += na;
		b += nb;
		if (!*a && !*b)
			return 0;
		if (!*a)
			return -1;
		if (!*b)
			return 1;
		a++;
		b++;
	}
}

int mlctl_semver_cmp(const struct mlctl_semver *a, const struct mlctl_semver *b)
{
	int c = cmp_u64(a->major, b->major);

	if (!c)
		c = cmp_u64(a->minor, b->minor);
	if (!c)
		c = cmp_u64(a->patch, b->patch);
	if (!c)
		c = cmp_pre(a->pre, b->pre);
	return c;
}

int mlctl_semver_cmp_str(const char *a, const char *b)
{
	struct mlctl_semver va, vb;
	int oka = mlctl_semver_parse(&va, a, NULL) == 0;
	int okb = mlctl_semver_parse(&vb, b, NULL) == 0;

	if (!oka || !okb)
		return oka - okb;
	return mlctl_semver_cmp(&va, &vb);
}

int mlctl_semver_bump(char **out, const char *from, const char *part, struct mlctl_err *err)
{
	struct mlctl_semver v;
	int rc;

	*out = NULL;
	if (strcmp(part, "major") && strcmp(part, "minor") && strcmp(part, "patch"))
		return mlctl_err_set(err, MLCTL_EUSAGE,
				     "cannot bump '%s'; use major, minor or patch", part);
	if (!from) {
		*out = mlctl_strdup(!strcmp(part, "major") ? "1.0.0" :
				    !strcmp(part, "minor") ? "0.1.0" : "0.0.1");
		return 0;
	}
	if ((rc = mlctl_semver_parse(&v, from, err)))
		return rc;
	if (!strcmp(part, "major")) {
		v.major++;
		v.minor = v.patch = 0;
	} else if (!strcmp(part, "minor")) {
		v.minor++;
		v.patch = 0;
	} else if (!v.pre[0]) {
		v.patch++;
	}
	/* a prerelease bumps to its release for patch (1.0.1-rc.1 -> 1.0.1) */
	*out = mlctl_aprintf("%llu.%llu.%llu", (unsigned long long)v.major,
			     (unsigned long long)v.minor, (unsigned long long)v.patch);
	return 0;
}

/* ---------------------------------------------------------------- refs */

static int alias_char_ok(char c, int legacy)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
	       (legacy && ((c >= 'A' && c <= 'Z') || c == '.'));
}

/*
 * GTO's stage names: a lowercase letter (so an alias never reads as a
 * version), then lowercase letters, digits, '_', '-', ending in a letter or
 * digit. legacy: what older mlctl took too, capitals and '.'.
 */
static int alias_ok(const char *alias, int legacy)
{
	size_t n = strlen(alias), i;
	char last = n ? alias[n - 1] : 0;

	if (n == 0 || n > 64 || !isalpha((unsigned char)alias[0]) ||
	    !alias_char_ok(alias[0], legacy))
		return 0;
	for (i = 1; i < n; i++)
		if (!alias_char_ok(alias[i], legacy))
			return 0;
	return legacy || (last != '_' && last != '-');
}

int mlctl_alias_check(const char *alias, struct mlctl_err *err)
{
	if (alias_ok(alias, 0))
		return 0;
	return mlctl_err_set(err, MLCTL_EUSAGE,
			     "alias '%.100s' is not valid; an alias starts with a lowercase letter, "
			     "holds only lowercase letters, digits, '_' and '-' (no dots), ends in a "
			     "letter or digit and has at most 64 characters, such as 'production'",
			     alias);
}

int mlctl_alias_is_readable(const char *alias)
{
	return alias_ok(alias, 1);
}

char *mlctl_version_tag(const char *name, const char *version)
{
	return mlctl_aprintf("%s@v%s", name, version);
}

char *mlctl_alias_tag(const char *name, const char *alias, int removed, int64_t n)
{
	return mlctl_aprintf("%s#%s%s#%lld", name, alias, removed ? "!" : "", (long long)n);
}

char *mlctl_deprecate_tag(const char *name, const char *version, int64_t n)
{
	if (version)
		return mlctl_aprintf("%s@v%s!#%lld", name, version, (long long)n);
	return mlctl_aprintf("%s@deprecated#%lld", name, (long long)n);
}

int mlctl_is_event_tag(const char *tag)
{
	size_t n = strlen(tag);

	return strstr(tag, "@v") || strchr(tag, '#') ||
	       (n > 11 && !strcmp(tag + n - 11, "@deprecated"));
}

const char *mlctl_tag_problem(const char *tag)
{
	size_t n = strlen(tag);
	const char *p;

	if (mlctl_git_tag_name_is_valid(tag))
		return NULL;
	for (p = tag; (p = strstr(p, ".lock")); p++)
		if (p + 5 == tag + n || p[5] == '/')
			return "git refuses a reference name with a part ending in '.lock'";
	if (strstr(tag, ".."))
		return "git refuses '..' in a reference name";
	if (strstr(tag, "/.") || tag[0] == '.')
		return "git refuses a part of a reference name starting with '.'";
	return "git cannot hold it as a reference name";
}

int mlctl_alias_tags_check(const char *name, const char *alias, struct mlctl_err *err)
{
	char *set = mlctl_alias_tag(name, alias, 0, 1), *rm = mlctl_alias_tag(name, alias, 1, 1);
	const char *why = mlctl_tag_problem(set);
	int rc = 0;

	if (!why)
		why = mlctl_tag_problem(rm);
	if (why)
		rc = mlctl_err_set(err, MLCTL_EUSAGE,
				   "alias '%.100s' of '%s' cannot be a git tag ('%s'): %s; choose "
				   "another alias",
				   alias, name, set, why);
	free(set);
	free(rm);
	return rc;
}

/* Lowercase hex digits at the start of s: how many. */
static size_t hex_run(const char *s)
{
	size_t n = 0;

	while ((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f'))
		n++;
	return n;
}

/* "sha256:" and 12 to 64 lowercase hex digits, the whole of d, into out->digest. */
static int digest_parse(struct mlctl_ref *out, const char *d, const char *s,
			struct mlctl_err *err)
{
	size_t n;

	if (strncmp(d, "sha256:", 7) || (n = hex_run(d + 7)) > 64 || d[7 + n])
		return mlctl_err_set(err, MLCTL_EUSAGE,
				     "'%s' has a malformed digest; use NAME@sha256:<hex>, with "
				     "%d to 64 lowercase hex digits",
				     s, MLCTL_DIGEST_PREFIX_MIN);
	if (n < MLCTL_DIGEST_PREFIX_MIN)
		return mlctl_err_set(err, MLCTL_EUSAGE,
				     "digest '%s'%s%s%s is too short: give at least %d of its hex "
				     "digits (see 'mlctl versions NAME')",
				     d, d == s ? "" : " in '", d == s ? "" : s, d == s ? "" : "'",
				     MLCTL_DIGEST_PREFIX_MIN);
	out->kind = MLCTL_REF_DIGEST;
	snprintf(out->digest, sizeof(out->digest), "%s", d);
	return 0;
}

int mlctl_ref_parse(struct mlctl_ref *out, const char *s, struct mlctl_err *err)
{
	const char *at = strchr(s, '@'), *colon;
	size_t nname;

	memset(out, 0, sizeof(*out));
	if (!at && !strncmp(s, "sha256:", 7) && s[7] && !s[7 + hex_run(s + 7)])
		/* a bare digest: the version it names, whatever its model */
		return digest_parse(out, s, s, err);
	if (at) {
		nname = (size_t)(at - s);
		if (digest_parse(out, at + 1, s, err))
			return MLCTL_EUSAGE;
	} else if ((colon = strrchr(s, ':'))) {
		const char *tag = colon + 1;

		nname = (size_t)(colon - s);
		if (!*tag || strlen(tag) >= sizeof(out->tag))
			return mlctl_err_set(err, MLCTL_EUSAGE,
					     "'%s' has an empty or too long tag; use NAME:VERSION "
					     "or NAME:ALIAS",
					     s);
		if (isdigit((unsigned char)tag[0])) {
			struct mlctl_semver v;

			if (mlctl_semver_parse(&v, tag, err))
				return MLCTL_EUSAGE;
			out->kind = MLCTL_REF_VERSION;
		} else if (isalpha((unsigned char)tag[0])) {
			/* aliases an older mlctl made (with dots) are still read */
			if (!alias_ok(tag, 1) && mlctl_alias_check(tag, err))
				return MLCTL_EUSAGE;
			out->kind = MLCTL_REF_ALIAS;
		} else {
			return mlctl_err_set(err, MLCTL_EUSAGE,
					     "'%s': a tag starts with a digit (version) or a "
					     "letter (alias)",
					     s);
		}
		memcpy(out->tag, tag, strlen(tag) + 1);
	} else {
		nname = strlen(s);
		out->kind = MLCTL_REF_LATEST;
	}
	if (nname == 0 || nname > MLCTL_NAME_MAX)
		goto badname;
	memcpy(out->name, s, nname);
	out->name[nname] = '\0';
	if (!mlctl_name_is_readable(out->name))
		goto badname;
	return 0;
badname:
	return mlctl_err_set(err, MLCTL_EUSAGE,
			     "'%.*s' is not a model name; " MLCTL_NAME_RULE,
			     (int)(nname > 200 ? 200 : nname), s);
}
