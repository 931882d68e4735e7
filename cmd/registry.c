/*
 * registry.c - mlctl registry verify|reindex|gc: check, rebuild or clean
 * the registry.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "oci.h"
#include "registry.h"
#include "banned.h"

static const struct cli_opt opts[] = {
	{ "dry-run", 0, NULL, "gc: say what would be removed, remove nothing" },
	{ "prune-deprecated", 0, NULL, "gc: also drop the bytes of deprecated versions no alias "
				       "ever held" },
	{ "repair", 0, NULL, "verify: heal missing or corrupt blobs from good copies (--from)" },
	{ "from", 0, "DIR|PKG", "verify --repair: a project folder or package holding good "
				"copies (repeatable)" },
	{ "theirs", 0, "NAME:VERSION", "sync: keep the remote's NAME:VERSION where both sides "
				       "pushed it with other content, dropping this registry's "
				       "(repeatable)" },
	CLI_OCI_OPTS,
	{ NULL, 0, NULL, NULL },
};

const struct cli_cmd cli_cmd_registry = {
	"registry", cmd_registry,
	"verify: re-hash every blob, read every git object and check git and the database "
	"agree; reindex: rebuild the database from git; gc: remove what crashed writes left; "
	"sync: share the history with a remote's git repository",
	"verify [--repair [--from DIR|PKG]...] | reindex | gc [--dry-run] [--prune-deprecated] | sync REMOTE [--theirs NAME:VERSION]...", opts, 1, 2,
};

/* "3 orphan blobs (1.2 MiB)" */
static char *count_bytes(size_t n, const char *one, const char *many, uint64_t bytes)
{
	char size[32];

	mlctl_human_size(size, bytes);
	return mlctl_aprintf("%zu %s (%s)", n, n == 1 ? one : many, size);
}

/* The garbage as warning lines, for verify (each a line the caller frees). */
static size_t garbage_warnings(char *out[3], const struct mlctl_garbage *g)
{
	size_t n = 0;
	char *what;

	if (g->blobs) {
		what = count_bytes(g->blobs, "orphan blob", "orphan blobs", g->blob_bytes);
		out[n++] = mlctl_aprintf("%s that no version names; remove %s with 'mlctl "
					 "registry gc'", what, g->blobs == 1 ? "it" : "them");
		free(what);
	}
	if (g->git_objects) {
		what = count_bytes(g->git_objects, "git object", "git objects", g->git_bytes);
		out[n++] = mlctl_aprintf("%s in index.git that no event reaches; remove %s with "
					 "'mlctl registry gc'",
					 what, g->git_objects == 1 ? "it" : "them");
		free(what);
	}
	if (g->tmp) {
		what = count_bytes(g->tmp, "leftover file in tmp/", "leftover files in tmp/",
				   g->tmp_bytes);
		out[n++] = mlctl_aprintf("%s of writers that are gone; remove %s with 'mlctl "
					 "registry gc'", what, g->tmp == 1 ? "it" : "them");
		free(what);
	}
	return n;
}

static void add_garbage_json(cJSON *doc, const struct mlctl_garbage *g)
{
	cJSON *o = cJSON_AddObjectToObject(doc, "orphan_blobs");

	cJSON_AddNumberToObject(o, "count", (double)g->blobs);
	cJSON_AddNumberToObject(o, "bytes", (double)g->blob_bytes);
	o = cJSON_AddObjectToObject(doc, "unreachable_git_objects");
	cJSON_AddNumberToObject(o, "count", (double)g->git_objects);
	cJSON_AddNumberToObject(o, "bytes", (double)g->git_bytes);
	o = cJSON_AddObjectToObject(doc, "tmp_leftovers");
	cJSON_AddNumberToObject(o, "count", (double)g->tmp);
	cJSON_AddNumberToObject(o, "bytes", (double)g->tmp_bytes);
}

static int verify(struct cli *cli, struct mlctl_registry *r)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_verify_report rep;
	char *warn[3];
	size_t nwarn, i, nfrom = 0;
	const char *const *from = cli_opt_all(cli, "from", &nfrom);
	int repair = cli_opt(cli, "repair") != NULL;
	int rc = mlctl_registry_verify(r, &rep, repair, from, nfrom, &err);

	if (rc && rc != MLCTL_EINTEGRITY) {
		mlctl_verify_report_release(&rep);
		return cli_fail(cli, &err);
	}
	nwarn = garbage_warnings(warn, &rep.garbage);
	if (cli->json) {
		cJSON *doc = cli_json_doc(), *arr;
		char *line, *save = NULL;

		cJSON_AddBoolToObject(doc, "ok", rep.nproblems == 0);
		cJSON_AddNumberToObject(doc, "versions", (double)rep.versions);
		cJSON_AddNumberToObject(doc, "files", (double)rep.files);
		cJSON_AddNumberToObject(doc, "blobs", (double)rep.blobs);
		cJSON_AddNumberToObject(doc, "git_objects", (double)rep.git_objects);
		arr = cJSON_AddArrayToObject(doc, "problems");
		for (line = rep.problems.buf ? strtok_r(rep.problems.buf, "\n", &save) : NULL; line;
		     line = strtok_r(NULL, "\n", &save))
			cJSON_AddItemToArray(arr, cJSON_CreateString(line));
		if (repair) {
			cJSON *o = cJSON_AddObjectToObject(doc, "repair");

			cJSON_AddNumberToObject(o, "healed", (double)rep.nhealed);
			cJSON_AddNumberToObject(o, "unhealed", (double)rep.nunhealed);
			arr = cJSON_AddArrayToObject(o, "lines");
			for (line = rep.healed.buf ? strtok_r(rep.healed.buf, "\n", &save) : NULL;
			     line; line = strtok_r(NULL, "\n", &save))
				cJSON_AddItemToArray(arr, cJSON_CreateString(line));
		}
		arr = cJSON_AddArrayToObject(doc, "warnings");
		for (i = 0; i < nwarn; i++)
			cJSON_AddItemToArray(arr, cJSON_CreateString(warn[i]));
		add_garbage_json(doc, &rep.garbage);
		if (rc) {
			/* one document: the report, with the error in it */
			for (i = 0; i < nwarn; i++)
				free(warn[i]);
			mlctl_verify_report_release(&rep);
			return cli_fail_doc(cli, &err, doc);
		}
		cli_print_json(doc);
	} else {
		if (rep.nhealed)
			fputs(rep.healed.buf, stdout);
		if (repair)
			printf("repair: %zu blob%s healed, %zu still missing or corrupt\n",
			       rep.nhealed, rep.nhealed == 1 ? "" : "s", rep.nunhealed);
		if (rep.nproblems)
			fputs(rep.problems.buf, stdout);
		for (i = 0; i < nwarn; i++)
			printf("%swarning:%s %s\n", cli_c(cli, "yellow"), cli_c(cli, "reset"),
			       warn[i]);
		printf("%s%s%s: %zu version%s, %zu file%s, %zu blob%s, %zu git objects checked\n",
		       cli_c(cli, rep.nproblems ? "red" : "green"),
		       rep.nproblems ? "problems found" : "ok", cli_c(cli, "reset"), rep.versions,
		       rep.versions == 1 ? "" : "s", rep.files, rep.files == 1 ? "" : "s", rep.blobs,
		       rep.blobs == 1 ? "" : "s", rep.git_objects);
	}
	for (i = 0; i < nwarn; i++)
		free(warn[i]);
	mlctl_verify_report_release(&rep);
	return rc ? cli_fail(cli, &err) : 0;
}

static int gc(struct cli *cli, struct mlctl_registry *r, int dry_run, int prune)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_garbage g;
	uint64_t bytes;
	char total[32], *blobs, *objs, *tmp;
	size_t i;
	int rc = mlctl_registry_gc(r, &g, dry_run, prune, &err);

	if (rc) {
		mlctl_garbage_release(&g);
		return cli_fail(cli, &err);
	}
	bytes = g.blob_bytes + g.git_bytes + g.tmp_bytes;
	mlctl_human_size(total, bytes);
	if (cli->json) {
		cJSON *doc = cli_json_doc(), *arr;

		cJSON_AddBoolToObject(doc, "dry_run", dry_run);
		add_garbage_json(doc, &g);
		cJSON_AddNumberToObject(doc, "bytes", (double)bytes);
		arr = cJSON_AddArrayToObject(doc, "paths");
		for (i = 0; i < g.npaths; i++)
			cJSON_AddItemToArray(arr, cJSON_CreateString(g.paths[i]));
		arr = cJSON_AddArrayToObject(doc, "pruned");
		for (i = 0; i < g.npruned; i++)
			cJSON_AddItemToArray(arr, cJSON_CreateString(g.pruned[i]));
		cli_print_json(doc);
		mlctl_garbage_release(&g);
		return 0;
	}
	for (i = 0; i < g.npruned; i++)
		printf("%s the bytes of %s (deprecated, never held by an alias)\n",
		       dry_run ? "would prune" : "pruned", g.pruned[i]);
	for (i = 0; i < g.npaths && (dry_run || cli->verbose); i++)
		printf("%s %s\n", dry_run ? "would remove" : "removed", g.paths[i]);
	if (!g.npaths) {
		printf("nothing to remove\n");
		mlctl_garbage_release(&g);
		return 0;
	}
	blobs = count_bytes(g.blobs, "orphan blob", "orphan blobs", g.blob_bytes);
	objs = count_bytes(g.git_objects, "git object", "git objects", g.git_bytes);
	tmp = count_bytes(g.tmp, "leftover file in tmp/", "leftover files in tmp/", g.tmp_bytes);
	printf("%s %s: %s, %s, %s\n", dry_run ? "would free" : "freed", total, blobs, objs, tmp);
	free(blobs);
	free(objs);
	free(tmp);
	mlctl_garbage_release(&g);
	return 0;
}

static int sync(struct cli *cli, const char *remote)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_registry *r = NULL;
	struct mlctl_sync_result res;
	struct mlctl_oci_opts o;
	int rc;

	size_t ntheirs = 0, i;
	const char *const *theirs = cli_opt_all(cli, "theirs", &ntheirs);

	for (i = 0; i < ntheirs; i++) {
		struct mlctl_ref ref;

		if (mlctl_ref_parse(&ref, theirs[i], &err) || ref.kind != MLCTL_REF_VERSION)
			return cli_usage(cli, "--theirs '%s' is not NAME:VERSION (iris:1.2.0)",
					 theirs[i]);
	}
	if ((rc = cli_oci_opts(cli, &o)) || (rc = cli_open_registry(cli, &r, 0)))
		return rc;
	rc = mlctl_registry_sync(r, &res, remote, &o, theirs, ntheirs, &err);
	mlctl_registry_free(r);
	if (rc)
		return cli_fail(cli, &err);
	if (cli->json) {
		cJSON *doc = cli_json_doc();

		cJSON_AddItemToObject(doc, "sync", cli_sync_json(remote, &res));
		cli_print_json(doc);
	} else {
		cli_sync_print(cli, remote, &res);
	}
	return 0;
}

int cmd_registry(struct cli *cli, int argc, char **argv)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_registry *r = NULL;
	struct mlctl_reindex_result res;
	size_t nfrom = 0;
	int dry_run = cli_opt(cli, "dry-run") != NULL, rc;

	if (!strcmp(argv[0], "sync")) {
		if (argc != 2)
			return cli_usage(cli, "'registry sync' takes the remote's name, such as "
					 "'mlctl registry sync origin'");
		if (dry_run || cli_opt(cli, "repair") || cli_opt(cli, "from"))
			return cli_usage(cli, "--dry-run, --repair and --from do not go with "
					 "'registry sync'");
	} else if (cli_opt(cli, "theirs")) {
		return cli_usage(cli, "--theirs goes with 'registry sync'");
	}
	if (!strcmp(argv[0], "sync")) {
		return sync(cli, argv[1]);
	}
	if (argc > 1)
		return cli_usage(cli, "'registry %s' takes no argument", argv[0]);
	if (cli_oci_opts_given(cli))
		return cli_usage(cli, "--insecure, --registry-config, --ca-file, --cert and --key go "
				 "with 'registry sync'");
	if (strcmp(argv[0], "verify") && strcmp(argv[0], "reindex") && strcmp(argv[0], "gc"))
		return cli_usage(cli, "'registry %s' is not known; use verify, reindex, gc or sync",
				 argv[0]);
	if ((dry_run || cli_opt(cli, "prune-deprecated")) && strcmp(argv[0], "gc"))
		return cli_usage(cli, "--dry-run and --prune-deprecated go with 'registry gc'");
	if (cli_opt(cli, "repair") && strcmp(argv[0], "verify"))
		return cli_usage(cli, "--repair goes with 'registry verify'");
	cli_opt_all(cli, "from", &nfrom);
	if (nfrom && !cli_opt(cli, "repair"))
		return cli_usage(cli, "--from goes with 'registry verify --repair'");
	rc = cli_open_registry(cli, &r, strcmp(argv[0], "gc") ? CLI_OPEN_DAMAGED : 0);
	if (rc)
		return rc;
	if (!strcmp(argv[0], "verify") || !strcmp(argv[0], "gc")) {
		rc = !strcmp(argv[0], "gc") ? gc(cli, r, dry_run, cli_opt(cli, "prune-deprecated") !=
						 NULL) : verify(cli, r);
		mlctl_registry_free(r);
		return rc;
	}
	rc = mlctl_registry_reindex(r, &res, &err);
	mlctl_registry_free(r);
	if (rc)
		return cli_fail(cli, &err);
	if (cli->json) {
		cJSON *doc = cli_json_doc();

		cJSON_AddNumberToObject(doc, "events", (double)res.events);
		cJSON_AddNumberToObject(doc, "versions", (double)res.versions);
		cJSON_AddNumberToObject(doc, "records", (double)res.records);
		cJSON_AddNumberToObject(doc, "aliases", (double)res.aliases);
		cli_print_json(doc);
	} else {
		printf("reindexed: %zu event%s replayed from git: %zu version%s, %zu record%s, "
		       "%zu alias%s\n", res.events, res.events == 1 ? "" : "s", res.versions,
		       res.versions == 1 ? "" : "s", res.records, res.records == 1 ? "" : "s",
		       res.aliases, res.aliases == 1 ? "" : "es");
	}
	return 0;
}
