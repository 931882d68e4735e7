/*
 * pull.c - a version out of an OCI registry: the manifest (a tag only
 * resolves; the digest is what is checked), mlctl.json from its layer
 * (the version's digest is that layer's), then each file's blob streamed
 * into a temporary folder, its sha256 checked as it arrives; a transfer
 * that breaks goes on from where it stopped (Range). The folder is renamed
 * into place only when every file is there and right.
 */
#define _GNU_SOURCE
#include "oci/internal.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "banned.h"

#define PULL_TRIES 5

static const char *annotation(const cJSON *layer, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(layer, "annotations"), key));
}

static const cJSON *find_layer(const cJSON *man, const char *path, const char *digest)
{
	const cJSON *l;

	cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(man, "layers")) {
		const char *p = annotation(l, "org.cncf.model.filepath");
		const char *d = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(l, "digest"));

		if (!p)
			p = annotation(l, "org.opencontainers.image.title");
		if (p && d && !strcmp(p, path) && (!digest || !strcmp(d, digest)))
			return l;
	}
	return NULL;
}

/* Where a blob's bytes go: a file (fd) or memory, hashed on the way. */
struct sink {
	int fd;
	struct mlctl_buf *mem;
	size_t cap;
	struct mlctl_sha256 *h;
	uint64_t got;
	int first; /* the next bytes are the first of a response */
	mlctl_oci_put_fn put; /* else fd or mem */
	void *put_ctx;
};

static int sink_write(void *ctx, long status, const char *data, size_t len)
{
	struct sink *s = ctx;

	if (s->first && status == 200 && s->got > 0) {
		/* asked for the rest, given the whole: start again */
		if (s->put)
			return -1; /* a stream cannot be taken back */
		mlctl_sha256_free(s->h);
		s->h = mlctl_sha256_new();
		s->got = 0;
		if (s->mem)
			mlctl_buf_reset(s->mem);
		else if (ftruncate(s->fd, 0) < 0 || lseek(s->fd, 0, SEEK_SET) < 0)
			return -1;
	}
	s->first = 0;
	if (s->put) {
		if (s->put(s->put_ctx, data, len))
			return -1;
	} else if (s->mem) {
		if (s->mem->len + len > s->cap)
			return -1;
		mlctl_buf_add(s->mem, data, len);
	} else if (mlctl_write_all(s->fd, data, len) < 0) {
		return -1;
	}
	mlctl_sha256_update(s->h, data, len);
	s->got += len;
	return 0;
}

/* GET a blob into s, checking digest and size; resumed with a Range when the transfer breaks. */
static int get_blob(struct mlctl_oci *c, struct sink *s, const char *repo, const char *digest,
		    uint64_t size, const char *what, struct mlctl_err *err)
{
	char *path = mlctl_aprintf("/v2/%s/blobs/%s", repo, digest), *url = oci_url(c, path);
	char range[48], hex[65];
	struct oci_resp r;
	int tries, rc = 0;

	s->h = mlctl_sha256_new();
	s->got = 0;
	for (tries = 1;; tries++) {
		struct oci_req q = { .method = "GET", .url = url, .sink = sink_write, .sink_ctx = s };

		s->first = 1;
		c->cur_base = s->got;
		if (s->got > 0) {
			snprintf(range, sizeof(range), "bytes=%llu-", (unsigned long long)s->got);
			q.get_range = range;
		}
		rc = oci_request(c, &q, &r, err);
		if (!rc && r.status != 200 && r.status != 206) {
			rc = r.status == 404
				     ? mlctl_err_set(err, MLCTL_ENOTFOUND,
						     "%s has no blob %s for %s in %s; push the version "
						     "there again from a registry that holds it",
						     c->loc.host, digest, what, repo)
				     : oci_status_fail(c, &r, path, err);
			oci_resp_release(&r);
			goto out;
		}
		oci_resp_release(&r);
		if (!rc || r.sink_failed || tries >= PULL_TRIES || s->got == 0 || s->got >= size)
			break;
		mlctl_err_clear(err); /* broke after some bytes: ask for the rest */
	}
	if (rc)
		goto out;
	mlctl_sha256_final_hex(s->h, hex);
	if (s->got != size || strncmp(digest, "sha256:", 7) || strcmp(hex, digest + 7))
		rc = mlctl_err_set(err, MLCTL_EINTEGRITY,
				   "%s sent %s for %s with sha256:%.12s… and %llu bytes, not %s and "
				   "%llu: the blob on the registry is corrupt; nothing was written. "
				   "A push skips a blob the registry says it has: the registry must "
				   "drop it first (DELETE /v2/%s/blobs/%s where it allows deletes, "
				   "else its own tools), then 'mlctl push' sends it again",
				   c->loc.host, what, repo, hex, (unsigned long long)s->got, digest,
				   (unsigned long long)size, repo, digest);
out:
	mlctl_sha256_free(s->h);
	s->h = NULL;
	free(url);
	free(path);
	return rc;
}

void mlctl_oci_version_release(struct mlctl_oci_version *v)
{
	free(v->raw);
	cJSON_Delete(v->json);
	mlctl_manifest_release(&v->m);
	memset(v, 0, sizeof(*v));
}

static int get_manifest(struct mlctl_oci_version *v, struct mlctl_oci *c, const char *model,
			const char *ref, struct mlctl_err *err)
{
	char *path = mlctl_aprintf("/v2/%s/manifests/%s", v->repo, ref), *url = oci_url(c, path);
	struct oci_req q = { .method = "GET", .url = url, .accept = MLCTL_OCI_MANIFEST_TYPE,
			     .cap = 4u * 1024 * 1024 };
	struct oci_resp r;
	char hex[65];
	int rc;

	if ((rc = oci_request(c, &q, &r, err)))
		goto out;
	if (r.status == 404) {
		rc = mlctl_err_set(err, MLCTL_ENOTFOUND, "%s has no %s '%s' of %s (repository %s); "
				   "check the reference, and that it was sent there with 'mlctl push "
				   "--to'", c->loc.host, strncmp(ref, "sha256:", 7) ? "version" : "manifest",
				   ref, model, v->repo);
		goto out;
	}
	if (r.status != 200) {
		rc = oci_status_fail(c, &r, path, err);
		goto out;
	}
	mlctl_sha256_hex(hex, r.body.buf ? r.body.buf : "", r.body.len);
	snprintf(v->digest, sizeof(v->digest), "sha256:%s", hex);
	if (!strncmp(ref, "sha256:", 7) && strcmp(ref, v->digest)) {
		rc = mlctl_err_set(err, MLCTL_EINTEGRITY, "%s sent a manifest for %s whose digest "
				   "is %s", c->loc.host, ref, v->digest);
		goto out;
	}
	v->rawlen = r.body.len;
	v->raw = mlctl_buf_detach(&r.body);
	if (!v->raw)
		v->raw = mlctl_strdup("");
	v->json = cJSON_ParseWithLength(v->raw, v->rawlen);
	if (!cJSON_IsObject(v->json) ||
	    !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(v->json, "layers")))
		rc = mlctl_err_set(err, MLCTL_EINTEGRITY, "%s:%s on %s is not an OCI image manifest",
				   v->repo, ref, c->loc.host);
out:
	oci_resp_release(&r);
	free(url);
	free(path);
	return rc;
}

/*
 * The digest a tag names now (HEAD, Docker-Content-Digest), so the manifest
 * is then read by digest and checked against it; "" when the registry does
 * not say (the manifest is then read by the tag, and its digest computed).
 */
static int resolve_tag(char out[72], struct mlctl_oci *c, const char *repo, const char *model,
		       const char *tag, struct mlctl_err *err)
{
	char *path = mlctl_aprintf("/v2/%s/manifests/%s", repo, tag), *url = oci_url(c, path);
	struct oci_req q = { .method = "HEAD", .url = url, .accept = MLCTL_OCI_MANIFEST_TYPE };
	struct oci_resp r;
	int rc = oci_request(c, &q, &r, err);

	*out = '\0';
	if (rc)
		goto out;
	if (r.status == 404)
		rc = mlctl_err_set(err, MLCTL_ENOTFOUND, "%s has no version '%s' of %s (repository "
				   "%s); check the version, and that it was sent there with 'mlctl "
				   "push %s:%s --to REMOTE'", c->loc.host, tag, model, repo, model, tag);
	else if (r.status != 200)
		rc = oci_status_fail(c, &r, path, err);
	else if (r.digest && !strncmp(r.digest, "sha256:", 7) && strlen(r.digest) == 71 &&
		 mlctl_is_sha256_hex(r.digest + 7))
		snprintf(out, 72, "%s", r.digest);
out:
	oci_resp_release(&r);
	free(url);
	free(path);
	return rc;
}

int mlctl_oci_fetch(struct mlctl_oci_version *v, struct mlctl_oci *c, const char *model,
		    const char *ref, struct mlctl_err *err)
{
	struct mlctl_buf text = MLCTL_BUF_INIT;
	struct sink s = { -1, &text, MLCTL_MANIFEST_MAX, NULL, 0, 0, NULL, NULL };
	const cJSON *l, *mlayer = NULL;
	char tag[129], origin[700], byd[72] = "";
	const char *d;
	int rc;

	memset(v, 0, sizeof(*v));
	if ((rc = mlctl_oci_repo(v->repo, sizeof(v->repo), &c->loc, model, err)))
		return rc;
	if (strncmp(ref, "sha256:", 7) &&
	    ((rc = mlctl_oci_tag(tag, ref, err)) ||
	     (rc = resolve_tag(byd, c, v->repo, model, tag, err))))
		return rc;
	/* by digest: the tag only says which; what arrives is checked against it */
	if ((rc = get_manifest(v, c, model, *byd ? byd : strncmp(ref, "sha256:", 7) ? tag : ref,
			       err)))
		goto out;
	cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(v->json, "layers")) {
		if (annotation(l, MLCTL_OCI_MANIFEST_ANNOTATION))
			mlayer = l;
	}
	d = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(mlayer, "digest"));
	if (!mlayer || !d || strlen(d) != 71) {
		rc = mlctl_err_set(err, MLCTL_EINTEGRITY, "%s:%s on %s has no mlctl.json layer; it "
				   "was not pushed by mlctl", v->repo, ref, c->loc.host);
		goto out;
	}
	if ((rc = get_blob(c, &s, v->repo, d,
			   (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(mlayer, "size")),
			   MLCTL_MANIFEST_FILE, err)))
		goto out;
	snprintf(origin, sizeof(origin), "%s/%s@%s", c->loc.host, v->repo, v->digest);
	if ((rc = mlctl_manifest_parse(&v->m, text.buf ? text.buf : "", text.len, origin,
				       MLCTL_MANIFEST_STORED, NULL, err))) {
		rc = MLCTL_EINTEGRITY;
		err->code = rc;
		goto out;
	}
	snprintf(v->version_digest, sizeof(v->version_digest), "%s", d);
	if (strcmp(v->m.name, model) || (strncmp(ref, "sha256:", 7) && strcmp(v->m.version, ref)))
		rc = mlctl_err_set(err, MLCTL_EINTEGRITY, "%s:%s on %s holds %s:%s instead",
				   v->repo, ref, c->loc.host, v->m.name, v->m.version);
out:
	mlctl_buf_release(&text);
	if (rc)
		mlctl_oci_version_release(v);
	return rc;
}

static int wanted(const char *path, const char *const *globs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!fnmatch(globs[i], path, 0))
			return 1;
	return n == 0;
}

static int pull_file(struct mlctl_oci *c, const struct mlctl_oci_version *v,
		     const struct mlctl_file_entry *f, const char *root, struct mlctl_err *err)
{
	char *digest = mlctl_aprintf("sha256:%s", f->sha256);
	char *path = mlctl_path_join(root, f->path), *dir = mlctl_dirname(path);
	struct sink s = { -1, NULL, 0, NULL, 0, 0, NULL, NULL };
	int rc;

	if (!find_layer(v->json, f->path, digest)) {
		rc = mlctl_err_set(err, MLCTL_EINTEGRITY, "%s@%s on %s has no layer for '%s' "
				   "(%s)", v->repo, v->digest, c->loc.host, f->path, digest);
		goto out;
	}
	if ((rc = mlctl_mkdir_p(dir, 0755, err)))
		goto out;
	if ((s.fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
		rc = mlctl_err_errno(err, MLCTL_EIO, "cannot create '%s'", path);
		goto out;
	}
	oci_progress_file(c, f->path, f->size, 0);
	if ((rc = get_blob(c, &s, v->repo, digest, f->size, f->path, err)))
		goto out;
	oci_progress_done(c, f->size);
	if (fchmod(s.fd, f->mode) < 0 || fsync(s.fd) < 0)
		rc = mlctl_err_errno(err, MLCTL_EIO, "cannot write '%s'", path);
out:
	if (s.fd >= 0)
		close(s.fd);
	free(dir);
	free(path);
	free(digest);
	return rc;
}

struct pull_jobs {
	const struct mlctl_oci_version *v;
	const char *root;
	const struct mlctl_file_entry **files; /* the files wanted */
};


static int pull_job(struct mlctl_oci *w, const struct mlctl_file_entry *f, void *ctx,
		    pthread_mutex_t *lock, struct mlctl_err *err)
{
	struct pull_jobs *pj = ctx;

	(void)lock;
	return pull_file(w, pj->v, f, pj->root, err);
}

int mlctl_oci_pull(struct mlctl_oci *c, const struct mlctl_oci_version *v, const char *dir,
		   int force, const char *const *globs, size_t nglobs, size_t *nfiles,
		   uint64_t *nbytes, struct mlctl_err *err)
{
	struct mlctl_dir_stage st;
	struct pull_jobs pj = { v, NULL, NULL };
	char *pretty = NULL, *mpath = NULL;
	uint64_t total = 0;
	size_t i;
	int rc;

	*nfiles = 0;
	*nbytes = 0;
	if ((rc = mlctl_dir_stage_begin(&st, dir, force, err)))
		goto out;
	pj.root = st.tmp;
	pj.files = mlctl_calloc(v->m.nfiles ? v->m.nfiles : 1, sizeof(*pj.files));
	for (i = 0; i < v->m.nfiles; i++)
		if (wanted(v->m.files[i].path, globs, nglobs)) {
			pj.files[(*nfiles)++] = &v->m.files[i];
			total += v->m.files[i].size;
		}
	oci_progress_start(c, total);
	*nbytes = total;
	/* the folders first: workers then only make files */
	for (i = 0; i < *nfiles; i++) {
		char *path = mlctl_path_join(st.tmp, pj.files[i]->path), *sub = mlctl_dirname(path);

		rc = mlctl_mkdir_p(sub, 0755, err);
		free(sub);
		free(path);
		if (rc)
			goto out;
	}
	if ((rc = oci_jobs_run(c, pj.files, *nfiles, pull_job, &pj, err)))
		goto out;
	if (nglobs && !*nfiles) {
		rc = mlctl_err_set(err, MLCTL_ENOTFOUND, "no file of %s:%s matches --file %s%s; "
				   "'mlctl show %s:%s --from REMOTE' lists them", v->m.name,
				   v->m.version, globs[0], nglobs > 1 ? " (or the others)" : "",
				   v->m.name, v->m.version);
		goto out;
	}
	pretty = mlctl_manifest_pretty(&v->m, 0);
	mpath = mlctl_path_join(st.tmp, MLCTL_MANIFEST_FILE);
	if ((rc = mlctl_write_file_atomic(mpath, pretty, strlen(pretty), 0644, err)))
		goto out;
	rc = mlctl_dir_stage_commit(&st, err);
out:
	mlctl_dir_stage_release(&st);
	free(pj.files);
	free(pretty);
	free(mpath);
	return rc;
}

int mlctl_oci_latest(char out[256], struct mlctl_oci *c, const char *model, struct mlctl_err *err)
{
	char repo[512], *path = NULL, *url = NULL;
	struct oci_req q = { .method = "GET", .cap = 16u * 1024 * 1024 };
	struct oci_resp r;
	struct mlctl_semver sv;
	cJSON *doc = NULL, *t;
	int rc;

	*out = '\0';
	memset(&r, 0, sizeof(r));
	if ((rc = mlctl_oci_repo(repo, sizeof(repo), &c->loc, model, err)))
		return rc;
	path = mlctl_aprintf("/v2/%s/tags/list", repo);
	q.url = url = oci_url(c, path);
	if ((rc = oci_request(c, &q, &r, err)))
		goto out;
	if (r.status != 200 && r.status != 404) {
		rc = oci_status_fail(c, &r, path, err);
		goto out;
	}
	doc = r.status == 200 ? cJSON_ParseWithLength(r.body.buf ? r.body.buf : "", r.body.len) : NULL;
	cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(doc, "tags")) {
		char v[256];
		size_t i;

		if (!cJSON_IsString(t) || strlen(t->valuestring) >= sizeof(v))
			continue;
		/* the tag of a version: '+' became '_' (alias tags are no versions) */
		for (i = 0; t->valuestring[i]; i++)
			v[i] = t->valuestring[i] == '_' ? '+' : t->valuestring[i];
		v[i] = '\0';
		if (mlctl_semver_parse(&sv, v, NULL))
			continue;
		if (!*out || mlctl_semver_cmp_str(v, out) > 0)
			snprintf(out, 256, "%s", v);
	}
	if (!*out)
		rc = mlctl_err_set(err, MLCTL_ENOTFOUND, "%s has no version of %s (repository %s); "
				   "send one with 'mlctl push %s:VERSION --to REMOTE'", c->loc.host,
				   model, repo, model);
out:
	cJSON_Delete(doc);
	oci_resp_release(&r);
	free(url);
	free(path);
	return rc;
}

void mlctl_oci_progress_begin(struct mlctl_oci *c, uint64_t total)
{
	oci_progress_start(c, total);
}

int mlctl_oci_blob_fetch(struct mlctl_oci *c, const char *model, const char *sha,
			 uint64_t size, mlctl_oci_put_fn put, void *ctx, struct mlctl_err *err)
{
	struct sink s = { -1, NULL, 0, NULL, 0, 0, put, ctx };
	char repo[512], *digest, *what;
	int rc;

	if ((rc = mlctl_oci_repo(repo, sizeof(repo), &c->loc, model, err)))
		return rc;
	digest = mlctl_aprintf("sha256:%s", sha);
	what = mlctl_aprintf("a file of %s", model);
	{
		/* the progress line names it by model and digest: all a sync knows of it */
		char *label = mlctl_aprintf("%s %.19s", model, digest);

		oci_progress_file(c, label, size, 0);
		rc = get_blob(c, &s, repo, digest, size, what, err);
		oci_progress_done(c, rc ? 0 : size);
		free(label);
	}
	free(digest);
	free(what);
	return rc;
}
