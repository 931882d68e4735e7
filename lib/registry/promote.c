/*
 * promote.c - the release engineer's moves built on the plain alias move:
 * promote (under the alias's policy), approve (an event the policy counts),
 * rollback (back to what the alias held before).
 */
#define _GNU_SOURCE
#include "registry/internal.h"

#include <stdlib.h>
#include <string.h>

#include "validate.h"
#include "banned.h"

/* ---------------------------------------------------------------- small queries */

/*
 * The person an actor line names, in SQL: its address between < and >, case
 * aside in any script ("Ann <ann@example.com>" and "ann b <ANN@example.com>" are
 * one person; mlctl_fold); a line without one is itself, trimmed and case aside. Approvals
 * count people, and the promoter's own is not one of them.
 */
#define PERSON(x) "mlctl_fold(CASE WHEN instr(" x ", '<') > 0 THEN substr(" x ", " \
	"instr(" x ", '<')) ELSE trim(" x ") END)"

/* The single integer a query gives (0 when no row), its text parameters bound in order. */
static int query_int(struct mlctl_registry *r, int64_t *out, const char *sql,
		     const char *const *args, size_t nargs, struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	size_t i;
	int rc, s;

	*out = 0;
	if ((rc = reg_db_prepare(r, &st, sql, err)))
		return rc;
	for (i = 0; i < nargs; i++)
		sqlite3_bind_text(st, (int)i + 1, args[i], -1, SQLITE_STATIC);
	s = sqlite3_step(st);
	if (s == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else if (s != SQLITE_DONE)
		rc = reg_db_fail(err, r->db, "registry database");
	sqlite3_finalize(st);
	return rc;
}

/* The metrics object of a version's stored manifest (NULL when none); the caller frees root. */
static int version_metrics(struct mlctl_registry *r, cJSON **root, const cJSON **metrics,
			   const char *name, const char *version, struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc, s;

	*root = NULL;
	*metrics = NULL;
	if ((rc = reg_db_prepare(r, &st,
				 "SELECT v.manifest FROM versions v JOIN models m ON "
				 "m.id = v.model_id WHERE m.name = ? AND v.version = ?",
				 err)))
		return rc;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, version, -1, SQLITE_STATIC);
	s = sqlite3_step(st);
	if (s == SQLITE_ROW)
		*root = cJSON_Parse((const char *)sqlite3_column_text(st, 0));
	else if (s != SQLITE_DONE)
		rc = reg_db_fail(err, r->db, "registry database");
	sqlite3_finalize(st);
	*metrics = cJSON_GetObjectItemCaseSensitive(*root, "metrics");
	return rc;
}

static const cJSON *metric(const cJSON *metrics, const char *name)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(metrics, name);

	return cJSON_IsNumber(m) ? m : NULL;
}

/* ---------------------------------------------------------------- promote */

struct promote_ctx {
	struct mlctl_promotion *p;
	const struct mlctl_version_info *to;
	const char *alias;
	char seen[256];          /* what the alias held when the caller looked */
	struct mlctl_policy *pol; /* NULL: no policy */
	int force;
	cJSON *extra;
};

static void unmet(struct promote_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void unmet(struct promote_ctx *c, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0) {
		fputs("mlctl: out of memory\n", stderr);
		abort();
	}
	va_end(ap);
	c->p->unmet = mlctl_realloc(c->p->unmet, (c->p->nunmet + 1) * sizeof(*c->p->unmet));
	c->p->unmet[c->p->nunmet++] = s;
}

static int check_records(struct mlctl_registry *r, struct promote_ctx *c, struct mlctl_err *err)
{
	const struct mlctl_version_info *to = c->to;
	size_t i;
	int rc;

	for (i = 0; i < c->pol->nrequire; i++) {
		int smoke = !strcmp(c->pol->require[i], "smoke-passed");
		const char *args[] = { to->digest, smoke ? "smoke" : "validate" };
		int64_t ok;

		c->p->nrules++;
		if ((rc = query_int(r, &ok,
				    "SELECT count(*) FROM records WHERE digest = ? AND kind = ? "
				    "AND passed = 1",
				    args, 2, err)))
			return rc;
		if (!ok)
			unmet(c, "%s: no passing %s record of %.19s (run 'mlctl %s %s:%s --record')",
			      c->pol->require[i], args[1], to->digest, args[1], to->name,
			      to->version);
	}
	return 0;
}

static void check_gates(struct promote_ctx *c, const cJSON *mine, const cJSON *cur,
			const char *was)
{
	char name[128], op[3];
	double want;
	size_t i, k;

	for (k = 0; k < 2; k++) {
		char *const *g = k ? c->pol->vs_current : c->pol->gates;
		size_t n = k ? c->pol->nvs_current : c->pol->ngates;

		for (i = 0; i < n; i++) {
			const cJSON *m, *o;
			double have;

			c->p->nrules++;
			if (mlctl_gate_parse(name, op, &want, g[i]) < 0) {
				unmet(c, "gate %s: not METRIC OP NUMBER", g[i]);
				continue;
			}
			if (!(m = metric(mine, name))) {
				unmet(c, "gate %s: %s:%s has no metric %s", g[i], c->to->name,
				      c->to->version, name);
				continue;
			}
			have = m->valuedouble;
			if (k) {
				if (!*was || !(o = metric(cur, name)))
					continue; /* nothing held, or nothing to compare with: met */
				have -= o->valuedouble;
			}
			if (mlctl_gate_holds(have, op, want))
				continue;
			if (k)
				unmet(c, "gate-vs-current %s: %s moves by %g from %s:%s", g[i], name,
				      have, c->to->name, was);
			else
				unmet(c, "gate %s: %s is %g", g[i], name, have);
		}
	}
}

/* Under the lock: every rule of the policy, each unmet one noted; refused unless forced. */
static int promote_check(struct mlctl_registry *r, void *payload, const char *was,
			 const char *was_digest, const char *actor, struct mlctl_err *err)
{
	struct promote_ctx *c = payload;
	const struct mlctl_version_info *to = c->to;
	cJSON *mine_root = NULL, *cur_root = NULL, *list;
	const cJSON *mine, *cur = NULL;
	size_t i;
	int rc;

	(void)was_digest;
	if (!c->pol)
		goto deprecation; /* no policy: a plain move, but never to a deprecated version */
	if ((rc = check_records(r, c, err)) ||
	    (rc = version_metrics(r, &mine_root, &mine, to->name, to->version, err)) ||
	    (*was && (rc = version_metrics(r, &cur_root, &cur, to->name, was, err))))
		goto done;
	check_gates(c, mine, cur, was);
	if (c->pol->from) {
		const char *args[] = { to->name, c->pol->from, to->digest };
		int64_t held;

		c->p->nrules++;
		if ((rc = query_int(r, &held,
				    "SELECT count(*) FROM alias_moves WHERE model = ? AND alias = ? "
				    "AND digest = ? AND version IS NOT NULL",
				    args, 3, err)))
			goto done;
		if (!held)
			unmet(c, "from %s: %s:%s has never been %s:%s", c->pol->from, to->name,
			      to->version, to->name, c->pol->from);
	}
	if (c->pol->approvals > 0) {
		const char *args[] = { to->name, c->alias, to->digest, c->pol->digest, actor };
		int64_t have;

		c->p->nrules++;
		if ((rc = query_int(r, &have,
				    "SELECT count(DISTINCT " PERSON("actor") ") FROM approvals WHERE "
				    "model = ? AND alias = ? AND digest = ? AND policy_digest = ? AND "
				    PERSON("actor") " <> " PERSON("?5"),
				    args, 5, err)))
			goto done;
		if (have < c->pol->approvals)
			unmet(c, "approvals: %lld of %lld by others than the promoter (mlctl approve "
			      "%s:%s %s)", (long long)have, (long long)c->pol->approvals, to->name,
			      to->version, c->alias);
	}
deprecation:
	c->p->nrules++;
	if (to->deprecated)
		unmet(c, "not deprecated: %s:%s is deprecated (mlctl undeprecate %s:%s)", to->name,
		      to->version, to->name, to->version);
	else if (to->model_deprecated)
		unmet(c, "not deprecated: model %s is deprecated (mlctl undeprecate %s)", to->name,
		      to->name);
	/* --force passes rules over, never a deprecation: that is taken back first */
	if (c->p->nunmet && (!c->force || to->deprecated || to->model_deprecated)) {
		struct mlctl_buf b = MLCTL_BUF_INIT;

		for (i = 0; i < c->p->nunmet; i++)
			mlctl_buf_printf(&b, "%s%s", i ? "; " : "", c->p->unmet[i]);
		rc = mlctl_err_set(err, MLCTL_EGATE,
				   "promoting %s:%s to %s is refused, %zu of %zu rules unmet: %s; "
				   "nothing moved%s",
				   to->name, to->version, c->alias, c->p->nunmet, c->p->nrules, b.buf,
				   c->force ? " (--force passes over rules, never a deprecation)" : "");
		mlctl_buf_release(&b);
		goto done;
	}
	if (c->pol)
		cJSON_AddStringToObject(c->extra, "policy_digest", c->pol->digest);
	if (c->p->nunmet) {
		c->p->forced = 1;
		cJSON_AddTrueToObject(c->extra, "forced");
		list = cJSON_AddArrayToObject(c->extra, "unmet");
		for (i = 0; i < c->p->nunmet; i++)
			cJSON_AddItemToArray(list, cJSON_CreateString(c->p->unmet[i]));
	}
done:
	cJSON_Delete(mine_root);
	cJSON_Delete(cur_root);
	return rc;
}

int mlctl_registry_promote(struct mlctl_registry *r, struct mlctl_promotion *p, const char *ref,
			   const char *alias, const char *reason, int force,
			   struct mlctl_err *err)
{
	struct mlctl_version_info to;
	struct promote_ctx c;
	struct mlctl_policy *pol = NULL;
	struct reg_how how;
	char digest[72];
	size_t npol = 0;
	int64_t moves;
	int rc;

	memset(p, 0, sizeof(*p));
	memset(&c, 0, sizeof(c));
	if (force && !reason)
		return mlctl_err_set(err, MLCTL_EUSAGE, "--force needs --reason: a forced "
				     "promotion is recorded with why");
	if ((rc = mlctl_alias_check(alias, err)) ||
	    (rc = mlctl_registry_resolve(r, &to, NULL, ref, err)))
		return rc;
	snprintf(p->mv.name, sizeof(p->mv.name), "%s", to.name);
	if ((rc = mlctl_alias_tags_check(to.name, alias, err)) ||
	    (rc = mlctl_registry_policies(r, to.name, alias, &pol, &npol, err)) ||
	    (rc = reg_alias_state(r, to.name, alias, c.seen, digest, &moves, err)))
		goto done;
	c.p = p;
	c.to = &to;
	c.alias = alias;
	c.pol = npol ? &pol[0] : NULL;
	c.force = force;
	c.extra = cJSON_CreateObject();
	if (c.pol)
		snprintf(p->policy_digest, sizeof(p->policy_digest), "%s", c.pol->digest);
	how = (struct reg_how){ "promote", "promotion", c.seen, c.extra, promote_check, &c };
	rc = reg_move_alias(r, &p->mv, to.name, alias, &to, reason, &how, err);
done:
	cJSON_Delete(c.extra);
	mlctl_policies_free(pol, npol);
	mlctl_version_info_release(&to);
	return rc;
}

void mlctl_promotion_release(struct mlctl_promotion *p)
{
	size_t i;

	for (i = 0; i < p->nunmet; i++)
		free(p->unmet[i]);
	free(p->unmet);
	p->unmet = NULL;
	p->nunmet = 0;
	mlctl_alias_move_release(&p->mv);
}

/* ---------------------------------------------------------------- rollback */

/*
 * The alias's moves taken as a stack: a move pushes where it went (an
 * unalias pushes nothing held), a rollback pops; the top is what the alias
 * holds, the one below it what a rollback goes to. Read newest first, a
 * rollback skips the next move down, so only the last few moves are read
 * (n, the model's counter, orders them as the history does: the index).
 */
int mlctl_registry_alias_before(struct mlctl_registry *r, char version[256], char digest[72],
				const char *name, const char *alias, struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	int64_t skip = 0;
	int rc, s, seen = 0;

	version[0] = digest[0] = '\0';
	if ((rc = reg_db_prepare(r, &st,
				 "SELECT version, digest, via FROM alias_moves WHERE model = ? AND "
				 "alias = ? ORDER BY n DESC",
				 err)))
		return rc;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, alias, -1, SQLITE_STATIC);
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const char *via = (const char *)sqlite3_column_text(st, 2);
		const char *v = (const char *)sqlite3_column_text(st, 0);
		const char *d = (const char *)sqlite3_column_text(st, 1);

		if (via && !strcmp(via, "rollback")) {
			skip++;
		} else if (skip) {
			skip--;
		} else if (seen++) { /* the one below the top */
			snprintf(version, 256, "%s", v ? v : "");
			snprintf(digest, 72, "%s", v && d ? d : "");
			break;
		}
	}
	if (s != SQLITE_ROW && s != SQLITE_DONE)
		rc = reg_db_fail(err, r->db, "registry database");
	sqlite3_finalize(st);
	return rc;
}

int mlctl_registry_rollback(struct mlctl_registry *r, struct mlctl_alias_move *mv,
			    const char *name, const char *alias, const char *reason,
			    struct mlctl_err *err)
{
	struct mlctl_version_info to;
	struct reg_how how;
	char seen[256], version[256], digest[72], *ref;
	int64_t moves;
	int rc;

	memset(mv, 0, sizeof(*mv));
	if (!mlctl_name_is_readable(name))
		return mlctl_err_set(err, MLCTL_EUSAGE, "'%s' is not a model name; " MLCTL_NAME_RULE,
				     name);
	if ((!mlctl_alias_is_readable(alias) && (rc = mlctl_alias_check(alias, err))) ||
	    (rc = reg_model_known(r, name, err)) ||
	    (rc = reg_alias_state(r, name, alias, seen, digest, &moves, err)) ||
	    (rc = mlctl_registry_alias_before(r, version, digest, name, alias, err)))
		return rc;
	if (!*seen)
		return mlctl_err_set(err, MLCTL_ENOTFOUND,
				     "alias '%s' of '%s' is not set: nothing to roll back; see "
				     "'mlctl alias list %s'",
				     alias, name, name);
	if (!*version)
		return mlctl_err_set(err, MLCTL_ENOTFOUND,
				     "%s:%s held no version before %s: nothing to roll back to; see "
				     "'mlctl history %s --alias %s'",
				     name, alias, seen, name, alias);
	ref = mlctl_aprintf("%s:%s", name, version);
	rc = mlctl_registry_resolve(r, &to, NULL, ref, err);
	free(ref);
	if (rc)
		return rc;
	snprintf(mv->name, sizeof(mv->name), "%s", name);
	if (to.deprecated || to.model_deprecated)
		rc = mlctl_err_set(err, MLCTL_EGATE,
				   "%s:%s held %s before %s, but it is deprecated; undeprecate it, or "
				   "move the alias with 'mlctl alias set'",
				   name, alias, version, seen);
	how = (struct reg_how){ "rollback", "rollback", seen, NULL, NULL, NULL };
	if (!rc)
		rc = reg_move_alias(r, mv, name, alias, &to, reason, &how, err);
	mlctl_version_info_release(&to);
	return rc;
}

/* ---------------------------------------------------------------- approve */

int reg_apply_approve(struct mlctl_registry *r, const struct event *ev, const char *policy,
		      const char *commit, struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = reg_db_prepare(r, &st,
				 "INSERT INTO approvals(model, alias, version, digest, policy_digest, "
				 "actor, time, reason, git_commit) VALUES(?,?,?,?,?,?,?,?,?)",
				 err)))
		return rc;
	sqlite3_bind_text(st, 1, ev->model, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ev->alias, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ev->version, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, ev->digest, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, policy, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, ev->actor, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, ev->time);
	sqlite3_bind_text(st, 8, ev->reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, commit, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : reg_db_fail(err, r->db, "registry database");
	sqlite3_finalize(st);
	return rc;
}

/* Under the lock: the approval's rules; a->have counts the approvals there now. */
static int approve_check(struct mlctl_registry *r, struct mlctl_approval *a, const char *alias,
			 const struct mlctl_policy *pol, const struct mlctl_version_info *v,
			 const char *actor, struct mlctl_err *err)
{
	const char *key[] = { a->name, alias, a->digest, pol->digest, actor };
	char was[256], was_digest[72];
	int64_t moves, mine, by_me;
	int rc;

	if (v->deprecated || v->model_deprecated)
		return mlctl_err_set(err, MLCTL_EGATE, "%s:%s is deprecated: it cannot be promoted, "
				     "so it takes no approval", a->name, a->version);
	if ((rc = reg_alias_state(r, a->name, alias, was, was_digest, &moves, err)))
		return rc;
	if (!strcmp(was_digest, a->digest)) {
		const char *k2[] = { a->name, alias, actor };

		if ((rc = query_int(r, &by_me,
				    "SELECT count(*) FROM aliases WHERE model = ? AND alias = ? AND "
				    PERSON("actor") " = " PERSON("?3"),
				    k2, 3, err)))
			return rc;
		if (by_me)
			return mlctl_err_set(err, MLCTL_EGATE,
					     "%s:%s holds %s, moved there by you: an approval is by "
					     "someone other than the promoter",
					     a->name, alias, a->version);
	}
	if ((rc = query_int(r, &mine,
			    "SELECT count(*) FROM approvals WHERE model = ? AND alias = ? AND "
			    "digest = ? AND policy_digest = ? AND " PERSON("actor") " = " PERSON("?5"),
			    key, 5, err)))
		return rc;
	if (mine)
		return mlctl_err_set(err, MLCTL_ECONFLICT,
				     "%s:%s is approved for %s by you already (%s); one approval "
				     "per person counts",
				     a->name, a->version, alias, actor);
	return 0;
}

int mlctl_registry_approve(struct mlctl_registry *r, struct mlctl_approval *a, const char *ref,
			   const char *alias, const char *reason, struct mlctl_err *err)
{
	struct mlctl_version_info v;
	struct mlctl_policy *pol = NULL;
	struct mlctl_git_change ch;
	struct event ev;
	char head[41], hex[65], when[32], tip[64] = "", *actor = mlctl_actor();
	char *path = NULL, *file = NULL, *summary = NULL, *text;
	cJSON *evj = NULL;
	size_t npol = 0;
	int64_t now = mlctl_now(), have;
	int rc;

	memset(a, 0, sizeof(*a));
	memset(&v, 0, sizeof(v));
	if ((rc = mlctl_alias_check(alias, err)) ||
	    (rc = mlctl_registry_resolve(r, &v, NULL, ref, err)))
		goto out;
	snprintf(a->name, sizeof(a->name), "%s", v.name);
	snprintf(a->version, sizeof(a->version), "%s", v.version);
	snprintf(a->digest, sizeof(a->digest), "%s", v.digest);
	if ((rc = reg_begin_write(r, err)) || (rc = reg_catch_up_locked(r, NULL, err)) ||
	    (rc = mlctl_registry_policies(r, v.name, alias, &pol, &npol, err)))
		goto done;
	if (!npol) {
		rc = mlctl_err_set(err, MLCTL_ENOTFOUND,
				   "%s:%s has no policy, so approvals do not count there; set one "
				   "with 'mlctl policy set %s %s --approvals N'",
				   v.name, alias, v.name, alias);
		goto done;
	}
	if (!pol[0].approvals) {
		rc = mlctl_err_set(err, MLCTL_ENOTFOUND,
				   "the policy of %s:%s asks for no approvals, so they do not count "
				   "there; see 'mlctl policy show %s %s', and set it again with its "
				   "rules and --approvals N ('policy set' replaces the whole policy)",
				   v.name, alias, v.name, alias);
		goto done;
	}
	if ((rc = approve_check(r, a, alias, &pol[0], &v, actor, err)) ||
	    (rc = reg_meta_get(r, tip, sizeof(tip), "git_head", err)))
		goto done;
	memset(&ev, 0, sizeof(ev));
	ev.type = "approve";
	ev.model = v.name;
	ev.alias = alias;
	ev.version = v.version;
	ev.digest = v.digest;
	ev.actor = actor;
	ev.time = now;
	ev.reason = reason;
	evj = cJSON_CreateObject();
	cJSON_AddStringToObject(evj, "type", "approve");
	cJSON_AddStringToObject(evj, "model", v.name);
	cJSON_AddStringToObject(evj, "alias", alias);
	cJSON_AddStringToObject(evj, "version", v.version);
	cJSON_AddStringToObject(evj, "digest", v.digest);
	cJSON_AddStringToObject(evj, "policy_digest", pol[0].digest);
	cJSON_AddStringToObject(evj, "actor", actor);
	cJSON_AddNumberToObject(evj, "time", (double)now);
	if (reason)
		cJSON_AddStringToObject(evj, "reason", reason);
	text = mlctl_json_canonical(evj);
	file = mlctl_aprintf("%s\n", text);
	free(text);
	/* a file of its own (time and a hash of it and the tip): approvals never share one */
	{
		struct mlctl_sha256 *h = mlctl_sha256_new();

		mlctl_sha256_update(h, file, strlen(file));
		mlctl_sha256_update(h, tip, strlen(tip));
		mlctl_sha256_final_hex(h, hex);
		mlctl_sha256_free(h);
	}
	mlctl_time_iso(when, now);
	path = mlctl_aprintf("models/%s/approvals/%s/%s/%.4s%.2s%.2sT%.2s%.2s%.2sZ-%.8s.json",
			     v.name, alias, v.digest + 7, when, when + 5, when + 8, when + 11,
			     when + 14, when + 17, hex);
	ch = (struct mlctl_git_change){ path, file, strlen(file) };
	summary = mlctl_aprintf("approve %s %s for %s", v.name, v.version, alias);
	if ((rc = reg_git_event(r, head, &ch, 1, evj, summary, actor, now, err)) ||
	    (rc = reg_apply_approve(r, &ev, pol[0].digest, head, err)) ||
	    (rc = reg_insert_event(r, &ev, head, err)) || (rc = reg_notify(r, evj, err)) ||
	    (rc = reg_meta_set(r, "git_head", head, err)) || (rc = reg_reserve_space(r, err)))
		goto done;
	{
		const char *key[] = { v.name, alias, v.digest, pol[0].digest };

		if ((rc = query_int(r, &have,
				    "SELECT count(DISTINCT " PERSON("actor") ") FROM approvals WHERE "
				    "model = ? AND alias = ? AND digest = ? AND policy_digest = ?",
				    key, 4, err)))
			goto done;
	}
	a->have = (size_t)have;
	a->need = (size_t)pol[0].approvals;
	mlctl_fault("approve-staged");
done:
	rc = reg_end_write(r, rc, err);
out:
	mlctl_policies_free(pol, npol);
	mlctl_version_info_release(&v);
	cJSON_Delete(evj);
	free(actor);
	free(path);
	free(file);
	free(summary);
	return rc;
}
