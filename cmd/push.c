/*
 * push.c - mlctl push [DIR|PKG]: store a version in the registry.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "oci.h"
#include "registry.h"
#include "report.h"
#include "target.h"
#include "validate.h"
#include "banned.h"

static const struct cli_opt opts[] = {
	{ "bump", 0, "PART", "store as the next major, minor or patch version after the "
			     "highest one stored" },
	{ "no-validate", 0, NULL, "store without validating (marked unvalidated)" },
	{ "to", 0, "REMOTE", "also send the version to a remote's OCI registry (a remote's "
			     "name, or HOST[:PORT]/NAMESPACE)" },
	{ "chunk-size", 0, "SIZE", "--to: send blobs larger than this in chunks of it "
				   "(default 256M)" },
	{ "limit-rate", 0, "RATE", "--to: send at most RATE bytes a second (64K, 10M)" },
	{ "jobs", 'j', "N", "--to: blobs sent at once (default 4)" },
	{ "aliases", 0, NULL, "--to: also tag the version with each alias it holds (for other "
			      "tools; mlctl reads aliases from git)" },
	CLI_OCI_OPTS,
	{ NULL, 0, NULL, NULL },
};

const struct cli_cmd cli_cmd_push = {
	"push", cmd_push, "store a project folder or a package as a version in the registry",
	"[DIR|PKG|REF] [--bump major|minor|patch] [--no-validate] [--to REMOTE]", opts, 0, 1,
};

/*
 * The checks of 'mlctl validate' (digests are checked by the push itself).
 * A refusal carries the findings: on stderr, and with --json in the error
 * document, shaped as 'validate --json' reports them.
 */
static int check_first(struct cli *cli, const char *src)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_validate_opts o;
	struct mlctl_report rep;
	struct mlctl_target t;
	enum mlctl_target_kind kind;
	int rc;

	rc = mlctl_target_init(&t, src, NULL, &err);
	kind = t.kind;
	mlctl_target_release(&t);
	if (rc || kind == MLCTL_TARGET_REF)
		return 0; /* the push says what is missing */
	memset(&o, 0, sizeof(o));
	o.skip_digests = 1;
	mlctl_report_init(&rep, src);
	rc = mlctl_validate_path(&rep, src, &o, &err);
	if (rc) {
		mlctl_report_release(&rep);
		return cli_fail(cli, &err);
	}
	/* a package whose structure or manifest is broken was damaged or made by
	 * hand: an integrity failure (exit 5), not a failed gate */
	if (kind == MLCTL_TARGET_PKG && mlctl_validate_damaged(&rep, 1, &err)) {
		mlctl_report_sort(&rep);
		rc = cli_fail_doc(cli, &err, mlctl_report_json(&rep, 0));
		mlctl_report_release(&rep);
		return rc;
	}
	if (mlctl_report_failed(&rep, 0)) {
		mlctl_report_sort(&rep);
		cli_print_report(cli, &rep, 0, stderr);
		mlctl_err_set(&err, MLCTL_EGATE,
			      "'%s' failed validation with %zu error%s; fix them (see 'mlctl validate "
			      "%s') or push with --no-validate",
			      src, mlctl_report_count(&rep, MLCTL_SEV_ERROR),
			      mlctl_report_count(&rep, MLCTL_SEV_ERROR) == 1 ? "" : "s", src);
		rc = cli_fail_doc(cli, &err, mlctl_report_json(&rep, 0));
	}
	mlctl_report_release(&rep);
	return rc;
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/*
 * push --aliases: the version's manifest also under each alias it holds,
 * as the history says once synced (a tag never goes back to a version an
 * alias has left on the remote's history).
 */
static int tag_aliases(struct cli *cli, struct mlctl_registry *r, struct mlctl_oci *c,
		       const char *ref, const char *to)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_version_info info;
	struct mlctl_manifest m;
	struct mlctl_alias_info *a = NULL;
	size_t n = 0, i;
	int rc;

	if (mlctl_registry_resolve(r, &info, &m, ref, &err))
		return cli_fail(cli, &err);
	rc = mlctl_registry_aliases(r, &a, &n, info.name, info.digest, &err);
	if (!rc && n && cli_is_location(to))
		cli_note(cli, "tags set from this registry's aliases, which may be behind the team's: "
			 "a remote with a git URL syncs them first");
	for (i = 0; !rc && i < n; i++) {
		if (!(rc = mlctl_oci_push_tag(c, &m, a[i].alias, &err)))
			cli_note(cli, "tagged %s too", a[i].alias);
	}
	mlctl_alias_infos_free(a, n);
	mlctl_version_info_release(&info);
	mlctl_manifest_release(&m);
	return rc ? cli_fail(cli, &err) : 0;
}

/*
 * Send name:version from the registry to the OCI session; the result into
 * res. A failure says the version is stored here all the same, and how to
 * send it again (to: the remote as given).
 */
static int send_version(struct cli *cli, struct mlctl_oci_push_result *res,
			struct mlctl_registry *r, struct mlctl_oci *c, const char *ref,
			const char *to)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_version_info info;
	struct mlctl_manifest m;
	struct mlctl_oci_uploads uploads;
	struct timespec t0;
	char sent[32], skipped[32], rate[32], resumed[96] = "";
	double secs;
	int rc;

	if (mlctl_registry_resolve(r, &info, &m, ref, &err))
		return cli_fail(cli, &err);
	/* a chunked upload an earlier push began goes on where the registry says it stopped */
	mlctl_registry_uploads(r, &uploads);
	mlctl_oci_set_uploads(c, &uploads);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = mlctl_oci_push(res, c, mlctl_registry_root(r), &m, &err);
	secs = seconds_since(&t0);
	mlctl_oci_set_uploads(c, NULL);
	if (rc == MLCTL_ECONFLICT && !cli_is_location(to)) {
		/* the way out, when the remote's history can take the other side */
		struct mlctl_err e2 = MLCTL_ERR_INIT;

		mlctl_err_set(&e2, err.code, "%.700s; to keep the remote's instead: 'mlctl registry "
			      "sync %s --theirs %s:%s' (a remote with a git URL)", err.msg, to,
			      info.name, info.version);
		err = e2;
	} else if (rc && rc != MLCTL_ECONFLICT) {
		/* the version is stored here whatever happened on the way */
		struct mlctl_err e2 = MLCTL_ERR_INIT;

		mlctl_err_set(&e2, err.code, "%.600s; %s:%s is stored here, not (all of it) on "
			      "the remote: 'mlctl push %s:%s --to %s' sends the rest",
			      mlctl_interrupted() ? "interrupted while sending" : err.msg,
			      info.name, info.version, info.name, info.version, to);
		err = e2;
	}
	mlctl_version_info_release(&info);
	mlctl_manifest_release(&m);
	if (rc)
		return cli_fail(cli, &err);
	mlctl_human_size(sent, res->bytes_sent);
	mlctl_human_size(skipped, res->bytes_skipped);
	mlctl_human_size(rate, secs > 0 ? (uint64_t)((double)res->bytes_sent / secs) : 0);
	if (res->bytes_resumed) {
		char size[32];

		mlctl_human_size(size, res->bytes_resumed);
		snprintf(resumed, sizeof(resumed), " (and went on with uploads it had %s of)", size);
	}
	if (res->blobs_restarted)
		cli_note(cli, "%zu upload%s an earlier push began %s dropped by the registry (a "
			 "break in the middle of a chunk leaves distribution nothing to go on "
			 "from): sent again from the start", res->blobs_restarted,
			 res->blobs_restarted == 1 ? "" : "s", res->blobs_restarted == 1 ? "was" : "were");
	cli_note(cli, "sent %zu blob%s (%s)%s, skipped %zu the registry had (%s), in %.1f s "
		 "(%s/s)", res->blobs_sent, res->blobs_sent == 1 ? "" : "s", sent, resumed,
		 res->blobs_skipped, skipped, secs, rate);
	return 0;
}

static cJSON *remote_json(const struct mlctl_oci_loc *loc, const struct mlctl_oci_push_result *o)
{
	cJSON *j = cJSON_CreateObject();
	char *ref = mlctl_aprintf("%s/%s@%s", loc->host, o->repo, o->digest);

	cJSON_AddStringToObject(j, "registry", loc->host);
	cJSON_AddStringToObject(j, "repository", o->repo);
	cJSON_AddStringToObject(j, "tag", o->tag);
	cJSON_AddStringToObject(j, "digest", o->digest);
	cJSON_AddStringToObject(j, "reference", ref);
	cJSON_AddNumberToObject(j, "blobs_sent", (double)o->blobs_sent);
	cJSON_AddNumberToObject(j, "bytes_sent", (double)o->bytes_sent);
	cJSON_AddNumberToObject(j, "blobs_skipped", (double)o->blobs_skipped);
	cJSON_AddNumberToObject(j, "bytes_skipped", (double)o->bytes_skipped);
	cJSON_AddNumberToObject(j, "bytes_resumed", (double)o->bytes_resumed);
	cJSON_AddNumberToObject(j, "blobs_mounted", (double)o->blobs_mounted);
	cJSON_AddNumberToObject(j, "blobs_restarted", (double)o->blobs_restarted);
	free(ref);
	return j;
}

static void print_remote(const struct mlctl_oci_loc *loc, const struct mlctl_oci_push_result *o)
{
	printf("sent to %s/%s:%s %s\n", loc->host, o->repo, o->tag, o->digest);
}

/*
 * push --to after the version is stored: its bytes, then the history (a
 * remote with a git URL), then --aliases' tags from the history as synced.
 */
static int send_sync_tag(struct cli *cli, struct mlctl_oci_push_result *o,
			 struct mlctl_sync_result *sres, int *synced, struct mlctl_registry *r,
			 struct mlctl_oci *c, const struct mlctl_oci_loc *loc, const char *ref,
			 const char *to)
{
	cJSON *rj;
	int rc;

	*synced = 0;
	if ((rc = send_version(cli, o, r, c, ref, to)))
		return rc;
	rj = remote_json(loc, o);
	rc = cli_sync_after_push(cli, sres, synced, r, to, ref, rj);
	cJSON_Delete(rj);
	if (!rc && cli_opt(cli, "aliases"))
		rc = tag_aliases(cli, r, c, ref, to);
	return rc;
}

/* push REF --to REMOTE: a version the registry holds, to the remote only. */
static int push_stored(struct cli *cli, const char *ref, const char *to)
{
	struct mlctl_registry *r = NULL;
	struct mlctl_oci *c = NULL;
	struct mlctl_oci_loc loc;
	struct mlctl_oci_push_result o;
	struct mlctl_sync_result sres;
	int rc, synced = 0;

	if (cli_opt(cli, "bump") || cli_opt(cli, "no-validate"))
		return cli_usage(cli, "--bump and --no-validate go with a project folder or "
				 "package, not with a version the registry holds ('%s')", ref);
	if ((rc = cli_open_registry(cli, &r, 0)))
		return rc;
	if (!(rc = cli_oci_open(cli, &c, &loc, r, to)))
		rc = send_sync_tag(cli, &o, &sres, &synced, r, c, &loc, ref, to);
	mlctl_oci_free(c);
	mlctl_registry_free(r);
	if (rc)
		return rc;
	if (cli->json) {
		cJSON *doc = cli_json_doc();

		cJSON_AddItemToObject(doc, "remote", remote_json(&loc, &o));
		if (synced)
			cJSON_AddItemToObject(doc, "sync", cli_sync_json(to, &sres));
		cli_print_json(doc);
	} else {
		print_remote(&loc, &o);
		if (synced)
			cli_sync_print(cli, to, &sres);
	}
	return 0;
}

/*
 * Before anything is stored or sent: the model's name must be an OCI
 * repository name (a project folder's mlctl.json says it; a package's is
 * checked once it is stored, before any byte is sent).
 */
static int check_oci_name(struct cli *cli, const char *src)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_manifest m;
	struct mlctl_oci_loc loc;
	char repo[512];
	int rc;

	if (!mlctl_is_dir(src) || mlctl_manifest_load(&m, src, NULL, &err))
		return 0; /* the push says what is wrong */
	memset(&loc, 0, sizeof(loc));
	rc = mlctl_oci_repo(repo, sizeof(repo), &loc, m.name, &err);
	mlctl_manifest_release(&m);
	return rc ? cli_fail(cli, &err) : 0;
}

/* What the local push did: the first line of push's output. */
static void print_stored(struct cli *cli, const struct mlctl_push_result *res)
{
	char size[32];

	if (res->existed && res->blobs_written) {
		/* its bytes were missing here (pruned, or lost): this push brought them back */
		printf("%s:%s is already in the registry with digest %s; restored %zu missing "
		       "file%s\n", res->name, res->version, res->digest, res->blobs_written,
		       res->blobs_written == 1 ? "" : "s");
		return;
	}
	if (res->existed) {
		printf("%s:%s is already in the registry with digest %s; nothing to do\n",
		       res->name, res->version, res->digest);
		return;
	}
	mlctl_human_size(size, res->size);
	printf("pushed %s:%s %s\n", res->name, res->version, res->digest);
	cli_note(cli, "%zu file%s, %s; %zu new blob%s stored", res->nfiles,
		 res->nfiles == 1 ? "" : "s", size, res->blobs_written,
		 res->blobs_written == 1 ? "" : "s");
	fflush(stdout);
}

static int is_stored_ref(const char *src)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_target t;
	int rc = mlctl_target_init(&t, src, NULL, &err), ref = !rc && t.kind == MLCTL_TARGET_REF;

	mlctl_target_release(&t);
	return ref;
}

int cmd_push(struct cli *cli, int argc, char **argv)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_registry *r = NULL;
	struct mlctl_push_result res;
	const char *src = argc > 0 ? argv[0] : ".";
	const char *bump = cli_opt(cli, "bump"), *to = cli_opt(cli, "to");
	struct mlctl_oci *c = NULL;
	struct mlctl_oci_loc loc;
	struct mlctl_oci_push_result o;
	struct mlctl_sync_result sres;
	char why[512] = "";
	int validated = cli_opt(cli, "no-validate") == NULL, rc, synced = 0;

	/* a registry given as a remote is refused before any work is done */
	if ((rc = cli_check_registry(cli)))
		return rc;
	if (!to && cli_oci_opts_given(cli))
		return cli_usage(cli, "--chunk-size, --limit-rate, --jobs, --aliases, --insecure, "
				 "--registry-config, --ca-file, --cert and --key go with --to REMOTE");
	if (to && is_stored_ref(src))
		return push_stored(cli, src, to);
	if (to && (rc = check_oci_name(cli, src)))
		return rc;
	if (validated && (rc = check_first(cli, src)))
		return rc;
	/* the remote is asked first, so that a wrong password stops the push before it starts */
	if (to && (rc = cli_oci_open(cli, &c, &loc, NULL, to)))
		return rc;
	/* a first push writes a registry beside, renamed into place only when it succeeds */
	if ((rc = cli_open_registry(cli, &r, MLCTL_OPEN_FIRST)))
		return rc;
	rc = mlctl_registry_push(r, &res, src, bump, validated, &err);
	if (!rc && (rc = mlctl_registry_publish(r, &err)) == 1) {
		/* another first push made the registry meanwhile: push into that one */
		mlctl_registry_free(r);
		if ((rc = cli_open_registry(cli, &r, 1)))
			return rc;
		rc = mlctl_registry_push(r, &res, src, bump, validated, &err);
	}
	mlctl_registry_free(r);
	if (rc) {
		mlctl_oci_free(c);
		return cli_fail(cli, &err);
	}
	if (c) {
		/* opened afresh: a first push's registry was renamed into place */
		char *ref = mlctl_aprintf("%s:%s", res.name, res.version);

		/* the version is stored: said now, before the network has its say */
		if (!cli->json)
			print_stored(cli, &res);
		if (!(rc = cli_open_registry(cli, &r, 0)))
			rc = send_sync_tag(cli, &o, &sres, &synced, r, c, &loc, ref, to);
		mlctl_registry_free(r);
		mlctl_oci_free(c);
		free(ref);
		if (rc)
			return rc;
	}
	/*
	 * With --bump, a version that existed is the highest one, holding this
	 * content already (the next version is never stored yet): no bump.
	 */
	if (bump && res.existed) {
		snprintf(why, sizeof(why), "%s:%s, the highest version, holds the same content",
			 res.name, res.version);
		cli_note(cli, "--bump %s skipped: %s; change the model's files or mlctl.json to "
			 "push a new version", bump, why);
	}
	if (cli->json) {
		cJSON *doc = cli_json_doc();

		cJSON_AddStringToObject(doc, "name", res.name);
		cJSON_AddStringToObject(doc, "version", res.version);
		cJSON_AddStringToObject(doc, "digest", res.digest);
		cJSON_AddBoolToObject(doc, "existed", res.existed);
		cJSON_AddBoolToObject(doc, "validated", validated);
		cJSON_AddNumberToObject(doc, "files", (double)res.nfiles);
		cJSON_AddNumberToObject(doc, "size", (double)res.size);
		cJSON_AddNumberToObject(doc, "blobs_written", (double)res.blobs_written);
		if (bump) {
			cJSON *b = cJSON_AddObjectToObject(doc, "bump");

			cJSON_AddStringToObject(b, "part", bump);
			cJSON_AddBoolToObject(b, "skipped", *why != '\0');
			if (*why)
				cJSON_AddStringToObject(b, "reason", why);
		}
		if (to)
			cJSON_AddItemToObject(doc, "remote", remote_json(&loc, &o));
		if (synced)
			cJSON_AddItemToObject(doc, "sync", cli_sync_json(to, &sres));
		cli_print_json(doc);
	} else if (!to) {
		print_stored(cli, &res);
	}
	if (to && !cli->json)
		print_remote(&loc, &o);
	if (synced && !cli->json)
		cli_sync_print(cli, to, &sres);
	return 0;
}
