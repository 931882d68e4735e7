/*
 * registry/internal.h - what the files of lib/registry/ share; included only there.
 * SQLite is the query index; git is the source of truth; blobs hold the bytes.
 */
#ifndef MLCTL_REGISTRY_INTERNAL_H
#define MLCTL_REGISTRY_INTERNAL_H

#include <sqlite3.h>
#include <stdint.h>

#include "registry.h"
#include "gitstore.h"

#define BUSY_TIMEOUT_MS 120000

/* A write can be undone until its COMMIT: what it put in blobs/, and space held for the undo. */
struct mlctl_registry {
	char *root;
	sqlite3 *db;
	struct mlctl_git *git;
	int tmp_claim;      /* fd of tmp/owner-PID.lock once this process uses tmp/, else -1 */
	char **installed;   /* blobs (and new blob folders) this write put in place, oldest first */
	size_t ninstalled;
	char *reserve;      /* tmp/reserve-PID while a write holds it */
	int readonly;       /* the user cannot write here: reads only, no catch-up, no locks */
	char *final;        /* a first push's registry, built at root and renamed here when it
			       succeeds (mlctl_registry_publish); removed when it does not */
	int setup_lock;     /* fd locking root while it is such a sibling, else -1 */
	char *db_problem;   /* mlctl_registry_open_damaged: why db is NULL */
};

/* Bytes held in tmp/ during a write and freed before an undo, so a full disk cannot stop it. */
#define UNDO_RESERVE (32 * 1024)

struct event {
	const char *type, *model, *version, *digest, *actor, *reason;
	const char *kind, *path; /* record: its kind and file in git */
	int passed;              /* record: the gate passed */
	const char *alias;       /* alias, unalias: which, and its move number */
	const char *from;        /* alias: the version it moved off, when it had one */
	const char *via;         /* alias: "promote", "rollback"; NULL for a plain move */
	int64_t n;
	char tag[512];           /* the GTO tag applying the event made, "" for none */
	const cJSON *json;       /* the whole record, for fields kept as they are (forced, unmet) */
	int64_t time;
	int validated; /* push: 1 unless pushed with --no-validate */
};

/* db.c */
int reg_db_fail(struct mlctl_err *err, sqlite3 *db, const char *what);
int reg_db_exec(struct mlctl_registry *r, const char *sql, struct mlctl_err *err);
int reg_db_prepare(struct mlctl_registry *r, sqlite3_stmt **st, const char *sql,
		   struct mlctl_err *err);
char *reg_col_text(sqlite3_stmt *st, int i);
void *reg_collect_rows(struct mlctl_registry *r, sqlite3_stmt *st, size_t elem, size_t *n,
		       void (*fill)(void *item, sqlite3_stmt *st), int *rc,
		       struct mlctl_err *err);
int reg_version_field(struct mlctl_registry *r, char *out, size_t n, const char *column,
		      const char *name, const char *version, struct mlctl_err *err);
int reg_meta_get(struct mlctl_registry *r, char *out, size_t n, const char *key,
		 struct mlctl_err *err);
int reg_meta_set(struct mlctl_registry *r, const char *key, const char *value,
		 struct mlctl_err *err);
int reg_begin_write(struct mlctl_registry *r, struct mlctl_err *err);
void reg_rollback(struct mlctl_registry *r);
int reg_claim_tmp(struct mlctl_registry *r, struct mlctl_err *err);
int reg_reserve_space(struct mlctl_registry *r, struct mlctl_err *err);
int reg_end_write(struct mlctl_registry *r, int rc, struct mlctl_err *err);
int reg_busy_wait(void *arg, int tries);
/* mlctl's SQL functions on a connection: mlctl_fold(TEXT), lowercase across Unicode */
void reg_db_functions(sqlite3 *db);
int reg_set_wal(struct mlctl_registry *r, const char *dbpath, struct mlctl_err *err);
int reg_schema_version(struct mlctl_registry *r);
int reg_schema_latest(void);
/* Bring the schema forward; *replay (when not NULL) set when the history must be replayed afresh. */
int reg_migrate(struct mlctl_registry *r, int *replay, struct mlctl_err *err);
/* Inside a write transaction: every row but the schema's gone, git_head "" (to replay all). */
int reg_db_reset(struct mlctl_registry *r, struct mlctl_err *err);

/* events.c */
/* The event in a commit's message (JSON after the first blank line); -1 when there is none. */
int reg_event_parse(struct event *ev, cJSON **json, const char *message);
/* 1 for an event whose GTO tag carries the model's counter (alias, unalias, deprecate). */
int reg_event_counted(const struct event *ev);
char *reg_version_path(const char *name, const char *version);
char *reg_tag_name(const char *name, const char *version);
int reg_model_id(struct mlctl_registry *r, int64_t *id, const char *name, int create,
		 int64_t when, struct mlctl_err *err);
/* 0 when the model is in the registry, else MLCTL_ENOTFOUND saying so. */
int reg_model_known(struct mlctl_registry *r, const char *name, struct mlctl_err *err);
int reg_insert_version(struct mlctl_registry *r, const struct mlctl_manifest *m,
		       const char *digest, const char *actor, int64_t when,
		       const char *commit, int validated, struct mlctl_err *err);
int reg_insert_event(struct mlctl_registry *r, const struct event *ev, const char *commit,
		     struct mlctl_err *err);
int reg_git_event(struct mlctl_registry *r, char head[41], const struct mlctl_git_change *ch,
		  size_t n, cJSON *evj, const char *summary, const char *actor, int64_t now,
		  struct mlctl_err *err);
char *reg_report_summary(const char *report, size_t len);
int reg_insert_record(struct mlctl_registry *r, const struct event *ev, const char *summary,
		      const char *commit, struct mlctl_err *err);
int reg_apply_alias(struct mlctl_registry *r, struct event *ev, const char *commit,
		    struct mlctl_err *err);
/* Inside a write transaction, the version's rows in: its NAME@vVERSION tag on commit, in ev->tag. */
int reg_tag_push(struct mlctl_registry *r, struct event *ev, const char *commit,
		 struct mlctl_err *err);
/* The model's next GTO tag, named tag, on commit: see events.c. */
int reg_model_tag(struct mlctl_registry *r, const struct event *ev, const char *commit,
		  const char *message, const char *tag, int64_t counter, struct mlctl_err *err);
/* deprecate.c: inside a write transaction, a (un)deprecate event's rows and tag. */
int reg_apply_deprecate(struct mlctl_registry *r, struct event *ev, const char *commit,
			struct mlctl_err *err);
/* How an alias moves when not plainly (alias.c, reg_move_alias): see promote.c. */
struct reg_how {
	const char *via;  /* "promote", "rollback" */
	const char *what; /* "promotion", "rollback": for the message when seen no longer holds */
	const char *seen; /* what the alias held when the caller looked ("" unset): moved since,
			     the move is refused (MLCTL_ECONFLICT), as another one won */
	cJSON *extra;     /* fields for the event (forced, unmet, policy_digest) */
	/* under the lock, before anything is written (NULL: none): what the alias holds now
	 * (was, "" when unset) and who acts; non-zero refuses the move */
	int (*check)(struct mlctl_registry *r, void *payload, const char *was,
		     const char *was_digest, const char *actor, struct mlctl_err *err);
	void *payload;
};
int reg_move_alias(struct mlctl_registry *r, struct mlctl_alias_move *mv, const char *name,
		   const char *alias, const struct mlctl_version_info *to, const char *reason,
		   const struct reg_how *how, struct mlctl_err *err);
/* promote.c: inside a write transaction, an approve event's row. */
int reg_apply_approve(struct mlctl_registry *r, const struct event *ev, const char *policy,
		      const char *commit, struct mlctl_err *err);
/* hooks.c: inside a write transaction, a hook event's row (hook NULL: removed). */
int reg_apply_hook(struct mlctl_registry *r, const struct event *ev, const cJSON *hook,
		   const char *commit, struct mlctl_err *err);
/* Inside the write of an event (evj, as in git): a webhook for each hook that takes it. */
int reg_notify(struct mlctl_registry *r, const cJSON *evj, struct mlctl_err *err);
/* policy.c: inside a write transaction, a policy event's row (policy NULL: removed). */
int reg_apply_policy(struct mlctl_registry *r, const struct event *ev, const cJSON *policy,
		     const char *commit, struct mlctl_err *err);
int reg_next_counter(struct mlctl_registry *r, const char *model, int64_t *n,
		     struct mlctl_err *err);
int reg_alias_state(struct mlctl_registry *r, const char *name, const char *alias,
		    char version[256], char digest[72], int64_t *moves, struct mlctl_err *err);
int reg_catch_up_locked(struct mlctl_registry *r, size_t *events, struct mlctl_err *err);
int reg_catch_up(struct mlctl_registry *r, struct mlctl_err *err);

/* push.c */
/* Under the write lock: a staged blob into place, noted (with a folder made) for the undo. */
int reg_install_blob(struct mlctl_registry *r, const char *staged, const char *sha, int *made,
		     struct mlctl_err *err);

/* gc.c */
/* 1 when this registry pruned the bytes of name:version, 0 when not, -1 on a database error. */
int reg_pruned(struct mlctl_registry *r, const char *name, const char *version);
int reg_collect_garbage(struct mlctl_registry *r, struct mlctl_garbage *g, int remove,
			struct mlctl_err *err);

/* verify.c */
void reg_problem(struct mlctl_verify_report *rep, const char *msg);

/* repair.c */
int reg_repair(struct mlctl_registry *r, struct mlctl_verify_report *rep, const char *head,
	       const char *const *from, size_t nfrom, struct mlctl_err *err);

#endif
