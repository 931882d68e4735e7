/*
 * registry.c - mlctl registry verify|reindex: check or rebuild the registry.
 */
#include <string.h>

#include "cli.h"
#include "registry.h"
#include "banned.h"

const struct cli_cmd cli_cmd_registry = {
	"registry", cmd_registry,
	"verify: re-hash every blob and check git and the database agree; reindex: rebuild "
	"the database from git",
	"verify|reindex", NULL, 1, 1,
};

static int verify(struct cli *cli, struct mlctl_registry *r)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_verify_report rep;
	int rc = mlctl_registry_verify(r, &rep, &err);

	if (rc && rc != MLCTL_EINTEGRITY) {
		mlctl_buf_release(&rep.problems);
		return cli_fail(cli, &err);
	}
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
		if (rc) {
			/* one document: the report, with the error in it */
			mlctl_buf_release(&rep.problems);
			return cli_fail_doc(cli, &err, doc);
		}
		cli_print_json(doc);
	} else {
		if (rep.nproblems)
			fputs(rep.problems.buf, stdout);
		printf("%s%s%s: %zu version%s, %zu file%s, %zu blob%s, %zu git objects checked\n",
		       cli_c(cli, rep.nproblems ? "red" : "green"),
		       rep.nproblems ? "problems found" : "ok", cli_c(cli, "reset"), rep.versions,
		       rep.versions == 1 ? "" : "s", rep.files, rep.files == 1 ? "" : "s", rep.blobs,
		       rep.blobs == 1 ? "" : "s", rep.git_objects);
	}
	mlctl_buf_release(&rep.problems);
	return rc ? cli_fail(cli, &err) : 0;
}

int cmd_registry(struct cli *cli, int argc, char **argv)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_registry *r = NULL;
	size_t events = 0;
	int rc;

	(void)argc;
	if (strcmp(argv[0], "verify") && strcmp(argv[0], "reindex"))
		return cli_usage(cli, "'registry %s' is not known; use verify or reindex", argv[0]);
	if ((rc = cli_open_registry(cli, &r, 0)))
		return rc;
	if (!strcmp(argv[0], "verify")) {
		rc = verify(cli, r);
		mlctl_registry_free(r);
		return rc;
	}
	rc = mlctl_registry_reindex(r, &events, &err);
	mlctl_registry_free(r);
	if (rc)
		return cli_fail(cli, &err);
	if (cli->json) {
		cJSON *doc = cli_json_doc();

		cJSON_AddNumberToObject(doc, "events", (double)events);
		cli_print_json(doc);
	} else {
		printf("reindexed: %zu event%s replayed from git\n", events, events == 1 ? "" : "s");
	}
	return 0;
}
