/*
 * http.c - the http runtime: a server started on a free port (or one already running), asked with POST.
 */
#define _GNU_SOURCE
#include "smoke/internal.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <curl/curl.h>

#include "banned.h"

/* RFC 6901: "" is the whole document, "/a/0/b~1c" walks into it. */
static const cJSON *json_pointer(const cJSON *doc, const char *ptr)
{
	char tok[256];

	while (doc && *ptr == '/') {
		size_t n = 0;

		ptr++;
		while (*ptr && *ptr != '/' && n + 1 < sizeof(tok)) {
			if (ptr[0] == '~' && ptr[1] == '1') {
				tok[n++] = '/';
				ptr += 2;
			} else if (ptr[0] == '~' && ptr[1] == '0') {
				tok[n++] = '~';
				ptr += 2;
			} else {
				tok[n++] = *ptr++;
			}
		}
		tok[n] = '\0';
		if (cJSON_IsArray(doc)) {
			char *end;
			long i = strtol(tok, &end, 10);

			doc = *tok && !*end && i >= 0 ? cJSON_GetArrayItem(doc, (int)i) : NULL;
		} else {
			doc = cJSON_GetObjectItemCaseSensitive(doc, tok);
		}
	}
	return *ptr ? NULL : doc;
}

/* The request body: the template with "{{input}}" replaced, or the input itself. */
static cJSON *fill_template(const cJSON *tmpl, const cJSON *input)
{
	cJSON *out, *c;

	if (!tmpl)
		return cJSON_Duplicate(input, 1);
	if (cJSON_IsString(tmpl) && !strcmp(tmpl->valuestring, "{{input}}"))
		return cJSON_Duplicate(input, 1);
	if (!cJSON_IsObject(tmpl) && !cJSON_IsArray(tmpl))
		return cJSON_Duplicate(tmpl, 1);
	out = cJSON_IsObject(tmpl) ? cJSON_CreateObject() : cJSON_CreateArray();
	cJSON_ArrayForEach(c, tmpl) {
		cJSON *v = fill_template(c, input);

		if (cJSON_IsObject(out))
			cJSON_AddItemToObject(out, c->string, v);
		else
			cJSON_AddItemToArray(out, v);
	}
	return out;
}

static size_t collect_body(char *data, size_t size, size_t n, void *ctx)
{
	struct mlctl_buf *b = ctx;

	if (b->len + size * n > LINE_MAX_BYTES)
		return 0; /* too large: the transfer fails */
	mlctl_buf_add(b, data, size * n);
	return size * n;
}

/* One HTTP exchange; the status into *status and the body into body. */
static int http_do(struct run *rn, const char *url, const char *post, long *status,
		   struct mlctl_buf *body, long timeout_ms, char *errbuf)
{
	CURLcode cc;

	mlctl_buf_reset(body);
	curl_easy_setopt(rn->curl, CURLOPT_URL, url);
	curl_easy_setopt(rn->curl, CURLOPT_WRITEFUNCTION, collect_body);
	curl_easy_setopt(rn->curl, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(rn->curl, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 1);
	curl_easy_setopt(rn->curl, CURLOPT_ERRORBUFFER, errbuf);
	errbuf[0] = '\0';
	if (post) {
		curl_easy_setopt(rn->curl, CURLOPT_POSTFIELDS, post);
	} else {
		curl_easy_setopt(rn->curl, CURLOPT_HTTPGET, 1L);
	}
	cc = curl_easy_perform(rn->curl);
	if (cc != CURLE_OK) {
		if (!errbuf[0])
			snprintf(errbuf, CURL_ERROR_SIZE, "%s", curl_easy_strerror(cc));
		return cc == CURLE_OPERATION_TIMEDOUT ? 1 : -1;
	}
	curl_easy_getinfo(rn->curl, CURLINFO_RESPONSE_CODE, status);
	return 0;
}

enum answer smk_ask_http(struct run *rn, const cJSON *input, cJSON **answer, double *ms,
			 struct mlctl_buf *why)
{
	struct mlctl_buf body = MLCTL_BUF_INIT;
	cJSON *req = fill_template(rn->request, input), *doc;
	char *text = cJSON_PrintUnformatted(req), errbuf[CURL_ERROR_SIZE];
	double t0 = mlctl_mono_ms(), left = rn->overall_end - t0;
	long status = 0, limit = rn->timeout_ms < left ? rn->timeout_ms : (long)left;
	const cJSON *out;
	int rc;

	cJSON_Delete(req);
	*answer = NULL;
	rc = http_do(rn, rn->endpoint_url, text, &status, &body, limit, errbuf);
	cJSON_free(text);
	*ms = mlctl_mono_ms() - t0;
	if (rc) {
		mlctl_buf_release(&body);
		if (rc > 0)
			return A_TIMEOUT;
		if (rn->pr.k.keeper > 0 && mlctl_proc_reap(&rn->pr.k, 0))
			return A_DIED;
		mlctl_buf_printf(why, "the request failed: %s", errbuf);
		return A_GARBAGE;
	}
	*answer = cJSON_CreateObject();
	doc = cJSON_ParseWithLength(body.buf ? body.buf : "", body.len);
	if (status != 200) {
		char *e = mlctl_aprintf("HTTP %ld: %.200s", status, body.buf ? body.buf : "");

		cJSON_AddStringToObject(*answer, "error", e);
		free(e);
	} else if (!doc) {
		cJSON_Delete(*answer);
		*answer = NULL;
		mlctl_buf_printf(why, "the answer is not JSON: '%.60s'", body.buf ? body.buf : "");
		mlctl_buf_release(&body);
		return A_GARBAGE;
	} else if (!(out = json_pointer(doc, rn->pointer))) {
		char *e = mlctl_aprintf("the answer has nothing at JSON pointer '%s'", rn->pointer);

		cJSON_AddStringToObject(*answer, "error", e);
		free(e);
	} else {
		cJSON_AddItemToObject(*answer, "output", cJSON_Duplicate(out, 1));
	}
	cJSON_Delete(doc);
	mlctl_buf_release(&body);
	return A_OK;
}

/* A free TCP port on the loopback interface. */
static int free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

	if (fd < 0)
		return -1;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* Poll the ready path until 200; 0, or -1 with the reason in why. */
int smk_wait_ready(struct run *rn, const char *ready, long startup_ms, struct mlctl_buf *why)
{
	struct mlctl_buf body = MLCTL_BUF_INIT;
	char *url = mlctl_aprintf("%s%s", rn->base, ready), errbuf[CURL_ERROR_SIZE];
	double end = mlctl_mono_ms() + (double)startup_ms;
	long status = 0;
	int rc = -1;

	errbuf[0] = '\0';
	while (mlctl_mono_ms() < end && !mlctl_interrupted()) {
		if (rn->pr.k.keeper > 0 && mlctl_proc_reap(&rn->pr.k, 0)) {
			char *how = smk_how_it_ended(&rn->pr);

			mlctl_buf_printf(why, "the model %s before it was ready", how);
			rn->res->died = how;
			goto done;
		}
		smk_sample_rss(&rn->pr);
		status = 0;
		if (http_do(rn, url, NULL, &status, &body, 1000, errbuf) == 0 && status == 200) {
			rc = 0;
			goto done;
		}
		usleep(100000);
	}
	if (status)
		snprintf(errbuf, sizeof(errbuf), "HTTP %ld", status);
	mlctl_buf_printf(why, "the model was not ready at %s within %ld ms (last: %s)", url,
			 startup_ms, errbuf[0] ? errbuf : "no answer");
	if (!rn->res->died)
		rn->res->died = mlctl_aprintf("never became ready");
done:
	mlctl_buf_release(&body);
	free(url);
	return rc;
}

/* The http runtime's client: the base url (a free port when mlctl starts the server). */
int smk_http_setup(struct run *rn, const cJSON *smoke, char portbuf[16], struct mlctl_err *err)
{
	const cJSON *ptr = cJSON_GetObjectItemCaseSensitive(smoke, "output");
	const cJSON *endpoint = cJSON_GetObjectItemCaseSensitive(smoke, "endpoint");
	const cJSON *url = cJSON_GetObjectItemCaseSensitive(smoke, "url");

	if (cJSON_GetObjectItemCaseSensitive(smoke, "command")) {
		int port = free_port();

		if (port < 0)
			return mlctl_err_errno(err, MLCTL_EIO, "cannot find a free port on 127.0.0.1");
		snprintf(portbuf, 16, "%d", port);
		rn->base = mlctl_aprintf("http://127.0.0.1:%s", portbuf);
	} else {
		rn->base = mlctl_strdup(url->valuestring);
		while (*rn->base && rn->base[strlen(rn->base) - 1] == '/')
			rn->base[strlen(rn->base) - 1] = '\0';
	}
	rn->endpoint_url = mlctl_aprintf("%s%s", rn->base,
					 cJSON_IsString(endpoint) ? endpoint->valuestring : "/");
	rn->pointer = cJSON_IsString(ptr) ? ptr->valuestring : "";
	rn->request = cJSON_GetObjectItemCaseSensitive(smoke, "request");
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rn->curl = curl_easy_init();
	rn->headers = curl_slist_append(NULL, "Content-Type: application/json");
	curl_easy_setopt(rn->curl, CURLOPT_HTTPHEADER, rn->headers);
	curl_easy_setopt(rn->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(rn->curl, CURLOPT_USERAGENT, "mlctl-smoke");
	return 0;
}

void smk_http_release(struct run *rn)
{
	if (rn->curl) {
		curl_easy_cleanup(rn->curl);
		curl_global_cleanup();
	}
	curl_slist_free_all(rn->headers);
	rn->curl = NULL;
	rn->headers = NULL;
}
