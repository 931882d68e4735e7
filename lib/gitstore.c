/*
 * gitstore.c - commits, tags and reads on the registry's bare repository.
 */
#define _GNU_SOURCE
#include "gitstore.h"

#include <git2.h>
#include <git2/sys/mempack.h>
#include <git2/sys/odb_backend.h>
#include <dirent.h>
#include <search.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "banned.h"

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

static int git_fail(struct mlctl_err *err, int code, const char *what)
{
	const git_error *e = git_error_last();

	return mlctl_err_set(err, code, "%s: %s", what, e && e->message ? e->message : "libgit2 error");
}

int mlctl_git_open(struct mlctl_git **out, const char *path, int create, struct mlctl_err *err)
{
	struct mlctl_git *g = mlctl_calloc(1, sizeof(*g));
	git_odb *odb = NULL;
	int rc;

	*out = NULL;
	git_libgit2_init();
	/* refs reach the disk before the database's COMMIT names them */
	git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 1);
	g->path = mlctl_strdup(path);
	rc = git_repository_open_bare(&g->repo, path);
	if (rc == GIT_ENOTFOUND && create) {
		git_repository_init_options opts;

		git_repository_init_options_init(&opts, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
		opts.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH;
		opts.initial_head = "main";
		rc = git_repository_init_ext(&g->repo, path, &opts);
	}
	/* every write goes to memory first (highest priority), until mlctl_git_apply */
	if (rc >= 0 && (rc = git_repository_odb(&odb, g->repo)) >= 0 &&
	    (rc = git_mempack_new(&g->mem)) >= 0 &&
	    (rc = git_odb_add_backend(odb, g->mem, 999)) < 0) {
		g->mem->free(g->mem);
		g->mem = NULL;
	}
	git_odb_free(odb);
	if (rc < 0) {
		rc = git_fail(err, MLCTL_EIO, "cannot open the registry's git repository");
		mlctl_git_free(g);
		return rc;
	}
	*out = g;
	return 0;
}

struct tag_key {
	const char *ref; /* the pending tag's, which outlives the key */
	size_t i;        /* its place in tags */
};

static int tag_key_cmp(const void *a, const void *b)
{
	return strcmp(((const struct tag_key *)a)->ref, ((const struct tag_key *)b)->ref);
}

static void forget(struct mlctl_git *g)
{
	size_t i;

	tdestroy(g->tag_names, free);
	g->tag_names = NULL;
	for (i = 0; i < g->ntags; i++)
		free(g->tags[i].ref);
	free(g->tags);
	g->tags = NULL;
	g->ntags = g->atags = g->tags_applied = 0;
	for (i = 0; i < g->nmade; i++)
		free(g->made[i]);
	free(g->made);
	g->made = NULL;
	g->nmade = 0;
	g->nobjects = 0;
	g->moved = g->head_applied = 0;
	if (g->mem)
		git_mempack_reset(g->mem);
}

void mlctl_git_free(struct mlctl_git *g)
{
	if (!g)
		return;
	mlctl_git_rollback(g, NULL);
	free(g->objects);
	git_repository_free(g->repo);
	free(g->path);
	free(g);
	git_libgit2_shutdown();
}

/* Remember an object this change wrote (to memory), for mlctl_git_apply. */
static void track(struct mlctl_git *g, const git_oid *id)
{
	if (g->nobjects == g->aobjects) {
		g->aobjects = g->aobjects ? 2 * g->aobjects : 16;
		g->objects = mlctl_realloc(g->objects, g->aobjects * sizeof(*g->objects));
	}
	git_oid_cpy(&g->objects[g->nobjects++], id);
}

int mlctl_git_head(struct mlctl_git *g, char oid[41], struct mlctl_err *err)
{
	git_oid id;
	int rc;

	oid[0] = '\0';
	if (g->moved) {
		git_oid_tostr(oid, 41, &g->head);
		return 0;
	}
	rc = git_reference_name_to_id(&id, g->repo, MLCTL_GIT_BRANCH);
	if (rc == GIT_ENOTFOUND)
		return 0;
	if (rc < 0)
		return git_fail(err, MLCTL_EIO, "cannot read the registry's history");
	git_oid_tostr(oid, 41, &id);
	return 0;
}

/* What git trims from the ends of a signature's name and e-mail. */
static int is_crud(unsigned char c)
{
	return c <= ' ' || strchr(".,:;<>\"\\'", c);
}

/* s[0, n) as git can hold it in a signature: no angle brackets or controls, trimmed. */
static char *sig_part(const char *s, size_t n)
{
	struct mlctl_buf b = MLCTL_BUF_INIT;
	size_t i, from = 0, to;
	char *out;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c != '<' && c != '>')
			mlctl_buf_add(&b, c < ' ' || c == 0x7f ? " " : &s[i], 1);
	}
	to = b.len;
	while (from < to && is_crud((unsigned char)b.buf[from]))
		from++;
	while (to > from && is_crud((unsigned char)b.buf[to - 1]))
		to--;
	out = mlctl_strndup(b.buf ? b.buf + from : "", to - from);
	mlctl_buf_release(&b);
	return out;
}

/*
 * The git signature of an actor, whatever the string holds: "Name <email>"
 * gives both; anything else is the name with an empty e-mail ("ci-bot <>",
 * which git log, git fsck, libgit2 and GTO read; libgit2's
 * git_signature_new refuses it, so the signature is parsed from its text).
 * Angle brackets and line breaks inside are dropped, as git does. Never
 * fails but for memory.
 */
static int make_sig(git_signature **sig, const char *actor, int64_t when)
{
	size_t n = strlen(actor);
	const char *lt = NULL;
	char *name, *email, *text;
	int rc;

	while (n && actor[n - 1] == ' ')
		n--;
	if (n && actor[n - 1] == '>')
		lt = memrchr(actor, '<', n);
	if (lt) {
		name = sig_part(actor, (size_t)(lt - actor));
		email = sig_part(lt + 1, n - (size_t)(lt - actor) - 2);
	} else {
		name = sig_part(actor, n);
		email = mlctl_strdup("");
	}
	if (!*name) {
		free(name);
		name = mlctl_strdup(*email ? email : "unknown");
	}
	text = mlctl_aprintf("%s <%s> %lld +0000", name, email, (long long)when);
	rc = git_signature_from_buffer(sig, text);
	free(text);
	free(name);
	free(email);
	return rc;
}

int mlctl_git_tag_name_is_valid(const char *name)
{
	char *refname = mlctl_aprintf("refs/tags/%s", name);
	int valid = 0;

	git_libgit2_init();
	if (git_reference_name_is_valid(&valid, refname) < 0)
		valid = 0;
	git_libgit2_shutdown();
	free(refname);
	return valid != 0;
}

int mlctl_git_identity(char **name, char **email)
{
	git_config *cfg = NULL;
	git_buf v = { 0 };

	*name = *email = NULL;
	git_libgit2_init();
	if (git_config_open_default(&cfg) == 0) {
		if (git_config_get_string_buf(&v, cfg, "user.name") == 0 && v.ptr && *v.ptr)
			*name = mlctl_strdup(v.ptr);
		git_buf_dispose(&v);
		if (git_config_get_string_buf(&v, cfg, "user.email") == 0 && v.ptr && *v.ptr)
			*email = mlctl_strdup(v.ptr);
		git_buf_dispose(&v);
	}
	git_config_free(cfg);
	git_libgit2_shutdown();
	return *name || *email;
}

/* Write base with path set to blob (or removed when blob is NULL); new tree id in out. */
static int tree_update(struct mlctl_git *g, const git_tree *base, const char *path,
		       const git_oid *blob, git_oid *out)
{
	git_repository *repo = g->repo;
	git_treebuilder *bld = NULL;
	const char *slash = strchr(path, '/');
	int rc;

	if ((rc = git_treebuilder_new(&bld, repo, base)) < 0)
		return rc;
	if (!slash) {
		if (blob)
			rc = git_treebuilder_insert(NULL, bld, path, blob, GIT_FILEMODE_BLOB);
		else if (git_treebuilder_get(bld, path))
			rc = git_treebuilder_remove(bld, path);
	} else {
		char *dir = mlctl_strndup(path, (size_t)(slash - path));
		const git_tree_entry *e = git_treebuilder_get(bld, dir);
		git_tree *sub = NULL;
		git_oid sub_id;

		if (e && git_tree_entry_type(e) == GIT_OBJECT_TREE)
			rc = git_tree_lookup(&sub, repo, git_tree_entry_id(e));
		if (rc >= 0)
			rc = tree_update(g, sub, slash + 1, blob, &sub_id);
		if (rc >= 0)
			rc = git_treebuilder_insert(NULL, bld, dir, &sub_id, GIT_FILEMODE_TREE);
		git_tree_free(sub);
		free(dir);
	}
	if (rc >= 0 && (rc = git_treebuilder_write(out, bld)) >= 0)
		track(g, out);
	git_treebuilder_free(bld);
	return rc;
}

int mlctl_git_commit(struct mlctl_git *g, char out[41], const struct mlctl_git_change *changes,
		     size_t n, const char *message, const char *actor, int64_t when,
		     struct mlctl_err *err)
{
	git_oid head_id, tree_id, blob_id, commit_id;
	git_commit *parent = NULL;
	git_tree *tree = NULL, *next = NULL;
	git_signature *sig = NULL;
	int have_head, rc = 0;
	size_t i;

	if (g->moved) {
		have_head = 1;
		git_oid_cpy(&head_id, &g->head);
	} else {
		have_head = git_reference_name_to_id(&head_id, g->repo, MLCTL_GIT_BRANCH) == 0;
	}
	if (have_head) {
		if (git_commit_lookup(&parent, g->repo, &head_id) < 0 ||
		    git_commit_tree(&tree, parent) < 0) {
			rc = git_fail(err, MLCTL_EIO, "cannot read the registry's history");
			goto done;
		}
	}
	for (i = 0; i < n; i++) {
		const git_oid *b = NULL;

		if (changes[i].data) {
			if (git_blob_create_from_buffer(&blob_id, g->repo, changes[i].data,
							changes[i].len) < 0) {
				rc = git_fail(err, MLCTL_EIO, "cannot write to the registry's history");
				goto done;
			}
			track(g, &blob_id);
			b = &blob_id;
		}
		if (tree_update(g, tree, changes[i].path, b, &tree_id) < 0 ||
		    git_tree_lookup(&next, g->repo, &tree_id) < 0) {
			rc = git_fail(err, MLCTL_EIO, "cannot write to the registry's history");
			goto done;
		}
		git_tree_free(tree);
		tree = next;
		next = NULL;
	}
	if (!tree) {
		rc = mlctl_err_set(err, MLCTL_EINTERNAL, "empty commit in the registry's history");
		goto done;
	}
	if (make_sig(&sig, actor, when) < 0) {
		rc = git_fail(err, MLCTL_EINTERNAL, "cannot make a git signature");
		goto done;
	}
	/* the branch moves in mlctl_git_apply, once the objects are on disk */
	if (git_commit_create(&commit_id, g->repo, NULL, sig, sig, NULL, message, tree,
			      have_head ? 1 : 0, (const git_commit **)&parent) < 0) {
		rc = git_fail(err, MLCTL_EIO, "cannot commit to the registry's history");
		goto done;
	}
	track(g, &commit_id);
	if (!g->moved) {
		g->had_head = have_head;
		if (have_head)
			git_oid_cpy(&g->old_head, &head_id);
	}
	g->moved = 1;
	git_oid_cpy(&g->head, &commit_id);
	git_oid_tostr(out, 41, &commit_id);
done:
	git_signature_free(sig);
	git_tree_free(tree);
	git_tree_free(next);
	git_commit_free(parent);
	return rc;
}

int mlctl_git_tag(struct mlctl_git *g, const char *name, const char *commit,
		  const char *message, const char *actor, int64_t when, struct mlctl_err *err)
{
	git_oid id, tag_id, *have = NULL;
	git_object *target = NULL;
	git_reference *ref = NULL;
	git_signature *sig = NULL;
	char *refname = mlctl_aprintf("refs/tags/%s", name);
	struct tag_key probe = { refname, 0 }, *key, **found;
	int rc = 0, valid = 0;

	if (git_oid_fromstr(&id, commit) < 0 ||
	    git_object_lookup(&target, g->repo, &id, GIT_OBJECT_COMMIT) < 0) {
		rc = git_fail(err, MLCTL_EIO, "cannot find the commit to tag");
		goto done;
	}
	if ((found = tfind(&probe, &g->tag_names, tag_key_cmp)))
		have = &g->tags[(*found)->i].id;
	/* look the ref up by its exact name: revparse would read "@", "-g" and such as syntax */
	if (have || git_reference_lookup(&ref, g->repo, refname) == 0) {
		git_object *peeled = NULL, *obj = NULL;
		int same;

		if (have)
			same = git_object_lookup(&obj, g->repo, have, GIT_OBJECT_ANY) == 0 &&
			       git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) == 0;
		else
			same = git_reference_peel(&peeled, ref, GIT_OBJECT_COMMIT) == 0;
		same = same && git_oid_equal(git_object_id(peeled), &id);
		git_object_free(peeled);
		git_object_free(obj);
		if (!same)
			rc = mlctl_err_set(err, MLCTL_ECONFLICT,
					   "tag '%s' exists in the registry's history on another "
					   "commit; run 'mlctl registry verify'",
					   name);
		goto done;
	}
	if (git_reference_name_is_valid(&valid, refname) < 0 || !valid) {
		rc = mlctl_err_set(err, MLCTL_EUSAGE, "'%s' cannot be a git tag name", name);
		goto done;
	}
	if (make_sig(&sig, actor, when) < 0 ||
	    git_tag_annotation_create(&tag_id, g->repo, name, target, sig, message) < 0) {
		rc = git_fail(err, MLCTL_EIO, "cannot tag the registry's history");
		goto done;
	}
	track(g, &tag_id);
	if (g->ntags == g->atags) {
		g->atags = g->atags ? 2 * g->atags : 16;
		g->tags = mlctl_realloc(g->tags, g->atags * sizeof(*g->tags));
	}
	g->tags[g->ntags].ref = refname;
	git_oid_cpy(&g->tags[g->ntags].id, &tag_id);
	key = mlctl_malloc(sizeof(*key));
	*key = (struct tag_key){ refname, g->ntags };
	if (!tsearch(key, &g->tag_names, tag_key_cmp)) {
		fputs("mlctl: out of memory\n", stderr);
		abort();
	}
	g->ntags++;
	refname = NULL;
done:
	git_reference_free(ref);
	git_object_free(target);
	git_signature_free(sig);
	free(refname);
	return rc;
}

static int lookup_tree(git_tree **tree, git_repository *repo, const char *commit,
		       struct mlctl_err *err)
{
	git_oid id;
	git_commit *c = NULL;
	int rc = 0;

	if (git_oid_fromstr(&id, commit) < 0 || git_commit_lookup(&c, repo, &id) < 0 ||
	    git_commit_tree(tree, c) < 0)
		rc = git_fail(err, MLCTL_EIO, "cannot read the registry's history");
	git_commit_free(c);
	return rc;
}

int mlctl_git_read(struct mlctl_git *g, struct mlctl_buf *out, const char *commit,
		   const char *path, struct mlctl_err *err)
{
	git_tree *tree = NULL;
	git_tree_entry *e = NULL;
	git_blob *blob = NULL;
	int rc;

	mlctl_buf_reset(out);
	if ((rc = lookup_tree(&tree, g->repo, commit, err)))
		return rc;
	if (git_tree_entry_bypath(&e, tree, path) < 0) {
		rc = mlctl_err_set(err, MLCTL_ENOTFOUND, "'%s' is not in the registry's history",
				   path);
		goto done;
	}
	if (git_blob_lookup(&blob, g->repo, git_tree_entry_id(e)) < 0) {
		rc = git_fail(err, MLCTL_EIO, "cannot read the registry's history");
		goto done;
	}
	mlctl_buf_add(out, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
done:
	git_blob_free(blob);
	git_tree_entry_free(e);
	git_tree_free(tree);
	return rc;
}

int mlctl_git_log(struct mlctl_git *g, const char *since, const char *until,
		  mlctl_git_commit_cb cb, void *payload, struct mlctl_err *err)
{
	git_revwalk *walk = NULL;
	git_oid id;
	int rc = 0, next = 0;

	if (git_revwalk_new(&walk, g->repo) < 0)
		return git_fail(err, MLCTL_EIO, "cannot read the registry's history");
	git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE);
	if (git_oid_fromstr(&id, until) < 0 || git_revwalk_push(walk, &id) < 0) {
		rc = git_fail(err, MLCTL_EINTEGRITY, "cannot read the registry's history");
		goto done;
	}
	if (since && *since) {
		if (git_oid_fromstr(&id, since) < 0 || git_revwalk_hide(walk, &id) < 0) {
			rc = mlctl_err_set(err, MLCTL_EINTEGRITY,
					   "the registry's database names commit %.12s, which is not "
					   "in its history; run 'mlctl registry reindex'",
					   since);
			goto done;
		}
	}
	while (!rc && (next = git_revwalk_next(&id, walk)) == 0) {
		git_commit *c = NULL;
		char hex[41];

		if (mlctl_interrupted()) {
			rc = mlctl_err_interrupted(err); /* the caller rolls back what was replayed */
			break;
		}
		if (git_commit_lookup(&c, g->repo, &id) < 0) {
			rc = git_fail(err, MLCTL_EINTEGRITY, "cannot read the registry's history");
			break;
		}
		git_oid_tostr(hex, sizeof(hex), &id);
		rc = cb(payload, hex, git_commit_message(c), err);
		git_commit_free(c);
	}
	/* a commit the walk cannot read ends it early: an error, not the end of history */
	if (!rc && next != GIT_ITEROVER)
		rc = git_fail(err, MLCTL_EINTEGRITY,
			      "the registry's history is incomplete; run 'mlctl registry verify'");
done:
	git_revwalk_free(walk);
	return rc;
}

struct files_walk {
	git_repository *repo;
	mlctl_git_file_cb cb;
	void *payload;
	struct mlctl_err *err;
	int rc;
};

static int files_visit(const char *root, const git_tree_entry *e, void *payload)
{
	struct files_walk *w = payload;
	git_blob *blob = NULL;
	char *path;

	if (git_tree_entry_type(e) != GIT_OBJECT_BLOB)
		return 0;
	if (git_blob_lookup(&blob, w->repo, git_tree_entry_id(e)) < 0) {
		w->rc = git_fail(w->err, MLCTL_EINTEGRITY, "cannot read the registry's history");
		return -1;
	}
	path = mlctl_aprintf("%s%s", root, git_tree_entry_name(e));
	w->rc = w->cb(w->payload, path, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob),
		      w->err);
	free(path);
	git_blob_free(blob);
	return w->rc ? -1 : 0;
}

int mlctl_git_files(struct mlctl_git *g, const char *commit, mlctl_git_file_cb cb,
		    void *payload, struct mlctl_err *err)
{
	struct files_walk w = { g->repo, cb, payload, err, 0 };
	git_tree *tree = NULL;
	int rc;

	if ((rc = lookup_tree(&tree, g->repo, commit, err)))
		return rc;
	if (git_tree_walk(tree, GIT_TREEWALK_PRE, files_visit, &w) < 0 && !w.rc)
		w.rc = git_fail(err, MLCTL_EINTEGRITY, "cannot read the registry's history");
	git_tree_free(tree);
	return w.rc;
}

/* Lock files under dir (a refs/ folder), at any depth: counted, and removed with remove set. */
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
static int disk_odb(git_odb **out, const struct mlctl_git *g)
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

	if ((git_repository_odb(&odb, g->repo)) < 0 || disk_odb(&disk, g) < 0) {
		rc = git_fail(err, MLCTL_EIO, "cannot write to the registry's history");
		goto done;
	}
	for (i = 0; i < g->nobjects; i++) {
		if (flush_object(g, disk, odb, &g->objects[i]) < 0) {
			rc = git_fail(err, MLCTL_EIO, "cannot write to the registry's history");
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
			rc = git_fail(err, MLCTL_EIO, "cannot commit to the registry's history");
			goto done;
		}
		g->head_applied = 1;
		mlctl_fault("git-branch");
	}
	for (; g->tags_applied < g->ntags; g->tags_applied++) {
		struct pending_tag *t = &g->tags[g->tags_applied];

		clear_lock(g, t->ref);
		if (git_reference_create(&ref, g->repo, t->ref, &t->id, 0, NULL) < 0) {
			rc = git_fail(err, MLCTL_EIO, "cannot tag the registry's history");
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
		g->tags_applied--;
		git_reference_remove(g->repo, g->tags[g->tags_applied].ref);
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
			rc = git_fail(err, MLCTL_EIO, "cannot put the registry's history back");
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
	forget(g);
	return rc;
}

void mlctl_git_settle(struct mlctl_git *g)
{
	forget(g);
}

/* ---------------------------------------------------------------- garbage */

/* A set of object ids (open addressing). */
struct oidset {
	git_oid *v;
	unsigned char *used;
	size_t cap, n;
};

static size_t oid_slot(const struct oidset *s, const git_oid *id)
{
	size_t h;

	memcpy(&h, id->id, sizeof(h));
	h &= s->cap - 1;
	while (s->used[h] && !git_oid_equal(&s->v[h], id))
		h = (h + 1) & (s->cap - 1);
	return h;
}

/* 1 when id was not in the set (and is now). */
static int oidset_add(struct oidset *s, const git_oid *id)
{
	size_t i;

	if (2 * (s->n + 1) > s->cap) {
		struct oidset big = { NULL, NULL, s->cap ? 2 * s->cap : 1024, 0 };

		big.v = mlctl_calloc(big.cap, sizeof(*big.v));
		big.used = mlctl_calloc(big.cap, 1);
		for (i = 0; i < s->cap; i++)
			if (s->used[i])
				oidset_add(&big, &s->v[i]);
		free(s->v);
		free(s->used);
		*s = big;
	}
	i = oid_slot(s, id);
	if (s->used[i])
		return 0;
	s->used[i] = 1;
	git_oid_cpy(&s->v[i], id);
	s->n++;
	return 1;
}

static int oidset_has(const struct oidset *s, const git_oid *id)
{
	return s->cap && s->used[oid_slot(s, id)];
}

struct reach {
	git_repository *repo;
	struct oidset seen;
	git_oid *stack;
	size_t n, alloc;
	int broken; /* an object could not be read: what it reaches is not known */
};

static void reach_push(struct reach *w, const git_oid *id)
{
	if (oidset_has(&w->seen, id))
		return;
	if (w->n == w->alloc) {
		w->alloc = w->alloc ? 2 * w->alloc : 256;
		w->stack = mlctl_realloc(w->stack, w->alloc * sizeof(*w->stack));
	}
	git_oid_cpy(&w->stack[w->n++], id);
}

static int reach_ref(const char *name, void *payload)
{
	struct reach *w = payload;
	git_oid id;

	if (git_reference_name_to_id(&id, w->repo, name) == 0)
		reach_push(w, &id);
	return 0;
}

/* Every object a ref reaches: tags, commits and their parents, trees, blobs. */
static int reachable(struct reach *w)
{
	if (git_reference_foreach_name(w->repo, reach_ref, w) < 0)
		return -1;
	while (w->n) {
		git_oid id = w->stack[--w->n];
		git_object *o = NULL;
		size_t i;

		if (!oidset_add(&w->seen, &id))
			continue;
		if (git_object_lookup(&o, w->repo, &id, GIT_OBJECT_ANY) < 0) {
			w->broken = 1; /* verify reports which */
			continue;
		}
		switch (git_object_type(o)) {
		case GIT_OBJECT_TAG:
			reach_push(w, git_tag_target_id((git_tag *)o));
			break;
		case GIT_OBJECT_COMMIT:
			reach_push(w, git_commit_tree_id((git_commit *)o));
			for (i = 0; i < git_commit_parentcount((git_commit *)o); i++)
				reach_push(w, git_commit_parent_id((git_commit *)o, (unsigned)i));
			break;
		case GIT_OBJECT_TREE:
			for (i = 0; i < git_tree_entrycount((git_tree *)o); i++) {
				const git_tree_entry *e = git_tree_entry_byindex((git_tree *)o, i);

				if (git_tree_entry_type(e) == GIT_OBJECT_TREE)
					reach_push(w, git_tree_entry_id(e));
				else if (git_tree_entry_type(e) == GIT_OBJECT_BLOB)
					oidset_add(&w->seen, git_tree_entry_id(e));
			}
			break;
		default:
			break;
		}
		git_object_free(o);
	}
	return 0;
}

static int is_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return !s[n];
}

int mlctl_git_garbage(struct mlctl_git *g, int remove, mlctl_git_garbage_cb cb, void *payload,
		      struct mlctl_err *err)
{
	struct reach w = { g->repo, { NULL, NULL, 0, 0 }, NULL, 0, 0, 0 };
	char *objects = mlctl_path_join(g->path, "objects");
	DIR *d = NULL, *sd;
	struct dirent *e, *f;
	int rc = 0;

	if (reachable(&w) < 0) {
		rc = git_fail(err, MLCTL_EIO, "cannot read the registry's history");
		goto done;
	}
	/* objects past a missing one look unreachable, but are not garbage */
	if (w.broken) {
		rc = mlctl_err_set(err, MLCTL_EINTEGRITY,
				   "the registry's history is missing objects, so its garbage "
				   "cannot be told apart; run 'mlctl registry verify'");
		goto done;
	}
	d = opendir(objects);
	while (d && (e = readdir(d))) {
		char *sub;

		if (!strncmp(e->d_name, "tmp_object_git2_", 16)) {
			/* a loose object a killed writer was writing */
			struct stat st;
			char *rel = mlctl_aprintf("objects/%s", e->d_name);

			sub = mlctl_path_join(objects, e->d_name);
			if (lstat(sub, &st) == 0 && S_ISREG(st.st_mode) &&
			    (!remove || unlink(sub) == 0))
				cb(payload, rel, (uint64_t)st.st_size);
			free(rel);
			free(sub);
			continue;
		}
		if (!is_hex(e->d_name, 2))
			continue;
		sub = mlctl_path_join(objects, e->d_name);
		sd = opendir(sub);
		while (sd && (f = readdir(sd))) {
			char hex[41], *path;
			git_oid id;
			struct stat st;

			if (!is_hex(f->d_name, 38))
				continue;
			memcpy(hex, e->d_name, 2);
			memcpy(hex + 2, f->d_name, 39);
			if (git_oid_fromstr(&id, hex) < 0 || oidset_has(&w.seen, &id))
				continue;
			path = mlctl_path_join(sub, f->d_name);
			if (lstat(path, &st) == 0 && (!remove || unlink(path) == 0)) {
				char *rel = mlctl_aprintf("objects/%s/%s", e->d_name, f->d_name);

				cb(payload, rel, (uint64_t)st.st_size);
				free(rel);
				mlctl_fault("gc-git-object");
			}
			free(path);
		}
		if (sd)
			closedir(sd);
		if (remove)
			rmdir(sub); /* only when it is empty now */
		free(sub);
	}
done:
	if (d)
		closedir(d);
	free(objects);
	free(w.seen.v);
	free(w.seen.used);
	free(w.stack);
	return rc;
}

/* ---------------------------------------------------------------- connectivity */

/* An object still to read: its id, the type its referrer expects, and who referred to it. */
struct want {
	git_oid id;
	git_object_t type;
	char *from;
};

struct connect {
	git_repository *repo;
	git_odb *disk;
	struct oidset seen;
	struct want *stack;
	size_t n, alloc;
	size_t read, bad;
	mlctl_git_bad_cb cb;
	void *payload;
};

/* Queue id (expected of type, referred to by from, which is taken over) unless seen. */
static void want(struct connect *c, const git_oid *id, git_object_t type, char *from)
{
	if (!oidset_add(&c->seen, id)) {
		free(from);
		return;
	}
	if (c->n == c->alloc) {
		c->alloc = c->alloc ? 2 * c->alloc : 256;
		c->stack = mlctl_realloc(c->stack, c->alloc * sizeof(*c->stack));
	}
	git_oid_cpy(&c->stack[c->n].id, id);
	c->stack[c->n].type = type;
	c->stack[c->n].from = from;
	c->n++;
}

static int want_ref(const char *name, void *payload)
{
	struct connect *c = payload;
	git_reference *ref = NULL;

	/* direct refs only: a symbolic one (HEAD) names a ref that is listed itself */
	if (git_reference_lookup(&ref, c->repo, name) == 0 &&
	    git_reference_type(ref) == GIT_REFERENCE_DIRECT)
		want(c, git_reference_target(ref), GIT_OBJECT_ANY, mlctl_aprintf("ref %s", name));
	git_reference_free(ref);
	return 0;
}

static void bad(struct connect *c, const struct want *w, const char *problem)
{
	char hex[41];

	git_oid_tostr(hex, sizeof(hex), &w->id);
	c->bad++;
	c->cb(c->payload, hex,
	      w->type == GIT_OBJECT_ANY ? "object" : git_object_type2string(w->type), problem,
	      w->from);
}

/* Read one object (its hash checked) and queue what it refers to. */
static void visit(struct connect *c, const struct want *w)
{
	git_odb_object *raw = NULL;
	git_object *o = NULL;
	char hex[41], *msg;
	size_t i;
	int rc = git_odb_read(&raw, c->disk, &w->id);

	if (rc == GIT_ENOTFOUND) {
		bad(c, w, "missing");
		return;
	}
	if (rc < 0) {
		const git_error *e = git_error_last();

		msg = mlctl_aprintf("unreadable (%s)",
				    e && e->message ? e->message : "libgit2 error");
		bad(c, w, msg);
		free(msg);
		return;
	}
	c->read++;
	if (w->type != GIT_OBJECT_ANY && git_odb_object_type(raw) != w->type) {
		msg = mlctl_aprintf("a %s, not a %s",
				    git_object_type2string(git_odb_object_type(raw)),
				    git_object_type2string(w->type));
		bad(c, w, msg);
		free(msg);
		git_odb_object_free(raw);
		return;
	}
	git_odb_object_free(raw);
	if (git_object_lookup(&o, c->repo, &w->id, GIT_OBJECT_ANY) < 0) {
		bad(c, w, "unreadable (it does not parse)");
		return;
	}
	git_oid_tostr(hex, sizeof(hex), &w->id);
	switch (git_object_type(o)) {
	case GIT_OBJECT_TAG:
		want(c, git_tag_target_id((git_tag *)o), git_tag_target_type((git_tag *)o),
		     mlctl_aprintf("tag %s '%s'", hex, git_tag_name((git_tag *)o)));
		break;
	case GIT_OBJECT_COMMIT:
		want(c, git_commit_tree_id((git_commit *)o), GIT_OBJECT_TREE,
		     mlctl_aprintf("commit %s (its tree)", hex));
		for (i = 0; i < git_commit_parentcount((git_commit *)o); i++)
			want(c, git_commit_parent_id((git_commit *)o, (unsigned)i),
			     GIT_OBJECT_COMMIT, mlctl_aprintf("commit %s (its parent)", hex));
		break;
	case GIT_OBJECT_TREE:
		for (i = 0; i < git_tree_entrycount((git_tree *)o); i++) {
			const git_tree_entry *e = git_tree_entry_byindex((git_tree *)o, i);
			git_object_t t = git_tree_entry_type(e);

			if (t == GIT_OBJECT_TREE || t == GIT_OBJECT_BLOB)
				want(c, git_tree_entry_id(e), t,
				     mlctl_aprintf("tree %s (entry '%s')", hex,
						   git_tree_entry_name(e)));
		}
		break;
	default:
		break;
	}
	git_object_free(o);
}

int mlctl_git_check_objects(struct mlctl_git *g, size_t *n, size_t *nbad, mlctl_git_bad_cb cb,
			    void *payload, struct mlctl_err *err)
{
	struct connect c;
	int rc = 0;

	memset(&c, 0, sizeof(c));
	c.repo = g->repo;
	c.cb = cb;
	c.payload = payload;
	*n = *nbad = 0;
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 1);
	/* the files only: the memory store holds nothing applied */
	if (disk_odb(&c.disk, g) < 0)
		return git_fail(err, MLCTL_EIO, "cannot read the registry's history");
	if (git_reference_foreach_name(g->repo, want_ref, &c) < 0) {
		rc = git_fail(err, MLCTL_EINTEGRITY,
			      "cannot read the refs of the registry's history");
		goto done;
	}
	while (c.n) {
		struct want w = c.stack[--c.n];

		if ((c.read & 1023) == 0 && mlctl_interrupted()) {
			free(w.from);
			rc = mlctl_err_interrupted(err);
			goto done;
		}
		visit(&c, &w);
		free(w.from);
	}
	*n = c.read;
	*nbad = c.bad;
done:
	while (c.n)
		free(c.stack[--c.n].from);
	free(c.stack);
	free(c.seen.v);
	free(c.seen.used);
	git_odb_free(c.disk);
	return rc;
}
