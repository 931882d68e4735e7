/*
 * pull.c - mlctl pull REF [-o DIR]: write a version's files, checked, into a folder.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "registry.h"
#include "banned.h"

static const struct cli_opt opts[] = {
	{ "output", 'o', "DIR", "target folder (default: NAME-VERSION here)" },
	{ "force", 'f', NULL, "replace a folder that is not empty" },
	{ NULL, 0, NULL, NULL },
};

const struct cli_cmd cli_cmd_pull = {
	"pull", cmd_pull, "write a version's files into a folder, checking every digest",
	"REF [-o DIR] [--force]", opts, 1, 1,
};

int cmd_pull(struct cli *cli, int argc, char **argv)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_registry *r = NULL;
	struct mlctl_version_info info;
	struct mlctl_ref ref;
	const char *out = cli_opt(cli, "output");
	char *def = NULL;
	int rc;

	(void)argc;
	if (mlctl_ref_parse(&ref, argv[0], &err))
		return cli_fail(cli, &err);
	if ((rc = cli_open_registry(cli, &r, 0)))
		return rc;
	if (!out) {
		if (mlctl_registry_resolve(r, &info, NULL, argv[0], &err)) {
			mlctl_registry_free(r);
			return cli_fail(cli, &err);
		}
		def = mlctl_aprintf("%s-%s", mlctl_basename(info.name), info.version);
		mlctl_version_info_release(&info);
		out = def;
	}
	rc = mlctl_registry_pull(r, &info, argv[0], out, cli_opt(cli, "force") != NULL, &err);
	mlctl_registry_free(r);
	if (rc) {
		free(def);
		return cli_fail(cli, &err);
	}
	if (cli->json) {
		cJSON *doc = cli_json_doc();

		cJSON_AddStringToObject(doc, "name", info.name);
		cJSON_AddStringToObject(doc, "version", info.version);
		cJSON_AddStringToObject(doc, "digest", info.digest);
		cJSON_AddStringToObject(doc, "path", out);
		cJSON_AddNumberToObject(doc, "files", (double)info.nfiles);
		cli_print_json(doc);
	} else {
		printf("pulled %s:%s %s into %s\n", info.name, info.version, info.digest, out);
	}
	mlctl_version_info_release(&info);
	free(def);
	return 0;
}
