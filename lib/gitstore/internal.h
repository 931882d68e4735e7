/*
 * gitstore/internal.h - what the files of lib/gitstore/ share; included only there.
 * libgit2 is used here and nowhere else.
 */
#ifndef MLCTL_GITSTORE_INTERNAL_H
#define MLCTL_GITSTORE_INTERNAL_H

#include <git2.h>

#include "gitstore.h"

struct pending_tag {
	char *ref;  /* refs/tags/NAME */
	git_oid id; /* what it will name (unless del) */
	int del;    /* remove the ref instead */
	int had;    /* del: it was there, naming old (for the undo) */
	git_oid old;
};

struct tag_key {
	const char *ref; /* the pending tag's, which outlives the key */
	size_t i;        /* its place in tags: the last change queued for that ref */
};

struct mlctl_git {
	git_repository *repo;
	git_odb_backend *mem; /* owned by the repository's odb: objects not applied yet */
	char *path;
	/* queued: every object written to memory, the branch's new tip, new tags */
	git_oid *objects;
	size_t nobjects, aobjects;
	int moved, had_head;
	git_oid head, old_head;
	struct pending_tag *tags;
	size_t ntags, atags;
	void *tag_names; /* struct tag_key of each, a search tree: a lookup is not a scan */
	int remake;      /* mlctl_git_remake_tags: a tag there in another form is replaced */
	int create;      /* gs_ready may make the repository */
	/* applied, for mlctl_git_rollback: loose files and folders made, refs moved */
	char **made;
	size_t nmade;
	int head_applied;
	size_t tags_applied;
};

/* repo.c */
/* libgit2 started, once in the process (see repo.c). */
void gs_libgit2(void);
/* The repository opened (libgit2 started) if it is not yet: every operation but the tip's read. */
int gs_ready(struct mlctl_git *g, struct mlctl_err *err);
int gs_git_fail(struct mlctl_err *err, int code, const char *what);
void gs_forget(struct mlctl_git *g);
void gs_track(struct mlctl_git *g, const git_oid *id);
/* Queue a change of refname (id, or removal when id is NULL); takes refname. */
void gs_queue_ref(struct mlctl_git *g, char *refname, const git_oid *id);
/* The last change queued for refname, or NULL. */
struct pending_tag *gs_queued_ref(struct mlctl_git *g, const char *refname);

/* apply.c */
int gs_disk_odb(git_odb **out, const struct mlctl_git *g);

#endif
