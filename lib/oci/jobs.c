/*
 * jobs.c - several blobs at once (--jobs): each worker thread moves whole
 * blobs on a session of its own (a libcurl handle, the credentials and the
 * token copied from the first), taking the next blob when one is done.
 * What the workers share goes through one lock: the database of uploads in
 * progress, the progress line (the sum of what every worker moved) and the
 * first error, which stops the others (their transfers are cut at once).
 */
#define _GNU_SOURCE
#include "oci/internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

struct jobs {
	pthread_mutex_t lock;
	struct mlctl_oci *c;
	oci_job_fn fn;
	void *ctx;
	const struct mlctl_file_entry **files; /* largest first */
	size_t n, next, nw;
	atomic_int stop;
	int failed;
	struct mlctl_err err; /* the first failure */
	/* progress: what each worker moved, and when the line was last drawn */
	uint64_t *done;
	double last;
	/* the file that last moved: shown while a worker is between files */
	const char *file;
	uint64_t file_done, file_size;
	/* the database of uploads, behind the lock */
	struct mlctl_oci_uploads uploads;
};

struct worker {
	struct jobs *J;
	struct mlctl_oci *w;
	size_t idx;
	pthread_t thread;
};

static char *locked_get(void *ctx, const char *host, const char *repo, const char *digest)
{
	struct jobs *J = ctx;
	char *loc;

	pthread_mutex_lock(&J->lock);
	loc = J->c->uploads->get(J->c->uploads->ctx, host, repo, digest);
	pthread_mutex_unlock(&J->lock);
	return loc;
}

static void locked_put(void *ctx, const char *host, const char *repo, const char *digest,
		       const char *location, uint64_t offset)
{
	struct jobs *J = ctx;

	pthread_mutex_lock(&J->lock);
	J->c->uploads->put(J->c->uploads->ctx, host, repo, digest, location, offset);
	pthread_mutex_unlock(&J->lock);
}

static void locked_drop(void *ctx, const char *host, const char *repo, const char *digest)
{
	struct jobs *J = ctx;

	pthread_mutex_lock(&J->lock);
	J->c->uploads->drop(J->c->uploads->ctx, host, repo, digest);
	pthread_mutex_unlock(&J->lock);
}

static char *locked_holder(void *ctx, const char *sha, const char *model)
{
	struct jobs *J = ctx;
	char *h;

	pthread_mutex_lock(&J->lock);
	h = J->c->uploads->holder(J->c->uploads->ctx, sha, model);
	pthread_mutex_unlock(&J->lock);
	return h;
}

/* A worker's progress, as part of the whole: the line says the sum of all. */
static void progress(void *ctx, const struct mlctl_oci_progress *p)
{
	struct worker *wk = ctx;
	struct jobs *J = wk->J;
	struct mlctl_oci_progress all = *p;
	size_t i;

	pthread_mutex_lock(&J->lock);
	J->done[wk->idx] = p->total_done;
	all.total_done = J->c->total_base;
	for (i = 0; i < J->nw; i++)
		all.total_done += J->done[i];
	all.total_size = J->c->total_size;
	if (all.total_done > all.total_size)
		all.total_done = all.total_size;
	if (p->file && *p->file) {
		J->file = p->file;
		J->file_done = p->file_done;
		J->file_size = p->file_size;
	} else if (J->file) {
		all.file = J->file;
		all.file_done = J->file_done;
		all.file_size = J->file_size;
	}
	if (p->seconds - J->last >= 0.1 || all.total_done == all.total_size) {
		J->last = p->seconds;
		J->c->o.progress(J->c->o.progress_ctx, &all);
	}
	pthread_mutex_unlock(&J->lock);
}

/* A session for a worker: the first one's, with a libcurl handle of its own. */
static struct mlctl_oci *session_copy(struct worker *wk)
{
	struct mlctl_oci *c = wk->J->c, *w = mlctl_calloc(1, sizeof(*w));

	w->h = curl_easy_init();
	w->loc = c->loc;
	w->o = c->o;
	if (c->o.progress) {
		w->o.progress = progress;
		w->o.progress_ctx = wk;
	}
	w->base = mlctl_strdup(c->base);
	w->user = c->user ? mlctl_strdup(c->user) : NULL;
	w->pass = c->pass ? mlctl_strdup(c->pass) : NULL;
	w->identity = c->identity ? mlctl_strdup(c->identity) : NULL;
	w->basic = c->basic;
	w->realm = c->realm ? mlctl_strdup(c->realm) : NULL;
	w->service = c->service ? mlctl_strdup(c->service) : NULL;
	w->token = c->token ? mlctl_strdup(c->token) : NULL;
	w->scope = c->scope ? mlctl_strdup(c->scope) : NULL;
	w->auth_from = c->auth_from ? mlctl_strdup(c->auth_from) : NULL;
	w->quirks = c->quirks;
	w->uploads = c->uploads ? &wk->J->uploads : NULL;
	w->stop = &wk->J->stop;
	/* the progress of the whole, as the first session started it */
	w->started = c->started;
	w->total_size = c->total_size;
	return w;
}

static void fail(struct jobs *J, const struct mlctl_err *err)
{
	pthread_mutex_lock(&J->lock);
	/* the first failure is the one to tell; the others are what stopping it did */
	if (!J->failed) {
		J->failed = 1;
		J->err = *err;
	}
	atomic_store(&J->stop, 1);
	pthread_mutex_unlock(&J->lock);
}

static void *work(void *arg)
{
	struct worker *wk = arg;
	struct jobs *J = wk->J;

	for (;;) {
		struct mlctl_err err = MLCTL_ERR_INIT;
		size_t i;

		pthread_mutex_lock(&J->lock);
		i = J->next++;
		pthread_mutex_unlock(&J->lock);
		if (i >= J->n || atomic_load(&J->stop))
			break;
		if (J->fn(wk->w, J->files[i], J->ctx, &J->lock, &err)) {
			fail(J, &err);
			break;
		}
	}
	return NULL;
}

/* Largest first (the last blob to start is a small one), then by path. */
static int larger_first(const void *a, const void *b)
{
	const struct mlctl_file_entry *x = *(const struct mlctl_file_entry *const *)a;
	const struct mlctl_file_entry *y = *(const struct mlctl_file_entry *const *)b;

	if (x->size != y->size)
		return x->size < y->size ? 1 : -1;
	return strcmp(x->path, y->path);
}

int oci_jobs_run(struct mlctl_oci *c, const struct mlctl_file_entry *const *files, size_t n,
		 oci_job_fn fn, void *ctx, struct mlctl_err *err)
{
	struct jobs J;
	struct worker *wk;
	size_t nw = c->o.jobs > 1 ? c->o.jobs : 1, i, started = 0;
	int rc = 0;

	if (nw > n)
		nw = n;
	memset(&J, 0, sizeof(J));
	pthread_mutex_init(&J.lock, NULL);
	if (nw <= 1) {
		/* one at a time, on this session, in the caller's order */
		for (i = 0; !rc && i < n; i++)
			rc = fn(c, files[i], ctx, &J.lock, err);
		pthread_mutex_destroy(&J.lock);
		return rc;
	}
	J.files = mlctl_calloc(n, sizeof(*J.files));
	memcpy(J.files, files, n * sizeof(*J.files));
	qsort(J.files, n, sizeof(*J.files), larger_first);
	J.c = c;
	J.fn = fn;
	J.ctx = ctx;
	J.n = n;
	atomic_init(&J.stop, 0);
	J.nw = nw;
	J.done = mlctl_calloc(nw, sizeof(*J.done));
	J.uploads = (struct mlctl_oci_uploads){ &J, c->uploads && c->uploads->get ? locked_get : NULL,
						c->uploads && c->uploads->put ? locked_put : NULL,
						c->uploads && c->uploads->drop ? locked_drop : NULL,
						c->uploads && c->uploads->holder ? locked_holder
										 : NULL };
	wk = mlctl_calloc(nw, sizeof(*wk));
	for (i = 0; i < nw; i++) {
		wk[i].J = &J;
		wk[i].idx = i;
		wk[i].w = session_copy(&wk[i]);
		if (!wk[i].w->h || pthread_create(&wk[i].thread, NULL, work, &wk[i])) {
			struct mlctl_err e = MLCTL_ERR_INIT;

			mlctl_err_set(&e, MLCTL_EINTERNAL, "cannot start a transfer thread");
			fail(&J, &e);
			break;
		}
		started++;
	}
	for (i = 0; i < started; i++)
		pthread_join(wk[i].thread, NULL);
	for (i = 0; i < nw; i++) {
		if (!wk[i].w)
			continue;
		c->total_base += J.done[i];
		c->sent += wk[i].w->sent;
		c->sent_chunks += wk[i].w->sent_chunks;
		c->resumed += wk[i].w->resumed;
		/* a token a worker had to get (another scope) is not carried back */
		mlctl_oci_free(wk[i].w);
	}
	if (J.failed) {
		*err = J.err;
		rc = err->code;
	}
	free(wk);
	free(J.files);
	free(J.done);
	pthread_mutex_destroy(&J.lock);
	return rc;
}
