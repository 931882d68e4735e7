/*
 * promote.c - mlctl promote REF ALIAS, mlctl approve REF ALIAS and mlctl
 * rollback NAME ALIAS: the release engineer's moves. promote moves an alias
 * under its policy (every unmet rule listed, nothing moved), approve records
 * a vote the policy counts, rollback goes back to what the alias held before.
 */
#include <string.h>

#include "cli.h"
#include "registry.h"
#include "banned.h"

static const struct cli_opt promote_opts[] = {
	{ "reason", 0, "TEXT", "why (a change ticket, say; kept in the event and the tag)" },
	{ "force", 0, NULL, "move even though rules are unmet (needs --reason; recorded as forced)" },
	{ NULL, 0, NULL, NULL },
};

static const struct cli_opt reason_opts[] = {
	{ "reason", 0, "TEXT", "why (kept in the event)" },
	{ NULL, 0, NULL, NULL },
};

const struct cli_cmd cli_cmd_promote = {
	"promote", cmd_promote, "move an alias to a version under the alias's policy",
	"REF ALIAS [--reason TEXT] [--force]", promote_opts, 2, 2,
};

const struct cli_cmd cli_cmd_approve = {
	"approve", cmd_promote, "approve a version for an alias whose policy asks for approvals",
	"REF ALIAS [--reason TEXT]", reason_opts, 2, 2,
};

const struct cli_cmd cli_cmd_rollback = {
	"rollback", cmd_promote, "move an alias back to the version it held before",
	"NAME ALIAS [--reason TEXT]", reason_opts, 2, 2,
};

static void print_move(struct cli *cli, const struct mlctl_alias_move *mv, const char *alias,
		       const char *how)
{
	if (cli->json)
		return;
	if (mv->unchanged)
		printf("%s:%s already points at %s\n", mv->name, alias, mv->version);
	else
		printf("%s:%s -> %s%s%s (tag %s)%s\n", mv->name, alias, mv->version,
		       *mv->from ? ", was " : "", mv->from, mv->tag, how);
}

static cJSON *move_json(const struct mlctl_alias_move *mv, const char *alias)
{
	cJSON *doc = cli_json_doc();

	cJSON_AddStringToObject(doc, "model", mv->name);
	cJSON_AddStringToObject(doc, "alias", alias);
	cJSON_AddStringToObject(doc, "version", mv->version);
	cJSON_AddStringToObject(doc, "digest", mv->digest);
	cJSON_AddStringToObject(doc, "from", mv->from);
	cJSON_AddBoolToObject(doc, "changed", !mv->unchanged);
	if (mv->tag)
		cJSON_AddStringToObject(doc, "tag", mv->tag);
	return doc;
}

static int promote(struct cli *cli, struct mlctl_registry *r, char **argv, const char *reason)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_promotion p;
	int force = cli_opt(cli, "force") != NULL, rc;
	size_t i;

	if (force && !reason)
		return cli_usage(cli, "--force needs --reason: a forced promotion is recorded with "
				 "why");
	rc = mlctl_registry_promote(r, &p, argv[0], argv[1], reason, force, &err);
	if (rc) {
		if (cli->json && p.nunmet) {
			cJSON *doc = cli_json_doc(), *arr = cJSON_AddArrayToObject(doc, "unmet");

			for (i = 0; i < p.nunmet; i++)
				cJSON_AddItemToArray(arr, cJSON_CreateString(p.unmet[i]));
			mlctl_promotion_release(&p);
			return cli_fail_doc(cli, &err, doc);
		}
		mlctl_promotion_release(&p);
		return cli_fail(cli, &err);
	}
	if (cli->json) {
		cJSON *doc = move_json(&p.mv, argv[1]), *arr;

		if (*p.policy_digest)
			cJSON_AddStringToObject(doc, "policy_digest", p.policy_digest);
		else
			cJSON_AddNullToObject(doc, "policy_digest");
		cJSON_AddNumberToObject(doc, "rules", (double)p.nrules);
		cJSON_AddBoolToObject(doc, "forced", p.forced);
		arr = cJSON_AddArrayToObject(doc, "unmet");
		for (i = 0; i < p.nunmet; i++)
			cJSON_AddItemToArray(arr, cJSON_CreateString(p.unmet[i]));
		cli_print_json(doc);
	} else {
		print_move(cli, &p.mv, argv[1], p.forced ? ", forced" : "");
		for (i = 0; i < p.nunmet; i++)
			cli_note(cli, "forced past: %s", p.unmet[i]);
		if (!p.forced && *p.policy_digest && !p.mv.unchanged)
			cli_note(cli, "all %zu rules of the policy of %s:%s met", p.nrules, p.mv.name,
				 argv[1]);
	}
	mlctl_promotion_release(&p);
	return 0;
}

static int approve(struct cli *cli, struct mlctl_registry *r, char **argv, const char *reason)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_approval a;

	if (mlctl_registry_approve(r, &a, argv[0], argv[1], reason, &err))
		return cli_fail(cli, &err);
	if (cli->json) {
		cJSON *doc = cli_json_doc();

		cJSON_AddStringToObject(doc, "model", a.name);
		cJSON_AddStringToObject(doc, "version", a.version);
		cJSON_AddStringToObject(doc, "digest", a.digest);
		cJSON_AddStringToObject(doc, "alias", argv[1]);
		cJSON_AddNumberToObject(doc, "approvals", (double)a.have);
		cJSON_AddNumberToObject(doc, "needed", (double)a.need);
		cli_print_json(doc);
	} else {
		printf("approved %s:%s for %s (%zu of %zu approvals)\n", a.name, a.version, argv[1],
		       a.have, a.need);
	}
	return 0;
}

static int rollback(struct cli *cli, struct mlctl_registry *r, char **argv, const char *reason)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_alias_move mv;

	if (mlctl_registry_rollback(r, &mv, argv[0], argv[1], reason, &err))
		return cli_fail(cli, &err);
	if (cli->json)
		cli_print_json(move_json(&mv, argv[1]));
	else
		print_move(cli, &mv, argv[1], ", rolled back");
	mlctl_alias_move_release(&mv);
	return 0;
}

int cmd_promote(struct cli *cli, int argc, char **argv)
{
	struct mlctl_registry *r = NULL;
	const char *reason = cli_opt(cli, "reason");
	int rc;

	(void)argc;
	if (reason && !*reason)
		return cli_usage(cli, "--reason needs a text");
	if ((rc = cli_open_registry(cli, &r, 0)))
		return rc;
	if (cli->cmd == &cli_cmd_promote)
		rc = promote(cli, r, argv, reason);
	else if (cli->cmd == &cli_cmd_approve)
		rc = approve(cli, r, argv, reason);
	else
		rc = rollback(cli, r, argv, reason);
	mlctl_registry_free(r);
	return rc;
}
