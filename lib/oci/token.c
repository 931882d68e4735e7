/*
 * token.c - token authentication (docker's, as GHCR, Docker Hub, Harbor
 * and ECR use it): a 401 whose WWW-Authenticate is "Bearer realm=...,
 * service=..., scope=..." sends the client to the realm for a token of
 * that scope, with its Basic credentials when it has some (anonymous
 * otherwise), and the request goes again with "Authorization: Bearer". A
 * token is kept for the next requests until one needs another scope.
 */
#define _GNU_SOURCE
#include "oci/internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "banned.h"

/* The value of key="value" (or key=value) in a challenge's parameters; NULL when absent. */
static char *param(const char *s, const char *key)
{
	size_t kn = strlen(key);
	const char *p = s;

	while ((p = strcasestr(p, key))) {
		const char *v = p + kn;

		if ((p == s || p[-1] == ' ' || p[-1] == ',') && *v == '=') {
			const char *end;

			v++;
			if (*v == '"') {
				v++;
				end = strchr(v, '"');
			} else {
				end = v + strcspn(v, ", ");
			}
			if (!end)
				return NULL;
			return strndup(v, (size_t)(end - v));
		}
		p = v;
	}
	return NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * A scope in one spelling: its actions sorted within each resource
 * ("type:name:push,pull" -> "type:name:pull,push") and its resources
 * sorted. distribution names the actions of a challenge in map order, so
 * the same need comes as either spelling; this one is what a token is
 * asked for and kept under.
 */
static char *scope_canonical(const char *scope)
{
	char *copy = mlctl_strdup(scope), *save = NULL, *one, **res = NULL;
	struct mlctl_buf out = MLCTL_BUF_INIT;
	size_t n = 0, i;

	for (one = strtok_r(copy, " ", &save); one; one = strtok_r(NULL, " ", &save)) {
		char *colon = strrchr(one, ':'), *asave = NULL, *a, **acts = NULL;
		struct mlctl_buf r = MLCTL_BUF_INIT;
		size_t na = 0, j;

		res = mlctl_realloc(res, (n + 1) * sizeof(*res));
		if (!colon) {
			res[n++] = mlctl_strdup(one);
			continue;
		}
		*colon = '\0';
		for (a = strtok_r(colon + 1, ",", &asave); a; a = strtok_r(NULL, ",", &asave)) {
			acts = mlctl_realloc(acts, (na + 1) * sizeof(*acts));
			acts[na++] = a;
		}
		if (na)
			qsort(acts, na, sizeof(*acts), cmp_str);
		mlctl_buf_printf(&r, "%s:", one);
		for (j = 0; j < na; j++)
			if (!j || strcmp(acts[j], acts[j - 1]))
				mlctl_buf_printf(&r, "%s%s", j ? "," : "", acts[j]);
		free(acts);
		res[n++] = mlctl_buf_detach(&r);
	}
	if (n)
		qsort(res, n, sizeof(*res), cmp_str);
	for (i = 0; i < n; i++) {
		mlctl_buf_printf(&out, "%s%s", i ? " " : "", res[i]);
		free(res[i]);
	}
	free(res);
	free(copy);
	return mlctl_buf_detach(&out);
}

int oci_bearer_challenge(struct mlctl_oci *c, const char *www_auth, char **scope)
{
	char *realm, *service;

	*scope = NULL;
	if (strncasecmp(www_auth, "bearer ", 7))
		return -1;
	if (!(realm = param(www_auth + 7, "realm")))
		return -1;
	service = param(www_auth + 7, "service");
	free(c->realm);
	free(c->service);
	c->realm = realm;
	c->service = service;
	if ((*scope = param(www_auth + 7, "scope"))) {
		char *canon = scope_canonical(*scope);

		free(*scope);
		*scope = canon;
	}
	return 0;
}

/* "&name=value" onto a form, the value escaped. */
static void form_add(struct mlctl_oci *c, struct mlctl_buf *b, const char *name, const char *value)
{
	char *esc = curl_easy_escape(c->h, value, 0);

	mlctl_buf_printf(b, "%s%s=%s", b->len ? "&" : "", name, esc ? esc : "");
	if (esc)
		explicit_bzero(esc, strlen(esc));
	curl_free(esc);
}

int oci_bearer_token(struct mlctl_oci *c, const char *scope, struct mlctl_err *err)
{
	char *url = mlctl_strdup(c->realm), *next;
	struct oci_req q = { .method = "GET", .plain = 1, .cap = 1024 * 1024 };
	struct mlctl_buf form = MLCTL_BUF_INIT;
	struct oci_body body = { -1, 0, 0, NULL, 0 };
	struct oci_resp r;
	cJSON *doc = NULL;
	const char *tok;
	int rc;

	/* https, or plain http to loopback (or with --insecure), as for the registry itself */
	if (strncmp(url, "https://", 8) &&
	    !(strncmp(url, "http://", 7) == 0 &&
	      (c->o.insecure || mlctl_oci_host_is_loopback(url + 7)))) {
		rc = mlctl_err_set(err, MLCTL_ENET, "%s sends for tokens to '%s', which is not "
				   "https; give --insecure to allow it", c->loc.host, c->realm);
		free(url);
		return rc;
	}
	if (c->identity) {
		/*
		 * An identity token is an OAuth refresh token: traded for an access
		 * token in a POST (the distribution token spec's OAuth form), never
		 * put in a URL. client_id names this client, as the spec wants.
		 */
		form_add(c, &form, "grant_type", "refresh_token");
		form_add(c, &form, "client_id", "mlctl");
		if (c->service)
			form_add(c, &form, "service", c->service);
	} else if (c->service) {
		next = oci_url_param(c, url, "service", c->service);
		free(url);
		url = next;
	}
	if (scope) {
		/* several scopes are several parameters */
		char *copy = mlctl_strdup(scope), *save = NULL, *one;

		for (one = strtok_r(copy, " ", &save); one; one = strtok_r(NULL, " ", &save)) {
			if (c->identity) {
				form_add(c, &form, "scope", one);
				continue;
			}
			next = oci_url_param(c, url, "scope", one);
			free(url);
			url = next;
		}
		free(copy);
	}
	if (c->identity) {
		form_add(c, &form, "refresh_token", c->identity);
		body.mem = form.buf;
		body.len = form.len;
		q.method = "POST";
		q.ctype = "application/x-www-form-urlencoded";
		q.body = &body;
	}
	q.url = url;
	if ((rc = oci_request(c, &q, &r, err)))
		goto out;
	if (r.status != 200) {
		rc = r.status == 401 || r.status == 403
			     ? oci_status_fail(c, &r, "a token", err)
			     : mlctl_err_set(err, MLCTL_ENET, "the token service of %s answered %ld",
					     c->loc.host, r.status);
		goto out;
	}
	doc = cJSON_ParseWithLength(r.body.buf ? r.body.buf : "", r.body.len);
	tok = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "token"));
	if (!tok || !*tok)
		tok = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "access_token"));
	if (!tok || !*tok || strpbrk(tok, "\r\n")) {
		rc = mlctl_err_set(err, MLCTL_ENET, "the token service of %s gave no token",
				   c->loc.host);
		goto out;
	}
	if (c->token)
		explicit_bzero(c->token, strlen(c->token));
	free(c->token);
	free(c->scope);
	c->token = mlctl_strdup(tok);
	c->scope = scope ? mlctl_strdup(scope) : NULL;
out:
	if (r.body.buf)
		explicit_bzero(r.body.buf, r.body.len);
	if (form.buf)
		explicit_bzero(form.buf, form.len);
	mlctl_buf_release(&form);
	cJSON_Delete(doc);
	oci_resp_release(&r);
	free(url);
	return rc;
}
