/* fuzz_manifest.c - libFuzzer target: arbitrary bytes as mlctl.json, package-style
 * (with a files index) and project-style, then the canonical form and digest. */
#include <stdlib.h>

#include "manifest.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mlctl_manifest m;
	struct mlctl_err err;
	struct mlctl_ref ref;
	char digest[72], *s;
	int with_files;

	for (with_files = 0; with_files < 2; with_files++) {
		if (mlctl_manifest_parse(&m, (const char *)data, size, "fuzz", with_files, NULL,
					 &err) == 0) {
			mlctl_manifest_digest(&m, digest);
			free(mlctl_manifest_pretty(&m, 1));
			mlctl_manifest_release(&m);
		}
	}
	s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	mlctl_ref_parse(&ref, s, NULL);
	mlctl_spdx_expression_is_valid(s);
	mlctl_path_is_safe(s);
	free(s);
	return 0;
}
