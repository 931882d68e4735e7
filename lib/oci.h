/*
 * oci.h - a version's bytes in any OCI distribution registry, in the CNCF
 * ModelPack form (docs/design.md, "Remotes"; docs/mlctl-remote.md): one
 * uncompressed layer per file, mlctl.json as a layer of its own, a config
 * built from mlctl.json, the version as the tag. libcurl is used here and
 * in smoke's HTTP runtime only.
 *
 * A push sends every blob the registry lacks, then the manifest; a pull
 * reads the manifest, then streams each blob into a temporary folder,
 * checking its sha256, and renames the folder into place at the end.
 */
#ifndef MLCTL_OCI_H
#define MLCTL_OCI_H
#include <cjson/cJSON.h>
#include <stdint.h>
#include "manifest.h"

#define MLCTL_OCI_MANIFEST_TYPE "application/vnd.oci.image.manifest.v1+json"
#define MLCTL_MODELPACK_ARTIFACT "application/vnd.cncf.model.manifest.v1+json"
#define MLCTL_MODELPACK_CONFIG "application/vnd.cncf.model.config.v1+json"
/* the annotation that marks mlctl.json's layer, its value the manifest schema */
#define MLCTL_OCI_MANIFEST_ANNOTATION "io.mlctl.manifest"
/* blobs moved at once unless --jobs says otherwise */
#define MLCTL_OCI_JOBS_DEFAULT 4
/* default size of an upload chunk; smaller blobs go up in one request */
#define MLCTL_OCI_CHUNK_DEFAULT (256ull * 1024 * 1024)

/* A place in an OCI registry: HOST[:PORT][/NAMESPACE]. */
struct mlctl_oci_loc {
	char host[256]; /* with the port, as docker's config.json keys it */
	char ns[256];   /* "" when none */
};
/*
 * Parse HOST[:PORT][/NAMESPACE]: a host name, IPv4 address or [IPv6]
 * address, a port, and a namespace in OCI's repository grammar. A URL
 * (scheme://) is MLCTL_EUSAGE saying to leave the scheme out.
 */
int mlctl_oci_loc_parse(struct mlctl_oci_loc *out, const char *s, struct mlctl_err *err);
/* 1 when host (with or without a port) is localhost, 127.x.y.z or [::1]. */
int mlctl_oci_host_is_loopback(const char *host);
/*
 * What some registries want of uploads that the distribution spec leaves
 * open (docs/mlctl-remote.md, "Registries"): PATCH bodies no larger than
 * patch_max (0: any), none at all (monolithic: one PUT per blob), parts of
 * min_chunk at least when the registry does not say (OCI-Chunk-Min-Length).
 */
struct mlctl_oci_quirks {
	const char *registry; /* its name, for -v; NULL for any other */
	uint64_t patch_max;
	uint64_t min_chunk;
	int monolithic;
};
void mlctl_oci_quirks(struct mlctl_oci_quirks *q, const char *host);
/*
 * The repository a model goes to: NAMESPACE/NAME, checked against OCI's
 * grammar (lowercase letters and digits, separated by '.', '_', '__' or
 * runs of '-', components joined by '/'); MLCTL_EUSAGE naming the rule.
 */
int mlctl_oci_repo(char *out, size_t n, const struct mlctl_oci_loc *loc, const char *model,
		   struct mlctl_err *err);
/* A version as an OCI tag: '+' (build metadata) becomes '_'; at most 128 characters. */
int mlctl_oci_tag(char out[129], const char *version, struct mlctl_err *err);

/* Where a transfer is, for a progress line. */
struct mlctl_oci_progress {
	const char *file;              /* the file being sent or received */
	uint64_t file_done, file_size;
	uint64_t total_done, total_size; /* over the whole push or pull (skipped blobs count as done) */
	double seconds;                /* since the transfer began */
};
typedef void (*mlctl_oci_progress_fn)(void *ctx, const struct mlctl_oci_progress *p);

struct mlctl_oci_opts {
	int insecure;             /* plain http to any host, not only loopback */
	const char *auth_file;    /* docker's config.json to use instead of the default */
	const char *ca_file, *cert, *key;
	uint64_t chunk;           /* upload chunk size (0: MLCTL_OCI_CHUNK_DEFAULT) */
	uint64_t limit_rate;      /* bytes a second at most, each way (0: no limit) */
	unsigned jobs;            /* blobs moved at once (0 or 1: one at a time) */
	mlctl_oci_progress_fn progress; /* called as bytes move (at most 10 times a second) */
	void *progress_ctx;
};
struct mlctl_oci;
/*
 * A session with the registry at loc: asks /v2/ what it needs and sets
 * up credentials (docker's config.json) for it. MLCTL_ENET when the
 * registry cannot be reached or refuses the credentials.
 */
int mlctl_oci_open(struct mlctl_oci **out, const struct mlctl_oci_loc *loc,
		   const struct mlctl_oci_opts *o, struct mlctl_err *err);
void mlctl_oci_free(struct mlctl_oci *c);
/*
 * Try user and password against host, then keep them in docker's
 * config.json (o->auth_file, else $DOCKER_CONFIG/config.json, else
 * ~/.docker/config.json; made 0600), every other key kept. *where: the
 * file written (the caller's); *unchecked: the registry asked for no
 * credentials, so they could not be tried.
 */
int mlctl_oci_login(char **where, int *unchecked, const char *host, const char *user,
		    const char *pass, const struct mlctl_oci_opts *o, struct mlctl_err *err);
/* Forget host's credentials there; *had is 0 when there were none. */
int mlctl_oci_logout(char **where, int *had, const char *host, const struct mlctl_oci_opts *o,
		     struct mlctl_err *err);

/*
 * Where uploads in progress are kept between runs (the registry's
 * database): a chunked upload's location and the bytes sent, so that the
 * next push asks the registry how much it holds and sends the rest.
 */
struct mlctl_oci_uploads {
	void *ctx;
	/* the location of an upload of digest to repo at host (the caller frees it), or NULL */
	char *(*get)(void *ctx, const char *host, const char *repo, const char *digest);
	void (*put)(void *ctx, const char *host, const char *repo, const char *digest,
		    const char *location, uint64_t offset);
	void (*drop)(void *ctx, const char *host, const char *repo, const char *digest);
	/* another model that holds a file with this sha256 (hex), to mount it from; caller frees */
	char *(*holder)(void *ctx, const char *sha, const char *model);
};
/* Keep uploads of this session in u (which outlives it); NULL keeps none. */
void mlctl_oci_set_uploads(struct mlctl_oci *c, const struct mlctl_oci_uploads *u);

/*
 * The ModelPack form of a stored version: its config and manifest as
 * bytes (the caller's), the same for the same version every time
 * (createdAt from SOURCE_DATE_EPOCH, else 0). canonical is the version's
 * canonical mlctl.json, which travels as a layer.
 */
int mlctl_modelpack_build(char **config, char **manifest, const struct mlctl_manifest *m,
			  const char *canonical, struct mlctl_err *err);

struct mlctl_oci_push_result {
	const char *model; /* the manifest's name (borrowed) */
	char repo[512];
	char tag[129];
	char digest[72];      /* the OCI manifest's */
	size_t blobs_sent, blobs_skipped;
	uint64_t bytes_sent, bytes_skipped;
	int manifest_existed; /* the tag named this very manifest already */
	uint64_t bytes_resumed; /* of uploads an earlier run began: what the registry had */
	size_t blobs_mounted;   /* taken from another repository of the registry, not sent */
	size_t blobs_restarted; /* sent afresh: the registry had dropped an earlier run's upload */
};
/*
 * Send version m (its files from the blob store at blob_root) to repo
 * under its version tag: each blob the registry lacks, then the config,
 * then the manifest.
 */
int mlctl_oci_push(struct mlctl_oci_push_result *res, struct mlctl_oci *c,
		   const char *blob_root, const struct mlctl_manifest *m, struct mlctl_err *err);

/*
 * Tag version m's manifest (pushed already) with tag too: an alias as a
 * convenience for other tools; mlctl itself never reads an alias tag.
 */
int mlctl_oci_push_tag(struct mlctl_oci *c, const struct mlctl_manifest *m, const char *tag,
		       struct mlctl_err *err);

/* A version as an OCI registry holds it. */
struct mlctl_oci_version {
	char repo[512];
	char digest[72];         /* the OCI manifest's */
	char *raw;               /* its bytes */
	size_t rawlen;
	cJSON *json;             /* parsed */
	struct mlctl_manifest m; /* mlctl.json from its layer, files index included */
	char version_digest[72]; /* sha256 of that layer: the version's digest */
};
/*
 * Read the manifest of model at ref (a version, mapped to its tag, or
 * "sha256:…") and its mlctl.json layer, each checked against its digest.
 * MLCTL_ENOTFOUND when the registry has no such tag.
 */
int mlctl_oci_fetch(struct mlctl_oci_version *out, struct mlctl_oci *c, const char *model,
		    const char *ref, struct mlctl_err *err);
void mlctl_oci_version_release(struct mlctl_oci_version *v);
typedef int (*mlctl_oci_put_fn)(void *ctx, const void *data, size_t len);
/*
 * Stream the blob sha (hex) of model's repository to put, checking its
 * digest and size; counted in the progress mlctl_oci_progress_begin began.
 * MLCTL_ENOTFOUND when the repository has no such blob.
 */
void mlctl_oci_progress_begin(struct mlctl_oci *c, uint64_t total);
int mlctl_oci_blob_fetch(struct mlctl_oci *c, const char *model, const char *sha,
			 uint64_t size, mlctl_oci_put_fn put, void *ctx, struct mlctl_err *err);
/* The highest version of model the registry has a tag for. MLCTL_ENOTFOUND when none. */
int mlctl_oci_latest(char out[256], struct mlctl_oci *c, const char *model, struct mlctl_err *err);
/*
 * Write v's files (those whose path matches one of globs, all when
 * nglobs is 0) and its mlctl.json into dir, as mlctl_registry_pull does:
 * each blob's sha256 checked as it streams, a temporary sibling renamed
 * into place at the end. The number of files written into *nfiles, their
 * bytes into *nbytes.
 */
int mlctl_oci_pull(struct mlctl_oci *c, const struct mlctl_oci_version *v, const char *dir,
		   int force, const char *const *globs, size_t nglobs, size_t *nfiles,
		   uint64_t *nbytes, struct mlctl_err *err);

#endif
