/*
 * smoke.h - run a model the way a deployment would and check it on known
 * cases (docs/design.md §7). Two runtimes: exec (the model's
 * command speaks JSON lines on stdin and stdout) and http (a server started
 * on a free port, or one already running, asked with POST). Case checks,
 * latency and memory budgets, timeouts, every process the model starts
 * stopped at the end, reports as JSON and JUnit, drift against a baseline,
 * and --update-expect. The code is in lib/smoke/.
 */
#ifndef MLCTL_SMOKE_H
#define MLCTL_SMOKE_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "util.h"

struct mlctl_smoke_opts {
	int repeat;         /* timed runs per case; -1: the manifest's (default 5) */
	int warmup;         /* untimed runs per case first; -1: the manifest's (default 1) */
	long timeout_ms;    /* per request; -1: the manifest's (default 30000) */
	const char *cases;  /* cases file, relative to the model folder; NULL: the manifest's */
	const char *cases_abs; /* or a cases file anywhere (a baseline runs the other's cases) */
	const cJSON *budget;   /* {"p95_ms": 50, "p99_ms": null, ...}: over the manifest's
			        * budget key by key (null drops one); NULL: the manifest's */
	const char *const *env; /* "NAME=VALUE" added after the manifest's env, overriding */
	size_t nenv;
	int discard_log;    /* remove the model's log even after a failure (a baseline's) */
};

/* The budgets a smoke run knows, in the order they are reported. */
extern const char *const mlctl_smoke_budget_names[5];

struct mlctl_smoke_case {
	char *name;
	int passed;
	char *message;      /* why it failed, "" when it passed */
	double ms;          /* median latency of its timed runs */
	cJSON *output;      /* the model's answer to the checked run (owned), or NULL */
	char *warning;      /* the case checks nothing (no expect…): why, or NULL */
};

struct mlctl_smoke_budget {
	const char *name;   /* p50_ms, p95_ms, p99_ms, startup_ms, max_rss_mb */
	double limit, value;
	int passed;
};

struct mlctl_smoke_result {
	struct mlctl_smoke_case *cases;
	size_t ncases;
	struct mlctl_smoke_budget budgets[5];
	size_t nbudgets;
	double *latencies;  /* every timed request, ms */
	size_t nlatencies;
	double p50, p95, p99, startup_ms;
	double peak_rss_mb; /* of the model's whole process group */
	char *died;         /* how the model ended early ("exit code 3", "signal 11"), or NULL */
	char *log_tail;     /* the last lines of the model's stdout noise and stderr */
	char *log_path;     /* where the whole log is, or NULL: removed after a run that
			     * passed or logged nothing */
	int passed;
};

/*
 * Run the smoke section of manifest for the model unpacked in dir. A model
 * that fails is a result with passed = 0, not an error; errors are for
 * mlctl's own trouble (unreadable cases, cannot start), and MLCTL_EUSAGE
 * with kind "no_smoke" for a manifest without a smoke section. The model's
 * log (in $TMPDIR) is kept only after a failed run that wrote to it.
 */
int mlctl_smoke_run(struct mlctl_smoke_result *res, const char *dir, const cJSON *manifest,
		    const struct mlctl_smoke_opts *o, struct mlctl_err *err);
void mlctl_smoke_result_release(struct mlctl_smoke_result *res);
/* Failed cases plus failed budgets. */
size_t mlctl_smoke_failures(const struct mlctl_smoke_result *res);

/*
 * Write the outputs of a run into the cases file as each case's "expect"
 * (cases that expect an error, or got no output, are left as they are),
 * atomically, changing nothing else: other keys, their order and spacing,
 * comments, blank lines and line ends stay byte for byte. A case without a
 * tolerance whose output is float32, float16 or bfloat16 (by its
 * expect_dtype, else the manifest's signature) gets one fitting that type:
 * rel 1e-5 for float32 (1e-2, 5e-2), abs a tenth of rel times the output's
 * largest magnitude. The number of cases changed goes into *updated.
 */
int mlctl_smoke_update_expect(const struct mlctl_smoke_result *res, const cJSON *manifest,
			      const char *cases_path, size_t *updated, struct mlctl_err *err);
/*
 * Append d as a JSON number: a whole number as one (100, not 1e+02), else
 * the shortest %.Ng that reads back as the same double (0.1, not
 * 0.10000000000000001).
 */
void mlctl_json_number(struct mlctl_buf *b, double d);

/*
 * Compare got with want: numbers within abs + rel * |want|, arrays of the
 * same length, objects key by key (every key of want must be in got).
 * Returns 1 when equal; otherwise 0 and the first difference, such as
 * "output.probs[0][2]: got 0.41, want 0.39 ± 0.001", in diff.
 */
int mlctl_json_close(const cJSON *got, const cJSON *want, double abs_tol, double rel_tol,
		     const char *path, struct mlctl_buf *diff);

/*
 * How far output a drifts from output b: the largest |a - b| over numbers
 * in the same places, and how many labels agree (integers, strings and
 * booleans equal; the argmax of each innermost array of floats equal) out
 * of how many. -1 when the two are not shaped alike.
 */
int mlctl_output_drift(const cJSON *a, const cJSON *b, double *max_abs, size_t *agree,
		       size_t *total);

/* One case of a baseline comparison. */
struct mlctl_smoke_drift_case {
	const char *name;     /* borrowed from the run's case */
	int comparable;       /* both answered, with outputs shaped alike */
	int neither;          /* neither answered an output (both refused or failed) */
	double max_abs;       /* largest |this - baseline| over the numbers */
	size_t agree, labels; /* labels (or argmaxes) that agree, out of labels */
	int passed;           /* within max_drift, or not gated */
};

/* The same cases run through this model and a baseline. */
struct mlctl_smoke_drift {
	const char *ref;      /* what the baseline is, as the user named it */
	double p50, base_p50, ratio; /* this p50 over the baseline's */
	double max_drift;
	int gated;            /* --max-drift given: drift fails the run */
	struct mlctl_smoke_drift_case *cases;
	size_t ncases;
	int passed;
};

/* Compare the outputs of res with those of base, case by case. */
void mlctl_smoke_compare(struct mlctl_smoke_drift *d, const struct mlctl_smoke_result *res,
			 const struct mlctl_smoke_result *base, const char *ref, double max_drift,
			 int gated);
void mlctl_smoke_drift_release(struct mlctl_smoke_drift *d);
/* Cases over the drift limit (0 unless gated); and how many drift checks count (ncases when gated). */
size_t mlctl_smoke_drift_failures(const struct mlctl_smoke_drift *d);
size_t mlctl_smoke_drift_checks(const struct mlctl_smoke_drift *d);

/*
 * The run as a JSON document ("subject", "passed", "cases", "latency_ms",
 * "budgets", and "baseline" when d is not NULL), added to doc; and as JUnit
 * XML: a testcase per case, per budget, and per case of a gated drift.
 */
void mlctl_smoke_json(cJSON *doc, const struct mlctl_smoke_result *res, const char *subject,
		      const struct mlctl_smoke_drift *d);
char *mlctl_smoke_junit(const struct mlctl_smoke_result *res, const char *subject,
			const struct mlctl_smoke_drift *d);

/* Percentile (0-100) of n sorted values, by linear interpolation. */
double mlctl_percentile(const double *sorted, size_t n, double p);

#endif
