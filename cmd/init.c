/*
 * init.c - mlctl init [DIR]: write mlctl.json from what is in DIR.
 */
#include "cli.h"
#include "init.h"
#include "banned.h"

static const struct cli_opt opts[] = {
	{ "force", 'f', NULL, "overwrite an existing mlctl.json" },
	{ "name", 0, "NAME", "model name (default: from the folder's name)" },
	{ "version", 0, "VERSION", "first version (default: 0.1.0)" },
	{ NULL, 0, NULL, NULL },
};

const struct cli_cmd cli_cmd_init = {
	"init", cmd_init, "write mlctl.json from the files in DIR (default: .)", "[DIR] [options]",
	opts, 0, 1,
};

int cmd_init(struct cli *cli, int argc, char **argv)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_init_result res;
	const char *dir = argc > 0 ? argv[0] : ".";

	char shown[512];
	size_t i;

	if (mlctl_init_project(&res, dir, cli_opt(cli, "name"), cli_opt(cli, "version"),
			       cli_opt(cli, "force") != NULL, &err))
		return cli_fail(cli, &err);
	for (i = 0; i < res.nskipped; i++)
		cli_note(cli, "mlctl: warning: left out '%s': its name is not UTF-8 or holds a "
			 "control character or backslash, which no package can hold; rename it",
			 mlctl_escape(shown, sizeof(shown), res.skipped[i]));
	if (cli->json) {
		cJSON *doc = cli_json_doc();

		cJSON_AddStringToObject(doc, "path", res.path);
		cJSON_AddStringToObject(doc, "name", res.name);
		cJSON_AddNumberToObject(doc, "artifacts", (double)res.nartifacts);
		{
			cJSON *arr = cJSON_AddArrayToObject(doc, "skipped");

			for (i = 0; i < res.nskipped; i++)
				cJSON_AddItemToArray(arr, cJSON_CreateString(mlctl_escape(
					shown, sizeof(shown), res.skipped[i])));
		}
		cli_print_json(doc);
	} else {
		printf("wrote %s: model '%s', %zu artifact%s\n", res.path, res.name, res.nartifacts,
		       res.nartifacts == 1 ? "" : "s");
		cli_note(cli, "check the roles, then add description, license, metrics and "
			 "signature; 'mlctl package' makes a package of it");
	}
	mlctl_init_result_release(&res);
	return 0;
}
