/*
 * banned.h - functions that are too easy to misuse. Include it last; a use
 * of any of these then fails to compile. Use snprintf, mlctl_buf_*,
 * strtol/strtoull with end checks instead.
 */
#ifndef MLCTL_BANNED_H
#define MLCTL_BANNED_H

#define BANNED(func) sorry_##func##_is_banned_in_mlctl

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) BANNED(strncat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef atoi
#define atoi(x) BANNED(atoi)
#undef atol
#define atol(x) BANNED(atol)
#undef gets
#define gets(x) BANNED(gets)

/* and, as the last include, the calls into the libraries loaded at first use */
#include "lazy.h"

#endif
