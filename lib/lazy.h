/*
 * lazy.h - libgit2, libcurl, libarchive and libcrypto are loaded at their
 * first call, not when mlctl starts: most reads need none of them, and
 * loading them (some 45 shared objects with their own dependencies) took
 * ten times longer than a read of the registry.
 *
 * banned.h, the last include of every file, includes this. Each function
 * of lib/lazy.list is then a macro that calls through mlctl_lazy_fn[i],
 * which lib/lazy.c fills at the first call (dlopen, dlsym). The pointer
 * has the type of the declaration the library's header gave, so calls are
 * checked as before. mlctl is not linked with these libraries: a function
 * missing from the list fails to link.
 */
#ifndef MLCTL_LAZY_H
#define MLCTL_LAZY_H

#include "gen/lazy.h"

extern void *mlctl_lazy_fn[MLCTL_LAZY_COUNT];

/* the function of index i; loads its library first when needed. A library
 * that cannot be loaded ends the process: mlctl_lazy_failed, when set (the
 * CLI's error printer, --json aware), gets the one-line message and exits;
 * else the message goes to stderr and the exit status is 6. */
void *mlctl_lazy_resolve(int i);
extern void (*mlctl_lazy_failed)(const char *msg);

static inline void *mlctl_lazy_get(int i)
{
	void *f = __atomic_load_n(&mlctl_lazy_fn[i], __ATOMIC_ACQUIRE);

	return f ? f : mlctl_lazy_resolve(i);
}

#define MLCTL_LAZY(i, f) (*(__typeof__(&f))mlctl_lazy_get(i))

#endif
