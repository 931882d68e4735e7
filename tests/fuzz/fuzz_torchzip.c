/* fuzz_torchzip.c - libFuzzer target: arbitrary bytes through mlctl_vcheck_file as model.pt. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_check(data, size, "model.pt", mlctl_vcheck_file);
	return 0;
}
