/*
 * exec.c - the exec runtime: the model as a process below a keeper, spoken to in JSON lines.
 */
#define _GNU_SOURCE
#include "smoke/internal.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

static const char *const inherited_env[] = { "PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE",
					     "TZ", "TMPDIR", "USER", "LOGNAME",
					     "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
					     "OMP_NUM_THREADS" };

/* Set NAME=VALUE in env (n entries, room for one more): a later value wins. */
static void env_set(char **env, size_t *n, char *entry)
{
	size_t i, len = strcspn(entry, "=");

	for (i = 0; i < *n; i++)
		if (!strncmp(env[i], entry, len) && env[i][len] == '=') {
			free(env[i]);
			env[i] = entry;
			return;
		}
	env[(*n)++] = entry;
}

/* A minimal environment, then the manifest's env, then the caller's, then MLCTL_MODEL_DIR. */
char **smk_make_env(const cJSON *manifest, const struct mlctl_smoke_opts *o, const char *dir)
{
	const cJSON *env = cJSON_GetObjectItemCaseSensitive(manifest, "env"), *e;
	size_t n = 0, i;
	char **out = mlctl_calloc(MLCTL_ARRAY_SIZE(inherited_env) + 2 + o->nenv +
					  (size_t)cJSON_GetArraySize(env),
				  sizeof(char *));

	for (i = 0; i < MLCTL_ARRAY_SIZE(inherited_env); i++) {
		const char *v = getenv(inherited_env[i]);

		if (v)
			out[n++] = mlctl_aprintf("%s=%s", inherited_env[i], v);
	}
	cJSON_ArrayForEach(e, env) if (cJSON_IsString(e)) env_set(
		out, &n, mlctl_aprintf("%s=%s", e->string, e->valuestring));
	for (i = 0; i < o->nenv; i++)
		env_set(out, &n, mlctl_strdup(o->env[i]));
	env_set(out, &n, mlctl_aprintf("MLCTL_MODEL_DIR=%s", dir));
	out[n] = NULL;
	return out;
}

/* Resident memory of the model and everything it started, at its highest. */
void smk_sample_rss(struct proc *pr)
{
	double kb;

	if (pr->k.keeper <= 0)
		return;
	kb = mlctl_proc_rss_kb(&pr->k);
	if (kb > pr->peak_rss_kb)
		pr->peak_rss_kb = kb;
}

/* Wait up to ms for the main process to end. */
int smk_wait_exit(struct proc *pr, int ms)
{
	double end = mlctl_mono_ms() + ms;

	while (!mlctl_proc_reap(&pr->k, 0)) {
		if (mlctl_mono_ms() >= end)
			return 0;
		usleep(10000);
	}
	return 1;
}

/*
 * Stop the model: EOF on stdin; then TERM to it and to everything it
 * started, wherever that went (its own session, a daemon's double fork);
 * then KILL to whatever is left.
 */
void smk_stop(struct proc *pr)
{
	if (pr->k.keeper <= 0)
		return;
	if (!pr->k.exited)
		smk_sample_rss(pr); /* before EOF: a model that answered at once exits on it */
	if (pr->k.in_fd >= 0) {
		close(pr->k.in_fd);
		pr->k.in_fd = -1;
	}
	if (!smk_wait_exit(pr, 500)) {
		mlctl_proc_signal_all(&pr->k, SIGTERM);
		smk_wait_exit(pr, GRACE_MS);
	}
	mlctl_proc_end(&pr->k);
}

char *smk_how_it_ended(const struct proc *pr)
{
	if (WIFEXITED(pr->k.status))
		return mlctl_aprintf("exited with code %d", WEXITSTATUS(pr->k.status));
	if (WIFSIGNALED(pr->k.status))
		return mlctl_aprintf("was killed by signal %d (%s)", WTERMSIG(pr->k.status),
				     strsignal(WTERMSIG(pr->k.status)));
	return mlctl_strdup("ended");
}

/* One line from the model, within deadline (ms on the monotonic clock). */
static enum answer read_line(struct proc *pr, double deadline, char **line)
{
	*line = NULL;
	for (;;) {
		char *nl = pr->line.buf ? memchr(pr->line.buf, '\n', pr->line.len) : NULL;
		struct pollfd pfd = { pr->k.out_fd, POLLIN, 0 };
		char chunk[65536];
		double left;
		ssize_t n;

		if (nl) {
			size_t k = (size_t)(nl - pr->line.buf);

			*line = mlctl_strndup(pr->line.buf, k);
			memmove(pr->line.buf, nl + 1, pr->line.len - k - 1);
			pr->line.len -= k + 1;
			pr->line.buf[pr->line.len] = '\0';
			return A_OK;
		}
		if (pr->line.len > LINE_MAX_BYTES)
			return A_GARBAGE;
		if (mlctl_interrupted())
			return A_INTERRUPTED;
		left = deadline - mlctl_mono_ms();
		if (left <= 0)
			return A_TIMEOUT;
		/* every 100 ms across requests, so fast answers are sampled too */
		if (mlctl_mono_ms() - pr->last_sample > 100) {
			smk_sample_rss(pr);
			pr->last_sample = mlctl_mono_ms();
		}
		if (poll(&pfd, 1, left > 100 ? 100 : (int)left + 1) <= 0)
			continue;
		n = read(pr->k.out_fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return A_DIED;
		mlctl_buf_add(&pr->line, chunk, (size_t)n);
	}
}

static void log_line(struct proc *pr, const char *what, const char *line)
{
	dprintf(pr->k.log_fd, "mlctl: %s: %.2000s\n", what, line);
}

/* ---------------------------------------------------------------- run */

/* Send one request and wait for its answer; the answer into *answer (owned). */
enum answer smk_ask_exec(struct run *rn, const cJSON *input, cJSON **answer, double *ms,
			 struct mlctl_buf *why)
{
	cJSON *req = cJSON_CreateObject();
	char *text, *line = NULL;
	double t0, deadline;
	enum answer a;
	int id = ++rn->id;

	*answer = NULL;
	cJSON_AddNumberToObject(req, "id", id);
	cJSON_AddItemToObject(req, "input", cJSON_Duplicate(input, 1));
	text = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);
	t0 = mlctl_mono_ms();
	deadline = t0 + (double)rn->timeout_ms;
	if (deadline > rn->overall_end)
		deadline = rn->overall_end;
	if (mlctl_write_all(rn->pr.k.in_fd, text, strlen(text)) < 0 ||
	    mlctl_write_all(rn->pr.k.in_fd, "\n", 1) < 0) {
		cJSON_free(text);
		return A_DIED;
	}
	cJSON_free(text);
	for (;;) {
		const cJSON *rid;

		a = read_line(&rn->pr, deadline, &line);
		if (a != A_OK)
			return a;
		*answer = cJSON_Parse(line);
		rid = cJSON_GetObjectItemCaseSensitive(*answer, "id");
		if (!cJSON_IsObject(*answer) || !rid) {
			log_line(&rn->pr, "not a protocol line on stdout", line);
			mlctl_buf_printf(why, "the model printed a line that is not a JSON answer "
					 "with an \"id\": '%.60s'", line);
			cJSON_Delete(*answer);
			*answer = NULL;
			free(line);
			return A_GARBAGE;
		}
		free(line);
		line = NULL;
		if (cJSON_IsNumber(rid) && (int)rid->valuedouble == id)
			break;
		/* an answer to an earlier request that timed out: skip it */
		cJSON_Delete(*answer);
		*answer = NULL;
	}
	*ms = mlctl_mono_ms() - t0;
	return A_OK;
}
