/*
 * report.h - findings of `validate`: the catalogue of checks (stable ids),
 * a report that collects findings and the checks that ran, and its
 * renderings as JSON, JUnit XML and SARIF 2.1.0.
 */
#ifndef MLCTL_REPORT_H
#define MLCTL_REPORT_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "checks.h"
#include "manifest.h"

struct mlctl_check_info {
	const char *id;       /* MLV001 */
	int severity;         /* the usual severity of its findings */
	const char *name;     /* short-name, as SARIF's rule name */
	const char *summary;  /* one line */
	int flags;            /* MLCTL_CHECK_STRUCTURAL, MLCTL_CHECK_INTEGRITY */
};

/* Indexed by enum mlctl_check (checks.h), from MLCTL_CHECK_NONE + 1. */
extern const struct mlctl_check_info mlctl_check_catalogue[MLCTL_CHECK_COUNT];
/* A check's entry; a value outside the catalogue is a bug (abort). */
const struct mlctl_check_info *mlctl_check_info(enum mlctl_check check);

struct mlctl_finding {
	const char *id;       /* the catalogue's string for check */
	enum mlctl_check check;
	int severity;
	char *file;    /* "" for the project as a whole */
	char *message;
};

struct mlctl_check_run {
	const char *id;
	enum mlctl_check check;
	char *file;
};

struct mlctl_report {
	char *subject;                 /* what was validated: a folder, a package, a reference */
	char digest[72];               /* "" when not known */
	struct mlctl_finding *findings;
	size_t nfindings, findings_alloc;
	struct mlctl_check_run *runs;
	size_t nruns, runs_alloc;
	void *runs_seen, *findings_seen; /* tsearch trees: what is there already */
	const char *file;              /* the file findings from a callback belong to */
};

void mlctl_report_init(struct mlctl_report *rep, const char *subject);
void mlctl_report_release(struct mlctl_report *rep);
/* Note that check id ran on file (once per pair). */
void mlctl_report_ran(struct mlctl_report *rep, enum mlctl_check check, const char *file);
/* Add a finding (the check is noted as run too). */
void mlctl_report_add(struct mlctl_report *rep, enum mlctl_check check, int severity,
		      const char *file, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* A mlctl_finding_fn that adds to the report (ctx), for rep->file. */
void mlctl_report_sink(void *ctx, enum mlctl_check check, int severity, const char *msg);
size_t mlctl_report_count(const struct mlctl_report *rep, int severity);
/* 1 when the gate fails: any error, or any warning under strict. */
int mlctl_report_failed(const struct mlctl_report *rep, int strict);
/* Findings sorted by file, then severity, then id (stable). */
void mlctl_report_sort(struct mlctl_report *rep);

/* Renderings; the caller frees (cJSON_Delete / free). */
cJSON *mlctl_report_json(const struct mlctl_report *rep, int strict);
char *mlctl_report_junit(const struct mlctl_report *rep, int strict);
char *mlctl_report_sarif(const struct mlctl_report *rep, const char *tool_version);

#endif
