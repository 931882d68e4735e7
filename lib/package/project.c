/*
 * project.c - a project's files: the manifest's artifacts walked,
 * each file checked (inside the project, regular, no symlink out) and listed.
 */
#define _GNU_SOURCE
#include "package/internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

struct collect {
	struct mlctl_file_entry *files;
	size_t n, alloc;
	const char *dir;
	char *root_real;
	struct mlctl_err *err;
};

static int add_entry(struct collect *c, const char *rel, const struct stat *st)
{
	if (c->n == c->alloc) {
		c->alloc = c->alloc ? 2 * c->alloc : 16;
		c->files = mlctl_realloc(c->files, c->alloc * sizeof(*c->files));
	}
	memset(&c->files[c->n], 0, sizeof(c->files[c->n]));
	c->files[c->n].path = mlctl_strdup(rel);
	c->files[c->n].size = (uint64_t)st->st_size;
	c->files[c->n].mode = (st->st_mode & 0111) ? 0755 : 0644;
	c->n++;
	return 0;
}

/* Sort the files and keep one of each path (listed twice, through a folder and by name). */
static void sort_unique(struct collect *c)
{
	size_t i, k = 0;

	qsort(c->files, c->n, sizeof(*c->files), mlctl_file_entry_cmp);
	for (i = 0; i < c->n; i++) {
		if (k > 0 && !strcmp(c->files[k - 1].path, c->files[i].path)) {
			free(c->files[i].path);
			continue;
		}
		c->files[k++] = c->files[i];
	}
	c->n = k;
}

/* Check that full (dir/rel) stays inside the project once symlinks are resolved. */
static int check_inside(struct collect *c, const char *rel, const char *full)
{
	char *real = realpath(full, NULL);
	size_t n = strlen(c->root_real);
	int ok;

	if (!real) {
		mlctl_err_errno(c->err, MLCTL_EGATE,
				"artifact '%s' cannot be resolved (a dangling symlink?); fix or "
				"remove it",
				rel);
		c->err->check = MLV020;
		return MLCTL_EGATE;
	}
	ok = !strncmp(real, c->root_real, n) && real[n] == '/';
	free(real);
	if (!ok) {
		mlctl_err_set(c->err, MLCTL_EGATE,
			      "artifact '%s' leaves the project through a symlink; copy the file "
			      "into '%s' instead",
			      rel, c->dir);
		c->err->check = MLV021;
		return MLCTL_EGATE;
	}
	return 0;
}

/*
 * A name found in an artifact folder must be one a package can hold:
 * UTF-8 (what tar's pax headers and JSON carry), no control characters or
 * backslash. The error shows the name escaped, as the terminal cannot.
 */
static int check_name(struct collect *c, const char *rel)
{
	char q[512];
	int utf8 = mlctl_utf8_valid(rel, strlen(rel));

	if (mlctl_path_is_safe(rel))
		return 0;
	mlctl_err_set(c->err, MLCTL_EGATE,
		      utf8 ? "file name '%s' cannot be packaged (control characters or "
			     "backslash); rename it"
			   : "file name '%s' is not valid UTF-8; rename it to a UTF-8 "
			     "name",
		      mlctl_escape(q, sizeof(q), rel));
	c->err->check = MLV009;
	return MLCTL_EGATE;
}

static int walk(struct collect *c, const char *rel, int top)
{
	char *full = mlctl_path_join(c->dir, rel);
	struct stat lst, st;
	int rc = 0;

	if (mlctl_interrupted()) {
		rc = mlctl_err_interrupted(c->err);
		goto done;
	}
	if (lstat(full, &lst) < 0) {
		if (errno == ENOENT && top) {
			rc = mlctl_err_set(c->err, MLCTL_EGATE,
					   "artifact '%s' is listed in mlctl.json but missing from "
					   "'%s'; add the file or remove the entry",
					   rel, c->dir);
			c->err->check = MLV020;
		} else
			rc = mlctl_err_errno(c->err, MLCTL_EIO, "cannot read '%s'", full);
		goto done;
	}
	/* every artifact is resolved: a symlinked parent folder may leave too */
	if ((rc = check_inside(c, rel, full)))
		goto done;
	if (stat(full, &st) < 0) {
		rc = mlctl_err_errno(c->err, MLCTL_EIO, "cannot read '%s'", full);
		goto done;
	}
	if (S_ISDIR(st.st_mode)) {
		DIR *d;
		struct dirent *e;

		if (S_ISLNK(lst.st_mode)) {
			rc = mlctl_err_set(c->err, MLCTL_EGATE,
					   "artifact '%s' is a symlink to a folder; list the real "
					   "folder instead",
					   rel);
			c->err->check = MLV022;
			goto done;
		}
		d = opendir(full);
		if (!d) {
			rc = mlctl_err_errno(c->err, MLCTL_EIO, "cannot list '%s'", full);
			goto done;
		}
		while (!rc && (e = readdir(d))) {
			char *sub;

			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			sub = mlctl_aprintf("%s/%s", rel, e->d_name);
			rc = check_name(c, sub);
			if (!rc)
				rc = walk(c, sub, 0);
			free(sub);
		}
		closedir(d);
	} else if (S_ISREG(st.st_mode)) {
		rc = add_entry(c, rel, &st);
	} else {
		rc = mlctl_err_set(c->err, MLCTL_EGATE,
				   "artifact '%s' is not a regular file or folder; remove it from "
				   "mlctl.json",
				   rel);
		c->err->check = MLV022;
	}
done:
	free(full);
	return rc;
}

int mlctl_project_collect_one(struct mlctl_file_entry **out, size_t *n, const char *dir,
			      const char *rel, struct mlctl_err *err)
{
	struct collect c = { NULL, 0, 0, dir, NULL, err };
	int rc;

	*out = NULL;
	*n = 0;
	c.root_real = realpath(dir, NULL);
	if (!c.root_real)
		return mlctl_err_errno(err, MLCTL_ENOTFOUND, "cannot open project '%s'", dir);
	rc = walk(&c, rel, 1);
	free(c.root_real);
	if (rc) {
		mlctl_file_entries_free(c.files, c.n);
		return rc;
	}
	sort_unique(&c);
	*out = c.files;
	*n = c.n;
	return 0;
}

int mlctl_project_collect(struct mlctl_file_entry **out, size_t *n, const char *dir,
			  const struct mlctl_manifest *m, struct mlctl_err *err)
{
	struct collect c = { NULL, 0, 0, dir, NULL, err };
	cJSON *a, *smoke, *cases;
	int rc = 0;

	*out = NULL;
	*n = 0;
	c.root_real = realpath(dir, NULL);
	if (!c.root_real)
		return mlctl_err_errno(err, MLCTL_ENOTFOUND, "cannot open project '%s'", dir);
	cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(m->json, "artifacts")) {
		rc = walk(&c, cJSON_GetObjectItemCaseSensitive(a, "path")->valuestring, 1);
		if (rc)
			goto done;
	}
	smoke = cJSON_GetObjectItemCaseSensitive(m->json, "smoke");
	cases = cJSON_GetObjectItemCaseSensitive(smoke, "cases");
	if (cJSON_IsString(cases)) {
		if (!mlctl_path_is_safe(cases->valuestring)) {
			char q[512];

			rc = mlctl_err_set(err, MLCTL_EGATE,
					   "smoke cases path '%s' is unsafe; use a relative path "
					   "inside the project",
					   mlctl_escape(q, sizeof(q), cases->valuestring));
			goto done;
		}
		rc = walk(&c, cases->valuestring, 1);
		if (rc)
			goto done;
	}
	sort_unique(&c);
	*out = c.files;
	*n = c.n;
	c.files = NULL;
done:
	mlctl_file_entries_free(c.files, c.n);
	free(c.root_real);
	return rc;
}

/* Hash one collected file of the project into f->sha256, checking its size. */
static int hash_project_file(struct mlctl_file_entry *f, const char *dir, struct mlctl_err *err)
{
	char *full = mlctl_path_join(dir, f->path);
	uint64_t total = 0;
	int fd, rc;

	fd = mlctl_open_regular(full, MLCTL_EIO, err);
	if (fd < 0) {
		free(full);
		return fd;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	rc = mlctl_fd_hash_copy(fd, -1, f->sha256, &total, full, NULL, err);
	if (!rc && total != f->size)
		rc = mlctl_err_set(err, MLCTL_EIO,
				   "'%s' changed while it was read; try again when it is no longer "
				   "being written",
				   full);
	close(fd);
	free(full);
	return rc;
}

int mlctl_project_load(struct mlctl_manifest *m, const char *dir, struct mlctl_err *err)
{
	struct mlctl_file_entry *files = NULL;
	size_t n = 0, i;
	int rc;

	if ((rc = mlctl_manifest_load(m, dir, NULL, err)))
		return rc;
	rc = mlctl_project_collect(&files, &n, dir, m, err);
	for (i = 0; !rc && i < n; i++)
		rc = hash_project_file(&files[i], dir, err);
	if (!rc) {
		mlctl_manifest_set_files(m, files, n);
		files = NULL;
	}
	mlctl_file_entries_free(files, n);
	if (rc)
		mlctl_manifest_release(m);
	return rc;
}
