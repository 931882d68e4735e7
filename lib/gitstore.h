/*
 * gitstore.h - the registry's history: a bare git repository (libgit2),
 * one commit per event on refs/heads/main, annotated tags in DVC GTO's
 * formats. Commit ids are passed around as 40 hex digits.
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

/* The branch's commit into oid, or "" when there is none yet. */
int mlctl_git_head(struct mlctl_git *g, char oid[41], struct mlctl_err *err);

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
 * One commit on the branch with these changes over its tip. actor is any
 * string: "Name <email>" signs as that name and e-mail, anything else as
 * a name with an empty e-mail ("ci-bot <>"). The branch must not have
 * moved since the caller read it (the registry's write lock sees to that).
 */
int mlctl_git_commit(struct mlctl_git *g, char out[41], const struct mlctl_git_change *changes,
		     size_t n, const char *message, const char *actor, int64_t when,
		     struct mlctl_err *err);
/* Annotated tag name -> commit; a tag that already points there is fine. */
int mlctl_git_tag(struct mlctl_git *g, const char *name, const char *commit,
		  const char *message, const char *actor, int64_t when, struct mlctl_err *err);
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

/* Read every object of the repository, checking its hash; count into *n. */
int mlctl_git_check_objects(struct mlctl_git *g, size_t *n, struct mlctl_err *err);

/* Remove ref lock files left by a crashed writer. Call only under the write lock. */
void mlctl_git_clear_stale_locks(struct mlctl_git *g);

#endif
