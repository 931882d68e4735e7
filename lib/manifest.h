/*
 * manifest.h - the model manifest (mlctl.json, schema mlctl/v1), its files
 * index, canonical JSON and digest, model names, semantic versions and
 * references (docs/design.md §1, §2; docs/manifest.md).
 */
#ifndef MLCTL_MANIFEST_H
#define MLCTL_MANIFEST_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "checks.h"
#include "util.h"

#define MLCTL_SCHEMA "mlctl/v1"
#define MLCTL_MANIFEST_FILE "mlctl.json"
#define MLCTL_MANIFEST_MAX (16u * 1024 * 1024) /* cap on a manifest's size */
#define MLCTL_NAME_MAX 128

/* ---- names and versions ---- */

/*
 * 1 when name is `[a-z0-9]([a-z0-9_-]*[a-z0-9])?`, optionally `ns/name`,
 * <= 128 chars (docs/design.md §2, GTO's grammar: no dots): the rule for new names.
 */
int mlctl_name_is_valid(const char *name);
/*
 * 1 when name is valid or was by the rule of older mlctl versions
 * (`[a-z0-9][a-z0-9._-]*`): names a registry may hold and commands read.
 */
int mlctl_name_is_readable(const char *name);
/* The model name rule, as the end of a message. */
#define MLCTL_NAME_RULE \
	"use lowercase letters, digits, '_' and '-', starting and ending with a letter or " \
	"digit, no dots (optionally 'team/name'), at most 128 characters"

struct mlctl_semver {
	uint64_t major, minor, patch;
	char pre[128];   /* prerelease without '-', "" when none */
	char build[128]; /* build metadata without '+', "" when none */
};

/* 0, or MLCTL_EUSAGE with a message naming the version. */
int mlctl_semver_parse(struct mlctl_semver *out, const char *s, struct mlctl_err *err);
/* Precedence as semver 2.0 §11: <0, 0, >0. Build metadata is ignored. */
int mlctl_semver_cmp(const struct mlctl_semver *a, const struct mlctl_semver *b);
/* Compare two version strings that parse; unparsable ones sort first. */
int mlctl_semver_cmp_str(const char *a, const char *b);
/* "major", "minor" or "patch"; from = NULL means no version yet (gives 0.1.0
 * for minor, 1.0.0 for major, 0.0.1 for patch). Caller frees the result. */
int mlctl_semver_bump(char **out, const char *from, const char *part, struct mlctl_err *err);

/* ---- references ---- */

enum mlctl_ref_kind { MLCTL_REF_LATEST, MLCTL_REF_VERSION, MLCTL_REF_ALIAS, MLCTL_REF_DIGEST };

/* Fewest hex digits a digest may be shortened to (as git and docker allow). */
#define MLCTL_DIGEST_PREFIX_MIN 12

struct mlctl_ref {
	enum mlctl_ref_kind kind;
	char name[MLCTL_NAME_MAX + 1]; /* "" for a bare digest: any model */
	char tag[256];    /* version or alias */
	char digest[72];  /* "sha256:" and 12 to 64 hex digits: the digest or a prefix of it */
};

/*
 * NAME, NAME:1.2.0, NAME:alias, NAME@sha256:<hex>, or a bare sha256:<hex>
 * (any model); <hex> is 12 to 64 lowercase hex digits, a digest or its
 * prefix. A word "sha256:" followed only by hex digits is always a digest.
 * MLCTL_EUSAGE when malformed or when a digest is shorter than 12 digits.
 */
int mlctl_ref_parse(struct mlctl_ref *out, const char *s, struct mlctl_err *err);
/*
 * A new alias: a letter, then letters, digits, '_', '-' (no dots), ending in a
 * letter or digit; at most 64. MLCTL_EUSAGE if not. (References still read
 * aliases with dots, which older mlctl versions made.)
 */
int mlctl_alias_check(const char *alias, struct mlctl_err *err);
/* 1 when alias is valid or was by the rule of older mlctl versions (dots allowed). */
int mlctl_alias_is_readable(const char *alias);

/* ---- git tags (DVC GTO's forms); the caller frees what these return ---- */

/* NAME@vVERSION, the tag of a pushed version. */
char *mlctl_version_tag(const char *name, const char *version);
/* NAME#ALIAS#N when the alias is set, NAME#ALIAS!#N when it is removed. */
char *mlctl_alias_tag(const char *name, const char *alias, int removed, int64_t n);
/* GTO's deprecation tags: NAME@vVERSION!#N (a version), NAME@deprecated#N (version NULL: the model). */
char *mlctl_deprecate_tag(const char *name, const char *version, int64_t n);
/* 1 for a tag name of GTO's forms, which mlctl makes and remakes from the events. */
int mlctl_is_event_tag(const char *tag);
/* NULL when git can hold refs/tags/TAG, else why not (a static string). */
const char *mlctl_tag_problem(const char *tag);
/* 0 when the alias's tags for name can be made, else MLCTL_EUSAGE saying why. */
int mlctl_alias_tags_check(const char *name, const char *alias, struct mlctl_err *err);

/* ---- findings ---- */

enum mlctl_severity { MLCTL_SEV_ERROR = 0, MLCTL_SEV_WARNING = 1, MLCTL_SEV_INFO = 2 };

/* Receives one finding: a stable id (MLV001…), its severity, one line of text. */
typedef void (*mlctl_finding_fn)(void *ctx, enum mlctl_check check, int severity, const char *msg);

/* ---- the manifest ---- */

struct mlctl_file_entry {
	char *path;
	uint64_t size;
	unsigned mode; /* 0644 or 0755 */
	char sha256[65];
};

struct mlctl_manifest {
	cJSON *json;         /* owned: the whole document */
	const char *name;    /* borrowed from json */
	const char *version; /* borrowed from json */
	struct mlctl_file_entry *files; /* the files index, sorted by path */
	size_t nfiles;
};

/*
 * Parse and check a manifest. origin names it in messages (a path).
 * Warnings (unknown keys) are appended to warnings, one per line, when not
 * NULL. On error, returns MLCTL_EGATE with a message naming the field and
 * the fix. When with_files is set, a "files" index must be present and well
 * formed (manifests inside packages and in the registry); otherwise any
 * "files" key is dropped (projects: the index is computed).
 */
int mlctl_manifest_parse(struct mlctl_manifest *out, const char *text, size_t len,
			 const char *origin, int with_files, struct mlctl_buf *warnings,
			 struct mlctl_err *err);
/*
 * Check a parsed manifest, reporting every finding (not only the first)
 * through fn. Returns the number of errors. with_files, here and in
 * mlctl_manifest_parse, is MLCTL_MANIFEST_FILES (or 1), optionally with
 * MLCTL_MANIFEST_STORED.
 */
int mlctl_manifest_check(const cJSON *root, int with_files, mlctl_finding_fn fn, void *ctx);
#define MLCTL_MANIFEST_FILES 1  /* a "files" index must be there */
/* read from a registry (files index included): its name by the rule it was written under
 * (dots allowed), no tag check */
#define MLCTL_MANIFEST_STORED 3
/* Parse JSON; on failure NULL and the line of the problem in *line. */
cJSON *mlctl_json_parse_located(const char *text, size_t len, size_t *line);
/* 0 when text[0, len) is UTF-8, else the line (from 1) of its first bad byte. */
size_t mlctl_text_bad_utf8_line(const char *text, size_t len);
int mlctl_dtype_is_known(const char *name);
/* 1 when s is an SPDX licence identifier, or an expression of them with AND, OR, WITH. */
int mlctl_spdx_expression_is_valid(const char *s);
int mlctl_spdx_id_is_known(const char *id);

/* Read DIR/mlctl.json and parse it as a project manifest. */
int mlctl_manifest_load(struct mlctl_manifest *out, const char *dir, struct mlctl_buf *warnings,
			struct mlctl_err *err);
void mlctl_manifest_release(struct mlctl_manifest *m);

/* Replace the files index (sorted by path here); takes ownership of files. */
void mlctl_manifest_set_files(struct mlctl_manifest *m, struct mlctl_file_entry *files, size_t n);
/* Change the version (the string is copied). */
void mlctl_manifest_set_version(struct mlctl_manifest *m, const char *version);
/* Canonical bytes: keys sorted, no white space, files index included. Caller frees. */
char *mlctl_manifest_canonical(const struct mlctl_manifest *m);
/* Pretty form for people (sorted keys, two-space indent), without the files index. */
char *mlctl_manifest_pretty(const struct mlctl_manifest *m, int with_files);
/* "sha256:<hex>" of the canonical bytes. */
void mlctl_manifest_digest(const struct mlctl_manifest *m, char out[72]);
uint64_t mlctl_manifest_total_size(const struct mlctl_manifest *m);
const struct mlctl_file_entry *mlctl_manifest_find_file(const struct mlctl_manifest *m,
							 const char *path);

void mlctl_file_entries_free(struct mlctl_file_entry *files, size_t n);
int mlctl_file_entry_cmp(const void *a, const void *b);

/* Sort every object's keys (bytewise), recursively, in place. */
void mlctl_json_sort_keys(cJSON *item);
/* Two-space indented text with a final newline (keys in their present order). Caller frees. */
char *mlctl_json_pretty(const cJSON *item);
/* Canonical text of any JSON value (sorted keys, no white space). Caller frees. */
char *mlctl_json_canonical(cJSON *item);

#endif
