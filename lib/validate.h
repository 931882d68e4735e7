/*
 * validate.h - check a model project, package or registry version: the
 * manifest, its files, the model formats read natively, and gates (metric
 * thresholds, licences, size). Findings go into a struct mlctl_report.
 */
#ifndef MLCTL_VALIDATE_H
#define MLCTL_VALIDATE_H

#include "registry.h"
#include "report.h"
#include "target.h"

struct mlctl_validate_opts {
	const char *const *gates; /* extra gates, "accuracy>=0.9" */
	size_t ngates;
	const char *allow_licenses; /* comma-separated SPDX ids, or NULL for any */
	int skip_digests;           /* packages: do not re-hash files (push hashes them itself) */
};

/*
 * Validate a project folder or a package file (read as a stream; nothing is
 * unpacked). Returns 0 when the checks ran, whatever they found; a negative
 * code when they could not (no such path, not a package, I/O).
 */
int mlctl_validate_path(struct mlctl_report *rep, const char *path,
			const struct mlctl_validate_opts *o, struct mlctl_err *err);
/* Validate a version in the registry (its blobs re-hashed too). */
int mlctl_validate_ref(struct mlctl_report *rep, struct mlctl_registry *r, const char *ref,
		       const struct mlctl_validate_opts *o, struct mlctl_err *err);
/* Validate what a target names: mlctl_validate_path, or the registry version it opens. */
int mlctl_validate_target(struct mlctl_report *rep, struct mlctl_target *t,
			  const struct mlctl_validate_opts *o, struct mlctl_err *err);

/*
 * Did the checks find the bytes damaged rather than the model wrong? For a
 * package (is_package): a broken structure or manifest (MLV001-004,
 * MLV007-012) or content that does not match its index (MLV023); for a
 * registry version: MLV023. Then err holds the first such finding as an
 * integrity error (exit 5) and 1 is returned; otherwise 0.
 */
int mlctl_validate_damaged(const struct mlctl_report *rep, int is_package, struct mlctl_err *err);

/* Parse a gate: NAME OP NUMBER with OP one of >= <= > < ==. */
int mlctl_gate_parse(char name[128], char op[3], double *value, const char *s);
/* 1 when have OP want holds (OP as mlctl_gate_parse gives it). */
int mlctl_gate_holds(double have, const char *op, double want);

#endif
