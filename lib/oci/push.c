/*
 * push.c - a version into an OCI registry (distribution spec, "pushing"):
 * for each blob a HEAD first, skipped when the registry has it; then one
 * POST and one PUT for a blob up to the chunk size, or a POST, PATCHes of
 * one chunk each and a closing PUT for a larger one; the config; and the
 * manifest last, under the version's tag, so no tag names a manifest
 * whose blobs are missing.
 */
#define _GNU_SOURCE
#include "oci/internal.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blobstore.h"
#include "banned.h"

/* 1 into *has when repo holds digest, size bytes long. */
static int blob_has(struct mlctl_oci *c, int *has, const char *repo, const char *digest,
		    uint64_t size, struct mlctl_err *err)
{
	char *path = mlctl_aprintf("/v2/%s/blobs/%s", repo, digest), *url = oci_url(c, path);
	struct oci_req q = { .method = "HEAD", .url = url };
	struct oci_resp r;
	int rc = oci_request(c, &q, &r, err);

	*has = 0;
	if (!rc) {
		if (r.status == 200)
			*has = !r.has_length || r.length == size;
		else if (r.status != 404)
			rc = oci_status_fail(c, &r, path, err);
	}
	oci_resp_release(&r);
	free(url);
	free(path);
	return rc;
}

/* Where the next request of an upload goes: the Location the last answer gave. */
static int next_location(struct mlctl_oci *c, char **loc, const struct oci_resp *r,
			 const char *what, struct mlctl_err *err)
{
	if (!r->location || !*r->location)
		return mlctl_err_set(err, MLCTL_ENET, "%s gave no Location for %s; it does not "
				     "follow the OCI distribution spec", c->loc.host, what);
	free(*loc);
	*loc = oci_url(c, r->location);
	return 0;
}

/* An upload in progress, as this process and the registry know it. */
struct upload {
	const char *repo, *digest, *what;
	char *loc;       /* where the next request goes */
	uint64_t off;    /* bytes the registry holds */
	uint64_t min;    /* OCI-Chunk-Min-Length */
};

static void keep_session(struct mlctl_oci *c, const struct upload *u)
{
	if (c->uploads && c->uploads->put)
		c->uploads->put(c->uploads->ctx, c->loc.host, u->repo, u->digest, u->loc, u->off);
}

static void drop_session(struct mlctl_oci *c, const struct upload *u)
{
	if (c->uploads && c->uploads->drop)
		c->uploads->drop(c->uploads->ctx, c->loc.host, u->repo, u->digest);
}

/*
 * Ask the registry how much of the upload at u->loc it holds (GET: 204
 * with Range 0-END). 1 into *gone when it has forgotten the session (404).
 * Only its answer is trusted, never what this process last sent.
 */
static int upload_status(struct mlctl_oci *c, struct upload *u, int *gone,
			 struct mlctl_err *err)
{
	struct oci_req q = { .method = "GET", .url = u->loc };
	struct oci_resp r;
	int rc = oci_request(c, &q, &r, err);

	*gone = 0;
	if (rc)
		goto out;
	if (r.status == 404 || r.status == 400) {
		*gone = 1; /* a session the registry forgot (or never had): start afresh */
		goto out;
	}
	if (r.status != 204 && r.status != 200) {
		rc = oci_status_fail(c, &r, u->what, err);
		goto out;
	}
	u->off = 0;
	if (r.range) {
		const char *dash = strchr(r.range, '-');
		char *end;
		long long last = dash ? strtoll(dash + 1, &end, 10) : -1;

		if (dash && last >= 0)
			u->off = (uint64_t)last + 1;
	}
	if (r.location)
		rc = next_location(c, &u->loc, &r, u->what, err);
out:
	oci_resp_release(&r);
	return rc;
}

/*
 * Chunks from u->off to the end of whole, each a PATCH; after a failed one,
 * the registry says where to go on.
 */
static int send_chunks(struct mlctl_oci *c, struct upload *u, struct oci_body *whole,
		       int *gone, struct mlctl_err *err)
{
	uint64_t chunk = c->o.chunk < u->min ? u->min : c->o.chunk;
	int recoveries = 0, rc = 0;

	if (c->quirks.patch_max && chunk > c->quirks.patch_max)
		chunk = c->quirks.patch_max;

	*gone = 0;

	while (u->off < whole->len) {
		uint64_t n = whole->len - u->off < chunk ? whole->len - u->off : chunk;
		struct oci_body part = { whole->fd, whole->off + u->off, n,
					 whole->mem ? whole->mem + u->off : NULL, 0 };
		char range[64];
		struct oci_req q = { .method = "PATCH", .ctype = "application/octet-stream",
				     .range = range, .body = &part, .url = u->loc };
		struct oci_resp r;

		snprintf(range, sizeof(range), "%llu-%llu", (unsigned long long)u->off,
			 (unsigned long long)(u->off + n - 1));
		c->cur_base = u->off;
		rc = oci_request(c, &q, &r, err);
		/* 202 as the spec says; ECR answers 201 */
		if (!rc && r.status != 202 && r.status != 201)
			rc = oci_status_fail(c, &r, u->what, err);
		if (!rc)
			rc = next_location(c, &u->loc, &r, u->what, err);
		oci_resp_release(&r);
		if (rc) {
			/* a lost connection, a restarted registry, a chunk it got half of */
			struct mlctl_err e2 = MLCTL_ERR_INIT;

			if (++recoveries > 3 || upload_status(c, u, gone, &e2) || *gone)
				return rc;
			mlctl_err_clear(err);
			c->resumed++;
			continue;
		}
		u->off += n;
		c->sent_chunks++;
		keep_session(c, u);
		mlctl_fault("oci-chunk");
	}
	return 0;
}

/*
 * Mount digest into repo from the repository of another model that holds it
 * (a POST with mount= and from=): 1 into *done when the registry did (201).
 * A registry that cannot answers 202 with an upload to use, or refuses:
 * either way the blob is sent.
 */
static int try_mount(struct mlctl_oci *c, int *done, const char *repo, const char *model,
		     const char *digest, struct mlctl_err *err)
{
	char *holder, from[512], *url = NULL, *path;
	struct oci_req q = { .method = "POST" };
	struct oci_resp r;
	int rc = 0;

	*done = 0;
	if (!c->uploads || !c->uploads->holder ||
	    !(holder = c->uploads->holder(c->uploads->ctx, digest + 7, model)))
		return 0;
	if (mlctl_oci_repo(from, sizeof(from), &c->loc, holder, NULL) || !strcmp(from, repo)) {
		free(holder);
		return 0;
	}
	path = mlctl_aprintf("/v2/%s/blobs/uploads/", repo);
	url = oci_url(c, path);
	free(path);
	path = oci_url_param(c, url, "mount", digest);
	free(url);
	q.url = url = oci_url_param(c, path, "from", from);
	free(path);
	if (!(rc = oci_request(c, &q, &r, err)) && r.status == 201)
		*done = 1;
	oci_resp_release(&r);
	free(url);
	free(holder);
	return rc;
}

/*
 * Send a blob the registry lacks: an upload it kept from an earlier run
 * goes on (in chunks, whatever the chunk size now), from where the registry
 * says. *restarted is 1 when one was kept but the registry had dropped it
 * (distribution drops an upload a break cut in the middle of a chunk).
 */
static int upload(struct mlctl_oci *c, const char *repo, const char *digest,
		  struct oci_body *body, uint64_t *resumed, int *restarted, struct mlctl_err *err)
{
	char *path = mlctl_aprintf("/v2/%s/blobs/uploads/", repo), *url = oci_url(c, path);
	char *put = NULL, *what = mlctl_aprintf("the upload of %s", digest);
	struct upload u = { repo, digest, what, NULL, 0, c->quirks.min_chunk };
	struct oci_req q = { .method = "POST", .url = url };
	struct oci_resp r;
	int chunked = body->len > c->o.chunk && !c->quirks.monolithic;
	int rc = 0, gone = 1, afresh = 0;

	memset(&r, 0, sizeof(r));
	*resumed = 0;
	*restarted = 0;
	if (!c->quirks.monolithic && c->uploads && c->uploads->get &&
	    (u.loc = c->uploads->get(c->uploads->ctx, c->loc.host, repo, digest))) {
		struct mlctl_err e2 = MLCTL_ERR_INIT;

		if (upload_status(c, &u, &gone, &e2) || gone || u.off > body->len) {
			drop_session(c, &u);
			free(u.loc);
			u.loc = NULL;
			u.off = 0;
			*restarted = 1;
		} else {
			*resumed = u.off;
			chunked = 1; /* what is left goes on in chunks, as it began */
		}
	}
	for (;;) {
		if (!u.loc) {
			q = (struct oci_req){ .method = "POST", .url = url };
			if ((rc = oci_request(c, &q, &r, err)))
				goto out;
			if (r.status != 202) {
				rc = oci_status_fail(c, &r, what, err);
				goto out;
			}
			if ((rc = next_location(c, &u.loc, &r, what, err)))
				goto out;
			u.min = r.chunk_min ? strtoull(r.chunk_min, NULL, 10) : c->quirks.min_chunk;
			oci_resp_release(&r);
			if (chunked)
				keep_session(c, &u);
		}
		if (!chunked)
			break;
		if (!(rc = send_chunks(c, &u, body, &gone, err))) {
			body = NULL; /* all sent: the PUT closes the upload */
			break;
		}
		if (!gone || afresh++)
			goto out;
		/* the registry forgot the upload (restarted, its state lost): once more afresh */
		*restarted = 1;
		mlctl_err_clear(err);
		drop_session(c, &u);
		free(u.loc);
		u.loc = NULL;
		u.off = 0;
		*resumed = 0;
	}
	put = oci_url_param(c, u.loc, "digest", digest);
	q = (struct oci_req){ .method = "PUT", .url = put, .ctype = "application/octet-stream",
			      .body = body };
	if ((rc = oci_request(c, &q, &r, err)))
		goto out;
	c->put_refused = r.status == 400;
	if (r.status != 201)
		rc = oci_status_fail(c, &r, what, err);
	else
		drop_session(c, &u);
out:
	oci_resp_release(&r);
	free(what);
	free(put);
	free(u.loc);
	free(url);
	free(path);
	return rc;
}

/* One blob: skipped when there, else sent; counted in res. */
static int push_blob(struct mlctl_oci_push_result *res, struct mlctl_oci *c, const char *what,
		     const char *digest, struct oci_body *body, struct mlctl_err *err)
{
	uint64_t resumed = 0;
	int has, rc, restarted = 0;

	oci_progress_file(c, what, body->len, 0);
	if ((rc = blob_has(c, &has, res->repo, digest, body->len, err)))
		return rc;
	if (has) {
		res->blobs_skipped++;
		res->bytes_skipped += body->len;
		oci_progress_done(c, body->len);
		return 0;
	}
	if ((rc = try_mount(c, &has, res->repo, res->model, digest, err)))
		return rc;
	if (has) {
		res->blobs_mounted++;
		res->blobs_skipped++;
		res->bytes_skipped += body->len;
		oci_progress_done(c, body->len);
		return 0;
	}
	if ((rc = upload(c, res->repo, digest, body, &resumed, &restarted, err)))
		return rc;
	res->blobs_sent++;
	res->blobs_restarted += (size_t)restarted;
	res->bytes_sent += body->len - resumed;
	res->bytes_resumed += resumed;
	oci_progress_done(c, body->len);
	return 0;
}

/*
 * The registry refused a blob's bytes (400, most likely DIGEST_INVALID):
 * when they are not what this registry's store should hold, say so (the
 * store is corrupt, exit 5) rather than blame the OCI registry. fd at 0.
 * 0 when they are: err is left as it was.
 */
static int check_stored(const char *blob_root, const struct mlctl_file_entry *f, int fd,
			struct mlctl_err *err)
{
	struct mlctl_sha256 *h = mlctl_sha256_new();
	char buf[1 << 16], hex[65];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		mlctl_sha256_update(h, buf, (size_t)n);
	mlctl_sha256_final_hex(h, hex);
	mlctl_sha256_free(h);
	if (n < 0 || !strcmp(hex, f->sha256))
		return 0;
	mlctl_blob_flag(blob_root, f->sha256);
	mlctl_err_clear(err);
	return mlctl_err_set(err, MLCTL_EINTEGRITY, "the stored blob of '%s' is corrupt (sha256:%s, "
			     "not sha256:%s); nothing was tagged: run 'mlctl registry verify', then "
			     "push the files again", f->path, hex, f->sha256);
}

static int push_file(struct mlctl_oci_push_result *res, struct mlctl_oci *c,
		     const char *blob_root, const struct mlctl_file_entry *f, struct mlctl_err *err)
{
	char *src = mlctl_blob_path(blob_root, f->sha256), *digest;
	struct oci_body body = { -1, 0, f->size, NULL, 0 };
	int rc;

	if ((body.fd = open(src, O_RDONLY | O_CLOEXEC)) < 0) {
		rc = mlctl_err_errno(err, MLCTL_EIO, "cannot read the blob of '%s' (%s)", f->path,
				     src);
		free(src);
		return rc;
	}
	digest = mlctl_aprintf("sha256:%s", f->sha256);
	c->put_refused = 0;
	rc = push_blob(res, c, f->path, digest, &body, err);
	if (rc && c->put_refused && lseek(body.fd, 0, SEEK_SET) == 0) {
		int bad = check_stored(blob_root, f, body.fd, err);

		if (bad)
			rc = bad; /* else the registry's answer stands */
	}
	close(body.fd);
	free(digest);
	free(src);
	return rc;
}

static int push_mem(struct mlctl_oci_push_result *res, struct mlctl_oci *c, const char *what,
		    const char *text, struct mlctl_err *err)
{
	struct oci_body body = { -1, 0, strlen(text), text, 0 };
	char hex[65], digest[72];

	mlctl_sha256_hex(hex, text, body.len);
	snprintf(digest, sizeof(digest), "sha256:%s", hex);
	return push_blob(res, c, what, digest, &body, err);
}

/* The manifest under the tag; manifest_existed when the tag named it already. */
static int put_manifest(struct mlctl_oci_push_result *res, struct mlctl_oci *c,
			const char *text, struct mlctl_err *err)
{
	char *path = mlctl_aprintf("/v2/%s/manifests/%s", res->repo, res->tag);
	char *url = oci_url(c, path);
	struct oci_body body = { -1, 0, strlen(text), text, 0 };
	struct oci_req q = { .method = "HEAD", .url = url, .accept = MLCTL_OCI_MANIFEST_TYPE };
	struct oci_resp r;
	int rc;

	if ((rc = oci_request(c, &q, &r, err)))
		goto out;
	if (r.status == 200 && r.digest && !strcmp(r.digest, res->digest)) {
		res->manifest_existed = 1;
		goto out;
	}
	oci_resp_release(&r);
	q = (struct oci_req){ .method = "PUT", .url = url, .ctype = MLCTL_OCI_MANIFEST_TYPE,
			      .body = &body };
	if ((rc = oci_request(c, &q, &r, err)))
		goto out;
	if (r.status != 201)
		rc = oci_status_fail(c, &r, path, err);
	else if (r.digest && strcmp(r.digest, res->digest))
		rc = mlctl_err_set(err, MLCTL_ENET, "%s stored the manifest of %s:%s as %s, not "
				   "%s; it changed the bytes sent", c->loc.host, res->repo,
				   res->tag, r.digest, res->digest);
out:
	oci_resp_release(&r);
	free(url);
	free(path);
	return rc;
}

/*
 * What the version's tag names already: nothing (0); this very version
 * (1: nothing to send; res->digest becomes the tag's, which may differ in
 * its build time only); or another version under this tag: MLCTL_ECONFLICT,
 * before any byte is sent. A version's tag never moves.
 */
static int check_tag(struct mlctl_oci_push_result *res, struct mlctl_oci *c,
		     const char *vdigest, struct mlctl_err *err)
{
	char *path = mlctl_aprintf("/v2/%s/manifests/%s", res->repo, res->tag);
	char *url = oci_url(c, path), *byd = NULL;
	struct oci_req q = { .method = "HEAD", .url = url, .accept = MLCTL_OCI_MANIFEST_TYPE };
	struct oci_resp r;
	cJSON *doc = NULL;
	const char *theirs;
	int rc = oci_request(c, &q, &r, err);

	if (rc || r.status == 404)
		goto out;
	if (r.status != 200) {
		rc = oci_status_fail(c, &r, path, err);
		goto out;
	}
	if (r.digest && !strcmp(r.digest, res->digest)) {
		rc = 1;
		goto out;
	}
	/* another manifest: the same version built at another time, or another version */
	oci_resp_release(&r);
	q = (struct oci_req){ .method = "GET", .url = url, .accept = MLCTL_OCI_MANIFEST_TYPE,
			      .cap = 4u * 1024 * 1024 };
	if ((rc = oci_request(c, &q, &r, err)))
		goto out;
	doc = r.status == 200 ? cJSON_ParseWithLength(r.body.buf ? r.body.buf : "", r.body.len)
			      : NULL;
	theirs = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(doc, "annotations"), "io.mlctl.digest"));
	if (theirs && !strcmp(theirs, vdigest)) {
		char hex[65];

		mlctl_sha256_hex(hex, r.body.buf ? r.body.buf : "", r.body.len);
		snprintf(res->digest, sizeof(res->digest), "sha256:%s", hex);
		rc = 1;
		goto out;
	}
	rc = mlctl_err_set(err, MLCTL_ECONFLICT,
			   "%s/%s:%s holds other content (version digest %s) than %s:%s here (%s); "
			   "a version's tag never moves: push this content as another version "
			   "(mlctl push DIR --bump patch)", c->loc.host, res->repo, res->tag,
			   theirs ? theirs : "unknown: not pushed by mlctl", res->model, res->tag,
			   vdigest);
out:
	cJSON_Delete(doc);
	oci_resp_release(&r);
	free(byd);
	free(url);
	free(path);
	return rc;
}

struct push_jobs {
	struct mlctl_oci_push_result *res;
	const char *blob_root;
	const struct mlctl_manifest *m;
};

/* File f of the version, counted into the result under the jobs' lock. */
static int push_job(struct mlctl_oci *w, const struct mlctl_file_entry *f, void *ctx,
		    pthread_mutex_t *lock, struct mlctl_err *err)
{
	struct push_jobs *pj = ctx;
	struct mlctl_oci_push_result mine, *res = pj->res;
	int rc;

	/* the names only: the counters are the others' too, added to under the lock */
	memset(&mine, 0, sizeof(mine));
	mine.model = res->model;
	memcpy(mine.repo, res->repo, sizeof(mine.repo));
	rc = push_file(&mine, w, pj->blob_root, f, err);
	pthread_mutex_lock(lock);
	res->blobs_sent += mine.blobs_sent;
	res->blobs_skipped += mine.blobs_skipped;
	res->blobs_mounted += mine.blobs_mounted;
	res->bytes_sent += mine.bytes_sent;
	res->bytes_skipped += mine.bytes_skipped;
	res->bytes_resumed += mine.bytes_resumed;
	res->blobs_restarted += mine.blobs_restarted;
	pthread_mutex_unlock(lock);
	return rc;
}

/*
 * With a token service, the token to push, asked for once before the
 * workers start (as docker asks for pull and push at once): each worker
 * starts with it rather than asking for its own.
 */
static int push_token(struct mlctl_oci *c, const char *repo, struct mlctl_err *err)
{
	char *scope;
	int rc = 0;

	if (!c->realm)
		return 0;
	scope = mlctl_aprintf("repository:%s:pull,push", repo);
	if (!c->scope || strcmp(c->scope, scope))
		rc = oci_bearer_token(c, scope, err);
	free(scope);
	return rc;
}

/*
 * Every file's blob, --jobs at once. A blob two files share goes up once:
 * the second file finds it there (a HEAD) after the others are done, as it
 * would one at a time, rather than racing the first with an upload of its own.
 */
/* Files by digest, and in the version's order among equal digests. */
static int by_digest(const void *a, const void *b)
{
	const struct mlctl_file_entry *x = *(const struct mlctl_file_entry *const *)a;
	const struct mlctl_file_entry *y = *(const struct mlctl_file_entry *const *)b;
	int d = strcmp(x->sha256, y->sha256);

	return d ? d : (x > y) - (x < y); /* both in one array */
}

static int push_files(struct mlctl_oci_push_result *res, struct mlctl_oci *c,
		      const char *blob_root, const struct mlctl_manifest *m, struct mlctl_err *err)
{
	struct push_jobs pj = { res, blob_root, m };
	const struct mlctl_file_entry **sorted = mlctl_calloc(m->nfiles + 1, sizeof(*sorted));
	const struct mlctl_file_entry **first = mlctl_calloc(m->nfiles + 1, sizeof(*first));
	unsigned char *again = mlctl_calloc(m->nfiles + 1, 1);
	size_t i, nfirst = 0;
	int rc = 0;

	for (i = 0; i < m->nfiles; i++)
		sorted[i] = &m->files[i];
	qsort(sorted, m->nfiles, sizeof(*sorted), by_digest);
	for (i = 1; i < m->nfiles; i++)
		if (!strcmp(sorted[i]->sha256, sorted[i - 1]->sha256))
			again[sorted[i] - m->files] = 1;
	for (i = 0; i < m->nfiles; i++)
		if (!again[i])
			first[nfirst++] = &m->files[i];
	if (c->o.jobs > 1 && nfirst > 1)
		rc = push_token(c, res->repo, err);
	if (!rc)
		rc = oci_jobs_run(c, first, nfirst, push_job, &pj, err);
	for (i = 0; !rc && i < m->nfiles; i++)
		if (again[i])
			rc = push_file(res, c, blob_root, &m->files[i], err);
	free(sorted);
	free(first);
	free(again);
	return rc;
}

int mlctl_oci_push(struct mlctl_oci_push_result *res, struct mlctl_oci *c,
		   const char *blob_root, const struct mlctl_manifest *m, struct mlctl_err *err)
{
	char *canonical = mlctl_manifest_canonical(m), *config = NULL, *manifest = NULL;
	char hex[65];
	int rc;

	memset(res, 0, sizeof(*res));
	res->model = m->name;
	if ((rc = mlctl_oci_repo(res->repo, sizeof(res->repo), &c->loc, m->name, err)) ||
	    (rc = mlctl_oci_tag(res->tag, m->version, err)) ||
	    (rc = mlctl_modelpack_build(&config, &manifest, m, canonical, err)))
		goto out;
	mlctl_sha256_hex(hex, manifest, strlen(manifest));
	snprintf(res->digest, sizeof(res->digest), "sha256:%s", hex);
	mlctl_sha256_hex(hex, canonical, strlen(canonical));
	{
		char vdigest[72];

		snprintf(vdigest, sizeof(vdigest), "sha256:%s", hex);
		if ((rc = check_tag(res, c, vdigest, err)) < 0)
			goto out;
	}
	if (rc == 1) { /* the tag names this version: every blob is there (the registry checked) */
		res->manifest_existed = 1;
		res->blobs_skipped = m->nfiles + 2;
		res->bytes_skipped = mlctl_manifest_total_size(m) + strlen(canonical) + strlen(config);
		rc = 0;
		goto out;
	}
	oci_progress_start(c, mlctl_manifest_total_size(m) + strlen(canonical) + strlen(config));
	if ((rc = push_files(res, c, blob_root, m, err)))
		goto out;
	if ((rc = push_mem(res, c, MLCTL_MANIFEST_FILE, canonical, err)) ||
	    (rc = push_mem(res, c, "the config", config, err)))
		goto out;
	rc = put_manifest(res, c, manifest, err);
out:
	free(canonical);
	free(config);
	free(manifest);
	return rc;
}

int mlctl_oci_push_tag(struct mlctl_oci *c, const struct mlctl_manifest *m, const char *tag,
		       struct mlctl_err *err)
{
	struct mlctl_oci_push_result res;
	char *canonical = mlctl_manifest_canonical(m), *config = NULL, *manifest = NULL;
	char hex[65];
	int rc;

	memset(&res, 0, sizeof(res));
	snprintf(res.tag, sizeof(res.tag), "%s", tag);
	if (!(rc = mlctl_oci_repo(res.repo, sizeof(res.repo), &c->loc, m->name, err)) &&
	    !(rc = mlctl_modelpack_build(&config, &manifest, m, canonical, err))) {
		mlctl_sha256_hex(hex, manifest, strlen(manifest));
		snprintf(res.digest, sizeof(res.digest), "sha256:%s", hex);
		rc = put_manifest(&res, c, manifest, err);
	}
	free(canonical);
	free(config);
	free(manifest);
	return rc;
}
