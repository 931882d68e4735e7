/*
 * pickle_globals.c - the globals a pickle may import: modules and callables
 * denied (they run code), allowed (model libraries' own classes), and the
 * judgement of one import.
 */
#define _GNU_SOURCE
#include "validate/pickle.h"

#include <ctype.h>
#include <string.h>

#include "banned.h"

/* Whole modules (and their submodules) that no model needs and attackers use. */
static const char *const deny_modules[] = {
	"os", "posix", "nt", "subprocess", "sys", "runpy", "socket", "shutil", "webbrowser",
	"ctypes", "pty", "pdb", "bdb", "pickle", "_pickle", "cPickle", "dill", "marshal",
	"commands", "popen2", "multiprocessing", "importlib", "imp", "code", "codeop",
	"platform", "signal", "asyncio", "http", "httplib", "urllib", "urllib2", "urllib3",
	"requests", "aiohttp", "ftplib", "telnetlib", "smtplib", "poplib", "imaplib", "nntplib",
	"xmlrpc", "tempfile", "glob", "pathlib", "io", "_io", "fileinput", "zipimport",
	"pkgutil", "site", "sysconfig", "venv", "ensurepip", "pip", "setuptools", "distutils",
	"threading", "_thread", "thread", "types", "inspect", "gc", "builtins.eval",
	"torch.hub", "torch.jit", "torch._C", "torch.serialization", "numpy.testing",
	"numpy.f2py", "numpy.distutils", "IPython", "jinja2", "yaml", "sqlite3", "pydoc",
	"timeit", "trace", "profile", "cProfile", "shelve", "dbm", "tarfile", "zipfile",
};

/* builtins: only plain data constructors are fine; anything else is denied. */
static const char *const safe_builtins[] = {
	"set", "frozenset", "list", "dict", "tuple", "bytearray", "bytes", "int", "float",
	"complex", "bool", "str", "slice", "range", "object", "NoneType", "Ellipsis",
};

/* Single callables that run code, reach attributes or call things. */
static const char *const deny_globals[] = {
	"operator.attrgetter", "operator.methodcaller", "operator.itemgetter",
	"_operator.attrgetter", "_operator.methodcaller", "_operator.itemgetter",
	"functools.partial", "functools.reduce", "_functools.reduce",
	"copyreg._reconstructor_unsafe", "torch.load", "torch.storage._load_from_bytes",
	"numpy.load", "numpy.core.multiarray.runstring",
	"numpy.testing._private.utils.runstring", "joblib.load", "pandas.read_pickle",
	"pandas.io.pickle.read_pickle", "scipy.io.loadmat", "keras.models.load_model",
	"tensorflow.io.read_file", "tensorflow.io.write_file", "code.InteractiveInterpreter",
};

/* Known-safe globals: exact names, then whole module prefixes. */
static const char *const allow_globals[] = {
	"collections.OrderedDict", "collections.defaultdict", "collections.Counter",
	"collections.deque", "copy_reg._reconstructor", "copyreg._reconstructor",
	"copyreg.__newobj__", "copyreg.__newobj_ex__", "_codecs.encode", "datetime.datetime",
	"datetime.date", "datetime.time", "datetime.timedelta", "datetime.timezone",
	"decimal.Decimal", "fractions.Fraction", "uuid.UUID", "re._compile",
	"torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2",
	"torch._utils._rebuild_tensor_v3", "torch._utils._rebuild_parameter",
	"torch._utils._rebuild_parameter_with_state", "torch._utils._rebuild_qtensor",
	"torch._utils._rebuild_sparse_tensor", "torch._utils._rebuild_device_tensor_from_numpy",
	"torch._utils._rebuild_meta_tensor_no_storage", "torch._utils._rebuild_wrapper_subclass",
	"torch._tensor._rebuild_from_type_v2", "torch.Size", "torch.device", "torch.dtype",
	"torch.float16", "torch.float32", "torch.float64", "torch.bfloat16", "torch.int8",
	"torch.int16", "torch.int32", "torch.int64", "torch.uint8", "torch.bool",
	"torch.complex64", "torch.complex128", "torch.Tensor", "torch.nn.parameter.Parameter",
	"torch.BFloat16Storage", "torch.BoolStorage", "torch.ByteStorage", "torch.CharStorage",
	"torch.DoubleStorage", "torch.FloatStorage", "torch.HalfStorage", "torch.IntStorage",
	"torch.LongStorage", "torch.ShortStorage", "torch.ComplexFloatStorage",
	"torch.ComplexDoubleStorage", "torch.QUInt8Storage", "torch.QInt8Storage",
	"torch.QInt32Storage", "torch.storage.UntypedStorage", "torch.storage.TypedStorage",
	"torch.serialization._get_layout", "torch.per_tensor_affine", "torch.strided",
	"numpy.core.multiarray._reconstruct", "numpy.core.multiarray.scalar",
	"numpy._core.multiarray._reconstruct", "numpy._core.multiarray.scalar",
	"numpy.ndarray", "numpy.dtype", "numpy.ma.core._mareconstruct",
	"numpy.core.numeric._frombuffer", "numpy._core.numeric._frombuffer",
	"numpy.random._pickle.__randomstate_ctor", "numpy.random._pickle.__bit_generator_ctor",
	"numpy.random._pickle.__generator_ctor", "numpy.random.mtrand.RandomState",
	"numpy.random._mt19937.MT19937", "numpy.random._pcg64.PCG64",
	"joblib.numpy_pickle.NumpyArrayWrapper", "joblib.numpy_pickle.NDArrayWrapper",
	"sklearn.", "scipy.sparse.", "scipy.stats._", "xgboost.", "lightgbm.", "catboost.",
	"numpy.float64", "numpy.float32", "numpy.int64", "numpy.int32", "numpy.bool_",
	"pandas.core.frame.DataFrame", "pandas.core.series.Series", "pandas.core.indexes.",
	"pandas.core.internals.", "pandas._libs.", "pandas.core.arrays.",
};

static int module_match(const char *global, const char *mod)
{
	size_t n = strlen(mod);

	return !strncmp(global, mod, n) && (global[n] == '.' || global[n] == '\0');
}

/* -1 denied, 1 allowed, 0 unknown. global is "module.name". */
static int judge(const char *module, const char *name, const char *global)
{
	size_t i;

	if (!strcmp(module, "builtins") || !strcmp(module, "__builtin__") ||
	    !strcmp(module, "__builtins__")) {
		return mlctl_str_in(name, safe_builtins, MLCTL_ARRAY_SIZE(safe_builtins)) ? 1 : -1;
	}
	for (i = 0; i < MLCTL_ARRAY_SIZE(deny_modules); i++)
		if (module_match(global, deny_modules[i]))
			return -1;
	for (i = 0; i < MLCTL_ARRAY_SIZE(deny_globals); i++)
		if (!strcmp(global, deny_globals[i]))
			return -1;
	for (i = 0; i < MLCTL_ARRAY_SIZE(allow_globals); i++) {
		size_t n = strlen(allow_globals[i]);

		if (allow_globals[i][n - 1] == '.' ? !strncmp(global, allow_globals[i], n)
						    : !strcmp(global, allow_globals[i]))
			return 1;
	}
	return 0;
}

/* Printable, bounded rendering of a name for a message. */
static void printable(char *out, size_t cap, const char *s)
{
	size_t i = 0;

	for (; *s && i + 5 < cap; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c < 0x7f) {
			out[i++] = (char)c;
		} else {
			snprintf(out + i, cap - i, "\\x%02x", c);
			i += 4;
		}
	}
	out[i] = '\0';
}

/* A name a shadow pass reports: what Python could import, not random bytes. */
static int identifier_like(const char *s)
{
	if (!isalpha((unsigned char)*s) && *s != '_')
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.')
			return 0;
	return 1;
}

/* What a global pushes: one of the classes joblib arrays are built from, or V_OTHER. */
enum vkind pk_global_kind(const char *module, const char *name)
{
	if (!strcmp(module, "joblib.numpy_pickle") && !strcmp(name, "NumpyArrayWrapper"))
		return V_CLS_WRAPPER;
	if (!strcmp(module, "numpy") && !strcmp(name, "dtype"))
		return V_CLS_DTYPE;
	if ((!strcmp(module, "copyreg") || !strcmp(module, "copy_reg")) &&
	    !strcmp(name, "_reconstructor"))
		return V_CLS_RECON;
	return V_OTHER;
}

void pk_report_global(struct scan *sc, const char *module, const char *name,
		      const char *how)
{
	char global[2 * STR_MAX + 2], shown[300];
	int verdict;

	snprintf(global, sizeof(global), "%s.%s", module, name);
	sc->globals++;
	verdict = judge(module, name, global);
	printable(shown, sizeof(shown), global);
	if (sc->shadow) {
		/* array bytes read as opcodes: only a real import is worth a word */
		if (verdict > 0 || !identifier_like(module) || !identifier_like(name))
			return;
		mlctl_report_add(sc->in->rep, verdict < 0 ? MLV101 : MLV102,
				 verdict < 0 ? MLCTL_SEV_ERROR : MLCTL_SEV_WARNING, sc->in->path,
				 "imports %s (%s) in bytes that joblib reads as array data but a "
				 "plain pickle.load runs as code; do not load it: re-export the "
				 "model with safetensors or ONNX",
				 shown, how);
		return;
	}
	if (verdict < 0)
		mlctl_report_add(sc->in->rep, MLV101, MLCTL_SEV_ERROR, sc->in->path,
				 "imports %s (%s), which can run code when the file is loaded; do "
				 "not load it: re-export the model with safetensors or ONNX",
				 shown, how);
	else if (verdict == 0)
		mlctl_report_add(sc->in->rep, MLV102, MLCTL_SEV_WARNING, sc->in->path,
				 "imports %s, which is not on the list of known-safe globals; check "
				 "that it is yours and harmless",
				 shown);
}
