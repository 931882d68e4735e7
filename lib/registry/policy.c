/*
 * policy.c - policies on aliases: the rules promote checks, kept as events
 * (models/NAME/policies/ALIAS.json, rewritten by each change) and in the
 * policies table. A policy is named by the sha256 of its canonical rules;
 * approvals carry that digest, so a change of the rules voids them.
 */
#define _GNU_SOURCE
#include "registry/internal.h"

#include <stdlib.h>
#include <string.h>

#include "smoke.h"
#include "validate.h"
#include "banned.h"

static void add_strings(cJSON *o, const char *key, char *const *v, size_t n)
{
	cJSON *arr = cJSON_AddArrayToObject(o, key);
	size_t i;

	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(v[i]));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The rules as canonical JSON (requirements sorted); the caller frees. */
static char *rules_json(const struct mlctl_policy *p)
{
	cJSON *o = cJSON_CreateObject();
	char **req = mlctl_calloc(p->nrequire + 1, sizeof(*req)), *text;
	size_t i, n = 0;

	for (i = 0; i < p->nrequire; i++)
		if (!n || strcmp(req[n - 1], p->require[i]))
			req[n++] = p->require[i];
	qsort(req, n, sizeof(*req), cmp_str);
	add_strings(o, "require", req, n);
	add_strings(o, "gates", p->gates, p->ngates);
	add_strings(o, "gates_vs_current", p->vs_current, p->nvs_current);
	cJSON_AddNumberToObject(o, "approvals", (double)p->approvals);
	if (p->from)
		cJSON_AddStringToObject(o, "from", p->from);
	else
		cJSON_AddNullToObject(o, "from");
	text = mlctl_json_canonical(o);
	cJSON_Delete(o);
	free(req);
	return text;
}

static void policy_digest(char out[72], const char *rules)
{
	char hex[65];

	mlctl_sha256_hex(hex, rules, strlen(rules));
	snprintf(out, 72, "sha256:%s", hex);
}

static char **strings_of(const cJSON *arr, size_t *n)
{
	char **out = mlctl_calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(*out));
	const cJSON *it;

	*n = 0;
	cJSON_ArrayForEach(it, arr)
		if (cJSON_IsString(it))
			out[(*n)++] = mlctl_strdup(it->valuestring);
	return out;
}

/* The rules of stored JSON into p (whose strings p then owns); -1 when it is not a policy. */
static int rules_parse(struct mlctl_policy *p, const char *text)
{
	cJSON *o = cJSON_Parse(text), *it;

	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return -1;
	}
	p->require = strings_of(cJSON_GetObjectItemCaseSensitive(o, "require"), &p->nrequire);
	p->gates = strings_of(cJSON_GetObjectItemCaseSensitive(o, "gates"), &p->ngates);
	p->vs_current = strings_of(cJSON_GetObjectItemCaseSensitive(o, "gates_vs_current"),
				   &p->nvs_current);
	it = cJSON_GetObjectItemCaseSensitive(o, "approvals");
	p->approvals = cJSON_IsNumber(it) ? (int64_t)it->valuedouble : 0;
	it = cJSON_GetObjectItemCaseSensitive(o, "from");
	p->from = cJSON_IsString(it) ? mlctl_strdup(it->valuestring) : NULL;
	cJSON_Delete(o);
	return 0;
}

static void policy_release(struct mlctl_policy *p)
{
	size_t i;

	for (i = 0; i < p->nrequire; i++)
		free(p->require[i]);
	for (i = 0; i < p->ngates; i++)
		free(p->gates[i]);
	for (i = 0; i < p->nvs_current; i++)
		free(p->vs_current[i]);
	free(p->require);
	free(p->gates);
	free(p->vs_current);
	free(p->from);
	free(p->model);
	free(p->alias);
	free(p->digest);
	free(p->actor);
	free(p->reason);
	memset(p, 0, sizeof(*p));
}

void mlctl_policies_free(struct mlctl_policy *p, size_t n)
{
	size_t i;

	for (i = 0; p && i < n; i++)
		policy_release(&p[i]);
	free(p);
}

static void fill_policy_row(void *item, sqlite3_stmt *st)
{
	struct mlctl_policy *p = item;

	memset(p, 0, sizeof(*p));
	rules_parse(p, (const char *)sqlite3_column_text(st, 2));
	p->model = reg_col_text(st, 0);
	p->alias = reg_col_text(st, 1);
	p->digest = reg_col_text(st, 3);
	p->actor = reg_col_text(st, 4);
	p->time = sqlite3_column_int64(st, 5);
	p->reason = reg_col_text(st, 6);
}

int mlctl_registry_policies(struct mlctl_registry *r, const char *name, const char *alias,
			    struct mlctl_policy **out, size_t *n, struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*out = NULL;
	*n = 0;
	if (name && (rc = reg_model_known(r, name, err)))
		return rc;
	if ((rc = reg_db_prepare(r, &st,
				 "SELECT model, alias, policy, policy_digest, actor, time, reason "
				 "FROM policies WHERE (?1 IS NULL OR model = ?1) AND "
				 "(?2 IS NULL OR alias = ?2) ORDER BY model, alias",
				 err)))
		return rc;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, alias, -1, SQLITE_STATIC);
	*out = reg_collect_rows(r, st, sizeof(**out), n, fill_policy_row, &rc, err);
	if (rc) {
		mlctl_policies_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

/* Inside a write transaction: a policy event's row (policy NULL: removed). */
int reg_apply_policy(struct mlctl_registry *r, const struct event *ev, const cJSON *policy,
		     const char *commit, struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	char *rules = NULL, digest[72];
	int rc;

	if (policy) {
		struct mlctl_policy p;

		/* stored as this mlctl writes it, whatever the event's spelling */
		memset(&p, 0, sizeof(p));
		rules = cJSON_PrintUnformatted(policy);
		if (rules_parse(&p, rules)) {
			free(rules);
			return mlctl_err_set(err, MLCTL_EINTEGRITY, "policy event in commit %.12s "
					     "holds no policy object", commit);
		}
		free(rules);
		rules = rules_json(&p);
		policy_release(&p);
		policy_digest(digest, rules);
		rc = reg_db_prepare(r, &st,
				    "INSERT OR REPLACE INTO policies(model, alias, policy, "
				    "policy_digest, actor, time, reason, git_commit) "
				    "VALUES(?,?,?,?,?,?,?,?)",
				    err);
	} else {
		rc = reg_db_prepare(r, &st, "DELETE FROM policies WHERE model = ? AND alias = ?",
				    err);
	}
	if (rc) {
		free(rules);
		return rc;
	}
	sqlite3_bind_text(st, 1, ev->model, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ev->alias, -1, SQLITE_STATIC);
	if (policy) {
		sqlite3_bind_text(st, 3, rules, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, digest, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, ev->actor, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 6, ev->time);
		sqlite3_bind_text(st, 7, ev->reason, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 8, commit, -1, SQLITE_STATIC);
	}
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : reg_db_fail(err, r->db, "registry database");
	sqlite3_finalize(st);
	free(rules);
	return rc;
}

/* 1 when some version of the model has this metric (a number). */
static int metric_known(struct mlctl_registry *r, const char *model, const char *metric,
			struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	char *path = mlctl_aprintf("$.metrics.\"%s\"", metric);
	int rc, s;

	rc = reg_db_prepare(r, &st,
			    "SELECT 1 FROM versions v JOIN models m ON m.id = v.model_id "
			    "WHERE m.name = ? AND json_type(v.manifest, ?) IN ('integer', 'real') "
			    "LIMIT 1",
			    err);
	if (!rc) {
		sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
		s = sqlite3_step(st);
		rc = s == SQLITE_ROW ? 1 : s == SQLITE_DONE ? 0 : reg_db_fail(err, r->db,
									    "registry database");
		sqlite3_finalize(st);
	}
	free(path);
	return rc;
}

/* The rules checked before anything is written: MLCTL_EUSAGE naming the first wrong one. */
static int check_rules(struct mlctl_registry *r, const char *name, const char *alias,
		       const struct mlctl_policy *p, struct mlctl_err *err)
{
	char metric[128], op[3];
	double v;
	size_t i, k;
	int rc;

	for (i = 0; i < p->nrequire; i++)
		if (strcmp(p->require[i], "validated") && strcmp(p->require[i], "smoke-passed"))
			return mlctl_err_set(err, MLCTL_EUSAGE,
					     "--require '%s' is not known; use validated or "
					     "smoke-passed", p->require[i]);
	for (k = 0; k < 2; k++) {
		char *const *g = k ? p->vs_current : p->gates;
		size_t n = k ? p->nvs_current : p->ngates;
		const char *opt = k ? "--gate-vs-current" : "--gate";

		for (i = 0; i < n; i++) {
			if (mlctl_gate_parse(metric, op, &v, g[i]) < 0)
				return mlctl_err_set(err, MLCTL_EUSAGE,
						     "%s '%s' is not METRIC OP NUMBER with OP one "
						     "of >= <= > < ==, such as 'accuracy>=0.93'",
						     opt, g[i]);
			if ((rc = metric_known(r, name, metric, err)) < 0)
				return rc;
			if (!rc)
				return mlctl_err_set(err, MLCTL_EUSAGE,
						     "%s '%s' names metric '%s', which no version "
						     "of '%s' has; see 'mlctl show %s'",
						     opt, g[i], metric, name, name);
		}
	}
	if (p->approvals < 0 || p->approvals > 100)
		return mlctl_err_set(err, MLCTL_EUSAGE, "--approvals takes 0 to 100, not %lld",
				     (long long)p->approvals);
	if (p->from && ((rc = mlctl_alias_check(p->from, err))))
		return rc;
	if (p->from && !strcmp(p->from, alias))
		return mlctl_err_set(err, MLCTL_EUSAGE,
				     "--from names '%s' itself; give the alias a version must "
				     "hold first, such as staging", alias);
	return 0;
}

/*
 * Gates as one spelling: "accuracy >= 0.90" is "accuracy>=0.9", so that the
 * same rule set again is no change (which would void the approvals). A gate
 * that does not parse is kept as given, for check_rules to refuse.
 */
static char **canonical_gates(char *const *g, size_t n)
{
	char **out = mlctl_calloc(n + 1, sizeof(*out)), metric[128], op[3];
	struct mlctl_buf b = MLCTL_BUF_INIT;
	double v;
	size_t i;

	for (i = 0; i < n; i++) {
		if (mlctl_gate_parse(metric, op, &v, g[i]) < 0) {
			out[i] = mlctl_strdup(g[i]);
			continue;
		}
		mlctl_buf_printf(&b, "%s%s", metric, op);
		mlctl_json_number(&b, v);
		out[i] = mlctl_buf_detach(&b);
	}
	return out;
}

/* Drop the gates given twice (in one spelling), keeping the first; the new count. */
static size_t unique_gates(char **g, size_t n)
{
	size_t i, j, k = 0;

	for (i = 0; i < n; i++) {
		for (j = 0; j < k && strcmp(g[j], g[i]); j++)
			;
		if (j < k)
			free(g[i]);
		else
			g[k++] = g[i];
	}
	return k;
}

static void strings_free(char **s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(s[i]);
	free(s);
}

static int policy_set(struct mlctl_registry *r, const char *name, const char *alias,
		      const struct mlctl_policy *p, const char *reason, int *changed,
		      struct mlctl_err *err);

int mlctl_registry_policy_set(struct mlctl_registry *r, const char *name, const char *alias,
			      const struct mlctl_policy *p, const char *reason, int *changed,
			      struct mlctl_err *err)
{
	struct mlctl_policy q;
	int rc;

	if (!p)
		return policy_set(r, name, alias, NULL, reason, changed, err);
	q = *p;
	q.gates = canonical_gates(p->gates, p->ngates);
	q.ngates = unique_gates(q.gates, q.ngates);
	q.vs_current = canonical_gates(p->vs_current, p->nvs_current);
	q.nvs_current = unique_gates(q.vs_current, q.nvs_current);
	rc = policy_set(r, name, alias, &q, reason, changed, err);
	strings_free(q.gates, q.ngates);
	strings_free(q.vs_current, q.nvs_current);
	return rc;
}

static int policy_set(struct mlctl_registry *r, const char *name, const char *alias,
		      const struct mlctl_policy *p, const char *reason, int *changed,
		      struct mlctl_err *err)
{
	char head[41], have[72] = "", digest[72] = "", *actor = mlctl_actor();
	char *rules = p ? rules_json(p) : NULL, *path = NULL, *file = NULL, *summary = NULL;
	struct mlctl_git_change ch;
	struct mlctl_policy *cur = NULL;
	struct event ev;
	cJSON *evj = NULL, *doc = NULL, *pj = NULL;
	size_t ncur = 0;
	int64_t now = mlctl_now();
	int rc;

	*changed = 0;
	if ((rc = mlctl_alias_check(alias, err)) || (rc = mlctl_alias_tags_check(name, alias, err)))
		goto out;
	if ((rc = reg_model_known(r, name, err)) ||
	    (p && (rc = check_rules(r, name, alias, p, err))))
		goto out;
	if (rules)
		policy_digest(digest, rules);
	if ((rc = reg_begin_write(r, err)) || (rc = reg_catch_up_locked(r, NULL, err)) ||
	    (rc = mlctl_registry_policies(r, name, alias, &cur, &ncur, err)))
		goto done;
	if (ncur)
		snprintf(have, sizeof(have), "%s", cur[0].digest);
	if (!strcmp(have, digest)) /* the same rules, or no policy to remove */
		goto done;
	pj = rules ? cJSON_Parse(rules) : NULL;
	memset(&ev, 0, sizeof(ev));
	ev.type = "policy";
	ev.model = name;
	ev.alias = alias;
	ev.actor = actor;
	ev.time = now;
	ev.reason = reason;
	evj = cJSON_CreateObject();
	cJSON_AddStringToObject(evj, "type", "policy");
	cJSON_AddStringToObject(evj, "model", name);
	cJSON_AddStringToObject(evj, "alias", alias);
	cJSON_AddItemToObject(evj, "policy", pj ? cJSON_Duplicate(pj, 1) : cJSON_CreateNull());
	if (*digest)
		cJSON_AddStringToObject(evj, "policy_digest", digest);
	cJSON_AddStringToObject(evj, "actor", actor);
	cJSON_AddNumberToObject(evj, "time", (double)now);
	if (reason)
		cJSON_AddStringToObject(evj, "reason", reason);
	/* the file says the policy now: one per alias, so two registries' changes merge */
	doc = cJSON_Duplicate(evj, 1);
	cJSON_DeleteItemFromObjectCaseSensitive(doc, "type");
	{
		char *text = mlctl_json_canonical(doc);

		file = mlctl_aprintf("%s\n", text);
		free(text);
	}
	path = mlctl_aprintf("models/%s/policies/%s.json", name, alias);
	ch = (struct mlctl_git_change){ path, file, strlen(file) };
	summary = p ? mlctl_aprintf("policy %s %s", name, alias)
		    : mlctl_aprintf("policy %s %s removed", name, alias);
	if ((rc = reg_git_event(r, head, &ch, 1, evj, summary, actor, now, err)) ||
	    (rc = reg_apply_policy(r, &ev, pj, head, err)) ||
	    (rc = reg_insert_event(r, &ev, head, err)) || (rc = reg_notify(r, evj, err)) ||
	    (rc = reg_meta_set(r, "git_head", head, err)) || (rc = reg_reserve_space(r, err)))
		goto done;
	*changed = 1;
	mlctl_fault("policy-staged");
done:
	rc = reg_end_write(r, rc, err);
out:
	if (!rc && !p && !*changed && !*have)
		rc = mlctl_err_set(err, MLCTL_ENOTFOUND, "'%s' has no policy on '%s'; see 'mlctl "
				   "policy list %s'", name, alias, name);
	mlctl_policies_free(cur, ncur);
	cJSON_Delete(evj);
	cJSON_Delete(doc);
	cJSON_Delete(pj);
	free(actor);
	free(rules);
	free(path);
	free(file);
	free(summary);
	return rc;
}
