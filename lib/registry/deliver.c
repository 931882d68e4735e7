/*
 * deliver.c - the outbox sent: each due message claimed in a short write
 * (so two processes do not send it at once), posted without any lock held,
 * and its outcome written back. At least once: a message is marked sent
 * only after the receiver said 2xx.
 */
#define _GNU_SOURCE
#include "registry/internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "webhook.h"
#include "banned.h"

#define DELIVER_TRIES 8
#define DELIVER_TIMEOUT_S 30
#define RETRY_AFTER_MAX_S 3600

struct due {
	int64_t id, attempts;
	char *hook_id, *msg_id, *body, *url, *secret_env;
};

static void due_release(struct due *d)
{
	free(d->hook_id);
	free(d->msg_id);
	free(d->body);
	free(d->url);
	free(d->secret_env);
	memset(d, 0, sizeof(*d));
}

/*
 * Claim the oldest due message (of one hook, or any) for timeout seconds:
 * 1 and d filled, 0 when none is due. A message whose hook was removed is
 * given up on the way.
 */
static int claim(struct mlctl_registry *r, struct due *d, const char *hook_id, int64_t hold,
		 struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	int64_t now = mlctl_now();
	int rc, s, got = 0;

	memset(d, 0, sizeof(*d));
	if ((rc = reg_db_exec(r, "BEGIN IMMEDIATE", err)))
		return rc;
	if ((rc = reg_db_exec(r,
			      "UPDATE outbox SET state = 'failed', done_at = strftime('%s'), "
			      "last_error = 'its hook was removed' WHERE state = 'pending' AND "
			      "hook_id NOT IN (SELECT id FROM hooks)",
			      err)) ||
	    (rc = reg_db_prepare(r, &st,
				 "SELECT o.id, o.attempts, o.hook_id, o.msg_id, o.body, h.url, "
				 "h.secret_env FROM outbox o JOIN hooks h ON h.id = o.hook_id "
				 "WHERE o.state = 'pending' AND o.next_at <= ?1 AND "
				 "o.claimed_until < ?1 AND (?2 IS NULL OR o.hook_id = ?2) "
				 "ORDER BY o.id LIMIT 1",
				 err)))
		goto done;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_text(st, 2, hook_id, -1, SQLITE_STATIC);
	s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		d->id = sqlite3_column_int64(st, 0);
		d->attempts = sqlite3_column_int64(st, 1);
		d->hook_id = reg_col_text(st, 2);
		d->msg_id = reg_col_text(st, 3);
		d->body = reg_col_text(st, 4);
		d->url = reg_col_text(st, 5);
		d->secret_env = reg_col_text(st, 6);
		got = 1;
	} else if (s != SQLITE_DONE) {
		rc = reg_db_fail(err, r->db, "registry database");
	}
	sqlite3_finalize(st);
	st = NULL;
	if (!rc && got && !(rc = reg_db_prepare(r, &st, "UPDATE outbox SET claimed_until = ? "
						"WHERE id = ?", err))) {
		sqlite3_bind_int64(st, 1, now + hold);
		sqlite3_bind_int64(st, 2, d->id);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = reg_db_fail(err, r->db, "registry database");
		sqlite3_finalize(st);
	}
done:
	if (rc) {
		reg_rollback(r);
		due_release(d);
		return rc;
	}
	if ((rc = reg_db_exec(r, "COMMIT", err))) {
		due_release(d);
		return rc;
	}
	return got;
}

/* The outcome: state, when to try again, the answer, in a write of its own. */
static int settle(struct mlctl_registry *r, const struct due *d, const char *state,
		  int64_t next_at, long status, const char *error, struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = reg_db_prepare(r, &st,
				 "UPDATE outbox SET state = ?, attempts = attempts + 1, next_at = ?, "
				 "claimed_until = 0, last_status = ?, last_error = ?, "
				 "done_at = CASE WHEN ? = 'pending' THEN NULL ELSE strftime('%s') END "
				 "WHERE id = ?",
				 err)))
		return rc;
	sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, next_at);
	if (status)
		sqlite3_bind_int64(st, 3, status);
	sqlite3_bind_text(st, 4, error && *error ? error : NULL, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, d->id);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : reg_db_fail(err, r->db, "registry database");
	sqlite3_finalize(st);
	return rc;
}

/* Seconds before try n+1 (n tries made): 1, 2, 4... with up to a quarter more at random. */
static double backoff(int64_t n)
{
	double base = (double)(1LL << (n < 10 ? n - 1 : 9));
	unsigned char j;

	j = (unsigned char)(mlctl_mono_ms() * 1000.0);
	return base + base * (double)(j % 64) / 256.0;
}

static int count_pending(struct mlctl_registry *r, const char *hook_id, int64_t *n,
			 int64_t *next, struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*n = 0;
	*next = 0;
	if ((rc = reg_db_prepare(r, &st,
				 "SELECT count(*), min(next_at) FROM outbox WHERE state = 'pending' "
				 "AND (?1 IS NULL OR hook_id = ?1)",
				 err)))
		return rc;
	sqlite3_bind_text(st, 1, hook_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*n = sqlite3_column_int64(st, 0);
		*next = sqlite3_column_int64(st, 1);
	} else {
		rc = reg_db_fail(err, r->db, "registry database");
	}
	sqlite3_finalize(st);
	return rc;
}

/* Messages this run put back for a retry: one delivered later in the run is no longer counted. */
struct retried {
	int64_t *id;
	size_t n;
};

static int was_retried(struct retried *rt, int64_t id, int drop)
{
	size_t i;

	for (i = 0; i < rt->n; i++)
		if (rt->id[i] == id) {
			if (drop)
				rt->id[i] = rt->id[--rt->n];
			return 1;
		}
	return 0;
}

/* Post one claimed message and write down what came of it. */
static int send_one(struct mlctl_registry *r, const struct due *d, double timeout_s,
		    struct mlctl_deliver_result *res, struct retried *rt, struct mlctl_err *err)
{
	struct mlctl_webhook_post p;
	const char *secret = getenv(d->secret_env);
	char why[320];
	int64_t tries = d->attempts + 1;
	double wait;
	int retry;

	memset(&p, 0, sizeof(p));
	if (!secret || !*secret) {
		/* nothing sent; the message waits for the secret (retried, then given up) */
		snprintf(why, sizeof(why), "the secret's environment variable %s is not set",
			 d->secret_env);
		mlctl_warn("webhook %s to %s not sent: %s", d->msg_id, d->url, why);
		p.status = 0;
		p.retry_after = -1;
		retry = 1;
	} else {
		p.url = d->url;
		p.secret = secret;
		p.id = d->msg_id;
		p.body = d->body;
		p.timeout_ms = (long)(timeout_s * 1000);
		if (mlctl_webhook_post(&p) == 0) {
			if (p.status >= 200 && p.status < 300) {
				res->delivered++;
				if (was_retried(rt, d->id, 1))
					res->retrying--;
				return settle(r, d, "delivered", 0, p.status, NULL, err);
			}
			retry = p.status == 408 || p.status == 429 || p.status >= 500;
			snprintf(why, sizeof(why), "%s answered %ld", d->url, p.status);
		} else {
			retry = 1;
			snprintf(why, sizeof(why), "%s: %s", d->url, p.error);
		}
	}
	if (!retry || tries >= DELIVER_TRIES) {
		res->failed++;
		if (was_retried(rt, d->id, 1))
			res->retrying--;
		mlctl_warn("webhook %s given up after %lld tr%s: %s", d->msg_id, (long long)tries,
			   tries == 1 ? "y" : "ies", why);
		return settle(r, d, "failed", 0, p.status, why, err);
	}
	wait = p.retry_after >= 0 ? p.retry_after : backoff(tries);
	if (wait > RETRY_AFTER_MAX_S)
		wait = RETRY_AFTER_MAX_S;
	if (!was_retried(rt, d->id, 0)) {
		rt->id = mlctl_realloc(rt->id, (rt->n + 1) * sizeof(*rt->id));
		rt->id[rt->n++] = d->id;
		res->retrying++;
	}
	return settle(r, d, "pending", mlctl_now() + (int64_t)(wait + 0.999), p.status, why, err);
}

int mlctl_registry_deliver(struct mlctl_registry *r, const char *hook_id, double budget_s,
			   double max_wait_s, struct mlctl_deliver_result *res,
			   struct mlctl_err *err)
{
	double start = mlctl_mono_ms(), left, timeout;
	struct retried rt = { NULL, 0 };
	int64_t pending, next;
	struct due d;
	int rc = 0, got;

	memset(res, 0, sizeof(*res));
	if (r->readonly)
		return 0;
	for (;;) {
		if (mlctl_interrupted()) {
			rc = mlctl_err_interrupted(err);
			break;
		}
		left = budget_s > 0 ? budget_s - (mlctl_mono_ms() - start) / 1000.0 : 0;
		if (budget_s > 0 && left <= 0.05)
			break;
		timeout = budget_s > 0 && left < DELIVER_TIMEOUT_S ? left : DELIVER_TIMEOUT_S;
		if ((got = claim(r, &d, hook_id, (int64_t)timeout + 5, err)) < 0) {
			rc = got;
			break;
		}
		if (got) {
			rc = send_one(r, &d, timeout, res, &rt, err);
			due_release(&d);
			if (rc)
				break;
			continue;
		}
		/* nothing due now: with a budget, done; else wait for a retry due soon enough */
		if (budget_s > 0 || (rc = count_pending(r, hook_id, &pending, &next, err)))
			break;
		if (!pending || next - mlctl_now() > max_wait_s - (mlctl_mono_ms() - start) / 1000.0)
			break;
		sleep((unsigned)(next > mlctl_now() ? next - mlctl_now() : 1));
	}
	if (!rc && !(rc = count_pending(r, hook_id, &pending, &next, err)))
		res->pending = (size_t)pending;
	free(rt.id);
	return rc;
}

static void fill_delivery(void *item, sqlite3_stmt *st)
{
	struct mlctl_delivery *d = item;

	d->id = sqlite3_column_int64(st, 0);
	d->hook_id = reg_col_text(st, 1);
	d->msg_id = reg_col_text(st, 2);
	d->event = reg_col_text(st, 3);
	d->state = reg_col_text(st, 4);
	d->attempts = sqlite3_column_int64(st, 5);
	d->status = sqlite3_column_int64(st, 6);
	d->error = reg_col_text(st, 7);
	d->created = sqlite3_column_int64(st, 8);
	d->next_at = sqlite3_column_int64(st, 9);
	d->done_at = sqlite3_column_int64(st, 10);
}

int mlctl_registry_hook_log(struct mlctl_registry *r, const char *hook_id, int64_t limit,
			    struct mlctl_delivery **out, size_t *n, struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = reg_db_prepare(r, &st,
				 "SELECT id, hook_id, msg_id, event, state, attempts, last_status, "
				 "last_error, created, next_at, done_at FROM outbox "
				 "WHERE ?1 IS NULL OR hook_id = ?1 ORDER BY id DESC LIMIT ?2",
				 err)))
		return rc;
	sqlite3_bind_text(st, 1, hook_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, limit > 0 ? limit : -1);
	*out = reg_collect_rows(r, st, sizeof(**out), n, fill_delivery, &rc, err);
	if (rc) {
		mlctl_deliveries_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

void mlctl_deliveries_free(struct mlctl_delivery *d, size_t n)
{
	size_t i;

	for (i = 0; d && i < n; i++) {
		free(d[i].hook_id);
		free(d[i].msg_id);
		free(d[i].event);
		free(d[i].state);
		free(d[i].error);
	}
	free(d);
}
