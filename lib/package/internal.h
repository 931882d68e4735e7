/*
 * package/internal.h - what the files of lib/package/ share; included only there.
 */
#ifndef MLCTL_PACKAGE_INTERNAL_H
#define MLCTL_PACKAGE_INTERNAL_H

#include <archive.h>

#include "package.h"

/* write.c */
int pkg_arc_err(struct mlctl_err *err, struct archive *a, int code, const char *what,
		const char *path);

#endif
