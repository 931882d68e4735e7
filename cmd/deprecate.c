/*
 * deprecate.c - mlctl deprecate REF|NAME and mlctl undeprecate REF|NAME: mark
 * a version (or a whole model) as not to be used, and take that back. A
 * deprecated version is not promoted and warns on pull; a deprecated model
 * takes no new version. Each is an event in the registry's history; a
 * deprecation also a tag in DVC GTO's form.
 */
#include <string.h>

#include "cli.h"
#include "registry.h"
#include "banned.h"

static const struct cli_opt opts[] = {
	{ "reason", 0, "TEXT", "why (kept in the event and the tag)" },
	{ NULL, 0, NULL, NULL },
};

const struct cli_cmd cli_cmd_deprecate = {
	"deprecate", cmd_deprecate, "mark a version, or a whole model, as not to be used",
	"REF|NAME [--reason TEXT]", opts, 1, 1,
};

const struct cli_cmd cli_cmd_undeprecate = {
	"undeprecate", cmd_deprecate, "take a deprecation of a version or a model back",
	"REF|NAME [--reason TEXT]", opts, 1, 1,
};

int cmd_deprecate(struct cli *cli, int argc, char **argv)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_registry *r = NULL;
	struct mlctl_deprecation d;
	const char *reason = cli_opt(cli, "reason");
	int undo = cli->cmd == &cli_cmd_undeprecate, rc;
	char what[MLCTL_NAME_MAX + 260];

	(void)argc;
	if (reason && !*reason)
		return cli_usage(cli, "--reason needs a text");
	if ((rc = cli_open_registry(cli, &r, 0)))
		return rc;
	rc = mlctl_registry_deprecate(r, &d, argv[0], undo, reason, &err);
	mlctl_registry_free(r);
	if (rc)
		return cli_fail(cli, &err);
	if (*d.version)
		snprintf(what, sizeof(what), "%s:%s", d.name, d.version);
	else
		snprintf(what, sizeof(what), "model %s", d.name);
	if (cli->json) {
		cJSON *doc = cli_json_doc();

		cJSON_AddStringToObject(doc, "model", d.name);
		if (*d.version) {
			cJSON_AddStringToObject(doc, "version", d.version);
			cJSON_AddStringToObject(doc, "digest", d.digest);
		}
		cJSON_AddBoolToObject(doc, "deprecated", !undo);
		cJSON_AddBoolToObject(doc, "changed", !d.unchanged);
		if (d.tag)
			cJSON_AddStringToObject(doc, "tag", d.tag);
		cli_print_json(doc);
	} else if (d.unchanged) {
		printf("%s is %s\n", what, undo ? "not deprecated" : "deprecated already");
	} else if (undo) {
		printf("%s is no longer deprecated\n", what);
	} else {
		printf("%s is deprecated (tag %s)\n", what, d.tag);
	}
	mlctl_deprecation_release(&d);
	return 0;
}
