/*
 * repo.c - the registry's bare repository: open, head, identities,
 * commits and tags queued in memory, reads of trees and history.
 */
#define _GNU_SOURCE
#include "gitstore/internal.h"

#include <git2/sys/mempack.h>
#include <git2/sys/odb_backend.h>
#include <errno.h>
#include <pthread.h>
#include <search.h>
#include <string.h>
#include <unistd.h>

#include "banned.h"

int gs_git_fail(struct mlctl_err *err, int code, const char *what)
{
	const git_error *e = git_error_last();

	return mlctl_err_set(err, code, "%s: %s", what, e && e->message ? e->message : "libgit2 error");
}

static void start_libgit2(void)
{
	git_libgit2_init();
	/* refs reach the disk before the database's COMMIT names them */
	git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 1);
}

/*
 * libgit2 started once in the process, when first needed, and left running:
 * built with mbedTLS, as Debian's is, its start parses the whole CA bundle
 * (some milliseconds), which a start and stop around each use would repeat.
 */
void gs_libgit2(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, start_libgit2);
}

/* Open the repository for real: only when an operation needs more than the branch's tip. */
int gs_ready(struct mlctl_git *g, struct mlctl_err *err)
{
	git_odb *odb = NULL;
	int rc;

	if (g->repo)
		return 0;
	gs_libgit2();
	rc = git_repository_open_bare(&g->repo, g->path);
	if (rc == GIT_ENOTFOUND && g->create) {
		git_repository_init_options opts;

		git_repository_init_options_init(&opts, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
		opts.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH;
		opts.initial_head = "main";
		rc = git_repository_init_ext(&g->repo, g->path, &opts);
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
		rc = gs_git_fail(err, MLCTL_EIO, "cannot open the registry's git repository");
		git_repository_free(g->repo);
		g->repo = NULL;
		return rc;
	}
	return 0;
}

int mlctl_git_open(struct mlctl_git **out, const char *path, int create, struct mlctl_err *err)
{
	struct mlctl_git *g = mlctl_calloc(1, sizeof(*g));
	int rc;

	*out = NULL;
	g->path = mlctl_strdup(path);
	g->create = create;
	/* a repository there already opens when first used (see gs_ready) */
	if (!create && mlctl_is_dir(path)) {
		*out = g;
		return 0;
	}
	if ((rc = gs_ready(g, err))) {
		mlctl_git_free(g);
		return rc;
	}
	*out = g;
	return 0;
}

static int tag_key_cmp(const void *a, const void *b)
{
	return strcmp(((const struct tag_key *)a)->ref, ((const struct tag_key *)b)->ref);
}

void gs_forget(struct mlctl_git *g)
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
	if (g->repo) /* not opened: libgit2 need not be loaded to free nothing */
		git_repository_free(g->repo);
	free(g->path);
	free(g);
}

/* Remember an object this change wrote (to memory), for mlctl_git_apply. */
void gs_track(struct mlctl_git *g, const git_oid *id)
{
	if (g->nobjects == g->aobjects) {
		g->aobjects = g->aobjects ? 2 * g->aobjects : 16;
		g->objects = mlctl_realloc(g->objects, g->aobjects * sizeof(*g->objects));
	}
	git_oid_cpy(&g->objects[g->nobjects++], id);
}

/*
 * The branch's tip as git keeps it on disk, without starting libgit2: HEAD
 * naming the branch, then the branch's loose ref or its line in
 * packed-refs. 1 when found (oid, or "" for a branch with no commit yet), 0
 * when the layout is anything else (libgit2 then reads it).
 */
static int quick_head(const struct mlctl_git *g, char oid[41])
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_buf b = MLCTL_BUF_INIT;
	char *p = mlctl_path_join(g->path, "HEAD");
	size_t blen = strlen(MLCTL_GIT_BRANCH);
	const char *line, *end;
	int found = 0;

	oid[0] = '\0';
	if (mlctl_read_file(&b, p, 4096, &err) || strcmp(b.buf, "ref: " MLCTL_GIT_BRANCH "\n"))
		goto done;
	free(p);
	p = mlctl_path_join(g->path, MLCTL_GIT_BRANCH);
	if (access(p, F_OK) == 0) {
		found = !mlctl_read_file(&b, p, 4096, &err) && b.len == 41 && b.buf[40] == '\n' &&
			strspn(b.buf, "0123456789abcdef") == 40;
		if (found)
			memcpy(oid, b.buf, 40);
		oid[found ? 40 : 0] = '\0';
		goto done;
	}
	free(p);
	p = mlctl_path_join(g->path, "packed-refs");
	if (access(p, F_OK) != 0) {
		found = errno == ENOENT; /* no ref at all: the branch has no commit yet */
		goto done;
	}
	if (mlctl_read_file(&b, p, 64 << 20, &err))
		goto done;
	found = 1;
	for (line = b.buf; *line; line = *end ? end + 1 : end) {
		if (!(end = strchr(line, '\n')))
			end = line + strlen(line);
		if ((size_t)(end - line) == 41 + blen && line[40] == ' ' &&
		    !strncmp(line + 41, MLCTL_GIT_BRANCH, blen) &&
		    strspn(line, "0123456789abcdef") == 40) {
			memcpy(oid, line, 40);
			oid[40] = '\0';
			break;
		}
	}
done:
	mlctl_buf_release(&b);
	free(p);
	return found;
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
	if (!g->repo && quick_head(g, oid))
		return 0;
	if ((rc = gs_ready(g, err)))
		return rc;
	rc = git_reference_name_to_id(&id, g->repo, MLCTL_GIT_BRANCH);
	if (rc == GIT_ENOTFOUND)
		return 0;
	if (rc < 0)
		return gs_git_fail(err, MLCTL_EIO, "cannot read the registry's history");
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

	gs_libgit2();
	if (git_reference_name_is_valid(&valid, refname) < 0)
		valid = 0;
	free(refname);
	return valid != 0;
}

int mlctl_git_identity(char **name, char **email)
{
	git_config *cfg = NULL;
	git_buf v = { 0 };

	*name = *email = NULL;
	gs_libgit2();
	if (git_config_open_default(&cfg) == 0) {
		if (git_config_get_string_buf(&v, cfg, "user.name") == 0 && v.ptr && *v.ptr)
			*name = mlctl_strdup(v.ptr);
		git_buf_dispose(&v);
		if (git_config_get_string_buf(&v, cfg, "user.email") == 0 && v.ptr && *v.ptr)
			*email = mlctl_strdup(v.ptr);
		git_buf_dispose(&v);
	}
	git_config_free(cfg);
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
		gs_track(g, out);
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

	if ((rc = gs_ready(g, err)))
		return rc;

	if (g->moved) {
		have_head = 1;
		git_oid_cpy(&head_id, &g->head);
	} else {
		have_head = git_reference_name_to_id(&head_id, g->repo, MLCTL_GIT_BRANCH) == 0;
	}
	if (have_head) {
		if (git_commit_lookup(&parent, g->repo, &head_id) < 0 ||
		    git_commit_tree(&tree, parent) < 0) {
			rc = gs_git_fail(err, MLCTL_EIO, "cannot read the registry's history");
			goto done;
		}
	}
	for (i = 0; i < n; i++) {
		const git_oid *b = NULL;

		if (changes[i].data) {
			if (git_blob_create_from_buffer(&blob_id, g->repo, changes[i].data,
							changes[i].len) < 0) {
				rc = gs_git_fail(err, MLCTL_EIO, "cannot write to the registry's history");
				goto done;
			}
			gs_track(g, &blob_id);
			b = &blob_id;
		}
		if (tree_update(g, tree, changes[i].path, b, &tree_id) < 0 ||
		    git_tree_lookup(&next, g->repo, &tree_id) < 0) {
			rc = gs_git_fail(err, MLCTL_EIO, "cannot write to the registry's history");
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
		rc = gs_git_fail(err, MLCTL_EINTERNAL, "cannot make a git signature");
		goto done;
	}
	/* the branch moves in mlctl_git_apply, once the objects are on disk */
	if (git_commit_create(&commit_id, g->repo, NULL, sig, sig, NULL, message, tree,
			      have_head ? 1 : 0, (const git_commit **)&parent) < 0) {
		rc = gs_git_fail(err, MLCTL_EIO, "cannot commit to the registry's history");
		goto done;
	}
	gs_track(g, &commit_id);
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

void gs_queue_ref(struct mlctl_git *g, char *refname, const git_oid *id)
{
	struct tag_key *key, **found;
	struct pending_tag *t;
	git_reference *ref = NULL;

	if (g->ntags == g->atags) {
		g->atags = g->atags ? 2 * g->atags : 16;
		g->tags = mlctl_realloc(g->tags, g->atags * sizeof(*g->tags));
	}
	t = &g->tags[g->ntags];
	memset(t, 0, sizeof(*t));
	t->ref = refname;
	if (id) {
		git_oid_cpy(&t->id, id);
	} else {
		t->del = 1;
		if (git_reference_lookup(&ref, g->repo, refname) == 0 &&
		    git_reference_type(ref) == GIT_REFERENCE_DIRECT) {
			t->had = 1;
			git_oid_cpy(&t->old, git_reference_target(ref));
		}
		git_reference_free(ref);
	}
	key = mlctl_malloc(sizeof(*key));
	*key = (struct tag_key){ refname, g->ntags };
	found = tsearch(key, &g->tag_names, tag_key_cmp);
	if (!found) {
		fputs("mlctl: out of memory\n", stderr);
		abort();
	}
	if (*found != key) { /* queued before: this is now its last change */
		(*found)->i = g->ntags;
		free(key);
	}
	g->ntags++;
}

struct pending_tag *gs_queued_ref(struct mlctl_git *g, const char *refname)
{
	struct tag_key probe = { refname, 0 }, **found = tfind(&probe, &g->tag_names, tag_key_cmp);

	return found ? &g->tags[(*found)->i] : NULL;
}

int mlctl_git_tag(struct mlctl_git *g, const char *name, const char *commit,
		  const char *message, const char *actor, int64_t when, struct mlctl_err *err)
{
	git_oid id, tag_id, *have = NULL;
	git_object *target = NULL;
	git_reference *ref = NULL;
	git_signature *sig = NULL;
	char *refname = mlctl_aprintf("refs/tags/%s", name);
	struct tag_key probe = { refname, 0 }, **found;
	int rc = 0, valid = 0, deleted = 0;

	if ((rc = gs_ready(g, err)))
		return rc;

	if (git_oid_fromstr(&id, commit) < 0 ||
	    git_object_lookup(&target, g->repo, &id, GIT_OBJECT_COMMIT) < 0) {
		rc = gs_git_fail(err, MLCTL_EIO, "cannot find the commit to tag");
		goto done;
	}
	if ((found = tfind(&probe, &g->tag_names, tag_key_cmp))) {
		if (g->tags[(*found)->i].del)
			deleted = 1; /* removed by this change: free to make again */
		else
			have = &g->tags[(*found)->i].id;
	}
	/* look the ref up by its exact name: revparse would read "@", "-g" and such as syntax */
	if (!have && !deleted && g->remake && git_reference_lookup(&ref, g->repo, refname) == 0) {
		int same;

		if (make_sig(&sig, actor, when) < 0 ||
		    git_tag_annotation_create(&tag_id, g->repo, name, target, sig, message) < 0) {
			rc = gs_git_fail(err, MLCTL_EIO, "cannot tag the registry's history");
			goto done;
		}
		same = git_reference_type(ref) == GIT_REFERENCE_DIRECT &&
		       git_oid_equal(git_reference_target(ref), &tag_id);
		if (!same) { /* replaced: removed, then made again, both undone on a failure */
			gs_track(g, &tag_id);
			gs_queue_ref(g, mlctl_strdup(refname), NULL);
			gs_queue_ref(g, refname, &tag_id);
			refname = NULL;
		}
		goto done;
	}
	if (have || (!deleted && git_reference_lookup(&ref, g->repo, refname) == 0)) {
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
		rc = gs_git_fail(err, MLCTL_EIO, "cannot tag the registry's history");
		goto done;
	}
	gs_track(g, &tag_id);
	gs_queue_ref(g, refname, &tag_id);
	refname = NULL;
done:
	git_reference_free(ref);
	git_object_free(target);
	git_signature_free(sig);
	free(refname);
	return rc;
}

void mlctl_git_remake_tags(struct mlctl_git *g, int on)
{
	g->remake = on;
}

static int lookup_tree(git_tree **tree, git_repository *repo, const char *commit,
		       struct mlctl_err *err)
{
	git_oid id;
	git_commit *c = NULL;
	int rc = 0;

	if (git_oid_fromstr(&id, commit) < 0 || git_commit_lookup(&c, repo, &id) < 0 ||
	    git_commit_tree(tree, c) < 0)
		rc = gs_git_fail(err, MLCTL_EIO, "cannot read the registry's history");
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

	if ((rc = gs_ready(g, err)))
		return rc;

	mlctl_buf_reset(out);
	if ((rc = lookup_tree(&tree, g->repo, commit, err)))
		return rc;
	if (git_tree_entry_bypath(&e, tree, path) < 0) {
		rc = mlctl_err_set(err, MLCTL_ENOTFOUND, "'%s' is not in the registry's history",
				   path);
		goto done;
	}
	if (git_blob_lookup(&blob, g->repo, git_tree_entry_id(e)) < 0) {
		rc = gs_git_fail(err, MLCTL_EIO, "cannot read the registry's history");
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

	if ((rc = gs_ready(g, err)))
		return rc;

	if (git_revwalk_new(&walk, g->repo) < 0)
		return gs_git_fail(err, MLCTL_EIO, "cannot read the registry's history");
	git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE);
	if (git_oid_fromstr(&id, until) < 0 || git_revwalk_push(walk, &id) < 0) {
		rc = gs_git_fail(err, MLCTL_EINTEGRITY, "cannot read the registry's history");
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
			rc = gs_git_fail(err, MLCTL_EINTEGRITY, "cannot read the registry's history");
			break;
		}
		git_oid_tostr(hex, sizeof(hex), &id);
		rc = cb(payload, hex, git_commit_message(c), err);
		git_commit_free(c);
	}
	/* a commit the walk cannot read ends it early: an error, not the end of history */
	if (!rc && next != GIT_ITEROVER)
		rc = gs_git_fail(err, MLCTL_EINTEGRITY,
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
		w->rc = gs_git_fail(w->err, MLCTL_EINTEGRITY, "cannot read the registry's history");
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
	struct files_walk w = { NULL, cb, payload, err, 0 };
	git_tree *tree = NULL;
	int rc;

	if ((rc = gs_ready(g, err)))
		return rc;
	w.repo = g->repo;
	if ((rc = lookup_tree(&tree, g->repo, commit, err)))
		return rc;
	if (git_tree_walk(tree, GIT_TREEWALK_PRE, files_visit, &w) < 0 && !w.rc)
		w.rc = gs_git_fail(err, MLCTL_EINTEGRITY, "cannot read the registry's history");
	git_tree_free(tree);
	return w.rc;
}

/* Lock files under dir (a refs/ folder), at any depth: counted, and removed with remove set. */
