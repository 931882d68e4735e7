/*
 * hooks.c - webhooks: hooks kept as events in git (hooks/ID.json: URL,
 * event names, the name of the environment variable that holds the secret),
 * an outbox in the database filled in the same transaction as each event,
 * and its delivery (at least once, retried with backoff) through
 * lib/webhook.c. mlctl has no daemon: the command that made an event sends
 * it at its end, within a short budget; 'mlctl hook deliver' sends the rest.
 */
#define _GNU_SOURCE
#include "registry/internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "webhook.h"
#include "banned.h"

/* The registry this process queued webhooks in (one per process: a command writes to one). */
static char *queued_root;

/* Every event name a hook can take. */
static const char *const hook_events[] = {
	"model_version.created",        "model_version.deprecated",
	"model_version.undeprecated",   "model_version_alias.created",
	"model_version_alias.deleted",  "model_version_record.created",
	"registered_model.deprecated",  "registered_model.undeprecated",
	"approval.created",             "policy.updated",
	"hook.test",                    NULL,
};

static int hook_event_known(const char *name)
{
	size_t i;

	for (i = 0; hook_events[i]; i++)
		if (!strcmp(hook_events[i], name))
			return 1;
	return 0;
}

/* An event's webhook name (entity.action), or NULL for one no hook hears of. */
static const char *event_name(const cJSON *evj)
{
	const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(evj, "type"));
	int version = cJSON_GetObjectItemCaseSensitive(evj, "version") != NULL;

	if (!type)
		return NULL;
	if (!strcmp(type, "push"))
		return "model_version.created";
	if (!strcmp(type, "alias"))
		return "model_version_alias.created";
	if (!strcmp(type, "unalias"))
		return "model_version_alias.deleted";
	if (!strcmp(type, "record"))
		return "model_version_record.created";
	if (!strcmp(type, "deprecate"))
		return version ? "model_version.deprecated" : "registered_model.deprecated";
	if (!strcmp(type, "undeprecate"))
		return version ? "model_version.undeprecated" : "registered_model.undeprecated";
	if (!strcmp(type, "approve"))
		return "approval.created";
	if (!strcmp(type, "policy"))
		return "policy.updated";
	return NULL;
}

/* ---------------------------------------------------------------- hooks */

static void fill_hook_row(void *item, sqlite3_stmt *st)
{
	struct mlctl_hook *h = item;
	cJSON *ev = cJSON_Parse((const char *)sqlite3_column_text(st, 2)), *it;

	memset(h, 0, sizeof(*h));
	h->id = reg_col_text(st, 0);
	h->url = reg_col_text(st, 1);
	h->secret_env = reg_col_text(st, 3);
	h->actor = reg_col_text(st, 4);
	h->time = sqlite3_column_int64(st, 5);
	h->events = mlctl_calloc((size_t)cJSON_GetArraySize(ev) + 1, sizeof(*h->events));
	cJSON_ArrayForEach(it, ev)
		if (cJSON_IsString(it))
			h->events[h->nevents++] = mlctl_strdup(it->valuestring);
	cJSON_Delete(ev);
}

static int hooks_where(struct mlctl_registry *r, struct mlctl_hook **out, size_t *n,
		       const char *id, struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = reg_db_prepare(r, &st,
				 "SELECT id, url, events, secret_env, actor, time FROM hooks "
				 "WHERE ?1 IS NULL OR id = ?1 ORDER BY time, id",
				 err)))
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	*out = reg_collect_rows(r, st, sizeof(**out), n, fill_hook_row, &rc, err);
	if (rc) {
		mlctl_hooks_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

int mlctl_registry_hooks(struct mlctl_registry *r, struct mlctl_hook **out, size_t *n,
			 struct mlctl_err *err)
{
	return hooks_where(r, out, n, NULL, err);
}

void mlctl_hooks_free(struct mlctl_hook *h, size_t n)
{
	size_t i, k;

	for (i = 0; h && i < n; i++) {
		free(h[i].id);
		free(h[i].url);
		free(h[i].secret_env);
		free(h[i].actor);
		for (k = 0; k < h[i].nevents; k++)
			free(h[i].events[k]);
		free(h[i].events);
	}
	free(h);
}

int reg_apply_hook(struct mlctl_registry *r, const struct event *ev, const cJSON *hook,
		   const char *commit, struct mlctl_err *err)
{
	const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(hook, "id"));
	const char *url = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(hook, "url"));
	const char *env = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(hook,
										 "secret_env"));
	const cJSON *events = cJSON_GetObjectItemCaseSensitive(hook, "events");
	int removed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(hook, "removed")), rc;
	sqlite3_stmt *st = NULL;
	char *list;

	if (!cJSON_IsObject(hook) || !id || !url || !env || !cJSON_IsArray(events))
		return mlctl_err_set(err, MLCTL_EINTEGRITY, "hook event in commit %.12s lacks its "
				     "id, url, secret_env or events", commit);
	if (removed)
		rc = reg_db_prepare(r, &st, "DELETE FROM hooks WHERE id = ?", err);
	else
		rc = reg_db_prepare(r, &st,
				    "INSERT OR REPLACE INTO hooks(id, url, events, secret_env, actor, "
				    "time, git_commit) VALUES(?,?,?,?,?,?,?)",
				    err);
	if (rc)
		return rc;
	list = cJSON_PrintUnformatted(events);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (!removed) {
		sqlite3_bind_text(st, 2, url, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, list, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, env, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, ev->actor, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 6, ev->time);
		sqlite3_bind_text(st, 7, commit, -1, SQLITE_STATIC);
	}
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : reg_db_fail(err, r->db, "registry database");
	sqlite3_finalize(st);
	free(list);
	return rc;
}

/* One hook event: hooks/ID.json written, the event, the row. */
static int write_hook(struct mlctl_registry *r, cJSON *hook, const char *summary,
		      const char *reason, struct mlctl_err *err)
{
	char head[41], *actor = mlctl_actor(), *path, *file, *text;
	const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(hook, "id"));
	struct mlctl_git_change ch;
	struct event ev;
	cJSON *evj = cJSON_CreateObject();
	int64_t now = mlctl_now();
	int rc;

	cJSON_AddStringToObject(evj, "type", "hook");
	cJSON_AddItemToObject(evj, "hook", cJSON_Duplicate(hook, 1));
	cJSON_AddStringToObject(evj, "actor", actor);
	cJSON_AddNumberToObject(evj, "time", (double)now);
	if (reason)
		cJSON_AddStringToObject(evj, "reason", reason);
	text = mlctl_json_canonical(hook);
	file = mlctl_aprintf("%s\n", text);
	free(text);
	path = mlctl_aprintf("hooks/%s.json", id);
	ch = (struct mlctl_git_change){ path, file, strlen(file) };
	memset(&ev, 0, sizeof(ev));
	ev.type = "hook";
	ev.actor = actor;
	ev.time = now;
	ev.reason = reason;
	if (!(rc = reg_git_event(r, head, &ch, 1, evj, summary, actor, now, err)) &&
	    !(rc = reg_apply_hook(r, &ev, hook, head, err)) &&
	    !(rc = reg_insert_event(r, &ev, head, err)) &&
	    !(rc = reg_meta_set(r, "git_head", head, err)))
		rc = reg_reserve_space(r, err);
	cJSON_Delete(evj);
	free(actor);
	free(path);
	free(file);
	return rc;
}

static int env_name_ok(const char *s)
{
	if (!*s || isdigit((unsigned char)*s))
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return 0;
	return 1;
}

int mlctl_registry_hook_add(struct mlctl_registry *r, char id[17], const char *url,
			    const char *secret_env, const char *const *events, size_t nevents,
			    const char *reason, struct mlctl_err *err)
{
	const char *host = !strncmp(url, "https://", 8) ? url + 8 :
			   !strncmp(url, "http://", 7) ? url + 7 : NULL;
	size_t hlen = host ? strcspn(host, "/?#") : 0, i, k = 0;
	char uuid[37], *summary;
	cJSON *hook, *list;
	int rc;

	for (i = 0; url[i]; i++) /* RFC 3986: other characters are percent-encoded */
		if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f)
			return mlctl_err_set(err, MLCTL_EUSAGE, "the hook URL holds a space, a "
					     "control character or a byte that is not ASCII; "
					     "percent-encode it (%%20, %%C3%%A9…)");
	if (!host || !hlen || host[0] == ':')
		return mlctl_err_set(err, MLCTL_EUSAGE, "'%s' is not an http(s) URL; give the "
				     "receiver's URL, such as https://ci.example.com/hook", url);
	/* the URL is kept in git, where no secret goes: a receiver's password is not in it */
	if (memchr(host, '@', hlen))
		return mlctl_err_set(err, MLCTL_EUSAGE, "the hook URL holds credentials (user@ or "
				     "user:password@), which would be kept in the registry's git; "
				     "give the URL without them: the signature (--secret-env) is "
				     "how the receiver knows the sender");
	if (!env_name_ok(secret_env))
		return mlctl_err_set(err, MLCTL_EUSAGE, "--secret-env takes the name of an "
				     "environment variable (letters, digits, '_'), not '%s'",
				     secret_env);
	for (i = 0; i < nevents; i++)
		if (!hook_event_known(events[i]) || !strcmp(events[i], "hook.test"))
			return mlctl_err_set(err, MLCTL_EUSAGE,
					     "--events: '%s' is not an event name; see 'mlctl hook "
					     "--help' (model_version.created, "
					     "model_version_alias.created, ...)", events[i]);
	/* a short random id: hooks added on two machines never share one */
	mlctl_random_uuid(uuid);
	for (i = 0; uuid[i] && k < 16; i++)
		if (uuid[i] != '-')
			id[k++] = uuid[i];
	id[k] = '\0';
	hook = cJSON_CreateObject();
	cJSON_AddStringToObject(hook, "id", id);
	cJSON_AddStringToObject(hook, "url", url);
	cJSON_AddStringToObject(hook, "secret_env", secret_env);
	list = cJSON_AddArrayToObject(hook, "events");
	for (i = 0; i < nevents; i++)
		cJSON_AddItemToArray(list, cJSON_CreateString(events[i]));
	summary = mlctl_aprintf("hook %s added", id);
	if (!(rc = reg_begin_write(r, err)) && !(rc = reg_catch_up_locked(r, NULL, err)))
		rc = write_hook(r, hook, summary, reason, err);
	rc = reg_end_write(r, rc, err);
	cJSON_Delete(hook);
	free(summary);
	return rc;
}

int mlctl_registry_hook_rm(struct mlctl_registry *r, const char *id, const char *reason,
			   struct mlctl_err *err)
{
	struct mlctl_hook *h = NULL;
	size_t n = 0, i;
	cJSON *hook = NULL, *list;
	char *summary = NULL;
	int rc;

	if ((rc = reg_begin_write(r, err)) || (rc = reg_catch_up_locked(r, NULL, err)) ||
	    (rc = hooks_where(r, &h, &n, id, err)))
		goto done;
	if (!n) {
		rc = mlctl_err_set(err, MLCTL_ENOTFOUND, "no hook '%s'; see 'mlctl hook list'", id);
		goto done;
	}
	hook = cJSON_CreateObject();
	cJSON_AddStringToObject(hook, "id", h[0].id);
	cJSON_AddStringToObject(hook, "url", h[0].url);
	cJSON_AddStringToObject(hook, "secret_env", h[0].secret_env);
	list = cJSON_AddArrayToObject(hook, "events");
	for (i = 0; i < h[0].nevents; i++)
		cJSON_AddItemToArray(list, cJSON_CreateString(h[0].events[i]));
	cJSON_AddTrueToObject(hook, "removed");
	summary = mlctl_aprintf("hook %s removed", id);
	rc = write_hook(r, hook, summary, reason, err);
done:
	rc = reg_end_write(r, rc, err);
	mlctl_hooks_free(h, n);
	cJSON_Delete(hook);
	free(summary);
	return rc;
}

/* ---------------------------------------------------------------- the outbox */

static int takes(const struct mlctl_hook *h, const char *name)
{
	size_t i;

	if (!h->nevents)
		return strcmp(name, "hook.test") != 0;
	for (i = 0; i < h->nevents; i++)
		if (!strcmp(h->events[i], name))
			return 1;
	return 0;
}

/* Queue name's message with data for each hook that takes it (only: one hook by id). */
static int queue(struct mlctl_registry *r, const char *name, const cJSON *data, int64_t when,
		 const char *only, struct mlctl_err *err)
{
	struct mlctl_hook *h = NULL;
	sqlite3_stmt *st = NULL;
	size_t n = 0, i;
	cJSON *body = NULL;
	char *text = NULL, *entity, uuid[37], iso[32];
	const char *dot = strchr(name, '.');
	int rc;

	if ((rc = hooks_where(r, &h, &n, only, err)) || !n)
		goto done;
	body = cJSON_CreateObject();
	entity = mlctl_strndup(name, (size_t)(dot - name));
	cJSON_AddStringToObject(body, "entity", entity);
	free(entity);
	cJSON_AddStringToObject(body, "action", dot + 1);
	mlctl_time_iso(iso, when);
	cJSON_AddStringToObject(body, "timestamp", iso);
	cJSON_AddItemToObject(body, "data", cJSON_Duplicate(data, 1));
	text = cJSON_PrintUnformatted(body);
	if ((rc = reg_db_prepare(r, &st,
				 "INSERT INTO outbox(hook_id, msg_id, event, body, created, next_at) "
				 "VALUES(?,?,?,?,?,?)",
				 err)))
		goto done;
	for (i = 0; !rc && i < n; i++) {
		if (!only && !takes(&h[i], name))
			continue;
		mlctl_random_uuid(uuid);
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, h[i].id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, uuid, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, text, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, mlctl_now());
		sqlite3_bind_int64(st, 6, 0);
		if (sqlite3_step(st) != SQLITE_DONE) {
			rc = reg_db_fail(err, r->db, "registry database");
		} else {
			free(queued_root);
			queued_root = mlctl_strdup(r->final ? r->final : r->root);
		}
	}
done:
	sqlite3_finalize(st);
	mlctl_hooks_free(h, n);
	cJSON_Delete(body);
	free(text);
	return rc;
}

int reg_notify(struct mlctl_registry *r, const cJSON *evj, struct mlctl_err *err)
{
	const char *name = event_name(evj);
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(evj, "time"), *m;
	cJSON *data;
	int rc;

	if (!name)
		return 0;
	/* the event as git has it, and MLflow's "name" for the model */
	data = cJSON_Duplicate(evj, 1);
	cJSON_DeleteItemFromObjectCaseSensitive(data, "type");
	if ((m = cJSON_GetObjectItemCaseSensitive(evj, "model")) && cJSON_IsString(m))
		cJSON_AddStringToObject(data, "name", m->valuestring);
	if (!strncmp(name, "model_version_alias.", 20)) { /* old -> new, null for none */
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(evj, "version");
		const cJSON *f = cJSON_GetObjectItemCaseSensitive(evj, "from");
		int deleted = !strcmp(name, "model_version_alias.deleted");
		const cJSON *old = deleted ? v : f;

		cJSON_AddItemToObject(data, "old", cJSON_IsString(old) ? cJSON_CreateString(
						   old->valuestring) : cJSON_CreateNull());
		cJSON_AddItemToObject(data, "new", !deleted && cJSON_IsString(v) ?
						   cJSON_CreateString(v->valuestring) :
						   cJSON_CreateNull());
	}
	rc = queue(r, name, data, cJSON_IsNumber(t) ? (int64_t)t->valuedouble : mlctl_now(), NULL,
		   err);
	cJSON_Delete(data);
	return rc;
}

const char *mlctl_hooks_queued_root(void)
{
	return queued_root;
}

int mlctl_registry_hook_test(struct mlctl_registry *r, const char *id, struct mlctl_err *err)
{
	struct mlctl_hook *h = NULL;
	size_t n = 0;
	cJSON *data;
	int rc;

	if ((rc = hooks_where(r, &h, &n, id, err)))
		return rc;
	mlctl_hooks_free(h, n);
	if (!n)
		return mlctl_err_set(err, MLCTL_ENOTFOUND, "no hook '%s'; see 'mlctl hook list'", id);
	data = cJSON_CreateObject();
	cJSON_AddStringToObject(data, "hook", id);
	cJSON_AddStringToObject(data, "message", "a test message from mlctl hook test");
	if (!(rc = reg_db_exec(r, "BEGIN IMMEDIATE", err))) {
		if ((rc = queue(r, "hook.test", data, mlctl_now(), id, err)))
			reg_rollback(r);
		else
			rc = reg_db_exec(r, "COMMIT", err);
	}
	cJSON_Delete(data);
	return rc;
}
