/*
 * remote.c - mlctl remote add NAME --oci HOST/NAMESPACE [--git URL] | rm
 * NAME | list: where versions go beyond this machine. Also what push,
 * pull and show share to reach one: --to/--from as a remote's name or an
 * OCI location, and the TLS and credential options.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "oci.h"
#include "registry.h"
#include "banned.h"

static const struct cli_opt opts[] = {
	{ "oci", 0, "HOST/NS", "add: the OCI registry and namespace the bytes go to "
			       "(registry.example.com/ml)" },
	{ "git", 0, "URL", "add: the git repository the history goes to" },
	{ "insecure", 0, NULL, "add: take any TLS certificate, or plain http, from the registry" },
	{ NULL, 0, NULL, NULL },
};

const struct cli_cmd cli_cmd_remote = {
	"remote", cmd_remote, "name the OCI registry (and git repository) a registry shares "
	"its versions through",
	"add NAME [--oci HOST[:PORT][/NAMESPACE]] [--git URL] [--insecure] | rm NAME | list", opts,
	1, 2,
};

/* "65536", "64K", "64M", "1G" (powers of 1024) into bytes; -1 when it is none of these. */
static int parse_size(uint64_t *out, const char *s)
{
	char *end;
	unsigned long long v;
	int shift = 0;

	if (*s < '0' || *s > '9')
		return -1;
	v = strtoull(s, &end, 10);
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	if (shift)
		end++;
	if (*end || v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

/* "12.3 MiB/45.6 MiB": a part of a size. */
static void part(char *out, size_t n, uint64_t done, uint64_t size)
{
	char a[32], b[32];

	mlctl_human_size(a, done);
	mlctl_human_size(b, size);
	snprintf(out, n, "%s/%s", a, b);
}

/* On a terminal: the file, the whole, the rate and what is left, on one line of stderr. */
static void show_progress(void *ctx, const struct mlctl_oci_progress *p)
{
	char file[80], all[80], rate[32], eta[32] = "", line[400];
	double bps = p->seconds > 0.2 ? (double)p->total_done / p->seconds : 0;

	(void)ctx;
	if (p->total_done >= p->total_size) {
		cli_progress_clear();
		return;
	}
	if (!*p->file)
		return; /* between files: the next one's line comes at once */
	part(file, sizeof(file), p->file_done, p->file_size);
	part(all, sizeof(all), p->total_done, p->total_size);
	mlctl_human_size(rate, (uint64_t)bps);
	if (bps > 0) {
		long left = (long)((double)(p->total_size - p->total_done) / bps + 0.5);

		snprintf(eta, sizeof(eta), " · ETA %ld:%02ld", left / 60, left % 60);
	}
	snprintf(line, sizeof(line), "%.60s %s · all %s · %s/s%s", p->file, file, all, rate, eta);
	cli_progress_line(line);
}

int cli_oci_opts_given(const struct cli *cli)
{
	static const char *const names[] = { "insecure", "registry-config", "ca-file", "cert", "key",
					     "chunk-size", "limit-rate", "aliases", "file", "jobs" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (cli_opt(cli, names[i]))
			return 1;
	return 0;
}

/* A TLS file given: one that can be read now, not a TLS error later. */
static int readable(struct cli *cli, const char *opt, const char *path)
{
	int is_dir;
	FILE *f;

	if (!path)
		return 0;
	is_dir = mlctl_is_dir(path);
	errno = 0;
	if (!is_dir && (f = fopen(path, "r"))) {
		fclose(f);
		return 0;
	}
	return cli_usage(cli, "--%s '%s' cannot be read (%s): give a PEM file", opt, path,
			 is_dir ? "a folder" : strerror(errno));
}

int cli_oci_opts(struct cli *cli, struct mlctl_oci_opts *o)
{
	const char *chunk = cli_opt(cli, "chunk-size"), *rate = cli_opt(cli, "limit-rate");
	const char *jobs = cli_opt(cli, "jobs");
	int rc;

	memset(o, 0, sizeof(*o));
	o->insecure = cli_opt(cli, "insecure") != NULL;
	o->auth_file = cli_opt(cli, "registry-config");
	o->ca_file = cli_opt(cli, "ca-file");
	o->cert = cli_opt(cli, "cert");
	o->key = cli_opt(cli, "key");
	if (o->key && !o->cert)
		return cli_usage(cli, "--key needs --cert: give the client certificate too");
	if ((rc = readable(cli, "ca-file", o->ca_file)) || (rc = readable(cli, "cert", o->cert)) ||
	    (rc = readable(cli, "key", o->key)))
		return rc;
	if (!cli->quiet && !cli->json && isatty(STDERR_FILENO))
		o->progress = show_progress;
	if (chunk) {
		if (parse_size(&o->chunk, chunk) || o->chunk == 0)
			return cli_usage(cli, "--chunk-size '%s' is not a size: give bytes, or a "
					 "number with K, M or G (64M)", chunk);
	}
	o->jobs = MLCTL_OCI_JOBS_DEFAULT;
	if (jobs) {
		char *end;
		unsigned long v = strtoul(jobs, &end, 10);

		if (!*jobs || *end || *jobs == '-' || v < 1 || v > 64)
			return cli_usage(cli, "--jobs '%s' is not a number of blobs at once: give 1 "
					 "to 64", jobs);
		o->jobs = (unsigned)v;
	}
	if (rate && (parse_size(&o->limit_rate, rate) || o->limit_rate == 0))
		return cli_usage(cli, "--limit-rate '%s' is not a rate: give bytes a second, or a "
				 "number with K, M or G (10M)", rate);
	return 0;
}

/* A remote's name has no '/', ':' or '.'; an OCI location has one of them. */
int cli_is_location(const char *word)
{
	return strpbrk(word, "/:.") != NULL;
}

int cli_oci_open(struct cli *cli, struct mlctl_oci **c, struct mlctl_oci_loc *loc,
		 struct mlctl_registry *r, const char *word)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_oci_opts o;
	struct mlctl_registry *mine = NULL;
	struct mlctl_remote rm;
	int rc;

	*c = NULL;
	if ((rc = cli_oci_opts(cli, &o)))
		return rc;
	if (cli_is_location(word)) {
		if (mlctl_oci_loc_parse(loc, word, &err))
			return cli_fail(cli, &err);
	} else {
		if (!r && (rc = cli_registry_quiet(cli, &mine, &err))) {
			struct mlctl_err why = err;

			if (rc == MLCTL_ENOTFOUND)
				mlctl_err_set(&err, MLCTL_ENOTFOUND,
					      "'%s' is not a remote here: there is no registry to keep "
					      "remotes in (%.300s); add one with 'mlctl remote add %s "
					      "--oci HOST/NAMESPACE', or give the OCI location "
					      "(HOST[:PORT]/NAMESPACE) instead", word, why.msg, word);
			return cli_fail(cli, &err);
		}
		rc = mlctl_registry_remote_get(r ? r : mine, &rm, word, &err);
		mlctl_registry_free(mine);
		if (rc)
			return cli_fail(cli, &err);
		if (!rm.oci) {
			mlctl_err_set(&err, MLCTL_EUSAGE, "remote '%s' has no OCI location (only "
				      "--git %s); add one with 'mlctl remote rm %s' and 'mlctl "
				      "remote add %s --oci HOST/NAMESPACE --git %s'",
				      word, rm.git, word, word, rm.git);
			mlctl_remote_release(&rm);
			return cli_fail(cli, &err);
		}
		o.insecure |= rm.insecure;
		rc = mlctl_oci_loc_parse(loc, rm.oci, &err);
		mlctl_remote_release(&rm);
		if (rc)
			return cli_fail(cli, &err);
	}
	if (cli->verbose) {
		struct mlctl_oci_quirks q;

		mlctl_oci_quirks(&q, loc->host);
		fprintf(stderr, "OCI registry: %s, namespace '%s'\n", loc->host, loc->ns);
		if (q.monolithic)
			fprintf(stderr, "OCI registry: %s: each blob in one PUT\n", q.registry);
		else if (q.patch_max)
			fprintf(stderr, "OCI registry: %s: upload chunks of %llu MiB at most\n",
				q.registry, (unsigned long long)(q.patch_max >> 20));
		else if (q.min_chunk)
			fprintf(stderr, "OCI registry: %s: upload chunks of %llu MiB at least\n",
				q.registry, (unsigned long long)(q.min_chunk >> 20));
	}
	if (mlctl_oci_open(c, loc, &o, &err))
		return cli_fail(cli, &err);
	return 0;
}

/*
 * The version a reference names on a remote: a version as it is; the
 * latest from the registry's tags; an alias or a digest through this
 * registry's history (the remote's tags are not trusted to say where an
 * alias points). *digest: the version's digest when known here, else "".
 */
static int remote_version(struct cli *cli, char version[256], char digest[72],
			  struct mlctl_oci *c, const struct mlctl_ref *ref, const char *word,
			  const char *from)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_registry *r = NULL;
	struct mlctl_version_info info;
	int rc;

	*digest = '\0';
	if (ref->kind == MLCTL_REF_VERSION) {
		/* a version this registry holds too must be the same content there */
		snprintf(version, 256, "%s", ref->tag);
		if (!cli_registry_quiet(cli, &r, &err) &&
		    !mlctl_registry_resolve(r, &info, NULL, word, &err)) {
			snprintf(digest, 72, "%s", info.digest);
			mlctl_version_info_release(&info);
		}
		mlctl_registry_free(r);
		return 0;
	}
	if (ref->kind == MLCTL_REF_LATEST)
		return mlctl_oci_latest(version, c, ref->name, &err) ? cli_fail(cli, &err) : 0;
	if (ref->kind == MLCTL_REF_ALIAS && !cli_is_location(from)) {
		/* where the remote's own history says the alias points now */
		if (!(rc = cli_registry_quiet(cli, &r, &err)))
			rc = mlctl_registry_remote_alias(r, version, digest, from, ref->name,
							 ref->tag, &err);
		mlctl_registry_free(r);
		r = NULL;
		if (rc != MLCTL_EUSAGE)
			return rc ? cli_fail(cli, &err) : 0;
		mlctl_err_clear(&err); /* no git URL: this registry's history says */
	}
	if (!(rc = cli_registry_quiet(cli, &r, &err)))
		rc = mlctl_registry_resolve(r, &info, NULL, word, &err);
	mlctl_registry_free(r);
	if (rc) {
		if (rc == MLCTL_ENOTFOUND)
			mlctl_err_set(&err, MLCTL_ENOTFOUND,
				      "'%s' is not known in this registry, which resolves aliases "
				      "and digests for --from; give the version (NAME:VERSION)", word);
		return cli_fail(cli, &err);
	}
	snprintf(version, 256, "%s", info.version);
	snprintf(digest, 72, "%s", info.digest);
	mlctl_version_info_release(&info);
	if (ref->kind == MLCTL_REF_ALIAS)
		cli_note(cli, "%s resolved to %s by this registry's history, which may be behind "
			 "the team's; a remote with a git URL reads the alias from its history "
			 "('mlctl pull %s --from REMOTE')", word, version, word);
	return 0;
}

int cli_remote_fetch(struct cli *cli, struct mlctl_oci **c, struct mlctl_oci_loc *loc,
		     struct mlctl_oci_version *v, const char *word, const char *from)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_ref ref;
	char version[256], digest[72];
	int rc;

	*c = NULL;
	memset(v, 0, sizeof(*v));
	if (mlctl_ref_parse(&ref, word, &err))
		return cli_fail(cli, &err);
	if (!*ref.name)
		return cli_usage(cli, "--from takes a reference with a model name (NAME:VERSION, "
				 "NAME:ALIAS, NAME), not '%s'", word);
	if ((rc = cli_oci_open(cli, c, loc, NULL, from)))
		return rc;
	if ((rc = remote_version(cli, version, digest, *c, &ref, word, from)))
		goto fail;
	if (mlctl_oci_fetch(v, *c, ref.name, version, &err)) {
		rc = cli_fail(cli, &err);
		goto fail;
	}
	if (*digest && strcmp(digest, v->version_digest)) {
		mlctl_err_set(&err, MLCTL_ECONFLICT,
			      "%s:%s is %s in this registry but %s on %s; one of them was pushed "
			      "with other content under the same version", ref.name, version,
			      digest, v->version_digest, loc->host);
		mlctl_oci_version_release(v);
		rc = cli_fail(cli, &err);
		goto fail;
	}
	return 0;
fail:
	mlctl_oci_free(*c);
	*c = NULL;
	return rc;
}

int cli_sync_after_push(struct cli *cli, struct mlctl_sync_result *res, int *synced,
			struct mlctl_registry *r, const char *to, const char *sent, cJSON *remote)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_oci_opts o;
	struct mlctl_remote rm;
	int rc;

	*synced = 0;
	if (cli_is_location(to))
		return 0;
	if (mlctl_registry_remote_get(r, &rm, to, &err))
		return cli_fail(cli, &err);
	if (!rm.git) {
		mlctl_remote_release(&rm);
		return 0;
	}
	mlctl_remote_release(&rm);
	if ((rc = cli_oci_opts(cli, &o)))
		return rc;
	if (mlctl_registry_sync(r, res, to, &o, NULL, 0, &err)) {
		/* the bytes went up: say so, and what is left to do */
		struct mlctl_err e2 = MLCTL_ERR_INIT;
		cJSON *doc = cli_json_doc();

		mlctl_err_set(&e2, err.code, "%s is stored here and on the OCI registry, but its "
			      "history was not synced with '%s': %.700s", sent, to, err.msg);
		cJSON_AddItemToObject(doc, "remote", cJSON_Duplicate(remote, 1));
		return cli_fail_doc(cli, &e2, doc);
	}
	*synced = 1;
	return 0;
}

cJSON *cli_sync_json(const char *remote, const struct mlctl_sync_result *res)
{
	cJSON *j = cJSON_CreateObject();

	cJSON_AddStringToObject(j, "remote", remote);
	cJSON_AddNumberToObject(j, "fetched", (double)res->fetched);
	cJSON_AddNumberToObject(j, "rebased", (double)res->rebased);
	cJSON_AddNumberToObject(j, "dropped", (double)res->dropped);
	cJSON_AddNumberToObject(j, "renumbered", (double)res->renumbered);
	cJSON_AddNumberToObject(j, "given_up", (double)res->given_up);
	cJSON_AddBoolToObject(j, "pushed_branch", res->pushed_branch);
	cJSON_AddNumberToObject(j, "pushed_tags", (double)res->pushed_tags);
	cJSON_AddNumberToObject(j, "replaced_tags", (double)res->replaced_tags);
	cJSON_AddNumberToObject(j, "blobs_fetched", (double)res->blobs_fetched);
	cJSON_AddNumberToObject(j, "bytes_fetched", (double)res->bytes_fetched);
	cJSON_AddNumberToObject(j, "versions_sent", (double)res->versions_sent);
	cJSON_AddNumberToObject(j, "blobs_sent", (double)res->blobs_sent);
	cJSON_AddNumberToObject(j, "bytes_sent", (double)res->bytes_sent);
	cJSON_AddStringToObject(j, "head", res->head);
	return j;
}

void cli_sync_print(struct cli *cli, const char *remote, const struct mlctl_sync_result *res)
{
	if (!*res->head) {
		printf("synced with %s: no history on either side yet\n", remote);
		return;
	}
	printf("synced with %s at %.12s: %zu event%s from the remote, %zu of ours put on top",
	       remote, res->head, res->fetched, res->fetched == 1 ? "" : "s", res->rebased);
	if (res->renumbered)
		printf(" (%zu tag%s renumbered)", res->renumbered,
		       res->renumbered == 1 ? "" : "s");
	printf(", %s, %zu tag%s pushed", res->pushed_branch ? "branch pushed" : "branch as it was",
	       res->pushed_tags, res->pushed_tags == 1 ? "" : "s");
	if (res->replaced_tags)
		printf(" (%zu stale tag%s of the remote replaced or removed)", res->replaced_tags,
		       res->replaced_tags == 1 ? "" : "s");
	putchar('\n');
	if (res->blobs_fetched) {
		char size[32];

		mlctl_human_size(size, res->bytes_fetched);
		cli_note(cli, "%zu file%s (%s) of the versions that arrived fetched from the OCI "
			 "registry", res->blobs_fetched, res->blobs_fetched == 1 ? "" : "s", size);
	}
	if (res->versions_sent) {
		char size[32];

		mlctl_human_size(size, res->bytes_sent);
		cli_note(cli, "%zu version%s sent to the OCI registry first (%zu file%s, %s)",
			 res->versions_sent, res->versions_sent == 1 ? "" : "s", res->blobs_sent,
			 res->blobs_sent == 1 ? "" : "s", size);
	}
	if (res->dropped)
		cli_note(cli, "%zu of our events the remote had already", res->dropped);
	if (res->given_up)
		cli_note(cli, "%zu of our events given up for the remote's versions (--theirs)",
			 res->given_up);
}

/*
 * A git URL that is a relative path (no scheme, no host:) made absolute, so
 * the remote works from any folder; anything else as it is. NULL for NULL.
 */
static char *local_git_path(const char *url)
{
	const char *colon;
	char *cwd;
	char *out;

	if (!url)
		return NULL;
	colon = strchr(url, ':');
	if (*url == '/' || strstr(url, "://") || (colon && (!strchr(url, '/') ||
							     colon < strchr(url, '/'))))
		return mlctl_strdup(url);
	if (!(cwd = getcwd(NULL, 0)))
		return mlctl_strdup(url);
	out = mlctl_aprintf("%s/%s", cwd, url);
	free(cwd);
	return out;
}

static int list(struct cli *cli)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_registry *r = NULL;
	struct mlctl_remote *rm = NULL;
	size_t n = 0, i;
	int rc;

	if ((rc = cli_open_registry(cli, &r, 0)))
		return rc;
	rc = mlctl_registry_remotes(r, &rm, &n, &err);
	mlctl_registry_free(r);
	if (rc)
		return cli_fail(cli, &err);
	if (cli->json) {
		cJSON *doc = cli_json_doc(), *arr = cJSON_AddArrayToObject(doc, "remotes");

		for (i = 0; i < n; i++) {
			cJSON *o = cJSON_CreateObject();

			cJSON_AddStringToObject(o, "name", rm[i].name);
			if (rm[i].oci)
				cJSON_AddStringToObject(o, "oci", rm[i].oci);
			else
				cJSON_AddNullToObject(o, "oci");
			if (rm[i].git)
				cJSON_AddStringToObject(o, "git", rm[i].git);
			else
				cJSON_AddNullToObject(o, "git");
			cJSON_AddBoolToObject(o, "insecure", rm[i].insecure);
			cJSON_AddItemToArray(arr, o);
		}
		cli_print_json(doc);
	} else if (n) {
		struct cli_table t;

		cli_table_init(&t, 3);
		cli_table_row(&t, "NAME", "OCI", "GIT");
		for (i = 0; i < n; i++)
			cli_table_row(&t, rm[i].name, rm[i].oci ? rm[i].oci : "-",
				      rm[i].git ? rm[i].git : "-");
		cli_table_print(cli, &t);
		cli_table_release(&t);
	} else {
		cli_note(cli, "no remotes; add one with 'mlctl remote add NAME --oci HOST/NAMESPACE'");
	}
	mlctl_remotes_free(rm, n);
	return 0;
}

int cmd_remote(struct cli *cli, int argc, char **argv)
{
	struct mlctl_err err = MLCTL_ERR_INIT;
	struct mlctl_registry *r = NULL;
	struct mlctl_remote rm = { NULL, NULL, NULL, 0 };
	char *git_abs = NULL;
	int add = !strcmp(argv[0], "add"), rc;

	if (!add && (cli_opt(cli, "oci") || cli_opt(cli, "git") || cli_opt(cli, "insecure")))
		return cli_usage(cli, "--oci, --git and --insecure go with 'remote add'");
	if (!strcmp(argv[0], "list")) {
		if (argc > 1)
			return cli_usage(cli, "'remote list' takes no argument");
		return list(cli);
	}
	if (!add && strcmp(argv[0], "rm"))
		return cli_usage(cli, "'remote %s' is not known; use add, rm or list", argv[0]);
	if (argc != 2)
		return cli_usage(cli, add ? "'remote add' takes NAME, such as 'mlctl remote add "
					    "origin --oci registry.example.com/ml'"
					  : "'remote rm' takes NAME, such as 'mlctl remote rm origin'");
	if ((rc = cli_check_registry(cli)))
		return rc;
	/* adding a remote to a registry that is not there yet makes it (to pull into) */
	if ((rc = cli_open_registry(cli, &r, add)))
		return rc;
	if (add) {
		rm.name = argv[1];
		rm.oci = (char *)cli_opt(cli, "oci");
		rm.git = git_abs = local_git_path(cli_opt(cli, "git"));
		rm.insecure = cli_opt(cli, "insecure") != NULL;
		rc = mlctl_registry_remote_add(r, &rm, &err);
	} else {
		rc = mlctl_registry_remote_rm(r, argv[1], &err);
	}
	mlctl_registry_free(r);
	if (rc) {
		free(git_abs);
		return cli_fail(cli, &err);
	}
	if (cli->json) {
		cJSON *doc = cli_json_doc();

		cJSON_AddStringToObject(doc, add ? "added" : "removed", argv[1]);
		cli_print_json(doc);
	} else if (add) {
		printf("added remote %s%s%s%s%s\n", argv[1], rm.oci ? ": OCI " : "",
		       rm.oci ? rm.oci : "", rm.git ? (rm.oci ? ", git " : ": git ") : "",
		       rm.git ? rm.git : "");
	} else {
		printf("removed remote %s\n", argv[1]);
	}
	free(git_abs);
	return 0;
}
