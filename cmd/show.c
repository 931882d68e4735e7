/*
 * show.c - mlctl show REF: one version, its manifest and files.
 */
#include "cli.h"
#include "registry.h"
#include "banned.h"

const struct cli_cmd cli_cmd_show = {
	"show", cmd_show, "show one version: digest, who and when, metadata and files",
	"REF [--json]", NULL, 1, 1,
};

int cmd_show(struct cli *cli, int argc, char **argv)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_registry *r = NULL;
	struct mlctl_version_info info;
	struct mlctl_manifest m;
	struct mlctl_record_info *rec = NULL;
	struct mlctl_alias_info *al = NULL;
	size_t nrec = 0, nal = 0;
	char when[32], size[32];
	size_t i;
	int rc;

	(void)argc;
	if ((rc = cli_open_registry(cli, &r, 0)))
		return rc;
	rc = mlctl_registry_resolve(r, &info, &m, argv[0], &err);
	if (!rc && ((rc = mlctl_registry_records(r, &rec, &nrec, info.digest, &err)) ||
		    (rc = mlctl_registry_aliases(r, &al, &nal, info.name, info.digest, &err)))) {
		mlctl_record_infos_free(rec, nrec);
		mlctl_manifest_release(&m);
		mlctl_version_info_release(&info);
	}
	mlctl_registry_free(r);
	if (rc)
		return cli_fail(cli, &err);
	mlctl_time_iso(when, info.created);
	mlctl_human_size(size, info.size);
	if (cli->json) {
		cJSON *doc = cli_json_doc(), *records, *aliases;

		cJSON_AddStringToObject(doc, "name", info.name);
		cJSON_AddStringToObject(doc, "version", info.version);
		cJSON_AddStringToObject(doc, "digest", info.digest);
		cJSON_AddNumberToObject(doc, "size", (double)info.size);
		cJSON_AddStringToObject(doc, "created", when);
		cJSON_AddStringToObject(doc, "actor", info.actor);
		cJSON_AddBoolToObject(doc, "validated", info.validated);
		cJSON_AddItemToObject(doc, "manifest", cJSON_Duplicate(m.json, 1));
		aliases = cJSON_AddArrayToObject(doc, "aliases");
		for (i = 0; i < nal; i++)
			cJSON_AddItemToArray(aliases, cJSON_CreateString(al[i].alias));
		records = cJSON_AddArrayToObject(doc, "records");
		for (i = 0; i < nrec; i++) {
			cJSON *o = cJSON_CreateObject();
			char rw[32];

			mlctl_time_iso(rw, rec[i].created);
			cJSON_AddStringToObject(o, "kind", rec[i].kind);
			cJSON_AddBoolToObject(o, "passed", rec[i].passed);
			cJSON_AddStringToObject(o, "created", rw);
			cJSON_AddStringToObject(o, "actor", rec[i].actor);
			cJSON_AddStringToObject(o, "path", rec[i].path);
			cJSON_AddItemToObject(o, "summary", cJSON_Parse(rec[i].summary));
			cJSON_AddItemToArray(records, o);
		}
		cli_print_json(doc);
	} else {
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(m.json, "description");
		const cJSON *fw = cJSON_GetObjectItemCaseSensitive(m.json, "framework");
		const cJSON *lic = cJSON_GetObjectItemCaseSensitive(m.json, "license");
		const cJSON *met = cJSON_GetObjectItemCaseSensitive(m.json, "metrics"), *x;
		struct cli_table t;

		printf("%sname:%s        %s\n", cli_c(cli, "bold"), cli_c(cli, "reset"), info.name);
		printf("version:     %s\n", info.version);
		printf("digest:      %s\n", info.digest);
		printf("size:        %s in %zu file%s\n", size, info.nfiles, info.nfiles == 1 ? "" : "s");
		printf("created:     %s by %s\n", when, info.actor);
		printf("validated:   %s\n", info.validated ? "yes" : "no (pushed with --no-validate)");
		if (nal) {
			printf("aliases:    ");
			for (i = 0; i < nal; i++)
				printf(" %s", al[i].alias);
			putchar('\n');
		}
		if (cJSON_IsString(fw))
			printf("framework:   %s\n", fw->valuestring);
		if (cJSON_IsString(lic))
			printf("license:     %s\n", lic->valuestring);
		if (cJSON_IsString(d))
			printf("description: %s\n", d->valuestring);
		cJSON_ArrayForEach(x, met)
			printf("metric:      %s = %g\n", x->string, x->valuedouble);
		for (i = 0; i < nrec; i++) {
			char rw[32];
			cJSON *sum = cJSON_Parse(rec[i].summary);
			const cJSON *e = cJSON_GetObjectItemCaseSensitive(sum, "errors");
			const cJSON *w = cJSON_GetObjectItemCaseSensitive(sum, "warnings");

			mlctl_time_iso(rw, rec[i].created);
			printf("record:      %s %s%s%s %s by %s (%d errors, %d warnings)\n",
			       rec[i].kind, cli_c(cli, rec[i].passed ? "green" : "red"),
			       rec[i].passed ? "passed" : "failed", cli_c(cli, "reset"), rw,
			       rec[i].actor, cJSON_IsNumber(e) ? (int)e->valuedouble : 0,
			       cJSON_IsNumber(w) ? (int)w->valuedouble : 0);
			cJSON_Delete(sum);
		}
		putchar('\n');
		cli_table_init(&t, 4);
		cli_table_row(&t, "PATH", "SIZE", "MODE", "SHA256");
		for (i = 0; i < m.nfiles; i++) {
			char fs[32], mode[8];

			mlctl_human_size(fs, m.files[i].size);
			snprintf(mode, sizeof(mode), "%04o", m.files[i].mode);
			cli_table_row(&t, m.files[i].path, fs, mode, m.files[i].sha256);
		}
		cli_table_print(cli, &t);
		cli_table_release(&t);
	}
	mlctl_record_infos_free(rec, nrec);
	mlctl_alias_infos_free(al, nal);
	mlctl_manifest_release(&m);
	mlctl_version_info_release(&info);
	return 0;
}
