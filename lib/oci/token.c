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
	*scope = param(www_auth + 7, "scope");
	return 0;
}

int oci_bearer_token(struct mlctl_oci *c, const char *scope, struct mlctl_err *err)
{
	char *url = mlctl_strdup(c->realm), *next;
	struct oci_req q = { .method = "GET", .plain = 1, .cap = 1024 * 1024 };
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
	if (c->service) {
		next = oci_url_param(c, url, "service", c->service);
		free(url);
		url = next;
	}
	if (scope) {
		/* several scopes are several parameters */
		char *copy = mlctl_strdup(scope), *save = NULL, *one;

		for (one = strtok_r(copy, " ", &save); one; one = strtok_r(NULL, " ", &save)) {
			next = oci_url_param(c, url, "scope", one);
			free(url);
			url = next;
		}
		free(copy);
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
	cJSON_Delete(doc);
	oci_resp_release(&r);
	free(url);
	return rc;
}
