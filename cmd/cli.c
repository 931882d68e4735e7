/*
 * cli.c - option parsing from the spec tables, help text, errors and
 * output helpers shared by the commands.
 */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "manifest.h"
#include "registry.h"
#include "report.h"
#include "target.h"
#include "version.h"
#include "banned.h"

const struct cli_opt cli_global_opts[] = {
	{ "registry", 0, "DIR", "registry folder (default: $MLCTL_REGISTRY, else "
				"$XDG_DATA_HOME/mlctl/registry)" },
	{ "json", 0, NULL, "machine-readable output on stdout: one document, an error too" },
	{ "quiet", 'q', NULL, "print only results and errors" },
	{ "verbose", 'v', NULL, "print more about what is done" },
	{ "color", 0, "WHEN", "auto, always or never (NO_COLOR is honoured)" },
	{ "help", 'h', NULL, "show this help" },
	{ NULL, 0, NULL, NULL },
};

/* A mistake on the command line: "<what>; see 'mlctl CMD --help'", exit 2. */
static int usage_error(struct cli *cli, const struct cli_cmd *cmd, const char *fmt, const char *a)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	size_t n;

	err.code = MLCTL_EUSAGE;
	snprintf(err.msg, sizeof(err.msg), fmt, a);
	n = strlen(err.msg);
	snprintf(err.msg + n, sizeof(err.msg) - n, "; see 'mlctl %s --help'", cmd->name);
	return cli_fail(cli, &err);
}

static const struct cli_opt *find_opt(const struct cli_opt *opts, const char *name, size_t n,
				      char short_name, int *index)
{
	int i;

	for (i = 0; opts && opts[i].name; i++) {
		if (short_name ? opts[i].short_name == short_name
			       : strlen(opts[i].name) == n && !strncmp(opts[i].name, name, n)) {
			*index = i;
			return &opts[i];
		}
	}
	return NULL;
}

static int apply_global(struct cli *cli, const struct cli_opt *o, const char *val)
{
	if (!strcmp(o->name, "registry"))
		cli->registry = val;
	else if (!strcmp(o->name, "json"))
		cli->json = 1;
	else if (!strcmp(o->name, "quiet"))
		cli->quiet = 1;
	else if (!strcmp(o->name, "verbose"))
		cli->verbose = 1;
	else if (!strcmp(o->name, "color")) {
		if (!strcmp(val, "always"))
			cli->color = 1;
		else if (!strcmp(val, "never"))
			cli->color = 0;
		else if (strcmp(val, "auto"))
			return -1;
	}
	return 0;
}

int cli_global_takes_value(const char *a)
{
	const struct cli_opt *o = NULL;
	int idx;

	if (a[0] == '-' && a[1] == '-' && !strchr(a, '='))
		o = find_opt(cli_global_opts, a + 2, strlen(a + 2), 0, &idx);
	else if (a[0] == '-' && a[1] && a[1] != '-' && !a[2])
		o = find_opt(cli_global_opts, NULL, 0, a[1], &idx);
	return o && o->arg;
}

int cli_json_requested(const struct cli_cmd *cmd, int argc, char **argv)
{
	const struct cli_opt *own = cmd ? cmd->opts : NULL, *o;
	int i, idx;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		const char *a = argv[i];
		size_t n;

		if (a[0] != '-' || !a[1])
			continue;
		if (a[1] == '-') {
			n = strcspn(a + 2, "=");
			if (n == 4 && !strncmp(a + 2, "json", 4))
				return 1; /* --json=x too: the error about it is JSON */
			if (!(o = find_opt(own, a + 2, n, 0, &idx)))
				o = find_opt(cli_global_opts, a + 2, n, 0, &idx);
			if (o && o->arg && !a[2 + n])
				i++; /* its value, whatever it looks like */
		} else if (!a[2]) {
			if (!(o = find_opt(own, NULL, 0, a[1], &idx)))
				o = find_opt(cli_global_opts, NULL, 0, a[1], &idx);
			if (o && o->arg)
				i++;
		}
	}
	return 0;
}

int cli_parse(struct cli *cli, const struct cli_cmd *cmd, int argc, char **argv)
{
	int i, only_pos = 0, help = 0;

	cli->cmd = cmd;
	memset(cli->val, 0, sizeof(cli->val));
	memset(cli->set, 0, sizeof(cli->set));
	memset(cli->nvals, 0, sizeof(cli->nvals));
	cli->npos = 0;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL, *eq;
		const struct cli_opt *o;
		int idx = 0, global = 0;
		size_t n;

		if (only_pos || a[0] != '-' || !a[1]) {
			if (cli->npos >= CLI_MAX_POS)
				return usage_error(cli, cmd, "too many arguments (%s)", a);
			cli->pos[cli->npos++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			only_pos = 1;
			continue;
		}
		if (a[1] == '-') {
			eq = strchr(a + 2, '=');
			n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
			o = find_opt(cmd->opts, a + 2, n, 0, &idx);
			if (!o && (o = find_opt(cli_global_opts, a + 2, n, 0, &idx)))
				global = 1;
			if (!o)
				return usage_error(cli, cmd, "unknown option '%s'", a);
			if (eq && !o->arg)
				return usage_error(cli, cmd, "option '--%s' takes no value", o->name);
			if (o->arg)
				val = eq ? eq + 1 : NULL;
		} else {
			if (a[2])
				return usage_error(cli, cmd, "unknown option '%s' (give short options "
						   "one at a time)", a);
			o = find_opt(cmd->opts, NULL, 0, a[1], &idx);
			if (!o && (o = find_opt(cli_global_opts, NULL, 0, a[1], &idx)))
				global = 1;
			if (!o)
				return usage_error(cli, cmd, "unknown option '%s'", a);
		}
		if (o->arg && !val) {
			if (i + 1 >= argc)
				return usage_error(cli, cmd, "option '--%s' needs a value", o->name);
			val = argv[++i];
		}
		if (!val)
			val = "";
		if (global) {
			if (!strcmp(o->name, "help"))
				help = 1;
			else if (apply_global(cli, o, val))
				return usage_error(cli, cmd, "--color takes auto, always or never, not "
						   "'%s'", val);
		} else {
			/* a TEXT is kept (events, tags, JSON): UTF-8 only, as JSON and git want */
			if (o->arg && !strcmp(o->arg, "TEXT") && !mlctl_utf8_valid(val, strlen(val)))
				return usage_error(cli, cmd, "--%s is not UTF-8 text; give it in "
						   "UTF-8 (iconv -t UTF-8 converts)", o->name);
			cli->val[idx] = val;
			cli->set[idx] = 1;
			if (cli->nvals[idx] >= CLI_MAX_REPEAT)
				return usage_error(cli, cmd, "option '--%s' is given too many times",
						   o->name);
			cli->vals[idx][cli->nvals[idx]++] = val;
		}
	}
	if (help) {
		cli_print_help(cmd, stdout);
		return -1;
	}
	if (cli->npos < cmd->min_pos)
		return usage_error(cli, cmd, "missing argument%s", cmd->min_pos > 1 ? "s" : "");
	if (cmd->max_pos >= 0 && cli->npos > cmd->max_pos)
		return usage_error(cli, cmd, "unexpected argument '%s'", cli->pos[cmd->max_pos]);
	return 0;
}

const char *cli_opt(const struct cli *cli, const char *name)
{
	int i;

	for (i = 0; cli->cmd->opts && cli->cmd->opts[i].name; i++)
		if (!strcmp(cli->cmd->opts[i].name, name))
			return cli->set[i] ? cli->val[i] : NULL;
	return NULL;
}

const char *const *cli_opt_all(const struct cli *cli, const char *name, size_t *n)
{
	int i;

	*n = 0;
	for (i = 0; cli->cmd->opts && cli->cmd->opts[i].name; i++)
		if (!strcmp(cli->cmd->opts[i].name, name)) {
			*n = (size_t)cli->nvals[i];
			return cli->vals[i];
		}
	return NULL;
}

static void print_opts(const struct cli_opt *opts, FILE *f)
{
	int i;

	for (i = 0; opts && opts[i].name; i++) {
		char left[64];

		if (opts[i].short_name)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", opts[i].short_name,
				 opts[i].name, opts[i].arg ? " " : "",
				 opts[i].arg ? opts[i].arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", opts[i].name,
				 opts[i].arg ? " " : "", opts[i].arg ? opts[i].arg : "");
		fprintf(f, "  %-26s %s\n", left, opts[i].help);
	}
}

void cli_print_help(const struct cli_cmd *cmd, FILE *f)
{
	fprintf(f, "usage: mlctl %s %s\n\n%s\n", cmd->name, cmd->usage, cmd->summary);
	if (cmd->opts && cmd->opts[0].name) {
		fputs("\noptions:\n", f);
		print_opts(cmd->opts, f);
	}
	fputs("\nglobal options:\n", f);
	print_opts(cli_global_opts, f);
	fprintf(f, "\nSee docs/mlctl-%s.md, and docs/exit-codes.md for exit codes.\n", cmd->name);
}

void cli_print_main_help(FILE *f)
{
	int i;

	fputs("usage: mlctl [--registry DIR] [--json] [-q] [-v] [--color WHEN] COMMAND [ARGS]\n\n"
	      "Package, version, check and move machine-learning models.\n\ncommands:\n",
	      f);
	for (i = 0; cli_commands[i]; i++)
		fprintf(f, "  %-12s %s\n", cli_commands[i]->name, cli_commands[i]->summary);
	fputs("\n'mlctl COMMAND --help' tells more; exit codes are in docs/exit-codes.md.\n", f);
}

/* The machine name of an exit code, for the "code" of a JSON error (docs/exit-codes.md). */
static const char *code_name(int exit_code)
{
	static const char *const names[] = { "ok",	  "gate_failed", "usage",
					     "not_found", "conflict",    "integrity",
					     "io",	  "network",	 "internal" };

	if (exit_code > 128)
		return "interrupted";
	return exit_code >= 0 && exit_code < (int)MLCTL_ARRAY_SIZE(names) ? names[exit_code]
									   : "internal";
}

/* A progress line is on stderr (a terminal's): cleared before anything else is printed there. */
static int progress_drawn;

void cli_progress_line(const char *line)
{
	fprintf(stderr, "\r\033[K%s", line);
	fflush(stderr);
	progress_drawn = 1;
}

void cli_progress_clear(void)
{
	if (!progress_drawn)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	progress_drawn = 0;
}

int cli_fail_doc(struct cli *cli, const struct mlctl_err *err, cJSON *doc)
{
	int sig = mlctl_interrupted();
	int code = sig ? 128 + sig : err->code < 0 && err->code >= MLCTL_EINTERNAL ? -err->code : 8;
	/* a message quoting bad input may hold bytes that are not UTF-8: never print them */
	char *msg = mlctl_utf8_fixed(mlctl_strdup(err->msg[0] ? err->msg : "unknown error"));
	cJSON *e;

	cli_progress_clear();
	/* what went to stdout first (a report) comes first in a log of both */
	fflush(stdout);
	fprintf(stderr, "mlctl: %s\n", msg);
	if (!cli->json) {
		free(msg);
		cJSON_Delete(doc);
		return code;
	}
	if (!doc)
		doc = cli_json_doc();
	e = cJSON_AddObjectToObject(doc, "error");
	cJSON_AddNumberToObject(e, "exit", code);
	cJSON_AddStringToObject(e, "code", !sig && err->kind ? err->kind : code_name(code));
	cJSON_AddStringToObject(e, "message", msg);
	/* the name "exit" had before schema_version 1 grew "code": kept for its readers */
	cJSON_AddNumberToObject(e, "exit_code", code);
	cli_print_json(doc);
	free(msg);
	return code;
}

int cli_fail(struct cli *cli, const struct mlctl_err *err)
{
	return cli_fail_doc(cli, err, NULL);
}

int cli_no_command(struct cli *cli, const char *name)
{
	struct mlctl_err err = MLCTL_ERR_INIT;

	if (!name && !cli->json) {
		cli_print_main_help(stderr);
		return 2;
	}
	if (name)
		mlctl_err_set(&err, MLCTL_EUSAGE, "'%s' is not a command; see 'mlctl --help'", name);
	else
		mlctl_err_set(&err, MLCTL_EUSAGE, "no command given; see 'mlctl --help'");
	return cli_fail(cli, &err);
}

void cli_print_version(const struct cli *cli)
{
	cJSON *doc;

	if (!cli->json) {
		printf("mlctl %s\n", MLCTL_VERSION);
		return;
	}
	doc = cli_json_doc();
	cJSON_AddStringToObject(doc, "version", MLCTL_VERSION);
	cJSON_AddItemToObject(doc, "libraries", mlctl_library_versions());
	cli_print_json(doc);
}

int cli_usage(struct cli *cli, const char *fmt, ...)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err.msg, sizeof(err.msg), fmt, ap);
	va_end(ap);
	/* a message that does not say what to do points at the command's help */
	if (!strchr(err.msg, ';') && cli->cmd) {
		size_t n = strlen(err.msg);

		snprintf(err.msg + n, sizeof(err.msg) - n, "; see 'mlctl %s --help'", cli->cmd->name);
	}
	err.code = MLCTL_EUSAGE;
	return cli_fail(cli, &err);
}

void cli_note(struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	if (cli->quiet)
		return;
	cli_progress_clear();
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

cJSON *cli_json_doc(void)
{
	cJSON *doc = cJSON_CreateObject();

	cJSON_AddNumberToObject(doc, "schema_version", 1);
	return doc;
}

void cli_print_json(cJSON *doc)
{
	/* JSON is UTF-8: bytes that are not (a path given so, say) print as U+FFFD */
	char *s = mlctl_utf8_fixed(mlctl_json_pretty(doc));

	fputs(s, stdout);
	free(s);
	cJSON_Delete(doc);
}

const char *cli_c(const struct cli *cli, const char *code)
{
	if (!cli->color)
		return "";
	if (!strcmp(code, "bold"))
		return "\033[1m";
	if (!strcmp(code, "green"))
		return "\033[32m";
	if (!strcmp(code, "red"))
		return "\033[31m";
	if (!strcmp(code, "yellow"))
		return "\033[33m";
	if (!strcmp(code, "dim"))
		return "\033[2m";
	return "\033[0m";
}

int cli_open_registry(struct cli *cli, struct mlctl_registry **r, int create)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	char *root = NULL;
	int rc;

	if (mlctl_registry_locate(&root, cli->registry, &err))
		return cli_fail(cli, &err);
	if (cli->verbose)
		fprintf(stderr, "registry: %s\n", root);
	rc = create == CLI_OPEN_DAMAGED ? mlctl_registry_open_damaged(r, root, &err)
					: mlctl_registry_open(r, root, create, &err);
	free(root);
	return rc ? cli_fail(cli, &err) : 0;
}

int cli_registry_quiet(struct cli *cli, struct mlctl_registry **r, struct mlctl_err *err)
{
	char *root = NULL;
	int rc = mlctl_registry_locate(&root, cli->registry, err);

	*r = NULL;
	if (!rc)
		rc = mlctl_registry_open(r, root, 0, err);
	free(root);
	return rc;
}

int cli_check_registry(struct cli *cli)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	char *root = NULL;
	int rc = mlctl_registry_locate(&root, cli->registry, &err);

	if (!rc)
		rc = mlctl_registry_check_local(root, &err);
	free(root);
	return rc ? cli_fail(cli, &err) : 0;
}

int cli_target(struct cli *cli, struct mlctl_target *t, const char *word)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	char *root = NULL;
	int rc = mlctl_registry_locate(&root, cli->registry, &err);

	if (!rc)
		rc = mlctl_target_init(t, word, root, &err);

	if (!rc && cli->verbose && t->kind == MLCTL_TARGET_REF)
		fprintf(stderr, "registry: %s\n", root);
	free(root);
	return rc ? cli_fail(cli, &err) : 0;
}

void cli_table_init(struct cli_table *t, size_t ncols)
{
	t->cells = NULL;
	t->ncols = ncols;
	t->nrows = 0;
}

void cli_table_row(struct cli_table *t, ...)
{
	va_list ap;
	size_t i;

	t->cells = mlctl_realloc(t->cells, (t->nrows + 1) * t->ncols * sizeof(char *));
	va_start(ap, t);
	for (i = 0; i < t->ncols; i++) {
		const char *c = va_arg(ap, const char *);

		t->cells[t->nrows * t->ncols + i] = mlctl_strdup(c ? c : "");
	}
	va_end(ap);
	t->nrows++;
}

void cli_table_print(const struct cli *cli, struct cli_table *t)
{
	size_t *w = mlctl_calloc(t->ncols + 1, sizeof(*w)), r, c;

	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			size_t n = mlctl_display_width(t->cells[r * t->ncols + c]);

			if (n > w[c])
				w[c] = n;
		}
	for (r = 0; r < t->nrows; r++) {
		if (r == 0)
			fputs(cli_c(cli, "bold"), stdout);
		size_t last = t->ncols;

		/* empty cells at the end of a row print nothing, not padding */
		while (last > 1 && !*t->cells[r * t->ncols + last - 1])
			last--;
		for (c = 0; c < last; c++) {
			const char *cell = t->cells[r * t->ncols + c];

			fputs(cell, stdout);
			if (c + 1 < last)
				printf("%*s", (int)(w[c] - mlctl_display_width(cell) + 2), "");
		}
		if (r == 0)
			fputs(cli_c(cli, "reset"), stdout);
		fputc('\n', stdout);
	}
	free(w);
}

void cli_table_release(struct cli_table *t)
{
	size_t i;

	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->nrows = 0;
}

static const char *const sev_label[] = { "error", "warning", "info" };
static const char *const sev_color[] = { "red", "yellow", "dim" };

void cli_print_report(struct cli *cli, const struct mlctl_report *rep, int strict, FILE *out)
{
	const char *file = NULL;
	size_t i, errors = mlctl_report_count(rep, MLCTL_SEV_ERROR);
	size_t warnings = mlctl_report_count(rep, MLCTL_SEV_WARNING);
	int failed = mlctl_report_failed(rep, strict);

	for (i = 0; i < rep->nfindings; i++) {
		const struct mlctl_finding *f = &rep->findings[i];

		if (!file || strcmp(file, f->file)) {
			file = f->file;
			fprintf(out, "%s%s%s\n", cli_c(cli, "bold"), *file ? file : "(project)",
			       cli_c(cli, "reset"));
		}
		fprintf(out, "  %s%-7s%s %s  %s\n", cli_c(cli, sev_color[f->severity]),
		       sev_label[f->severity], cli_c(cli, "reset"), f->id, f->message);
	}
	if (rep->nfindings)
		fputc('\n', out);
	fprintf(out, "%s%s%s: %zu error%s, %zu warning%s in %zu checks of %s%s%s\n",
	       cli_c(cli, failed ? "red" : "green"), failed ? "FAILED" : "passed",
	       cli_c(cli, "reset"), errors, errors == 1 ? "" : "s", warnings,
	       warnings == 1 ? "" : "s", rep->nruns, rep->subject,
	       rep->digest[0] ? " " : "", rep->digest);
}

void cli_deliver_hooks(struct cli *cli)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_deliver_result res;
	struct mlctl_registry *r = NULL;
	const char *root = mlctl_hooks_queued_root(), *b = getenv("MLCTL_HOOK_BUDGET");
	double budget = b && *b ? strtod(b, NULL) : 5.0;

	(void)cli;
	if (!root || mlctl_interrupted() || !(budget > 0))
		return;
	fflush(stdout);
	if (mlctl_registry_open(&r, root, 0, &err) ||
	    mlctl_registry_deliver(r, NULL, budget, 0, &res, &err)) {
		mlctl_warn("webhooks not sent: %s; 'mlctl hook deliver' sends them", err.msg);
		mlctl_registry_free(r);
		return;
	}
	if (res.pending)
		mlctl_warn("%zu webhook%s not delivered yet (see 'mlctl hook log'); 'mlctl hook "
			   "deliver' sends %s", res.pending, res.pending == 1 ? "" : "s",
			   res.pending == 1 ? "it" : "them");
	mlctl_registry_free(r);
}
