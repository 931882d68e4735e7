/*
 * help.c - mlctl help [COMMAND]: the same text as --help.
 */
#include <string.h>

#include "cli.h"
#include "banned.h"

const struct cli_cmd cli_cmd_help = {
	"help", cmd_help, "show help for mlctl or one command", "[COMMAND]", NULL, 0, 1,
};

int cmd_help(struct cli *cli, int argc, char **argv)
{
	int i;

	if (argc == 0) {
		cli_print_main_help(stdout);
		return 0;
	}
	for (i = 0; cli_commands[i]; i++)
		if (!strcmp(cli_commands[i]->name, argv[0])) {
			cli_print_help(cli_commands[i], stdout);
			return 0;
		}
	return cli_usage(cli, "'%s' is not a command; see 'mlctl --help'", argv[0]);
}
