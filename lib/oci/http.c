/*
 * http.c - requests to an OCI registry over one libcurl handle (its
 * connections reused): headers the protocol needs kept, bodies sent from
 * a file's range or from memory, answers streamed to a callback or kept
 * up to a cap, retries with backoff on what is worth retrying.
 */
#define _GNU_SOURCE
#include "oci/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "banned.h"

#define MAX_TRIES 5
#define USER_AGENT "mlctl/0.1.0"

struct xfer {
	struct mlctl_oci *c;
	CURL *h;
	const struct oci_req *q;
	struct oci_resp *resp;
	uint64_t received; /* body bytes handed on */
};

static void keep_header(char **slot, const char *v, size_t n)
{
	while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
		n--;
	while (n > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		n--;
	}
	free(*slot);
	*slot = mlctl_malloc(n + 1);
	memcpy(*slot, v, n);
	(*slot)[n] = '\0';
}

static size_t on_header(char *data, size_t size, size_t nitems, void *ud)
{
	struct xfer *x = ud;
	struct oci_resp *r = x->resp;
	size_t n = size * nitems;
	static const struct {
		const char *name;
		size_t off;
	} keys[] = {
		{ "location:", offsetof(struct oci_resp, location) },
		{ "range:", offsetof(struct oci_resp, range) },
		{ "docker-content-digest:", offsetof(struct oci_resp, digest) },
		{ "www-authenticate:", offsetof(struct oci_resp, www_auth) },
		{ "retry-after:", offsetof(struct oci_resp, retry_after) },
		{ "oci-chunk-min-length:", offsetof(struct oci_resp, chunk_min) },
	};
	size_t i;

	if (n > 5 && !strncmp(data, "HTTP/", 5)) {
		/* a new response (after a redirect or 100 Continue): forget the last one's */
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			char **slot = (char **)((char *)r + keys[i].off);

			free(*slot);
			*slot = NULL;
		}
		r->has_length = 0;
		return n;
	}
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		size_t kn = strlen(keys[i].name);

		if (n > kn && !strncasecmp(data, keys[i].name, kn)) {
			keep_header((char **)((char *)r + keys[i].off), data + kn, n - kn);
			return n;
		}
	}
	if (n > 15 && !strncasecmp(data, "content-length:", 15)) {
		char *end;
		unsigned long long v = strtoull(data + 15, &end, 10);

		r->length = v;
		r->has_length = 1;
	}
	return n;
}

/* A 2xx body goes to the sink when there is one; any other is kept (an error's text). */
static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	struct oci_resp *r = x->resp;
	size_t n = size * nmemb;
	long status = 0;

	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
	if (x->q->sink && status >= 200 && status < 300) {
		if (x->q->sink(x->q->sink_ctx, status, data, n)) {
			r->sink_failed = 1;
			return 0; /* stops the transfer */
		}
		x->received += n;
		return n;
	}
	if (r->body.len + n > (x->q->cap ? x->q->cap : 64 * 1024)) {
		if (x->q->sink || status < 200 || status >= 300)
			return n; /* an error's text past the cap: not needed */
		r->sink_failed = 1;
		return 0;
	}
	mlctl_buf_add(&r->body, data, n);
	return n;
}

static size_t on_read(char *buf, size_t size, size_t nitems, void *ud)
{
	struct oci_body *b = ud;
	size_t want = size * nitems;
	uint64_t left = b->len - b->done;
	ssize_t got;

	if (want > left)
		want = (size_t)left;
	if (want == 0)
		return 0;
	if (b->mem) {
		memcpy(buf, b->mem + b->done, want);
		b->done += want;
		return want;
	}
	do
		got = pread(b->fd, buf, want, (off_t)(b->off + b->done));
	while (got < 0 && errno == EINTR);
	if (got <= 0)
		return CURL_READFUNC_ABORT;
	b->done += (uint64_t)got;
	return (size_t)got;
}

static int on_seek(void *ud, curl_off_t offset, int origin)
{
	struct oci_body *b = ud;

	if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > b->len)
		return CURL_SEEKFUNC_CANTSEEK;
	b->done = (uint64_t)offset;
	return CURL_SEEKFUNC_OK;
}

void oci_resp_release(struct oci_resp *r)
{
	free(r->location);
	free(r->range);
	free(r->digest);
	free(r->www_auth);
	free(r->retry_after);
	free(r->chunk_min);
	mlctl_buf_release(&r->body);
	memset(r, 0, sizeof(*r));
}

static int transient_curl(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_COULDNT_RESOLVE_HOST:
		return 1;
	default:
		return 0;
	}
}

static int transient_status(long s)
{
	return s == 408 || s == 429 || s == 500 || s == 502 || s == 503 || s == 504;
}

/*
 * How long to wait before try number n (from 1): Retry-After when the
 * registry said (seconds or a date; at most a minute), else 2^n times the base (MLCTL_RETRY_MS,
 * default 250 ms), with up to as much again of jitter, at most 16 s.
 */
static void backoff(int n, const char *retry_after)
{
	const char *env = getenv("MLCTL_RETRY_MS");
	long base = 250, ms;
	struct timespec ts;

	if (env && *env) {
		char *end;
		long v = strtol(env, &end, 10);

		if (!*end && v >= 0 && v <= 60000)
			base = v;
	}
	ms = base << n;
	if (ms > 16000)
		ms = 16000;
	ms += ms > 0 ? rand() % (ms + 1) : 0;
	if (retry_after && *retry_after) {
		/* delay-seconds, or an HTTP date (RFC 9110, 10.2.3) */
		char *end;
		long secs = strtol(retry_after, &end, 10);
		time_t when;

		if (*end || end == retry_after) {
			when = curl_getdate(retry_after, NULL);
			secs = when > 0 ? (long)(when - time(NULL)) : -1;
			if (when > 0 && secs < 0)
				secs = 0; /* a date gone by: now */
		}
		if (secs >= 0)
			ms = (secs > 60 ? 60 : secs) * 1000;
	}
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !mlctl_interrupted())
		;
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report(struct mlctl_oci *c, uint64_t now_bytes, int force)
{
	struct mlctl_oci_progress p;
	double t = now_seconds();

	if (!c->o.progress || (!force && t - c->last_report < 0.1))
		return;
	c->last_report = t;
	p.file = c->cur_file ? c->cur_file : "";
	p.file_size = c->cur_size;
	p.file_done = c->cur_base + now_bytes;
	if (p.file_done > p.file_size)
		p.file_done = p.file_size;
	p.total_size = c->total_size;
	p.total_done = c->total_base + (c->cur_file ? p.file_done : 0);
	p.seconds = t - c->started;
	c->o.progress(c->o.progress_ctx, &p);
}

void oci_progress_start(struct mlctl_oci *c, uint64_t total)
{
	c->started = now_seconds();
	c->last_report = 0;
	c->total_size = total;
	c->total_base = 0;
	c->cur_file = NULL;
}

void oci_progress_file(struct mlctl_oci *c, const char *file, uint64_t size, uint64_t base)
{
	c->cur_file = file;
	c->cur_size = size;
	c->cur_base = base;
	report(c, 0, 1);
}

void oci_progress_done(struct mlctl_oci *c, uint64_t bytes)
{
	c->cur_file = NULL;
	c->total_base += bytes;
	report(c, 0, 1);
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct xfer *x = ud;

	(void)dltotal;
	(void)ultotal;
	if (mlctl_interrupted())
		return 1; /* SIGINT or SIGTERM: the transfer stops now */
	if (x->c->stop && atomic_load(x->c->stop))
		return 1; /* another worker failed: this one's work is moot */
	if (x->c->cur_file)
		report(x->c, (uint64_t)(x->q->body ? ulnow : dlnow), 0);
	return 0;
}

static void set_common(struct mlctl_oci *c, const struct oci_req *q, struct xfer *x,
		       struct curl_slist **hdrs)
{
	CURL *h = c->h;

	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, q->url);
	curl_easy_setopt(h, CURLOPT_USERAGENT, USER_AGENT);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	/*
	 * Blobs stream through in 512 KiB pieces rather than libcurl's 16 KiB
	 * and 64 KiB: fewer calls into the hash and write(2) per gigabyte. Not
	 * under --limit-rate: libcurl paces in whole buffers, and a slow
	 * transfer is better paced (and its progress told) in small ones.
	 */
	if (q->sink && !c->o.limit_rate)
		curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 512L * 1024);
	if (q->body && !c->o.limit_rate)
		curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024);
	/* a connection that moves less than a byte a second for a minute is dead */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	/* also how a signal stops a transfer that would go on for minutes */
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	if (c->o.limit_rate) {
		curl_easy_setopt(h, CURLOPT_MAX_SEND_SPEED_LARGE, (curl_off_t)c->o.limit_rate);
		curl_easy_setopt(h, CURLOPT_MAX_RECV_SPEED_LARGE, (curl_off_t)c->o.limit_rate);
	}
	if (c->o.insecure) {
		/* as docker's insecure registries: any certificate (or plain http, session.c) */
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (c->o.ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->o.ca_file);
	if (c->o.cert)
		curl_easy_setopt(h, CURLOPT_SSLCERT, c->o.cert);
	if (c->o.key)
		curl_easy_setopt(h, CURLOPT_SSLKEY, c->o.key);
	if (c->token && !q->plain) {
		char *a = mlctl_aprintf("Authorization: Bearer %s", c->token);

		*hdrs = curl_slist_append(*hdrs, a);
		explicit_bzero(a, strlen(a));
		free(a);
	} else if ((c->basic || q->plain) && c->user) {
		/* libcurl sends them to this host only, never after a redirect elsewhere */
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(h, CURLOPT_USERNAME, c->user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, c->pass ? c->pass : "");
	}
	*hdrs = curl_slist_append(*hdrs, "Expect:");
	if (q->accept) {
		char *a = mlctl_aprintf("Accept: %s", q->accept);

		*hdrs = curl_slist_append(*hdrs, a);
		free(a);
	}
	if (q->ctype) {
		char *a = mlctl_aprintf("Content-Type: %s", q->ctype);

		*hdrs = curl_slist_append(*hdrs, a);
		free(a);
	}
	if (q->range) {
		char *a = mlctl_aprintf("Content-Range: %s", q->range);

		*hdrs = curl_slist_append(*hdrs, a);
		free(a);
	}
	if (q->get_range) {
		char *a = mlctl_aprintf("Range: %s", q->get_range);

		*hdrs = curl_slist_append(*hdrs, a);
		free(a);
	}
}

static void set_method(CURL *h, const struct oci_req *q)
{
	if (!strcmp(q->method, "HEAD")) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(q->method, "GET")) {
		/* blobs are often served from elsewhere (a bucket), by redirect */
		curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
	} else if (!q->body) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
		if (strcmp(q->method, "POST"))
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, q->method);
	} else {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)q->body->len);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(h, CURLOPT_READDATA, q->body);
		curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(h, CURLOPT_SEEKDATA, q->body);
		if (strcmp(q->method, "PUT"))
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, q->method);
	}
}

/*
 * The path of a URL, for messages: never its query (an upload's signed
 * state, a token's scope) or credentials. Into buf, which it returns.
 */
static const char *url_path(char *buf, size_t n, const char *url)
{
	const char *p = strstr(url, "://");

	p = p ? strchr(p + 3, '/') : NULL;
	p = p ? p : url;
	snprintf(buf, n, "%.*s", (int)strcspn(p, "?#"), p);
	return buf;
}

/*
 * A TLS alert the server sent after the handshake (TLS 1.3 sends "certificate
 * required" so): libcurl reports a failed read or write, which trying again
 * does not mend.
 */
static int tls_alert(CURLcode cc, const char *ebuf)
{
	return (cc == CURLE_RECV_ERROR || cc == CURLE_SEND_ERROR) && strstr(ebuf, "SSL") &&
	       strstr(ebuf, "alert");
}

/* What to do about a transfer that failed so. */
static const char *tls_hint(CURLcode cc, const char *ebuf)
{
	if (tls_alert(cc, ebuf))
		cc = CURLE_SSL_CONNECT_ERROR;
	switch (cc) {
	case CURLE_PEER_FAILED_VERIFICATION:
		return "give --ca-file with the certificate of the CA that signed the registry's "
		       "(or --insecure to take any certificate)";
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CLIENTCERT:
		return "the TLS handshake failed: check --ca-file, and give --cert and --key when "
		       "the registry wants a client certificate";
	default:
		return "check the address and that the registry is up";
	}
}

int oci_request(struct mlctl_oci *c, const struct oci_req *q, struct oci_resp *resp,
		struct mlctl_err *err)
{
	char ebuf[CURL_ERROR_SIZE], pbuf[512];
	CURLcode cc = CURLE_OK;
	int tries, reauth = 0;

	memset(resp, 0, sizeof(*resp));
	for (tries = 1;; tries++) {
		struct curl_slist *hdrs = NULL;
		struct xfer x = { c, c->h, q, resp, 0 };

		oci_resp_release(resp);
		if (q->body)
			q->body->done = 0;
		set_common(c, q, &x, &hdrs);
		set_method(c->h, q);
		curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, hdrs);
		ebuf[0] = '\0';
		curl_easy_setopt(c->h, CURLOPT_ERRORBUFFER, ebuf);
		cc = curl_easy_perform(c->h);
		curl_slist_free_all(hdrs);
		if (mlctl_interrupted())
			return mlctl_err_interrupted(err);
		if (cc == CURLE_OK)
			curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &resp->status);
		if (q->body && cc == CURLE_OK)
			c->sent += q->body->done;
		resp->received = x.received;
		if (resp->sink_failed)
			return mlctl_err_set(err, MLCTL_EIO, "cannot keep what %s sent for %s",
					     c->loc.host, url_path(pbuf, sizeof(pbuf), q->url));
		/* a token for what the registry says this request needs, then once more */
		if (cc == CURLE_OK && resp->status == 401 && c->realm && !q->plain && !reauth &&
		    resp->www_auth) {
			char *scope = NULL;
			int r2;

			reauth = 1;
			if (oci_bearer_challenge(c, resp->www_auth, &scope) == 0 &&
			    (!c->scope || !scope || strcmp(c->scope, scope))) {
				r2 = oci_bearer_token(c, scope, err);
				free(scope);
				if (r2)
					return r2;
				tries--;
				continue;
			}
			free(scope);
		}
		/* streamed bytes cannot be taken back: the caller resumes with a Range */
		if (x.received > 0 || tries >= MAX_TRIES || (c->stop && atomic_load(c->stop)))
			break;
		/* nothing listening where a registry was never reached: a typo, not a hiccup */
		if (cc != CURLE_OK ? !transient_curl(cc) || tls_alert(cc, ebuf) ||
					     (q->first && cc == CURLE_COULDNT_CONNECT)
				   : !transient_status(resp->status))
			break;
		backoff(tries, cc == CURLE_OK ? resp->retry_after : NULL);
		if (mlctl_interrupted())
			return mlctl_err_interrupted(err);
	}
	c->last_cc = cc;
	if (cc != CURLE_OK)
		return mlctl_err_set(err, MLCTL_ENET, "cannot reach the OCI registry %s (%s %s): %s; "
				     "%s", c->loc.host, q->method, url_path(pbuf, sizeof(pbuf), q->url),
				     *ebuf ? ebuf : curl_easy_strerror(cc), tls_hint(cc, ebuf));
	return 0;
}

/* The registry's own words: {"errors":[{"code":…,"message":…}]}. */
static void registry_message(char *out, size_t n, const struct oci_resp *r)
{
	cJSON *doc, *e;
	const char *code = NULL, *msg = NULL;

	*out = '\0';
	if (!r->body.len)
		return;
	doc = cJSON_ParseWithLength(r->body.buf, r->body.len);
	e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "errors"), 0);
	code = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "code"));
	msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "message"));
	if (code || msg)
		snprintf(out, n, ": %s%s%s", code ? code : "", code && msg ? " " : "",
			 msg ? msg : "");
	cJSON_Delete(doc);
}

int oci_status_fail(struct mlctl_oci *c, const struct oci_resp *r, const char *what,
		    struct mlctl_err *err)
{
	char why[256];

	registry_message(why, sizeof(why), r);
	if (r->status == 401 || r->status == 403) {
		if (c->identity && !c->user)
			return mlctl_err_set(err, MLCTL_ENET,
					     "%s refused the identity token (from %s) for %s (%ld%s); "
					     "run 'mlctl login %s -u USER --password-stdin', or your "
					     "credential helper's login, to get a new one",
					     c->loc.host, c->auth_from, what, r->status, why,
					     c->loc.host);
		if (c->user && !strcmp(c->auth_from, "standard input"))
			/* mlctl login trying them */
			return mlctl_err_set(err, MLCTL_ENET, "%s refused the credentials of '%s' "
					     "for %s (%ld%s): check the user and password; nothing "
					     "was kept", c->loc.host, c->user, what, r->status, why);
		if (c->user)
			return mlctl_err_set(err, MLCTL_ENET,
					     "%s refused the credentials of '%s' (from %s) for %s "
					     "(%ld%s); run 'mlctl login %s -u USER --password-stdin' "
					     "with the right ones",
					     c->loc.host, c->user, c->auth_from, what, r->status, why,
					     c->loc.host);
		return mlctl_err_set(err, MLCTL_ENET,
				     "%s wants credentials for %s (%ld%s); run 'mlctl login %s -u "
				     "USER --password-stdin'",
				     c->loc.host, what, r->status, why, c->loc.host);
	}
	return mlctl_err_set(err, MLCTL_ENET, "%s answered %ld to %s%s", c->loc.host, r->status,
			     what, why);
}

char *oci_url(struct mlctl_oci *c, const char *path)
{
	if (strstr(path, "://"))
		return mlctl_strdup(path);
	return mlctl_aprintf("%s%s%s", c->base, *path == '/' ? "" : "/", path);
}

char *oci_url_param(struct mlctl_oci *c, const char *url, const char *name, const char *value)
{
	char *esc = curl_easy_escape(c->h, value, 0);
	char *out = mlctl_aprintf("%s%c%s=%s", url, strchr(url, '?') ? '&' : '?', name,
				  esc ? esc : value);

	curl_free(esc);
	return out;
}
