/*
 * test_registry.c - the registry location rule of lib/registry/locate.c:
 * --registry, MLCTL_REGISTRY, XDG_DATA_HOME and HOME; nothing is opened.
 */
#define _GNU_SOURCE
#include <stdlib.h>

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
