/*
 * sync.c - what a sync with another repository needs: fetch and push by
 * URL (file paths, file://, ssh and https, as libgit2 speaks them), refs
 * read and queued, ancestry, and a commit's changes and signature, so that
 * local commits can be made again on top of what arrived.
 */
#include "gitstore/internal.h"

#include <stdlib.h>
#include <string.h>

#include "banned.h"

/* ssh: the agent's keys; https: nothing (a public repository, or a credential helper's job). */
static int credentials(git_credential **out, const char *url, const char *user,
		       unsigned int allowed, void *payload)
{
	(void)url;
	(void)payload;
	if (allowed & GIT_CREDENTIAL_SSH_KEY)
		return git_credential_ssh_key_from_agent(out, user ? user : "git");
	return GIT_PASSTHROUGH;
}

/*
 * A remote by URL, without git's url.*.insteadOf rewrites: libgit2 1.5 reads
 * them with a regular expression whose match data it never frees.
 */
static int anonymous(git_remote **out, struct mlctl_git *g, const char *url,
		     struct mlctl_err *err)
{
	git_remote_create_options o;

	git_remote_create_options_init(&o, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	o.repository = g->repo;
	o.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	if (git_remote_create_with_opts(out, url, &o) < 0)
		return gs_git_fail(err, MLCTL_EUSAGE, "cannot use the git remote");
	return 0;
}

int mlctl_git_fetch(struct mlctl_git *g, const char *url, const char *const *refspecs,
		    size_t n, struct mlctl_err *err)
{
	git_fetch_options o;
	git_strarray specs = { (char **)refspecs, n };
	git_remote *remote = NULL;
	int rc;

	if ((rc = anonymous(&remote, g, url, err)))
		return rc;
	git_fetch_options_init(&o, GIT_FETCH_OPTIONS_VERSION);
	o.callbacks.credentials = credentials;
	o.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	o.prune = GIT_FETCH_PRUNE;
	if (git_remote_fetch(remote, &specs, &o, NULL) < 0)
		rc = gs_git_fail(err, MLCTL_ENET, "cannot fetch from the git remote");
	git_remote_free(remote);
	return rc;
}

struct push_state {
	mlctl_git_rejected_cb cb;
	void *payload;
	int rejected;
};

static int on_push_update(const char *ref, const char *status, void *data)
{
	struct push_state *ps = data;

	if (status) {
		ps->rejected++;
		if (ps->cb)
			ps->cb(ps->payload, ref, status);
	}
	return 0;
}

int mlctl_git_push(struct mlctl_git *g, const char *url, const char *const *refspecs, size_t n,
		   mlctl_git_rejected_cb cb, void *payload, size_t *rejected,
		   struct mlctl_err *err)
{
	git_push_options o;
	git_strarray specs = { (char **)refspecs, n };
	git_remote *remote = NULL;
	struct push_state ps = { cb, payload, 0 };
	int rc;

	*rejected = 0;
	if (n == 0)
		return 0;
	if ((rc = anonymous(&remote, g, url, err)))
		return rc;
	git_push_options_init(&o, GIT_PUSH_OPTIONS_VERSION);
	o.callbacks.credentials = credentials;
	o.callbacks.push_update_reference = on_push_update;
	o.callbacks.payload = &ps;
	if (git_remote_push(remote, &specs, &o) < 0)
		rc = gs_git_fail(err, MLCTL_ENET, "cannot push to the git remote");
	*rejected = (size_t)ps.rejected;
	git_remote_free(remote);
	return rc;
}

int mlctl_git_ref(struct mlctl_git *g, char oid[41], const char *refname, struct mlctl_err *err)
{
	git_oid id;
	int rc = git_reference_name_to_id(&id, g->repo, refname);

	oid[0] = '\0';
	if (rc == GIT_ENOTFOUND)
		return mlctl_err_set(err, MLCTL_ENOTFOUND, "no ref %s", refname);
	if (rc < 0)
		return gs_git_fail(err, MLCTL_EIO, "cannot read the registry's history");
	git_oid_tostr(oid, 41, &id);
	return 0;
}

int mlctl_git_refs(struct mlctl_git *g, const char *prefix, mlctl_git_ref_cb cb, void *payload,
		   struct mlctl_err *err)
{
	git_reference_iterator *it = NULL;
	git_reference *ref;
	size_t plen = strlen(prefix);
	int rc = 0, next;

	if (git_reference_iterator_new(&it, g->repo) < 0)
		return gs_git_fail(err, MLCTL_EIO, "cannot read the registry's refs");
	while (!rc && (next = git_reference_next(&ref, it)) == 0) {
		const char *name = git_reference_name(ref);
		git_object *peeled = NULL;
		char target[41] = "", commit[41] = "";

		if (!strncmp(name, prefix, plen) && git_reference_type(ref) == GIT_REFERENCE_DIRECT) {
			git_oid_tostr(target, sizeof(target), git_reference_target(ref));
			if (git_reference_peel(&peeled, ref, GIT_OBJECT_COMMIT) == 0)
				git_oid_tostr(commit, sizeof(commit), git_object_id(peeled));
			git_object_free(peeled);
			rc = cb(payload, name, target, commit, err);
		}
		git_reference_free(ref);
	}
	git_reference_iterator_free(it);
	return rc;
}

int mlctl_git_merge_base(struct mlctl_git *g, char out[41], const char *a, const char *b,
			 struct mlctl_err *err)
{
	git_oid x, y, base;
	int rc;

	out[0] = '\0';
	if (git_oid_fromstr(&x, a) < 0 || git_oid_fromstr(&y, b) < 0)
		return mlctl_err_set(err, MLCTL_EINTERNAL, "not a commit id");
	rc = git_merge_base(&base, g->repo, &x, &y);
	if (rc == GIT_ENOTFOUND)
		return 0;
	if (rc < 0)
		return gs_git_fail(err, MLCTL_EIO, "cannot read the registry's history");
	git_oid_tostr(out, 41, &base);
	return 0;
}

int mlctl_git_contains(struct mlctl_git *g, const char *tip, const char *commit)
{
	git_oid t, c;

	if (git_oid_fromstr(&t, tip) < 0 || git_oid_fromstr(&c, commit) < 0)
		return 0;
	return git_oid_equal(&t, &c) || git_graph_descendant_of(g->repo, &t, &c) == 1;
}

int mlctl_git_set_head(struct mlctl_git *g, const char *commit, struct mlctl_err *err)
{
	git_oid id, cur;
	int have;

	if (git_oid_fromstr(&id, commit) < 0)
		return mlctl_err_set(err, MLCTL_EINTERNAL, "not a commit id");
	if (!g->moved) {
		have = git_reference_name_to_id(&cur, g->repo, MLCTL_GIT_BRANCH) == 0;
		g->had_head = have;
		if (have)
			git_oid_cpy(&g->old_head, &cur);
	}
	g->moved = 1;
	git_oid_cpy(&g->head, &id);
	return 0;
}

int mlctl_git_queue_ref(struct mlctl_git *g, const char *refname, const char *target,
			struct mlctl_err *err)
{
	git_oid id;

	if (target && git_oid_fromstr(&id, target) < 0)
		return mlctl_err_set(err, MLCTL_EINTERNAL, "not an object id");
	gs_queue_ref(g, mlctl_strdup(refname), target ? &id : NULL);
	return 0;
}

int mlctl_git_commit_info(struct mlctl_git *g, const char *commit, char **message, char **actor,
			  int64_t *when, struct mlctl_err *err)
{
	git_commit *c = NULL;
	git_oid id;
	const git_signature *a;

	*message = *actor = NULL;
	if (git_oid_fromstr(&id, commit) < 0 || git_commit_lookup(&c, g->repo, &id) < 0)
		return gs_git_fail(err, MLCTL_EINTEGRITY, "cannot read the registry's history");
	a = git_commit_author(c);
	*message = mlctl_strdup(git_commit_message(c));
	*actor = *a->email ? mlctl_aprintf("%s <%s>", a->name, a->email)
			   : mlctl_strdup(a->name);
	*when = (int64_t)a->when.time;
	git_commit_free(c);
	return 0;
}

struct diff_state {
	git_repository *repo;
	mlctl_git_file_cb cb;
	void *payload;
	struct mlctl_err *err;
	int rc;
};

static int on_delta(const git_diff_delta *d, float progress, void *payload)
{
	struct diff_state *s = payload;
	git_blob *blob = NULL;

	(void)progress;
	if (d->status == GIT_DELTA_DELETED) {
		s->rc = s->cb(s->payload, d->old_file.path, NULL, 0, s->err);
	} else if (git_blob_lookup(&blob, s->repo, &d->new_file.id) < 0) {
		s->rc = gs_git_fail(s->err, MLCTL_EINTEGRITY, "cannot read the registry's history");
	} else {
		s->rc = s->cb(s->payload, d->new_file.path, git_blob_rawcontent(blob),
			      (size_t)git_blob_rawsize(blob), s->err);
	}
	git_blob_free(blob);
	return s->rc ? -1 : 0;
}

int mlctl_git_changes(struct mlctl_git *g, const char *commit, mlctl_git_file_cb cb,
		      void *payload, struct mlctl_err *err)
{
	struct diff_state s = { g->repo, cb, payload, err, 0 };
	git_commit *c = NULL, *parent = NULL;
	git_tree *new_tree = NULL, *old_tree = NULL;
	git_diff *diff = NULL;
	git_oid id;
	int rc = 0;

	if (git_oid_fromstr(&id, commit) < 0 || git_commit_lookup(&c, g->repo, &id) < 0 ||
	    git_commit_tree(&new_tree, c) < 0 ||
	    (git_commit_parentcount(c) > 0 &&
	     (git_commit_parent(&parent, c, 0) < 0 || git_commit_tree(&old_tree, parent) < 0)) ||
	    git_diff_tree_to_tree(&diff, g->repo, old_tree, new_tree, NULL) < 0) {
		rc = gs_git_fail(err, MLCTL_EINTEGRITY, "cannot read the registry's history");
		goto out;
	}
	if (git_diff_foreach(diff, on_delta, NULL, NULL, NULL, &s) < 0)
		rc = s.rc ? s.rc : gs_git_fail(err, MLCTL_EINTEGRITY,
					       "cannot read the registry's history");
out:
	git_diff_free(diff);
	git_tree_free(old_tree);
	git_tree_free(new_tree);
	git_commit_free(parent);
	git_commit_free(c);
	return rc;
}
