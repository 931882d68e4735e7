/*
 * validate.c - mlctl validate [DIR|PKG|REF]: check a project, a package or
 * a registry version; report as text, JSON, JUnit and SARIF; exit 1 when
 * the gate fails.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "manifest.h"
#include "registry.h"
#include "validate.h"
#include "banned.h"

static const struct cli_opt opts[] = {
	{ "strict", 0, NULL, "fail on warnings too" },
	{ "gate", 0, "EXPR", "a metric threshold such as 'accuracy>=0.9' (repeatable)" },
	{ "allow-license", 0, "IDS", "comma-separated SPDX ids the licence must be among" },
	{ "junit", 0, "FILE", "write a JUnit XML report (one testcase per check)" },
	{ "sarif", 0, "FILE", "write a SARIF 2.1.0 report (GitHub code scanning)" },
	{ "record", 0, NULL, "store the report in the registry for that version (REF only)" },
	{ NULL, 0, NULL, NULL },
};

const struct cli_cmd cli_cmd_validate = {
	"validate", cmd_validate,
	"check a project, package or registry version: manifest, files, model formats, gates",
	"[DIR|PKG|REF] [--strict] [--gate EXPR]... [--allow-license IDS] [--junit FILE] "
	"[--sarif FILE] [--record]",
	opts, 0, 1,
};

/* Store the report as a record of the version it is about (the one validated). */
static int record_report(struct cli *cli, struct mlctl_target *t, struct mlctl_report *rep,
			 int strict, struct mlctl_err *err)
{
	cJSON *doc;
	char *text, *path = NULL;
	int rc;

	mlctl_report_sort(rep);
	doc = mlctl_report_json(rep, strict);
	text = mlctl_json_pretty(doc);
	cJSON_Delete(doc);
	rc = mlctl_target_record(t, "validate", !mlctl_report_failed(rep, strict), text, &path,
				 err);
	if (!rc)
		cli_note(cli, "recorded for %s:%s in %s", t->info.name, t->info.version, path);
	free(path);
	free(text);
	return rc;
}

/* A failed gate as one error line: how many findings of which kind. */
static void gate_failed(struct mlctl_err *err, const struct mlctl_report *rep, int strict)
{
	size_t e = mlctl_report_count(rep, MLCTL_SEV_ERROR), w = mlctl_report_count(rep, MLCTL_SEV_WARNING);

	if (e && strict && w)
		mlctl_err_set(err, MLCTL_EGATE, "'%s' failed validation with %zu error%s and %zu "
			      "warning%s (--strict); fix what the findings say", rep->subject, e,
			      e == 1 ? "" : "s", w, w == 1 ? "" : "s");
	else if (e)
		mlctl_err_set(err, MLCTL_EGATE, "'%s' failed validation with %zu error%s; fix what "
			      "the findings say", rep->subject, e, e == 1 ? "" : "s");
	else
		mlctl_err_set(err, MLCTL_EGATE, "'%s' failed validation with %zu warning%s under "
			      "--strict; fix what the findings say", rep->subject, w,
			      w == 1 ? "" : "s");
}

static int write_report(struct cli *cli, const char *path, const char *text)
{
	struct mlctl_err err = MLCTL_ERR_INIT;

	if (mlctl_write_file_atomic(path, text, strlen(text), 0644, &err))
		return cli_fail(cli, &err);
	return 0;
}

int cmd_validate(struct cli *cli, int argc, char **argv)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_validate_opts o;
	struct mlctl_report rep;
	struct mlctl_target t;
	const char *target = argc > 0 ? argv[0] : ".";
	const char *junit = cli_opt(cli, "junit"), *sarif = cli_opt(cli, "sarif");
	int strict = cli_opt(cli, "strict") != NULL, rc = 0;
	int record = cli_opt(cli, "record") != NULL;
	enum mlctl_target_kind t_kind;
	size_t i;

	memset(&o, 0, sizeof(o));
	o.gates = cli_opt_all(cli, "gate", &o.ngates);
	o.allow_licenses = cli_opt(cli, "allow-license");
	for (i = 0; i < o.ngates; i++) {
		char name[128], op[3];
		double v;

		if (mlctl_gate_parse(name, op, &v, o.gates[i]) < 0)
			return cli_usage(cli, "--gate '%s' is not METRIC OP NUMBER, e.g. "
					 "'accuracy>=0.9' (OP: >= <= > < ==)", o.gates[i]);
	}
	if ((rc = cli_target(cli, &t, target))) {
		mlctl_target_release(&t);
		return rc;
	}
	if (record && t.kind != MLCTL_TARGET_REF) {
		mlctl_target_release(&t);
		return cli_usage(cli, "--record stores a result for a registry version; '%s' is a "
				 "path: push it, then validate NAME:VERSION --record", target);
	}
	mlctl_report_init(&rep, target);
	t_kind = t.kind;
	rc = mlctl_validate_target(&rep, &t, &o, &err);
	if (!rc && record)
		rc = record_report(cli, &t, &rep, strict, &err);
	mlctl_target_release(&t);
	if (rc) {
		mlctl_report_release(&rep);
		return cli_fail(cli, &err);
	}
	mlctl_report_sort(&rep);
	if (junit) {
		char *x = mlctl_report_junit(&rep, strict);

		rc = write_report(cli, junit, x);
		free(x);
	}
	if (!rc && sarif) {
		char *x = mlctl_report_sarif(&rep, MLCTL_VERSION);

		rc = write_report(cli, sarif, x);
		free(x);
	}
	if (!rc) {
		int failed = mlctl_report_failed(&rep, strict);

		/* damaged bytes are an integrity failure (exit 5), as for every
		 * command that reads them; the report still says it all */
		if (failed && mlctl_validate_damaged(&rep, t_kind == MLCTL_TARGET_PKG, &err)) {
			if (cli->json) {
				rc = cli_fail_doc(cli, &err, mlctl_report_json(&rep, strict));
			} else {
				cli_print_report(cli, &rep, strict, stdout);
				rc = cli_fail(cli, &err);
			}
		} else if (cli->json && failed) {
			/* one document: the report, with the error in it */
			gate_failed(&err, &rep, strict);
			rc = cli_fail_doc(cli, &err, mlctl_report_json(&rep, strict));
		} else if (cli->json) {
			cli_print_json(mlctl_report_json(&rep, strict));
		} else if (!cli->quiet || failed) {
			cli_print_report(cli, &rep, strict, stdout);
			rc = failed;
		}
	}
	mlctl_report_release(&rep);
	return rc;
}
