/*
 * config.c - the repository's own configuration file (index.git/config):
 * where a registry keeps its remotes, as git does, so that git itself
 * reads them. Only the repository's level is read or written, never the
 * user's or the system's.
 */
#include "gitstore/internal.h"

#include <string.h>

#include "banned.h"

static int local_config(git_config **out, struct mlctl_git *g, struct mlctl_err *err)
{
	git_config *all = NULL;
	int rc;

	*out = NULL;
	rc = git_repository_config(&all, g->repo);
	if (rc >= 0)
		rc = git_config_open_level(out, all, GIT_CONFIG_LEVEL_LOCAL);
	git_config_free(all);
	if (rc < 0)
		return gs_git_fail(err, MLCTL_EIO, "cannot read the registry's git configuration");
	return 0;
}

int mlctl_git_config_get(struct mlctl_git *g, char **out, const char *key, struct mlctl_err *err)
{
	git_config *cfg;
	git_buf buf = { 0 };
	int rc;

	*out = NULL;
	if ((rc = local_config(&cfg, g, err)))
		return rc;
	rc = git_config_get_string_buf(&buf, cfg, key);
	if (rc == GIT_ENOTFOUND) {
		rc = mlctl_err_set(err, MLCTL_ENOTFOUND, "'%s' is not set", key);
	} else if (rc < 0) {
		rc = gs_git_fail(err, MLCTL_EIO, "cannot read the registry's git configuration");
	} else {
		*out = mlctl_strdup(buf.ptr);
		rc = 0;
	}
	git_buf_dispose(&buf);
	git_config_free(cfg);
	return rc;
}

int mlctl_git_config_set(struct mlctl_git *g, const char *key, const char *value,
			 struct mlctl_err *err)
{
	git_config *cfg;
	int rc;

	if ((rc = local_config(&cfg, g, err)))
		return rc;
	if (value)
		rc = git_config_set_string(cfg, key, value);
	else if ((rc = git_config_delete_entry(cfg, key)) == GIT_ENOTFOUND)
		rc = 0;
	if (rc < 0)
		rc = gs_git_fail(err, MLCTL_EIO, "cannot write the registry's git configuration");
	git_config_free(cfg);
	return rc < 0 ? rc : 0;
}

int mlctl_git_config_each(struct mlctl_git *g, const char *prefix, mlctl_git_config_cb cb,
			  void *payload, struct mlctl_err *err)
{
	git_config *cfg;
	git_config_iterator *it = NULL;
	git_config_entry *e;
	int rc;

	if ((rc = local_config(&cfg, g, err)))
		return rc;
	/* not git_config_iterator_glob_new: libgit2 1.5 leaks its regex match data */
	if (git_config_iterator_new(&it, cfg) < 0) {
		rc = gs_git_fail(err, MLCTL_EIO, "cannot read the registry's git configuration");
		goto out;
	}
	while ((rc = git_config_next(&e, it)) == 0) {
		if (strncmp(e->name, prefix, strlen(prefix)))
			continue;
		if ((rc = cb(payload, e->name, e->value, err)))
			goto out;
	}
	rc = rc == GIT_ITEROVER ? 0 : gs_git_fail(err, MLCTL_EIO,
						   "cannot read the registry's git configuration");
out:
	git_config_iterator_free(it);
	git_config_free(cfg);
	return rc;
}
