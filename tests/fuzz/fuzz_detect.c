/* fuzz_detect.c - libFuzzer target: arbitrary bytes through mlctl_vcheck_file as model.bin. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_check(data, size, "model.bin", mlctl_vcheck_file);
	return 0;
}
