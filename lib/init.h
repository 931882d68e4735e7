/*
 * init.h - write a first mlctl.json for a folder from what is in it.
 */
#ifndef MLCTL_INIT_H
#define MLCTL_INIT_H

#include <stddef.h>

#include "util.h"

struct mlctl_init_result {
	char *path;        /* the manifest written; caller frees */
	char *name;        /* the model name chosen; caller frees */
	size_t nartifacts; /* files listed */
	char **skipped;    /* files left out: names no package can hold; caller frees */
	size_t nskipped;
};

/*
 * List dir's files (hidden ones, mlctl.json and build debris left out) as
 * artifacts with roles guessed from their names, name the model after the
 * folder unless name is set, version 0.1.0 unless version is set. An
 * existing mlctl.json is MLCTL_ECONFLICT unless force is set.
 */
int mlctl_init_project(struct mlctl_init_result *res, const char *dir, const char *name,
		       const char *version, int force, struct mlctl_err *err);
void mlctl_init_result_release(struct mlctl_init_result *res);

/* The role for a file name: model, code, config, data, docs, tokenizer or other. */
const char *mlctl_guess_role(const char *path);

#endif
