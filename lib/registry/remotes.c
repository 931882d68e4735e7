/*
 * remotes.c - where a registry's versions go beyond this machine: each
 * remote a name, an OCI location for the bytes and a git URL for the
 * history. They are this registry's settings, not its history: kept in
 * index.git/config as git keeps its remotes (remote.NAME.url, which git
 * itself uses; remote.NAME.mlctloci and .mlctlinsecure beside it), so a
 * reindex or a sync never touches them. Also where a remote's history
 * says an alias points (fetched, not merged).
 */
#include "registry/internal.h"

#include <stdlib.h>
#include <string.h>

#include "oci.h"
#include "banned.h"

int mlctl_remote_name_check(const char *name, struct mlctl_err *err)
{
	size_t i, n = strlen(name);

	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      (i > 0 && (c == '_' || c == '-'))))
			break;
	}
	if (n == 0 || n > 64 || i < n)
		return mlctl_err_set(err, MLCTL_EUSAGE,
				     "remote name '%s' is not valid: use letters, digits, '_' and "
				     "'-', starting with a letter or digit, at most 64 characters",
				     name);
	return 0;
}

/* A git URL with a password in it would keep a secret in the registry's config. */
static int git_url_check(const char *url, struct mlctl_err *err)
{
	const char *p = strstr(url, "://");
	size_t auth;

	if (!*url)
		return mlctl_err_set(err, MLCTL_EUSAGE, "--git needs a URL");
	if (!p)
		return 0; /* a path, or scp's user@host:path, which holds no password */
	p += 3;
	auth = strcspn(p, "/");
	if (memchr(p, '@', auth) && memchr(p, ':', (size_t)((const char *)memchr(p, '@', auth) - p)))
		return mlctl_err_set(err, MLCTL_EUSAGE,
				     "the git URL holds a password; give it without one and let "
				     "git's credential helper or ssh keys provide it");
	return 0;
}

static char *key(const char *name, const char *var)
{
	return mlctl_aprintf("remote.%s.%s", name, var);
}

/* remote.NAME.VAR into *out; NULL when it is not set. */
static int get_var(struct mlctl_registry *r, char **out, const char *name, const char *var,
		   struct mlctl_err *err)
{
	char *k = key(name, var);
	int rc = mlctl_git_config_get(r->git, out, k, err);

	free(k);
	if (rc == MLCTL_ENOTFOUND) {
		mlctl_err_clear(err);
		rc = 0;
	}
	return rc;
}

int mlctl_registry_remote_get(struct mlctl_registry *r, struct mlctl_remote *out,
			      const char *name, struct mlctl_err *err)
{
	struct mlctl_err e2 = MLCTL_ERR_INIT;
	char *insecure = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = mlctl_remote_name_check(name, err)))
		return rc;
	if ((rc = get_var(r, &out->oci, name, "mlctloci", &e2)) ||
	    (rc = get_var(r, &out->git, name, "url", &e2)) ||
	    (rc = get_var(r, &insecure, name, "mlctlinsecure", &e2)))
		goto fail;
	out->insecure = insecure && !strcmp(insecure, "true");
	free(insecure);
	if (!out->oci && !out->git) {
		mlctl_remote_release(out);
		return mlctl_err_set(err, MLCTL_ENOTFOUND, "no remote '%s' in registry %s; add it "
				     "with 'mlctl remote add %s --oci HOST/NAMESPACE'",
				     name, r->root, name);
	}
	out->name = mlctl_strdup(name);
	return 0;
fail:
	mlctl_remote_release(out);
	*err = e2;
	return rc;
}

static int queue_drop(void *payload, const char *refname, const char *target, const char *commit,
		      struct mlctl_err *err)
{
	(void)target;
	(void)commit;
	return mlctl_git_queue_ref(payload, refname, NULL, err);
}

/*
 * What the last sync with a remote of this name fetched (refs/mlctl/sync/
 * NAME/): gone with the remote, so that another remote given the name later
 * never takes it for its own.
 */
static int drop_sync_refs(struct mlctl_registry *r, const char *name, struct mlctl_err *err)
{
	char *prefix = mlctl_aprintf("refs/mlctl/sync/%s/", name);
	int rc = mlctl_git_refs(r->git, prefix, queue_drop, r->git, err);

	free(prefix);
	return rc;
}

int mlctl_registry_remote_add(struct mlctl_registry *r, const struct mlctl_remote *rm,
			      struct mlctl_err *err)
{
	struct mlctl_remote old;
	struct mlctl_oci_loc loc;
	struct mlctl_err e2 = MLCTL_ERR_INIT;
	char *k = NULL;
	int rc;

	if ((rc = mlctl_remote_name_check(rm->name, err)))
		return rc;
	if (!rm->oci && !rm->git)
		return mlctl_err_set(err, MLCTL_EUSAGE, "remote '%s' needs --oci HOST/NAMESPACE, "
				     "--git URL, or both", rm->name);
	if (rm->oci && (rc = mlctl_oci_loc_parse(&loc, rm->oci, err)))
		return rc;
	if (rm->git && (rc = git_url_check(rm->git, err)))
		return rc;
	if ((rc = reg_begin_write(r, err)))
		return rc;
	if (!mlctl_registry_remote_get(r, &old, rm->name, &e2)) {
		rc = mlctl_err_set(err, MLCTL_ECONFLICT, "remote '%s' is there already (%s%s%s); "
				   "remove it first with 'mlctl remote rm %s'", rm->name,
				   old.oci ? old.oci : "", old.oci && old.git ? ", " : "",
				   old.git ? old.git : "", rm->name);
		mlctl_remote_release(&old);
		goto out;
	}
	/* refs a remote of this name left behind (a remove cut short) */
	if ((rc = drop_sync_refs(r, rm->name, err)))
		goto out;
	if (rm->oci) {
		k = key(rm->name, "mlctloci");
		if ((rc = mlctl_git_config_set(r->git, k, rm->oci, err)))
			goto out;
		free(k);
		k = NULL;
	}
	if (rm->insecure) {
		k = key(rm->name, "mlctlinsecure");
		if ((rc = mlctl_git_config_set(r->git, k, "true", err)))
			goto out;
		free(k);
		k = NULL;
	}
	if (rm->git) {
		k = key(rm->name, "url");
		rc = mlctl_git_config_set(r->git, k, rm->git, err);
	}
out:
	free(k);
	return reg_end_write(r, rc, err);
}

int mlctl_registry_remote_rm(struct mlctl_registry *r, const char *name, struct mlctl_err *err)
{
	static const char *const vars[] = { "mlctloci", "mlctlinsecure", "url", "fetch", "pushurl" };
	struct mlctl_remote old;
	size_t i;
	int rc;

	if ((rc = reg_begin_write(r, err)))
		return rc;
	if ((rc = mlctl_registry_remote_get(r, &old, name, err)))
		goto out;
	mlctl_remote_release(&old);
	for (i = 0; !rc && i < sizeof(vars) / sizeof(vars[0]); i++) {
		char *k = key(name, vars[i]);

		rc = mlctl_git_config_set(r->git, k, NULL, err);
		free(k);
	}
	if (!rc)
		rc = mlctl_git_config_drop_section(r->git, "remote", name, err);
	if (!rc)
		rc = drop_sync_refs(r, name, err);
out:
	return reg_end_write(r, rc, err);
}

struct collect {
	char **names;
	size_t n;
};

static int collect_name(void *payload, const char *k, const char *value, struct mlctl_err *err)
{
	struct collect *c = payload;
	const char *start = k + strlen("remote."), *end = strrchr(k, '.');
	size_t i;
	char *name;

	(void)value;
	(void)err;
	if (end <= start || (strcmp(end, ".url") && strcmp(end, ".mlctloci")))
		return 0;
	name = mlctl_malloc((size_t)(end - start) + 1);
	memcpy(name, start, (size_t)(end - start));
	name[end - start] = '\0';
	for (i = 0; i < c->n; i++)
		if (!strcmp(c->names[i], name)) {
			free(name);
			return 0;
		}
	c->names = mlctl_realloc(c->names, (c->n + 1) * sizeof(*c->names));
	c->names[c->n++] = name;
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int mlctl_registry_remotes(struct mlctl_registry *r, struct mlctl_remote **out, size_t *n,
			   struct mlctl_err *err)
{
	struct collect c = { NULL, 0 };
	size_t i;
	int rc;

	*out = NULL;
	*n = 0;
	rc = mlctl_git_config_each(r->git, "remote.", collect_name, &c, err);
	if (!rc && c.n) {
		qsort(c.names, c.n, sizeof(*c.names), name_cmp);
		*out = mlctl_calloc(c.n, sizeof(**out));
	}
	for (i = 0; !rc && i < c.n; i++) {
		if ((rc = mlctl_registry_remote_get(r, &(*out)[*n], c.names[i], err)) ==
		    MLCTL_EUSAGE) {
			/* a remote git has that mlctl could not have made: not one of ours */
			mlctl_err_clear(err);
			rc = 0;
			continue;
		}
		if (!rc)
			(*n)++;
	}
	for (i = 0; i < c.n; i++)
		free(c.names[i]);
	free(c.names);
	if (rc) {
		mlctl_remotes_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

void mlctl_remote_release(struct mlctl_remote *rm)
{
	free(rm->name);
	free(rm->oci);
	free(rm->git);
	memset(rm, 0, sizeof(*rm));
}

void mlctl_remotes_free(struct mlctl_remote *rm, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		mlctl_remote_release(&rm[i]);
	free(rm);
}

int mlctl_registry_remote_alias(struct mlctl_registry *r, char version[256], char digest[72],
				const char *remote, const char *name, const char *alias,
				struct mlctl_err *err)
{
	char *head_ref = mlctl_aprintf("refs/mlctl/sync/%s/heads/main", remote);
	char *spec = mlctl_aprintf("+%s:%s", MLCTL_GIT_BRANCH, head_ref);
	char *path = mlctl_aprintf("models/%s/aliases.json", name), head[41];
	struct mlctl_buf text = MLCTL_BUF_INIT;
	struct mlctl_remote rm;
	const char *specs[1] = { spec };
	cJSON *doc = NULL, *a;
	const char *v, *d;
	int rc;

	*version = *digest = '\0';
	if ((rc = mlctl_registry_remote_get(r, &rm, remote, err)))
		goto out;
	if (!rm.git) {
		rc = mlctl_err_set(err, MLCTL_EUSAGE, "remote '%s' has no git URL to read where "
				   "alias '%s' points; give the version (NAME:VERSION)", remote, alias);
		goto out;
	}
	if ((rc = mlctl_git_fetch(r->git, rm.git, specs, 1, err)) ||
	    (rc = mlctl_git_ref(r->git, head, head_ref, err)) ||
	    (rc = mlctl_git_read(r->git, &text, head, path, err))) {
		if (rc == MLCTL_ENOTFOUND)
			mlctl_err_set(err, MLCTL_ENOTFOUND, "the history of remote '%s' has no alias "
				      "'%s' of %s", remote, alias, name);
		goto out;
	}
	doc = cJSON_ParseWithLength(text.buf, text.len);
	a = cJSON_GetObjectItemCaseSensitive(doc, alias);
	v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "version"));
	d = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "digest"));
	if (!v || !d || strlen(v) >= 256 || strlen(d) >= 72) {
		rc = mlctl_err_set(err, MLCTL_ENOTFOUND, "the history of remote '%s' has no alias "
				   "'%s' of %s", remote, alias, name);
		goto out;
	}
	snprintf(version, 256, "%s", v);
	snprintf(digest, 72, "%s", d);
out:
	cJSON_Delete(doc);
	mlctl_buf_release(&text);
	mlctl_remote_release(&rm);
	free(head_ref);
	free(spec);
	free(path);
	return rc;
}
