/*
 * name.c - OCI names: a registry location (HOST[:PORT][/NAMESPACE]), the
 * repository a model goes to, and a version as a tag (OCI distribution
 * spec, "pulling manifests": the grammar of <name> and <reference>).
 */
#include "oci/internal.h"

#include <string.h>

#include "banned.h"

static int is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* One path component: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)* */
static int component_ok(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
		return 0;
	while (i < n) {
		if (is_lower_alnum(s[i])) {
			i++;
			continue;
		}
		if (s[i] == '.' || s[i] == '_') {
			size_t run = 0;

			while (i + run < n && s[i + run] == s[i])
				run++;
			if (run > (s[i] == '_' ? 2u : 1u))
				return 0;
			i += run;
		} else if (s[i] == '-') {
			while (i < n && s[i] == '-')
				i++;
		} else {
			return 0;
		}
		if (i >= n || !is_lower_alnum(s[i]))
			return 0;
	}
	return 1;
}

/* Components joined by '/'; "" is fine (no namespace). */
static int path_ok(const char *s)
{
	const char *p = s;

	if (!*s)
		return 1;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);

		if (!component_ok(p, n))
			return 0;
		if (!slash)
			return 1;
		p = slash + 1;
	}
}

static int host_ok(const char *h)
{
	const char *colon;
	size_t i, n;

	if (*h == '[') { /* [IPv6]:port */
		const char *end = strchr(h, ']');

		if (!end || end == h + 1)
			return 0;
		for (i = 1; h + i < end; i++)
			if (!strchr("0123456789abcdefABCDEF:.", h[i]))
				return 0;
		colon = end[1] == ':' ? end + 1 : NULL;
		if (!colon && end[1])
			return 0;
	} else {
		colon = strchr(h, ':');
		n = colon ? (size_t)(colon - h) : strlen(h);
		if (n == 0 || h[0] == '-' || h[0] == '.' || h[n - 1] == '-' || h[n - 1] == '.')
			return 0;
		for (i = 0; i < n; i++) {
			char c = h[i];

			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9') || c == '-' || c == '.'))
				return 0;
		}
	}
	if (colon) {
		const char *p = colon + 1;
		unsigned long port = 0;

		if (!*p || strlen(p) > 5)
			return 0;
		for (; *p; p++) {
			if (*p < '0' || *p > '9')
				return 0;
			port = port * 10 + (unsigned long)(*p - '0');
		}
		if (port == 0 || port > 65535)
			return 0;
	}
	return 1;
}

int mlctl_oci_loc_parse(struct mlctl_oci_loc *out, const char *s, struct mlctl_err *err)
{
	const char *slash;
	size_t hn;

	memset(out, 0, sizeof(*out));
	if (strstr(s, "://"))
		return mlctl_err_set(err, MLCTL_EUSAGE,
				     "OCI location '%s' has a scheme: give HOST[:PORT]/NAMESPACE "
				     "(https is used, plain http only for loopback or with --insecure)",
				     s);
	slash = strchr(s, '/');
	hn = slash ? (size_t)(slash - s) : strlen(s);
	if (hn == 0 || hn >= sizeof(out->host))
		return mlctl_err_set(err, MLCTL_EUSAGE,
				     "OCI location '%s' names no registry host: give "
				     "HOST[:PORT]/NAMESPACE, as in registry.example.com/ml", s);
	memcpy(out->host, s, hn);
	if (!host_ok(out->host))
		return mlctl_err_set(err, MLCTL_EUSAGE,
				     "'%s' in OCI location '%s' is not a host name, IP address or "
				     "[IPv6] address with an optional :PORT", out->host, s);
	if (slash) {
		const char *ns = slash + 1;
		size_t nn = strlen(ns);

		while (nn > 0 && ns[nn - 1] == '/')
			nn--; /* registry.example.com/ml/ */
		if (nn >= sizeof(out->ns))
			return mlctl_err_set(err, MLCTL_EUSAGE, "namespace of OCI location '%s' is "
					     "too long", s);
		memcpy(out->ns, ns, nn);
		if (!path_ok(out->ns))
			return mlctl_err_set(err, MLCTL_EUSAGE,
					     "namespace '%s' of OCI location '%s' is not an OCI "
					     "repository path: use lowercase letters and digits, "
					     "separated by '.', '_', '__' or '-', components joined by "
					     "'/'", out->ns, s);
	}
	return 0;
}

int mlctl_oci_host_is_loopback(const char *host)
{
	size_t n = strcspn(host, ":");

	if (!strncmp(host, "[::1]", 5))
		return 1;
	if (n == 9 && !strncmp(host, "localhost", 9))
		return 1;
	return !strncmp(host, "127.", 4) && n >= 7;
}

/* 1 when host (its port left out) is domain or a host under it. */
static int host_in(const char *host, const char *domain)
{
	size_t n = strcspn(host, ":"), d = strlen(domain);

	if (n < d || strncmp(host + n - d, domain, d))
		return 0;
	return n == d || host[n - d - 1] == '.';
}

void mlctl_oci_quirks(struct mlctl_oci_quirks *q, const char *host)
{
	static const struct {
		const char *domain, *registry;
		uint64_t patch_max, min_chunk;
		int monolithic;
	} table[] = {
		/* answers 416 to a PATCH of more than 4 MiB */
		{ "ghcr.io", "GitHub Container Registry", 4ull << 20, 0, 0 },
		/* take no chunked uploads: the whole blob in one PUT */
		{ "gcr.io", "Google Container Registry", 0, 0, 1 },
		{ "pkg.dev", "Google Artifact Registry", 0, 0, 1 },
		/* parts go to S3 multipart uploads: 5 MiB at least but the last */
		{ "amazonaws.com", "Amazon ECR", 0, 5ull << 20, 0 },
	};
	size_t i;

	memset(q, 0, sizeof(*q));
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (host_in(host, table[i].domain)) {
			q->registry = table[i].registry;
			q->patch_max = table[i].patch_max;
			q->min_chunk = table[i].min_chunk;
			q->monolithic = table[i].monolithic;
			return;
		}
}

int mlctl_oci_repo(char *out, size_t n, const struct mlctl_oci_loc *loc, const char *model,
		   struct mlctl_err *err)
{
	int len = snprintf(out, n, "%s%s%s", loc->ns, *loc->ns ? "/" : "", model);

	if (len < 0 || (size_t)len >= n || len > 255)
		return mlctl_err_set(err, MLCTL_EUSAGE, "OCI repository '%s/%s' is longer than "
				     "255 characters; use a shorter namespace or model name",
				     loc->ns, model);
	if (!path_ok(model))
		return mlctl_err_set(err, MLCTL_EUSAGE,
				     "model name '%s' is not a valid OCI repository name: a part "
				     "may not hold '___', '_-', '-_', '.' next to '_' or '-', or "
				     "end with one of them (OCI allows lowercase letters and digits "
				     "separated by '.', '_', '__' or runs of '-'); rename the model "
				     "to push it to an OCI registry", model);
	return 0;
}

int mlctl_oci_tag(char out[129], const char *version, struct mlctl_err *err)
{
	size_t i, n = strlen(version);

	if (n == 0 || n > 128)
		return mlctl_err_set(err, MLCTL_EUSAGE,
				     "version '%s' is longer than an OCI tag may be (128 "
				     "characters)", version);
	for (i = 0; i < n; i++) {
		char c = version[i];

		out[i] = c == '+' ? '_' : c;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-' || c == '+') ||
		    (i == 0 && (c == '.' || c == '-')))
			return mlctl_err_set(err, MLCTL_EUSAGE,
					     "version '%s' cannot be an OCI tag", version);
	}
	out[n] = '\0';
	return 0;
}
