/*
 * webhook.c - one Standard Webhooks POST, signed, over libcurl.
 */
#define _GNU_SOURCE
#include "webhook.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>

#include "banned.h"

/* The v1 signature header's value for id, timestamp and body; -1 for a malformed secret. */
static int sign(char **out, const char *secret, const char *id, long long timestamp,
		const char *body)
{
	struct mlctl_buf key = MLCTL_BUF_INIT, msg = MLCTL_BUF_INIT;
	unsigned char mac[32];
	char *b64;

	*out = NULL;
	if (!strncmp(secret, "whsec_", 6))
		secret += 6;
	if (!*secret || mlctl_base64_decode(&key, secret)) {
		mlctl_buf_release(&key);
		return -1;
	}
	mlctl_buf_printf(&msg, "%s.%lld.%s", id, timestamp, body);
	mlctl_hmac_sha256(mac, key.buf, key.len, msg.buf, msg.len);
	b64 = mlctl_base64_encode(mac, sizeof(mac));
	*out = mlctl_aprintf("v1,%s", b64);
	free(b64);
	mlctl_buf_release(&key);
	mlctl_buf_release(&msg);
	return 0;
}

/* The answer is read and dropped: only its status and Retry-After count. */
static size_t drop(char *data, size_t size, size_t n, void *payload)
{
	(void)data;
	(void)payload;
	return size * n;
}

static size_t header(char *data, size_t size, size_t n, void *payload)
{
	struct mlctl_webhook_post *p = payload;
	size_t len = size * n;

	if (len > 12 && !strncasecmp(data, "retry-after:", 12)) {
		char value[128];
		size_t k = len - 12 < sizeof(value) - 1 ? len - 12 : sizeof(value) - 1;
		char *end;
		double secs;
		time_t when;

		memcpy(value, data + 12, k);
		value[k] = '\0';
		secs = strtod(value, &end);
		if (end != value && secs >= 0) {
			p->retry_after = secs;
		} else if ((when = curl_getdate(value, NULL)) > 0) {
			secs = difftime(when, time(NULL));
			p->retry_after = secs > 0 ? secs : 0;
		}
	}
	return len;
}

int mlctl_webhook_post(struct mlctl_webhook_post *p)
{
	struct curl_slist *h = NULL;
	char errbuf[CURL_ERROR_SIZE] = "", *sig = NULL, *line;
	long long now = (long long)time(NULL);
	CURL *c;
	CURLcode cc;

	p->status = 0;
	p->retry_after = -1;
	p->error[0] = '\0';
	if (sign(&sig, p->secret, p->id, now, p->body)) {
		snprintf(p->error, sizeof(p->error), "the secret is not a Standard Webhooks secret "
			 "('whsec_' and base64)");
		return -1;
	}
	if (!(c = curl_easy_init())) {
		snprintf(p->error, sizeof(p->error), "libcurl could not start");
		free(sig);
		return -1;
	}
	h = curl_slist_append(h, "Content-Type: application/json");
	line = mlctl_aprintf("webhook-id: %s", p->id);
	h = curl_slist_append(h, line);
	free(line);
	line = mlctl_aprintf("webhook-timestamp: %lld", now);
	h = curl_slist_append(h, line);
	free(line);
	line = mlctl_aprintf("webhook-signature: %s", sig);
	h = curl_slist_append(h, line);
	free(line);
	curl_easy_setopt(c, CURLOPT_URL, p->url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, p->body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(p->body));
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, p->timeout_ms > 0 ? p->timeout_ms : 30000L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "mlctl-webhook");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, drop);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, p);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	cc = curl_easy_perform(c);
	if (cc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &p->status);
	else
		snprintf(p->error, sizeof(p->error), "%s", *errbuf ? errbuf : curl_easy_strerror(cc));
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	free(sig);
	return cc == CURLE_OK ? 0 : -1;
}
