/* fuzz_npy.c - libFuzzer target: arbitrary bytes through mlctl_vcheck_npy as weights.npy. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_check(data, size, "weights.npy", mlctl_vcheck_npy);
	return 0;
}
