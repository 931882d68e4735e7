/*
 * records.c - records: stored validate and smoke results of a version.
 */
#define _GNU_SOURCE
#include "registry/internal.h"

#include <stdlib.h>
#include <string.h>

#include "banned.h"

int mlctl_registry_record(struct mlctl_registry *r, const struct mlctl_version_info *v,
			  const char *kind, int passed, const char *report, char **path_out,
			  struct mlctl_err *err)
{
	char head[41], hex[65], when[32], have[72], tip[64] = "", *actor = mlctl_actor(),
						    *path = NULL;
	char *summary = reg_report_summary(report, strlen(report)), *msg = NULL;
	struct mlctl_git_change ch;
	struct event ev;
	cJSON *evj = NULL;
	int64_t now = mlctl_now();
	int rc;

	*path_out = NULL;
	mlctl_time_iso(when, now);
	if ((rc = reg_begin_write(r, err)) || (rc = reg_catch_up_locked(r, NULL, err)) ||
	    (rc = reg_meta_get(r, tip, sizeof(tip), "git_head", err)))
		goto done;
	/*
	 * models/NAME/records/<digest hex>/<kind>-<time>-<hash>.json, the hash
	 * over the report and the commit it follows: the same report twice in
	 * one second is two records, never one file for two events
	 */
	{
		struct mlctl_sha256 *h = mlctl_sha256_new();

		mlctl_sha256_update(h, report, strlen(report));
		mlctl_sha256_update(h, tip, strlen(tip));
		mlctl_sha256_final_hex(h, hex);
		mlctl_sha256_free(h);
	}
	path = mlctl_aprintf("models/%s/records/%s/%s-%.4s%.2s%.2sT%.2s%.2s%.2sZ-%.8s.json",
			     v->name, v->digest + 7, kind, when, when + 5, when + 8, when + 11,
			     when + 14, when + 17, hex);
	rc = reg_version_field(r, have, sizeof(have), "digest", v->name, v->version, err);
	if (rc < 0)
		goto done;
	if (rc == 0 || strcmp(have, v->digest)) {
		rc = mlctl_err_set(err, MLCTL_ENOTFOUND, "%s:%s is no longer in the registry",
				   v->name, v->version);
		goto done;
	}
	ch.path = path;
	ch.data = report;
	ch.len = strlen(report);
	evj = cJSON_CreateObject();
	cJSON_AddStringToObject(evj, "type", "record");
	cJSON_AddStringToObject(evj, "kind", kind);
	cJSON_AddStringToObject(evj, "model", v->name);
	cJSON_AddStringToObject(evj, "version", v->version);
	cJSON_AddStringToObject(evj, "digest", v->digest);
	cJSON_AddBoolToObject(evj, "passed", passed);
	cJSON_AddStringToObject(evj, "path", path);
	cJSON_AddStringToObject(evj, "actor", actor);
	cJSON_AddNumberToObject(evj, "time", (double)now);
	msg = mlctl_aprintf("record %s %s %s: %s", kind, v->name, v->version,
			    passed ? "passed" : "failed");
	if ((rc = reg_git_event(r, head, &ch, 1, evj, msg, actor, now, err)))
		goto done;
	memset(&ev, 0, sizeof(ev));
	ev.type = "record";
	ev.kind = kind;
	ev.model = v->name;
	ev.version = v->version;
	ev.digest = v->digest;
	ev.actor = actor;
	ev.time = now;
	ev.passed = passed;
	ev.path = path;
	if ((rc = reg_insert_record(r, &ev, summary, head, err)) ||
	    (rc = reg_insert_event(r, &ev, head, err)) || (rc = reg_notify(r, evj, err)) ||
	    (rc = reg_meta_set(r, "git_head", head, err)))
		goto done;
	rc = reg_reserve_space(r, err);
	mlctl_fault("record-staged");
done:
	if (!(rc = reg_end_write(r, rc, err))) {
		*path_out = path;
		path = NULL;
	}
	cJSON_Delete(evj);
	free(actor);
	free(path);
	free(summary);
	free(msg);
	return rc;
}

void mlctl_record_infos_free(struct mlctl_record_info *rec, size_t n)
{
	size_t i;

	if (!rec)
		return;
	for (i = 0; i < n; i++) {
		free(rec[i].kind);
		free(rec[i].actor);
		free(rec[i].path);
		free(rec[i].summary);
	}
	free(rec);
}

static void fill_record_row(void *item, sqlite3_stmt *st)
{
	struct mlctl_record_info *rec = item;

	rec->kind = reg_col_text(st, 0);
	rec->passed = sqlite3_column_int(st, 1);
	rec->created = sqlite3_column_int64(st, 2);
	rec->actor = reg_col_text(st, 3);
	rec->path = reg_col_text(st, 4);
	rec->summary = reg_col_text(st, 5);
}

int mlctl_registry_records(struct mlctl_registry *r, struct mlctl_record_info **out, size_t *n,
			   const char *digest, struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	struct mlctl_record_info *rec = NULL;
	size_t cnt = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = reg_db_prepare(r, &st,
				 "SELECT kind, passed, created, actor, path, summary FROM records "
				 "WHERE digest = ? ORDER BY created DESC, id DESC",
				 err)))
		return rc;
	sqlite3_bind_text(st, 1, digest, -1, SQLITE_STATIC);
	rec = reg_collect_rows(r, st, sizeof(*rec), &cnt, fill_record_row, &rc, err);
	if (rc) {
		mlctl_record_infos_free(rec, cnt);
		return rc;
	}
	*out = rec;
	*n = cnt;
	return 0;
}
