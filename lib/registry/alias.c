/*
 * alias.c - aliases: movable names for versions, and their moves.
 */
#define _GNU_SOURCE
#include "registry/internal.h"

#include <stdlib.h>
#include <string.h>

#include "banned.h"

/* models/NAME/aliases.json after this move: every alias of the model and its target. */
static int aliases_file(struct mlctl_registry *r, char **out, const char *name,
			const char *alias, const char *version, const char *digest,
			struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	cJSON *doc = cJSON_CreateObject(), *o;
	char *text;
	int rc, s;

	if ((rc = reg_db_prepare(r, &st,
				 "SELECT alias, version, digest FROM aliases WHERE model = ?",
				 err))) {
		cJSON_Delete(doc);
		return rc;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		o = cJSON_AddObjectToObject(doc, (const char *)sqlite3_column_text(st, 0));
		cJSON_AddStringToObject(o, "version", (const char *)sqlite3_column_text(st, 1));
		cJSON_AddStringToObject(o, "digest", (const char *)sqlite3_column_text(st, 2));
	}
	if (s != SQLITE_DONE)
		rc = reg_db_fail(err, r->db, "registry database");
	sqlite3_finalize(st);
	cJSON_DeleteItemFromObjectCaseSensitive(doc, alias);
	if (version) {
		o = cJSON_AddObjectToObject(doc, alias);
		cJSON_AddStringToObject(o, "version", version);
		cJSON_AddStringToObject(o, "digest", digest);
	}
	text = mlctl_json_canonical(doc);
	*out = mlctl_aprintf("%s\n", text);
	free(text);
	cJSON_Delete(doc);
	return rc;
}

/*
 * Set (to != NULL) or remove an alias: git commit and tag, then rows, under
 * the lock. how (NULL for a plain move) says by what (promote, rollback),
 * adds its fields to the event, and checks, under the lock, what the alias
 * holds now before anything is written.
 */
int reg_move_alias(struct mlctl_registry *r, struct mlctl_alias_move *mv, const char *name,
		   const char *alias, const struct mlctl_version_info *to, const char *reason,
		   const struct reg_how *how, struct mlctl_err *err)
{
	char head[41], was[256], was_digest[72], have[72], *actor = mlctl_actor();
	char *path = mlctl_aprintf("models/%s/aliases.json", name), *file = NULL, *msg = NULL;
	struct mlctl_git_change ch;
	struct event ev;
	cJSON *evj = NULL;
	int64_t now = mlctl_now(), moves;
	int rc;

	if ((rc = reg_begin_write(r, err)) || (rc = reg_catch_up_locked(r, NULL, err)) ||
	    (rc = reg_alias_state(r, name, alias, was, was_digest, &moves, err)))
		goto done;
	snprintf(mv->from, sizeof(mv->from), "%s", was);
	if (to) {
		rc = reg_version_field(r, have, sizeof(have), "digest", to->name, to->version, err);
		if (rc < 0)
			goto done;
		if (rc == 0 || strcmp(have, to->digest)) {
			rc = mlctl_err_set(err, MLCTL_ENOTFOUND,
					   "%s:%s is no longer in the registry", to->name,
					   to->version);
			goto done;
		}
		rc = 0;
		snprintf(mv->version, sizeof(mv->version), "%s", to->version);
		snprintf(mv->digest, sizeof(mv->digest), "%s", to->digest);
		if (!strcmp(was, to->version)) {
			mv->unchanged = 1; /* already there: nothing to record, nothing to refuse */
			goto done;
		}
	} else {
		if (!*was) {
			rc = mlctl_err_set(err, MLCTL_ENOTFOUND,
					   "alias '%s' of '%s' does not exist; see 'mlctl alias list "
					   "%s'",
					   alias, name, name);
			goto done;
		}
		snprintf(mv->version, sizeof(mv->version), "%s", was);
		snprintf(mv->digest, sizeof(mv->digest), "%s", was_digest);
	}
	if (how && strcmp(was, how->seen)) {
		rc = mlctl_err_set(err, MLCTL_ECONFLICT,
				   "%s:%s moved to %s while this %s was checked (another %s won); look "
				   "at 'mlctl history %s --alias %s' and run it again",
				   name, alias, *was ? was : "nothing", how->what, how->what, name,
				   alias);
		goto done;
	}
	if (how && how->check && (rc = how->check(r, how->payload, was, was_digest, actor, err)))
		goto done;
	if ((rc = aliases_file(r, &file, name, alias, to ? mv->version : NULL, mv->digest, err)))
		goto done;
	ch.path = path;
	ch.data = file;
	ch.len = strlen(file);
	memset(&ev, 0, sizeof(ev));
	ev.type = to ? "alias" : "unalias";
	ev.model = name;
	ev.alias = alias;
	ev.version = mv->version;
	ev.digest = mv->digest;
	if ((rc = reg_next_counter(r, name, &ev.n, err)))
		goto done;
	ev.from = to && *was ? was : NULL;
	ev.actor = actor;
	ev.time = now;
	ev.reason = reason;
	evj = cJSON_CreateObject();
	cJSON_AddStringToObject(evj, "type", ev.type);
	cJSON_AddStringToObject(evj, "model", name);
	cJSON_AddStringToObject(evj, "alias", alias);
	cJSON_AddStringToObject(evj, "version", ev.version);
	cJSON_AddStringToObject(evj, "digest", ev.digest);
	cJSON_AddNumberToObject(evj, "n", (double)ev.n);
	if (to && *was)
		cJSON_AddStringToObject(evj, "from", was);
	cJSON_AddStringToObject(evj, "actor", actor);
	cJSON_AddNumberToObject(evj, "time", (double)now);
	if (reason)
		cJSON_AddStringToObject(evj, "reason", reason);
	if (how) {
		cJSON *it;

		ev.via = how->via;
		cJSON_AddStringToObject(evj, "via", how->via);
		cJSON_ArrayForEach(it, how->extra)
			cJSON_AddItemToObject(evj, it->string, cJSON_Duplicate(it, 1));
	}
	ev.json = evj;
	msg = to ? mlctl_aprintf("alias %s %s -> %s", name, alias, ev.version)
		 : mlctl_aprintf("unalias %s %s (was %s)", name, alias, ev.version);
	if ((rc = reg_git_event(r, head, &ch, 1, evj, msg, actor, now, err)))
		goto done;
	if ((rc = reg_apply_alias(r, &ev, head, err)) ||
	    (rc = reg_insert_event(r, &ev, head, err)) || (rc = reg_notify(r, evj, err)) ||
	    (rc = reg_meta_set(r, "git_head", head, err)) || (rc = reg_reserve_space(r, err)))
		goto done;
	mv->tag = mlctl_strdup(ev.tag);
	mlctl_fault("alias-staged");
done:
	if ((rc = reg_end_write(r, rc, err))) {
		free(mv->tag);
		mv->tag = NULL;
	}
	cJSON_Delete(evj);
	free(actor);
	free(path);
	free(file);
	free(msg);
	return rc;
}

int mlctl_registry_alias_set(struct mlctl_registry *r, struct mlctl_alias_move *mv,
			     const char *ref, const char *alias, const char *reason,
			     struct mlctl_err *err)
{
	struct mlctl_version_info to;
	int rc;

	memset(mv, 0, sizeof(*mv));
	if ((rc = mlctl_alias_check(alias, err)) ||
	    (rc = mlctl_registry_resolve(r, &to, NULL, ref, err)))
		return rc;
	snprintf(mv->name, sizeof(mv->name), "%s", to.name);
	rc = mlctl_alias_tags_check(to.name, alias, err);
	if (!rc)
		rc = reg_move_alias(r, mv, to.name, alias, &to, reason, NULL, err);
	if (!rc && !mv->unchanged && to.deprecated)
		mlctl_warn("%s:%s is deprecated; the alias moved as asked ('mlctl promote' refuses "
			   "a deprecated version)", to.name, to.version);
	mlctl_version_info_release(&to);
	return rc;
}

int mlctl_registry_alias_rm(struct mlctl_registry *r, struct mlctl_alias_move *mv,
			    const char *name, const char *alias, const char *reason,
			    struct mlctl_err *err)
{
	int rc;

	memset(mv, 0, sizeof(*mv));
	/* names and aliases an older mlctl made (with dots) can still be removed */
	if (!mlctl_name_is_readable(name))
		return mlctl_err_set(err, MLCTL_EUSAGE,
				     "'%s' is not a model name; " MLCTL_NAME_RULE, name);
	if ((!mlctl_alias_is_readable(alias) && (rc = mlctl_alias_check(alias, err))) ||
	    (rc = mlctl_alias_tags_check(name, alias, err)))
		return rc;
	snprintf(mv->name, sizeof(mv->name), "%s", name);
	return reg_move_alias(r, mv, name, alias, NULL, reason, NULL, err);
}

void mlctl_alias_move_release(struct mlctl_alias_move *mv)
{
	free(mv->tag);
	mv->tag = NULL;
}

void mlctl_alias_infos_free(struct mlctl_alias_info *a, size_t n)
{
	size_t i;

	for (i = 0; a && i < n; i++) {
		free(a[i].model);
		free(a[i].alias);
		free(a[i].version);
		free(a[i].digest);
		free(a[i].actor);
		free(a[i].before);
	}
	free(a);
}

static void fill_alias_row(void *item, sqlite3_stmt *st)
{
	struct mlctl_alias_info *a = item;

	a->model = reg_col_text(st, 0);
	a->alias = reg_col_text(st, 1);
	a->version = reg_col_text(st, 2);
	a->digest = reg_col_text(st, 3);
	a->moved = sqlite3_column_int64(st, 4);
	a->actor = reg_col_text(st, 5);
}

int mlctl_registry_aliases(struct mlctl_registry *r, struct mlctl_alias_info **out, size_t *n,
			   const char *name, const char *digest, struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	struct mlctl_alias_info *a = NULL;
	size_t cnt = 0, i;
	int rc;

	*out = NULL;
	*n = 0;
	if (name && (rc = reg_model_known(r, name, err)))
		return rc;
	if ((rc = reg_db_prepare(r, &st,
				 "SELECT model, alias, version, digest, moved, actor FROM aliases "
				 "WHERE (?1 IS NULL OR model = ?1) AND (?2 IS NULL OR digest = ?2) "
				 "ORDER BY model, alias",
				 err)))
		return rc;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, digest, -1, SQLITE_STATIC);
	a = reg_collect_rows(r, st, sizeof(*a), &cnt, fill_alias_row, &rc, err);
	for (i = 0; !rc && i < cnt; i++) {
		char before[256], digest_before[72];

		rc = mlctl_registry_alias_before(r, before, digest_before, a[i].model, a[i].alias,
						 err);
		a[i].before = mlctl_strdup(before);
	}
	if (rc) {
		mlctl_alias_infos_free(a, cnt);
		return rc;
	}
	*out = a;
	*n = cnt;
	return 0;
}
