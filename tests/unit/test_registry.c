/*
 * test_registry.c - the registry location rule of lib/registry/locate.c:
 * --registry, MLCTL_REGISTRY, XDG_DATA_HOME and HOME; nothing is opened. And
 * what some OCI registries want of uploads (lib/oci/name.c).
 */
#define _GNU_SOURCE
#include <stdlib.h>

#include "oci.h"
#include "registry.h"
#include "unit.h"

void test_registry_location(void)
{
	static const char *const remote[] = {
		"oci://ghcr.io/acme/models", "https://example.com/r", "http://h/r", "ssh://git@h/r",
		"git@github.com:acme/models", "host:path", "localhost:5000/models", "localhost:5000",
		"ghcr.io/acme/models", "registry.example.com/x", "127.0.0.1/x", "localhost/x",
	};
	static const char *const local[] = {
		"./ghcr.io/acme/models", "/srv/ghcr.io/x", "../ghcr.io/x", "~/ghcr.io/x", "ghcr.io",
		"my.registry", ".hidden/registry", "a_b.c/x", "registry", "data/registry", "/a/b:c/d",
		".", "..",
	};
	size_t i;

	for (i = 0; i < MLCTL_ARRAY_SIZE(remote); i++)
		CHECK_CODE(mlctl_registry_check_local(remote[i], &unit_err), MLCTL_EUSAGE);
	for (i = 0; i < MLCTL_ARRAY_SIZE(local); i++)
		CHECK_OK(mlctl_registry_check_local(local[i], &unit_err));
}

/* The uploads some registries want (lib/oci/name.c): by host, port left out, subdomains too. */
void test_oci_quirks(void)
{
	struct mlctl_oci_quirks q;

	mlctl_oci_quirks(&q, "ghcr.io");
	CHECK(q.registry && q.patch_max == 4u << 20 && !q.monolithic && !q.min_chunk);
	mlctl_oci_quirks(&q, "ghcr.io:443");
	CHECK(q.patch_max == 4u << 20);
	mlctl_oci_quirks(&q, "europe-west1-docker.pkg.dev");
	CHECK(q.monolithic && !q.patch_max);
	mlctl_oci_quirks(&q, "eu.gcr.io");
	CHECK(q.monolithic);
	mlctl_oci_quirks(&q, "123456789012.dkr.ecr.eu-west-1.amazonaws.com");
	CHECK(q.min_chunk == 5u << 20 && !q.monolithic);
	/* a name that only ends like one of them is another registry */
	mlctl_oci_quirks(&q, "notghcr.io");
	CHECK(!q.registry && !q.patch_max && !q.monolithic && !q.min_chunk);
	mlctl_oci_quirks(&q, "ghcr.io.example.com");
	CHECK(!q.registry);
	mlctl_oci_quirks(&q, "127.0.0.1:5000");
	CHECK(!q.registry);
}
