/*
 * test_hashpipe.c - sha256 of buffers and of streams hashed while they are copied.
 */
#include <stdlib.h>

#include "hashpipe.h"
#include "unit.h"

void test_hash(void)
{
	char hex[65];

	mlctl_sha256_hex(hex, "abc", 3);
	CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	mlctl_sha256_hex(hex, "", 0);
	CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	CHECK(mlctl_is_sha256_hex(hex));
	CHECK(!mlctl_is_sha256_hex("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"));
}

void test_hashpipe(void)
{
	size_t n = 5 * MLCTL_IO_CHUNK + 12345, off = 0, i;
	unsigned char *data = malloc(n);
	struct mlctl_hashpipe *hp = mlctl_hashpipe_new();
	char want[65], got[65];

	for (i = 0; i < n; i++)
		data[i] = (unsigned char)(i * 2654435761u >> 13);
	mlctl_sha256_hex(want, data, n);
	while (off < n) {
		size_t cap, k;
		char *slot = mlctl_hashpipe_slot(hp, &cap);

		k = n - off < cap ? n - off : cap;
		memcpy(slot, data + off, k);
		mlctl_hashpipe_push(hp, k);
		off += k;
	}
	mlctl_hashpipe_finish(hp, got);
	CHECK_STR(got, want);
	mlctl_hashpipe_free(hp);
	free(data);
}
