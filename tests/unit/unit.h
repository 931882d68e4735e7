/*
 * unit.h - a small TAP harness for the library's unit tests: each CHECK is
 * one test point; a failing one prints the expression, the place, and the
 * library's error message when there is one.
 */
#ifndef MLCTL_UNIT_H
#define MLCTL_UNIT_H

#include <stdio.h>
#include <string.h>

#include "util.h"

extern int unit_n, unit_failed;
extern struct mlctl_err unit_err;

#define CHECK(expr) unit_check(!!(expr), #expr, __FILE__, __LINE__)
#define CHECK_STR(got, want) \
	unit_check_str((got), (want), #got, __FILE__, __LINE__)
/* A library call that must succeed (returns 0); prints its error if not. */
#define CHECK_OK(call) \
	(mlctl_err_clear(&unit_err), unit_check((call) == 0, #call, __FILE__, __LINE__))
/* A library call that must fail with this code. */
#define CHECK_CODE(call, code) \
	(mlctl_err_clear(&unit_err), unit_check((call) == (code), #call " == " #code, __FILE__, __LINE__))

void unit_check(int ok, const char *what, const char *file, int line);
void unit_check_str(const char *got, const char *want, const char *what, const char *file,
		    int line);

void test_semver(void);
void test_ref(void);
void test_names(void);
void test_json(void);
void test_paths(void);
void test_run_pipe(void);
void test_escape(void);
void test_manifest(void);
void test_hash(void);
void test_hashpipe(void);
void test_spdx(void);
void test_manifest_check(void);
void test_smoke_compare(void);
void test_target(void);
void test_registry_location(void);
void test_oci_quirks(void);
void test_json_number(void);

#endif
