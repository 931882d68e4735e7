/* fuzz_npz.c - libFuzzer target: arbitrary bytes as model.npz, read by the zip directory. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_check_ex(data, size, "model.npz", mlctl_vcheck_file, 1);
	return 0;
}
