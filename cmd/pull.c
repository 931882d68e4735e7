/*
 * pull.c - mlctl pull DIR|PKG|REF [-o DIR]: write a model's files, each
 * checked against its sha256, and its mlctl.json into a folder: a registry
 * version, a package unpacked, or a project's files as its package holds
 * them.
 */
#define _GNU_SOURCE
#include <stdlib.h>

#include "cli.h"
#include "target.h"
#include "banned.h"

static const struct cli_opt opts[] = {
	{ "output", 'o', "DIR", "target folder (default: NAME-VERSION here)" },
	{ "force", 'f', NULL, "replace a folder that is not empty" },
	{ NULL, 0, NULL, NULL },
};

const struct cli_cmd cli_cmd_pull = {
	"pull", cmd_pull,
	"write a version's (or a package's) files into a folder, checking every digest",
	"DIR|PKG|REF [-o DIR] [--force]", opts, 1, 1,
};

int cmd_pull(struct cli *cli, int argc, char **argv)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_target t;
	const char *out = cli_opt(cli, "output");
	char *def = NULL;
	const char *real;
	int rc;

	(void)argc;
	if ((rc = cli_target(cli, &t, argv[0])))
		goto done;
	if (!out) {
		if ((rc = mlctl_target_open(&t, &err))) {
			rc = cli_fail(cli, &err);
			goto done;
		}
		def = mlctl_aprintf("%s-%s", mlctl_basename(t.m.name), t.m.version);
		out = def;
	}
	if ((rc = mlctl_target_unpack(&t, out, cli_opt(cli, "force") != NULL, &err))) {
		rc = cli_fail(cli, &err);
		goto done;
	}
	real = t.resolved; /* a link to a folder: the folder it points to was filled */
	if (cli->json) {
		cJSON *doc = cli_json_doc();

		cJSON_AddStringToObject(doc, "name", t.m.name);
		cJSON_AddStringToObject(doc, "version", t.m.version);
		cJSON_AddStringToObject(doc, "digest", t.digest);
		cJSON_AddStringToObject(doc, "path", out);
		if (real)
			cJSON_AddStringToObject(doc, "resolved", real);
		cJSON_AddNumberToObject(doc, "files", (double)t.m.nfiles);
		cli_print_json(doc);
	} else {
		printf("pulled %s:%s %s into %s%s%s%s\n", t.m.name, t.m.version, t.digest, out,
		       real ? " (the folder it links to, " : "", real ? real : "", real ? ")" : "");
	}
done:
	mlctl_target_release(&t);
	free(def);
	return rc;
}
