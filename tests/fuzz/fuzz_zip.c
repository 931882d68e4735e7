/*
 * fuzz_zip.c - libFuzzer target: arbitrary bytes through the zip reader itself
 * (lib/validate/zip.c), whatever their first bytes say: as a zip of unknown
 * use and as a .keras archive with random access, and as a torch checkpoint
 * read from a stream (a package entry), which is first copied aside.
 * Seeds: tests/fixtures/make-zip-tricks.py (clean archives and every trick).
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void as_any(struct mlctl_vin *in)
{
	mlctl_vcheck_zip(in, "any");
}

static void as_keras(struct mlctl_vin *in)
{
	mlctl_vcheck_zip(in, "keras");
}

static void as_torch(struct mlctl_vin *in)
{
	mlctl_vcheck_zip(in, "torch");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_check_ex(data, size, "model.zip", as_any, 1);
	fuzz_check_ex(data, size, "model.keras", as_keras, 1);
	fuzz_check(data, size, "model.pt", as_torch);
	return 0;
}
