/*
 * gitstore.h - the registry's history: a bare git repository (libgit2),
 * one commit per event on refs/heads/main, annotated tags in DVC GTO's
 * formats. Commit ids are passed around as 40 hex digits.
 *
 * Changes are made in memory: mlctl_git_commit and mlctl_git_tag write
 * their objects to an in-memory store and queue the ref changes, and
 * nothing reaches the repository until mlctl_git_apply. That writes the
 * new objects (loose, fsync'd), then moves the branch, then creates the
 * tags, and puts back what it did if a step fails. A crash before it, or
 * mlctl_git_rollback, leaves the repository as it was; after it,
 * mlctl_git_rollback undoes it (the caller's own commit failed) and
 * mlctl_git_settle keeps it. All of this only under the registry's write
 * lock.
 */
#ifndef MLCTL_GITSTORE_H
#define MLCTL_GITSTORE_H

#include <stdint.h>

#include "util.h"

#define MLCTL_GIT_BRANCH "refs/heads/main"

struct mlctl_git;

/* Open path as a bare repository; with create set, make it if missing. */
int mlctl_git_open(struct mlctl_git **out, const char *path, int create, struct mlctl_err *err);
void mlctl_git_free(struct mlctl_git *g);

/* The branch's commit (pending, else stored) into oid, or "" when there is none yet. */
int mlctl_git_head(struct mlctl_git *g, char oid[41], struct mlctl_err *err);

/*
 * 1 when git can hold refs/tags/NAME (libgit2's reference name rules: no
 * "..", no part ending in ".lock", no control characters...), else 0.
 */
int mlctl_git_tag_name_is_valid(const char *name);

struct mlctl_git_change {
	const char *path; /* inside the tree, "a/b/c.json" */
	const char *data; /* NULL removes the file */
	size_t len;
};

/*
 * git's own identity, from its configuration (global, XDG and system
 * files): user.name and user.email, each NULL when unset; the caller frees
 * both. Returns 1 when either is set.
 */
int mlctl_git_identity(char **name, char **email);

/*
 * One commit on the branch with these changes over its tip (the pending
 * one, if this change has committed already), queued until
 * mlctl_git_apply. actor is any string: "Name <email>" signs as that name
 * and e-mail, anything else as a name with an empty e-mail ("ci-bot <>").
 */
int mlctl_git_commit(struct mlctl_git *g, char out[41], const struct mlctl_git_change *changes,
		     size_t n, const char *message, const char *actor, int64_t when,
		     struct mlctl_err *err);
/*
 * Annotated tag name -> commit, queued until mlctl_git_apply; a tag that
 * already points there is fine, one that points elsewhere MLCTL_ECONFLICT.
 */
int mlctl_git_tag(struct mlctl_git *g, const char *name, const char *commit,
		  const char *message, const char *actor, int64_t when, struct mlctl_err *err);
/*
 * While on, mlctl_git_tag replaces a tag that is there (on disk, not queued
 * by this change) as another object, wherever it points: a replay from the
 * start makes every event tag as this mlctl does, and an identical one
 * stays as it is.
 */
void mlctl_git_remake_tags(struct mlctl_git *g, int on);
/* The file at path in commit; MLCTL_ENOTFOUND when absent. */
int mlctl_git_read(struct mlctl_git *g, struct mlctl_buf *out, const char *commit,
		   const char *path, struct mlctl_err *err);

typedef int (*mlctl_git_commit_cb)(void *payload, const char *commit, const char *message,
				   struct mlctl_err *err);
/* Each commit after since ("" for all) up to until, oldest first. */
int mlctl_git_log(struct mlctl_git *g, const char *since, const char *until,
		  mlctl_git_commit_cb cb, void *payload, struct mlctl_err *err);

typedef int (*mlctl_git_file_cb)(void *payload, const char *path, const char *data,
				 size_t len, struct mlctl_err *err);
/* Every file in commit's tree, in path order. */
int mlctl_git_files(struct mlctl_git *g, const char *commit, mlctl_git_file_cb cb,
		    void *payload, struct mlctl_err *err);

typedef void (*mlctl_git_bad_cb)(void *payload, const char *id, const char *type,
				 const char *problem, const char *from);
/*
 * Read every object reachable from every ref, as 'git fsck --connectivity-only'
 * walks them (tags, commits and their parents, trees, blobs), each one's hash
 * checked. cb gets each object that is missing or unreadable: its id, the
 * type its referrer expects ("object" for a ref), what is wrong ("missing",
 * "unreadable (…)") and what referred to it ("ref refs/tags/x", "commit
 * <id> (its parent)", "tree <id> (entry 'name')"). Objects read into *n,
 * bad ones into *nbad. Fails only when the walk cannot start.
 */
int mlctl_git_check_objects(struct mlctl_git *g, size_t *n, size_t *nbad, mlctl_git_bad_cb cb,
			    void *payload, struct mlctl_err *err);

/* Remove ref lock files left by a crashed writer. Call only under the write lock. */
void mlctl_git_clear_stale_locks(struct mlctl_git *g);
/*
 * The lock files in the bare repository at gitdir (config.lock, HEAD.lock,
 * packed-refs.lock, refs/.../NAME.lock): their count, each removed with
 * remove set (only under the write lock: then none is a live writer's).
 */
size_t mlctl_git_stale_locks(const char *gitdir, int remove);

/* 1 when commits or tags are queued and not applied yet. */
int mlctl_git_pending(const struct mlctl_git *g);
/* Write what is queued into the repository; on failure, nothing of it stays. */
int mlctl_git_apply(struct mlctl_git *g, struct mlctl_err *err);
/*
 * Drop what is queued and undo what mlctl_git_apply wrote: tags removed,
 * the branch put back, new objects deleted. Fails only when the branch
 * cannot be put back (objects are then kept, so it stays readable).
 */
int mlctl_git_rollback(struct mlctl_git *g, struct mlctl_err *err);
/* Keep what mlctl_git_apply wrote and forget how to undo it. */
void mlctl_git_settle(struct mlctl_git *g);

typedef void (*mlctl_git_garbage_cb)(void *payload, const char *path, uint64_t bytes);
/*
 * Loose objects no ref reaches (a writer died between writing its objects
 * and moving the branch): cb gets each one's path, objects/ab/cd…; with
 * remove set, each is deleted. Only under the registry's write lock.
 */
int mlctl_git_garbage(struct mlctl_git *g, int remove, mlctl_git_garbage_cb cb, void *payload,
		      struct mlctl_err *err);

/*
 * The repository's own configuration (index.git/config, not the user's):
 * a key's value (MLCTL_ENOTFOUND when unset; the caller frees it), a key
 * set (value NULL removes it), every key that starts with prefix
 * ("remote."), in file order.
 */
int mlctl_git_config_get(struct mlctl_git *g, char **out, const char *key, struct mlctl_err *err);
int mlctl_git_config_set(struct mlctl_git *g, const char *key, const char *value,
			 struct mlctl_err *err);
typedef int (*mlctl_git_config_cb)(void *payload, const char *key, const char *value,
				   struct mlctl_err *err);
int mlctl_git_config_each(struct mlctl_git *g, const char *prefix, mlctl_git_config_cb cb,
			  void *payload, struct mlctl_err *err);
/* Remove the header of section "[section "sub"]" when no key is left under it. */
int mlctl_git_config_drop_section(struct mlctl_git *g, const char *section, const char *sub,
				  struct mlctl_err *err);

/* ---- sync with another repository (lib/gitstore/sync.c) ---- */
/*
 * Fetch refspecs ("+refs/heads/main:refs/mlctl/…") from url (a path,
 * file://, ssh:// or user@host:path with ssh-agent's keys, https://); no
 * tags but those the refspecs name. MLCTL_ENET when it cannot.
 */
int mlctl_git_fetch(struct mlctl_git *g, const char *url, const char *const *refspecs,
		    size_t n, struct mlctl_err *err);
typedef void (*mlctl_git_rejected_cb)(void *payload, const char *ref, const char *why);
/*
 * Push refspecs to url, never forced; each ref the remote refused goes to
 * cb, and their count into *rejected (the call itself still succeeds).
 */
int mlctl_git_push(struct mlctl_git *g, const char *url, const char *const *refspecs, size_t n,
		   mlctl_git_rejected_cb cb, void *payload, size_t *rejected,
		   struct mlctl_err *err);
/* A ref's target (as stored, not what is queued); MLCTL_ENOTFOUND when there is none. */
int mlctl_git_ref(struct mlctl_git *g, char oid[41], const char *refname, struct mlctl_err *err);
typedef int (*mlctl_git_ref_cb)(void *payload, const char *refname, const char *target,
				const char *commit, struct mlctl_err *err);
/* Every stored ref under prefix: its target and the commit it peels to ("" if none). */
int mlctl_git_refs(struct mlctl_git *g, const char *prefix, mlctl_git_ref_cb cb, void *payload,
		   struct mlctl_err *err);
/* The best common ancestor of two commits into out, "" when they have none. */
int mlctl_git_merge_base(struct mlctl_git *g, char out[41], const char *a, const char *b,
			 struct mlctl_err *err);
/* 1 when commit is tip or one of its ancestors. */
int mlctl_git_contains(struct mlctl_git *g, const char *tip, const char *commit);
/* Queue the branch to name commit (any commit: commits made next go on top of it). */
int mlctl_git_set_head(struct mlctl_git *g, const char *commit, struct mlctl_err *err);
/* Queue refname to name target (an existing object), or its removal when target is NULL. */
int mlctl_git_queue_ref(struct mlctl_git *g, const char *refname, const char *target,
			struct mlctl_err *err);
/* A commit's message, author ("Name <email>", or the name) and time; the caller frees both. */
int mlctl_git_commit_info(struct mlctl_git *g, const char *commit, char **message, char **actor,
			  int64_t *when, struct mlctl_err *err);
/* What a commit changed against its first parent: each file's new content, NULL when removed. */
int mlctl_git_changes(struct mlctl_git *g, const char *commit, mlctl_git_file_cb cb,
		      void *payload, struct mlctl_err *err);

#endif
