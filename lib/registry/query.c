/*
 * query.c - list models, versions, and resolve a reference to one version.
 */
#define _GNU_SOURCE
#include "registry/internal.h"

#include <stdlib.h>
#include <string.h>

#include "banned.h"

void mlctl_version_info_release(struct mlctl_version_info *v)
{
	if (!v)
		return;
	free(v->name);
	free(v->version);
	free(v->digest);
	free(v->actor);
	memset(v, 0, sizeof(*v));
}

void mlctl_version_infos_free(struct mlctl_version_info *v, size_t n)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < n; i++)
		mlctl_version_info_release(&v[i]);
	free(v);
}

void mlctl_model_infos_free(struct mlctl_model_info *m, size_t n)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < n; i++) {
		free(m[i].name);
		free(m[i].latest);
	}
	free(m);
}

#define VERSION_COLS \
	"m.name, v.version, v.digest, v.actor, v.created, v.size, v.nfiles, v.manifest, " \
	"v.validated, v.deprecated, m.deprecated"
/* The same without the manifest (column 7 NULL): lists read no manifest text. */
#define VERSION_LIST_COLS \
	"m.name, v.version, v.digest, v.actor, v.created, v.size, v.nfiles, NULL, " \
	"v.validated, v.deprecated, m.deprecated"

static void fill_version(struct mlctl_version_info *v, sqlite3_stmt *st)
{
	v->name = reg_col_text(st, 0);
	v->version = reg_col_text(st, 1);
	v->digest = reg_col_text(st, 2);
	v->actor = reg_col_text(st, 3);
	v->created = sqlite3_column_int64(st, 4);
	v->size = (uint64_t)sqlite3_column_int64(st, 5);
	v->nfiles = (size_t)sqlite3_column_int64(st, 6);
	v->validated = sqlite3_column_int(st, 8);
	v->deprecated = sqlite3_column_int64(st, 9);
	v->model_deprecated = sqlite3_column_int64(st, 10);
}

static void fill_version_row(void *item, sqlite3_stmt *st)
{
	fill_version(item, st);
}

static void fill_model_row(void *item, sqlite3_stmt *st)
{
	struct mlctl_model_info *m = item;

	m->name = reg_col_text(st, 0);
	m->nversions = (size_t)sqlite3_column_int64(st, 1);
	m->updated = sqlite3_column_int64(st, 2);
	m->deprecated = sqlite3_column_int64(st, 3);
	m->latest = NULL;
}

/* A version and its semver, parsed once for the sort. */
struct keyed {
	struct mlctl_semver s;
	int ok;
	struct mlctl_version_info v;
};

static int keyed_desc(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;

	if (!x->ok || !y->ok)
		return y->ok - x->ok;
	return mlctl_semver_cmp(&y->s, &x->s);
}

/* Highest version first. */
static void sort_versions(struct mlctl_version_info *v, size_t n)
{
	struct keyed *k = mlctl_calloc(n + 1, sizeof(*k));
	size_t i;

	for (i = 0; i < n; i++) {
		k[i].ok = mlctl_semver_parse(&k[i].s, v[i].version, NULL) == 0;
		k[i].v = v[i];
	}
	qsort(k, n, sizeof(*k), keyed_desc);
	for (i = 0; i < n; i++)
		v[i] = k[i].v;
	free(k);
}

int mlctl_registry_versions(struct mlctl_registry *r, struct mlctl_version_info **out,
			    size_t *n, const char *name, struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	struct mlctl_version_info *v = NULL;
	size_t cnt = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = reg_db_prepare(r, &st,
				 "SELECT " VERSION_LIST_COLS " FROM versions v JOIN models m ON "
				 "m.id = v.model_id WHERE m.name = ?",
				 err)))
		return rc;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	v = reg_collect_rows(r, st, sizeof(*v), &cnt, fill_version_row, &rc, err);
	if (!rc && cnt == 0)
		rc = mlctl_err_set(err, MLCTL_ENOTFOUND,
				   "model '%s' is not in the registry; see 'mlctl list'", name);
	if (rc) {
		mlctl_version_infos_free(v, cnt);
		return rc;
	}
	sort_versions(v, cnt);
	*out = v;
	*n = cnt;
	return 0;
}

int mlctl_registry_list(struct mlctl_registry *r, struct mlctl_model_info **out, size_t *n,
			struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	struct mlctl_model_info *m = NULL;
	size_t cnt = 0, i;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = reg_db_prepare(r, &st,
				 "SELECT m.name, count(v.id), max(v.created), m.deprecated FROM models m "
				 "JOIN versions v ON v.model_id = m.id GROUP BY m.id ORDER BY m.name",
				 err)))
		return rc;
	m = reg_collect_rows(r, st, sizeof(*m), &cnt, fill_model_row, &rc, err);
	/* each model's latest (highest release, else highest prerelease) in one pass */
	if (!rc && !(rc = reg_db_prepare(r, &st,
					 "SELECT m.name, v.version FROM versions v JOIN models m ON "
					 "m.id = v.model_id ORDER BY m.name",
					 err))) {
		struct mlctl_semver best, cur;
		int s, have = 0;

		i = 0;
		while (!rc && (s = sqlite3_step(st)) == SQLITE_ROW) {
			const char *name = (const char *)sqlite3_column_text(st, 0);
			const char *ver = (const char *)sqlite3_column_text(st, 1);

			while (i < cnt && strcmp(m[i].name, name) < 0) {
				i++;
				have = 0;
			}
			if (i == cnt || strcmp(m[i].name, name))
				continue;
			if (mlctl_semver_parse(&cur, ver, NULL)) {
				if (!m[i].latest) /* a name an older mlctl took: until a parsable one */
					m[i].latest = mlctl_strdup(ver);
				continue;
			}
			if (!have || (!*cur.pre && *best.pre) ||
			    (!*cur.pre == !*best.pre && mlctl_semver_cmp(&cur, &best) > 0)) {
				best = cur;
				have = 1;
				free(m[i].latest);
				m[i].latest = mlctl_strdup(ver);
			}
		}
		if (s != SQLITE_DONE)
			rc = reg_db_fail(err, r->db, "registry database");
		sqlite3_finalize(st);
	}

	if (rc) {
		mlctl_model_infos_free(m, cnt);
		return rc;
	}
	*out = m;
	*n = cnt;
	return 0;
}

/* Candidates listed by an ambiguous digest prefix: at most this many. */
#define AMBIGUOUS_SHOWN 4

/*
 * A digest or a prefix of one (of ref->name's versions, or of any model's
 * when the name is empty) to the one version it names: ref becomes
 * NAME:VERSION. No match is MLCTL_ENOTFOUND; several are MLCTL_EUSAGE with
 * the candidates, each digest cut where it differs from the others.
 */
static int resolve_digest(struct mlctl_registry *r, struct mlctl_ref *ref, const char *refstr,
			  struct mlctl_err *err)
{
	sqlite3_stmt *st = NULL;
	struct mlctl_version_info *v = NULL;
	struct mlctl_buf list = MLCTL_BUF_INIT;
	size_t n = 0, i, cut = strlen(ref->digest) + 1;
	int rc;

	if ((rc = reg_db_prepare(r, &st,
				 "SELECT " VERSION_LIST_COLS " FROM versions v JOIN models m ON "
				 "m.id = v.model_id WHERE (?1 = '' OR m.name = ?1) AND "
				 "substr(v.digest, 1, length(?2)) = ?2 ORDER BY v.digest",
				 err)))
		return rc;
	sqlite3_bind_text(st, 1, ref->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ref->digest, -1, SQLITE_STATIC);
	v = reg_collect_rows(r, st, sizeof(*v), &n, fill_version_row, &rc, err);
	if (!rc && n == 0) {
		if (*ref->name)
			rc = mlctl_err_set(err, MLCTL_ENOTFOUND,
					   "no version of '%s' has digest %s; see 'mlctl versions %s'",
					   ref->name, ref->digest, ref->name);
		else
			rc = mlctl_err_set(err, MLCTL_ENOTFOUND,
					   "no version in the registry has digest %s; see 'mlctl list'",
					   ref->digest);
	} else if (!rc && n > 1) {
		/* sorted by digest: neighbours share the longest prefixes */
		for (i = 1; i < n; i++) {
			size_t k = 0;

			while (v[i].digest[k] && v[i].digest[k] == v[i - 1].digest[k])
				k++;
			if (k + 1 > cut)
				cut = k + 1;
		}
		for (i = 0; i < n && i < AMBIGUOUS_SHOWN; i++)
			mlctl_buf_printf(&list, "%s%s:%s (%.*s)", i ? ", " : "", v[i].name,
					 v[i].version, (int)cut, v[i].digest);
		if (n > AMBIGUOUS_SHOWN)
			mlctl_buf_printf(&list, " and %zu more", n - AMBIGUOUS_SHOWN);
		rc = mlctl_err_set(err, MLCTL_EUSAGE,
				   "digest %s%s%s%s is ambiguous: %s; give more of its digits",
				   ref->digest, *ref->name ? " in '" : "", *ref->name ? refstr : "",
				   *ref->name ? "'" : "", list.buf);
	} else if (!rc) {
		snprintf(ref->name, sizeof(ref->name), "%s", v[0].name);
		snprintf(ref->tag, sizeof(ref->tag), "%s", v[0].version);
		ref->kind = MLCTL_REF_VERSION;
	}
	mlctl_buf_release(&list);
	mlctl_version_infos_free(v, n);
	return rc;
}

/*
 * The version a reference names. Latest: highest release, else highest
 * prerelease. A digest may be shortened to a unique prefix of 12 or more
 * hex digits, and given without NAME@.
 */
int mlctl_registry_resolve(struct mlctl_registry *r, struct mlctl_version_info *info,
			   struct mlctl_manifest *m, const char *refstr, struct mlctl_err *err)
{
	struct mlctl_ref ref;
	sqlite3_stmt *st = NULL;
	char *manifest = NULL;
	int rc, s;

	memset(info, 0, sizeof(*info));
	if (m)
		memset(m, 0, sizeof(*m));
	if ((rc = mlctl_ref_parse(&ref, refstr, err)))
		return rc;
	if (ref.kind == MLCTL_REF_ALIAS) {
		char version[256], digest[72];
		int64_t moves;

		if ((rc = reg_alias_state(r, ref.name, ref.tag, version, digest, &moves, err)))
			return rc;
		if (!*version)
			return mlctl_err_set(err, MLCTL_ENOTFOUND,
					     "alias '%s' of '%s' does not exist; see 'mlctl alias list "
					     "%s', or set it with 'mlctl alias set %s:VERSION %s'",
					     ref.tag, ref.name, ref.name, ref.name, ref.tag);
		snprintf(ref.tag, sizeof(ref.tag), "%s", version);
		ref.kind = MLCTL_REF_VERSION;
	}
	if (ref.kind == MLCTL_REF_LATEST) {
		struct mlctl_version_info *v;
		size_t n, i, pick = 0;

		if ((rc = mlctl_registry_versions(r, &v, &n, ref.name, err)))
			return rc;
		for (i = 0; i < n; i++)
			if (!strchr(v[i].version, '-')) {
				pick = i;
				break;
			}
		snprintf(ref.tag, sizeof(ref.tag), "%s", v[pick].version);
		mlctl_version_infos_free(v, n);
		ref.kind = MLCTL_REF_VERSION;
	}
	if (ref.kind == MLCTL_REF_DIGEST && (rc = resolve_digest(r, &ref, refstr, err)))
		return rc;
	if ((rc = reg_db_prepare(r, &st,
				 "SELECT " VERSION_COLS " FROM versions v JOIN models m ON "
				 "m.id = v.model_id WHERE m.name = ? AND v.version = ?",
				 err)))
		return rc;
	sqlite3_bind_text(st, 1, ref.name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ref.tag, -1, SQLITE_STATIC);
	s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		fill_version(info, st);
		manifest = reg_col_text(st, 7);
	} else if (s == SQLITE_DONE) {
		rc = mlctl_err_set(err, MLCTL_ENOTFOUND,
				   "'%s' is not in the registry; see 'mlctl versions %s'", refstr,
				   ref.name);
	} else {
		rc = reg_db_fail(err, r->db, "registry database");
	}
	sqlite3_finalize(st);
	if (!rc && m) {
		struct mlctl_err perr = MLCTL_ERR_INIT;
		char digest[72];

		/* the index's copy must be the manifest its digest names: an edited
		 * row must not hand out other files under the version's name */
		if (mlctl_manifest_parse(m, manifest, strlen(manifest), info->name,
					 MLCTL_MANIFEST_STORED, NULL, &perr)) {
			rc = mlctl_err_set(err, MLCTL_EINTEGRITY,
					   "the registry's index holds a damaged manifest for %s:%s "
					   "(%s); run 'mlctl registry verify'",
					   info->name, info->version, perr.msg);
		} else {
			mlctl_manifest_digest(m, digest);
			if (strcmp(digest, info->digest)) {
				mlctl_manifest_release(m);
				rc = mlctl_err_set(err, MLCTL_EINTEGRITY,
						   "the registry's index holds a manifest for %s:%s "
						   "that does not match its digest %.19s…; run 'mlctl "
						   "registry verify'",
						   info->name, info->version, info->digest);
			}
		}
	}
	free(manifest);
	if (rc)
		mlctl_version_info_release(info);
	return rc;
}
