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

/* The rest of an upload at loc, from off: chunks of c->o.chunk, each a PATCH. */
static int send_chunks(struct mlctl_oci *c, char **loc, struct oci_body *whole, uint64_t off,
		       uint64_t min_chunk, const char *what, struct mlctl_err *err)
{
	uint64_t chunk = c->o.chunk < min_chunk ? min_chunk : c->o.chunk;
	int rc = 0;

	while (off < whole->len) {
		uint64_t n = whole->len - off < chunk ? whole->len - off : chunk;
		struct oci_body part = { whole->fd, whole->off + off, n, whole->mem ? whole->mem + off : NULL, 0 };
		char range[64];
		struct oci_req q = { .method = "PATCH", .ctype = "application/octet-stream",
				     .range = range, .body = &part };
		struct oci_resp r;

		snprintf(range, sizeof(range), "%llu-%llu", (unsigned long long)off,
			 (unsigned long long)(off + n - 1));
		q.url = *loc;
		if ((rc = oci_request(c, &q, &r, err)))
			return rc;
		if (r.status != 202)
			rc = oci_status_fail(c, &r, what, err);
		else
			rc = next_location(c, loc, &r, what, err);
		oci_resp_release(&r);
		if (rc)
			return rc;
		off += n;
	}
	return 0;
}

/* Send a blob the registry lacks. */
static int upload(struct mlctl_oci *c, const char *repo, const char *digest,
		  struct oci_body *body, struct mlctl_err *err)
{
	char *path = mlctl_aprintf("/v2/%s/blobs/uploads/", repo), *url = oci_url(c, path);
	char *loc = NULL, *put = NULL, *what = mlctl_aprintf("the upload of %s", digest);
	struct oci_req q = { .method = "POST", .url = url };
	struct oci_resp r;
	uint64_t min_chunk = 0;
	int rc;

	if ((rc = oci_request(c, &q, &r, err)))
		goto out;
	if (r.status != 202) {
		rc = oci_status_fail(c, &r, what, err);
		goto out;
	}
	if ((rc = next_location(c, &loc, &r, what, err)))
		goto out;
	if (r.chunk_min)
		min_chunk = strtoull(r.chunk_min, NULL, 10);
	oci_resp_release(&r);
	if (body->len > c->o.chunk) {
		if ((rc = send_chunks(c, &loc, body, 0, min_chunk, what, err)))
			goto out;
		body = NULL; /* all sent: the PUT closes the upload */
	}
	put = oci_url_param(c, loc, "digest", digest);
	q = (struct oci_req){ .method = "PUT", .url = put, .ctype = "application/octet-stream",
			      .body = body };
	if ((rc = oci_request(c, &q, &r, err)))
		goto out;
	if (r.status != 201)
		rc = oci_status_fail(c, &r, what, err);
out:
	oci_resp_release(&r);
	free(what);
	free(put);
	free(loc);
	free(url);
	free(path);
	return rc;
}

/* One blob: skipped when there, else sent; counted in res. */
static int push_blob(struct mlctl_oci_push_result *res, struct mlctl_oci *c,
		     const char *digest, struct oci_body *body, struct mlctl_err *err)
{
	int has, rc;

	if ((rc = blob_has(c, &has, res->repo, digest, body->len, err)))
		return rc;
	if (has) {
		res->blobs_skipped++;
		res->bytes_skipped += body->len;
		return 0;
	}
	if ((rc = upload(c, res->repo, digest, body, err)))
		return rc;
	res->blobs_sent++;
	res->bytes_sent += body->len;
	return 0;
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
	rc = push_blob(res, c, digest, &body, err);
	close(body.fd);
	free(digest);
	free(src);
	return rc;
}

static int push_mem(struct mlctl_oci_push_result *res, struct mlctl_oci *c, const char *text,
		    struct mlctl_err *err)
{
	struct oci_body body = { -1, 0, strlen(text), text, 0 };
	char hex[65], digest[72];

	mlctl_sha256_hex(hex, text, body.len);
	snprintf(digest, sizeof(digest), "sha256:%s", hex);
	return push_blob(res, c, digest, &body, err);
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

int mlctl_oci_push(struct mlctl_oci_push_result *res, struct mlctl_oci *c,
		   const char *blob_root, const struct mlctl_manifest *m, struct mlctl_err *err)
{
	char *canonical = mlctl_manifest_canonical(m), *config = NULL, *manifest = NULL;
	char hex[65];
	size_t i;
	int rc;

	memset(res, 0, sizeof(*res));
	if ((rc = mlctl_oci_repo(res->repo, sizeof(res->repo), &c->loc, m->name, err)) ||
	    (rc = mlctl_oci_tag(res->tag, m->version, err)) ||
	    (rc = mlctl_modelpack_build(&config, &manifest, m, canonical, err)))
		goto out;
	mlctl_sha256_hex(hex, manifest, strlen(manifest));
	snprintf(res->digest, sizeof(res->digest), "sha256:%s", hex);
	for (i = 0; i < m->nfiles; i++)
		if ((rc = push_file(res, c, blob_root, &m->files[i], err)))
			goto out;
	if ((rc = push_mem(res, c, canonical, err)) || (rc = push_mem(res, c, config, err)))
		goto out;
	rc = put_manifest(res, c, manifest, err);
out:
	free(canonical);
	free(config);
	free(manifest);
	return rc;
}
