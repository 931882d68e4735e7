/*
 * push.c - mlctl push [DIR|PKG]: store a version in the registry.
 */
#include "cli.h"
#include "registry.h"
#include "banned.h"

static const struct cli_opt opts[] = {
	{ "bump", 0, "PART", "store as the next major, minor or patch version after the "
			     "highest one stored" },
	{ NULL, 0, NULL, NULL },
};

const struct cli_cmd cli_cmd_push = {
	"push", cmd_push, "store a project folder or a package as a version in the registry",
	"[DIR|PKG] [--bump major|minor|patch]", opts, 0, 1,
};

int cmd_push(struct cli *cli, int argc, char **argv)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_registry *r = NULL;
	struct mlctl_push_result res;
	const char *src = argc > 0 ? argv[0] : ".";
	char size[32];
	int rc;

	if ((rc = cli_open_registry(cli, &r, 1)))
		return rc;
	rc = mlctl_registry_push(r, &res, src, cli_opt(cli, "bump"), &err);
	mlctl_registry_free(r);
	if (rc)
		return cli_fail(cli, &err);
	mlctl_human_size(size, res.size);
	if (cli->json) {
		cJSON *doc = cli_json_doc();

		cJSON_AddStringToObject(doc, "name", res.name);
		cJSON_AddStringToObject(doc, "version", res.version);
		cJSON_AddStringToObject(doc, "digest", res.digest);
		cJSON_AddBoolToObject(doc, "existed", res.existed);
		cJSON_AddNumberToObject(doc, "files", (double)res.nfiles);
		cJSON_AddNumberToObject(doc, "size", (double)res.size);
		cJSON_AddNumberToObject(doc, "blobs_written", (double)res.blobs_written);
		cli_print_json(doc);
	} else if (res.existed) {
		printf("%s:%s is already in the registry with digest %s; nothing to do\n", res.name,
		       res.version, res.digest);
	} else {
		printf("pushed %s:%s %s\n", res.name, res.version, res.digest);
		cli_note(cli, "%zu file%s, %s; %zu new blob%s stored", res.nfiles,
			 res.nfiles == 1 ? "" : "s", size, res.blobs_written,
			 res.blobs_written == 1 ? "" : "s");
	}
	return 0;
}
