/*
 * reg_repair.c - verify --reg_repair: blobs a version names, healed from good copies.
 */
#define _GNU_SOURCE
#include "registry/internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "blobstore.h"
#include "package.h"
#include "banned.h"

struct need {
	char sha[65];
	uint64_t size;
	char *what; /* "file 'x' of demo:1.0.0" */
	int bad;
};

struct needs {
	struct need *v;
	size_t n;
	struct mlctl_registry *r; /* versions pruned here need nothing */
};

static int collect_need(void *payload, const char *path, const char *data, size_t len,
			struct mlctl_err *err)
{
	struct needs *nd = payload;
	struct mlctl_manifest m;
	struct mlctl_err perr = MLCTL_ERR_INIT;
	size_t plen = strlen(path), i;

	(void)err;
	if (strncmp(path, "models/", 7) || plen < 5 || strcmp(path + plen - 5, ".json") ||
	    !strstr(path, "/versions/") ||
	    mlctl_manifest_parse(&m, data, len, path, 1, NULL, &perr))
		return 0;
	if (reg_pruned(nd->r, m.name, m.version) == 1) {
		mlctl_manifest_release(&m);
		return 0;
	}
	for (i = 0; i < m.nfiles; i++) {
		struct need *x;

		nd->v = mlctl_realloc(nd->v, (nd->n + 1) * sizeof(*nd->v));
		x = &nd->v[nd->n++];
		memcpy(x->sha, m.files[i].sha256, 65);
		x->size = m.files[i].size;
		x->what = mlctl_aprintf("file '%s' of %s:%s", m.files[i].path, m.name, m.version);
		x->bad = 0;
	}
	mlctl_manifest_release(&m);
	return 0;
}

static int need_cmp(const void *a, const void *b)
{
	return strcmp(((const struct need *)a)->sha, ((const struct need *)b)->sha);
}

/* The bad need of this sha256, or NULL. */
static struct need *need_find(struct needs *nd, const char *sha)
{
	struct need key, *x;

	memcpy(key.sha, sha, 65);
	x = nd->n ? bsearch(&key, nd->v, nd->n, sizeof(*nd->v), need_cmp) : NULL;
	return x && x->bad ? x : NULL;
}

static int need_size(const struct needs *nd, uint64_t size)
{
	size_t i;

	for (i = 0; i < nd->n; i++)
		if (nd->v[i].bad && nd->v[i].size == size)
			return 1;
	return 0;
}

/* Install staged bytes that hash to a needed blob; note it healed. */
static void heal(struct mlctl_registry *r, struct mlctl_verify_report *rep, struct need *x,
		 char *staged, const char *src)
{
	struct mlctl_err ierr = MLCTL_ERR_INIT;

	if (mlctl_blob_install(r->root, staged, x->sha, NULL, &ierr)) {
		reg_problem(rep, ierr.msg);
		mlctl_blob_discard(staged);
		return;
	}
	x->bad = 0;
	rep->nhealed++;
	mlctl_buf_printf(&rep->healed, "healed blob sha256:%s (%s) from %s\n", x->sha, x->what,
			 src);
}

/* Every regular file under dir of a size some bad blob has: hashed, and installed if it is one. */
static void heal_from_dir(struct mlctl_registry *r, struct mlctl_verify_report *rep,
			  struct needs *nd, const char *dir, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && depth < 32 && (e = readdir(d))) {
		char *path, *staged = NULL, sha[65];
		struct mlctl_err ferr = MLCTL_ERR_INIT;
		struct need *x;
		struct stat st;
		int fd;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		path = mlctl_path_join(dir, e->d_name);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			heal_from_dir(r, rep, nd, path, depth + 1);
		} else if (S_ISREG(st.st_mode) && need_size(nd, (uint64_t)st.st_size) &&
			   (fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
			if (mlctl_blob_put_fd(r->root, fd, path, sha, NULL, &staged, &ferr) == 0) {
				if ((x = need_find(nd, sha)))
					heal(r, rep, x, staged, path);
				else
					mlctl_blob_discard(staged);
			}
			free(staged);
			close(fd);
		}
		free(path);
	}
	if (d)
		closedir(d);
}

/* The entries of a package that are bad blobs, each checked against its sha256 as staged. */
static void heal_from_pkg(struct mlctl_registry *r, struct mlctl_verify_report *rep,
			  struct needs *nd, const char *path)
{
	struct mlctl_err perr = MLCTL_ERR_INIT;
	struct mlctl_pkg_reader *pkg = NULL;
	const struct mlctl_file_entry *f;
	int rc;

	if (mlctl_pkg_open(&pkg, path, 0, &perr)) {
		reg_problem(rep, perr.msg);
		return;
	}
	while ((rc = mlctl_pkg_next(pkg, &f, &perr)) == 1) {
		struct mlctl_blob_writer *w = NULL;
		struct need *x = need_find(nd, f->sha256);
		char *staged = NULL;
		ssize_t n = 0;

		if (!x)
			continue;
		if ((rc = mlctl_blob_writer_open(&w, r->root, 1, &perr)))
			break;
		for (;;) {
			size_t cap;
			void *buf = mlctl_blob_writer_buf(w, &cap);

			if ((n = mlctl_pkg_read(pkg, buf, cap, &perr)) <= 0 ||
			    mlctl_blob_writer_push(w, (size_t)n, &perr))
				break;
		}
		if (n < 0) {
			mlctl_blob_writer_abort(w);
			rc = (int)n;
			break;
		}
		if (mlctl_blob_writer_commit(w, NULL, f->sha256, NULL, &staged, &perr) == 0)
			heal(r, rep, x, staged, path);
		else
			reg_problem(rep, perr.msg);
		free(staged);
	}
	if (rc < 0)
		reg_problem(rep, perr.msg);
	mlctl_pkg_free(pkg);
}

/* Blobs the versions in git name that are missing or corrupt, healed from the sources. */
int reg_repair(struct mlctl_registry *r, struct mlctl_verify_report *rep, const char *head,
	       const char *const *from, size_t nfrom, struct mlctl_err *err)
{
	struct needs nd = { NULL, 0, r };
	size_t i, j;
	int rc = 0;

	for (i = 0; i < nfrom; i++)
		if (!mlctl_is_dir(from[i]) && access(from[i], R_OK) != 0)
			return mlctl_err_errno(err, MLCTL_ENOTFOUND,
					       "no folder or package at '%s' to repair from",
					       from[i]);
	if (*head && (rc = mlctl_git_files(r->git, head, collect_need, &nd, err)))
		goto done;
	if (nd.n)
		qsort(nd.v, nd.n, sizeof(*nd.v), need_cmp);
	for (i = j = 0; i < nd.n; i++) {
		struct mlctl_err berr = MLCTL_ERR_INIT;

		if (j && !strcmp(nd.v[j - 1].sha, nd.v[i].sha)) {
			free(nd.v[i].what);
			continue;
		}
		nd.v[j] = nd.v[i];
		if (mlctl_blob_check(r->root, nd.v[j].sha, NULL, &berr)) {
			nd.v[j].bad = 1;
			if (mlctl_blob_exists(r->root, nd.v[j].sha))
				mlctl_blob_flag(r->root, nd.v[j].sha);
		}
		j++;
	}
	nd.n = j;
	if ((rc = reg_claim_tmp(r, err)))
		goto done;
	for (i = 0; i < nfrom; i++) {
		if (mlctl_is_dir(from[i]))
			heal_from_dir(r, rep, &nd, from[i], 0);
		else
			heal_from_pkg(r, rep, &nd, from[i]);
	}
	for (i = 0; i < nd.n; i++)
		if (nd.v[i].bad)
			rep->nunhealed++;
done:
	for (i = 0; i < nd.n; i++)
		free(nd.v[i].what);
	free(nd.v);
	return rc;
}
