/*
 * push.c - mlctl push [DIR|PKG]: store a version in the registry.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "registry.h"
#include "report.h"
#include "target.h"
#include "validate.h"
#include "banned.h"

static const struct cli_opt opts[] = {
	{ "bump", 0, "PART", "store as the next major, minor or patch version after the "
			     "highest one stored" },
	{ "no-validate", 0, NULL, "store without validating (marked unvalidated)" },
	{ NULL, 0, NULL, NULL },
};

const struct cli_cmd cli_cmd_push = {
	"push", cmd_push, "store a project folder or a package as a version in the registry",
	"[DIR|PKG] [--bump major|minor|patch] [--no-validate]", opts, 0, 1,
};

/*
 * The checks of 'mlctl validate' (digests are checked by the push itself).
 * A refusal carries the findings: on stderr, and with --json in the error
 * document, shaped as 'validate --json' reports them.
 */
static int check_first(struct cli *cli, const char *src)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_validate_opts o;
	struct mlctl_report rep;
	struct mlctl_target t;
	enum mlctl_target_kind kind;
	int rc;

	rc = mlctl_target_init(&t, src, NULL, &err);
	kind = t.kind;
	mlctl_target_release(&t);
	if (rc || kind == MLCTL_TARGET_REF)
		return 0; /* the push says what is missing */
	memset(&o, 0, sizeof(o));
	o.skip_digests = 1;
	mlctl_report_init(&rep, src);
	rc = mlctl_validate_path(&rep, src, &o, &err);
	if (rc) {
		mlctl_report_release(&rep);
		return cli_fail(cli, &err);
	}
	/* a package whose structure or manifest is broken was damaged or made by
	 * hand: an integrity failure (exit 5), not a failed gate */
	if (kind == MLCTL_TARGET_PKG && mlctl_validate_damaged(&rep, 1, &err)) {
		mlctl_report_sort(&rep);
		rc = cli_fail_doc(cli, &err, mlctl_report_json(&rep, 0));
		mlctl_report_release(&rep);
		return rc;
	}
	if (mlctl_report_failed(&rep, 0)) {
		mlctl_report_sort(&rep);
		cli_print_report(cli, &rep, 0, stderr);
		mlctl_err_set(&err, MLCTL_EGATE,
			      "'%s' failed validation with %zu error%s; fix them (see 'mlctl validate "
			      "%s') or push with --no-validate",
			      src, mlctl_report_count(&rep, MLCTL_SEV_ERROR),
			      mlctl_report_count(&rep, MLCTL_SEV_ERROR) == 1 ? "" : "s", src);
		rc = cli_fail_doc(cli, &err, mlctl_report_json(&rep, 0));
	}
	mlctl_report_release(&rep);
	return rc;
}

int cmd_push(struct cli *cli, int argc, char **argv)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_registry *r = NULL;
	struct mlctl_push_result res;
	const char *src = argc > 0 ? argv[0] : ".";
	const char *bump = cli_opt(cli, "bump");
	char size[32], why[512] = "";
	int validated = cli_opt(cli, "no-validate") == NULL, rc;

	/* a registry given as a remote is refused before any work is done */
	if ((rc = cli_check_registry(cli)))
		return rc;
	if (validated && (rc = check_first(cli, src)))
		return rc;
	/* a first push writes a registry beside, renamed into place only when it succeeds */
	if ((rc = cli_open_registry(cli, &r, MLCTL_OPEN_FIRST)))
		return rc;
	rc = mlctl_registry_push(r, &res, src, bump, validated, &err);
	if (!rc && (rc = mlctl_registry_publish(r, &err)) == 1) {
		/* another first push made the registry meanwhile: push into that one */
		mlctl_registry_free(r);
		if ((rc = cli_open_registry(cli, &r, 1)))
			return rc;
		rc = mlctl_registry_push(r, &res, src, bump, validated, &err);
	}
	mlctl_registry_free(r);
	if (rc)
		return cli_fail(cli, &err);
	/*
	 * With --bump, a version that existed is the highest one, holding this
	 * content already (the next version is never stored yet): no bump.
	 */
	if (bump && res.existed) {
		snprintf(why, sizeof(why), "%s:%s, the highest version, holds the same content",
			 res.name, res.version);
		cli_note(cli, "--bump %s skipped: %s; change the model's files or mlctl.json to "
			 "push a new version", bump, why);
	}
	mlctl_human_size(size, res.size);
	if (cli->json) {
		cJSON *doc = cli_json_doc();

		cJSON_AddStringToObject(doc, "name", res.name);
		cJSON_AddStringToObject(doc, "version", res.version);
		cJSON_AddStringToObject(doc, "digest", res.digest);
		cJSON_AddBoolToObject(doc, "existed", res.existed);
		cJSON_AddBoolToObject(doc, "validated", validated);
		cJSON_AddNumberToObject(doc, "files", (double)res.nfiles);
		cJSON_AddNumberToObject(doc, "size", (double)res.size);
		cJSON_AddNumberToObject(doc, "blobs_written", (double)res.blobs_written);
		if (bump) {
			cJSON *b = cJSON_AddObjectToObject(doc, "bump");

			cJSON_AddStringToObject(b, "part", bump);
			cJSON_AddBoolToObject(b, "skipped", *why != '\0');
			if (*why)
				cJSON_AddStringToObject(b, "reason", why);
		}
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
