/*
 * main.c - find the command, hand it its arguments, flush, exit.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "banned.h"

const struct cli_cmd *const cli_commands[] = {
	&cli_cmd_init, &cli_cmd_validate, &cli_cmd_package, &cli_cmd_push, &cli_cmd_pull, &cli_cmd_list,
	&cli_cmd_versions, &cli_cmd_history, &cli_cmd_show, &cli_cmd_diff, &cli_cmd_alias, &cli_cmd_policy, &cli_cmd_promote, &cli_cmd_approve, &cli_cmd_rollback,
	&cli_cmd_deprecate, &cli_cmd_undeprecate, &cli_cmd_smoke, &cli_cmd_registry, &cli_cmd_hook, &cli_cmd_remote,
	&cli_cmd_login, &cli_cmd_logout, &cli_cmd_completion, &cli_cmd_help, NULL,
};

/* a library loaded at its first call could not be: an error like any other,
 * JSON under --json (lib/lazy.h) */
static struct cli *the_cli;

static void lazy_failed(const char *msg)
{
	struct mlctl_err err = MLCTL_ERR_INIT;

	mlctl_err_set(&err, MLCTL_EIO, "%s", msg);
	exit(cli_fail(the_cli, &err));
}

int main(int argc, char **argv)
{
	struct cli cli;
	const struct cli_cmd *cmd = NULL;
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
	int i, cmd_at = -1, version = 0, help = 0, rc;
	const char *missing = NULL;

	memset(&cli, 0, sizeof(cli));
	/* file names are UTF-8 whatever LANG says (a CI runner often has none) */
	mlctl_locale_utf8();
	mlctl_catch_signals();
	cli.color = isatty(1) && !(nc && *nc) && !(term && !strcmp(term, "dumb"));
	for (i = 1; i < argc && cmd_at < 0 && !version && !help; i++) {
		help = !strcmp(argv[i], "-h") || !strcmp(argv[i], "--help");
		version = !strcmp(argv[i], "--version");
		if (argv[i][0] != '-')
			cmd_at = i;
		else if (cli_global_takes_value(argv[i]) && ++i == argc)
			missing = argv[i - 1];
	}
	for (i = 0; cmd_at > 0 && cli_commands[i]; i++)
		if (!strcmp(cli_commands[i]->name, argv[cmd_at]))
			cmd = cli_commands[i];
	/* before any parsing: a usage error anywhere on the line is JSON too */
	cli.json = cli_json_requested(cmd, argc, argv);
	the_cli = &cli;
	mlctl_lazy_failed = lazy_failed;
	if (help) {
		cli_print_main_help(stdout);
		rc = 0;
	} else if (version) {
		cli_print_version(&cli);
		rc = 0;
	} else if (missing && !cmd) {
		rc = cli_usage(&cli, "option '%s' needs a value; see 'mlctl --help'", missing);
	} else if (!cmd) {
		rc = cli_no_command(&cli, cmd_at < 0 ? NULL : argv[cmd_at]);
	} else {
		/* the command sees its name first, then every other argument, globals included */
		char **args = calloc((size_t)argc, sizeof(*args));
		int n = 0, j;

		if (!args)
			return 8;
		args[n++] = argv[cmd_at];
		for (j = 1; j < argc; j++)
			if (j != cmd_at)
				args[n++] = argv[j];
		rc = cli_parse(&cli, cmd, n, args);
		if (rc == 0)
			rc = cmd->fn(&cli, cli.npos, (char **)cli.pos);
		else if (rc < 0)
			rc = 0;
		free(args);
		/* the webhooks of the events this command made, whatever came after them */
		cli_deliver_hooks(&cli);
	}
	if (mlctl_interrupted()) {
		/* everything is cleaned up: now die of the signal, as a shell expects */
		int sig = mlctl_interrupted();

		fflush(stdout); /* a JSON error document says so too */
		signal(sig, SIG_DFL);
		raise(sig);
		return 128 + sig;
	}
	/* a full disk or a closed pipe on stdout is a failure too */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno != EPIPE)
			fprintf(stderr, "mlctl: cannot write the output: %s\n", strerror(errno));
		return rc ? rc : 6;
	}
	return rc;
}
