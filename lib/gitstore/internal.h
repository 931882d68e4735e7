/*
 * gitstore/internal.h - what the files of lib/gitstore/ share; included only there.
 * libgit2 is used here and nowhere else.
 */
#ifndef MLCTL_GITSTORE_INTERNAL_H
#define MLCTL_GITSTORE_INTERNAL_H

#include <git2.h>

#include "gitstore.h"

struct pending_tag {
	char *ref; /* refs/tags/NAME */
	git_oid id;
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
	/* applied, for mlctl_git_rollback: loose files and folders made, refs moved */
	char **made;
	size_t nmade;
	int head_applied;
	size_t tags_applied;
};

/* repo.c */
int gs_git_fail(struct mlctl_err *err, int code, const char *what);
void gs_forget(struct mlctl_git *g);

/* apply.c */
int gs_disk_odb(git_odb **out, const struct mlctl_git *g);

#endif
