/*
 * modelpack.c - a version in the CNCF ModelPack form: an OCI image
 * manifest with artifactType application/vnd.cncf.model.manifest.v1+json,
 * a config (descriptor, config, modelfs) built from mlctl.json, one raw
 * layer per file with its path in org.cncf.model.filepath and
 * org.opencontainers.image.title, and mlctl.json (canonical, so its
 * sha256 is the version's digest) as a titled layer of its own. Nothing in
 * it depends on when or where it is built, so a version always gives the
 * same manifest digest.
 */
#define _GNU_SOURCE
#include "oci/internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "banned.h"

const char *oci_role_media_type(const char *role)
{
	static const struct {
		const char *role, *type;
	} map[] = {
		{ "model", "application/vnd.cncf.model.weight.v1.raw" },
		{ "weights", "application/vnd.cncf.model.weight.v1.raw" },
		{ "tokenizer", "application/vnd.cncf.model.weight.config.v1.raw" },
		{ "config", "application/vnd.cncf.model.weight.config.v1.raw" },
		{ "code", "application/vnd.cncf.model.code.v1.raw" },
		{ "docs", "application/vnd.cncf.model.doc.v1.raw" },
		{ "data", "application/vnd.cncf.model.dataset.v1.raw" },
	};
	size_t i;

	for (i = 0; role && i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(role, map[i].role))
			return map[i].type;
	/* "other", or no role: documentation is what no runtime loads */
	return "application/vnd.cncf.model.doc.v1.raw";
}

/* The role of the artifact that holds path: the entry equal to it, or the longest folder
 * above it. */
static const char *role_of(const struct mlctl_manifest *m, const char *path)
{
	const cJSON *a, *arts = cJSON_GetObjectItemCaseSensitive(m->json, "artifacts");
	const char *best = NULL;
	size_t bestlen = 0;

	cJSON_ArrayForEach(a, arts) {
		const char *p = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "path"));
		const char *role = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "role"));
		size_t n;

		if (!p)
			continue;
		n = strlen(p);
		while (n > 0 && p[n - 1] == '/')
			n--;
		if (strncmp(path, p, n) || (path[n] != '\0' && path[n] != '/'))
			continue;
		if (n >= bestlen) {
			best = role ? role : "other";
			bestlen = n;
		}
	}
	return best;
}

/* RFC 3339 of SOURCE_DATE_EPOCH when it is a number of seconds, else of 0. */
static void created_at(char out[32])
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	time_t t = 0;
	struct tm tm;

	if (s && *s) {
		char *end;
		long long v = strtoll(s, &end, 10);

		if (!*end && v >= 0 && v < 253402300800LL)
			t = (time_t)v;
	}
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *str_field(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static void add_layer(cJSON *layers, const char *type, const char *digest, uint64_t size,
		      const char *path, unsigned mode, const char *mtime, int is_manifest)
{
	cJSON *l = cJSON_CreateObject(), *ann, *meta;
	char *metatext;

	cJSON_AddStringToObject(l, "mediaType", type);
	cJSON_AddStringToObject(l, "digest", digest);
	cJSON_AddNumberToObject(l, "size", (double)size);
	ann = cJSON_AddObjectToObject(l, "annotations");
	meta = cJSON_CreateObject();
	cJSON_AddStringToObject(meta, "name", path);
	cJSON_AddNumberToObject(meta, "mode", mode);
	cJSON_AddNumberToObject(meta, "uid", 0);
	cJSON_AddNumberToObject(meta, "gid", 0);
	cJSON_AddNumberToObject(meta, "size", (double)size);
	cJSON_AddStringToObject(meta, "mtime", mtime);
	cJSON_AddNumberToObject(meta, "typeflag", '0'); /* a regular file, as tar says */
	metatext = cJSON_PrintUnformatted(meta);
	cJSON_AddStringToObject(ann, "org.cncf.model.file.metadata+json", metatext);
	cJSON_AddStringToObject(ann, "org.cncf.model.filepath", path);
	cJSON_AddStringToObject(ann, "org.opencontainers.image.title", path);
	if (is_manifest)
		cJSON_AddStringToObject(ann, MLCTL_OCI_MANIFEST_ANNOTATION, MLCTL_SCHEMA);
	cJSON_AddItemToArray(layers, l);
	cJSON_free(metatext);
	cJSON_Delete(meta);
}

static char *build_config(const struct mlctl_manifest *m, const char *mtime,
			  const char *version_digest)
{
	cJSON *cfg = cJSON_CreateObject(), *d, *c, *fs, *ids, *v;
	const cJSON *lineage = cJSON_GetObjectItemCaseSensitive(m->json, "lineage");
	const char *s;
	char *text;
	size_t i;

	d = cJSON_AddObjectToObject(cfg, "descriptor");
	cJSON_AddStringToObject(d, "createdAt", mtime);
	if ((v = cJSON_GetObjectItemCaseSensitive(m->json, "authors")) && cJSON_IsArray(v))
		cJSON_AddItemToObject(d, "authors", cJSON_Duplicate(v, 1));
	cJSON_AddStringToObject(d, "name", m->name);
	cJSON_AddStringToObject(d, "version", m->version);
	if ((s = str_field(m->json, "description")))
		cJSON_AddStringToObject(d, "description", s);
	if ((s = str_field(lineage, "revision")) || (s = str_field(lineage, "commit")))
		cJSON_AddStringToObject(d, "revision", s);
	if ((s = str_field(m->json, "license"))) {
		cJSON *l = cJSON_AddArrayToObject(d, "licenses");

		cJSON_AddItemToArray(l, cJSON_CreateString(s));
	}
	c = cJSON_AddObjectToObject(cfg, "config");
	if ((s = str_field(m->json, "framework")))
		cJSON_AddStringToObject(c, "format", s);
	fs = cJSON_AddObjectToObject(cfg, "modelfs");
	cJSON_AddStringToObject(fs, "type", "layers");
	ids = cJSON_AddArrayToObject(fs, "diffIds");
	for (i = 0; i < m->nfiles; i++) {
		char *id = mlctl_aprintf("sha256:%s", m->files[i].sha256);

		cJSON_AddItemToArray(ids, cJSON_CreateString(id));
		free(id);
	}
	cJSON_AddItemToArray(ids, cJSON_CreateString(version_digest));
	text = cJSON_PrintUnformatted(cfg);
	cJSON_Delete(cfg);
	return text;
}

int mlctl_modelpack_build(char **config, char **manifest, const struct mlctl_manifest *m,
			  const char *canonical, struct mlctl_err *err)
{
	cJSON *man, *cd, *layers, *ann;
	char mtime[32], vdigest[72], cdigest[72], hex[65];
	const char *s;
	size_t i, clen = strlen(canonical);

	*config = *manifest = NULL;
	created_at(mtime);
	mlctl_sha256_hex(hex, canonical, clen);
	snprintf(vdigest, sizeof(vdigest), "sha256:%s", hex);
	*config = build_config(m, mtime, vdigest);
	mlctl_sha256_hex(hex, *config, strlen(*config));
	snprintf(cdigest, sizeof(cdigest), "sha256:%s", hex);

	man = cJSON_CreateObject();
	cJSON_AddNumberToObject(man, "schemaVersion", 2);
	cJSON_AddStringToObject(man, "mediaType", MLCTL_OCI_MANIFEST_TYPE);
	cJSON_AddStringToObject(man, "artifactType", MLCTL_MODELPACK_ARTIFACT);
	cd = cJSON_AddObjectToObject(man, "config");
	cJSON_AddStringToObject(cd, "mediaType", MLCTL_MODELPACK_CONFIG);
	cJSON_AddStringToObject(cd, "digest", cdigest);
	cJSON_AddNumberToObject(cd, "size", (double)strlen(*config));
	layers = cJSON_AddArrayToObject(man, "layers");
	for (i = 0; i < m->nfiles; i++) {
		const struct mlctl_file_entry *f = &m->files[i];
		char *d = mlctl_aprintf("sha256:%s", f->sha256);

		add_layer(layers, oci_role_media_type(role_of(m, f->path)), d, f->size, f->path,
			  f->mode, mtime, 0);
		free(d);
	}
	add_layer(layers, "application/vnd.cncf.model.weight.config.v1.raw", vdigest, clen,
		  MLCTL_MANIFEST_FILE, 0644, mtime, 1);
	ann = cJSON_AddObjectToObject(man, "annotations");
	cJSON_AddStringToObject(ann, "io.mlctl.digest", vdigest);
	cJSON_AddStringToObject(ann, "io.mlctl.name", m->name);
	cJSON_AddStringToObject(ann, "org.opencontainers.image.created", mtime);
	if ((s = str_field(m->json, "license")))
		cJSON_AddStringToObject(ann, "org.opencontainers.image.licenses", s);
	if ((s = str_field(cJSON_GetObjectItemCaseSensitive(m->json, "lineage"), "revision")) ||
	    (s = str_field(cJSON_GetObjectItemCaseSensitive(m->json, "lineage"), "commit")))
		cJSON_AddStringToObject(ann, "org.opencontainers.image.revision", s);
	cJSON_AddStringToObject(ann, "org.opencontainers.image.version", m->version);
	*manifest = cJSON_PrintUnformatted(man);
	cJSON_Delete(man);
	(void)err;
	return 0;
}
