/*
 * target.h - what a word names where a command takes a model (validate,
 * smoke, smoke --baseline, show, pull): a project folder (DIR), a package
 * file (PKG) or a registry version (REF). One place classifies the word,
 * opens what it names, and words the message when it names nothing.
 */
#ifndef MLCTL_TARGET_H
#define MLCTL_TARGET_H

#include "registry.h"

enum mlctl_target_kind { MLCTL_TARGET_DIR, MLCTL_TARGET_PKG, MLCTL_TARGET_REF };

struct mlctl_target {
	enum mlctl_target_kind kind;
	char *word;                 /* as the user gave it */
	char *registry;             /* the registry folder a REF is looked up in */
	struct mlctl_ref ref;       /* REF: the parsed reference */
	struct mlctl_registry *reg; /* REF: opened on first need (never created) */
	/* set by mlctl_target_open */
	int opened;
	struct mlctl_manifest m;        /* with its files index */
	char digest[72];
	struct mlctl_version_info info; /* REF: the stored version; zeroed otherwise */
	char *resolved; /* set by mlctl_target_unpack when its dir is a link: the folder filled */
};

/*
 * Classify word without reading it. An existing folder is a DIR, any
 * other existing file a PKG; else a well-formed reference is a REF. A word
 * that is none of these: the reference's own error (MLCTL_EUSAGE) when it
 * was written as one (it holds '@' or ':'); MLCTL_ENOTFOUND, "no folder or
 * package", when it can only be a path (it holds '/' or '.', or starts
 * with '~'); else MLCTL_EUSAGE. Release t even on failure.
 */
int mlctl_target_init(struct mlctl_target *t, const char *word, const char *registry,
		      struct mlctl_err *err);

/*
 * Read what the target names into t->m (with its files index) and
 * t->digest. DIR: the project as a package of it would hold it, every
 * file hashed now. PKG: the package's manifest, its first entry (the files
 * are checked by mlctl_target_unpack and by validate, not here). REF: the
 * registry's version, t->info too. A REF that is a bare name (it could
 * have been a path) and names no model is MLCTL_ENOTFOUND naming both:
 * "no folder or package './x' and no model 'x' in the registry". Opening
 * twice does nothing more.
 */
int mlctl_target_open(struct mlctl_target *t, struct mlctl_err *err);

/* The registry of a REF (opened on the first call, never created); borrowed. */
int mlctl_target_registry(struct mlctl_registry **out, struct mlctl_target *t,
			  struct mlctl_err *err);

/*
 * Write the target's files, and its mlctl.json without the files index,
 * into dir, every file's sha256 checked as it is written, through a
 * temporary sibling renamed into place (mlctl_dir_stage). A dir that is
 * not empty is MLCTL_ECONFLICT unless force is set. Opens the target.
 */
int mlctl_target_unpack(struct mlctl_target *t, const char *dir, int force,
			struct mlctl_err *err);

/*
 * The target as a folder to run in: a DIR as it is (*dir a copy of its
 * word, *tmp NULL); a PKG or REF unpacked into a new temporary folder,
 * *dir inside *tmp, which the caller removes (mlctl_rm_rf) and frees.
 */
int mlctl_target_checkout(struct mlctl_target *t, char **tmp, char **dir,
			  struct mlctl_err *err);

/*
 * Store a report (kind "validate" or "smoke") as a record of the REF's
 * version, the one opened; *path: where in the registry it went (owned).
 */
int mlctl_target_record(struct mlctl_target *t, const char *kind, int passed, const char *report,
			char **path, struct mlctl_err *err);

void mlctl_target_release(struct mlctl_target *t);

#endif
