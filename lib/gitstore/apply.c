/*
 * apply.c - what a write queued, made durable (objects, then the
 * branch, then tags, each fsync'd) or rolled back; stale locks of dead
 * writers.
 */
#define _GNU_SOURCE
#include "gitstore/internal.h"

#include <git2/sys/mempack.h>
#include <git2/sys/odb_backend.h>
#include <dirent.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "banned.h"

static size_t refs_locks(const char *dir, int remove, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0, len;

	while (d && (e = readdir(d))) {
		char *p;
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		p = mlctl_path_join(dir, e->d_name);
		len = strlen(e->d_name);
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode) && depth < 32) {
			n += refs_locks(p, remove, depth + 1);
		} else if (len > 5 && !strcmp(e->d_name + len - 5, ".lock")) {
			n++;
			if (remove)
				unlink(p);
		}
		free(p);
	}
	if (d)
		closedir(d);
	return n;
}

size_t mlctl_git_stale_locks(const char *gitdir, int remove)
{
	static const char *const locks[] = { "config.lock", "HEAD.lock", "packed-refs.lock",
					     "index.lock", "shallow.lock" };
	char *p;
	size_t i, n = 0;

	for (i = 0; i < MLCTL_ARRAY_SIZE(locks); i++) {
		p = mlctl_path_join(gitdir, locks[i]);
		if (access(p, F_OK) == 0) {
			n++;
			if (remove)
				unlink(p);
		}
		free(p);
	}
	p = mlctl_path_join(gitdir, "refs");
	n += refs_locks(p, remove, 0);
	free(p);
	return n;
}

void mlctl_git_clear_stale_locks(struct mlctl_git *g)
{
	mlctl_git_stale_locks(g->path, 1);
}

int mlctl_git_pending(const struct mlctl_git *g)
{
	return (g->moved && !g->head_applied) || g->tags_applied < g->ntags;
}

/* objects/ab/cdef…: where the loose object id lives. */
static char *loose_path(const struct mlctl_git *g, const git_oid *id)
{
	char hex[41];

	git_oid_tostr(hex, sizeof(hex), id);
	return mlctl_aprintf("%s/objects/%.2s/%s", g->path, hex, hex + 2);
}

/* An odb of the repository's files only (loose objects fsync'd), without the memory store. */
int gs_disk_odb(git_odb **out, const struct mlctl_git *g)
{
	char *dir = mlctl_aprintf("%s/objects", g->path);
	git_odb_backend *loose = NULL, *pack = NULL;
	int rc;

	*out = NULL;
	if ((rc = git_odb_new(out)) < 0)
		goto done;
	if ((rc = git_odb_backend_loose(&loose, dir, -1, 1, 0, 0)) < 0 ||
	    (rc = git_odb_add_backend(*out, loose, 1)) < 0) {
		if (loose)
			loose->free(loose);
		goto done;
	}
	if ((rc = git_odb_backend_pack(&pack, dir)) < 0 ||
	    (rc = git_odb_add_backend(*out, pack, 2)) < 0) {
		if (pack)
			pack->free(pack);
		goto done;
	}
done:
	if (rc < 0) {
		git_odb_free(*out);
		*out = NULL;
	}
	free(dir);
	return rc;
}

/* Write one object from memory to disk, unless it is there; note the files and folder made. */
static int flush_object(struct mlctl_git *g, git_odb *disk, git_odb *odb, const git_oid *id)
{
	git_odb_object *obj = NULL;
	git_oid written;
	char *path, *dir;
	int dir_existed, rc;

	if (git_odb_exists(disk, id))
		return 0;
	if ((rc = git_odb_read(&obj, odb, id)) < 0)
		return rc;
	path = loose_path(g, id);
	dir = mlctl_dirname(path);
	dir_existed = mlctl_is_dir(dir);
	rc = git_odb_write(&written, disk, git_odb_object_data(obj), git_odb_object_size(obj),
			   git_odb_object_type(obj));
	git_odb_object_free(obj);
	/* even a failed write may have made the folder */
	g->made = mlctl_realloc(g->made, (g->nmade + 2) * sizeof(*g->made));
	if (!dir_existed && mlctl_is_dir(dir))
		g->made[g->nmade++] = mlctl_strdup(dir);
	if (rc >= 0)
		g->made[g->nmade++] = path;
	else
		free(path);
	free(dir);
	return rc;
}

/* A ref lock left by a crashed writer (callers hold the write lock). */
static void clear_lock(const struct mlctl_git *g, const char *ref)
{
	char *lock = mlctl_aprintf("%s/%s.lock", g->path, ref);

	unlink(lock);
	free(lock);
}

int mlctl_git_apply(struct mlctl_git *g, struct mlctl_err *err)
{
	git_odb *disk = NULL, *odb = NULL;
	git_reference *ref = NULL;
	size_t i;
	int rc = 0;

	if ((rc = gs_ready(g, err)))
		return rc;

	if ((git_repository_odb(&odb, g->repo)) < 0 || gs_disk_odb(&disk, g) < 0) {
		rc = gs_git_fail(err, MLCTL_EIO, "cannot write to the registry's history");
		goto done;
	}
	for (i = 0; i < g->nobjects; i++) {
		if (flush_object(g, disk, odb, &g->objects[i]) < 0) {
			rc = gs_git_fail(err, MLCTL_EIO, "cannot write to the registry's history");
			goto done;
		}
		mlctl_fault("git-object");
	}
	mlctl_fault("git-objects"); /* objects written, no ref moved */
	if (g->moved && !g->head_applied) {
		clear_lock(g, MLCTL_GIT_BRANCH);
		if (g->had_head)
			rc = git_reference_create_matching(&ref, g->repo, MLCTL_GIT_BRANCH, &g->head,
							   1, &g->old_head, NULL);
		else
			rc = git_reference_create(&ref, g->repo, MLCTL_GIT_BRANCH, &g->head, 0, NULL);
		git_reference_free(ref);
		ref = NULL;
		if (rc < 0) {
			rc = gs_git_fail(err, MLCTL_EIO, "cannot commit to the registry's history");
			goto done;
		}
		g->head_applied = 1;
		mlctl_fault("git-branch");
	}
	for (; g->tags_applied < g->ntags; g->tags_applied++) {
		struct pending_tag *t = &g->tags[g->tags_applied];

		clear_lock(g, t->ref);
		if (t->del) {
			int r2 = git_reference_remove(g->repo, t->ref);

			if (r2 < 0 && r2 != GIT_ENOTFOUND) {
				rc = gs_git_fail(err, MLCTL_EIO, "cannot untag the registry's history");
				goto done;
			}
			mlctl_fault("git-untag");
			continue;
		}
		if (git_reference_create(&ref, g->repo, t->ref, &t->id, 0, NULL) < 0) {
			rc = gs_git_fail(err, MLCTL_EIO, "cannot tag the registry's history");
			goto done;
		}
		git_reference_free(ref);
		ref = NULL;
		mlctl_fault("git-tag");
	}
	/* everything is on disk now: the memory store can go */
	git_mempack_reset(g->mem);
	g->nobjects = 0;
done:
	git_odb_free(disk);
	git_odb_free(odb);
	if (rc)
		mlctl_git_rollback(g, NULL);
	return rc;
}

int mlctl_git_rollback(struct mlctl_git *g, struct mlctl_err *err)
{
	size_t i;
	int rc = 0, keep = 0;

	while (g->tags_applied > 0) {
		struct pending_tag *t = &g->tags[--g->tags_applied];

		if (!t->del) {
			git_reference_remove(g->repo, t->ref);
		} else if (t->had) {
			git_reference *ref = NULL;

			git_reference_create(&ref, g->repo, t->ref, &t->old, 1, NULL);
			git_reference_free(ref);
		}
	}
	if (g->head_applied) {
		git_reference *ref = NULL;

		if (g->had_head)
			rc = git_reference_create(&ref, g->repo, MLCTL_GIT_BRANCH, &g->old_head, 1,
						  NULL);
		else
			rc = git_reference_remove(g->repo, MLCTL_GIT_BRANCH);
		git_reference_free(ref);
		if (rc < 0) {
			/* the branch still names the new commit: keep its objects */
			rc = gs_git_fail(err, MLCTL_EIO, "cannot put the registry's history back");
			keep = 1;
		}
	}
	/* newest first, so a folder is empty by the time its turn comes */
	for (i = g->nmade; !keep && i-- > 0;) {
		if (mlctl_is_dir(g->made[i]))
			rmdir(g->made[i]);
		else
			unlink(g->made[i]);
	}
	gs_forget(g);
	return rc;
}

void mlctl_git_settle(struct mlctl_git *g)
{
	gs_forget(g);
}
