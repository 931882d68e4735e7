/*
 * package.c - mlctl package [DIR] [-o FILE]: a deterministic .mlpkg; prints the digest.
 */
#include <stdlib.h>

#include "cli.h"
#include "package.h"
#include "banned.h"

static const struct cli_opt opts[] = {
	{ "output", 'o', "FILE", "package file (default: NAME-VERSION.mlpkg here)" },
	{ "compression", 0, "KIND", "none (default), gzip[:1-9] or zstd[:1-19]" },
	{ NULL, 0, NULL, NULL },
};

const struct cli_cmd cli_cmd_package = {
	"package", cmd_package, "make a deterministic package of a project; print its digest",
	"[DIR] [-o FILE] [--compression KIND]", opts, 0, 1,
};

int cmd_package(struct cli *cli, int argc, char **argv)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_manifest m, probe;
	const char *dir = argc > 0 ? argv[0] : ".";
	const char *out = cli_opt(cli, "output"), *comp = cli_opt(cli, "compression");
	char digest[72], *def = NULL, size[32];

	if (!out) {
		/* the default name needs the manifest's name and version */
		if (mlctl_manifest_load(&probe, dir, NULL, &err))
			return cli_fail(cli, &err);
		def = mlctl_aprintf("%s-%s.mlpkg", mlctl_basename(probe.name), probe.version);
		mlctl_manifest_release(&probe);
		out = def;
	}
	if (mlctl_package_write(&m, digest, dir, out, comp ? comp : "none", &err)) {
		free(def);
		return cli_fail(cli, &err);
	}
	mlctl_human_size(size, mlctl_manifest_total_size(&m));
	if (cli->json) {
		cJSON *doc = cli_json_doc();

		cJSON_AddStringToObject(doc, "name", m.name);
		cJSON_AddStringToObject(doc, "version", m.version);
		cJSON_AddStringToObject(doc, "digest", digest);
		cJSON_AddStringToObject(doc, "path", out);
		cJSON_AddNumberToObject(doc, "files", (double)m.nfiles);
		cJSON_AddNumberToObject(doc, "size", (double)mlctl_manifest_total_size(&m));
		cli_print_json(doc);
	} else {
		cli_note(cli, "packaged %s %s: %zu file%s, %s -> %s", m.name, m.version, m.nfiles,
			 m.nfiles == 1 ? "" : "s", size, out);
		printf("%s\n", digest);
	}
	mlctl_manifest_release(&m);
	free(def);
	return 0;
}
