/*
 * version.c - ask each library mlctl is linked with for its version, as
 * loaded at run time (a shared library may be newer than the headers).
 */
#include "version.h"

#include <archive.h>
#include <curl/curl.h>
#include <git2.h>
#include <openssl/crypto.h>
#include <sqlite3.h>
#include <stdio.h>

#include "banned.h"

cJSON *mlctl_library_versions(void)
{
	cJSON *v = cJSON_CreateObject();
	const curl_version_info_data *curl = curl_version_info(CURLVERSION_NOW);
	int major = 0, minor = 0, rev = 0, a = archive_version_number();
	char buf[64];

	git_libgit2_version(&major, &minor, &rev);
	snprintf(buf, sizeof(buf), "%d.%d.%d", major, minor, rev);
	cJSON_AddStringToObject(v, "libgit2", buf);
	cJSON_AddStringToObject(v, "sqlite", sqlite3_libversion());
	cJSON_AddStringToObject(v, "libcurl", curl && curl->version ? curl->version : "");
	/* archive_version_number() is MAJOR * 1000000 + MINOR * 1000 + PATCH */
	snprintf(buf, sizeof(buf), "%d.%d.%d", a / 1000000, a / 1000 % 1000, a % 1000);
	cJSON_AddStringToObject(v, "libarchive", buf);
	cJSON_AddStringToObject(v, "cjson", cJSON_Version());
	cJSON_AddStringToObject(v, "openssl", OpenSSL_version(OPENSSL_VERSION_STRING));
	return v;
}
