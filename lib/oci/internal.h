/*
 * oci/internal.h - what the files of lib/oci/ share; included only there.
 * libcurl is used here (and in lib/smoke/http.c) and nowhere else.
 */
#ifndef MLCTL_OCI_INTERNAL_H
#define MLCTL_OCI_INTERNAL_H

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "oci.h"

/* What a request sends: a file's range, or bytes in memory. */
struct oci_body {
	int fd;            /* -1 when mem is used */
	uint64_t off, len; /* the range of fd */
	const char *mem;
	uint64_t done;     /* sent so far (for a retry: start again) */
};

/* Where a response body goes: a callback (streamed), else into body up to cap. */
typedef int (*oci_sink_fn)(void *ctx, long status, const char *data, size_t len);

struct oci_req {
	const char *method;
	const char *url;      /* absolute */
	const char *accept;   /* Accept header, or NULL */
	const char *ctype;    /* Content-Type of the body, or NULL */
	const char *range;    /* Content-Range of a PATCH, or NULL */
	const char *get_range; /* Range of a GET, or NULL */
	struct oci_body *body;
	oci_sink_fn sink;
	void *sink_ctx;
	size_t cap;           /* largest body kept without a sink */
	int plain;            /* no Authorization of the session's (the token service itself) */
	int first;            /* the first contact: a refused connection is not tried again */
};

struct oci_resp {
	long status;
	char *location, *range, *digest, *www_auth, *retry_after, *chunk_min;
	uint64_t length;
	int has_length;
	struct mlctl_buf body;
	int sink_failed;   /* the sink refused the data */
	uint64_t received; /* body bytes handed to the sink, even when the transfer broke */
};

struct mlctl_oci {
	CURL *h;
	struct mlctl_oci_loc loc;
	struct mlctl_oci_opts o;
	char *base;        /* "https://host" or "http://host" */
	CURLcode last_cc;  /* how the last request that failed to happen failed */
	struct mlctl_oci_quirks quirks; /* what this registry wants of uploads */
	atomic_int *stop;  /* set when another worker failed: transfers stop (jobs.c) */
	char *user, *pass; /* from docker's config.json, or NULL */
	char *identity;    /* or an identity (OAuth refresh) token for the token service */
	int basic;         /* send them (the registry asked for Basic) */
	char *realm, *service; /* token authentication: where tokens come from */
	char *token, *scope;   /* the bearer token held, and the scope it was asked for */
	char *auth_from;   /* where they came from, for messages */
	uint64_t sent;     /* bytes of bodies sent, over the session */
	const struct mlctl_oci_uploads *uploads; /* where uploads in progress are kept */
	size_t sent_chunks, resumed;
	int put_refused;   /* the last blob's closing PUT was answered 400 */
	/* progress: the file moving, what of it and of the whole was done before this request */
	const char *cur_file;
	uint64_t cur_size, cur_base, total_base, total_size;
	double started, last_report;
};

/* progress (http.c): a new transfer of total bytes; a file begins; a file (or a skip) is done */
void oci_progress_start(struct mlctl_oci *c, uint64_t total);
void oci_progress_file(struct mlctl_oci *c, const char *file, uint64_t size, uint64_t base);
void oci_progress_done(struct mlctl_oci *c, uint64_t bytes);

/* http.c */
int oci_request(struct mlctl_oci *c, const struct oci_req *q, struct oci_resp *resp,
		struct mlctl_err *err);
void oci_resp_release(struct oci_resp *r);
/* A failed answer as an error: "HOST answered STATUS to WHAT: <registry's message>". */
int oci_status_fail(struct mlctl_oci *c, const struct oci_resp *r, const char *what,
		    struct mlctl_err *err);
/* base + path; a Location that is absolute already is copied. Caller frees. */
char *oci_url(struct mlctl_oci *c, const char *path);
/* url with "name=value" appended as a query parameter (value escaped). Caller frees. */
char *oci_url_param(struct mlctl_oci *c, const char *url, const char *name, const char *value);

/* jobs.c */
/*
 * One job (file f's blob) of a run, on session w; lock guards what the
 * caller's ctx holds that jobs share (counters). 0, or an error code.
 */
typedef int (*oci_job_fn)(struct mlctl_oci *w, const struct mlctl_file_entry *f, void *ctx,
			  pthread_mutex_t *lock, struct mlctl_err *err);
/*
 * Run a job for each of files[0..n) on up to c->o.jobs sessions at once
 * (copies of c, each in a thread of its own, taking the largest files
 * first); with one session, on c in the order given. The first failure
 * stops the others and is what err says.
 */
int oci_jobs_run(struct mlctl_oci *c, const struct mlctl_file_entry *const *files, size_t n,
		 oci_job_fn fn, void *ctx, struct mlctl_err *err);

/* session.c */
/* As mlctl_oci_open, with these credentials instead of docker's (user NULL: docker's). */
int oci_session_open(struct mlctl_oci **out, const struct mlctl_oci_loc *loc,
		     const struct mlctl_oci_opts *o, const char *user, const char *pass,
		     struct mlctl_err *err);

/* token.c */
/* Parse a Bearer challenge (realm, service, scope) into c; -1 when it is not one. */
int oci_bearer_challenge(struct mlctl_oci *c, const char *www_auth, char **scope);
/* A token for scope (NULL: none, to try the credentials) from the realm; kept in c. */
int oci_bearer_token(struct mlctl_oci *c, const char *scope, struct mlctl_err *err);

/* auth.c */
/* Credentials for host from docker's config.json (or o->auth_file); 0 also when none. */
int oci_auth_lookup(struct mlctl_oci *c, struct mlctl_err *err);

/* modelpack.c */
/* The ModelPack layer media type of a mlctl artifact role. */
const char *oci_role_media_type(const char *role);

#endif
