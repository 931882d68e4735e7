/* fuzz_safetensors.c - libFuzzer target: arbitrary bytes through mlctl_vcheck_safetensors as model.safetensors. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_check(data, size, "model.safetensors", mlctl_vcheck_safetensors);
	return 0;
}
