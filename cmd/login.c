/*
 * login.c - mlctl login HOST -u USER --password-stdin | logout HOST:
 * credentials for an OCI registry, tried first, then kept where docker
 * keeps them, so docker, oras and skopeo share them with mlctl.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "oci.h"
#include "banned.h"

static const struct cli_opt login_opts[] = {
	{ "username", 'u', "USER", "the user name" },
	{ "password-stdin", 0, NULL, "read the password (or token) from standard input" },
	CLI_OCI_OPTS,
	{ NULL, 0, NULL, NULL },
};

static const struct cli_opt logout_opts[] = {
	{ "registry-config", 0, "FILE", "credentials file to use instead of docker's "
					"config.json" },
	{ NULL, 0, NULL, NULL },
};

const struct cli_cmd cli_cmd_login = {
	"login", cmd_login, "keep credentials for an OCI registry (in docker's config.json)",
	"HOST[:PORT] -u USER --password-stdin", login_opts, 1, 1,
};

const struct cli_cmd cli_cmd_logout = {
	"logout", cmd_logout, "forget the credentials kept for an OCI registry",
	"HOST[:PORT]", logout_opts, 1, 1,
};

/* The password: standard input up to its end, one final newline dropped. */
static int read_password(struct mlctl_buf *out, struct mlctl_err *err)
{
	char chunk[4096];
	ssize_t n;

	while ((n = read(STDIN_FILENO, chunk, sizeof(chunk))) != 0) {
		if (n < 0)
			return mlctl_err_errno(err, MLCTL_EIO, "cannot read the password from "
					       "standard input");
		mlctl_buf_add(out, chunk, (size_t)n);
		if (out->len > 64 * 1024)
			return mlctl_err_set(err, MLCTL_EUSAGE, "the password on standard input is "
					     "longer than 64 KiB");
	}
	explicit_bzero(chunk, sizeof(chunk));
	if (out->len && out->buf[out->len - 1] == '\n')
		out->buf[--out->len] = '\0';
	if (out->len && out->buf[out->len - 1] == '\r')
		out->buf[--out->len] = '\0';
	if (!out->len)
		return mlctl_err_set(err, MLCTL_EUSAGE, "no password on standard input; pipe it "
				     "in: 'mlctl login HOST -u USER --password-stdin < FILE'");
	if (memchr(out->buf, '\0', out->len) || memchr(out->buf, '\n', out->len))
		return mlctl_err_set(err, MLCTL_EUSAGE, "the password on standard input holds a "
				     "line break or a NUL byte; give one line");
	return 0;
}

int cmd_login(struct cli *cli, int argc, char **argv)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_oci_opts o;
	struct mlctl_buf pass = MLCTL_BUF_INIT;
	const char *user = cli_opt(cli, "username");
	char *where = NULL;
	int rc, unchecked = 0;

	(void)argc;
	if ((rc = cli_oci_opts(cli, &o)))
		return rc;
	if (!user || !*user)
		return cli_usage(cli, "login needs -u USER (and the password on standard input "
				 "with --password-stdin)");
	if (strchr(user, ':'))
		return cli_usage(cli, "a user name may not hold ':'");
	if (!cli_opt(cli, "password-stdin"))
		return cli_usage(cli, "give the password on standard input with --password-stdin "
				 "(never on the command line, where others can read it)");
	if ((rc = read_password(&pass, &err)) ||
	    (rc = mlctl_oci_login(&where, &unchecked, argv[0], user, pass.buf, &o, &err))) {
		rc = cli_fail(cli, &err);
		goto out;
	}
	if (cli->json) {
		cJSON *doc = cli_json_doc();

		cJSON_AddStringToObject(doc, "host", argv[0]);
		cJSON_AddStringToObject(doc, "username", user);
		cJSON_AddStringToObject(doc, "config", where);
		cJSON_AddBoolToObject(doc, "checked", !unchecked);
		cli_print_json(doc);
	} else {
		printf("logged in to %s as %s (credentials in %s)\n", argv[0], user, where);
		if (unchecked)
			cli_note(cli, "%s asks for no credentials, so they could not be tried; they "
				 "are kept for when it does", argv[0]);
	}
out:
	if (pass.buf)
		explicit_bzero(pass.buf, pass.len);
	mlctl_buf_release(&pass);
	free(where);
	return rc;
}

int cmd_logout(struct cli *cli, int argc, char **argv)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_oci_opts o;
	char *where = NULL;
	int had = 0, rc;

	(void)argc;
	memset(&o, 0, sizeof(o));
	o.auth_file = cli_opt(cli, "registry-config");
	if ((rc = mlctl_oci_logout(&where, &had, argv[0], &o, &err)))
		return cli_fail(cli, &err);
	if (cli->json) {
		cJSON *doc = cli_json_doc();

		cJSON_AddStringToObject(doc, "host", argv[0]);
		cJSON_AddBoolToObject(doc, "removed", had);
		cli_print_json(doc);
	} else if (had) {
		printf("removed the credentials for %s from %s\n", argv[0], where);
	} else {
		cli_note(cli, "no credentials for %s were kept; nothing to do", argv[0]);
	}
	free(where);
	return 0;
}
