/* fuzz_onnx.c - libFuzzer target: arbitrary bytes through mlctl_vcheck_onnx as model.onnx. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_check(data, size, "model.onnx", mlctl_vcheck_onnx);
	return 0;
}
