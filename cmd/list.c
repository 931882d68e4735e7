/*
 * list.c - mlctl list: the models in the registry.
 */
#include "cli.h"
#include "registry.h"
#include "banned.h"

const struct cli_cmd cli_cmd_list = {
	"list", cmd_list, "list the models in the registry", "[--json]", NULL, 0, 0,
};

int cmd_list(struct cli *cli, int argc, char **argv)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_registry *r = NULL;
	struct mlctl_model_info *m = NULL;
	size_t n = 0, i;
	int rc;

	(void)argc;
	(void)argv;
	if ((rc = cli_open_registry(cli, &r, 0)))
		return rc;
	rc = mlctl_registry_list(r, &m, &n, &err);
	mlctl_registry_free(r);
	if (rc)
		return cli_fail(cli, &err);
	if (cli->json) {
		cJSON *doc = cli_json_doc(), *arr = cJSON_AddArrayToObject(doc, "models");

		for (i = 0; i < n; i++) {
			cJSON *o = cJSON_CreateObject();
			char when[32];

			mlctl_time_iso(when, m[i].updated);
			cJSON_AddStringToObject(o, "name", m[i].name);
			cJSON_AddNumberToObject(o, "versions", (double)m[i].nversions);
			cJSON_AddStringToObject(o, "latest", m[i].latest);
			cJSON_AddStringToObject(o, "updated", when);
			mlctl_time_iso(when, m[i].deprecated);
			if (m[i].deprecated)
				cJSON_AddStringToObject(o, "deprecated", when);
			else
				cJSON_AddNullToObject(o, "deprecated");
			cJSON_AddItemToArray(arr, o);
		}
		cli_print_json(doc);
	} else if (n == 0) {
		cli_note(cli, "no models yet; 'mlctl push DIR' stores one");
	} else {
		struct cli_table t;
		int dep = 0;

		for (i = 0; i < n; i++)
			dep |= m[i].deprecated != 0;
		/* a DEPRECATED column only where there is something to say in it */
		cli_table_init(&t, dep ? 5 : 4);
		cli_table_row(&t, "NAME", "VERSIONS", "LATEST", "UPDATED", "DEPRECATED");
		for (i = 0; i < n; i++) {
			char cnt[32], when[32], depw[32];

			snprintf(cnt, sizeof(cnt), "%zu", m[i].nversions);
			mlctl_time_iso(when, m[i].updated);
			if (m[i].deprecated)
				mlctl_time_iso(depw, m[i].deprecated);
			else
				snprintf(depw, sizeof(depw), "-");
			cli_table_row(&t, m[i].name, cnt, m[i].latest, when, depw);
		}
		cli_table_print(cli, &t);
		cli_table_release(&t);
	}
	mlctl_model_infos_free(m, n);
	return 0;
}
