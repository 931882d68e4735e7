/*
 * policy.c - mlctl policy set|show|list|rm: the rules an alias holds a
 * version to (validated, smoke passed, metric gates absolute and against the
 * current version, approvals, an alias held first), checked by mlctl promote.
 * Each change is an event in the registry's history.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "registry.h"
#include "banned.h"

static const struct cli_opt opts[] = {
	{ "require", 0, "WHAT", "validated or smoke-passed: a passing record of the digest "
				"(repeatable)" },
	{ "gate", 0, "EXPR", "a metric threshold such as 'accuracy>=0.93' (repeatable)" },
	{ "gate-vs-current", 0, "EXPR", "a bound on the change from the version the alias holds, "
					"such as 'accuracy>=-0.005' (repeatable)" },
	{ "approvals", 0, "N", "approvals by N people other than the promoter" },
	{ "from", 0, "ALIAS", "the version must have been held by ALIAS first (staging)" },
	{ "reason", 0, "TEXT", "why the policy changes (kept in the event)" },
	{ NULL, 0, NULL, NULL },
};

const struct cli_cmd cli_cmd_policy = {
	"policy", cmd_policy, "the rules 'mlctl promote' checks before it moves an alias",
	"set NAME ALIAS [--require WHAT]... [--gate EXPR]... [--gate-vs-current EXPR]... "
	"[--approvals N] [--from ALIAS] [--reason TEXT] | show NAME ALIAS | list [NAME] | "
	"rm NAME ALIAS [--reason TEXT]",
	opts, 1, 3,
};

static cJSON *policy_json(const struct mlctl_policy *p)
{
	cJSON *o = cJSON_CreateObject(), *a;
	char when[32];
	size_t i;

	cJSON_AddStringToObject(o, "model", p->model);
	cJSON_AddStringToObject(o, "alias", p->alias);
	a = cJSON_AddArrayToObject(o, "require");
	for (i = 0; i < p->nrequire; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(p->require[i]));
	a = cJSON_AddArrayToObject(o, "gates");
	for (i = 0; i < p->ngates; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(p->gates[i]));
	a = cJSON_AddArrayToObject(o, "gates_vs_current");
	for (i = 0; i < p->nvs_current; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(p->vs_current[i]));
	cJSON_AddNumberToObject(o, "approvals", (double)p->approvals);
	if (p->from)
		cJSON_AddStringToObject(o, "from", p->from);
	else
		cJSON_AddNullToObject(o, "from");
	cJSON_AddStringToObject(o, "digest", p->digest);
	cJSON_AddStringToObject(o, "actor", p->actor);
	mlctl_time_iso(when, p->time);
	cJSON_AddStringToObject(o, "time", when);
	if (p->reason)
		cJSON_AddStringToObject(o, "reason", p->reason);
	else
		cJSON_AddNullToObject(o, "reason");
	return o;
}

/* The rules as one line: "validated, smoke-passed, accuracy>=0.93, ..." */
static void rules_line(struct mlctl_buf *b, const struct mlctl_policy *p)
{
	size_t i;

	mlctl_buf_puts(b, "");
	for (i = 0; i < p->nrequire; i++)
		mlctl_buf_printf(b, "%s%s", b->len ? ", " : "", p->require[i]);
	for (i = 0; i < p->ngates; i++)
		mlctl_buf_printf(b, "%s%s", b->len ? ", " : "", p->gates[i]);
	for (i = 0; i < p->nvs_current; i++)
		mlctl_buf_printf(b, "%s%s vs current", b->len ? ", " : "", p->vs_current[i]);
	if (p->approvals)
		mlctl_buf_printf(b, "%s%lld approval%s", b->len ? ", " : "",
				 (long long)p->approvals, p->approvals == 1 ? "" : "s");
	if (p->from)
		mlctl_buf_printf(b, "%sfrom %s", b->len ? ", " : "", p->from);
	if (!b->len)
		mlctl_buf_puts(b, "(no rules: only not deprecated)");
}

static int show(struct cli *cli, const char *name, const char *alias)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_registry *r = NULL;
	struct mlctl_policy *p = NULL;
	size_t n = 0, i;
	int rc;

	if ((rc = cli_open_registry(cli, &r, 0)))
		return rc;
	rc = mlctl_registry_policies(r, name, alias, &p, &n, &err);
	mlctl_registry_free(r);
	if (rc)
		return cli_fail(cli, &err);
	if (alias && !n) {
		mlctl_err_set(&err, MLCTL_ENOTFOUND, "'%s' has no policy on '%s'; set one with "
			      "'mlctl policy set %s %s ...'", name, alias, name, alias);
		return cli_fail(cli, &err);
	}
	if (cli->json) {
		cJSON *doc = cli_json_doc(), *arr;

		if (alias) {
			cJSON_AddItemToObject(doc, "policy", policy_json(&p[0]));
		} else {
			arr = cJSON_AddArrayToObject(doc, "policies");
			for (i = 0; i < n; i++)
				cJSON_AddItemToArray(arr, policy_json(&p[i]));
		}
		cli_print_json(doc);
	} else if (alias) {
		char when[32];
		struct mlctl_buf b = MLCTL_BUF_INIT;

		mlctl_time_iso(when, p[0].time);
		printf("policy:      %s:%s\n", p[0].model, p[0].alias);
		for (i = 0; i < p[0].nrequire; i++)
			printf("require:     %s\n", p[0].require[i]);
		for (i = 0; i < p[0].ngates; i++)
			printf("gate:        %s\n", p[0].gates[i]);
		for (i = 0; i < p[0].nvs_current; i++)
			printf("vs current:  %s\n", p[0].vs_current[i]);
		if (p[0].approvals)
			printf("approvals:   %lld, by others than the promoter\n",
			       (long long)p[0].approvals);
		if (p[0].from)
			printf("from:        %s\n", p[0].from);
		rules_line(&b, &p[0]);
		printf("rules:       %s\n", b.buf);
		printf("set:         %s by %s%s%s\n", when, p[0].actor,
		       p[0].reason && *p[0].reason ? ": " : "",
		       p[0].reason ? p[0].reason : "");
		printf("digest:      %s\n", p[0].digest);
		mlctl_buf_release(&b);
	} else if (n) {
		struct cli_table t;

		cli_table_init(&t, 4);
		cli_table_row(&t, "MODEL", "ALIAS", "RULES", "SET BY");
		for (i = 0; i < n; i++) {
			struct mlctl_buf b = MLCTL_BUF_INIT;

			rules_line(&b, &p[i]);
			cli_table_row(&t, p[i].model, p[i].alias, b.buf, p[i].actor);
			mlctl_buf_release(&b);
		}
		cli_table_print(cli, &t);
		cli_table_release(&t);
	} else {
		cli_note(cli, "no policies%s%s; set one with 'mlctl policy set NAME ALIAS ...'",
			 name ? " on " : "", name ? name : "");
	}
	mlctl_policies_free(p, n);
	return 0;
}

static int set(struct cli *cli, const char *name, const char *alias, int remove)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_registry *r = NULL;
	struct mlctl_policy p;
	const char *approvals = cli_opt(cli, "approvals"), *reason = cli_opt(cli, "reason");
	int changed = 0, rc;

	memset(&p, 0, sizeof(p));
	if (reason && !*reason)
		return cli_usage(cli, "--reason needs a text");
	p.require = (char **)cli_opt_all(cli, "require", &p.nrequire);
	p.gates = (char **)cli_opt_all(cli, "gate", &p.ngates);
	p.vs_current = (char **)cli_opt_all(cli, "gate-vs-current", &p.nvs_current);
	p.from = (char *)cli_opt(cli, "from");
	if (approvals) {
		char *end;

		p.approvals = strtoll(approvals, &end, 10);
		if (*end || end == approvals || p.approvals < 0 || p.approvals > 100)
			return cli_usage(cli, "--approvals takes a count from 0 to 100, not '%s'",
					 approvals);
	}
	if (remove && (p.nrequire || p.ngates || p.nvs_current || approvals || p.from))
		return cli_usage(cli, "'policy rm' takes only --reason");
	if ((rc = cli_open_registry(cli, &r, 0)))
		return rc;
	rc = mlctl_registry_policy_set(r, name, alias, remove ? NULL : &p, reason, &changed, &err);
	mlctl_registry_free(r);
	if (rc)
		return cli_fail(cli, &err);
	if (cli->json) {
		cJSON *doc = cli_json_doc();

		cJSON_AddStringToObject(doc, "model", name);
		cJSON_AddStringToObject(doc, "alias", alias);
		cJSON_AddBoolToObject(doc, "removed", remove);
		cJSON_AddBoolToObject(doc, "changed", changed);
		cli_print_json(doc);
	} else if (remove) {
		printf("removed the policy of %s:%s\n", name, alias);
	} else if (!changed) {
		printf("%s:%s has this policy already\n", name, alias);
	} else {
		struct mlctl_buf b = MLCTL_BUF_INIT;

		rules_line(&b, &p);
		printf("%s:%s policy: %s\n", name, alias, b.buf);
		mlctl_buf_release(&b);
	}
	return 0;
}

int cmd_policy(struct cli *cli, int argc, char **argv)
{
	const char *action = argv[0];
	int rule_opts = cli_opt(cli, "require") || cli_opt(cli, "gate") ||
			cli_opt(cli, "gate-vs-current") || cli_opt(cli, "approvals") ||
			cli_opt(cli, "from");

	if (!strcmp(action, "list") || !strcmp(action, "show")) {
		int list = !strcmp(action, "list");

		if (rule_opts || cli_opt(cli, "reason"))
			return cli_usage(cli, "'policy %s' takes no rules or --reason", action);
		if (list ? argc > 2 : argc != 3)
			return cli_usage(cli, list ? "'policy list' takes at most one model name"
						   : "'policy show' takes NAME ALIAS, such as 'mlctl "
						     "policy show iris production'");
		return show(cli, argc > 1 ? argv[1] : NULL, list ? NULL : argv[2]);
	}
	if (strcmp(action, "set") && strcmp(action, "rm"))
		return cli_usage(cli, "'policy %s' is not known; use set, show, list or rm", action);
	if (argc != 3)
		return cli_usage(cli, "'policy %s' takes NAME ALIAS, such as 'mlctl policy %s iris "
				 "production'", action, action);
	return set(cli, argv[1], argv[2], !strcmp(action, "rm"));
}
