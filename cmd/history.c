/*
 * history.c - mlctl history NAME: the model's events (pushes, alias moves,
 * records, deprecations), newest first, each with who, when (UTC), why and
 * what moved from what; filtered by alias, actor, time and type. Streamed:
 * a long history is printed as it is read.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "registry.h"
#include "banned.h"

static const struct cli_opt opts[] = {
	{ "alias", 0, "ALIAS", "only the events of this alias (moves, approvals, policy)" },
	{ "actor", 0, "WHO", "only events by this actor (any part of it, ignoring case)" },
	{ "since", 0, "TIME", "only events at or after TIME (YYYY-MM-DD[THH:MM[:SS][Z]], UTC)" },
	{ "until", 0, "TIME", "only events before TIME" },
	{ "type", 0, "TYPE", "only events of this type (push, alias, unalias, promote, rollback, "
			     "record, deprecate, undeprecate, policy, approve)" },
	{ "limit", 'n', "N", "at most N events (the newest)" },
	{ NULL, 0, NULL, NULL },
};

const struct cli_cmd cli_cmd_history = {
	"history", cmd_history, "a model's events, newest first: who did what, when and why",
	"NAME [--alias ALIAS] [--actor WHO] [--since TIME] [--until TIME] [--type TYPE] [-n N]",
	opts, 1, 1,
};

struct out {
	struct cli *cli;
	size_t n;
};

/*
 * One line of the text table, streamed: each column padded to its width as
 * a terminal shows it (UTF-8 names take one column a character); a value
 * wider than its column pushes the rest of its line on; nothing after the
 * last value.
 */
static void row(const char *when, const char *type, const char *what, const char *by,
		const char *reason)
{
	static const size_t width[] = { 20, 11, 28, 24 };
	const char *cell[] = { when, type, what, by };
	size_t i, w;

	for (i = 0; i < 4; i++) {
		fputs(cell[i], stdout);
		if (i == 3 && !*reason)
			break;
		for (w = mlctl_display_width(cell[i]); w < width[i]; w++)
			putchar(' ');
		fputs("  ", stdout);
	}
	printf("%s\n", reason);
}

/* What moved: "1.0.0 -> 1.1.0", "-> 1.0.0", "1.1.0 (validate passed)"... */
static void what_of(char *buf, size_t len, const struct mlctl_history_event *ev)
{
	if (ev->kind)
		snprintf(buf, len, "%s %s %s", ev->version ? ev->version : "", ev->kind,
			 ev->passed > 0 ? "passed" : "failed");
	else if (!strcmp(ev->type, "alias"))
		snprintf(buf, len, "%s %s%s-> %s", ev->alias ? ev->alias : "", ev->from ? ev->from : "",
			 ev->from ? " " : "", ev->version ? ev->version : "");
	else if (!strcmp(ev->type, "unalias"))
		snprintf(buf, len, "%s %s ->", ev->alias ? ev->alias : "",
			 ev->version ? ev->version : "");
	else if (!strcmp(ev->type, "approve"))
		snprintf(buf, len, "%s for %s", ev->version ? ev->version : "",
			 ev->alias ? ev->alias : "");
	else if (!strcmp(ev->type, "policy"))
		snprintf(buf, len, "%s", ev->alias ? ev->alias : "");
	else if (ev->version)
		snprintf(buf, len, "%s", ev->version);
	else
		snprintf(buf, len, "(model)");
}

static int print_text(void *payload, const struct mlctl_history_event *ev, struct mlctl_err *err)
{
	struct out *o = payload;
	char when[32], what[700];

	(void)err;
	if (!o->n++)
		row("TIME", "EVENT", "WHAT", "BY", "REASON");
	mlctl_time_iso(when, ev->time);
	what_of(what, sizeof(what), ev);
	if (ev->forced)
		snprintf(what + strlen(what), sizeof(what) - strlen(what), " (forced)");
	row(when, ev->via ? ev->via : ev->type, what, ev->actor, ev->reason ? ev->reason : "");
	return 0;
}

/* {"schema_version": 1, "model": NAME, "events": [ ...: printed as the events come */
static void json_head(const char *model)
{
	cJSON *name = cJSON_CreateString(model);
	char *text = cJSON_PrintUnformatted(name);

	printf("{\n  \"schema_version\": 1,\n  \"model\": %s,\n  \"events\": [", text);
	free(text);
	cJSON_Delete(name);
}

static int print_json(void *payload, const struct mlctl_history_event *ev, struct mlctl_err *err)
{
	struct out *o = payload;
	cJSON *j = cJSON_CreateObject();
	char when[32], *text;

	(void)err;
	mlctl_time_iso(when, ev->time);
	cJSON_AddStringToObject(j, "type", ev->type);
	cJSON_AddStringToObject(j, "model", ev->model);
#define OPT(key, v) \
	if (v) \
		cJSON_AddStringToObject(j, key, v); \
	else \
		cJSON_AddNullToObject(j, key)
	OPT("version", ev->version);
	OPT("digest", ev->digest);
	OPT("alias", ev->alias);
	OPT("from", ev->from);
#undef OPT
	cJSON_AddStringToObject(j, "actor", ev->actor);
	cJSON_AddStringToObject(j, "time", when);
	if (ev->reason)
		cJSON_AddStringToObject(j, "reason", ev->reason);
	else
		cJSON_AddNullToObject(j, "reason");
	if (ev->tag)
		cJSON_AddStringToObject(j, "tag", ev->tag);
	else
		cJSON_AddNullToObject(j, "tag");
	if (ev->kind) {
		cJSON_AddStringToObject(j, "kind", ev->kind);
		cJSON_AddBoolToObject(j, "passed", ev->passed > 0);
	}
	if (ev->via)
		cJSON_AddStringToObject(j, "via", ev->via);
	if (ev->via && !strcmp(ev->via, "promote")) {
		cJSON *u = ev->unmet ? cJSON_Parse(ev->unmet) : NULL;

		cJSON_AddBoolToObject(j, "forced", ev->forced);
		cJSON_AddItemToObject(j, "unmet", u ? u : cJSON_CreateArray());
	}
	cJSON_AddStringToObject(j, "commit", ev->commit);
	if (!o->n)
		json_head(ev->model);
	text = mlctl_utf8_fixed(cJSON_PrintUnformatted(j));
	printf("%s\n    %s", o->n++ ? "," : "", text);
	free(text);
	cJSON_Delete(j);
	return 0;
}

static int parse_time(struct cli *cli, int64_t *out, const char *name)
{
	const char *v = cli_opt(cli, name);

	*out = 0;
	if (v && mlctl_time_parse(out, v))
		return cli_usage(cli, "--%s '%s' is not a time; give YYYY-MM-DD, "
			     "YYYY-MM-DDTHH:MM or YYYY-MM-DDTHH:MM:SS, in UTC (a Z may end it)", name, v);
	return 0;
}

int cmd_history(struct cli *cli, int argc, char **argv)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_registry *r = NULL;
	struct mlctl_history_filter f;
	struct out o = { cli, 0 };
	const char *limit = cli_opt(cli, "limit");
	int rc;

	(void)argc;
	memset(&f, 0, sizeof(f));
	f.model = argv[0];
	f.alias = cli_opt(cli, "alias");
	f.actor = cli_opt(cli, "actor");
	f.type = cli_opt(cli, "type");
	if ((rc = parse_time(cli, &f.since, "since")) || (rc = parse_time(cli, &f.until, "until")))
		return rc;
	if (limit) {
		char *end;

		f.limit = strtoll(limit, &end, 10);
		if (*end || end == limit || f.limit < 1)
			return cli_usage(cli, "--limit takes a count of 1 or more, not '%s'", limit);
	}
	if (f.type) {
		static const char *const types[] = { "push", "alias", "unalias", "promote", "rollback",
						     "record", "deprecate", "undeprecate", "policy",
						     "approve" };
		size_t i;

		for (i = 0; i < MLCTL_ARRAY_SIZE(types) && strcmp(types[i], f.type); i++)
			;
		if (i == MLCTL_ARRAY_SIZE(types))
			return cli_usage(cli, "--type '%s' is not an event type; use push, alias, "
					 "unalias, promote, rollback, record, deprecate, undeprecate, "
					 "policy or approve", f.type);
	}
	if (!mlctl_name_is_readable(f.model))
		return cli_usage(cli, "'%s' is not a model name; history takes NAME (no version)",
				 f.model);
	if ((rc = cli_open_registry(cli, &r, 0)))
		return rc;
	rc = mlctl_registry_history(r, &f, cli->json ? print_json : print_text, &o, &err);
	mlctl_registry_free(r);
	if (rc && !(cli->json && o.n))
		return cli_fail(cli, &err);
	if (cli->json) {
		if (!o.n)
			json_head(f.model);
		printf("%s]\n}\n", o.n ? "\n  " : "");
		if (rc) /* cut short (a signal): the document is closed, the failure said */
			return cli_fail(cli, &err);
	} else if (!o.n) {
		cli_note(cli, "no events of %s match", f.model);
	}
	return 0;
}
