/*
 * session.c - a session with one registry: the scheme (https; plain http
 * only for loopback or with --insecure), the credentials, and a first
 * request to /v2/ that says whether and how the registry wants them.
 */
#define _GNU_SOURCE
#include "oci/internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "banned.h"

static int ping(struct mlctl_oci *c, struct oci_resp *r, struct mlctl_err *err)
{
	char *url = oci_url(c, "/v2/");
	struct oci_req q = { .method = "GET", .url = url, .first = 1 };
	int rc = oci_request(c, &q, r, err);

	free(url);
	return rc;
}

/*
 * The first request: https, and where plain http is allowed (loopback,
 * --insecure) plain http when the host speaks no TLS, as docker does. An
 * https registry keeps its own error (a certificate not trusted, a client
 * certificate wanted) rather than what plain http would say.
 */
static int ping_any(struct mlctl_oci *c, int may_plain, struct oci_resp *r,
		    struct mlctl_err *err)
{
	struct mlctl_err plain_err = MLCTL_ERR_INIT;
	char *https;
	int rc = ping(c, r, err);

	if (!rc || !may_plain || c->last_cc != CURLE_SSL_CONNECT_ERROR)
		return rc;
	https = c->base;
	c->base = mlctl_aprintf("http://%s", c->loc.host);
	oci_resp_release(r);
	if (ping(c, r, &plain_err) == 0 && r->status != 400) {
		mlctl_err_clear(err);
		free(https);
		return 0;
	}
	/* it speaks TLS, just not with us */
	mlctl_err_clear(&plain_err);
	oci_resp_release(r);
	free(c->base);
	c->base = https;
	return rc;
}

static int session_fail(struct mlctl_oci *c, struct oci_resp *r, struct mlctl_err *err)
{
	if (r->status == 404)
		return mlctl_err_set(err, MLCTL_ENET, "%s is not an OCI registry: it answered 404 to "
				     "GET /v2/", c->loc.host);
	return oci_status_fail(c, r, "GET /v2/", err);
}

int oci_session_open(struct mlctl_oci **out, const struct mlctl_oci_loc *loc,
		     const struct mlctl_oci_opts *o, const char *user, const char *pass,
		     struct mlctl_err *err)
{
	struct mlctl_oci *c = mlctl_calloc(1, sizeof(*c));
	struct oci_resp r;
	int may_plain = o->insecure || mlctl_oci_host_is_loopback(loc->host);
	int rc;

	*out = NULL;
	memset(&r, 0, sizeof(r));
	curl_global_init(CURL_GLOBAL_DEFAULT);
	c->loc = *loc;
	c->o = *o;
	if (!c->o.chunk)
		c->o.chunk = MLCTL_OCI_CHUNK_DEFAULT;
	mlctl_oci_quirks(&c->quirks, loc->host);
	c->base = mlctl_aprintf("https://%s", loc->host);
	if (!(c->h = curl_easy_init())) {
		rc = mlctl_err_set(err, MLCTL_EINTERNAL, "cannot start libcurl");
		goto fail;
	}
	if (user) {
		c->user = mlctl_strdup(user);
		c->pass = mlctl_strdup(pass ? pass : "");
		c->auth_from = mlctl_strdup("standard input");
	}
	if ((rc = ping_any(c, may_plain, &r, err)))
		goto fail;
	if (r.status == 401 && r.www_auth && !strncasecmp(r.www_auth, "basic", 5)) {
		/* credentials are looked for only when the registry asks for them */
		if (!c->user && (rc = oci_auth_lookup(c, err)))
			goto fail;
		if (!c->user && c->identity) {
			rc = mlctl_err_set(err, MLCTL_ENET, "%s wants a user and password (Basic), "
					   "and %s holds an identity token for it; run 'mlctl login "
					   "%s -u USER --password-stdin'", c->loc.host, c->auth_from,
					   c->loc.host);
			goto fail;
		}
		if (!c->user) {
			rc = oci_status_fail(c, &r, "GET /v2/", err);
			goto fail;
		}
		c->basic = 1;
		oci_resp_release(&r);
		if ((rc = ping(c, &r, err)))
			goto fail;
	} else if (r.status == 401 && r.www_auth && !strncasecmp(r.www_auth, "bearer", 6)) {
		char *scope = NULL;

		/* token authentication: credentials (if any) go to its token service */
		if (!c->user && (rc = oci_auth_lookup(c, err)))
			goto fail;
		if (oci_bearer_challenge(c, r.www_auth, &scope) < 0) {
			rc = mlctl_err_set(err, MLCTL_ENET, "%s asks for a bearer token but names no "
					   "realm to get one from", c->loc.host);
			goto fail;
		}
		/* a token now only to try the credentials (login); others come per scope */
		rc = c->user || c->identity ? oci_bearer_token(c, scope, err) : 0;
		free(scope);
		if (rc)
			goto fail;
		oci_resp_release(&r);
		r.status = 200;
	}
	if (r.status != 200) {
		rc = session_fail(c, &r, err);
		goto fail;
	}
	oci_resp_release(&r);
	*out = c;
	return 0;
fail:
	oci_resp_release(&r);
	mlctl_oci_free(c);
	return rc;
}

int mlctl_oci_open(struct mlctl_oci **out, const struct mlctl_oci_loc *loc,
		   const struct mlctl_oci_opts *o, struct mlctl_err *err)
{
	return oci_session_open(out, loc, o, NULL, NULL, err);
}

void mlctl_oci_free(struct mlctl_oci *c)
{
	if (!c)
		return;
	if (c->h)
		curl_easy_cleanup(c->h);
	if (c->pass)
		explicit_bzero(c->pass, strlen(c->pass));
	if (c->identity)
		explicit_bzero(c->identity, strlen(c->identity));
	free(c->user);
	free(c->pass);
	free(c->identity);
	free(c->auth_from);
	free(c->base);
	free(c->realm);
	free(c->service);
	if (c->token)
		explicit_bzero(c->token, strlen(c->token));
	free(c->token);
	free(c->scope);
	free(c);
}

void mlctl_oci_set_uploads(struct mlctl_oci *c, const struct mlctl_oci_uploads *u)
{
	c->uploads = u;
}
