/*
 * webhook.h - one Standard Webhooks delivery: an HTTP POST of a JSON body
 * with webhook-id, webhook-timestamp and webhook-signature (v1, the
 * base64 HMAC-SHA256 of "id.timestamp.body" under the secret), over
 * libcurl. The outbox and its retries are the registry's (registry.h).
 */
#ifndef MLCTL_WEBHOOK_H
#define MLCTL_WEBHOOK_H

#include "util.h"

struct mlctl_webhook_post {
	const char *url;
	const char *secret; /* "whsec_" + base64 of the key, as Standard Webhooks gives it */
	const char *id;     /* the message's id, the same on every try */
	const char *body;
	long timeout_ms;
	/* what happened: status 0 when no answer came (error says why) */
	long status;
	double retry_after; /* seconds the receiver asked to wait, -1 when it did not */
	char error[256];
};

/*
 * Send it once. 0 when an answer came (whatever its status), -1 when none
 * did (connection, TLS, timeout: in error, never with the secret).
 * Redirects are not followed. A secret that is not base64 after its
 * prefix is -1 too.
 */
int mlctl_webhook_post(struct mlctl_webhook_post *p);

#endif
