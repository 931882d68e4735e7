/*
 * checks.h - the catalogue of validate's checks, one line each: its id,
 * the usual severity of its findings, its short name (SARIF's rule name),
 * what it means for a package (flags), and a one-line summary.
 *
 * Each id is also an enumerator (MLV001, ...), so code names a check as a
 * constant and a mistyped id does not compile. Ids are stable: never
 * renumber, only add. docs/mlctl-validate.md lists them all.
 */
#ifndef MLCTL_CHECKS_H
#define MLCTL_CHECKS_H

/* A package failing this check was damaged or made by hand: exit 5, not a failed gate (1). */
#define MLCTL_CHECK_STRUCTURAL 1
/* Bytes that do not match their recorded digest: exit 5 wherever it is found. */
#define MLCTL_CHECK_INTEGRITY 2

/* X(id, severity, name, flags, summary) */
#define MLCTL_CHECKS(X) \
	X(MLV001, ERROR, "manifest-json", STRUCTURAL, \
	  "mlctl.json is valid JSON") \
	X(MLV002, ERROR, "manifest-schema", STRUCTURAL, \
	  "the manifest is an object with schema mlctl/v1") \
	X(MLV003, ERROR, "manifest-name", STRUCTURAL, \
	  "the model name follows the naming rule") \
	X(MLV004, ERROR, "manifest-version", STRUCTURAL, \
	  "the version is a semantic version") \
	X(MLV005, WARNING, "manifest-unknown-key", 0, \
	  "no unknown keys in the manifest") \
	X(MLV006, WARNING, "manifest-license-spdx", 0, \
	  "the licence is an SPDX identifier or expression") \
	X(MLV007, ERROR, "manifest-types", STRUCTURAL, \
	  "manifest fields have the right types") \
	X(MLV008, ERROR, "manifest-artifacts", STRUCTURAL, \
	  "artifacts is a non-empty list of {path, role}") \
	X(MLV009, ERROR, "artifact-path", STRUCTURAL, \
	  "artifact paths are relative and inside the project") \
	X(MLV010, ERROR, "artifact-duplicate", STRUCTURAL, \
	  "no artifact is listed twice") \
	X(MLV011, ERROR, "artifact-role", STRUCTURAL, \
	  "artifact roles are known") \
	X(MLV012, ERROR, "files-index", STRUCTURAL, \
	  "the package's files index is well formed") \
	X(MLV013, ERROR, "signature", 0, \
	  "the signature's dtypes and shapes are well formed") \
	X(MLV020, ERROR, "file-present", 0, \
	  "every artifact is present") \
	X(MLV021, ERROR, "file-inside", 0, \
	  "no artifact leaves the project through a symlink") \
	X(MLV022, ERROR, "file-regular", 0, \
	  "every artifact is a regular file or folder") \
	X(MLV023, ERROR, "file-digest", INTEGRITY, \
	  "every file matches the size and sha256 in the index") \
	X(MLV100, ERROR, "pickle-malformed", 0, \
	  "pickle streams parse") \
	X(MLV101, ERROR, "pickle-dangerous-global", 0, \
	  "pickles import no dangerous callables") \
	X(MLV102, WARNING, "pickle-unknown-global", 0, \
	  "pickles import only known-safe globals") \
	X(MLV103, ERROR, "pickle-hidden-global", 0, \
	  "pickle imports are not computed at load time") \
	X(MLV104, WARNING, "pickle-extension-code", 0, \
	  "pickles use no copyreg extension codes") \
	X(MLV105, ERROR, "torch-zip", 0, \
	  "PyTorch zip checkpoints hold a data.pkl") \
	X(MLV106, ERROR, "zip-malformed", 0, \
	  "zip archives (PyTorch, Keras, npz) can be read") \
	X(MLV107, ERROR, "zip-ambiguous", 0, \
	  "zip archives have one reading: central directory and local headers agree, no overlap, " \
	  "repeat or extra data") \
	X(MLV108, ERROR, "pickle-compressed", 0, \
	  "compressed pickles (joblib containers) are inflated and scanned") \
	X(MLV109, ERROR, "joblib-array", 0, \
	  "joblib's inline NumPy arrays have the size their wrapper states") \
	X(MLV110, ERROR, "safetensors-header", 0, \
	  "the safetensors header is well formed") \
	X(MLV111, ERROR, "safetensors-tensors", 0, \
	  "safetensors dtypes, shapes and offsets agree") \
	X(MLV112, ERROR, "safetensors-metadata", 0, \
	  "safetensors __metadata__ holds strings only") \
	X(MLV113, ERROR, "safetensors-size", 0, \
	  "the safetensors data ends where the file ends") \
	X(MLV120, ERROR, "gguf-header", 0, \
	  "GGUF magic, version 2 or 3, plausible counts") \
	X(MLV121, WARNING, "gguf-chat-template", 0, \
	  "GGUF chat templates (Jinja, executed) are reviewed") \
	X(MLV122, ERROR, "gguf-metadata", 0, \
	  "GGUF metadata types, lengths, UTF-8 and alignment") \
	X(MLV123, ERROR, "gguf-tensors", 0, \
	  "GGUF tensor dims, types, aligned offsets inside the file") \
	X(MLV130, ERROR, "keras-lambda", 0, \
	  "Keras models have no Lambda layers (they run code)") \
	X(MLV131, ERROR, "keras-config", 0, \
	  "Keras archives hold a readable config.json") \
	X(MLV140, ERROR, "npy-header", 0, \
	  "NumPy .npy headers are well formed") \
	X(MLV141, INFO, "npy-object", 0, \
	  "NumPy object arrays are pickles: scanned as such") \
	X(MLV150, ERROR, "format-mismatch", 0, \
	  "a file's bytes are the format its extension says") \
	X(MLV160, ERROR, "onnx-protobuf", 0, \
	  "ONNX models parse as protobuf") \
	X(MLV161, ERROR, "onnx-model", 0, \
	  "ONNX ir_version, opsets, a graph with outputs") \
	X(MLV162, ERROR, "onnx-external-path", 0, \
	  "ONNX external data stays inside the project") \
	X(MLV163, ERROR, "onnx-external-present", 0, \
	  "ONNX external data files are there and long enough") \
	X(MLV164, ERROR, "onnx-signature", 0, \
	  "the manifest's signature matches the ONNX graph") \
	X(MLV200, ERROR, "gate-metric", 0, \
	  "metrics meet their thresholds") \
	X(MLV201, ERROR, "gate-metric-missing", 0, \
	  "every gated metric is in the manifest") \
	X(MLV202, ERROR, "gate-expression", 0, \
	  "gate expressions are well formed") \
	X(MLV203, ERROR, "gate-license", 0, \
	  "the licence is on the allowed list") \
	X(MLV204, ERROR, "gate-size", 0, \
	  "the model's total size is within the limit")

enum mlctl_check {
	MLCTL_CHECK_NONE = 0, /* never a check: a null pointer constant must not pass for one */
#define MLCTL_CHECK_ENUM(id, sev, name, flags, summary) id,
	MLCTL_CHECKS(MLCTL_CHECK_ENUM)
#undef MLCTL_CHECK_ENUM
	MLCTL_CHECK_COUNT
};

#endif
