/* fuzz_gguf.c - libFuzzer target: arbitrary bytes through mlctl_vcheck_gguf as model.gguf. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_check(data, size, "model.gguf", mlctl_vcheck_gguf);
	return 0;
}
