/* fuzz_joblib.c - libFuzzer target: arbitrary bytes as model.joblib (inline arrays, containers). */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_check(data, size, "model.joblib", mlctl_vcheck_file);
	return 0;
}
