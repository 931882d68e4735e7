/* fuzz_pickle.c - libFuzzer target: arbitrary bytes through mlctl_vcheck_pickle as model.pkl. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_check(data, size, "model.pkl", mlctl_vcheck_pickle);
	return 0;
}
