/*
 * objects.c - every object reachable from every ref: garbage (what
 * nothing reaches) and connectivity (what is missing or unreadable), as git
 * gc and git fsck --connectivity-only see them.
 */
#define _GNU_SOURCE
#include "gitstore/internal.h"

#include <dirent.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "banned.h"

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
	struct reach w = { NULL, { NULL, NULL, 0, 0 }, NULL, 0, 0, 0 };
	char *objects;
	DIR *d = NULL, *sd;
	struct dirent *e, *f;
	int rc = 0;

	if ((rc = gs_ready(g, err)))
		return rc;
	w.repo = g->repo;
	objects = mlctl_path_join(g->path, "objects");
	if (reachable(&w) < 0) {
		rc = gs_git_fail(err, MLCTL_EIO, "cannot read the registry's history");
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

	if ((rc = gs_ready(g, err)))
		return rc;

	memset(&c, 0, sizeof(c));
	c.repo = g->repo;
	c.cb = cb;
	c.payload = payload;
	*n = *nbad = 0;
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 1);
	/* the files only: the memory store holds nothing applied */
	if (gs_disk_odb(&c.disk, g) < 0)
		return gs_git_fail(err, MLCTL_EIO, "cannot read the registry's history");
	if (git_reference_foreach_name(g->repo, want_ref, &c) < 0) {
		rc = gs_git_fail(err, MLCTL_EINTEGRITY,
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
