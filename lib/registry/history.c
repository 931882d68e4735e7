/*
 * history.c - a model's events, newest first, filtered, streamed row by row
 * from the database (so memory stays flat on a long history).
 */
#define _GNU_SOURCE
#include "registry/internal.h"

#include <stdlib.h>
#include <string.h>

#include "banned.h"

static const char *col(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

int mlctl_registry_history(struct mlctl_registry *r, const struct mlctl_history_filter *f,
			   mlctl_history_cb cb, void *payload, struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	struct mlctl_history_event ev;
	int rc, s;

	if ((rc = reg_model_known(r, f->model, err)))
		return rc;
	if (f->alias) {
		if ((rc = reg_db_prepare(r, &st, "SELECT 1 FROM events WHERE model = ? AND alias = ? "
					 "LIMIT 1", err)))
			return rc;
		sqlite3_bind_text(st, 1, f->model, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, f->alias, -1, SQLITE_STATIC);
		s = sqlite3_step(st);
		sqlite3_finalize(st);
		if (s == SQLITE_DONE)
			return mlctl_err_set(err, MLCTL_ENOTFOUND,
					     "'%s' has never had an alias '%s'; see 'mlctl alias list %s'",
					     f->model, f->alias, f->model);
		if (s != SQLITE_ROW)
			return reg_db_fail(err, r->db, "registry database");
	}
	if ((rc = reg_db_prepare(r, &st,
				 "SELECT e.type, e.version, e.digest, e.alias, e.from_version, e.actor, "
				 "e.time, e.reason, e.tag, e.git_commit, c.kind, c.passed, e.via, e.forced, "
				 "e.unmet FROM events e "
				 "LEFT JOIN records c ON e.type = 'record' AND c.git_commit = e.git_commit "
				 "WHERE e.model = ?1 AND e.type <> 'skipped' "
				 "AND (?2 IS NULL OR e.alias = ?2) "
				 "AND (?3 IS NULL OR instr(mlctl_fold(e.actor), mlctl_fold(?3)) > 0) "
				 "AND (?4 IS NULL OR e.time >= ?4) AND (?5 IS NULL OR e.time < ?5) "
				 "AND (?6 IS NULL OR e.type = ?6 OR e.via = ?6) "
				 "ORDER BY e.time DESC, e.id DESC LIMIT ?7",
				 err)))
		return rc;
	sqlite3_bind_text(st, 1, f->model, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, f->alias, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, f->actor, -1, SQLITE_STATIC);
	if (f->since)
		sqlite3_bind_int64(st, 4, f->since);
	if (f->until)
		sqlite3_bind_int64(st, 5, f->until);
	sqlite3_bind_text(st, 6, f->type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, f->limit > 0 ? f->limit : -1);
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&ev, 0, sizeof(ev));
		ev.model = f->model;
		ev.type = col(st, 0);
		ev.version = col(st, 1);
		ev.digest = col(st, 2);
		ev.alias = col(st, 3);
		ev.from = col(st, 4);
		ev.actor = col(st, 5);
		ev.time = sqlite3_column_int64(st, 6);
		ev.reason = col(st, 7);
		ev.tag = col(st, 8);
		ev.commit = col(st, 9);
		ev.kind = col(st, 10);
		ev.passed = sqlite3_column_type(st, 11) == SQLITE_NULL ? -1
								       : sqlite3_column_int(st, 11);
		ev.via = col(st, 12);
		ev.forced = sqlite3_column_int(st, 13);
		ev.unmet = col(st, 14);
		if ((rc = cb(payload, &ev, err)))
			break;
		if (mlctl_interrupted()) {
			rc = mlctl_err_interrupted(err);
			break;
		}
	}
	if (!rc && s != SQLITE_DONE)
		rc = reg_db_fail(err, r->db, "registry database");
	sqlite3_finalize(st);
	return rc;
}
