/* fuzz_keras.c - libFuzzer target: arbitrary bytes through mlctl_vcheck_file as model.keras. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_check(data, size, "model.keras", mlctl_vcheck_file);
	return 0;
}
