/*
 * deprecate.c - deprecations of versions and models, and taking them back.
 *
 * In git: models/NAME/deprecations/VERSION.json or models/NAME/deprecation.json,
 * rewritten by each event (never removed, so two registries' events merge as
 * files of their own), and GTO's tag for a deprecation: NAME@vX.Y.Z!#N on the
 * version's commit, NAME@deprecated#N on the event's. GTO has no tag that
 * takes a deprecation back; undeprecate is in mlctl's history only.
 */
#define _GNU_SOURCE
#include "registry/internal.h"

#include <stdlib.h>
#include <string.h>

#include "banned.h"

/* Inside a write transaction: a deprecate or undeprecate event's rows and its tag. */
int reg_apply_deprecate(struct mlctl_registry *r, struct event *ev, const char *commit,
			struct mlctl_err *err)
{
	int undo = !strcmp(ev->type, "undeprecate"), rc;
	sqlite3_stmt *st = NULL;
	char vcommit[41], *tag = NULL, *msg = NULL;

	if (ev->version)
		rc = reg_db_prepare(r, &st,
				    "UPDATE versions SET deprecated = ?1 WHERE version = ?3 AND "
				    "model_id = (SELECT id FROM models WHERE name = ?2)",
				    err);
	else
		rc = reg_db_prepare(r, &st, "UPDATE models SET deprecated = ?1 WHERE name = ?2",
				    err);
	if (rc)
		return rc;
	if (undo)
		sqlite3_bind_null(st, 1);
	else
		sqlite3_bind_int64(st, 1, ev->time);
	sqlite3_bind_text(st, 2, ev->model, -1, SQLITE_STATIC);
	if (ev->version)
		sqlite3_bind_text(st, 3, ev->version, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : reg_db_fail(err, r->db, "registry database");
	sqlite3_finalize(st);
	if (rc)
		return rc;
	if (sqlite3_changes(r->db) != 1)
		return mlctl_err_set(err, MLCTL_EINTEGRITY, "%s %s%s%s, which is not in the registry",
				     ev->type, ev->model, ev->version ? ":" : "",
				     ev->version ? ev->version : "");
	if (undo)
		return 0;
	if (ev->version && (rc = reg_version_field(r, vcommit, sizeof(vcommit), "git_commit",
						   ev->model, ev->version, err)) != 1)
		return rc;
	if ((rc = reg_next_counter(r, ev->model, &ev->n, err)))
		return rc;
	tag = mlctl_deprecate_tag(ev->model, ev->version, ev->n);
	snprintf(ev->tag, sizeof(ev->tag), "%s", tag);
	msg = ev->reason ? mlctl_strdup(ev->reason)
			 : mlctl_aprintf("deprecate %s%s%s", ev->model, ev->version ? " " : "",
					 ev->version ? ev->version : "");
	rc = reg_model_tag(r, ev, ev->version ? vcommit : commit, msg, tag, ev->n, err);
	free(tag);
	free(msg);
	return rc;
}

/* When the model, or one of its versions, was deprecated (0: it is not). */
static int deprecated_at(struct mlctl_registry *r, int64_t *when, const char *name,
			 const char *version, struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc, s;

	*when = 0;
	if (version)
		rc = reg_db_prepare(r, &st,
				    "SELECT v.deprecated FROM versions v JOIN models m ON "
				    "m.id = v.model_id WHERE m.name = ? AND v.version = ?",
				    err);
	else
		rc = reg_db_prepare(r, &st, "SELECT deprecated FROM models WHERE name = ?", err);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (version)
		sqlite3_bind_text(st, 2, version, -1, SQLITE_STATIC);
	s = sqlite3_step(st);
	if (s == SQLITE_ROW)
		*when = sqlite3_column_int64(st, 0);
	else if (s == SQLITE_DONE)
		rc = mlctl_err_set(err, MLCTL_ENOTFOUND, "%s%s%s is no longer in the registry", name,
				   version ? ":" : "", version ? version : "");
	else
		rc = reg_db_fail(err, r->db, "registry database");
	sqlite3_finalize(st);
	return rc;
}

static int write_deprecation(struct mlctl_registry *r, struct mlctl_deprecation *d, int undo,
			     const char *reason, struct mlctl_err *err)
{
	const char *version = *d->version ? d->version : NULL;
	char head[41], *actor = mlctl_actor(), *path, *file, *text, *summary;
	struct mlctl_git_change ch;
	struct event ev;
	cJSON *evj = cJSON_CreateObject(), *doc = cJSON_CreateObject();
	int64_t now = mlctl_now(), when, n = 0;
	int rc;

	path = version ? mlctl_aprintf("models/%s/deprecations/%s.json", d->name, version)
		       : mlctl_aprintf("models/%s/deprecation.json", d->name);
	memset(&ev, 0, sizeof(ev));
	if ((rc = reg_begin_write(r, err)) || (rc = reg_catch_up_locked(r, NULL, err)) ||
	    (rc = deprecated_at(r, &when, d->name, version, err)))
		goto done;
	if ((when != 0) == !undo) { /* deprecated already, or not deprecated */
		d->unchanged = 1;
		goto done;
	}
	if (!undo && (rc = reg_next_counter(r, d->name, &n, err)))
		goto done;
	ev.type = undo ? "undeprecate" : "deprecate";
	ev.model = d->name;
	ev.version = version;
	ev.digest = version ? d->digest : NULL;
	ev.actor = actor;
	ev.time = now;
	ev.reason = reason;
	cJSON_AddStringToObject(evj, "type", ev.type);
	cJSON_AddStringToObject(evj, "model", d->name);
	if (version) {
		cJSON_AddStringToObject(evj, "version", version);
		cJSON_AddStringToObject(evj, "digest", d->digest);
	}
	if (n)
		cJSON_AddNumberToObject(evj, "n", (double)n);
	cJSON_AddStringToObject(evj, "actor", actor);
	cJSON_AddNumberToObject(evj, "time", (double)now);
	if (reason)
		cJSON_AddStringToObject(evj, "reason", reason);
	/* the state as a file of its own: two registries' deprecations never touch one file */
	cJSON_AddBoolToObject(doc, "deprecated", !undo);
	if (version) {
		cJSON_AddStringToObject(doc, "version", version);
		cJSON_AddStringToObject(doc, "digest", d->digest);
	}
	cJSON_AddStringToObject(doc, "actor", actor);
	cJSON_AddNumberToObject(doc, "time", (double)now);
	if (reason)
		cJSON_AddStringToObject(doc, "reason", reason);
	text = mlctl_json_canonical(doc);
	file = mlctl_aprintf("%s\n", text);
	free(text);
	ch = (struct mlctl_git_change){ path, file, strlen(file) };
	summary = mlctl_aprintf("%s %s%s%s", ev.type, d->name, version ? " " : "",
				version ? version : "");
	rc = reg_git_event(r, head, &ch, 1, evj, summary, actor, now, err);
	free(summary);
	free(file);
	if (rc || (rc = reg_apply_deprecate(r, &ev, head, err)) ||
	    (rc = reg_insert_event(r, &ev, head, err)) || (rc = reg_notify(r, evj, err)) ||
	    (rc = reg_meta_set(r, "git_head", head, err)) || (rc = reg_reserve_space(r, err)))
		goto done;
	if (*ev.tag)
		d->tag = mlctl_strdup(ev.tag);
	mlctl_fault("deprecate-staged");
done:
	if ((rc = reg_end_write(r, rc, err))) {
		free(d->tag);
		d->tag = NULL;
	}
	cJSON_Delete(evj);
	cJSON_Delete(doc);
	free(actor);
	free(path);
	return rc;
}

int mlctl_registry_deprecate(struct mlctl_registry *r, struct mlctl_deprecation *d,
			     const char *target, int undo, const char *reason,
			     struct mlctl_err *err)
{
	struct mlctl_ref ref;
	int rc;

	memset(d, 0, sizeof(*d));
	if ((rc = mlctl_ref_parse(&ref, target, err)))
		return rc;
	if (ref.kind == MLCTL_REF_LATEST) { /* NAME alone: the model */
		if ((rc = reg_model_known(r, ref.name, err)))
			return rc;
		snprintf(d->name, sizeof(d->name), "%s", ref.name);
	} else {
		struct mlctl_version_info v;

		if ((rc = mlctl_registry_resolve(r, &v, NULL, target, err)))
			return rc;
		snprintf(d->name, sizeof(d->name), "%s", v.name);
		snprintf(d->version, sizeof(d->version), "%s", v.version);
		snprintf(d->digest, sizeof(d->digest), "%s", v.digest);
		mlctl_version_info_release(&v);
	}
	return write_deprecation(r, d, undo, reason, err);
}

void mlctl_deprecation_release(struct mlctl_deprecation *d)
{
	free(d->tag);
	d->tag = NULL;
}
