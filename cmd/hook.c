/*
 * hook.c - mlctl hook add|list|rm|test|deliver|log: webhooks in the
 * Standard Webhooks form, as MLflow 3 sends them, for the registry's
 * events. Hooks are events in git; their secrets stay in environment
 * variables; what is to be sent waits in the registry's outbox.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "registry.h"
#include "banned.h"

static const struct cli_opt opts[] = {
	{ "secret-env", 0, "VAR", "add: the environment variable holding the secret (whsec_...)" },
	{ "events", 0, "NAMES", "add: only these events, comma-separated (repeatable; default: all)" },
	{ "reason", 0, "TEXT", "add, rm: why (kept in the event)" },
	{ "max-wait", 0, "SECONDS", "deliver: wait up to this long for retries falling due "
				    "(default 60)" },
	{ "limit", 'n', "N", "log: at most N messages (the newest)" },
	{ NULL, 0, NULL, NULL },
};

const struct cli_cmd cli_cmd_hook = {
	"hook", cmd_hook, "webhooks for the registry's events (Standard Webhooks)",
	"add URL --secret-env VAR [--events NAMES] [--reason TEXT] | list | rm ID [--reason TEXT] "
	"| test ID | deliver [ID] [--max-wait SECONDS] | log [ID] [-n N]",
	opts, 1, 2,
};

static int fail(struct cli *cli, struct mlctl_registry *r, struct mlctl_err *err)
{
	mlctl_registry_free(r);
	return cli_fail(cli, err);
}

static int add(struct cli *cli, struct mlctl_registry *r, const char *url)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	const char *env = cli_opt(cli, "secret-env");
	const char *const *lists;
	const char *ev[64];
	size_t nlists, n = 0, i;
	char id[17], *copy[CLI_MAX_REPEAT], *tok, *save;
	int rc;

	lists = cli_opt_all(cli, "events", &nlists);
	for (i = 0; i < nlists; i++) {
		copy[i] = mlctl_strdup(lists[i]);
		for (tok = strtok_r(copy[i], ",", &save); tok && n < 64;
		     tok = strtok_r(NULL, ",", &save))
			if (*tok)
				ev[n++] = tok;
	}
	rc = mlctl_registry_hook_add(r, id, url, env, ev, n, cli_opt(cli, "reason"), &err);
	for (i = 0; i < nlists; i++)
		free(copy[i]);
	if (rc)
		return fail(cli, r, &err);
	mlctl_registry_free(r);
	if (cli->json) {
		cJSON *doc = cli_json_doc();

		cJSON_AddStringToObject(doc, "id", id);
		cJSON_AddStringToObject(doc, "url", url);
		cli_print_json(doc);
	} else {
		printf("hook %s added: %s\n", id, url);
	}
	if (!getenv(env))
		cli_note(cli, "note: %s is not set here; a command that sends a webhook needs it in "
			 "its environment", env);
	return 0;
}

static int list(struct cli *cli, struct mlctl_registry *r)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_hook *h = NULL;
	size_t n = 0, i, k;

	if (mlctl_registry_hooks(r, &h, &n, &err))
		return fail(cli, r, &err);
	mlctl_registry_free(r);
	if (cli->json) {
		cJSON *doc = cli_json_doc(), *arr = cJSON_AddArrayToObject(doc, "hooks");

		for (i = 0; i < n; i++) {
			cJSON *o = cJSON_CreateObject(), *e;
			char when[32];

			cJSON_AddStringToObject(o, "id", h[i].id);
			cJSON_AddStringToObject(o, "url", h[i].url);
			cJSON_AddStringToObject(o, "secret_env", h[i].secret_env);
			e = cJSON_AddArrayToObject(o, "events");
			for (k = 0; k < h[i].nevents; k++)
				cJSON_AddItemToArray(e, cJSON_CreateString(h[i].events[k]));
			cJSON_AddStringToObject(o, "actor", h[i].actor);
			mlctl_time_iso(when, h[i].time);
			cJSON_AddStringToObject(o, "added", when);
			cJSON_AddItemToArray(arr, o);
		}
		cli_print_json(doc);
	} else if (n) {
		struct cli_table t;

		cli_table_init(&t, 4);
		cli_table_row(&t, "ID", "URL", "SECRET", "EVENTS");
		for (i = 0; i < n; i++) {
			struct mlctl_buf b = MLCTL_BUF_INIT;

			mlctl_buf_puts(&b, h[i].nevents ? "" : "all");
			for (k = 0; k < h[i].nevents; k++)
				mlctl_buf_printf(&b, "%s%s", k ? "," : "", h[i].events[k]);
			cli_table_row(&t, h[i].id, h[i].url, h[i].secret_env, b.buf);
			mlctl_buf_release(&b);
		}
		cli_table_print(cli, &t);
		cli_table_release(&t);
	} else {
		cli_note(cli, "no hooks; add one with 'mlctl hook add URL --secret-env VAR'");
	}
	mlctl_hooks_free(h, n);
	return 0;
}

static int deliver(struct cli *cli, struct mlctl_registry *r, const char *id, double wait)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_deliver_result res;

	if (mlctl_registry_deliver(r, id, 0, wait, &res, &err))
		return fail(cli, r, &err);
	mlctl_registry_free(r);
	if (cli->json) {
		cJSON *doc = cli_json_doc();

		cJSON_AddNumberToObject(doc, "delivered", (double)res.delivered);
		cJSON_AddNumberToObject(doc, "failed", (double)res.failed);
		cJSON_AddNumberToObject(doc, "retrying", (double)res.retrying);
		cJSON_AddNumberToObject(doc, "pending", (double)res.pending);
		cli_print_json(doc);
	} else {
		printf("delivered %zu, given up %zu, still pending %zu\n", res.delivered, res.failed,
		       res.pending);
	}
	return 0;
}

static int show_log(struct cli *cli, struct mlctl_registry *r, const char *id)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_delivery *d = NULL;
	const char *limit = cli_opt(cli, "limit");
	long long lim = 0;
	size_t n = 0, i;

	if (limit) {
		char *end;

		lim = strtoll(limit, &end, 10);
		if (*end || end == limit || lim < 1) {
			mlctl_registry_free(r);
			return cli_usage(cli, "--limit takes a count of 1 or more, not '%s'", limit);
		}
	}
	if (mlctl_registry_hook_log(r, id, lim, &d, &n, &err))
		return fail(cli, r, &err);
	mlctl_registry_free(r);
	if (cli->json) {
		cJSON *doc = cli_json_doc(), *arr = cJSON_AddArrayToObject(doc, "messages");

		for (i = 0; i < n; i++) {
			cJSON *o = cJSON_CreateObject();
			char when[32];

			cJSON_AddStringToObject(o, "hook", d[i].hook_id);
			cJSON_AddStringToObject(o, "id", d[i].msg_id);
			cJSON_AddStringToObject(o, "event", d[i].event);
			cJSON_AddStringToObject(o, "state", d[i].state);
			cJSON_AddNumberToObject(o, "attempts", (double)d[i].attempts);
			if (d[i].status)
				cJSON_AddNumberToObject(o, "status", (double)d[i].status);
			else
				cJSON_AddNullToObject(o, "status");
			if (d[i].error)
				cJSON_AddStringToObject(o, "error", d[i].error);
			else
				cJSON_AddNullToObject(o, "error");
			mlctl_time_iso(when, d[i].created);
			cJSON_AddStringToObject(o, "created", when);
			cJSON_AddItemToArray(arr, o);
		}
		cli_print_json(doc);
	} else if (n) {
		struct cli_table t;

		cli_table_init(&t, 7);
		cli_table_row(&t, "CREATED", "HOOK", "EVENT", "STATE", "TRIES", "STATUS", "ERROR");
		for (i = 0; i < n; i++) {
			char when[32], tries[24], status[24];

			mlctl_time_iso(when, d[i].created);
			snprintf(tries, sizeof(tries), "%lld", (long long)d[i].attempts);
			snprintf(status, sizeof(status), "%lld", (long long)d[i].status);
			cli_table_row(&t, when, d[i].hook_id, d[i].event, d[i].state, tries,
				      d[i].status ? status : "-", d[i].error ? d[i].error : "");
		}
		cli_table_print(cli, &t);
		cli_table_release(&t);
	} else {
		cli_note(cli, "no webhooks sent or waiting");
	}
	mlctl_deliveries_free(d, n);
	return 0;
}

int cmd_hook(struct cli *cli, int argc, char **argv)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_registry *r = NULL;
	const char *a = argv[0], *wait = cli_opt(cli, "max-wait");
	const char *id = argc > 1 ? argv[1] : NULL;
	double max_wait = 60;
	int rc;

	if (strcmp(a, "add") && strcmp(a, "list") && strcmp(a, "rm") && strcmp(a, "test") &&
	    strcmp(a, "deliver") && strcmp(a, "log"))
		return cli_usage(cli, "'hook %s' is not known; use add, list, rm, test, deliver or "
				 "log", a);
	if ((!strcmp(a, "add") || !strcmp(a, "rm") || !strcmp(a, "test")) && argc != 2)
		return cli_usage(cli, "'hook %s' takes %s", a, strcmp(a, "add") ? "a hook's ID (see "
				 "'mlctl hook list')" : "the receiver's URL");
	if (!strcmp(a, "list") && argc != 1)
		return cli_usage(cli, "'hook list' takes no argument");
	if (!strcmp(a, "add") && !cli_opt(cli, "secret-env"))
		return cli_usage(cli, "'hook add' needs --secret-env VAR: the environment variable "
				 "that holds the secret (whsec_...), which is never stored");
	if (strcmp(a, "add") && (cli_opt(cli, "secret-env") || cli_opt(cli, "events")))
		return cli_usage(cli, "--secret-env and --events go with 'hook add'");
	if (wait) {
		char *end;

		max_wait = strtod(wait, &end);
		if (*end || end == wait || !(max_wait >= 0))
			return cli_usage(cli, "--max-wait takes seconds, not '%s'", wait);
	}
	if ((rc = cli_open_registry(cli, &r, 0)))
		return rc;
	if (!strcmp(a, "add"))
		return add(cli, r, argv[1]);
	if (!strcmp(a, "list"))
		return list(cli, r);
	if (!strcmp(a, "log"))
		return show_log(cli, r, id);
	if (!strcmp(a, "deliver"))
		return deliver(cli, r, id, max_wait);
	if (!strcmp(a, "rm")) {
		if (mlctl_registry_hook_rm(r, id, cli_opt(cli, "reason"), &err))
			return fail(cli, r, &err);
		mlctl_registry_free(r);
		if (cli->json) {
			cJSON *doc = cli_json_doc();

			cJSON_AddStringToObject(doc, "removed", id);
			cli_print_json(doc);
		} else {
			printf("hook %s removed\n", id);
		}
		return 0;
	}
	/* test: one message queued for this hook, sent now */
	if (mlctl_registry_hook_test(r, id, &err))
		return fail(cli, r, &err);
	return deliver(cli, r, id, 0);
}
