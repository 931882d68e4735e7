/*
 * check.h - the format checkers, each reading one file from a struct
 * mlctl_vin (validate/vin.h). Checkers read only what they need (headers,
 * or the opcode stream of a pickle) and report findings on in->rep for
 * in->path; they never load whole files and never execute anything.
 * mlctl_vcheck_file (detect.c) picks the checker; containers (zip, npz,
 * PyTorch) call it again for their members.
 */
#ifndef MLCTL_VALIDATE_CHECK_H
#define MLCTL_VALIDATE_CHECK_H

#include "validate/vin.h"

/* Checkers: each reports its own findings on in->rep for in->path. */
void mlctl_vcheck_file(struct mlctl_vin *in);          /* detect the format, then check */
void mlctl_vcheck_pickle(struct mlctl_vin *in);
void mlctl_vcheck_safetensors(struct mlctl_vin *in);
void mlctl_vcheck_npy(struct mlctl_vin *in);
void mlctl_vcheck_gguf(struct mlctl_vin *in);
void mlctl_vcheck_onnx(struct mlctl_vin *in);
void mlctl_vcheck_zip(struct mlctl_vin *in, const char *kind); /* "torch", "keras", "npz", "any" */
/* A compressed pickle (joblib's zlib, gzip, bz2, xz, lzma, lz4 containers): inflate, then scan. */
void mlctl_vcheck_compressed_pickle(struct mlctl_vin *in);
/* The compression a file's first bytes announce ("zlib", "gzip", …), or NULL. */
const char *mlctl_vin_compression(const unsigned char *p, size_t n);

#endif
