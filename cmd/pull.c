/*
 * pull.c - mlctl pull DIR|PKG|REF [-o DIR]: write a model's files, each
 * checked against its sha256, and its mlctl.json into a folder: a registry
 * version, a package unpacked, or a project's files as its package holds
 * them.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "oci.h"
#include "target.h"
#include "banned.h"

static const struct cli_opt opts[] = {
	{ "output", 'o', "DIR", "target folder (default: NAME-VERSION here)" },
	{ "force", 'f', NULL, "replace a folder that is not empty" },
	{ "from", 0, "REMOTE", "pull from a remote's OCI registry (a remote's name, or "
			       "HOST[:PORT]/NAMESPACE)" },
	{ "file", 0, "GLOB", "--from: only the files whose path matches (repeatable)" },
	{ "limit-rate", 0, "RATE", "--from: receive at most RATE bytes a second (64K, 10M)" },
	{ "jobs", 'j', "N", "--from: blobs received at once (default 4)" },
	CLI_OCI_OPTS,
	{ NULL, 0, NULL, NULL },
};

const struct cli_cmd cli_cmd_pull = {
	"pull", cmd_pull,
	"write a version's (or a package's) files into a folder, checking every digest",
	"DIR|PKG|REF [-o DIR] [--force] [--from REMOTE [--file GLOB]...]", opts, 1, 1,
};

static int pull_remote(struct cli *cli, const char *word, const char *from, const char *out)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_oci *c = NULL;
	struct mlctl_oci_loc loc;
	struct mlctl_oci_version v;
	size_t nglobs = 0, nfiles = 0;
	const char *const *globs = cli_opt_all(cli, "file", &nglobs);
	char *def = NULL, size[32], rate[32];
	uint64_t nbytes = 0;
	struct timespec t0, t1;
	double secs;
	int rc;

	if ((rc = cli_remote_fetch(cli, &c, &loc, &v, word, from)))
		return rc;
	if (!out)
		out = def = mlctl_aprintf("%s-%s", mlctl_basename(v.m.name), v.m.version);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (mlctl_oci_pull(c, &v, out, cli_opt(cli, "force") != NULL, globs, nglobs, &nfiles,
			   &nbytes, &err)) {
		rc = cli_fail(cli, &err);
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	mlctl_human_size(size, nbytes);
	mlctl_human_size(rate, secs > 0 ? (uint64_t)((double)nbytes / secs) : 0);
	if (cli->json) {
		cJSON *doc = cli_json_doc();
		char *oref = mlctl_aprintf("%s/%s@%s", loc.host, v.repo, v.digest);

		cJSON_AddStringToObject(doc, "name", v.m.name);
		cJSON_AddStringToObject(doc, "version", v.m.version);
		cJSON_AddStringToObject(doc, "digest", v.version_digest);
		cJSON_AddStringToObject(doc, "path", out);
		cJSON_AddNumberToObject(doc, "files", (double)nfiles);
		cJSON_AddStringToObject(doc, "from", oref);
		cli_print_json(doc);
		free(oref);
	} else {
		printf("pulled %s:%s %s from %s/%s@%s into %s\n", v.m.name, v.m.version,
		       v.version_digest, loc.host, v.repo, v.digest, out);

		if (nglobs)
			cli_note(cli, "%zu of %zu files (--file)", nfiles, v.m.nfiles);
	}
	fflush(stdout);
	/* the summary line, as push's: on stderr, so stdout (a result, a document) stays clean */
	cli_note(cli, "received %zu file%s (%s) in %.1f s (%s/s)", nfiles, nfiles == 1 ? "" : "s",
		 size, secs, rate);
out:
	mlctl_oci_version_release(&v);
	mlctl_oci_free(c);
	free(def);
	return rc;
}

int cmd_pull(struct cli *cli, int argc, char **argv)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_target t;
	const char *out = cli_opt(cli, "output");
	char *def = NULL;
	const char *real;
	int rc;

	(void)argc;
	if (cli_opt(cli, "from"))
		return pull_remote(cli, argv[0], cli_opt(cli, "from"), out);
	if (cli_oci_opts_given(cli))
		return cli_usage(cli, "--file, --limit-rate, --jobs, --insecure, --registry-config, --ca-file, "
				 "--cert and --key go with --from REMOTE");
	if ((rc = cli_target(cli, &t, argv[0])))
		goto done;
	if (!out) {
		if ((rc = mlctl_target_open(&t, &err))) {
			rc = cli_fail(cli, &err);
			goto done;
		}
		def = mlctl_aprintf("%s-%s", mlctl_basename(t.m.name), t.m.version);
		out = def;
	}
	if ((rc = mlctl_target_unpack(&t, out, cli_opt(cli, "force") != NULL, &err))) {
		rc = cli_fail(cli, &err);
		goto done;
	}
	real = t.resolved; /* a link to a folder: the folder it points to was filled */
	if (t.kind == MLCTL_TARGET_REF && (t.info.deprecated || t.info.model_deprecated)) {
		char when[32];

		mlctl_time_iso(when, t.info.deprecated ? t.info.deprecated : t.info.model_deprecated);
		mlctl_warn("%s%s:%s is deprecated (since %s); pulled anyway: see 'mlctl history %s'",
			   t.info.deprecated ? "" : "the model of ", t.m.name, t.m.version, when,
			   t.m.name);
	}
	if (cli->json) {
		cJSON *doc = cli_json_doc();

		cJSON_AddStringToObject(doc, "name", t.m.name);
		cJSON_AddStringToObject(doc, "version", t.m.version);
		cJSON_AddStringToObject(doc, "digest", t.digest);
		cJSON_AddStringToObject(doc, "path", out);
		if (real)
			cJSON_AddStringToObject(doc, "resolved", real);
		cJSON_AddNumberToObject(doc, "files", (double)t.m.nfiles);
		cJSON_AddBoolToObject(doc, "deprecated", t.kind == MLCTL_TARGET_REF &&
						 (t.info.deprecated || t.info.model_deprecated));
		cli_print_json(doc);
	} else {
		printf("pulled %s:%s %s into %s%s%s%s\n", t.m.name, t.m.version, t.digest, out,
		       real ? " (the folder it links to, " : "", real ? real : "", real ? ")" : "");
	}
done:
	mlctl_target_release(&t);
	free(def);
	return rc;
}
