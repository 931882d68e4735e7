/*
 * sync.c - registry sync REMOTE: share the history through a git remote.
 *
 * Fetch the remote's branch and tags (into refs/mlctl/sync/REMOTE/); when
 * both sides have new events, make the local ones again on top of the
 * remote's, oldest first (events only add files, but aliases.json, which
 * each alias move rewrites, is worked out afresh from the remote's, and
 * the move renumbered after the remote's moves of that alias); a version
 * pushed on both sides must have one digest (else MLCTL_ECONFLICT naming
 * both, nothing changed); a local push the remote has already is dropped.
 * Tags follow the events: the remote's are taken as they are (a tag that
 * was pushed never moves), the local ones that are not on the remote are
 * made again by the replay of the new history, which also rebuilds the
 * database. All of that is one write; then the branch and the tags the
 * remote lacks are pushed. A push the remote refuses because it moved on
 * meanwhile starts the sync again; a push cut short (the branch went, a
 * tag did not) is finished by the next sync.
 */
#define _GNU_SOURCE
#include "registry/internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "blobstore.h"
#include "oci.h"
#include "banned.h"

#define SYNC_TRIES 3

/* Counted events (GTO's tag counter) seen per model, to go on from. */
struct counter {
	char *model;
	int64_t n;
};

/* A file of a version that arrived, whose bytes are not here yet. */
struct wanted {
	char *model;
	char sha[65];
	uint64_t size;
};

struct rebase {
	struct mlctl_registry *r;
	struct mlctl_sync_result *res;
	struct wanted *w;
	size_t nw;
	struct counter *c;
	size_t nc;
	const char *remote;
	struct mlctl_oci *oci; /* send_bytes: the remote's OCI registry */
	/* the files of the commit being made again */
	struct mlctl_git_change *ch;
	size_t nch;
	/* --theirs: versions pushed on both sides whose local content is given up */
	const char *const *theirs; /* NAME:VERSION */
	size_t ntheirs;
	char (*gave)[72];          /* the local digest given up, once it was */
};

/* Which --theirs names model:version, or -1. */
static long theirs_index(const struct rebase *rb, const char *model, const char *version)
{
	size_t i, n = strlen(model);

	for (i = 0; model && version && i < rb->ntheirs; i++)
		if (!strncmp(rb->theirs[i], model, n) && rb->theirs[i][n] == ':' &&
		    !strcmp(rb->theirs[i] + n + 1, version))
			return (long)i;
	return -1;
}

static int64_t *counter_of(struct rebase *rb, const char *model)
{
	size_t i;

	for (i = 0; i < rb->nc; i++)
		if (!strcmp(rb->c[i].model, model))
			return &rb->c[i].n;
	rb->c = mlctl_realloc(rb->c, (rb->nc + 1) * sizeof(*rb->c));
	rb->c[rb->nc] = (struct counter){ mlctl_strdup(model), 0 };
	return &rb->c[rb->nc++].n;
}

static void rebase_release(struct rebase *rb)
{
	size_t i;

	for (i = 0; i < rb->nc; i++)
		free(rb->c[i].model);
	free(rb->c);
	for (i = 0; i < rb->nch; i++) {
		free((char *)rb->ch[i].path);
		free((char *)rb->ch[i].data);
	}
	free(rb->ch);
	free(rb->gave);
	for (i = 0; i < rb->nw; i++)
		free(rb->w[i].model);
	free(rb->w);
	rb->w = NULL;
	rb->nw = 0;
	rb->c = NULL;
	rb->ch = NULL;
	rb->nc = rb->nch = 0;
}

/* The remote's history: how far each model's tag counter went. */
static int count_moves(void *payload, const char *commit, const char *message,
		       struct mlctl_err *err)
{
	struct rebase *rb = payload;
	struct event ev;
	cJSON *json = NULL;
	int64_t *n;

	(void)commit;
	(void)err;
	if (!reg_event_parse(&ev, &json, message) && ev.model && reg_event_counted(&ev)) {
		n = counter_of(rb, ev.model);
		*n += 1;
	}
	cJSON_Delete(json);
	return 0;
}

static int keep_change(void *payload, const char *path, const char *data, size_t len,
		       struct mlctl_err *err)
{
	struct rebase *rb = payload;
	char *copy = NULL;

	(void)err;
	if (data) {
		copy = mlctl_malloc(len + 1);
		memcpy(copy, data, len);
		copy[len] = '\0';
	}
	rb->ch = mlctl_realloc(rb->ch, (rb->nch + 1) * sizeof(*rb->ch));
	rb->ch[rb->nch++] = (struct mlctl_git_change){ mlctl_strdup(path), copy, len };
	return 0;
}

/* The digest of the version at path in the history being built; "" when it is not there. */
static int digest_there(struct mlctl_registry *r, char out[72], const char *head,
			const char *path, struct mlctl_err *err)
{
	struct mlctl_buf text = MLCTL_BUF_INIT;
	struct mlctl_manifest m;
	int rc;

	*out = '\0';
	if (!*head)
		return 0;
	rc = mlctl_git_read(r->git, &text, head, path, err);
	if (rc == MLCTL_ENOTFOUND) {
		mlctl_err_clear(err);
		return 0;
	}
	if (!rc && !(rc = mlctl_manifest_parse(&m, text.buf, text.len, path,
					       MLCTL_MANIFEST_STORED, NULL, err))) {
		mlctl_manifest_digest(&m, out);
		mlctl_manifest_release(&m);
	}
	mlctl_buf_release(&text);
	return rc;
}

/* models/NAME/aliases.json at head with ev's move made; the caller frees it. */
static int moved_aliases(struct mlctl_registry *r, char **out, const char *head,
			 const struct event *ev, int *absent, struct mlctl_err *err)
{
	struct mlctl_buf text = MLCTL_BUF_INIT;
	char *path = mlctl_aprintf("models/%s/aliases.json", ev->model), *canon;
	cJSON *doc = NULL, *o;
	int rc = mlctl_git_read(r->git, &text, head, path, err);

	*out = NULL;
	if (rc == MLCTL_ENOTFOUND) {
		mlctl_err_clear(err);
		rc = 0;
	}
	if (!rc) {
		doc = text.len ? cJSON_ParseWithLength(text.buf, text.len) : cJSON_CreateObject();
		if (!cJSON_IsObject(doc))
			rc = mlctl_err_set(err, MLCTL_EINTEGRITY, "%s is not a JSON object", path);
	}
	if (!rc) {
		*absent = !cJSON_GetObjectItemCaseSensitive(doc, ev->alias);
		cJSON_DeleteItemFromObjectCaseSensitive(doc, ev->alias);
		if (!strcmp(ev->type, "alias")) {
			o = cJSON_AddObjectToObject(doc, ev->alias);
			cJSON_AddStringToObject(o, "version", ev->version);
			cJSON_AddStringToObject(o, "digest", ev->digest);
		}
		canon = mlctl_json_canonical(doc);
		*out = mlctl_aprintf("%s\n", canon);
		free(canon);
	}
	cJSON_Delete(doc);
	mlctl_buf_release(&text);
	free(path);
	return rc;
}

/* The message of an event renumbered n: its first line, then the event. */
static char *renumbered(const char *message, cJSON *json, int64_t n)
{
	const char *nl = strchr(message, '\n');
	char *ev, *out;

	cJSON_DeleteItemFromObjectCaseSensitive(json, "n");
	cJSON_AddNumberToObject(json, "n", (double)n);
	ev = mlctl_json_canonical(json);
	out = mlctl_aprintf("%.*s\n\n%s\n", (int)(nl ? nl - message : (long)strlen(message)),
			    message, ev);
	free(ev);
	return out;
}

/* One local event made again on top of the history being built (the pending head). */
static int replant(void *payload, const char *commit, const char *message,
		   struct mlctl_err *err)
{
	struct rebase *rb = payload;
	struct mlctl_registry *r = rb->r;
	char head[41], have[72], made[41], *msg = NULL, *actor = NULL, *path = NULL;
	char *file = NULL;
	struct event ev;
	cJSON *json = NULL;
	int64_t when;
	long k;
	int rc, absent = 0;

	if ((rc = mlctl_git_head(r->git, head, err)) ||
	    (rc = mlctl_git_commit_info(r->git, commit, &msg, &actor, &when, err)))
		goto out;
	if (reg_event_parse(&ev, &json, message) || !ev.type) {
		rc = mlctl_err_set(err, MLCTL_EINTEGRITY, "commit %.12s of the registry's history "
				   "holds no event; run 'mlctl registry verify'", commit);
		goto out;
	}
	k = ev.model && ev.version ? theirs_index(rb, ev.model, ev.version) : -1;
	if (k >= 0 && *rb->gave[k] && ev.digest && !strcmp(ev.digest, rb->gave[k])) {
		rb->res->given_up++; /* names the local content given up (an alias move, a record) */
		goto out;
	}
	if (!strcmp(ev.type, "push") && ev.model && ev.version && ev.digest) {
		path = reg_version_path(ev.model, ev.version);
		if ((rc = digest_there(r, have, head, path, err)))
			goto out;
		if (*have && strcmp(have, ev.digest) && k >= 0) {
			/* --theirs: the remote's stays, ours goes, with what names it after */
			snprintf(rb->gave[k], sizeof(rb->gave[k]), "%s", ev.digest);
			rb->res->given_up++;
			goto out;
		}
		if (*have && strcmp(have, ev.digest)) {
			rc = mlctl_err_set(err, MLCTL_ECONFLICT,
					   "%s:%s is %s on the remote '%s' but %s here: it was pushed "
					   "on both sides with other content; nothing was synced. Keep "
					   "the remote's with 'mlctl registry sync %s --theirs %s:%s' "
					   "(this registry's %s:%s and what names it here are dropped: "
					   "push its files again as another version), or have it pushed "
					   "there under another version",
					   ev.model, ev.version, have, rb->remote, ev.digest, rb->remote,
					   ev.model, ev.version, ev.model, ev.version);
			goto out;
		}
		if (*have) { /* the remote has this very version */
			rb->res->dropped++;
			goto out;
		}
	}
	if ((!strcmp(ev.type, "alias") || !strcmp(ev.type, "unalias")) && ev.model && ev.alias) {
		int64_t *n = counter_of(rb, ev.model);
		struct mlctl_git_change ch;

		if ((rc = moved_aliases(r, &file, head, &ev, &absent, err)))
			goto out;
		if (!strcmp(ev.type, "unalias") && absent) {
			rb->res->dropped++; /* removed on the remote too */
			goto out;
		}
		*n += 1;
		if (*n != ev.n)
			rb->res->renumbered++;
		free(msg);
		msg = renumbered(message, json, *n);
		free(path);
		path = mlctl_aprintf("models/%s/aliases.json", ev.model);
		ch = (struct mlctl_git_change){ path, file, strlen(file) };
		rc = mlctl_git_commit(r->git, made, &ch, 1, msg, actor, when, err);
	} else {
		if (ev.model && reg_event_counted(&ev)) { /* a deprecation takes a counter too */
			int64_t *n = counter_of(rb, ev.model);

			*n += 1;
			if (*n != ev.n)
				rb->res->renumbered++;
			free(msg);
			msg = renumbered(message, json, *n);
		}
		rb->nch = 0;
		if (!(rc = mlctl_git_changes(r->git, commit, keep_change, rb, err)))
			rc = mlctl_git_commit(r->git, made, rb->ch, rb->nch, msg, actor, when, err);
		while (rb->nch > 0) {
			rb->nch--;
			free((char *)rb->ch[rb->nch].path);
			free((char *)rb->ch[rb->nch].data);
		}
	}
	if (!rc)
		rb->res->rebased++;
out:
	cJSON_Delete(json);
	free(msg);
	free(actor);
	free(path);
	free(file);
	return rc;
}

struct tags {
	char **name, **target, **commit;
	size_t n;
	unsigned char *stale; /* the remote's: an event tag this history does not make (settle_tags) */
};

static int collect_tag(void *payload, const char *refname, const char *target,
		       const char *commit, struct mlctl_err *err)
{
	struct tags *t = payload;
	const char *slash = strstr(refname, "/tags/");

	(void)err;
	t->name = mlctl_realloc(t->name, (t->n + 1) * sizeof(*t->name));
	t->target = mlctl_realloc(t->target, (t->n + 1) * sizeof(*t->target));
	t->commit = mlctl_realloc(t->commit, (t->n + 1) * sizeof(*t->commit));
	t->name[t->n] = mlctl_strdup(slash ? slash + 6 : refname);
	t->commit[t->n] = mlctl_strdup(commit);
	t->target[t->n++] = mlctl_strdup(target);
	return 0;
}

static void tags_release(struct tags *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		free(t->name[i]);
		free(t->target[i]);
		free(t->commit[i]);
	}
	free(t->name);
	free(t->target);
	free(t->commit);
	free(t->stale);
	memset(t, 0, sizeof(*t));
}

static ssize_t tag_index(const struct tags *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (!strcmp(t->name[i], name))
			return (ssize_t)i;
	return -1;
}

static const char *tag_target(const struct tags *t, const char *name)
{
	ssize_t i = tag_index(t, name);

	return i < 0 ? NULL : t->target[i];
}

/*
 * The tags after the sync: the remote's as they are; with rebased set, the
 * local event tags the remote lacks removed (the replay makes them again
 * for the new commits).
 *
 * With behind set (the remote has no event this registry lacks), this
 * history's event tags are all there are: a remote event tag that is not
 * one of them, or names another target, is stale (written by an mlctl
 * before GTO's per-model counters, or by hand). It is not taken; publish
 * replaces or deletes it on the remote.
 */
static int settle_tags(struct mlctl_registry *r, const struct tags *mine,
		       struct tags *theirs, int rebased, int behind, struct mlctl_err *err)
{
	size_t i;
	int rc = 0;

	theirs->stale = mlctl_calloc(theirs->n + 1, 1);
	for (i = 0; behind && i < theirs->n; i++) {
		const char *t = tag_target(mine, theirs->name[i]);
		char *model;
		int64_t id;

		if (!mlctl_is_event_tag(theirs->name[i]) || (t && !strcmp(t, theirs->target[i])))
			continue;
		/* only in the tag space of a model of this registry: other tags are not ours */
		model = mlctl_strndup(theirs->name[i], strcspn(theirs->name[i], "#@"));
		rc = reg_model_id(r, &id, model, 0, 0, err);
		free(model);
		if (rc == MLCTL_ENOTFOUND) {
			mlctl_err_clear(err);
			rc = 0;
			continue;
		}
		if (rc)
			return rc;
		theirs->stale[i] = 1;
	}

	for (i = 0; !rc && rebased && i < mine->n; i++) {
		const char *t = tag_target(theirs, mine->name[i]);

		if (mlctl_is_event_tag(mine->name[i]) && (!t || strcmp(t, mine->target[i]))) {
			char *ref = mlctl_aprintf("refs/tags/%s", mine->name[i]);

			rc = mlctl_git_queue_ref(r->git, ref, NULL, err);
			free(ref);
		}
	}
	for (i = 0; !rc && i < theirs->n; i++) {
		ssize_t k = tag_index(mine, theirs->name[i]);
		char *ref;

		if (theirs->stale[i] || (k >= 0 && !strcmp(mine->target[k], theirs->target[i])))
			continue;
		ref = mlctl_aprintf("refs/tags/%s", theirs->name[i]);
		if (k >= 0 && !(rebased && mlctl_is_event_tag(theirs->name[i]))) {
			/* the same commit, another tag object (made elsewhere): theirs stays */
			if (strcmp(mine->commit[k], theirs->commit[i]))
				rc = mlctl_err_set(err, MLCTL_ECONFLICT,
						   "tag '%s' names another commit here than on the "
						   "remote; nothing was synced (remove one of them with "
						   "git)", theirs->name[i]);
			else
				rc = mlctl_git_queue_ref(r->git, ref, NULL, err);
		}
		if (!rc)
			rc = mlctl_git_queue_ref(r->git, ref, theirs->target[i], err);
		free(ref);
	}
	return rc;
}

/*
 * The version a commit's push event stores, its manifest into m (the
 * caller's to release): 1, or 0 when the commit holds another event.
 */
static int pushed_version(struct mlctl_registry *r, struct mlctl_manifest *m, const char *commit,
			  const char *message, struct mlctl_err *err)
{
	struct mlctl_buf text = MLCTL_BUF_INIT;
	struct event ev;
	cJSON *json = NULL;
	char *path = NULL;
	int rc = 0;

	if (reg_event_parse(&ev, &json, message) || strcmp(ev.type, "push") || !ev.model ||
	    !ev.version)
		goto out;
	path = reg_version_path(ev.model, ev.version);
	if (!(rc = mlctl_git_read(r->git, &text, commit, path, err)) &&
	    !(rc = mlctl_manifest_parse(m, text.buf, text.len, path, MLCTL_MANIFEST_STORED, NULL,
					err)))
		rc = 1;
out:
	cJSON_Delete(json);
	mlctl_buf_release(&text);
	free(path);
	return rc;
}

/* An event that arrived: counted; a push's files that are not here, wanted. */
static int arrived(void *payload, const char *commit, const char *message,
		   struct mlctl_err *err)
{
	struct rebase *rb = payload;
	struct mlctl_manifest m;
	size_t i, j;
	int rc;

	rb->res->fetched++;
	if ((rc = pushed_version(rb->r, &m, commit, message, err)) <= 0)
		return rc;
	for (i = 0; i < m.nfiles; i++) {
		const struct mlctl_file_entry *f = &m.files[i];

		if (mlctl_blob_trusted(rb->r->root, f->sha256, f->size))
			continue;
		for (j = 0; j < rb->nw && strcmp(rb->w[j].sha, f->sha256); j++)
			;
		if (j < rb->nw)
			continue;
		rb->w = mlctl_realloc(rb->w, (rb->nw + 1) * sizeof(*rb->w));
		rb->w[rb->nw].model = mlctl_strdup(m.name);
		memcpy(rb->w[rb->nw].sha, f->sha256, 65);
		rb->w[rb->nw++].size = f->size;
	}
	mlctl_manifest_release(&m);
	return 0;
}

static int put_blob(void *ctx, const void *data, size_t len)
{
	struct mlctl_blob_writer *w = ctx;
	struct mlctl_err err = MLCTL_ERR_INIT;

	while (len > 0) {
		size_t cap, n;
		void *buf = mlctl_blob_writer_buf(w, &cap);

		n = len < cap ? len : cap;
		memcpy(buf, data, n);
		if (mlctl_blob_writer_push(w, n, &err))
			return -1;
		data = (const char *)data + n;
		len -= n;
	}
	return 0;
}

/*
 * The bytes of the versions that arrived, from the remote's OCI registry
 * into the blob store, before any history names them here.
 */
static int fetch_bytes(struct mlctl_registry *r, struct rebase *rb, const struct mlctl_remote *rm,
		       const struct mlctl_oci_opts *o, struct mlctl_err *err)
{
	struct mlctl_oci_opts oo = *o;
	struct mlctl_oci_loc loc;
	struct mlctl_oci *c = NULL;
	size_t i;
	int rc;

	if (!rb->nw)
		return 0;
	if (!rm->oci)
		return mlctl_err_set(err, MLCTL_EUSAGE,
				     "the history of remote '%s' names %zu file%s that are not here, "
				     "and it has no OCI location to fetch them from; add one: 'mlctl "
				     "remote rm %s' and 'mlctl remote add %s --oci HOST/NAMESPACE "
				     "--git %s'", rm->name, rb->nw, rb->nw == 1 ? "" : "s", rm->name,
				     rm->name, rm->git);
	oo.insecure |= rm->insecure;
	if ((rc = mlctl_oci_loc_parse(&loc, rm->oci, err)) ||
	    (rc = mlctl_oci_open(&c, &loc, &oo, err)) || (rc = reg_claim_tmp(r, err)))
		goto out;
	{
		uint64_t total = 0;

		for (i = 0; i < rb->nw; i++)
			total += rb->w[i].size;
		mlctl_oci_progress_begin(c, total);
	}
	for (i = 0; !rc && i < rb->nw; i++) {
		struct mlctl_blob_writer *w = NULL;
		char *staged = NULL;
		int made = 0;

		if ((rc = mlctl_blob_writer_open(&w, r->root, 1, err)))
			break;
		rc = mlctl_oci_blob_fetch(c, rb->w[i].model, rb->w[i].sha, rb->w[i].size, put_blob,
					  w, err);
		if (rc == MLCTL_ENOTFOUND)
			rc = mlctl_err_set(err, MLCTL_ENOTFOUND,
					   "the history of remote '%s' names a version of %s whose file "
					   "sha256:%.12s is not in the OCI location %s (this registry's "
					   "--oci for '%s'): the team that pushed it may send its bytes "
					   "elsewhere; compare 'mlctl remote list' on both sides, or have "
					   "it pushed there", rm->name, rb->w[i].model, rb->w[i].sha,
					   rm->oci, rm->name);
		if (rc) {
			mlctl_blob_writer_abort(w);
			break;
		}
		if (!(rc = mlctl_blob_writer_commit(w, NULL, rb->w[i].sha, NULL, &staged, err)))
			rc = reg_install_blob(r, staged, rb->w[i].sha, &made, err);
		mlctl_blob_discard(staged);
		free(staged);
		if (!rc) {
			rb->res->blobs_fetched++;
			rb->res->bytes_fetched += rb->w[i].size;
		}
	}
out:
	mlctl_oci_free(c);
	return rc;
}

/* Fetch, and build the new history and tags, all queued; the database follows. */
static int merge(struct mlctl_registry *r, struct mlctl_sync_result *res,
		 const struct mlctl_remote *rm, const struct mlctl_oci_opts *o,
		 const char *const *give_up, size_t ngive_up, char remote_head[41],
		 struct tags *theirs, struct mlctl_err *err)
{
	const char *name = rm->name, *url = rm->git;
	char *head_ref = mlctl_aprintf("refs/mlctl/sync/%s/heads/main", name);
	char *tags_ref = mlctl_aprintf("refs/mlctl/sync/%s/tags/", name);
	char *spec_head = mlctl_aprintf("+%s:%s", MLCTL_GIT_BRANCH, head_ref);
	char *spec_tags = mlctl_aprintf("+refs/tags/*:%s*", tags_ref);
	const char *specs[2] = { spec_head, spec_tags };
	struct rebase rb = { r, res, NULL, 0, NULL, 0, name, NULL, NULL, 0, give_up, ngive_up,
			     NULL };
	struct tags mine = { NULL, NULL, NULL, 0, NULL };
	char local[41], base[41];
	size_t i;
	int rc, rebased = 0, behind;

	*remote_head = '\0';
	rb.gave = mlctl_calloc(ngive_up + 1, sizeof(*rb.gave));
	{
		/* a path (or file://) that holds no repository: said plainly */
		const char *path = !strncmp(url, "file://", 7) ? url + 7 : url;
		char *head = mlctl_path_join(path, "HEAD"), *dot = mlctl_path_join(path, ".git");
		struct stat st;

		rc = 0;
		if (*path == '/' && stat(head, &st) != 0 && !mlctl_is_dir(dot))
			rc = mlctl_err_set(err, MLCTL_ENET, "no git repository at %s (remote '%s'); "
					   "make one with 'git init --bare -b main %s', or give the "
					   "remote another URL ('mlctl remote rm %s', then 'mlctl "
					   "remote add')", path, name, path, name);
		free(head);
		free(dot);
		if (rc)
			goto out;
	}
	if ((rc = mlctl_git_fetch(r->git, url, specs, 2, err))) {
		char why[700];

		snprintf(why, sizeof(why), "%.600s", err->msg);
		/* credentials and host keys say what to do themselves; the rest is the URL's */
		if (strstr(why, "credential") || strstr(why, "host key") || strstr(why, "ssh-agent") ||
		    strstr(why, "known_hosts"))
			rc = mlctl_err_set(err, rc, "%s (remote '%s')", why, name);
		else
			rc = mlctl_err_set(err, rc, "%s (remote '%s', %s); check its URL with 'mlctl "
					   "remote list', and that it is a git repository this machine "
					   "can reach", why, name, url);
		goto out;
	}
	if ((rc = mlctl_git_head(r->git, local, err)))
		goto out;
	if ((rc = mlctl_git_ref(r->git, remote_head, head_ref, err)) == MLCTL_ENOTFOUND) {
		mlctl_err_clear(err); /* an empty remote */
		rc = 0;
	}
	if (rc || (rc = mlctl_git_refs(r->git, tags_ref, collect_tag, theirs, err)) ||
	    (rc = mlctl_git_refs(r->git, "refs/tags/", collect_tag, &mine, err)))
		goto out;
	behind = !*remote_head || !strcmp(remote_head, local);
	if (*remote_head && strcmp(remote_head, local)) {
		if (*local && (rc = mlctl_git_merge_base(r->git, base, local, remote_head, err)))
			goto out;
		behind = *local && !strcmp(base, remote_head);
		if (!*local || !strcmp(base, local)) {
			rc = mlctl_git_set_head(r->git, remote_head, err); /* only theirs are new */
		} else if (strcmp(base, remote_head)) {
			/* both are: ours go again on top of theirs */
			rebased = 1;
			if (!(rc = mlctl_git_log(r->git, "", remote_head, count_moves, &rb, err)) &&
			    !(rc = mlctl_git_set_head(r->git, remote_head, err)))
				rc = mlctl_git_log(r->git, remote_head, local, replant, &rb, err);
		}
	}
	/* a --theirs that gave nothing up was a mistake: nothing is synced */
	for (i = 0; !rc && i < ngive_up; i++)
		if (!*rb.gave[i])
			rc = mlctl_err_set(err, MLCTL_EUSAGE, "--theirs %s: this registry has no %s "
					   "that the remote '%s' has with other content; nothing was "
					   "synced (--theirs is for a version pushed on both sides)",
					   give_up[i], give_up[i], name);
	if (!rc && *remote_head && strcmp(remote_head, local)) {
		/* the bytes of what arrived first: no history here names missing bytes */
		rc = mlctl_git_log(r->git, *local ? local : "", remote_head, arrived, &rb, err);
		if (!rc)
			rc = fetch_bytes(r, &rb, rm, o, err);
	}
	if (!rc)
		rc = settle_tags(r, &mine, theirs, rebased, behind, err);
	/* the database follows git: replayed afresh when the history was rewritten */
	if (!rc && rebased)
		rc = reg_db_reset(r, err);
	if (!rc)
		rc = reg_catch_up_locked(r, NULL, err);
out:
	rebase_release(&rb);
	tags_release(&mine);
	free(head_ref);
	free(tags_ref);
	free(spec_head);
	free(spec_tags);
	return rc;
}

/* A local version the remote's history will name once pushed: its bytes go first. */
static int outgoing(void *payload, const char *commit, const char *message,
		    struct mlctl_err *err)
{
	struct rebase *rb = payload;
	struct mlctl_oci_push_result o;
	struct mlctl_manifest m;
	int rc;

	if ((rc = pushed_version(rb->r, &m, commit, message, err)) <= 0)
		return rc;
	rc = mlctl_oci_push(&o, rb->oci, rb->r->root, &m, err);
	if (rc && reg_pruned(rb->r, m.name, m.version) == 1)
		rc = mlctl_err_set(err, MLCTL_ENOTFOUND,
				   "%s:%s was pruned here ('registry gc --prune-deprecated') and the "
				   "remote '%s' lacks its bytes, so nothing can send them: push its "
				   "folder again ('mlctl push DIR') and sync",
				   m.name, m.version, rb->remote);
	mlctl_manifest_release(&m);
	if (!rc && (o.blobs_sent || !o.manifest_existed)) {
		rb->res->versions_sent++;
		rb->res->blobs_sent += o.blobs_sent;
		rb->res->bytes_sent += o.bytes_sent;
	}
	return rc;
}

/* A git-only remote: our history may go there only when it names no new version. */
static int no_bytes_place(void *payload, const char *commit, const char *message,
			  struct mlctl_err *err)
{
	const struct mlctl_remote *rm = payload;
	struct event ev;
	cJSON *json = NULL;
	int rc = 0;

	(void)commit;
	if (!reg_event_parse(&ev, &json, message) && !strcmp(ev.type, "push"))
		rc = mlctl_err_set(err, MLCTL_EUSAGE,
				   "remote '%s' has no OCI location for the bytes of %s:%s, which its "
				   "history would name; add one: 'mlctl remote rm %s' and 'mlctl "
				   "remote add %s --oci HOST/NAMESPACE --git %s'", rm->name,
				   ev.model, ev.version, rm->name, rm->name, rm->git);
	cJSON_Delete(json);
	return rc;
}

/*
 * Before the remote's history names a version, its bytes are in the remote's
 * OCI registry: every version in our history that the remote's lacks is
 * sent (what the OCI registry has already is skipped).
 */
static int send_bytes(struct mlctl_registry *r, struct mlctl_sync_result *res,
		      const struct mlctl_remote *rm, const struct mlctl_oci_opts *o,
		      const char *remote_head, struct mlctl_err *err)
{
	struct rebase rb = { r, res, NULL, 0, NULL, 0, rm->name, NULL, NULL, 0, NULL, 0, NULL };
	struct mlctl_oci_opts oo = *o;
	struct mlctl_oci_loc loc;
	char head[41];
	int rc;

	if ((rc = mlctl_git_head(r->git, head, err)) || !*head || !strcmp(head, remote_head))
		return rc;
	if (!rm->oci)
		return mlctl_git_log(r->git, remote_head, head, no_bytes_place, (void *)rm, err);
	oo.insecure |= rm->insecure;
	if (!(rc = mlctl_oci_loc_parse(&loc, rm->oci, err)) &&
	    !(rc = mlctl_oci_open(&rb.oci, &loc, &oo, err))) {
		struct mlctl_oci_uploads uploads;

		mlctl_registry_uploads(r, &uploads);
		mlctl_oci_set_uploads(rb.oci, &uploads);
		rc = mlctl_git_log(r->git, remote_head, head, outgoing, &rb, err);
	}
	mlctl_oci_free(rb.oci);
	return rc;
}

struct refused {
	struct mlctl_buf what;
};

static void on_refused(void *payload, const char *ref, const char *why)
{
	struct refused *rf = payload;

	mlctl_buf_printf(&rf->what, "%s%s (%s)", rf->what.len ? ", " : "", ref, why);
}

/* Push the branch, when the remote is behind, and every event tag it lacks. */
static int publish(struct mlctl_registry *r, struct mlctl_sync_result *res, const char *url,
		   const char *remote_head, const struct tags *theirs, size_t *rejected,
		   struct refused *rf, struct mlctl_err *err)
{
	struct tags mine = { NULL, NULL, NULL, 0, NULL };
	char head[41];
	char **specs = NULL;
	size_t n = 0, i;
	int rc;

	if ((rc = mlctl_git_head(r->git, head, err)) ||
	    (rc = mlctl_git_refs(r->git, "refs/tags/", collect_tag, &mine, err)))
		goto out;
	specs = mlctl_calloc(mine.n + theirs->n + 1, sizeof(*specs));
	if (*head && strcmp(head, remote_head)) {
		specs[n++] = mlctl_aprintf("%s:%s", MLCTL_GIT_BRANCH, MLCTL_GIT_BRANCH);
		res->pushed_branch = 1;
	}
	for (i = 0; i < mine.n; i++) {
		ssize_t k = tag_index(theirs, mine.name[i]);
		int stale = k >= 0 && theirs->stale && theirs->stale[k];

		if (!mlctl_is_event_tag(mine.name[i]) || (k >= 0 && !stale))
			continue;
		/* a stale tag of the same name is replaced: only it is forced */
		specs[n++] = mlctl_aprintf("%srefs/tags/%s:refs/tags/%s", stale ? "+" : "",
					   mine.name[i], mine.name[i]);
		res->pushed_tags++;
		res->replaced_tags += stale;
	}
	for (i = 0; theirs->stale && i < theirs->n; i++)
		if (theirs->stale[i] && tag_index(&mine, theirs->name[i]) < 0) {
			specs[n++] = mlctl_aprintf(":refs/tags/%s", theirs->name[i]);
			res->replaced_tags++;
		}
	snprintf(res->head, sizeof(res->head), "%s", head);
	rc = mlctl_git_push(r->git, url, (const char *const *)specs, n, on_refused, rf, rejected,
			    err);
out:
	for (i = 0; i < n; i++)
		free(specs[i]);
	free(specs);
	tags_release(&mine);
	return rc;
}

int mlctl_registry_sync(struct mlctl_registry *r, struct mlctl_sync_result *res,
			const char *remote, const struct mlctl_oci_opts *o,
			const char *const *give_up, size_t ngive_up, struct mlctl_err *err)
{
	struct mlctl_remote rm;
	struct refused rf = { MLCTL_BUF_INIT };
	int tries, rc;

	memset(res, 0, sizeof(*res));
	if ((rc = mlctl_registry_remote_get(r, &rm, remote, err)))
		return rc;
	if (!rm.git) {
		rc = mlctl_err_set(err, MLCTL_EUSAGE, "remote '%s' has no git URL (only --oci %s); "
				   "add one with 'mlctl remote rm %s' and 'mlctl remote add %s --oci "
				   "%s --git URL'", remote, rm.oci, remote, remote, rm.oci);
		goto out;
	}
	for (tries = 1;; tries++) {
		struct tags theirs = { NULL, NULL, NULL, 0, NULL };
		char remote_head[41];
		size_t rejected = 0;

		mlctl_buf_reset(&rf.what);
		memset(res, 0, sizeof(*res));
		if (!(rc = reg_begin_write(r, err)) && !(rc = reg_catch_up_locked(r, NULL, err)))
			rc = merge(r, res, &rm, o, give_up, ngive_up, remote_head, &theirs, err);
		if (!(rc = reg_end_write(r, rc, err)) &&
		    !(rc = send_bytes(r, res, &rm, o, remote_head, err)))
			rc = publish(r, res, rm.git, remote_head, &theirs, &rejected, &rf, err);
		tags_release(&theirs);
		if (rc || !rejected)
			break;
		if (tries == SYNC_TRIES) {
			rc = mlctl_err_set(err, MLCTL_ENET,
					   "the git remote '%s' refused %s; it moved on while "
					   "syncing %d times: run 'mlctl registry sync %s' again",
					   remote, rf.what.buf, tries, remote);
			break;
		}
	}
out:
	mlctl_buf_release(&rf.what);
	mlctl_remote_release(&rm);
	return rc;
}
