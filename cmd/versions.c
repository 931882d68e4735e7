/*
 * versions.c - mlctl versions NAME: a model's versions, highest first.
 */
#include <string.h>

#include "cli.h"
#include "registry.h"
#include "banned.h"

const struct cli_cmd cli_cmd_versions = {
	"versions", cmd_versions, "list a model's versions: digest, size, when, who, aliases",
	"NAME [--json]", NULL, 1, 1,
};

int cmd_versions(struct cli *cli, int argc, char **argv)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_registry *r = NULL;
	struct mlctl_version_info *v = NULL;
	struct mlctl_alias_info *al = NULL;
	struct mlctl_ref ref;
	size_t n = 0, nal = 0, i, k;
	int rc;

	(void)argc;
	if (mlctl_ref_parse(&ref, argv[0], &err))
		return cli_fail(cli, &err);
	if (ref.kind != MLCTL_REF_LATEST)
		return cli_usage(cli, "'%s': give a model name without a version; see 'mlctl "
				 "show %s'", argv[0], argv[0]);
	if ((rc = cli_open_registry(cli, &r, 0)))
		return rc;
	rc = mlctl_registry_versions(r, &v, &n, ref.name, &err);
	if (!rc && (rc = mlctl_registry_aliases(r, &al, &nal, ref.name, NULL, &err)))
		mlctl_version_infos_free(v, n);
	mlctl_registry_free(r);
	if (rc)
		return cli_fail(cli, &err);
	if (cli->json) {
		cJSON *doc = cli_json_doc(), *arr;

		cJSON_AddStringToObject(doc, "name", ref.name);
		arr = cJSON_AddArrayToObject(doc, "versions");
		for (i = 0; i < n; i++) {
			cJSON *o = cJSON_CreateObject(), *names;
			char when[32];

			mlctl_time_iso(when, v[i].created);
			cJSON_AddStringToObject(o, "version", v[i].version);
			cJSON_AddStringToObject(o, "digest", v[i].digest);
			cJSON_AddNumberToObject(o, "size", (double)v[i].size);
			cJSON_AddNumberToObject(o, "files", (double)v[i].nfiles);
			cJSON_AddStringToObject(o, "created", when);
			cJSON_AddStringToObject(o, "actor", v[i].actor);
			cJSON_AddBoolToObject(o, "validated", v[i].validated);
			if (v[i].deprecated) {
				char dep[32];

				mlctl_time_iso(dep, v[i].deprecated);
				cJSON_AddStringToObject(o, "deprecated", dep);
			} else {
				cJSON_AddNullToObject(o, "deprecated");
			}
			names = cJSON_AddArrayToObject(o, "aliases");
			for (k = 0; k < nal; k++)
				if (!strcmp(al[k].version, v[i].version))
					cJSON_AddItemToArray(names, cJSON_CreateString(al[k].alias));
			cJSON_AddItemToArray(arr, o);
		}
		cli_print_json(doc);
	} else {
		struct cli_table t;

		int dep = 0;

		for (i = 0; i < n; i++)
			dep |= v[i].deprecated != 0;
		/* a DEPRECATED column only where there is something to say in it */
		cli_table_init(&t, dep ? 7 : 6);
		cli_table_row(&t, "VERSION", "DIGEST", "SIZE", "CREATED", "BY", "ALIASES",
			      "DEPRECATED");
		for (i = 0; i < n; i++) {
			char size[32], when[32], dig[32], depw[32];
			struct mlctl_buf names = MLCTL_BUF_INIT;

			mlctl_human_size(size, v[i].size);
			mlctl_time_iso(when, v[i].created);
			snprintf(dig, sizeof(dig), "%.19s", v[i].digest);
			mlctl_buf_puts(&names, "");
			for (k = 0; k < nal; k++)
				if (!strcmp(al[k].version, v[i].version))
					mlctl_buf_printf(&names, "%s%s", names.len ? "," : "",
							 al[k].alias);
			if (v[i].deprecated)
				mlctl_time_iso(depw, v[i].deprecated);
			else
				snprintf(depw, sizeof(depw), "-");
			cli_table_row(&t, v[i].version, dig, size, when, v[i].actor, names.buf, depw);
			mlctl_buf_release(&names);
		}
		cli_table_print(cli, &t);
		cli_table_release(&t);
	}
	if (n && v[0].model_deprecated) {
		char when[32];

		mlctl_time_iso(when, v[0].model_deprecated);
		cli_note(cli, "model %s is deprecated (since %s) and takes no new version; see "
			 "'mlctl history %s'", v[0].name, when, v[0].name);
	}
	mlctl_version_infos_free(v, n);
	mlctl_alias_infos_free(al, nal);
	return 0;
}
