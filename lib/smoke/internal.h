/*
 * smoke/internal.h - what the files of lib/smoke/ share; included only there.
 */
#ifndef MLCTL_SMOKE_INTERNAL_H
#define MLCTL_SMOKE_INTERNAL_H

#include "smoke.h"
#include "smoke/proc.h"

#define CASES_MAX (64u * 1024 * 1024)
#define LINE_MAX_BYTES (64u * 1024 * 1024) /* one answer */
#define GRACE_MS 2000
#define LOG_TAIL_LINES 20
#define OVERALL_MS_DEFAULT 600000

struct tcase {
	char *name;
	cJSON *json;   /* the whole line: input, expect… */
	char *warning; /* a case that checks nothing: why, or NULL */
};

enum answer { A_OK, A_TIMEOUT, A_DIED, A_GARBAGE, A_INTERRUPTED };

struct proc {
	struct mlctl_proc k;   /* the model's command, below a keeper (proc.h) */
	struct mlctl_buf line; /* bytes read but not yet a full line */
	double peak_rss_kb;
	double last_sample;    /* when peak_rss_kb was last brought up to date (ms) */
};

struct run {
	struct mlctl_smoke_result *res;
	struct proc pr;
	const cJSON *manifest;
	/* http runtime */
	void *curl;            /* the CURL handle (http.c), or NULL */
	struct curl_slist *headers;
	char *base;            /* http://127.0.0.1:PORT, or the manifest's url */
	char *endpoint_url;
	const cJSON *request;  /* body template; "{{input}}" strings become the input */
	const char *pointer;   /* JSON pointer to the output in the answer */
	long timeout_ms;
	double overall_end;
	int id;
	int broken; /* the model is gone or unusable: the remaining cases fail at once */
};

/* compare.c */
int smk_dbl_cmp(const void *a, const void *b);
int smk_check_spec(const cJSON *output, const cJSON *spec, int is_shape,
		   struct mlctl_buf *diff);
int smk_check_signature(const cJSON *output, const cJSON *manifest, struct mlctl_buf *diff);

/* cases.c */
void smk_free_cases(struct tcase *c, size_t n);
int smk_load_cases(struct tcase **out, size_t *n, const char *path, struct mlctl_err *err);

/* exec.c */
char **smk_make_env(const cJSON *manifest, const struct mlctl_smoke_opts *o, const char *dir);
void smk_sample_rss(struct proc *pr);
int smk_wait_exit(struct proc *pr, int ms);
void smk_stop(struct proc *pr);
char *smk_how_it_ended(const struct proc *pr);
enum answer smk_ask_exec(struct run *rn, const cJSON *input, cJSON **answer, double *ms,
			 struct mlctl_buf *why);

/* http.c */
enum answer smk_ask_http(struct run *rn, const cJSON *input, cJSON **answer, double *ms,
			 struct mlctl_buf *why);
/* The http client: the base url, on a free port (into portbuf) when mlctl starts the server. */
int smk_http_setup(struct run *rn, const cJSON *smoke, char portbuf[16], struct mlctl_err *err);
void smk_http_release(struct run *rn);
int smk_wait_ready(struct run *rn, const char *ready, long startup_ms, struct mlctl_buf *why);

#endif
