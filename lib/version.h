/*
 * version.h - the versions of the libraries this mlctl runs on, for
 * `mlctl --version --json` and bug reports.
 */
#ifndef MLCTL_VERSION_H
#define MLCTL_VERSION_H

#include <cjson/cJSON.h>

/*
 * {"libgit2": "1.5.1", "sqlite": "3.40.1", "libcurl": "7.88.1", ...}: the
 * versions loaded at run time, not those built against. The caller frees it
 * (cJSON_Delete).
 */
cJSON *mlctl_library_versions(void);

#endif
