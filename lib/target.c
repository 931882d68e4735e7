/*
 * target.c - DIR, PKG or REF: the word a user gives where a command takes a
 * model, classified once, opened as a project folder, a package or a
 * registry version, and unpacked into a folder with every file checked.
 *
 * A word that exists on disk is that folder or file, whatever else it
 * could mean; `./iris` or `iris:1.0.0` say which one is meant.
 */
#define _GNU_SOURCE
#include "target.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "package.h"
#include "banned.h"

/* A bare name shown as a path, './x', so that the message reads as one. */
static const char *as_path(const char *word)
{
	return strchr(word, '/') ? "" : "./";
}

int mlctl_target_init(struct mlctl_target *t, const char *word, const char *registry,
		      struct mlctl_err *err)
{
	struct stat st;

	memset(t, 0, sizeof(*t));
	t->word = mlctl_strdup(word);
	t->registry = mlctl_strdup(registry ? registry : "");
	if (stat(word, &st) == 0) {
		t->kind = S_ISDIR(st.st_mode) ? MLCTL_TARGET_DIR : MLCTL_TARGET_PKG;
		return 0;
	}
	if (errno != ENOENT && errno != ENOTDIR)
		return mlctl_err_errno(err, MLCTL_EIO, "cannot read '%s'", word);
	t->kind = MLCTL_TARGET_REF;
	if (mlctl_ref_parse(&t->ref, word, err) == 0)
		return 0;
	if (strpbrk(word, "@:"))
		return MLCTL_EUSAGE; /* written as a reference: its own message says what is wrong */
	if (strpbrk(word, "/.") || word[0] == '~')
		return mlctl_err_set(err, MLCTL_ENOTFOUND, "no folder or package '%s%s'",
				     as_path(word), word);
	return mlctl_err_set(err, MLCTL_EUSAGE,
			     "'%s' is neither a folder, a package nor a registry reference (NAME, "
			     "NAME:VERSION, NAME:ALIAS, NAME@sha256:<hex>)",
			     word);
}

int mlctl_target_registry(struct mlctl_registry **out, struct mlctl_target *t,
			  struct mlctl_err *err)
{
	int rc;

	*out = NULL;
	if (!t->reg && (rc = mlctl_registry_open(&t->reg, t->registry, 0, err)))
		return rc;
	*out = t->reg;
	return 0;
}

static int open_ref(struct mlctl_target *t, struct mlctl_err *err)
{
	struct mlctl_registry *r;
	char why[MLCTL_ERR_MSG_MAX];
	int rc = mlctl_target_registry(&r, t, err);

	if (!rc)
		rc = mlctl_registry_resolve(r, &t->info, &t->m, t->word, err);
	if (rc != MLCTL_ENOTFOUND || t->ref.kind != MLCTL_REF_LATEST)
		return rc;
	/* a bare name could as well have been a path: say that neither is there */
	if (!t->reg) {
		snprintf(why, sizeof(why), "%s", err->msg);
		return mlctl_err_set(err, MLCTL_ENOTFOUND,
				     "no folder or package '%s%s' and no model '%s': %s",
				     as_path(t->word), t->word, t->ref.name, why);
	}
	return mlctl_err_set(err, MLCTL_ENOTFOUND,
			     "no folder or package '%s%s' and no model '%s' in the registry; see "
			     "'mlctl list'",
			     as_path(t->word), t->word, t->ref.name);
}

static int open_pkg(struct mlctl_target *t, struct mlctl_err *err)
{
	struct mlctl_pkg_reader *pkg = NULL;
	char *text;
	int rc;

	if ((rc = mlctl_pkg_open(&pkg, t->word, 0, err)))
		return rc;
	/* the reader owns its manifest: keep a copy */
	text = mlctl_manifest_canonical(mlctl_pkg_manifest(pkg));
	rc = mlctl_manifest_parse(&t->m, text, strlen(text), t->word, 1, NULL, err);
	free(text);
	mlctl_pkg_free(pkg);
	return rc;
}

int mlctl_target_open(struct mlctl_target *t, struct mlctl_err *err)
{
	int rc;

	if (t->opened)
		return 0;
	if (t->kind == MLCTL_TARGET_REF)
		rc = open_ref(t, err);
	else if (t->kind == MLCTL_TARGET_PKG)
		rc = open_pkg(t, err);
	else
		rc = mlctl_project_load(&t->m, t->word, err);
	if (rc)
		return rc;
	mlctl_manifest_digest(&t->m, t->digest);
	t->opened = 1;
	return 0;
}

/* Copy a project file, checking that it still has the sha256 it was indexed with. */
static int copy_checked(const char *src, const char *dst, const struct mlctl_file_entry *f,
			struct mlctl_err *err)
{
	char hex[65];
	uint64_t total;
	int in, out = -1, rc = 0;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		rc = mlctl_err_errno(err, MLCTL_EIO, "cannot open '%s'", src);
		goto done;
	}
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		rc = mlctl_err_errno(err, MLCTL_EIO, "cannot create '%s'", dst);
		goto done;
	}
	if ((rc = mlctl_fd_hash_copy(in, out, hex, &total, src, dst, err)))
		goto done;
	if (strcmp(hex, f->sha256)) {
		rc = mlctl_err_set(err, MLCTL_EIO,
				   "'%s' changed while it was copied; try again when it is no longer "
				   "being written",
				   src);
		goto done;
	}
	if (fchmod(out, f->mode) < 0 || fsync(out) < 0)
		rc = mlctl_err_errno(err, MLCTL_EIO, "cannot write '%s'", dst);
done:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return rc;
}

/* A project's files as its package would hold them, and its mlctl.json, into dir. */
static int copy_project(struct mlctl_target *t, const char *dir, struct mlctl_err *err)
{
	char *text = NULL, *mpath = NULL;
	size_t i;
	int rc = 0;

	for (i = 0; !rc && i < t->m.nfiles; i++) {
		const struct mlctl_file_entry *f = &t->m.files[i];
		char *src = mlctl_path_join(t->word, f->path), *dst = mlctl_path_join(dir, f->path);
		char *parent = mlctl_dirname(dst);

		rc = mlctl_mkdir_p(parent, 0755, err);
		if (!rc)
			rc = copy_checked(src, dst, f, err);
		free(parent);
		free(src);
		free(dst);
	}
	if (!rc) {
		text = mlctl_manifest_pretty(&t->m, 0);
		mpath = mlctl_path_join(dir, MLCTL_MANIFEST_FILE);
		rc = mlctl_write_file_atomic(mpath, text, strlen(text), 0644, err);
	}
	free(text);
	free(mpath);
	return rc;
}

static int unpack(struct mlctl_target *t, const char *dir, int force, struct mlctl_err *err)
{
	struct mlctl_dir_stage st;
	struct mlctl_manifest m;
	int rc;

	if ((rc = mlctl_target_open(t, err)))
		return rc;
	if (t->kind == MLCTL_TARGET_REF) {
		/* exactly the version opened, even if an alias has moved since */
		struct mlctl_version_info info;
		char *ref = mlctl_aprintf("%s@%s", t->info.name, t->info.digest);

		rc = mlctl_registry_pull(t->reg, &info, ref, dir, force, err);
		if (!rc)
			mlctl_version_info_release(&info);
		free(ref);
		return rc;
	}
	if (!(rc = mlctl_dir_stage_begin(&st, dir, force, err))) {
		if (t->kind == MLCTL_TARGET_PKG) {
			rc = mlctl_pkg_extract(&m, t->word, st.tmp, err);
			if (!rc)
				mlctl_manifest_release(&m);
		} else {
			rc = copy_project(t, st.tmp, err);
		}
	}
	if (!rc)
		rc = mlctl_dir_stage_commit(&st, err);
	mlctl_dir_stage_release(&st);
	return rc;
}

int mlctl_target_unpack(struct mlctl_target *t, const char *dir, int force,
			struct mlctl_err *err)
{
	struct stat st;
	int rc = unpack(t, dir, force, err);

	/* a link to a folder: the folder it points to was filled */
	free(t->resolved);
	t->resolved = NULL;
	if (!rc && lstat(dir, &st) == 0 && S_ISLNK(st.st_mode))
		t->resolved = realpath(dir, NULL);
	return rc;
}

int mlctl_target_checkout(struct mlctl_target *t, char **tmp, char **dir,
			  struct mlctl_err *err)
{
	const char *tdir = getenv("TMPDIR");

	*tmp = NULL;
	if (t->kind == MLCTL_TARGET_DIR) {
		*dir = mlctl_strdup(t->word);
		return 0;
	}
	if (!tdir || !*tdir)
		tdir = "/tmp";
	*tmp = mlctl_aprintf("%s/mlctl-run-XXXXXX", tdir);
	if (!mkdtemp(*tmp))
		return mlctl_err_errno(err, MLCTL_EIO, "cannot create a folder in '%s'", tdir);
	*dir = mlctl_path_join(*tmp, "model");
	return mlctl_target_unpack(t, *dir, 0, err);
}

int mlctl_target_record(struct mlctl_target *t, const char *kind, int passed, const char *report,
			char **path, struct mlctl_err *err)
{
	struct mlctl_registry *r;
	int rc;

	*path = NULL;
	if ((rc = mlctl_target_registry(&r, t, err)))
		return rc;
	return mlctl_registry_record(r, &t->info, kind, passed, report, path, err);
}

void mlctl_target_release(struct mlctl_target *t)
{
	if (!t)
		return;
	free(t->word);
	free(t->registry);
	free(t->resolved);
	mlctl_registry_free(t->reg);
	mlctl_manifest_release(&t->m);
	mlctl_version_info_release(&t->info);
	memset(t, 0, sizeof(*t));
}
