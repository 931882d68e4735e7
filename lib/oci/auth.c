/*
 * auth.c - credentials as docker keeps them: config.json under
 * $DOCKER_CONFIG or ~/.docker (or a file given with --registry-config, as
 * oras has), "auths" keyed by registry host, each "auth" the base64 of
 * user:password. mlctl login and logout write the same file (mode 0600),
 * keeping every other key in it.
 */
#define _GNU_SOURCE
#include "oci/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "banned.h"

static char *config_path(const struct mlctl_oci_opts *o)
{
	const char *dir = getenv("DOCKER_CONFIG"), *home = getenv("HOME");

	if (o && o->auth_file)
		return mlctl_strdup(o->auth_file);
	if (dir && *dir)
		return mlctl_path_join(dir, "config.json");
	if (home && *home)
		return mlctl_aprintf("%s/.docker/config.json", home);
	return NULL;
}

/* The config file as JSON; an absent file is an empty object. */
static int read_config(cJSON **out, const char *path, struct mlctl_err *err)
{
	struct mlctl_buf b = MLCTL_BUF_INIT;
	int rc;

	*out = NULL;
	rc = mlctl_read_file(&b, path, 4u * 1024 * 1024, err);
	if (rc == MLCTL_ENOTFOUND) {
		mlctl_err_clear(err);
		*out = cJSON_CreateObject();
		return 0;
	}
	if (rc)
		return rc;
	*out = cJSON_ParseWithLength(b.buf ? b.buf : "", b.len);
	mlctl_buf_release(&b);
	if (!cJSON_IsObject(*out)) {
		cJSON_Delete(*out);
		*out = NULL;
		return mlctl_err_set(err, MLCTL_EIO, "credentials file '%s' is not a JSON object; "
				     "fix or remove it", path);
	}
	return 0;
}

/* A key of "auths" names host when it is host, or a URL of it (https://host/v1/). */
static int key_names(const char *key, const char *host)
{
	const char *p = strstr(key, "://");
	size_t n = strlen(host);

	p = p ? p + 3 : key;
	return !strncmp(p, host, n) && (p[n] == '\0' || p[n] == '/');
}

static cJSON *find_auth(cJSON *cfg, const char *host)
{
	cJSON *auths = cJSON_GetObjectItemCaseSensitive(cfg, "auths"), *e;

	cJSON_ArrayForEach(e, auths) {
		if (e->string && key_names(e->string, host))
			return e;
	}
	return NULL;
}

extern char **environ;

/*
 * Run docker-credential-HELPER VERB (docker's credential helper protocol):
 * input on its stdin, what it prints into out (at most 64 KiB). The exit
 * status into *status (-1 when it could not be run).
 */
static int run_helper(struct mlctl_buf *out, int *status, const char *helper, const char *verb,
		      const char *input, struct mlctl_err *err)
{
	char *prog = mlctl_aprintf("docker-credential-%s", helper);
	char *argv[] = { prog, (char *)verb, NULL };
	int rc = 0;

	if (mlctl_run_pipe(out, status, argv, input, NULL, 0) < 0)
		rc = mlctl_err_errno(err, MLCTL_EIO, "cannot run %s, the credential helper docker's "
				     "config.json names (is it installed and on PATH?)", prog);
	free(prog);
	return rc;
}

/* The helper docker would ask for host: credHelpers[host], else credsStore; NULL for none. */
static const char *helper_for(const cJSON *cfg, const char *host)
{
	const char *h = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(cfg, "credHelpers"), host));

	if (h && *h)
		return h;
	h = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cfg, "credsStore"));
	return h && *h ? h : NULL;
}

/* Credentials from a helper: none when it has none for host (it exits non-zero). */
static int helper_get(struct mlctl_oci *c, const char *helper, const char *path,
		      struct mlctl_err *err)
{
	struct mlctl_buf out = MLCTL_BUF_INIT;
	cJSON *doc;
	const char *user, *secret;
	int status, rc;

	if ((rc = run_helper(&out, &status, helper, "get", c->loc.host, err)))
		goto done;
	if (status != 0)
		goto done; /* "credentials not found in native keychain": anonymous */
	doc = cJSON_ParseWithLength(out.buf ? out.buf : "", out.len);
	user = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "Username"));
	secret = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "Secret"));
	if (!user || !secret) {
		rc = mlctl_err_set(err, MLCTL_EIO, "docker-credential-%s gave no Username and "
				   "Secret for %s", helper, c->loc.host);
	} else {
		/* "<token>": the secret is an identity token, for the token service only */
		if (!strcmp(user, "<token>")) {
			c->identity = mlctl_strdup(secret);
		} else {
			c->user = mlctl_strdup(user);
			c->pass = mlctl_strdup(secret);
		}
		c->auth_from = mlctl_aprintf("docker-credential-%s (named in %s)", helper, path);
	}
	cJSON_Delete(doc);
done:
	if (out.buf)
		explicit_bzero(out.buf, out.len);
	mlctl_buf_release(&out);
	return rc;
}

int oci_auth_lookup(struct mlctl_oci *c, struct mlctl_err *err)
{
	char *path = config_path(&c->o);
	cJSON *cfg = NULL, *e;
	const char *auth, *user, *pass, *ident;
	int rc;

	if (!path)
		return 0;
	if ((rc = read_config(&cfg, path, err)))
		goto out;
	if (helper_for(cfg, c->loc.host)) {
		rc = helper_get(c, helper_for(cfg, c->loc.host), path, err);
		goto out;
	}
	e = find_auth(cfg, c->loc.host);
	auth = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "auth"));
	user = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "username"));
	pass = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "password"));
	ident = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "identitytoken"));
	if (ident && *ident) {
		/* what docker keeps after a login to a registry handing out refresh tokens */
		c->identity = mlctl_strdup(ident);
		c->auth_from = mlctl_strdup(path);
	} else if (auth && *auth) {
		struct mlctl_buf b = MLCTL_BUF_INIT;
		char *colon;

		if (mlctl_base64_decode(&b, auth) < 0 || !(colon = strchr(b.buf, ':'))) {
			mlctl_buf_release(&b);
			rc = mlctl_err_set(err, MLCTL_EIO, "the credentials for %s in '%s' are not "
					   "base64 of user:password; run 'mlctl login %s' again",
					   c->loc.host, path, c->loc.host);
			goto out;
		}
		*colon = '\0';
		c->user = mlctl_strdup(b.buf);
		c->pass = mlctl_strdup(colon + 1);
		explicit_bzero(b.buf, b.len);
		mlctl_buf_release(&b);
	} else if (user && pass) {
		c->user = mlctl_strdup(user);
		c->pass = mlctl_strdup(pass);
	}
	if (c->user)
		c->auth_from = mlctl_strdup(path);
out:
	cJSON_Delete(cfg);
	free(path);
	return rc;
}

static int write_config(const char *path, cJSON *cfg, struct mlctl_err *err)
{
	char *dir = mlctl_dirname(path), *text = mlctl_json_pretty(cfg);
	int rc = mlctl_is_dir(dir) ? 0 : mlctl_mkdir_p(dir, 0700, err);

	if (!rc)
		rc = mlctl_write_file_atomic(path, text, strlen(text), 0600, err);
	explicit_bzero(text, strlen(text));
	free(text);
	free(dir);
	return rc;
}

static int helper_store(const char *helper, const char *host, const char *user,
			const char *pass, struct mlctl_err *err)
{
	struct mlctl_buf out = MLCTL_BUF_INIT;
	cJSON *doc = cJSON_CreateObject();
	char *input;
	int status, rc;

	cJSON_AddStringToObject(doc, "ServerURL", host);
	cJSON_AddStringToObject(doc, "Username", user);
	cJSON_AddStringToObject(doc, "Secret", pass);
	input = cJSON_PrintUnformatted(doc);
	rc = run_helper(&out, &status, helper, "store", input, err);
	if (!rc && status != 0)
		rc = mlctl_err_set(err, MLCTL_EIO, "docker-credential-%s could not store the "
				   "credentials for %s (exit %d)", helper, host, status);
	explicit_bzero(input, strlen(input));
	cJSON_free(input);
	cJSON_Delete(doc);
	mlctl_buf_release(&out);
	return rc;
}

/* A registry host as login and logout take it: HOST[:PORT], nothing more. */
static int host_only(struct mlctl_oci_loc *loc, const char *verb, const char *host,
		     struct mlctl_err *err)
{
	if (mlctl_oci_loc_parse(loc, host, err)) {
		mlctl_err_clear(err);
		return mlctl_err_set(err, MLCTL_EUSAGE, "'%s' is not a registry host: give "
				     "HOST[:PORT] (no scheme, no path), as in 'mlctl %s "
				     "registry.example.com'", host, verb);
	}
	if (*loc->ns)
		return mlctl_err_set(err, MLCTL_EUSAGE, "%s names a registry host, not a "
				     "namespace: 'mlctl %s %s'", verb, verb, loc->host);
	return 0;
}

int mlctl_oci_login(char **where, int *unchecked, const char *host, const char *user,
		    const char *pass, const struct mlctl_oci_opts *o, struct mlctl_err *err)
{
	struct mlctl_oci_loc loc;
	struct mlctl_oci *c = NULL;
	char *path = config_path(o), *pair = NULL, *b64 = NULL;
	cJSON *cfg = NULL, *auths, *e;
	int rc;

	*where = NULL;
	if (!path)
		return mlctl_err_set(err, MLCTL_EIO, "no place for credentials: set HOME or "
				     "DOCKER_CONFIG, or give --registry-config FILE");
	if ((rc = host_only(&loc, "login", host, err)))
		goto out;
	/* the credentials are tried before they are kept */
	if ((rc = oci_session_open(&c, &loc, o, user, pass, err)))
		goto out;
	*unchecked = !c->basic && !c->token; /* the registry asked for none */
	if ((rc = read_config(&cfg, path, err)))
		goto out;
	if (!(auths = cJSON_GetObjectItemCaseSensitive(cfg, "auths")) || !cJSON_IsObject(auths)) {
		cJSON_DeleteItemFromObjectCaseSensitive(cfg, "auths");
		auths = cJSON_AddObjectToObject(cfg, "auths");
	}
	while ((e = find_auth(cfg, loc.host)))
		cJSON_DetachItemViaPointer(auths, e), cJSON_Delete(e);
	e = cJSON_AddObjectToObject(auths, loc.host);
	if (helper_for(cfg, loc.host)) {
		/* as docker does: the helper keeps the secret, config.json only names the host */
		if ((rc = helper_store(helper_for(cfg, loc.host), loc.host, user, pass, err)))
			goto out;
	} else {
		pair = mlctl_aprintf("%s:%s", user, pass);
		b64 = mlctl_base64_encode(pair, strlen(pair));
		cJSON_AddStringToObject(e, "auth", b64);
	}
	if (!(rc = write_config(path, cfg, err))) {
		*where = path;
		path = NULL;
	}
out:
	if (pair)
		explicit_bzero(pair, strlen(pair));
	if (b64)
		explicit_bzero(b64, strlen(b64));
	free(pair);
	free(b64);
	mlctl_oci_free(c);
	cJSON_Delete(cfg);
	free(path);
	return rc;
}

int mlctl_oci_logout(char **where, int *had, const char *host, const struct mlctl_oci_opts *o,
		     struct mlctl_err *err)
{
	struct mlctl_oci_loc loc;
	char *path = config_path(o);
	cJSON *cfg = NULL, *e;
	int rc;

	*where = NULL;
	*had = 0;
	if (!path)
		return 0;
	if ((rc = host_only(&loc, "logout", host, err)))
		goto out;
	if ((rc = read_config(&cfg, path, err)))
		goto out;
	if (helper_for(cfg, loc.host)) {
		struct mlctl_buf o2 = MLCTL_BUF_INIT;
		int status;

		rc = run_helper(&o2, &status, helper_for(cfg, loc.host), "erase", loc.host, err);
		mlctl_buf_release(&o2);
		if (rc)
			goto out;
		*had = status == 0;
	}
	while ((e = find_auth(cfg, loc.host))) {
		cJSON_DetachItemViaPointer(cJSON_GetObjectItemCaseSensitive(cfg, "auths"), e);
		cJSON_Delete(e);
		*had = 1;
	}
	if (*had && !(rc = write_config(path, cfg, err))) {
		*where = path;
		path = NULL;
	}
out:
	cJSON_Delete(cfg);
	free(path);
	return rc;
}
