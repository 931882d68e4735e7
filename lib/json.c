/*
 * json.c - canonical JSON: the bytes a version's digest names.
 */
#define _GNU_SOURCE
#include "manifest.h"

#include <stdlib.h>
#include <string.h>

#include "banned.h"

static int key_cmp(const void *a, const void *b)
{
	const cJSON *x = *(cJSON *const *)a, *y = *(cJSON *const *)b;

	return strcmp(x->string ? x->string : "", y->string ? y->string : "");
}

void mlctl_json_sort_keys(cJSON *item)
{
	cJSON *c, **arr;
	size_t n = 0, i;

	if (!item)
		return;
	for (c = item->child; c; c = c->next) {
		mlctl_json_sort_keys(c);
		n++;
	}
	if (!cJSON_IsObject(item) || n < 2)
		return;
	arr = mlctl_malloc(n * sizeof(*arr));
	for (i = 0, c = item->child; c; c = c->next)
		arr[i++] = c;
	qsort(arr, n, sizeof(*arr), key_cmp);
	for (i = 0; i < n; i++) {
		arr[i]->next = i + 1 < n ? arr[i + 1] : NULL;
		arr[i]->prev = i > 0 ? arr[i - 1] : arr[n - 1];
	}
	item->child = arr[0];
	free(arr);
}

char *mlctl_json_canonical(cJSON *item)
{
	char *s, *copy;

	mlctl_json_sort_keys(item);
	s = cJSON_PrintUnformatted(item);
	if (!s) {
		fputs("mlctl: out of memory\n", stderr);
		abort();
	}
	copy = mlctl_strdup(s);
	cJSON_free(s);
	return copy;
}

static void pretty(struct mlctl_buf *b, const cJSON *item, int depth)
{
	const cJSON *c;
	int i;

	if (cJSON_IsArray(item) && item->child) {
		/* a list of plain values (a shape, a list of names) stays on one line */
		int flat = 1;

		for (c = item->child; c; c = c->next)
			if (cJSON_IsObject(c) || cJSON_IsArray(c))
				flat = 0;
		if (flat) {
			mlctl_buf_puts(b, "[");
			for (c = item->child; c; c = c->next) {
				char *t = cJSON_PrintUnformatted(c);

				mlctl_buf_puts(b, t ? t : "null");
				mlctl_buf_puts(b, c->next ? ", " : "");
				cJSON_free(t);
			}
			mlctl_buf_puts(b, "]");
			return;
		}
	}
	if ((cJSON_IsObject(item) || cJSON_IsArray(item)) && item->child) {
		int obj = cJSON_IsObject(item);

		mlctl_buf_puts(b, obj ? "{\n" : "[\n");
		for (c = item->child; c; c = c->next) {
			for (i = 0; i <= depth; i++)
				mlctl_buf_puts(b, "  ");
			if (obj) {
				cJSON *key = cJSON_CreateString(c->string);
				char *k = cJSON_PrintUnformatted(key);

				mlctl_buf_puts(b, k);
				mlctl_buf_puts(b, ": ");
				cJSON_free(k);
				cJSON_Delete(key);
			}
			pretty(b, c, depth + 1);
			mlctl_buf_puts(b, c->next ? ",\n" : "\n");
		}
		for (i = 0; i < depth; i++)
			mlctl_buf_puts(b, "  ");
		mlctl_buf_puts(b, obj ? "}" : "]");
	} else {
		char *t = cJSON_PrintUnformatted(item);

		mlctl_buf_puts(b, t ? t : "null");
		cJSON_free(t);
	}
}

char *mlctl_json_pretty(const cJSON *item)
{
	struct mlctl_buf b = MLCTL_BUF_INIT;

	pretty(&b, item, 0);
	mlctl_buf_puts(&b, "\n");
	return mlctl_buf_detach(&b);
}
