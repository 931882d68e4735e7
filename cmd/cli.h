/*
 * cli.h - what every command shares: the option spec that both parses and
 * prints --help, global options, error printing and the exit-code map.
 */
#ifndef MLCTL_CLI_H
#define MLCTL_CLI_H

#include <cjson/cJSON.h>
#include <stdio.h>

#include "util.h"

#define MLCTL_VERSION "0.1.0"
#define CLI_MAX_OPTS 24
#define CLI_MAX_POS 16
#define CLI_MAX_REPEAT 32

struct cli_opt {
	const char *name; /* long name without "--" */
	char short_name;  /* 0 when none */
	const char *arg;  /* metavariable, NULL for a flag */
	const char *help;
};

struct cli;

struct cli_cmd {
	const char *name;
	int (*fn)(struct cli *cli, int argc, char **argv);
	const char *summary;
	const char *usage;    /* after "mlctl NAME " */
	const struct cli_opt *opts;
	int min_pos, max_pos;
};

/* Global state set up once by main. */
struct cli {
	const char *registry; /* --registry, or NULL */
	int json, quiet, verbose, color;
	const struct cli_cmd *cmd;
	/* this command's parsed options, by index in cmd->opts */
	const char *val[CLI_MAX_OPTS];
	int set[CLI_MAX_OPTS];
	/* every value of an option given more than once (--gate A --gate B) */
	const char *vals[CLI_MAX_OPTS][CLI_MAX_REPEAT];
	int nvals[CLI_MAX_OPTS];
	const char *pos[CLI_MAX_POS];
	int npos;
};

extern const struct cli_cmd *const cli_commands[];
extern const struct cli_opt cli_global_opts[];

/*
 * Parse argv (argv[0] is the command name) against cmd's options and the
 * global ones. Returns 0, 2 after printing a usage error, or -1 after
 * printing --help (the caller returns 0).
 */
int cli_parse(struct cli *cli, const struct cli_cmd *cmd, int argc, char **argv);
/* 1 when a ("--registry", say) is a global option whose value is the next argument. */
int cli_global_takes_value(const char *a);
/*
 * 1 when --json is anywhere among the options of argv (argv[0] is mlctl),
 * read with cmd's options (NULL: the global ones only) so that an option's
 * value is not taken for it; before parsing, so that a usage error on the
 * same line is a JSON document too.
 */
int cli_json_requested(const struct cli_cmd *cmd, int argc, char **argv);
/* Value of an option by long name (NULL when not given); flags give "". */
const char *cli_opt(const struct cli *cli, const char *name);
/* Every value of an option given several times; the count into *n. */
const char *const *cli_opt_all(const struct cli *cli, const char *name, size_t *n);
void cli_print_help(const struct cli_cmd *cmd, FILE *f);
void cli_print_main_help(FILE *f);

/*
 * Print "mlctl: <msg>" on stderr and, with --json, one document on stdout
 * with an "error" object (docs/exit-codes.md); return the exit code.
 */
int cli_fail(struct cli *cli, const struct mlctl_err *err);
/*
 * The same, for a failure that has a report (validate's findings, a smoke
 * run): with --json, doc gets the "error" object and is the one document
 * printed. Takes ownership of doc.
 */
int cli_fail_doc(struct cli *cli, const struct mlctl_err *err, cJSON *doc);
/* No command on the line (name NULL: the main help on stderr), or one that is not known: exit 2. */
int cli_no_command(struct cli *cli, const char *name);
/* mlctl --version: a line, or with --json a document with the libraries' versions. */
void cli_print_version(const struct cli *cli);
/* A usage error from a command: message, then exit code 2. */
int cli_usage(struct cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A progress line on stderr, replacing the last one; cleared before notes and errors. */
void cli_progress_line(const char *line);
void cli_progress_clear(void);
/* Progress or notes on stderr, unless -q. */
void cli_note(struct cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print a JSON document on stdout (takes ownership of doc). */
void cli_print_json(cJSON *doc);
/* A JSON document with schema_version set. */
cJSON *cli_json_doc(void);
/* Wrap text in colour when colour is on. */
const char *cli_c(const struct cli *cli, const char *code);

/* Embedded files (completions), generated at build time. */
const char *cli_embedded(const char *name);

/* Commands. */
int cmd_init(struct cli *cli, int argc, char **argv);
int cmd_validate(struct cli *cli, int argc, char **argv);
int cmd_smoke(struct cli *cli, int argc, char **argv);
int cmd_package(struct cli *cli, int argc, char **argv);
int cmd_push(struct cli *cli, int argc, char **argv);
int cmd_pull(struct cli *cli, int argc, char **argv);
int cmd_list(struct cli *cli, int argc, char **argv);
int cmd_versions(struct cli *cli, int argc, char **argv);
int cmd_show(struct cli *cli, int argc, char **argv);
int cmd_registry(struct cli *cli, int argc, char **argv);
int cmd_alias(struct cli *cli, int argc, char **argv);
int cmd_deprecate(struct cli *cli, int argc, char **argv);
int cmd_history(struct cli *cli, int argc, char **argv);
int cmd_policy(struct cli *cli, int argc, char **argv);
int cmd_promote(struct cli *cli, int argc, char **argv);
int cmd_hook(struct cli *cli, int argc, char **argv);
int cmd_diff(struct cli *cli, int argc, char **argv);
int cmd_completion(struct cli *cli, int argc, char **argv);
int cmd_remote(struct cli *cli, int argc, char **argv);
int cmd_login(struct cli *cli, int argc, char **argv);
int cmd_logout(struct cli *cli, int argc, char **argv);
int cmd_help(struct cli *cli, int argc, char **argv);

extern const struct cli_cmd cli_cmd_init, cli_cmd_validate, cli_cmd_smoke, cli_cmd_package, cli_cmd_push, cli_cmd_pull,
	cli_cmd_list, cli_cmd_versions, cli_cmd_show, cli_cmd_alias, cli_cmd_registry, cli_cmd_completion,
	cli_cmd_help, cli_cmd_remote, cli_cmd_login, cli_cmd_logout, cli_cmd_deprecate,
	cli_cmd_undeprecate, cli_cmd_history, cli_cmd_policy, cli_cmd_promote, cli_cmd_approve,
	cli_cmd_rollback, cli_cmd_hook, cli_cmd_diff;

struct mlctl_report;
/* Findings grouped by file, then a summary line. */
void cli_print_report(struct cli *cli, const struct mlctl_report *rep, int strict, FILE *f);

/*
 * At a command's end: send the webhooks its events queued, within
 * MLCTL_HOOK_BUDGET seconds (default 5; 0 sends none), saying on stderr
 * what is left for 'mlctl hook deliver'. Never changes the exit code.
 */
void cli_deliver_hooks(struct cli *cli);

struct mlctl_registry;
/* As cli_open_registry without create, printing nothing: the library's code, the message in err. */
int cli_registry_quiet(struct cli *cli, struct mlctl_registry **r, struct mlctl_err *err);
/* Refuse a --registry (or MLCTL_REGISTRY) that is not a local folder, before any work. */
int cli_check_registry(struct cli *cli);

struct mlctl_registry;
/*
 * Open the registry (--registry, MLCTL_REGISTRY, default); prints and returns an exit code on
 * failure. create as mlctl_registry_open's, or CLI_OPEN_DAMAGED for verify and reindex, which
 * open a registry whose database is broken to report or rebuild it.
 */
#define CLI_OPEN_DAMAGED (-1)
int cli_open_registry(struct cli *cli, struct mlctl_registry **r, int create);

struct mlctl_target;
/*
 * Classify a DIR|PKG|REF word (lib/target.h) against the registry of
 * --registry, MLCTL_REGISTRY or the default; prints and returns an exit code
 * on failure. Release t in any case.
 */
int cli_target(struct cli *cli, struct mlctl_target *t, const char *word);

/* The options of commands that reach an OCI registry (push --to, pull --from, show --from, login). */
#define CLI_OCI_OPTS                                                                           \
	{ "insecure", 0, NULL, "take any TLS certificate, or plain http, from the registry" }, \
	{ "registry-config", 0, "FILE", "credentials file to use instead of docker's "        \
					"config.json" },                                       \
	{ "ca-file", 0, "FILE", "CA certificates to verify the registry's TLS certificate" }, \
	{ "cert", 0, "FILE", "client certificate for TLS" },                                  \
	{ "key", 0, "FILE", "the client certificate's private key" }
struct mlctl_oci;
struct mlctl_oci_loc;
struct mlctl_oci_opts;
/* 1 when an option that only goes with a remote (CLI_OCI_OPTS, --chunk-size, --limit-rate,
 * --aliases, --file) was given. */
int cli_oci_opts_given(const struct cli *cli);
/* The CLI_OCI_OPTS given (and --chunk-size, where a command has it); an exit code when bad. */
int cli_oci_opts(struct cli *cli, struct mlctl_oci_opts *o);
/*
 * A session with the OCI registry that word names: a remote of the registry
 * (r, or the one of --registry when r is NULL) or an OCI location
 * (HOST[:PORT]/NAMESPACE). Prints and returns an exit code on failure.
 */
int cli_oci_open(struct cli *cli, struct mlctl_oci **c, struct mlctl_oci_loc *loc,
		 struct mlctl_registry *r, const char *word);

struct mlctl_oci_version;
/*
 * The version word names (NAME:VERSION; NAME for the latest tag; an alias or
 * a digest as this registry resolves them) read from the OCI registry from
 * names: its manifest and mlctl.json, checked. A version this registry holds
 * with another digest is exit 4. Prints and returns an exit code on failure;
 * on success the caller frees *c and releases v.
 */
int cli_remote_fetch(struct cli *cli, struct mlctl_oci **c, struct mlctl_oci_loc *loc,
		     struct mlctl_oci_version *v, const char *word, const char *from);

struct mlctl_sync_result;
/* 1 when word is an OCI location (it holds '/', ':' or '.'), not a remote's name. */
int cli_is_location(const char *word);
/*
 * After push --to: when to is a remote with a git URL, sync the history with it
 * (*synced set). On failure, prints that sent (NAME:VERSION) went up all the
 * same (with --json, remote, the OCI result, in the error document) and
 * returns the exit code.
 */
int cli_sync_after_push(struct cli *cli, struct mlctl_sync_result *res, int *synced,
			struct mlctl_registry *r, const char *to, const char *sent, cJSON *remote);
/* What a sync did, as JSON and as lines for people (cmd/remote.c). */
cJSON *cli_sync_json(const char *remote, const struct mlctl_sync_result *res);
void cli_sync_print(struct cli *cli, const char *remote, const struct mlctl_sync_result *res);

/* A plain text table: header row first; columns padded to their widest cell. */
struct cli_table {
	char **cells;
	size_t ncols, nrows;
};
void cli_table_init(struct cli_table *t, size_t ncols);
/* Add one row of ncols cells (copied). */
void cli_table_row(struct cli_table *t, ...);
void cli_table_print(const struct cli *cli, struct cli_table *t);
void cli_table_release(struct cli_table *t);

#endif
