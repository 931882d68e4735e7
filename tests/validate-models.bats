#!/usr/bin/env bats
# mlctl validate on model files made by the libraries users have: torch.save
# (committed files, see tests/fixtures/make-torch-models.py), joblib.dump,
# numpy.savez, h5py and pickle protocol 5. Benign files pass with no finding;
# hostile ones (saved by the same library) fail with the finding for their
# import, never as "malformed"; zip archives with two readings are refused.

load helpers

REAL=$BATS_TEST_DIRNAME/fixtures/make-real-models.py
TORCH=$BATS_TEST_DIRNAME/fixtures/torch

# project DIR FILE: a project whose one model file is FILE (already in DIR)
project() {
	cat > "$1/mlctl.json" <<JSON
{"schema": "mlctl/v1", "name": "m", "version": "1.0.0", "license": "MIT",
 "artifacts": [{"path": "$2", "role": "model"}]}
JSON
}

# real KIND FILE: a project prj-KIND whose model file FILE the libraries made
real() {
	rm -rf "prj-$1"
	mkdir -p "prj-$1"
	/usr/bin/python3 "$REAL" "$1" "prj-$1/$2"
	project "prj-$1" "$2"
}

# torch NAME: a project prj-NAME holding the committed torch.save file NAME
torch_file() {
	rm -rf "prj-$1"
	mkdir -p "prj-$1"
	cp "$TORCH/$1" "prj-$1/"
	project "prj-$1" "$1"
}

# passes DIR|PKG: validate finds nothing at all
passes() {
	run -0 --separate-stderr mlctl validate "$1"
	[[ "$output" == "passed: 0 errors, 0 warnings in "* ]] || { echo "$1:"; echo "$output"; false; }
}

# fails DIR|PKG ID TEXT: validate fails with finding ID saying TEXT, and never MLV100
fails() {
	run -1 --separate-stderr mlctl validate "$1"
	[[ "$output" == *"$2  $3"* ]] || { echo "$1: want $2 $3, got:"; echo "$output"; false; }
	[[ "$output" != *MLV100* ]] || { echo "$1: reported as malformed:"; echo "$output"; false; }
}

@test "torch.save zip checkpoints (data descriptors, padded extra fields) pass as folder, package and version" {
	for f in state_dict.pt checkpoint.pth; do
		torch_file "$f"
		passes "prj-$f"
		mlctl package "prj-$f" -o "$f.mlpkg" -q >/dev/null
		passes "$f.mlpkg"
	done
	# pushed with validation on, then validated from the registry's blobs
	run -0 mlctl push prj-state_dict.pt
	run -0 mlctl validate m:1.0.0
	[[ "$output" == "passed: 0 errors, 0 warnings in "* ]]
}

@test "torch.save of os.system is MLV101 in zip and legacy formats; a push is refused" {
	for f in evil.pt evil-in-checkpoint.pt legacy-evil.pt; do
		torch_file "$f"
		fails "prj-$f" MLV101 "imports posix.system (GLOBAL)"
	done
	[[ "$output" == "legacy-evil.pt"$'\n'* ]]
	torch_file evil.pt
	mlctl package prj-evil.pt -o evil.mlpkg -q >/dev/null
	fails evil.mlpkg MLV101 "imports posix.system"
	[[ "$output" == *"evil.pt:evil/data.pkl"* ]]
	run -1 --separate-stderr mlctl push prj-evil.pt
	[[ "$stderr" == *"MLV101"* ]]
	run -3 mlctl show m
}

@test "legacy torch.save (five pickles, then raw tensor data) passes" {
	torch_file legacy.pt
	passes prj-legacy.pt
}

@test "numpy .npz from savez (zip64 extras) and savez_compressed (deflated) pass, as folder and package" {
	for k in npz-clean npz-compressed; do
		real "$k" model.npz
		passes "prj-$k"
		mlctl package "prj-$k" -o "$k.mlpkg" --compression zstd -q >/dev/null
		passes "$k.mlpkg"
	done
}

@test "numpy object arrays holding os.system are MLV101, stored, deflated and in .npy" {
	real npz-evil model.npz
	fails prj-npz-evil MLV101 "imports posix.system"
	[[ "$output" == *"model.npz:obj.npy"* ]]
	real npz-compressed-evil model.npz
	fails prj-npz-compressed-evil MLV101 "imports posix.system"
	real npy-evil model.npy
	fails prj-npy-evil MLV101 "imports posix.system"
}

@test "zip archives with two readings are MLV107: appended, delisted, hidden, duplicate, mismatched, gaps, trailing" {
	real npz-appended model.npz
	fails prj-npz-appended MLV107 "zip archive can be read two ways (its central directory does not end where its end record starts"
	real npz-delisted model.npz
	fails prj-npz-delisted MLV107 "zip archive can be read two ways (215 bytes come before its first entry)"
	real npz-hidden model.npz
	fails prj-npz-hidden MLV107 "zip archive can be read two ways ('b.npy' starts inside the entry before it"
	real npz-duplicate model.npz
	fails prj-npz-duplicate MLV107 "zip archive can be read two ways (it holds 'a.npy' twice)"
	real npz-local-mismatch model.npz
	fails prj-npz-local-mismatch MLV107 "zip archive can be read two ways (the local header at byte 0 names another file than the central entry 'a.npy')"
	real npz-gap model.npz
	fails prj-npz-gap MLV107 "zip archive can be read two ways (16 bytes lie between two entries)"
	real npz-trailing model.npz
	fails prj-npz-trailing MLV107 "zip archive can be read two ways (14 bytes follow its end record: appended data or a second archive)"
	real npz-comment-eocd model.npz
	fails prj-npz-comment-eocd MLV107 "zip archive can be read two ways"
	# the same from a package, where the archive is a stream copied aside to be read
	mlctl package prj-npz-hidden -o hidden.mlpkg -q >/dev/null
	fails hidden.mlpkg MLV107 "zip archive can be read two ways ('b.npy' starts inside the entry before it"
	# a torch checkpoint with a second archive appended
	torch_file state_dict.pt
	cat "$TORCH/evil.pt" >> prj-state_dict.pt/state_dict.pt
	fails prj-state_dict.pt MLV107 "zip archive can be read two ways"
}

@test "a damaged deflated member is MLV106 (CRC or data), not a pass" {
	real npz-compressed model.npz
	/usr/bin/python3 - prj-npz-compressed/model.npz <<'PY'
import sys, zipfile
p = sys.argv[1]
data = bytearray(open(p, "rb").read())
zi = zipfile.ZipFile(p).infolist()[0]
start = zi.header_offset + 30 + len(zi.filename) + 20  # numpy writes a zip64 extra of 20 bytes
data[start + zi.compress_size // 2] ^= 0xff
open(p, "wb").write(bytes(data))
PY
	run -1 --separate-stderr mlctl validate prj-npz-compressed
	[[ "$output" == *"MLV106  member '"*".npy' is damaged: its CRC-32 does not match the zip directory"* ||
	   "$output" == *"MLV106  member '"*".npy' cannot be read: its compressed data is damaged"* ]] ||
		{ echo "$output"; false; }
}

@test "joblib: inline arrays of every dtype and a scikit-learn pipeline pass" {
	for k in joblib-arrays joblib-sklearn joblib-unaligned; do
		real "$k" model.joblib
		passes "prj-$k"
	done
	mlctl package prj-joblib-arrays -o a.mlpkg -q >/dev/null
	passes a.mlpkg
}

@test "joblib: os.system after an array, or inside an object array, is MLV101" {
	real joblib-evil model.joblib
	fails prj-joblib-evil MLV101 "imports posix.system (STACK_GLOBAL)"
	real joblib-evil-after-array model.joblib
	fails prj-joblib-evil-after-array MLV101 "imports posix.system (STACK_GLOBAL)"
	real joblib-evil-in-object-array model.joblib
	fails prj-joblib-evil-in-object-array MLV101 "imports posix.system (GLOBAL)"
}

@test "joblib: array bytes a plain pickle.load would run are scanned as code; padded ones cannot run" {
	real joblib-unaligned-payload model.pkl
	fails prj-joblib-unaligned-payload MLV101 \
		"imports posix.system (GLOBAL) in bytes that joblib reads as array data but a plain pickle.load runs as code"
	# the same bytes behind joblib's padding byte (0x01-0x10, never an opcode) cannot run
	real joblib-aligned-payload model.pkl
	passes prj-joblib-aligned-payload
}

@test "joblib: padding joblib never writes is MLV109" {
	real joblib-bad-padding model.joblib
	fails prj-joblib-bad-padding MLV109 "pads a joblib array at byte"
	real joblib-bad-padlen model.joblib
	fails prj-joblib-bad-padlen MLV109 "pads a joblib array with"
}

@test "joblib compress=N (zlib, gzip, bz2, xz, lzma) is inflated and scanned" {
	for c in zlib gzip bz2 xz lzma; do
		real "joblib-arrays-$c" model.joblib
		passes "prj-joblib-arrays-$c"
		real "joblib-evil-$c" model.joblib
		fails "prj-joblib-evil-$c" MLV101 "imports posix.system"
	done
	real joblib-evil-after-array-lzma model.joblib
	fails prj-joblib-evil-after-array-lzma MLV101 "imports posix.system"
	mlctl package prj-joblib-evil-xz -o xz.mlpkg -q >/dev/null
	fails xz.mlpkg MLV101 "imports posix.system"
}

@test "a damaged or unreadable compressed pickle is MLV108, never a pass" {
	real joblib-arrays-zlib model.joblib
	head -c 100 prj-joblib-arrays-zlib/model.joblib > cut.joblib
	mv cut.joblib prj-joblib-arrays-zlib/model.joblib
	run -1 --separate-stderr mlctl validate prj-joblib-arrays-zlib
	[[ "$output" == *"MLV108  its zlib compression is damaged at byte"* ]] || { echo "$output"; false; }
	real joblib-arrays-xz model.joblib
	head -c 60 prj-joblib-arrays-xz/model.joblib > cut.joblib
	mv cut.joblib prj-joblib-arrays-xz/model.joblib
	run -1 --separate-stderr mlctl validate prj-joblib-arrays-xz
	[[ "$output" == *"MLV108  "* ]] || { echo "$output"; false; }
	# joblib before 0.10 wrote "ZF" files, which mlctl refuses rather than skips
	mkdir zf && printf 'ZF0x%016x' 64 > zf/model.pkl && head -c 64 /dev/zero >> zf/model.pkl
	project zf model.pkl
	run -1 --separate-stderr mlctl validate zf
	[[ "$output" == *"MLV108  is a compressed pickle in the format of joblib before 0.10"* ]]
}

@test "pickle protocol 5: a scikit-learn pipeline with in-band and out-of-band buffers passes; os.system does not" {
	real sklearn-p5 model.pkl
	passes prj-sklearn-p5
	real sklearn-p5-oob model.pkl
	passes prj-sklearn-p5-oob
	real sklearn-p5-evil model.pkl
	fails prj-sklearn-p5-evil MLV101 "imports posix.system (STACK_GLOBAL)"
}

@test "HDF5 written by h5py passes" {
	real h5 model.h5
	passes prj-h5
}

@test "what a loader reads whatever the name says is scanned: npz members, zips, compressed and protocol 0/1 pickles" {
	# numpy.load unpickles any member that starts with npy's magic
	for member in a a.bin A.NPY; do
		rm -rf prj-npz-evil-renamed
		mkdir prj-npz-evil-renamed
		MEMBER=$member /usr/bin/python3 "$REAL" npz-evil-renamed prj-npz-evil-renamed/model.npz
		project prj-npz-evil-renamed model.npz
		fails prj-npz-evil-renamed MLV101 "imports posix.system"
		[[ "$output" == *"model.npz:$member"* ]]
	done
	# the same archive under a name that says nothing: read as numpy.load and torch.load would
	mv prj-npz-evil-renamed/model.npz prj-npz-evil-renamed/weights.bin
	project prj-npz-evil-renamed weights.bin
	fails prj-npz-evil-renamed MLV101 "imports posix.system"
	# pickles of protocol 0 and 1 (no PROTO opcode to see) and compressed joblib files
	for p in 0 1; do
		real "pickle-p$p-evil" model.bin
		fails "prj-pickle-p$p-evil" MLV101 "imports posix.system (GLOBAL)"
		real "pickle-p$p-clean" weights.dat
		passes "prj-pickle-p$p-clean"
	done
	real joblib-evil-zlib model.bin
	fails prj-joblib-evil-zlib MLV101 "imports posix.system"
	real joblib-evil-gzip model.joblib.gz
	fails prj-joblib-evil-gzip MLV101 "imports posix.system"
	real joblib-evil-xz model.joblib.xz
	fails prj-joblib-evil-xz MLV101 "imports posix.system"
	real joblib-arrays-zlib model.bin
	passes prj-joblib-arrays-zlib
	# a pickle that runs os.system and only then breaks: the import is what counts
	real pickle-p0-evil-then-broken model.bin
	run -1 --separate-stderr mlctl validate prj-pickle-p0-evil-then-broken
	[[ "$output" == *"MLV101  imports posix.system (GLOBAL)"* ]] || { echo "$output"; false; }
	# data and text that are not pickles stay quiet
	mkdir plain
	printf 'a,b\n1,2\n' | gzip -n > plain/train.csv.gz
	printf 'class Net:\n    pass\n' > plain/net.py
	printf 'copyright\nnotice\n' > plain/NOTICE
	cat > plain/mlctl.json <<'JSON'
{"schema": "mlctl/v1", "name": "m", "version": "1.0.0", "license": "MIT",
 "artifacts": [{"path": "train.csv.gz", "role": "data"}, {"path": "net.py", "role": "code"},
               {"path": "NOTICE", "role": "docs"}]}
JSON
	passes plain
}
