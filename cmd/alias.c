/*
 * alias.c - mlctl alias set REF ALIAS | rm NAME ALIAS | list [NAME]: the
 * movable names of versions (production, staging, champion), each move an
 * event in the registry's history and a tag in DVC GTO's format.
 */
#include <string.h>

#include "cli.h"
#include "registry.h"
#include "banned.h"

static const struct cli_opt opts[] = {
	{ "reason", 0, "TEXT", "why the alias moves (kept in the event and the tag)" },
	{ NULL, 0, NULL, NULL },
};

const struct cli_cmd cli_cmd_alias = {
	"alias", cmd_alias, "point a movable name (production, staging...) at a version",
	"set REF ALIAS [--reason TEXT] | rm NAME ALIAS [--reason TEXT] | list [NAME]", opts, 1, 3,
};

static int list(struct cli *cli, const char *name)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_registry *r = NULL;
	struct mlctl_alias_info *a = NULL;
	size_t n = 0, i;
	int rc;

	if ((rc = cli_open_registry(cli, &r, 0)))
		return rc;
	rc = mlctl_registry_aliases(r, &a, &n, name, NULL, &err);
	mlctl_registry_free(r);
	if (rc)
		return cli_fail(cli, &err);
	if (cli->json) {
		cJSON *doc = cli_json_doc(), *arr = cJSON_AddArrayToObject(doc, "aliases");

		for (i = 0; i < n; i++) {
			cJSON *o = cJSON_CreateObject();
			char when[32];

			mlctl_time_iso(when, a[i].moved);
			cJSON_AddStringToObject(o, "model", a[i].model);
			cJSON_AddStringToObject(o, "alias", a[i].alias);
			cJSON_AddStringToObject(o, "version", a[i].version);
			cJSON_AddStringToObject(o, "digest", a[i].digest);
			cJSON_AddStringToObject(o, "moved", when);
			cJSON_AddStringToObject(o, "actor", a[i].actor);
			if (*a[i].before)
				cJSON_AddStringToObject(o, "before", a[i].before);
			else
				cJSON_AddNullToObject(o, "before");
			cJSON_AddItemToArray(arr, o);
		}
		cli_print_json(doc);
	} else if (n) {
		struct cli_table t;

		cli_table_init(&t, 7);
		cli_table_row(&t, "MODEL", "ALIAS", "VERSION", "DIGEST", "BEFORE", "MOVED", "BY");
		for (i = 0; i < n; i++) {
			char when[32], dig[32];

			mlctl_time_iso(when, a[i].moved);
			snprintf(dig, sizeof(dig), "%.19s", a[i].digest);
			cli_table_row(&t, a[i].model, a[i].alias, a[i].version, dig,
				      *a[i].before ? a[i].before : "-", when, a[i].actor);
		}
		cli_table_print(cli, &t);
		cli_table_release(&t);
	} else {
		cli_note(cli, "no aliases%s%s; set one with 'mlctl alias set NAME:VERSION ALIAS'",
			 name ? " of " : "", name ? name : "");
	}
	mlctl_alias_infos_free(a, n);
	return 0;
}

int cmd_alias(struct cli *cli, int argc, char **argv)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_registry *r = NULL;
	struct mlctl_alias_move mv;
	const char *reason = cli_opt(cli, "reason");
	int set = !strcmp(argv[0], "set"), rc;

	if (!strcmp(argv[0], "list")) {
		if (argc > 2)
			return cli_usage(cli, "'alias list' takes at most one model name");
		if (reason)
			return cli_usage(cli, "--reason goes with 'alias set' or 'alias rm'");
		return list(cli, argc > 1 ? argv[1] : NULL);
	}
	if (!set && strcmp(argv[0], "rm"))
		return cli_usage(cli, "'alias %s' is not known; use set, rm or list", argv[0]);
	if (argc != 3)
		return cli_usage(cli, set ? "'alias set' takes REF ALIAS, such as 'mlctl alias set "
					    "iris:1.2.0 production'"
					  : "'alias rm' takes NAME ALIAS, such as 'mlctl alias rm iris "
					    "staging'");
	if (reason && !*reason)
		return cli_usage(cli, "--reason needs a text");
	if ((rc = cli_open_registry(cli, &r, 0)))
		return rc;
	rc = set ? mlctl_registry_alias_set(r, &mv, argv[1], argv[2], reason, &err)
		 : mlctl_registry_alias_rm(r, &mv, argv[1], argv[2], reason, &err);
	mlctl_registry_free(r);
	if (rc)
		return cli_fail(cli, &err);
	if (cli->json) {
		cJSON *doc = cli_json_doc();

		cJSON_AddStringToObject(doc, "model", mv.name);
		cJSON_AddStringToObject(doc, "alias", argv[2]);
		cJSON_AddStringToObject(doc, set ? "version" : "was", mv.version);
		cJSON_AddStringToObject(doc, "digest", mv.digest);
		if (set)
			cJSON_AddStringToObject(doc, "from", mv.from);
		cJSON_AddBoolToObject(doc, "changed", !mv.unchanged);
		if (mv.tag)
			cJSON_AddStringToObject(doc, "tag", mv.tag);
		cli_print_json(doc);
	} else if (mv.unchanged) {
		printf("%s:%s already points at %s\n", mv.name, argv[2], mv.version);
	} else if (set) {
		printf("%s:%s -> %s%s%s (tag %s)\n", mv.name, argv[2], mv.version,
		       *mv.from ? ", was " : "", mv.from, mv.tag);
	} else {
		printf("removed %s:%s, which pointed at %s (tag %s)\n", mv.name, argv[2],
		       mv.version, mv.tag);
	}
	mlctl_alias_move_release(&mv);
	return 0;
}
