/*
 * completion.c - mlctl completion bash|zsh|fish: print a shell completion script.
 */
#include <string.h>

#include "cli.h"
#include "banned.h"

const struct cli_cmd cli_cmd_completion = {
	"completion", cmd_completion, "print the completion script for bash, zsh or fish",
	"bash|zsh|fish", NULL, 1, 1,
};

int cmd_completion(struct cli *cli, int argc, char **argv)
{
	const char *file = !strcmp(argv[0], "bash") ? "completions/mlctl.bash" :
			   !strcmp(argv[0], "zsh")  ? "completions/_mlctl" :
			   !strcmp(argv[0], "fish") ? "completions/mlctl.fish" : NULL;
	const char *text;

	(void)argc;
	if (!file)
		return cli_usage(cli, "no completion for shell '%s'; use bash, zsh or fish", argv[0]);
	text = cli_embedded(file);
	if (!text)
		return cli_usage(cli, "this mlctl was built without completions");
	fputs(text, stdout);
	return 0;
}
