/*
 * lazy.c - load a library of lib/lazy.list at its first call (lazy.h).
 */
#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#define MLCTL_LAZY_TABLE
#include "banned.h"

#define NLIBS (sizeof(lazy_lib) / sizeof(lazy_lib[0]))

void *mlctl_lazy_fn[MLCTL_LAZY_COUNT];
static void *handle[NLIBS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

void (*mlctl_lazy_failed)(const char *msg);

static void give_up(const char *what, const char *name, const char *why)
{
	char msg[768];

	snprintf(msg, sizeof(msg), "cannot load %s%s%s: %s; install it (scripts/install-deps "
		 "names the packages mlctl needs)", what, name ? " from " : "",
		 name ? name : "", why ? why : "unknown error");
	if (mlctl_lazy_failed)
		mlctl_lazy_failed(msg);
	fprintf(stderr, "mlctl: %s\n", msg);
	exit(6);
}

void *mlctl_lazy_resolve(int i)
{
	unsigned lib = lazy_sym[i].lib;
	void *f;

	pthread_mutex_lock(&lock);
	f = mlctl_lazy_fn[i];
	if (!f) {
		if (!handle[lib]) {
			handle[lib] = dlopen(lazy_lib[lib], RTLD_NOW | RTLD_LOCAL);
			if (!handle[lib])
				give_up(lazy_lib[lib], NULL, dlerror());
		}
		f = dlsym(handle[lib], lazy_sym[i].name);
		if (!f)
			give_up(lazy_sym[i].name, lazy_lib[lib], dlerror());
		__atomic_store_n(&mlctl_lazy_fn[i], f, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&lock);
	return f;
}

/*
 * curl.h makes curl_easy_setopt and curl_easy_getinfo macros that check
 * their argument's type and then call the function itself; these are that
 * function. The argument is read as the type libcurl reads it for the
 * option (curl.h: CURLOPTTYPE_*, CURLINFO_*: always a pointer).
 */
CURLcode (curl_easy_setopt)(CURL *curl, CURLoption option, ...)
{
	typedef CURLcode (*setopt_fn)(CURL *, CURLoption, ...);
	setopt_fn set = (setopt_fn)mlctl_lazy_get(MLCTL_LAZY_AT_curl_easy_setopt);
	CURLcode rc;
	va_list ap;

	va_start(ap, option);
	if (option < CURLOPTTYPE_OBJECTPOINT)
		rc = set(curl, option, va_arg(ap, long));
	else if (option < CURLOPTTYPE_FUNCTIONPOINT)
		rc = set(curl, option, va_arg(ap, void *));
	else if (option < CURLOPTTYPE_OFF_T)
		rc = set(curl, option, va_arg(ap, void (*)(void)));
	else if (option < CURLOPTTYPE_BLOB)
		rc = set(curl, option, va_arg(ap, curl_off_t));
	else
		rc = set(curl, option, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

CURLcode (curl_easy_getinfo)(CURL *curl, CURLINFO info, ...)
{
	typedef CURLcode (*getinfo_fn)(CURL *, CURLINFO, ...);
	getinfo_fn get = (getinfo_fn)mlctl_lazy_get(MLCTL_LAZY_AT_curl_easy_getinfo);
	CURLcode rc;
	va_list ap;

	va_start(ap, info);
	rc = get(curl, info, va_arg(ap, void *));
	va_end(ap);
	return rc;
}
