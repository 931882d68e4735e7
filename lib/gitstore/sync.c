/*
 * sync.c - what a sync with another repository needs: fetch and push by
 * URL (file paths, file://, ssh and https, as libgit2 speaks them), refs
 * read and queued, ancestry, and a commit's changes and signature, so that
 * local commits can be made again on top of what arrived.
 */
#define _GNU_SOURCE
#include "gitstore/internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "banned.h"

/*
 * What an exchange with a remote asked of git's credential helpers: the
 * credentials `git credential fill` gave (to approve or reject after), and
 * how it went.
 */
struct creds {
	char *url, *user, *pass;
	int tries;
	int none;    /* the remote wanted a password and the helpers had none */
	int refused; /* the remote refused what they gave (2: ssh-agent's keys) */
	const char *target; /* the URL used (rewritten): its port names an ssh host */
};

/* `git credential VERB` with these lines on its stdin; its answer into out. */
static int run_credential(struct mlctl_buf *out, const char *verb, const char *lines)
{
	char *argv[] = { "git", "credential", (char *)verb, NULL };
	int status;

	/* never a prompt on a terminal: mlctl holds the registry's lock meanwhile */
	if (mlctl_run_pipe(out, &status, argv, lines, "GIT_TERMINAL_PROMPT=0", 1) < 0)
		return -1;
	return status == 0 ? 0 : -1;
}

static char *credential_lines(const struct creds *cr, const char *user)
{
	struct mlctl_buf b = MLCTL_BUF_INIT;

	mlctl_buf_printf(&b, "url=%s\n", cr->url);
	if (user && *user)
		mlctl_buf_printf(&b, "username=%s\n", user);
	if (cr->pass)
		mlctl_buf_printf(&b, "password=%s\n", cr->pass);
	mlctl_buf_add(&b, "\n", 2); /* the blank line, and the NUL */
	return b.buf;
}

/* Tell the helpers how the credentials they gave went (approve or reject). */
static void credential_verdict(struct creds *cr, const char *verb)
{
	struct mlctl_buf out = MLCTL_BUF_INIT;
	char *lines;

	if (!cr->pass)
		return;
	lines = credential_lines(cr, cr->user);
	(void)run_credential(&out, verb, lines);
	explicit_bzero(lines, strlen(lines));
	free(lines);
	mlctl_buf_release(&out);
}

static void creds_release(struct creds *cr)
{
	if (cr->pass)
		explicit_bzero(cr->pass, strlen(cr->pass));
	free(cr->url);
	free(cr->user);
	free(cr->pass);
}

/*
 * ssh: the agent's keys. A user and password (https): what git's credential
 * helpers hold for the URL (`git credential fill`, as git push asks them);
 * asked again after a refusal, the helpers are told (reject) and it stops.
 */
static int credentials(git_credential **out, const char *url, const char *user,
		       unsigned int allowed, void *payload)
{
	struct creds *cr = payload;
	struct mlctl_buf ans = MLCTL_BUF_INIT;
	char *lines, *line, *save = NULL;
	int rc = GIT_PASSTHROUGH;

	if (allowed & GIT_CREDENTIAL_SSH_KEY) {
		/* asked again: the server took none of the agent's keys */
		if (cr && cr->tries++) {
			cr->refused = 2;
			git_error_set(GIT_ERROR_SSH, "the ssh server took none of ssh-agent's keys "
				      "for '%s'%s; add the right one (ssh-add)", user ? user : "git",
				      getenv("SSH_AUTH_SOCK") ? "" : " (no agent: SSH_AUTH_SOCK is not set)");
			return GIT_EUSER;
		}
		return git_credential_ssh_key_from_agent(out, user ? user : "git");
	}
	if (!(allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) || !cr)
		return GIT_PASSTHROUGH;
	if (cr->tries++) {
		cr->refused = 1;
		credential_verdict(cr, "reject");
		git_error_set_str(GIT_ERROR_NET, "the remote refused the credentials git's "
						 "credential helper gave");
		return GIT_EUSER;
	}
	free(cr->url);
	cr->url = mlctl_strdup(url);
	lines = credential_lines(cr, user);
	if (run_credential(&ans, "fill", lines) == 0 && ans.buf) {
		for (line = strtok_r(ans.buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			if (!strncmp(line, "username=", 9) && !cr->user)
				cr->user = mlctl_strdup(line + 9);
			else if (!strncmp(line, "password=", 9) && !cr->pass)
				cr->pass = mlctl_strdup(line + 9);
		}
	}
	if (cr->user && cr->pass)
		rc = git_credential_userpass_plaintext_new(out, cr->user, cr->pass) < 0 ? -1 : 0;
	else
		cr->none = 1;
	explicit_bzero(lines, strlen(lines));
	free(lines);
	if (ans.buf)
		explicit_bzero(ans.buf, ans.len);
	mlctl_buf_release(&ans);
	return rc;
}

/*
 * The name an ssh URL's host has in known_hosts: "host", or "[host]:port"
 * for another port than 22. Caller frees; NULL when url is not ssh.
 */
static char *known_hosts_name(const char *url, const char *host)
{
	const char *p = strstr(url, "://");
	long port = 22;

	/* ssh://[user@]host[:port]/path; scp's user@host:path is port 22 */
	if (p && (!strncmp(url, "ssh://", 6) || !strncmp(url, "git+ssh://", 10) ||
		  !strncmp(url, "ssh+git://", 10))) {
		size_t auth = strcspn(p + 3, "/");

		p += 3;
		if (memchr(p, '@', auth))
			p = (const char *)memchr(p, '@', auth) + 1;
		if (*p == '[' && strchr(p, ']'))
			p = strchr(p, ']') + 1;
		else
			p += strcspn(p, ":/");
		if (*p == ':' && p[1] >= '0' && p[1] <= '9')
			port = strtol(p + 1, NULL, 10);
	}
	if (port != 22)
		return mlctl_aprintf("[%s]:%ld", host, port);
	return mlctl_strdup(host);
}

/*
 * What known_hosts file says of name (ssh-keygen -F reads hashed names
 * too): 1 when one of its keys is key (base64), 0 when it has keys for
 * name but not this one (or this one revoked), -1 when it has none.
 */
static int known_key(const char *file, const char *name, const char *key)
{
	char *argv[] = { "ssh-keygen", "-F", (char *)name, "-f", (char *)file, NULL };
	struct mlctl_buf out = MLCTL_BUF_INIT;
	char *line, *save = NULL;
	int status, found = -1;

	if (access(file, R_OK) != 0 || mlctl_run_pipe(&out, &status, argv, NULL, NULL, 1) < 0 ||
	    status != 0 || !out.buf) {
		mlctl_buf_release(&out);
		return -1;
	}
	mlctl_buf_add(&out, "", 1);
	for (line = strtok_r(out.buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[4] = { NULL, NULL, NULL, NULL }, *s2 = NULL;
		int i, revoked = 0;

		if (*line == '#')
			continue;
		for (i = 0, f[0] = strtok_r(line, " \t", &s2); f[i] && i < 3;)
			f[++i] = strtok_r(NULL, " \t", &s2);
		if (f[0] && f[0][0] == '@') {
			/* a marker: @revoked names a key never to take; @cert-authority is not a key */
			revoked = !strcmp(f[0], "@revoked");
			if (!revoked)
				continue;
			memmove(f, f + 1, 3 * sizeof(*f));
		}
		if (!f[2])
			continue;
		if (!strcmp(f[2], key)) {
			found = revoked ? 0 : 1;
			if (revoked)
				break;
		} else if (found < 0) {
			found = 0;
		}
	}
	mlctl_buf_release(&out);
	return found;
}

/*
 * An ssh host's key is checked against known_hosts (the user's, then the
 * system's) as ssh does with StrictHostKeyChecking: a host not there, or
 * there with another key, is refused (libgit2 1.5 takes any key unless
 * told). TLS certificates are libgit2's to check.
 */
static int check_host(git_cert *cert, int valid, const char *host, void *payload)
{
	struct creds *cr = payload;
	git_cert_hostkey *hk = (git_cert_hostkey *)cert;
	const char *home = getenv("HOME");
	char *name, *key, *mine = NULL;
	int user = -1, sys = -1;

	(void)valid;
	if (cert->cert_type != GIT_CERT_HOSTKEY_LIBSSH2)
		return GIT_PASSTHROUGH;
	name = known_hosts_name(cr && cr->target ? cr->target : "", host);
	if (!(hk->type & GIT_CERT_SSH_RAW)) {
		git_error_set(GIT_ERROR_SSH, "cannot check the host key of %s: libssh2 gave no key",
			      name);
		free(name);
		return -1;
	}
	key = mlctl_base64_encode(hk->hostkey, hk->hostkey_len);
	if (home && *home) {
		mine = mlctl_aprintf("%s/.ssh/known_hosts", home);
		user = known_key(mine, name, key);
	}
	if (user != 1)
		sys = known_key("/etc/ssh/ssh_known_hosts", name, key);
	free(key);
	if (user == 1 || sys == 1) {
		free(mine);
		free(name);
		return 0;
	}
	if (user == 0 || sys == 0)
		git_error_set(GIT_ERROR_SSH, "the host key of %s is not the one known_hosts has "
			      "for it: someone may be in the middle; if the host's key really "
			      "changed, remove the old one ('ssh-keygen -R %s') and check the new "
			      "one", name, name);
	else
		git_error_set(GIT_ERROR_SSH, "%s is not in %s or /etc/ssh/ssh_known_hosts; check "
			      "its key and add it, as a first 'ssh' to it would ask (ssh-keyscan "
			      "gives the line)", name, mine ? mine : "~/.ssh/known_hosts");
	free(mine);
	free(name);
	return -1;
}

/* The error of a fetch or push that failed, with what the credentials had to do with it. */
static int exchange_fail(struct mlctl_err *err, const struct creds *cr, const char *what)
{
	if (cr->refused == 2)
		return gs_git_fail(err, MLCTL_ENET, what);
	if (cr->refused)
		return mlctl_err_set(err, MLCTL_ENET, "%s: it refused the user and password git's "
				     "credential helper gave for %s; store the right ones with "
				     "'git credential approve' (or your helper's own login)",
				     what, cr->url);
	if (cr->none)
		return mlctl_err_set(err, MLCTL_ENET, "%s: it wants a user and password, and git's "
				     "credential helpers have none for %s; set one up "
				     "(git config --global credential.helper store, or your "
				     "platform's) and store them, as git push would need",
				     what, cr->url);
	return gs_git_fail(err, MLCTL_ENET, what);
}

/* The longest url.BASE.insteadOf (or pushInsteadOf) that begins a URL, as git picks it. */
struct rewrite {
	const char *url;
	const char *key; /* "insteadof" or "pushinsteadof" */
	char *base;
	size_t matched;
};

static int rewrite_entry(const git_config_entry *e, void *payload)
{
	struct rewrite *rw = payload;
	size_t n = strlen(e->name), klen = strlen(rw->key), vlen;
	const char *dot;

	/* url.BASE.KEY: BASE may hold dots itself, the key is the last part */
	if (strncmp(e->name, "url.", 4) || n < 4 + klen + 2)
		return 0;
	dot = e->name + n - klen - 1;
	if (*dot != '.' || strcasecmp(dot + 1, rw->key) || !e->value)
		return 0;
	vlen = strlen(e->value);
	if (!vlen || vlen <= rw->matched || strncmp(rw->url, e->value, vlen))
		return 0;
	free(rw->base);
	rw->base = mlctl_strndup(e->name + 4, (size_t)(dot - (e->name + 4)));
	rw->matched = vlen;
	return 0;
}

/*
 * url as git would use it: rewritten by the longest matching
 * url.BASE.pushInsteadOf (push only), else url.BASE.insteadOf, of git's
 * configuration (the registry's, global, XDG and system). Caller frees.
 */
static char *rewrite_url(struct mlctl_git *g, const char *url, int push)
{
	static const char *const keys[] = { "pushinsteadof", "insteadof" };
	git_config *cfg = NULL;
	char *out = NULL;
	size_t i;

	/* every entry is looked at here: libgit2 1.5's own lookup leaks a regex's match data */
	if (git_repository_config_snapshot(&cfg, g->repo) < 0)
		return mlctl_strdup(url);
	for (i = push ? 0 : 1; !out && i < 2; i++) {
		struct rewrite rw = { url, keys[i], NULL, 0 };

		git_config_foreach(cfg, rewrite_entry, &rw);
		if (rw.base) {
			out = mlctl_aprintf("%s%s", rw.base, url + rw.matched);
			free(rw.base);
		}
	}
	git_config_free(cfg);
	return out ? out : mlctl_strdup(url);
}

/*
 * A remote by URL (rewritten as git's insteadOf says, by rewrite_url: the
 * libgit2 rewrite is skipped).
 */
static int anonymous(git_remote **out, struct mlctl_git *g, const char *url, int push,
		     struct mlctl_err *err)
{
	git_remote_create_options o;
	char *real = rewrite_url(g, url, push);
	int rc = 0;

	git_remote_create_options_init(&o, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	o.repository = g->repo;
	o.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	if (git_remote_create_with_opts(out, real, &o) < 0)
		rc = gs_git_fail(err, MLCTL_EUSAGE, "cannot use the git remote");
	free(real);
	return rc;
}

int mlctl_git_fetch(struct mlctl_git *g, const char *url, const char *const *refspecs,
		    size_t n, struct mlctl_err *err)
{
	git_fetch_options o;
	git_strarray specs = { (char **)refspecs, n };
	git_remote *remote = NULL;
	struct creds cr = { NULL, NULL, NULL, 0, 0, 0, NULL };
	int rc;

	if ((rc = gs_ready(g, err)))
		return rc;

	if ((rc = anonymous(&remote, g, url, 0, err)))
		return rc;
	cr.target = git_remote_url(remote);
	git_fetch_options_init(&o, GIT_FETCH_OPTIONS_VERSION);
	o.callbacks.credentials = credentials;
	o.callbacks.certificate_check = check_host;
	o.callbacks.payload = &cr;
	o.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	o.prune = GIT_FETCH_PRUNE;
	if (git_remote_fetch(remote, &specs, &o, NULL) < 0)
		rc = exchange_fail(err, &cr, "cannot fetch from the git remote");
	else
		credential_verdict(&cr, "approve");
	git_remote_free(remote);
	creds_release(&cr);
	return rc;
}

struct push_state {
	struct creds cr; /* first: the credentials callback's payload too */
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
	struct push_state ps = { { NULL, NULL, NULL, 0, 0, 0, NULL }, cb, payload, 0 };
	int rc;

	if ((rc = gs_ready(g, err)))
		return rc;

	*rejected = 0;
	if (n == 0)
		return 0;
	if ((rc = anonymous(&remote, g, url, 1, err)))
		return rc;
	ps.cr.target = git_remote_pushurl(remote) ? git_remote_pushurl(remote)
						  : git_remote_url(remote);
	git_push_options_init(&o, GIT_PUSH_OPTIONS_VERSION);
	o.callbacks.credentials = credentials;
	o.callbacks.certificate_check = check_host;
	o.callbacks.push_update_reference = on_push_update;
	o.callbacks.payload = &ps;
	if (git_remote_push(remote, &specs, &o) < 0)
		rc = exchange_fail(err, &ps.cr, "cannot push to the git remote");
	else
		credential_verdict(&ps.cr, "approve");
	*rejected = (size_t)ps.rejected;
	git_remote_free(remote);
	creds_release(&ps.cr);
	return rc;
}

int mlctl_git_ref(struct mlctl_git *g, char oid[41], const char *refname, struct mlctl_err *err)
{
	git_oid id;
	int rc;

	if ((rc = gs_ready(g, err)))
		return rc;
	rc = git_reference_name_to_id(&id, g->repo, refname);
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

	if ((rc = gs_ready(g, err)))
		return rc;

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

	if ((rc = gs_ready(g, err)))
		return rc;

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

	if (gs_ready(g, NULL))
		return 0;

	if (git_oid_fromstr(&t, tip) < 0 || git_oid_fromstr(&c, commit) < 0)
		return 0;
	return git_oid_equal(&t, &c) || git_graph_descendant_of(g->repo, &t, &c) == 1;
}

int mlctl_git_set_head(struct mlctl_git *g, const char *commit, struct mlctl_err *err)
{
	int rc;
	git_oid id, cur;
	int have;

	if ((rc = gs_ready(g, err)))
		return rc;

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
	int rc;
	git_oid id;

	if ((rc = gs_ready(g, err)))
		return rc;

	if (target && git_oid_fromstr(&id, target) < 0)
		return mlctl_err_set(err, MLCTL_EINTERNAL, "not an object id");
	gs_queue_ref(g, mlctl_strdup(refname), target ? &id : NULL);
	return 0;
}

int mlctl_git_commit_info(struct mlctl_git *g, const char *commit, char **message, char **actor,
			  int64_t *when, struct mlctl_err *err)
{
	int rc;
	git_commit *c = NULL;
	git_oid id;
	const git_signature *a;

	if ((rc = gs_ready(g, err)))
		return rc;

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
	struct diff_state s = { NULL, cb, payload, err, 0 };
	git_commit *c = NULL, *parent = NULL;
	git_tree *new_tree = NULL, *old_tree = NULL;
	git_diff *diff = NULL;
	git_oid id;
	int rc = 0;

	if ((rc = gs_ready(g, err)))
		return rc;
	s.repo = g->repo;

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
