/*
 * onnx.h - what mlctl reads from an ONNX model (its protobuf wire format,
 * parsed here as a stream, no protobuf library): IR version, opsets,
 * producer, graph inputs and outputs with their types and shapes,
 * initializers (sorted by name), and external data references.
 */
#ifndef MLCTL_ONNX_H
#define MLCTL_ONNX_H

#include <stdint.h>

#include "validate/vin.h"

#define ONNX_MAX_DIMS 16

struct onnx_value {
	char *name;
	int elem_type; /* TensorProto.DataType; 0 when not a tensor or unknown */
	int rank;      /* -1 when the shape is unknown */
	int64_t dims[ONNX_MAX_DIMS]; /* -1 for a symbolic or unknown dimension */
};

struct onnx_external {
	char *tensor;
	char *location;
	uint64_t offset, length; /* length 0: to the end of the file */
};

struct onnx_info {
	int64_t ir_version;
	size_t nopsets;
	int64_t default_opset; /* version of the "" (ai.onnx) domain, 0 if absent */
	char producer[128];
	int has_graph;
	struct onnx_value *inputs, *outputs;
	size_t ninputs, noutputs;
	char **initializers; /* sorted by name (strcmp) once read */
	size_t ninitializers;
	size_t nnodes;
	struct onnx_external *externals;
	size_t nexternals;
	char error[256]; /* why the protobuf stream is malformed, "" when it is not */
};

/* Parse an ONNX model from a stream. 0, or -1 with info->error set. */
int mlctl_onnx_read(struct onnx_info *info, struct mlctl_vin *in);
void mlctl_onnx_release(struct onnx_info *info);
/* Graph inputs that are not initializers (the model's real inputs). */
int mlctl_onnx_is_initializer(const struct onnx_info *info, const char *name);
/* "float32" for 1, … ; NULL when unknown. */
const char *mlctl_onnx_dtype_name(int elem_type);

#endif
