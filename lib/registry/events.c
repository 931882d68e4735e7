/*
 * events.c - events: parsed from git commits and applied to the database; replay and catch-up.
 */
#define _GNU_SOURCE
#include "registry/internal.h"

#include <stdlib.h>
#include <string.h>

#include "banned.h"

/* An event's integer field: 0 when absent; -1 when not a finite number in int64's range. */
static int event_int(int64_t *out, const cJSON *it)
{
	*out = 0;
	if (!it)
		return 0;
	if (!cJSON_IsNumber(it) || !(it->valuedouble >= -9.2e18 && it->valuedouble <= 9.2e18))
		return -1;
	*out = (int64_t)it->valuedouble;
	return 0;
}

/* The event in a commit's message (JSON after the first blank line); -1 when there is none. */
int reg_event_parse(struct event *ev, cJSON **json, const char *message)
{
	const char *body = strstr(message, "\n\n");
	cJSON *j, *it;

	memset(ev, 0, sizeof(*ev));
	*json = NULL;
	if (!body)
		return -1;
	j = cJSON_Parse(body + 2);
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return -1;
	}
#define STR(field) \
	it = cJSON_GetObjectItemCaseSensitive(j, #field); \
	ev->field = cJSON_IsString(it) ? it->valuestring : NULL;
	STR(type)
	STR(model)
	STR(version)
	STR(digest)
	STR(actor)
	STR(reason)
	STR(kind)
	STR(path)
	STR(alias)
	STR(from)
	STR(via)
#undef STR
	*json = j;
	ev->json = j;
	if (event_int(&ev->n, cJSON_GetObjectItemCaseSensitive(j, "n")) ||
	    event_int(&ev->time, cJSON_GetObjectItemCaseSensitive(j, "time")))
		return -1;
	ev->passed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "passed"));
	it = cJSON_GetObjectItemCaseSensitive(j, "validated");
	ev->validated = !cJSON_IsFalse(it); /* absent (older events): validated */
	return ev->type && ev->actor ? 0 : -1;
}

int reg_event_counted(const struct event *ev)
{
	return ev->type && (!strcmp(ev->type, "alias") || !strcmp(ev->type, "unalias") ||
			    !strcmp(ev->type, "deprecate"));
}

char *reg_version_path(const char *name, const char *version)
{
	return mlctl_aprintf("models/%s/versions/%s.json", name, version);
}

char *reg_tag_name(const char *name, const char *version)
{
	return mlctl_version_tag(name, version);
}

int reg_model_id(struct mlctl_registry *r, int64_t *id, const char *name, int create,
		 int64_t when, struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*id = 0;
	if ((rc = reg_db_prepare(r, &st, "SELECT id FROM models WHERE name = ?", err)))
		return rc;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return reg_db_fail(err, r->db, "registry database");
	if (*id || !create)
		return *id ? 0 : MLCTL_ENOTFOUND;
	if ((rc = reg_db_prepare(r, &st, "INSERT INTO models(name, created) VALUES(?, ?)", err)))
		return rc;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, when);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : reg_db_fail(err, r->db, "registry database");
	sqlite3_finalize(st);
	*id = sqlite3_last_insert_rowid(r->db);
	return rc;
}

int reg_model_known(struct mlctl_registry *r, const char *name, struct mlctl_err *err)
{
	int64_t id;
	int rc = reg_model_id(r, &id, name, 0, 0, err);

	if (rc == MLCTL_ENOTFOUND)
		return mlctl_err_set(err, rc, "model '%s' is not in the registry; see 'mlctl list'",
				     name);
	return rc;
}

/* Insert a version's rows (inside a write transaction). */
int reg_insert_version(struct mlctl_registry *r, const struct mlctl_manifest *m,
		       const char *digest, const char *actor, int64_t when,
		       const char *commit, int validated, struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	int64_t mid, vid;
	char *canon = mlctl_manifest_canonical(m);
	size_t i;
	int rc;

	if ((rc = reg_model_id(r, &mid, m->name, 1, when, err)))
		goto done;
	if ((rc = reg_db_prepare(r, &st,
				 "INSERT INTO versions(model_id, version, digest, size, nfiles, "
				 "manifest, created, actor, git_commit, validated) "
				 "VALUES(?,?,?,?,?,?,?,?,?,?)",
				 err)))
		goto done;
	sqlite3_bind_int64(st, 1, mid);
	sqlite3_bind_text(st, 2, m->version, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, digest, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)mlctl_manifest_total_size(m));
	sqlite3_bind_int64(st, 5, (sqlite3_int64)m->nfiles);
	sqlite3_bind_text(st, 6, canon, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, when);
	sqlite3_bind_text(st, 8, actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, commit, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 10, validated);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = reg_db_fail(err, r->db, "registry database");
		goto done;
	}
	sqlite3_finalize(st);
	st = NULL;
	vid = sqlite3_last_insert_rowid(r->db);
	if ((rc = reg_db_prepare(r, &st,
				 "INSERT INTO files(version_id, path, size, mode, sha256) "
				 "VALUES(?,?,?,?,?)",
				 err)))
		goto done;
	for (i = 0; i < m->nfiles; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, vid);
		sqlite3_bind_text(st, 2, m->files[i].path, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)m->files[i].size);
		sqlite3_bind_int(st, 4, (int)m->files[i].mode);
		sqlite3_bind_text(st, 5, m->files[i].sha256, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			rc = reg_db_fail(err, r->db, "registry database");
			goto done;
		}
	}
done:
	sqlite3_finalize(st);
	free(canon);
	return rc;
}

int reg_insert_event(struct mlctl_registry *r, const struct event *ev, const char *commit,
		     struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	char *unmet = NULL;
	int rc;

	if ((rc = reg_db_prepare(r, &st,
				 "INSERT INTO events(type, model, version, digest, actor, time, "
				 "reason, git_commit, alias, from_version, tag, via, forced, unmet) "
				 "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
				 err)))
		return rc;
	sqlite3_bind_text(st, 1, ev->type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ev->model, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ev->version, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, ev->digest, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, ev->actor, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, ev->time);
	sqlite3_bind_text(st, 7, ev->reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, commit, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, ev->alias, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, ev->from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, *ev->tag ? ev->tag : NULL, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 12, ev->via, -1, SQLITE_STATIC);
	/* a promotion forced past its rules: flagged, with what it passed over, for history */
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ev->json, "forced"))) {
		const cJSON *u = cJSON_GetObjectItemCaseSensitive(ev->json, "unmet");

		sqlite3_bind_int(st, 13, 1);
		unmet = cJSON_IsArray(u) ? cJSON_PrintUnformatted(u) : NULL;
		sqlite3_bind_text(st, 14, unmet, -1, SQLITE_STATIC);
	}
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : reg_db_fail(err, r->db, "registry database");
	sqlite3_finalize(st);
	cJSON_free(unmet);
	return rc;
}

/* Under the write lock: one git commit with these changes, its message the event. */
int reg_git_event(struct mlctl_registry *r, char head[41], const struct mlctl_git_change *ch,
		  size_t n, cJSON *evj, const char *summary, const char *actor, int64_t now,
		  struct mlctl_err *err)
{
	char *evtext = mlctl_json_canonical(evj);
	char *msg = mlctl_aprintf("%s\n\n%s\n", summary, evtext);
	int rc;

	mlctl_git_clear_stale_locks(r->git);
	rc = mlctl_git_commit(r->git, head, ch, n, msg, actor, now, err);
	free(evtext);
	free(msg);
	return rc;
}

/* The summary object of a stored report, as canonical JSON ("{}" when absent). */
char *reg_report_summary(const char *report, size_t len)
{
	cJSON *j = cJSON_ParseWithLength(report, len);
	cJSON *sum = cJSON_GetObjectItemCaseSensitive(j, "summary");
	char *out = sum ? mlctl_json_canonical(sum) : mlctl_strdup("{}");

	cJSON_Delete(j);
	return out;
}

int reg_insert_record(struct mlctl_registry *r, const struct event *ev, const char *summary,
		      const char *commit, struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = reg_db_prepare(r, &st,
				 "INSERT INTO records(model, version, digest, kind, passed, created, "
				 "actor, path, summary, git_commit) VALUES(?,?,?,?,?,?,?,?,?,?)",
				 err)))
		return rc;
	sqlite3_bind_text(st, 1, ev->model, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ev->version, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ev->digest, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, ev->kind, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, ev->passed);
	sqlite3_bind_int64(st, 6, ev->time);
	sqlite3_bind_text(st, 7, ev->actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, ev->path, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, summary, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, commit, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : reg_db_fail(err, r->db, "registry database");
	sqlite3_finalize(st);
	return rc;
}

/*
 * GTO's tags. One counter per model, over every tag that carries one
 * (NAME#ALIAS#N, NAME#ALIAS!#N, NAME@vX.Y.Z!#N, NAME@deprecated#N): the next is
 * 1 + the largest. GTO orders a model's events by tag time at one-second
 * resolution, so each tag of a model is dated max(event time, last + 1 s).
 * Both are worked out as the events are applied, in history order, so a
 * replay anywhere (reindex, a sync's rebuilt history, a migration) makes the
 * very same tag objects.
 */

/* The counter the model's next counted tag takes (1 for a model with none yet). */
int reg_next_counter(struct mlctl_registry *r, const char *model, int64_t *n,
		     struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc, s;

	*n = 1;
	if ((rc = reg_db_prepare(r, &st, "SELECT tag_n FROM models WHERE name = ?", err)))
		return rc;
	sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
	if ((s = sqlite3_step(st)) == SQLITE_ROW)
		*n = sqlite3_column_int64(st, 0) + 1;
	else if (s != SQLITE_DONE)
		rc = reg_db_fail(err, r->db, "registry database");
	sqlite3_finalize(st);
	return rc;
}

/*
 * Make tag (annotated: tagger the actor, message the reason) on commit as
 * the model's next tag, dated after its last one; counter is the one it
 * carries (from reg_next_counter), 0 for none.
 */
int reg_model_tag(struct mlctl_registry *r, const struct event *ev, const char *commit,
		     const char *message, const char *tag, int64_t counter,
		     struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	int64_t last = 0, when;
	int rc, s;

	if ((rc = reg_db_prepare(r, &st, "SELECT tag_time FROM models WHERE name = ?", err)))
		return rc;
	sqlite3_bind_text(st, 1, ev->model, -1, SQLITE_STATIC);
	if ((s = sqlite3_step(st)) == SQLITE_ROW)
		last = sqlite3_column_int64(st, 0);
	else if (s != SQLITE_DONE)
		rc = reg_db_fail(err, r->db, "registry database");
	sqlite3_finalize(st);
	if (rc)
		return rc;
	when = last && ev->time <= last ? last + 1 : ev->time;
	if ((rc = reg_db_prepare(r, &st,
				 "UPDATE models SET tag_time = ?1, tag_n = max(tag_n, ?2) "
				 "WHERE name = ?3",
				 err)))
		return rc;
	sqlite3_bind_int64(st, 1, when);
	sqlite3_bind_int64(st, 2, counter);
	sqlite3_bind_text(st, 3, ev->model, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : reg_db_fail(err, r->db, "registry database");
	sqlite3_finalize(st);
	if (!rc)
		rc = mlctl_git_tag(r->git, tag, commit, message, ev->actor, when, err);
	return rc;
}

int reg_tag_push(struct mlctl_registry *r, struct event *ev, const char *commit,
		 struct mlctl_err *err)
{
	char *tag = reg_tag_name(ev->model, ev->version);
	int rc;

	snprintf(ev->tag, sizeof(ev->tag), "%s", tag);
	rc = reg_model_tag(r, ev, commit, ev->digest, tag, 0, err);
	free(tag);
	return rc;
}

/* The commit a version was pushed in, where its NAME@vVERSION tag points. */
static int version_commit(struct mlctl_registry *r, char out[41], const char *name,
			  const char *version, struct mlctl_err *err)
{
	int rc = reg_version_field(r, out, 41, "git_commit", name, version, err);

	if (rc == 0)
		return mlctl_err_set(err, MLCTL_EINTEGRITY,
				     "an alias names %s:%s, which is not in the registry; run "
				     "'mlctl registry reindex'",
				     name, version);
	return rc == 1 ? 0 : rc;
}

/*
 * Inside a write transaction: an alias event's row, its move, and its GTO
 * tag; ev->n becomes the model's next counter (whatever the event's record
 * says: older mlctl counted per alias), ev->tag the tag.
 */
int reg_apply_alias(struct mlctl_registry *r, struct event *ev, const char *commit,
		    struct mlctl_err *err)
{
	int removed = !strcmp(ev->type, "unalias"), rc;
	sqlite3_stmt *st = NULL;
	char vcommit[41], *tag, *msg = NULL;

	if ((rc = version_commit(r, vcommit, ev->model, ev->version, err)) ||
	    (rc = reg_next_counter(r, ev->model, &ev->n, err)))
		return rc;
	if (removed)
		rc = reg_db_prepare(r, &st, "DELETE FROM aliases WHERE model = ? AND alias = ?",
				    err);
	else
		rc = reg_db_prepare(r, &st,
				    "INSERT OR REPLACE INTO aliases(model, alias, version, digest, moved, "
				    "actor, git_commit) VALUES(?,?,?,?,?,?,?)",
				    err);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, ev->model, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ev->alias, -1, SQLITE_STATIC);
	if (!removed) {
		sqlite3_bind_text(st, 3, ev->version, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, ev->digest, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, ev->time);
		sqlite3_bind_text(st, 6, ev->actor, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 7, commit, -1, SQLITE_STATIC);
	}
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : reg_db_fail(err, r->db, "registry database");
	sqlite3_finalize(st);
	if (rc ||
	    (rc = reg_db_prepare(r, &st,
				 "INSERT INTO alias_moves(model, alias, n, version, digest, time, "
				 "actor, reason, git_commit, via) VALUES(?,?,?,?,?,?,?,?,?,?)",
				 err)))
		return rc;
	sqlite3_bind_text(st, 1, ev->model, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ev->alias, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, ev->n);
	if (!removed) {
		sqlite3_bind_text(st, 4, ev->version, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, ev->digest, -1, SQLITE_STATIC);
	}
	sqlite3_bind_int64(st, 6, ev->time);
	sqlite3_bind_text(st, 7, ev->actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, ev->reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, commit, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, ev->via, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : reg_db_fail(err, r->db, "registry database");
	sqlite3_finalize(st);
	if (rc)
		return rc;
	/* the tag points at the version's own commit, so GTO reads it as that version's stage */
	tag = mlctl_alias_tag(ev->model, ev->alias, removed, ev->n);
	snprintf(ev->tag, sizeof(ev->tag), "%s", tag);
	msg = ev->reason ? mlctl_strdup(ev->reason)
			 : mlctl_aprintf("%s %s %s %s", removed ? "unalias" : "alias", ev->model,
					 ev->alias, ev->version);
	rc = reg_model_tag(r, ev, vcommit, msg, tag, ev->n, err);
	free(tag);
	free(msg);
	return rc;
}

/* The alias's target (version and digest, "" when unset) and its last move number. */
int reg_alias_state(struct mlctl_registry *r, const char *name, const char *alias,
		    char version[256], char digest[72], int64_t *moves, struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc, s;

	version[0] = digest[0] = '\0';
	*moves = 0;
	if ((rc = reg_db_prepare(r, &st,
				 "SELECT (SELECT version FROM aliases WHERE model = ?1 AND alias = ?2), "
				 "(SELECT digest FROM aliases WHERE model = ?1 AND alias = ?2), "
				 "(SELECT coalesce(max(n), 0) FROM alias_moves WHERE model = ?1 AND "
				 "alias = ?2)",
				 err)))
		return rc;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, alias, -1, SQLITE_STATIC);
	s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		if (sqlite3_column_text(st, 0))
			snprintf(version, 256, "%s", (const char *)sqlite3_column_text(st, 0));
		if (sqlite3_column_text(st, 1))
			snprintf(digest, 72, "%s", (const char *)sqlite3_column_text(st, 1));
		*moves = sqlite3_column_int64(st, 2);
	} else {
		rc = reg_db_fail(err, r->db, "registry database");
	}
	sqlite3_finalize(st);
	return rc;
}

struct replay {
	struct mlctl_registry *r;
	size_t events, skipped;
};

/* A push event: the version's rows from its manifest in git, checked, and its tag. */
static int apply_push(struct mlctl_registry *r, struct event *ev, const char *commit,
		      struct mlctl_err *err)
{
	struct mlctl_buf text = MLCTL_BUF_INIT;
	struct mlctl_manifest m;
	char *path = NULL, *tag = NULL, digest[72];
	const char *why;
	int rc = 0;

	memset(&m, 0, sizeof(m));
	if (!ev->model || !ev->version || !ev->digest) {
		rc = mlctl_err_set(err, MLCTL_EINTEGRITY,
				   "push event in commit %.12s lacks model, version or digest",
				   commit);
		goto done;
	}
	tag = reg_tag_name(ev->model, ev->version);
	if ((why = mlctl_tag_problem(tag))) {
		rc = mlctl_err_set(err, MLCTL_EINTEGRITY, "its tag '%s' is not valid: %s",
				   tag, why);
		goto done;
	}
	path = reg_version_path(ev->model, ev->version);
	if ((rc = mlctl_git_read(r->git, &text, commit, path, err)))
		goto done;
	if ((rc = mlctl_manifest_parse(&m, text.buf, text.len, path,
				       MLCTL_MANIFEST_STORED, NULL, err))) {
		err->code = rc = MLCTL_EINTEGRITY;
		goto done;
	}
	if (strcmp(m.name, ev->model) || strcmp(m.version, ev->version)) {
		rc = mlctl_err_set(err, MLCTL_EINTEGRITY,
				   "%s names %s:%s, not the event's model and version",
				   path, m.name, m.version);
		goto done;
	}
	mlctl_manifest_digest(&m, digest);
	if (strcmp(digest, ev->digest)) {
		rc = mlctl_err_set(err, MLCTL_EINTEGRITY,
				   "%s at commit %.12s has digest %s, but its event says %s",
				   path, commit, digest, ev->digest);
		goto done;
	}
	if ((rc = reg_insert_version(r, &m, digest, ev->actor, ev->time, commit,
				     ev->validated, err)) ||
	    (rc = reg_tag_push(r, ev, commit, err)))
		goto done;
done:
	mlctl_manifest_release(&m);
	mlctl_buf_release(&text);
	free(path);
	free(tag);
	return rc;
}

/* A record event: its row, with the summary of the report in git. */
static int apply_record(struct mlctl_registry *r, struct event *ev, const char *commit,
			struct mlctl_err *err)
{
	struct mlctl_buf text = MLCTL_BUF_INIT;
	char *summary;
	int rc;

	if (!ev->model || !ev->version || !ev->digest || !ev->kind || !ev->path) {
		rc = mlctl_err_set(err, MLCTL_EINTEGRITY,
				   "record event in commit %.12s lacks model, version, digest, "
				   "kind or path",
				   commit);
		goto done;
	}
	if ((rc = mlctl_git_read(r->git, &text, commit, ev->path, err)))
		goto done;
	summary = reg_report_summary(text.buf, text.len);
	rc = reg_insert_record(r, ev, summary, commit, err);
	free(summary);
done:
	mlctl_buf_release(&text);
	return rc;
}

/* Apply one event (its commit's) to the database; its rows are undone by the caller on failure. */
static int apply_event(struct mlctl_registry *r, struct event *ev, const cJSON *json,
		       const char *commit, struct mlctl_err *err)
{
	int rc = 0;

	if (!strcmp(ev->type, "push") && (rc = apply_push(r, ev, commit, err)))
		return rc;
	if (!strcmp(ev->type, "record") && (rc = apply_record(r, ev, commit, err)))
		return rc;
	if (!strcmp(ev->type, "alias") || !strcmp(ev->type, "unalias")) {
		if (!ev->model || !ev->alias || !ev->version || !ev->digest || ev->n < 1)
			return mlctl_err_set(err, MLCTL_EINTEGRITY,
					     "%s event in commit %.12s lacks model, alias, version, "
					     "digest or move number",
					     ev->type, commit);
		if ((rc = mlctl_alias_tags_check(ev->model, ev->alias, err)))
			return rc;
		if ((rc = reg_apply_alias(r, ev, commit, err)))
			return rc;
	}
	if (!strcmp(ev->type, "deprecate") || !strcmp(ev->type, "undeprecate")) {
		if (!ev->model || (ev->version && !ev->digest))
			return mlctl_err_set(err, MLCTL_EINTEGRITY,
					     "%s event in commit %.12s lacks model or digest", ev->type,
					     commit);
		if ((rc = reg_apply_deprecate(r, ev, commit, err)))
			return rc;
	}
	if (!strcmp(ev->type, "policy")) {
		const cJSON *pol = cJSON_GetObjectItemCaseSensitive(json, "policy");

		if (!ev->model || !ev->alias || !pol)
			return mlctl_err_set(err, MLCTL_EINTEGRITY,
					     "policy event in commit %.12s lacks model, alias or policy",
					     commit);
		if ((rc = reg_apply_policy(r, ev, cJSON_IsNull(pol) ? NULL : pol, commit, err)))
			return rc;
	}
	if (!strcmp(ev->type, "approve")) {
		const cJSON *pd = cJSON_GetObjectItemCaseSensitive(json, "policy_digest");

		if (!ev->model || !ev->alias || !ev->version || !ev->digest || !cJSON_IsString(pd))
			return mlctl_err_set(err, MLCTL_EINTEGRITY,
					     "approve event in commit %.12s lacks model, alias, version, "
					     "digest or policy digest",
					     commit);
		if ((rc = reg_apply_approve(r, ev, pd->valuestring, commit, err)))
			return rc;
	}
	if (!strcmp(ev->type, "hook") &&
	    (rc = reg_apply_hook(r, ev, cJSON_GetObjectItemCaseSensitive(json, "hook"), commit,
				 err)))
		return rc;
	/* events of kinds this version does not know are kept in the log as they are */
	return reg_insert_event(r, ev, commit, err);
}

/*
 * Whether a failure to apply an event stops the replay: the environment's
 * (I/O, a full disk, a signal) does; the event's own (a name git cannot tag,
 * a manifest that does not parse, a wrong digest, a row it repeats) does not.
 */
static int replay_stops(struct mlctl_registry *r, int rc)
{
	if (mlctl_interrupted())
		return 1;
	if (rc == MLCTL_EIO)
		return (sqlite3_errcode(r->db) & 0xff) != SQLITE_CONSTRAINT;
	return rc == MLCTL_EINTERNAL || rc == MLCTL_ENET;
}

/*
 * An event that cannot be applied: kept in the events table as type
 * "skipped" with why (so verify reports it), a warning on stderr, and the
 * replay goes on past it.
 */
static int skip_event(struct replay *rp, const struct event *ev, const char *commit,
		      const char *why, struct mlctl_err *err)
{
	struct event sk = *ev;
	char *reason = mlctl_aprintf("%s event: %s", ev->type ? ev->type : "no", why);
	int rc;

	sk.type = "skipped";
	sk.actor = ev->actor ? ev->actor : "";
	sk.reason = reason;
	rc = reg_insert_event(rp->r, &sk, commit, err);
	if (!rc) {
		rp->skipped++;
		mlctl_warn("skipped commit %.12s of the registry's history (%s); the rest is "
			   "served; see 'mlctl registry verify'",
			   commit, reason);
	}
	free(reason);
	return rc;
}

/* Apply one git commit's event to the database (inside a write transaction). */
static int replay_commit(void *payload, const char *commit, const char *message,
			 struct mlctl_err *err)
{
	struct replay *rp = payload;
	struct mlctl_registry *r = rp->r;
	struct mlctl_err why = MLCTL_ERR_INIT;
	struct event ev;
	cJSON *json = NULL;
	int rc;

	if ((rc = reg_db_exec(r, "SAVEPOINT replay_event", err)))
		return rc;
	if (reg_event_parse(&ev, &json, message))
		rc = mlctl_err_set(&why, MLCTL_EINTEGRITY,
				   "no event record, or one without type and actor or with a time "
				   "or number that is not a finite integer");
	else
		rc = apply_event(r, &ev, json, commit, &why);
	if (rc && replay_stops(r, rc)) {
		*err = why;
		goto done;
	}
	if (rc) {
		/* undo what the event wrote before it failed, then record it as skipped */
		if ((rc = reg_db_exec(r, "ROLLBACK TO replay_event", err)) ||
		    (rc = skip_event(rp, &ev, commit, why.msg, err)))
			goto done;
	} else {
		rp->events++;
	}
	if (!(rc = reg_meta_set(r, "git_head", commit, err)))
		rc = reg_db_exec(r, "RELEASE replay_event", err);
	if (!rc)
		mlctl_fault("replay-event");
done:
	cJSON_Delete(json);
	return rc;
}

static int commit_exists(struct mlctl_registry *r, const char *commit)
{
	char *msg = NULL, *actor = NULL;
	int64_t when;
	int ok = mlctl_git_commit_info(r->git, commit, &msg, &actor, &when, NULL) == 0;

	free(msg);
	free(actor);
	return ok;
}

/* An event tag (GTO's forms) that no event in the database made: queued for removal. */
static int drop_unmade(void *payload, const char *refname, const char *target,
		       const char *commit, struct mlctl_err *err)
{
	struct mlctl_registry *r = payload;
	const char *name = refname + strlen("refs/tags/");
	sqlite3_stmt *st = NULL;
	int rc, s;

	(void)target;
	(void)commit;
	if (!mlctl_is_event_tag(name))
		return 0;
	if ((rc = reg_db_prepare(r, &st, "SELECT 1 FROM events WHERE tag = ?", err)))
		return rc;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	s = sqlite3_step(st);
	sqlite3_finalize(st);
	if (s == SQLITE_ROW)
		return 0;
	if (s != SQLITE_DONE)
		return reg_db_fail(err, r->db, "registry database");
	return mlctl_git_queue_ref(r->git, refname, NULL, err);
}

/* Inside a write transaction: bring the database up to git's tip. */
int reg_catch_up_locked(struct mlctl_registry *r, size_t *events, struct mlctl_err *err)
{
	struct replay rp = { r, 0, 0 };
	char head[41], db_head[64];
	int rc, fresh;

	if ((rc = mlctl_git_head(r->git, head, err)) ||
	    (rc = reg_meta_get(r, db_head, sizeof(db_head), "git_head", err)))
		return rc;
	if (!strcmp(head, db_head))
		return 0;
	if (!*head)
		return mlctl_err_set(err, MLCTL_EINTEGRITY,
				     "the registry's database has events but its git history is "
				     "empty; restore index.git from a backup");
	mlctl_git_clear_stale_locks(r->git);
	if (*db_head && !mlctl_git_contains(r->git, head, db_head) && commit_exists(r, db_head)) {
		/* the history was rewritten (a sync put local events on top of a remote's):
		 * what the database holds is replayed afresh */
		if ((rc = reg_db_reset(r, err)))
			return rc;
		*db_head = '\0';
	}
	/* a replay from the start (reindex, a rewritten history, a migration) makes every
	 * event tag again as this mlctl does (the same objects, for the same history, so
	 * most stay as they are); then the event tags no event made go */
	fresh = !*db_head;
	mlctl_git_remake_tags(r->git, fresh);
	rc = mlctl_git_log(r->git, db_head, head, replay_commit, &rp, err);
	mlctl_git_remake_tags(r->git, 0);
	if (!rc && fresh)
		rc = mlctl_git_refs(r->git, "refs/tags/", drop_unmade, r, err);
	if (events)
		*events = rp.events;
	return rc;
}

int reg_catch_up(struct mlctl_registry *r, struct mlctl_err *err)
{
	char head[41], db_head[64];
	int rc;

	if ((rc = mlctl_git_head(r->git, head, err)) ||
	    (rc = reg_meta_get(r, db_head, sizeof(db_head), "git_head", err)))
		return rc;
	if (!strcmp(head, db_head))
		return 0;
	/* git is ahead (a writer crashed, or one is between its git commit and COMMIT):
	 * check again under the lock */
	if ((rc = reg_begin_write(r, err)))
		return rc;
	return reg_end_write(r, reg_catch_up_locked(r, NULL, err), err);
}
