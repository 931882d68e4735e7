/*
 * show.c - mlctl show DIR|PKG|REF: one version of a model, from the
 * registry (with its records and aliases), a package, or a project folder
 * as it would be packaged; its metadata and files.
 */
#include <stdlib.h>

#include "cli.h"
#include "oci.h"
#include "registry.h"
#include "target.h"
#include "banned.h"

static const struct cli_opt opts[] = {
	{ "from", 0, "REMOTE", "the version as a remote's OCI registry holds it: manifest "
			       "digest, layers, sizes" },
	CLI_OCI_OPTS,
	{ NULL, 0, NULL, NULL },
};

const struct cli_cmd cli_cmd_show = {
	"show", cmd_show,
	"show a registry version, a package or a project: digest, metadata and files",
	"DIR|PKG|REF [--from REMOTE] [--json]", opts, 1, 1,
};

static const char *const source_name[] = { "project", "package", "registry" };

static void print_json(const struct mlctl_target *t, const struct mlctl_record_info *rec,
		       size_t nrec, const struct mlctl_alias_info *al, size_t nal)
{
	cJSON *doc = cli_json_doc(), *records, *aliases;
	size_t i;

	cJSON_AddStringToObject(doc, "name", t->m.name);
	cJSON_AddStringToObject(doc, "version", t->m.version);
	cJSON_AddStringToObject(doc, "digest", t->digest);
	cJSON_AddNumberToObject(doc, "size", (double)mlctl_manifest_total_size(&t->m));
	cJSON_AddStringToObject(doc, "source", source_name[t->kind]);
	if (t->kind != MLCTL_TARGET_REF) {
		cJSON_AddStringToObject(doc, "path", t->word);
		cJSON_AddItemToObject(doc, "manifest", cJSON_Duplicate(t->m.json, 1));
		cli_print_json(doc);
		return;
	}
	{
		char when[32];

		mlctl_time_iso(when, t->info.created);
		cJSON_AddStringToObject(doc, "created", when);
	}
	cJSON_AddStringToObject(doc, "actor", t->info.actor);
	cJSON_AddBoolToObject(doc, "validated", t->info.validated);
	{
		char when[32];

		mlctl_time_iso(when, t->info.deprecated);
		if (t->info.deprecated)
			cJSON_AddStringToObject(doc, "deprecated", when);
		else
			cJSON_AddNullToObject(doc, "deprecated");
		mlctl_time_iso(when, t->info.model_deprecated);
		if (t->info.model_deprecated)
			cJSON_AddStringToObject(doc, "model_deprecated", when);
		else
			cJSON_AddNullToObject(doc, "model_deprecated");
	}
	cJSON_AddItemToObject(doc, "manifest", cJSON_Duplicate(t->m.json, 1));
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
}

/* Where a registry version came from and what is stored about it. */
static void print_stored(struct cli *cli, const struct mlctl_target *t,
			 const struct mlctl_record_info *rec, size_t nrec,
			 const struct mlctl_alias_info *al, size_t nal)
{
	char when[32];
	size_t i;

	mlctl_time_iso(when, t->info.created);
	printf("created:     %s by %s\n", when, t->info.actor);
	printf("validated:   %s\n", t->info.validated ? "yes" : "no (pushed with --no-validate)");
	if (t->info.deprecated) {
		mlctl_time_iso(when, t->info.deprecated);
		printf("deprecated:  since %s (see 'mlctl history %s')\n", when, t->info.name);
	}
	if (t->info.model_deprecated) {
		mlctl_time_iso(when, t->info.model_deprecated);
		printf("deprecated:  the model, since %s\n", when);
	}
	if (nal) {
		printf("aliases:    ");
		for (i = 0; i < nal; i++)
			printf(" %s%s%s%s", al[i].alias, *al[i].before ? " (before: " : "",
			       al[i].before, *al[i].before ? ")" : "");
		putchar('\n');
	}
	for (i = 0; i < nrec; i++) {
		char rw[32];
		cJSON *sum = cJSON_Parse(rec[i].summary);
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(sum, "errors");
		const cJSON *w = cJSON_GetObjectItemCaseSensitive(sum, "warnings");

		mlctl_time_iso(rw, rec[i].created);
		printf("record:      %s %s%s%s %s by %s (%d errors, %d warnings)\n", rec[i].kind,
		       cli_c(cli, rec[i].passed ? "green" : "red"), rec[i].passed ? "passed" : "failed",
		       cli_c(cli, "reset"), rw, rec[i].actor,
		       cJSON_IsNumber(e) ? (int)e->valuedouble : 0,
		       cJSON_IsNumber(w) ? (int)w->valuedouble : 0);
		cJSON_Delete(sum);
	}
}

static void print_text(struct cli *cli, const struct mlctl_target *t,
		       const struct mlctl_record_info *rec, size_t nrec,
		       const struct mlctl_alias_info *al, size_t nal)
{
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(t->m.json, "description");
	const cJSON *fw = cJSON_GetObjectItemCaseSensitive(t->m.json, "framework");
	const cJSON *lic = cJSON_GetObjectItemCaseSensitive(t->m.json, "license");
	const cJSON *met = cJSON_GetObjectItemCaseSensitive(t->m.json, "metrics"), *x;
	struct cli_table tab;
	char size[32];
	size_t i;

	mlctl_human_size(size, mlctl_manifest_total_size(&t->m));
	printf("%sname:%s        %s\n", cli_c(cli, "bold"), cli_c(cli, "reset"), t->m.name);
	printf("version:     %s\n", t->m.version);
	printf("digest:      %s\n", t->digest);
	printf("size:        %s in %zu file%s\n", size, t->m.nfiles, t->m.nfiles == 1 ? "" : "s");
	if (t->kind == MLCTL_TARGET_REF)
		print_stored(cli, t, rec, nrec, al, nal);
	else if (t->kind == MLCTL_TARGET_PKG)
		printf("package:     %s\n", t->word);
	else
		printf("project:     %s (as it would be packaged)\n", t->word);
	if (cJSON_IsString(fw))
		printf("framework:   %s\n", fw->valuestring);
	if (cJSON_IsString(lic))
		printf("license:     %s\n", lic->valuestring);
	if (cJSON_IsString(d))
		printf("description: %s\n", d->valuestring);
	cJSON_ArrayForEach(x, met)
		printf("metric:      %s = %g\n", x->string, x->valuedouble);
	putchar('\n');
	cli_table_init(&tab, 4);
	cli_table_row(&tab, "PATH", "SIZE", "MODE", "SHA256");
	for (i = 0; i < t->m.nfiles; i++) {
		char fs[32], mode[8];

		mlctl_human_size(fs, t->m.files[i].size);
		snprintf(mode, sizeof(mode), "%04o", t->m.files[i].mode);
		cli_table_row(&tab, t->m.files[i].path, fs, mode, t->m.files[i].sha256);
	}
	cli_table_print(cli, &tab);
	cli_table_release(&tab);
}

static const char *layer_str(const cJSON *l, const char *key)
{
	const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(l, key));

	return v ? v : "";
}

static const char *layer_path(const cJSON *l)
{
	const cJSON *ann = cJSON_GetObjectItemCaseSensitive(l, "annotations");
	const char *p = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ann,
		"org.cncf.model.filepath"));

	return p ? p : layer_str(ann, "org.opencontainers.image.title");
}

/* show REF --from REMOTE: the OCI manifest, its layers and what they hold. */
static int show_remote(struct cli *cli, const char *word, const char *from)
{
	struct mlctl_oci *c = NULL;
	struct mlctl_oci_loc loc;
	struct mlctl_oci_version v;
	const cJSON *l, *layers;
	char *ref;
	int rc;

	if ((rc = cli_remote_fetch(cli, &c, &loc, &v, word, from)))
		return rc;
	mlctl_oci_free(c);
	layers = cJSON_GetObjectItemCaseSensitive(v.json, "layers");
	ref = mlctl_aprintf("%s/%s@%s", loc.host, v.repo, v.digest);
	if (cli->json) {
		cJSON *doc = cli_json_doc(), *arr;

		cJSON_AddStringToObject(doc, "name", v.m.name);
		cJSON_AddStringToObject(doc, "version", v.m.version);
		cJSON_AddStringToObject(doc, "digest", v.version_digest);
		cJSON_AddNumberToObject(doc, "size", (double)mlctl_manifest_total_size(&v.m));
		cJSON_AddStringToObject(doc, "source", "remote");
		cJSON_AddStringToObject(doc, "registry", loc.host);
		cJSON_AddStringToObject(doc, "repository", v.repo);
		cJSON_AddStringToObject(doc, "reference", ref);
		cJSON_AddStringToObject(doc, "manifest_digest", v.digest);
		arr = cJSON_AddArrayToObject(doc, "layers");
		cJSON_ArrayForEach(l, layers) {
			cJSON *o = cJSON_CreateObject();

			cJSON_AddStringToObject(o, "path", layer_path(l));
			cJSON_AddStringToObject(o, "media_type", layer_str(l, "mediaType"));
			cJSON_AddStringToObject(o, "digest", layer_str(l, "digest"));
			cJSON_AddNumberToObject(o, "size", cJSON_GetNumberValue(
				cJSON_GetObjectItemCaseSensitive(l, "size")));
			cJSON_AddItemToArray(arr, o);
		}
		cJSON_AddItemToObject(doc, "oci_manifest", cJSON_Duplicate(v.json, 1));
		cJSON_AddItemToObject(doc, "manifest", cJSON_Duplicate(v.m.json, 1));
		cli_print_json(doc);
	} else {
		struct cli_table tab;
		char size[32];

		mlctl_human_size(size, mlctl_manifest_total_size(&v.m));
		printf("%sname:%s        %s\n", cli_c(cli, "bold"), cli_c(cli, "reset"), v.m.name);
		printf("version:     %s\n", v.m.version);
		printf("digest:      %s\n", v.version_digest);
		printf("size:        %s in %zu file%s\n", size, v.m.nfiles,
		       v.m.nfiles == 1 ? "" : "s");
		printf("remote:      %s\n\n", ref);
		cli_table_init(&tab, 4);
		cli_table_row(&tab, "PATH", "SIZE", "MEDIA TYPE", "DIGEST");
		cJSON_ArrayForEach(l, layers) {
			mlctl_human_size(size, (uint64_t)cJSON_GetNumberValue(
				cJSON_GetObjectItemCaseSensitive(l, "size")));
			cli_table_row(&tab, layer_path(l), size, layer_str(l, "mediaType"),
				      layer_str(l, "digest"));
		}
		cli_table_print(cli, &tab);
		cli_table_release(&tab);
	}
	free(ref);
	mlctl_oci_version_release(&v);
	return 0;
}

int cmd_show(struct cli *cli, int argc, char **argv)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_target t;
	struct mlctl_registry *r;
	struct mlctl_record_info *rec = NULL;
	struct mlctl_alias_info *al = NULL;
	size_t nrec = 0, nal = 0;
	int rc;

	(void)argc;
	if (cli_opt(cli, "from"))
		return show_remote(cli, argv[0], cli_opt(cli, "from"));
	if (cli_oci_opts_given(cli))
		return cli_usage(cli, "--insecure, --registry-config, --ca-file, --cert and --key "
				 "go with --from REMOTE");
	if ((rc = cli_target(cli, &t, argv[0])))
		goto done;
	if ((rc = mlctl_target_open(&t, &err)) ||
	    (t.kind == MLCTL_TARGET_REF &&
	     ((rc = mlctl_target_registry(&r, &t, &err)) ||
	      (rc = mlctl_registry_records(r, &rec, &nrec, t.digest, &err)) ||
	      (rc = mlctl_registry_aliases(r, &al, &nal, t.info.name, t.digest, &err))))) {
		rc = cli_fail(cli, &err);
		goto done;
	}
	if (cli->json)
		print_json(&t, rec, nrec, al, nal);
	else
		print_text(cli, &t, rec, nrec, al, nal);
done:
	mlctl_record_infos_free(rec, nrec);
	mlctl_alias_infos_free(al, nal);
	mlctl_target_release(&t);
	return rc;
}
