/*
 * registry.h - the embedded registry (docs/design.md §3-§5): SQLite index, git
 * history and blob store under one folder, kept in step.
 *
 * Writers serialise on SQLite's write lock (BEGIN IMMEDIATE with a busy
 * timeout); every git change happens under it. Blobs are staged in tmp/
 * before the lock is taken and installed under it, just before git is
 * written and the database committed; a write that fails undoes all three.
 * On open, a database behind git is caught up by replaying the missing
 * commits.
 */
#ifndef MLCTL_REGISTRY_H
#define MLCTL_REGISTRY_H

#include <stdint.h>

#include "manifest.h"

#define MLCTL_SCHEMA_VERSION 5

struct mlctl_registry;

/*
 * Where the registry is: flag, else MLCTL_REGISTRY, else $XDG_DATA_HOME/mlctl/registry
 * (when absolute), else ~/.local/share/mlctl/registry, home from HOME or else the
 * password database. *out is the caller's to free.
 */
int mlctl_registry_locate(char **out, const char *flag, struct mlctl_err *err);

/*
 * A registry is a local folder: refuse (MLCTL_EUSAGE) a location that names
 * a remote instead. Remote: a URL (scheme://...); a first component (up to
 * the first '/') that holds a ':' (git's host:path, user@host:path, and
 * host:port/...); a first component followed by '/' that is a host name,
 * 'localhost' or dot-separated labels of letters, digits and '-' (docker's
 * rule: ghcr.io/acme/models). A location that starts with '/', './', '../'
 * or '~' is always local. mlctl_registry_open checks this itself.
 */
int mlctl_registry_check_local(const char *root, struct mlctl_err *err);

/*
 * Open the registry at root. With create set, an absent or empty folder
 * becomes a new registry, and a file or a folder that holds something else
 * is MLCTL_EIO. Without it nothing is ever created: anything but a registry
 * at root (nothing, an empty folder, a file, other files) is
 * MLCTL_ENOTFOUND.
 *
 * create MLCTL_OPEN_FIRST is a push's: when no registry is there yet, it is
 * built in a sibling folder and all writes go there; mlctl_registry_publish
 * renames it into place once the push has succeeded, and
 * mlctl_registry_free removes it when it has not, so a failed first push
 * leaves no registry behind.
 */
#define MLCTL_OPEN_FIRST 2
int mlctl_registry_open(struct mlctl_registry **out, const char *root, int create,
			struct mlctl_err *err);
/*
 * Open for 'registry verify' and 'reindex': as mlctl_registry_open without
 * create, but a database that check finds missing, cut short or not SQLite
 * (which open refuses with MLCTL_EINTEGRITY) leaves the registry open with
 * git and blobs only; verify reports it, reindex rebuilds it.
 */
int mlctl_registry_open_damaged(struct mlctl_registry **out, const char *root,
				struct mlctl_err *err);
void mlctl_registry_free(struct mlctl_registry *r);
/*
 * After a successful write to a registry opened with MLCTL_OPEN_FIRST that
 * was new: close it and rename it into place (nothing to do otherwise).
 * Returns 0, 1 when another process's registry got there first (open it
 * and write again), or an error. Only mlctl_registry_free may follow.
 */
int mlctl_registry_publish(struct mlctl_registry *r, struct mlctl_err *err);
const char *mlctl_registry_root(const struct mlctl_registry *r);

/*
 * Who did it, as recorded in events (docs/mlctl-registry.md, "Who did
 * it"): MLCTL_ACTOR as given; else the CI system's user (GITHUB_ACTOR,
 * GITLAB_USER_LOGIN, BUILDKITE_BUILD_CREATOR, Azure's BUILD_REQUESTEDFOR,
 * Jenkins' BUILD_USER, CIRCLE_USERNAME, with the e-mail the system
 * gives); else git's user.name <user.email>; else the login name. Never
 * fails; bytes that are not UTF-8 become U+FFFD. Caller frees.
 */
char *mlctl_actor(void);

struct mlctl_push_result {
	char name[MLCTL_NAME_MAX + 1];
	char version[256];
	char digest[72];
	int existed;          /* same name, version and digest were there already */
	uint64_t size;        /* bytes of all files */
	size_t nfiles;
	size_t blobs_written; /* files not stored before */
};

/*
 * Push a project folder or a package file. bump is NULL or "major",
 * "minor", "patch": the version becomes the next after the highest
 * stored (unchanged content as the latest version is a no-op).
 * Same name+version+digest: 0 with existed set. Same name+version with
 * another digest: MLCTL_ECONFLICT.
 */
int mlctl_registry_push(struct mlctl_registry *r, struct mlctl_push_result *res,
			const char *src, const char *bump, int validated, struct mlctl_err *err);

struct mlctl_model_info {
	char *name;
	size_t nversions;
	char *latest;
	int64_t updated;
	int64_t deprecated; /* when the model was deprecated, 0: it is not */
};

struct mlctl_version_info {
	char *name, *version, *digest, *actor;
	int validated; /* passed validate when pushed (0: pushed with --no-validate) */
	int64_t deprecated, model_deprecated; /* when it, and its model, were deprecated; 0: not */
	int64_t created;
	uint64_t size;
	size_t nfiles;
};

int mlctl_registry_list(struct mlctl_registry *r, struct mlctl_model_info **out, size_t *n,
			struct mlctl_err *err);
void mlctl_model_infos_free(struct mlctl_model_info *m, size_t n);
/* Versions of a model, highest first; MLCTL_ENOTFOUND for an unknown model. */
int mlctl_registry_versions(struct mlctl_registry *r, struct mlctl_version_info **out,
			    size_t *n, const char *name, struct mlctl_err *err);
void mlctl_version_info_release(struct mlctl_version_info *v);
void mlctl_version_infos_free(struct mlctl_version_info *v, size_t n);

/* Find the version a reference names; its manifest into m when m is not NULL. */
int mlctl_registry_resolve(struct mlctl_registry *r, struct mlctl_version_info *info,
			   struct mlctl_manifest *m, const char *ref, struct mlctl_err *err);

/*
 * Write a version's files and its mlctl.json into dir, checking every
 * file's sha256 as it is written; through a temporary sibling and a
 * rename. A non-empty dir is MLCTL_ECONFLICT unless force is set.
 */
int mlctl_registry_pull(struct mlctl_registry *r, struct mlctl_version_info *info,
			const char *ref, const char *dir, int force, struct mlctl_err *err);

struct mlctl_record_info {
	char *kind;     /* "validate" */
	int passed;
	int64_t created;
	char *actor;
	char *path;     /* the full report in the registry's git history */
	char *summary;  /* the report's summary, JSON */
};

/*
 * Store a report (JSON text) of kind about version v: one git commit adding
 * models/NAME/records/<digest hex>/<kind>-<time>-<hash>.json, an event, a
 * database row. The path is put in *path_out (the caller's).
 */
int mlctl_registry_record(struct mlctl_registry *r, const struct mlctl_version_info *v,
			  const char *kind, int passed, const char *report, char **path_out,
			  struct mlctl_err *err);
/* Records of a digest, newest first. */
int mlctl_registry_records(struct mlctl_registry *r, struct mlctl_record_info **out, size_t *n,
			   const char *digest, struct mlctl_err *err);
void mlctl_record_infos_free(struct mlctl_record_info *rec, size_t n);

struct mlctl_alias_move {
	char name[MLCTL_NAME_MAX + 1];
	char version[256], digest[72]; /* where the alias points now (set), or pointed (rm) */
	char from[256];                /* where it pointed before, "" when it was not set */
	int unchanged;                 /* set: it pointed there already; nothing recorded */
	char *tag;                     /* the GTO tag made, NAME#ALIAS#N or NAME#ALIAS!#N */
};

/*
 * Point alias of ref's model at ref's version, or remove it: a git commit
 * that rewrites models/NAME/aliases.json with the event in its message, an
 * annotated tag in GTO's format on the version's own commit, a row in the
 * database. Setting an alias to where it points already changes nothing.
 */
int mlctl_registry_alias_set(struct mlctl_registry *r, struct mlctl_alias_move *mv,
			     const char *ref, const char *alias, const char *reason,
			     struct mlctl_err *err);
int mlctl_registry_alias_rm(struct mlctl_registry *r, struct mlctl_alias_move *mv,
			    const char *name, const char *alias, const char *reason,
			    struct mlctl_err *err);
void mlctl_alias_move_release(struct mlctl_alias_move *mv);

struct mlctl_deprecation {
	char name[MLCTL_NAME_MAX + 1];
	char version[256], digest[72]; /* "" for the model */
	int unchanged;                 /* it was so already: nothing recorded */
	char *tag;                     /* the GTO tag made (NAME@vX!#N, NAME@deprecated#N), or NULL */
};

/*
 * Deprecate (undo 0) or undeprecate what target names: NAME alone is the
 * model, any other reference (NAME:VERSION, NAME:ALIAS, a digest) a
 * version. One event: a git commit writing models/NAME/deprecation.json or
 * models/NAME/deprecations/VERSION.json, GTO's tag for a deprecation, the
 * rows. A deprecated version is not promoted, and warned about on pull; a
 * deprecated model takes no new version. Doing it twice changes nothing.
 */
int mlctl_registry_deprecate(struct mlctl_registry *r, struct mlctl_deprecation *d,
			     const char *target, int undo, const char *reason,
			     struct mlctl_err *err);
void mlctl_deprecation_release(struct mlctl_deprecation *d);

/*
 * A policy on an alias: the rules 'mlctl promote' checks before it moves the
 * alias (docs/mlctl-policy.md). require: "validated", "smoke-passed" (a
 * passing record of that kind for the digest); gates: "METRIC OP NUMBER" on
 * the candidate's metrics; vs_current: "METRIC OP NUMBER" on the candidate's
 * metric minus the one of the version the alias holds now; approvals: by
 * that many actors other than the promoter; from: an alias that must have
 * held the version first.
 */
struct mlctl_policy {
	char **require, **gates, **vs_current;
	size_t nrequire, ngates, nvs_current;
	int64_t approvals;
	char *from;
	/* as stored: */
	char *model, *alias, *digest, *actor, *reason; /* digest: sha256: of the rules */
	int64_t time;
};

/*
 * Set the policy of name's alias (p), or remove it (p NULL), as one event
 * (models/NAME/policies/ALIAS.json). A gate naming a metric no version of
 * the model has, an unknown requirement, or a from equal to alias is
 * MLCTL_EUSAGE. Approvals made under the old rules no longer count. *changed
 * is 0 when the rules were so already (nothing recorded).
 */
int mlctl_registry_policy_set(struct mlctl_registry *r, const char *name, const char *alias,
			      const struct mlctl_policy *p, const char *reason, int *changed,
			      struct mlctl_err *err);
/* The policies of a model's alias, a model (alias NULL) or all (both NULL), by model and alias. */
int mlctl_registry_policies(struct mlctl_registry *r, const char *name, const char *alias,
			    struct mlctl_policy **out, size_t *n, struct mlctl_err *err);
void mlctl_policies_free(struct mlctl_policy *p, size_t n);

struct mlctl_promotion {
	struct mlctl_alias_move mv;
	char policy_digest[72]; /* the policy checked, "" when the alias has none */
	size_t nrules;          /* rules checked */
	char **unmet;           /* each rule not met, with why: the refusal, or what --force passed */
	size_t nunmet;
	int forced;
};

/*
 * Move alias to the version ref names under the alias's policy, in one
 * write: every rule is checked under the lock and every unmet one listed
 * (MLCTL_EGATE, nothing moved) unless force (which needs a reason) moves it
 * anyway, recorded as forced with what it passed over. No policy: a plain
 * move. An alias that moved between the caller's look and the lock (another
 * promotion) is MLCTL_ECONFLICT. Release p with mlctl_promotion_release.
 */
int mlctl_registry_promote(struct mlctl_registry *r, struct mlctl_promotion *p, const char *ref,
			   const char *alias, const char *reason, int force,
			   struct mlctl_err *err);
void mlctl_promotion_release(struct mlctl_promotion *p);

struct mlctl_approval {
	char name[MLCTL_NAME_MAX + 1], version[256], digest[72];
	size_t have, need; /* approvals of this digest under the policy now, and how many it asks */
};

/*
 * Approve ref's version for alias under the alias's policy: one event. No
 * policy is MLCTL_ENOTFOUND; a second approval by the same actor
 * MLCTL_ECONFLICT; approving what you promoted yourself, or a deprecated
 * version, MLCTL_EGATE.
 */
int mlctl_registry_approve(struct mlctl_registry *r, struct mlctl_approval *a, const char *ref,
			   const char *alias, const char *reason, struct mlctl_err *err);

/*
 * Move alias back to the version it held before the current one (walking
 * further back when repeated: a rollback undoes one move); recorded as a
 * move via rollback. Nothing before: MLCTL_ENOTFOUND.
 */
int mlctl_registry_rollback(struct mlctl_registry *r, struct mlctl_alias_move *mv,
			    const char *name, const char *alias, const char *reason,
			    struct mlctl_err *err);
/* What a rollback of alias would go to ("" when nothing), and what it holds now. */
int mlctl_registry_alias_before(struct mlctl_registry *r, char version[256], char digest[72],
				const char *name, const char *alias, struct mlctl_err *err);

/* ---- webhooks (Standard Webhooks; docs/mlctl-hook.md) ---- */

struct mlctl_hook {
	char *id, *url, *secret_env, *actor;
	char **events; /* the event names it takes; none: every one */
	size_t nevents;
	int64_t time;
};

/*
 * Add a hook (one event: hooks/ID.json in git; the secret stays in the
 * environment variable secret_env, never in the registry), its new id into
 * id; remove one by id (MLCTL_ENOTFOUND when there is none).
 */
int mlctl_registry_hook_add(struct mlctl_registry *r, char id[17], const char *url,
			    const char *secret_env, const char *const *events, size_t nevents,
			    const char *reason, struct mlctl_err *err);
int mlctl_registry_hook_rm(struct mlctl_registry *r, const char *id, const char *reason,
			   struct mlctl_err *err);
int mlctl_registry_hooks(struct mlctl_registry *r, struct mlctl_hook **out, size_t *n,
			 struct mlctl_err *err);
void mlctl_hooks_free(struct mlctl_hook *h, size_t n);

struct mlctl_delivery {
	int64_t id, attempts, status, created, next_at, done_at;
	char *hook_id, *msg_id, *event, *state, *error; /* state: pending, delivered, failed */
};

/* The outbox, newest first: of one hook (or all, hook_id NULL), at most limit (0: all). */
int mlctl_registry_hook_log(struct mlctl_registry *r, const char *hook_id, int64_t limit,
			    struct mlctl_delivery **out, size_t *n, struct mlctl_err *err);
void mlctl_deliveries_free(struct mlctl_delivery *d, size_t n);

struct mlctl_deliver_result {
	size_t delivered, failed, retrying; /* this run: sent, given up, to try again later */
	size_t pending;                     /* left in the outbox, due or not */
};

/*
 * Send the outbox's due webhooks (of one hook, or all), each at least once:
 * 2xx delivers it; 408, 429, 5xx or no answer tries again later (after
 * Retry-After when given, else 1 s, 2 s, 4 s... with jitter, 8 tries in
 * all); any other answer gives it up. budget_s > 0: one pass, stopping when
 * the budget is spent (a command's own events, at its end); else it waits
 * for the retries that fall due within max_wait_s. A failure to deliver is
 * never an error: res says what happened; errors are the registry's own.
 */
int mlctl_registry_deliver(struct mlctl_registry *r, const char *hook_id, double budget_s,
			   double max_wait_s, struct mlctl_deliver_result *res,
			   struct mlctl_err *err);
/* Queue a hook.test message for one hook (MLCTL_ENOTFOUND for no such hook). */
int mlctl_registry_hook_test(struct mlctl_registry *r, const char *id, struct mlctl_err *err);
/* Where this process queued webhooks (its command delivers them at its end), or NULL. */
const char *mlctl_hooks_queued_root(void);

struct mlctl_history_filter {
	const char *model;            /* required */
	const char *alias, *actor;    /* NULL: any; actor matches any part, ignoring case */
	const char *type;             /* an event type (push, alias, deprecate...), or NULL */
	int64_t since, until;         /* unix seconds, [since, until); 0: open */
	int64_t limit;                /* at most this many, newest first; 0: all */
};

/* One event as history gives it; the strings live until the callback returns. */
struct mlctl_history_event {
	const char *model, *type, *version, *digest, *alias, *from, *actor, *reason, *tag;
	const char *commit, *kind; /* kind: a record's (validate, smoke), else NULL */
	const char *via;           /* an alias move's: promote, rollback; else NULL */
	int forced;                /* a promotion forced past unmet rules */
	const char *unmet;         /* then the rules it passed over, a JSON array */
	int passed;                /* a record's result, -1 for other events */
	int64_t time;
};

typedef int (*mlctl_history_cb)(void *payload, const struct mlctl_history_event *ev,
				struct mlctl_err *err);
/*
 * A model's events newest first, those f lets through, one callback each
 * (streamed: memory does not grow with the history). An unknown model, or
 * an alias the model never had, is MLCTL_ENOTFOUND.
 */
int mlctl_registry_history(struct mlctl_registry *r, const struct mlctl_history_filter *f,
			   mlctl_history_cb cb, void *payload, struct mlctl_err *err);

struct mlctl_alias_info {
	char *model, *alias, *version, *digest, *actor;
	char *before; /* what it held before (where a rollback goes), "" when nothing */
	int64_t moved;
};

/* Aliases of a model (or of all, name NULL), of one digest when digest is not NULL. */
int mlctl_registry_aliases(struct mlctl_registry *r, struct mlctl_alias_info **out, size_t *n,
			   const char *name, const char *digest, struct mlctl_err *err);
void mlctl_alias_infos_free(struct mlctl_alias_info *a, size_t n);

/*
 * Harmless garbage a crashed write leaves: blobs no version names, files
 * in tmp/ whose writer is gone, git objects no ref reaches. paths, relative
 * to the registry: blobs/sha256/ab/abcd…, tmp/NAME, index.git/objects/ab/….
 */
struct mlctl_garbage {
	size_t blobs, tmp, git_objects;
	uint64_t blob_bytes, tmp_bytes, git_bytes;
	char **paths;
	size_t npaths;
	char **pruned; /* gc --prune-deprecated: NAME:VERSION of each version pruned */
	size_t npruned;
};

void mlctl_garbage_release(struct mlctl_garbage *g);

struct mlctl_verify_report {
	size_t blobs, versions, files, git_objects;
	struct mlctl_buf problems; /* one line each */
	size_t nproblems;
	struct mlctl_garbage garbage; /* a warning, not a problem */
	struct mlctl_buf healed;      /* repair: one line per blob healed */
	size_t nhealed, nunhealed;    /* repair: blobs healed, and still missing or corrupt */
};

/*
 * Check everything: every git object reachable from a ref (each missing or
 * unreadable one named with what referred to it), mlctl.db as a file and
 * against git, every blob's hash (a corrupt one is flagged, see
 * mlctl_blob_flag). Problems are listed in rep, and MLCTL_EINTEGRITY
 * returned. Garbage is counted in rep->garbage and is no problem. With
 * repair set, first every blob a version in git names that is missing or
 * corrupt is looked for in from (folders: every file under them; .mlpkg
 * packages: their entries), by sha256, and installed; a source that is not
 * there is MLCTL_ENOTFOUND before anything is done. Release rep with
 * mlctl_verify_report_release.
 */
int mlctl_registry_verify(struct mlctl_registry *r, struct mlctl_verify_report *rep,
			  int repair, const char *const *from, size_t nfrom,
			  struct mlctl_err *err);
void mlctl_verify_report_release(struct mlctl_verify_report *rep);

/*
 * Remove the garbage (see struct mlctl_garbage), under the write lock, so
 * that no write in progress loses anything; with dry_run set, only find
 * it. What was (or would be) removed goes into out. prune_deprecated also
 * drops the bytes of deprecated versions (or of deprecated models') that no
 * alias ever held: this registry's own choice, not history (noted in the
 * pruned table, which reindex keeps); their history stays, and a pull of
 * one says where to get it.
 */
int mlctl_registry_gc(struct mlctl_registry *r, struct mlctl_garbage *out, int dry_run,
		      int prune_deprecated, struct mlctl_err *err);
struct mlctl_reindex_result {
	size_t events, versions, records, aliases;
};

/*
 * Rebuild the database from git alone, into a new file put in place only
 * when the whole replay succeeded. A git object missing from the history
 * is MLCTL_EINTEGRITY, naming it, with the database left as it was.
 */
int mlctl_registry_reindex(struct mlctl_registry *r, struct mlctl_reindex_result *res,
			   struct mlctl_err *err);

/*
 * Remotes (docs/mlctl-remote.md): a name, an OCI location (HOST[:PORT][/NAMESPACE])
 * for the bytes and a git URL for the history, either may be NULL. Kept in
 * index.git/config (remote.NAME.url, .mlctloci, .mlctlinsecure), so git reads the
 * URL and a reindex keeps them.
 */
struct mlctl_remote {
	char *name, *oci, *git;
	int insecure; /* plain http to a host that is not loopback */
};
/* Letters, digits, '_' and '-', starting with a letter or digit, at most 64; else MLCTL_EUSAGE. */
int mlctl_remote_name_check(const char *name, struct mlctl_err *err);
/* A new remote; MLCTL_ECONFLICT when the name is taken, MLCTL_EUSAGE for a bad location. */
int mlctl_registry_remote_add(struct mlctl_registry *r, const struct mlctl_remote *rm,
			      struct mlctl_err *err);
/* MLCTL_ENOTFOUND when there is none of that name. */
int mlctl_registry_remote_rm(struct mlctl_registry *r, const char *name, struct mlctl_err *err);
int mlctl_registry_remote_get(struct mlctl_registry *r, struct mlctl_remote *out,
			      const char *name, struct mlctl_err *err);
/* Every remote, by name. */
int mlctl_registry_remotes(struct mlctl_registry *r, struct mlctl_remote **out, size_t *n,
			   struct mlctl_err *err);
void mlctl_remote_release(struct mlctl_remote *rm);
struct mlctl_sync_result {
	size_t fetched;     /* the remote's events that were new here */
	size_t rebased;     /* local events made again on top of them */
	size_t dropped;     /* local events the remote had already */
	size_t renumbered;  /* alias moves numbered after the remote's */
	size_t given_up;    /* local events dropped for --theirs (a version, what named it) */
	size_t pushed_tags; /* tags the remote lacked */
	size_t replaced_tags; /* stale event tags of the remote replaced or deleted there */
	size_t blobs_fetched; /* files of arrived versions, from the remote's OCI registry */
	uint64_t bytes_fetched;
	size_t versions_sent; /* our versions, to the remote's OCI registry before its git */
	size_t blobs_sent;
	uint64_t bytes_sent;
	int pushed_branch;  /* the remote's branch was behind and was pushed */
	char head[41];      /* the branch after the sync */
};
/*
 * Where alias of name points in the history of remote's git repository, as
 * it is now (fetched, not merged): its version and digest. MLCTL_ENOTFOUND
 * when the remote's history has no such alias.
 */
int mlctl_registry_remote_alias(struct mlctl_registry *r, char version[256], char digest[72],
				const char *remote, const char *name, const char *alias,
				struct mlctl_err *err);
struct mlctl_oci_uploads;
/* Callbacks that keep uploads in progress in the registry's database (lib/oci.h). */
void mlctl_registry_uploads(struct mlctl_registry *r, struct mlctl_oci_uploads *out);
struct mlctl_oci_opts;
/*
 * Share the history with remote's git URL (docs/mlctl-registry.md, "sync"):
 * fetch, put local events on top of the remote's, push the branch and the
 * tags. The files of versions that arrived are fetched from the remote's
 * OCI registry (o: how to reach it) before the history names them here. A
 * version pushed on both sides with other digests is MLCTL_ECONFLICT
 * (naming both) and changes nothing, unless give_up names it
 * ("NAME:VERSION", --theirs): then the local one is dropped with the local
 * events that name its digest, and the remote's taken. A give_up that names
 * no such version is MLCTL_EUSAGE. A remote that cannot be reached, or that
 * keeps moving on, MLCTL_ENET.
 */
int mlctl_registry_sync(struct mlctl_registry *r, struct mlctl_sync_result *res,
			const char *remote, const struct mlctl_oci_opts *o,
			const char *const *give_up, size_t ngive_up, struct mlctl_err *err);
void mlctl_remotes_free(struct mlctl_remote *rm, size_t n);
#endif
