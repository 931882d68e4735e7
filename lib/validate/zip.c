/*
 * zip.c - read zip containers as a stream (libarchive's streamable zip
 * reader over the file being validated) and check what is inside:
 * PyTorch checkpoints (every .pkl, data.pkl whatever its top folder is
 * called), Keras .keras archives (config.json: no Lambda layers) and
 * NumPy .npz archives (each .npy).
 */
#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <string.h>

#include "vin.h"
#include "banned.h"

#define CONFIG_CAP (64u * 1024 * 1024)

struct outer {
	struct mlctl_vin *in;
	unsigned char buf[65536];
};

static la_ssize_t outer_read(struct archive *a, void *ctx, const void **out)
{
	struct outer *o = ctx;

	(void)a;
	*out = o->buf;
	return (la_ssize_t)mlctl_vin_read(o->in, o->buf, sizeof(o->buf));
}

static ssize_t entry_read(void *ctx, void *buf, size_t n)
{
	la_ssize_t r = archive_read_data(ctx, buf, n);

	return r < 0 ? -1 : (ssize_t)r;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !strcmp(s + n - k, suffix);
}

/* Find Lambda layers anywhere in a Keras config. */
static void find_lambdas(struct mlctl_vin *in, const cJSON *j, const char *entry, int depth)
{
	const cJSON *c, *cls = cJSON_GetObjectItemCaseSensitive(j, "class_name");

	if (depth > 200)
		return;
	if (cJSON_IsString(cls) && !strcmp(cls->valuestring, "Lambda")) {
		const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(j, "config");
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(cfg, "name");

		mlctl_report_add(in->rep, "MLV130", MLCTL_SEV_ERROR, in->path,
				 "%s has a Lambda layer%s%.100s%s, whose Python code runs when the "
				 "model loads; replace it with a registered custom layer",
				 entry, cJSON_IsString(name) ? " '" : "",
				 cJSON_IsString(name) ? name->valuestring : "",
				 cJSON_IsString(name) ? "'" : "");
	}
	for (c = j ? j->child : NULL; c; c = c->next)
		find_lambdas(in, c, entry, depth + 1);
}

static void keras_config(struct mlctl_vin *in, struct archive *a, struct archive_entry *e)
{
	struct mlctl_buf text = MLCTL_BUF_INIT;
	char chunk[65536];
	la_ssize_t n;
	size_t line;
	cJSON *j;

	while ((n = archive_read_data(a, chunk, sizeof(chunk))) > 0) {
		if (text.len + (size_t)n > CONFIG_CAP) {
			mlctl_report_add(in->rep, "MLV131", MLCTL_SEV_ERROR, in->path,
					 "config.json is larger than 64 MiB");
			goto done;
		}
		mlctl_buf_add(&text, chunk, (size_t)n);
	}
	if (n < 0) {
		mlctl_report_add(in->rep, "MLV106", MLCTL_SEV_ERROR, in->path,
				 "cannot read %s: %s", archive_entry_pathname(e),
				 archive_error_string(a) ? archive_error_string(a) : "error");
		goto done;
	}
	j = mlctl_json_parse_located(text.buf ? text.buf : "", text.len, &line);
	if (!j) {
		mlctl_report_add(in->rep, "MLV131", MLCTL_SEV_ERROR, in->path,
				 "config.json is not valid JSON (near line %zu)", line);
		goto done;
	}
	find_lambdas(in, j, "config.json", 0);
	cJSON_Delete(j);
done:
	mlctl_buf_release(&text);
}

void mlctl_vcheck_zip(struct mlctl_vin *in, const char *kind)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	struct outer *o = mlctl_malloc(sizeof(*o));
	int found = 0, ar;

	o->in = in;
	mlctl_report_ran(in->rep, "MLV106", in->path);
	if (!strcmp(kind, "torch"))
		mlctl_report_ran(in->rep, "MLV105", in->path);
	if (!strcmp(kind, "keras")) {
		mlctl_report_ran(in->rep, "MLV130", in->path);
		mlctl_report_ran(in->rep, "MLV131", in->path);
	}
	archive_read_support_format_zip_streamable(a);
	if (in->depth > 2 || archive_read_open(a, o, NULL, outer_read, NULL) != ARCHIVE_OK) {
		mlctl_report_add(in->rep, "MLV106", MLCTL_SEV_ERROR, in->path,
				 "cannot read it as a zip archive: %s",
				 in->depth > 2 ? "nested too deep" :
				 archive_error_string(a) ? archive_error_string(a) : "error");
		goto done;
	}
	while ((ar = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e) ? archive_entry_pathname(e) : "";
		char *sub_path = mlctl_aprintf("%s:%s", in->path, name);
		struct mlctl_vin sub;
		int scan = 0;

		if (!strcmp(kind, "torch") && ends_with(name, ".pkl")) {
			scan = 1;
			if (ends_with(name, "/data.pkl") || !strcmp(name, "data.pkl"))
				found = 1;
		} else if (!strcmp(kind, "npz") && ends_with(name, ".npy")) {
			scan = 2;
		} else if (!strcmp(kind, "keras") && !strcmp(name, "config.json")) {
			found = 1;
			keras_config(in, a, e);
		}
		if (scan) {
			mlctl_vin_init(&sub, sub_path, (uint64_t)archive_entry_size(e), entry_read, a,
				       in->rep);
			sub.depth = in->depth + 1;
			sub.proj = in->proj;
			if (scan == 1)
				mlctl_vcheck_pickle(&sub);
			else
				mlctl_vcheck_npy(&sub);
			mlctl_vin_release(&sub);
		}
		free(sub_path);
	}
	if (ar != ARCHIVE_EOF)
		mlctl_report_add(in->rep, "MLV106", MLCTL_SEV_ERROR, in->path,
				 "cannot read the zip archive to its end: %s",
				 archive_error_string(a) ? archive_error_string(a) : "error");
	else if (!found && !strcmp(kind, "torch"))
		mlctl_report_add(in->rep, "MLV105", MLCTL_SEV_ERROR, in->path,
				 "is a zip but holds no data.pkl, so it is not a PyTorch checkpoint; "
				 "rename or replace it");
	else if (!found && !strcmp(kind, "keras"))
		mlctl_report_add(in->rep, "MLV131", MLCTL_SEV_ERROR, in->path,
				 "is a .keras archive without config.json");
done:
	archive_read_free(a);
	free(o);
}
