/*
 * fuzz.h - shared set-up of the libFuzzer targets: the input bytes as a
 * stream for one checker, a report to collect findings, and nothing else.
 * Each target is built with -fsanitize=fuzzer,address,undefined by
 * 'make fuzz' and must never crash, hang or grow without bound.
 */
#ifndef MLCTL_FUZZ_H
#define MLCTL_FUZZ_H

#include <stdint.h>
#include <string.h>

#include "report.h"
#include "validate/check.h"

struct mem_src {
	const uint8_t *data;
	size_t size, off;
};

static ssize_t mem_read(void *ctx, void *buf, size_t n)
{
	struct mem_src *m = ctx;
	size_t k = m->size - m->off < n ? m->size - m->off : n;

	memcpy(buf, m->data + m->off, k);
	m->off += k;
	return (ssize_t)k;
}

static ssize_t mem_pread(void *ctx, void *buf, size_t n, uint64_t off)
{
	struct mem_src *m = ctx;
	size_t k;

	if (off >= m->size)
		return 0;
	k = m->size - (size_t)off < n ? m->size - (size_t)off : n;
	memcpy(buf, m->data + off, k);
	return (ssize_t)k;
}

static int mem_lookup(void *ctx, const char *path, uint64_t *size)
{
	(void)ctx;
	if (!strcmp(path, "weights.bin")) {
		*size = 4096;
		return 0;
	}
	return -3;
}

/*
 * Run one checker over the input as file `path`: with random access as a
 * project file has it when seekable, else as a stream (a package entry).
 */
static void fuzz_check_ex(const uint8_t *data, size_t size, const char *path,
			  void (*check)(struct mlctl_vin *), int seekable)
{
	struct mem_src src = { data, size, 0 };
	struct mlctl_vproj proj = { mem_lookup, NULL, NULL };
	struct mlctl_report rep;
	struct mlctl_vin in;

	mlctl_report_init(&rep, "fuzz");
	mlctl_vin_init(&in, path, size, mem_read, &src, &rep);
	in.proj = &proj;
	if (seekable) {
		in.pread = mem_pread;
		in.pread_ctx = &src;
	}
	check(&in);
	/* the renderings must cope with whatever the checker said */
	cJSON_Delete(mlctl_report_json(&rep, 1));
	mlctl_vin_release(&in);
	mlctl_report_release(&rep);
}

static void fuzz_check(const uint8_t *data, size_t size, const char *path,
		       void (*check)(struct mlctl_vin *))
{
	fuzz_check_ex(data, size, path, check, 0);
}

#endif
