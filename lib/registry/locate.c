/*
 * locate.c - where the registry is, and who is acting.
 */
#define _GNU_SOURCE
#include "registry/internal.h"

#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

int mlctl_registry_locate(char **out, const char *flag, struct mlctl_err *err)
{
	const char *env = getenv("MLCTL_REGISTRY"), *xdg = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");

	*out = NULL;
	if (flag && *flag)
		*out = mlctl_strdup(flag);
	else if (env && *env)
		*out = mlctl_strdup(env);
	else if (xdg && xdg[0] == '/') /* XDG's rule: a relative XDG_DATA_HOME is ignored */
		*out = mlctl_aprintf("%s/mlctl/registry", xdg);
	if (*out)
		return 0;
	if (!home || home[0] != '/') {
		/* no HOME (a bare CI step): the account's home, never the current folder */
		const struct passwd *pw = getpwuid(getuid());

		home = pw && pw->pw_dir && pw->pw_dir[0] == '/' ? pw->pw_dir : NULL;
	}
	if (!home)
		return mlctl_err_set(err, MLCTL_EIO,
				     "no place for the registry: HOME is not set and the account has "
				     "no home folder; pass --registry DIR or set MLCTL_REGISTRY");
	*out = mlctl_aprintf("%s/.local/share/mlctl/registry", home);
	return 0;
}

const char *mlctl_registry_root(const struct mlctl_registry *r)
{
	return r->root;
}

/* The value of environment variable name, or NULL when unset or empty. */
static const char *env_value(const char *name)
{
	const char *v = name ? getenv(name) : NULL;

	return v && *v ? v : NULL;
}

/* "name <email>", or name alone when there is no e-mail. */
static char *with_email(const char *name, const char *email)
{
	return email ? mlctl_aprintf("%s <%s>", name, email) : mlctl_strdup(name);
}

/* Who a CI system says started the job, or NULL when not in one that says. */
static char *ci_actor(void)
{
	static const struct {
		const char *name, *email, *only_with;
	} ci[] = {
		{ "GITLAB_USER_LOGIN", "GITLAB_USER_EMAIL", NULL },
		{ "BUILDKITE_BUILD_CREATOR", "BUILDKITE_BUILD_CREATOR_EMAIL", NULL },
		{ "BUILD_REQUESTEDFOR", "BUILD_REQUESTEDFOREMAIL", "TF_BUILD" }, /* Azure */
		{ "BUILD_USER", "BUILD_USER_EMAIL", "JENKINS_URL" }, /* build-user-vars plugin */
		{ "CIRCLE_USERNAME", NULL, NULL },
	};
	const char *gh = env_value("GITHUB_ACTOR"), *id = env_value("GITHUB_ACTOR_ID");
	size_t i;

	if (gh && id && strspn(id, "0123456789") == strlen(id))
		/* the address GitHub gives each account for commits made on its behalf */
		return mlctl_aprintf("%s <%s+%s@users.noreply.github.com>", gh, id, gh);
	if (gh)
		return mlctl_strdup(gh);
	for (i = 0; i < MLCTL_ARRAY_SIZE(ci); i++)
		if (env_value(ci[i].name) && (!ci[i].only_with || env_value(ci[i].only_with)))
			return with_email(env_value(ci[i].name), env_value(ci[i].email));
	return NULL;
}

/* The login name: the password database, else $USER, else $LOGNAME. */
static char *login_name(void)
{
	struct passwd *pw = getpwuid(geteuid());

	if (pw && pw->pw_name && *pw->pw_name)
		return mlctl_strdup(pw->pw_name);
	if (env_value("USER"))
		return mlctl_strdup(env_value("USER"));
	if (env_value("LOGNAME"))
		return mlctl_strdup(env_value("LOGNAME"));
	return mlctl_aprintf("uid %u", (unsigned)geteuid());
}

char *mlctl_actor(void)
{
	char *out = NULL, *name = NULL, *email = NULL;

	if (env_value("MLCTL_ACTOR"))
		out = mlctl_strdup(env_value("MLCTL_ACTOR"));
	if (!out)
		out = ci_actor();
	if (!out && mlctl_git_identity(&name, &email)) {
		if (!name)
			name = login_name(); /* as git does with user.email alone */
		out = with_email(name, email);
	}
	if (!out)
		out = login_name();
	free(name);
	free(email);
	return mlctl_utf8_fixed(out);
}
