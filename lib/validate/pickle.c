/*
 * pickle.c - a static scan of Python pickle streams (protocols 0 to 5), as
 * in plain .pkl files, joblib dumps, data.pkl inside PyTorch checkpoints
 * and NumPy object arrays. Nothing is ever executed.
 *
 * The scanner simulates the unpickler's stack with only what matters: which
 * values are strings. That is enough to name every global a pickle imports
 * (GLOBAL and INST carry the names; STACK_GLOBAL takes two strings from the
 * stack, perhaps fetched from the memo) and to count the calls it makes
 * (REDUCE, OBJ, NEWOBJ, NEWOBJ_EX, INST, BUILD). Each global is judged
 * against a deny list (errors), an allow list (fine) and otherwise warned
 * about by name. Memory is bounded: the stack, the memo and strings have
 * caps, and a stream that exceeds one is reported, not followed.
 *
 * Streams that are more than one pickle are followed as their loaders read
 * them:
 * - joblib writes each NumPy array's bytes right after the BUILD of its
 *   NumpyArrayWrapper (after one padding-length byte and 0xff padding when
 *   the wrapper says numpy_array_alignment_bytes), or a whole second pickle
 *   for object arrays. To skip exactly those bytes the scanner also follows
 *   small integers, tuples of them, the wrapper's state dict and numpy
 *   dtypes. Bytes skipped as array data are still read as opcodes in a
 *   "shadow" pass when a plain pickle.load could run them (no padding byte
 *   stops it first), so a payload hidden there is found either way.
 * - PyTorch's legacy format (torch.save with _use_new_zipfile_serialization
 *   False) is five pickles (magic number, protocol, system info, the
 *   object, storage keys) followed by raw tensor data, never unpickled.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "validate/check.h"
#include "banned.h"

#define STACK_MAX 100000
#define MEMO_MAX (1u << 20)
#define STR_MAX 512 /* longer strings are never module or attribute names */
#define MEMO_NAME_MAX 128      /* memoized strings kept (as possible names) up to this length */
#define MEMO_KEPT_MAX 65536    /* memo values kept (names, dtypes, joblib classes); later
				  ones are unknown: a global built from them is reported as
				  hidden (MLV103), a joblib array as MLV109, never missed */
#define LINE_MAX 4096

/*
 * V_UNSET: an empty memo slot. Kinds past V_MARK carry what joblib arrays
 * need; from V_DTYPE on they are objects the memo keeps (see memo_worthy).
 */
enum vkind {
	V_UNSET = 0, V_OTHER, V_STR, V_MARK, V_NONE, V_INT, V_TUPLE, V_DICT, V_DTYPE,
	V_CLS_WRAPPER, V_CLS_DTYPE, V_CLS_RECON, V_WRAPPER,
};

#define NO_INT INT64_MIN

struct tup {            /* V_TUPLE */
	uint64_t prod;  /* product of the elements when all are ints >= 0 (else UINT64_MAX) */
	int64_t e5, e7; /* elements 5 and 7 (a dtype's state: itemsize, flags), or NO_INT */
	unsigned char k0;
	char s0[16];    /* element 0 when it is a short string (a dtype's name) */
};

struct dst {            /* V_DICT: a NumpyArrayWrapper's state, as far as it was read */
	uint64_t count, itemsize;
	int64_t align;
	unsigned char shape, dtype, hasobj, bad;
};

struct value {
	unsigned char kind;
	unsigned short len;      /* V_STR: bytes in s */
	unsigned int mkey;       /* 1 + the memo key this object was stored under, or 0 */
	union {
		char small[46];  /* V_STR: short strings live here, no allocation per opcode */
		int64_t i;       /* V_INT */
		struct tup t;
		struct dst d;
		struct {         /* V_DTYPE */
			uint64_t itemsize;
			unsigned char hasobj;
		} dt;
	} u;
	char *heap;              /* V_STR: a copy when too long for small, else NULL */
};

/* A string value's text (values move when the stack grows: never point into one). */
static const char *vstr(const struct value *v)
{
	return v->heap ? v->heap : v->u.small;
}

struct memo_ent {
	struct value v;
};

/*
 * Per memo key < MEMO_MAX: stored in this pickle when gen is the scan's
 * generation (a STOP starts a new one in O(1)); ent is its kept value's
 * place in the dense array plus one, or 0. Indexed directly: no key the
 * file chooses can make a lookup slow.
 */
struct memo_key {
	uint32_t gen;
	uint32_t ent;
};

#define MEMO_PAGE 4096u /* keys per page of the table: a page is made at its first store */

struct scan {
	struct mlctl_vin *in;
	struct value *stack;
	size_t n, alloc;
	struct memo_key *memo_pages[MEMO_MAX / MEMO_PAGE]; /* the keys, a page at a time */
	uint32_t gen;               /* the current pickle's generation (from 1) */
	struct memo_ent *memo;      /* kept values (names, dtypes, classes), dense */
	size_t memo_alloc, memo_kept;
	uint64_t memo_count;     /* distinct keys stored: the index MEMOIZE uses next */
	size_t globals, calls;
	int joblib;              /* a wrapper's BUILD is followed by its array (joblib.load) */
	int shadow;              /* reading array bytes as a plain pickle.load would: quiet */
	struct scan *outer;      /* shadow: the scan whose memo it may fetch from */
	uint64_t frame_end;      /* where the current protocol-4 frame ends */
	int pickles, torch_magic;
};

/* ---------------------------------------------------------------- lists */

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
static enum vkind global_kind(const char *module, const char *name)
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

static void report_global(struct scan *sc, const char *module, const char *name,
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

/* ---------------------------------------------------------------- values */

static inline void value_free(struct value *v)
{
	if (v->heap) {
		free(v->heap);
		v->heap = NULL;
	}
	v->kind = V_UNSET;
}

static void value_set(struct value *v, enum vkind kind, const char *s, size_t len)
{
	char *dst;

	v->kind = (unsigned char)kind;
	v->heap = NULL;
	v->len = 0;
	v->mkey = 0;
	if (kind != V_STR)
		return;
	if (len > STR_MAX) {
		v->kind = V_OTHER; /* too long to be a name */
		return;
	}
	if (len >= sizeof(v->u.small))
		v->heap = mlctl_malloc(len + 1);
	dst = v->heap ? v->heap : v->u.small;
	memcpy(dst, s, len);
	dst[len] = '\0';
	v->len = (unsigned short)len;
}

/* dst becomes a copy of src (a string is duplicated). */
static void value_copy(struct value *dst, const struct value *src)
{
	if (src->kind == V_STR) {
		value_set(dst, V_STR, vstr(src), src->len);
		dst->mkey = src->mkey;
		return;
	}
	*dst = *src;
	dst->heap = NULL;
}

/* A tuple of the k values el[]: what joblib shapes and numpy dtypes need of it. */
static void tuple_of(struct tup *t, const struct value *el, size_t k)
{
	size_t i;

	t->prod = 1;
	t->e5 = t->e7 = NO_INT;
	t->k0 = k ? el[0].kind : V_UNSET;
	t->s0[0] = '\0';
	if (k && el[0].kind == V_STR && el[0].len < sizeof(t->s0))
		memcpy(t->s0, vstr(&el[0]), (size_t)el[0].len + 1);
	for (i = 0; i < k; i++) {
		if (el[i].kind != V_INT) {
			t->prod = UINT64_MAX;
			if (i >= 7)
				break; /* nothing further can matter */
			continue;
		}
		if (i == 5)
			t->e5 = el[i].u.i;
		else if (i == 7)
			t->e7 = el[i].u.i;
		if (el[i].u.i < 0 ||
		    (t->prod != UINT64_MAX &&
		     __builtin_mul_overflow(t->prod, (uint64_t)el[i].u.i, &t->prod)))
			t->prod = UINT64_MAX;
	}
}

/* A numpy dtype from the name its pickle gives ('f8', 'U3', 'V16', 'O8'). */
static void dtype_named(struct value *v, const char *s)
{
	uint64_t n = 0;
	char letter = *s;

	v->kind = V_DTYPE;
	v->heap = NULL;
	v->mkey = 0;
	v->u.dt.itemsize = 0;
	v->u.dt.hasobj = 0;
	if (!letter)
		return;
	for (s++; isdigit((unsigned char)*s); s++) {
		if (n > (1u << 30))
			return;
		n = n * 10 + (uint64_t)(*s - '0');
	}
	if (*s)
		return; /* not a name numpy writes: size unknown */
	if (letter == 'O') {
		v->u.dt.hasobj = 1;
		v->u.dt.itemsize = 8;
	} else {
		v->u.dt.itemsize = letter == 'U' ? 4 * n : n;
	}
}

/* One key/value of a NumpyArrayWrapper's state. */
static void dict_item(struct dst *d, const struct value *k, const struct value *v)
{
	const char *key;

	if (k->kind != V_STR || (k->len != 5 && k->len != 27))
		return; /* none of shape, dtype, order, numpy_array_alignment_bytes */
	key = vstr(k);
	if (!strcmp(key, "shape")) {
		d->shape = 1;
		d->count = v->u.t.prod;
		if (v->kind != V_TUPLE || v->u.t.prod == UINT64_MAX)
			d->bad = 1;
	} else if (!strcmp(key, "dtype")) {
		d->dtype = 1;
		if (v->kind != V_DTYPE || (!v->u.dt.itemsize && !v->u.dt.hasobj))
			d->bad = 1;
		else
			d->itemsize = v->u.dt.itemsize, d->hasobj = v->u.dt.hasobj;
	} else if (!strcmp(key, "numpy_array_alignment_bytes")) {
		if (v->kind == V_INT)
			d->align = v->u.i;
		else if (v->kind == V_NONE)
			d->align = 0;
		else
			d->bad = 1;
	} else if (!strcmp(key, "order")) {
		if (v->kind != V_STR || (strcmp(vstr(v), "C") && strcmp(vstr(v), "F")))
			d->bad = 1;
	}
}

/* What calling fn(args) gives: a dtype or a wrapper when they are built, else V_OTHER. */
static void call_result(struct value *res, const struct value *fn, const struct value *args)
{
	res->kind = V_OTHER;
	res->heap = NULL;
	res->mkey = 0;
	if (fn->kind == V_CLS_WRAPPER)
		res->kind = V_WRAPPER;
	else if (fn->kind == V_CLS_RECON && args->kind == V_TUPLE && args->u.t.k0 == V_CLS_WRAPPER)
		res->kind = V_WRAPPER;
	else if (fn->kind == V_CLS_DTYPE && args->kind == V_TUPLE && args->u.t.k0 == V_STR &&
		 args->u.t.s0[0])
		dtype_named(res, args->u.t.s0);
}

/* ---------------------------------------------------------------- stack */

static int malformed(struct scan *sc, const char *why)
{
	if (sc->shadow)
		return -1; /* array bytes that are not opcodes: what they should be */
	mlctl_report_add(sc->in->rep, MLV100, MLCTL_SEV_ERROR, sc->in->path,
			 "pickle stream is malformed at byte %llu (%s); the file is damaged or "
			 "crafted",
			 (unsigned long long)sc->in->pos, why);
	return -1;
}

static int grow(struct scan *sc)
{
	if (sc->n >= STACK_MAX)
		return malformed(sc, "stack deeper than 100000");
	sc->alloc = sc->alloc ? 2 * sc->alloc : 64;
	if (sc->alloc > STACK_MAX)
		sc->alloc = STACK_MAX;
	sc->stack = mlctl_realloc(sc->stack, sc->alloc * sizeof(*sc->stack));
	return 0;
}

/* A new top of the stack, V_OTHER until the caller says more; NULL when full. */
static inline struct value *push_slot(struct scan *sc)
{
	struct value *v;

	if (sc->n == sc->alloc && grow(sc) < 0)
		return NULL;
	v = &sc->stack[sc->n++];
	v->kind = V_OTHER;
	v->heap = NULL;
	v->mkey = 0;
	return v;
}

static inline int push(struct scan *sc, enum vkind kind, const char *s, size_t len)
{
	struct value *v = push_slot(sc);

	if (!v)
		return -1;
	if (kind == V_STR)
		value_set(v, kind, s, len);
	else
		v->kind = (unsigned char)kind;
	return 0;
}

static int push_value(struct scan *sc, const struct value *src)
{
	struct value *v = push_slot(sc);

	if (!v)
		return -1;
	*v = *src; /* src owns no heap string: kinds past V_MARK never do */
	return 0;
}

static int push_int(struct scan *sc, int64_t i)
{
	struct value *v = push_slot(sc);

	if (!v)
		return -1;
	v->kind = V_INT;
	v->u.i = i;
	return 0;
}

/* Pop down to (and including) index base. */
static void pop_to(struct scan *sc, size_t base)
{
	while (sc->n > base)
		value_free(&sc->stack[--sc->n]);
}

static int pop(struct scan *sc, size_t k)
{
	if (sc->n < k) {
		if (!sc->shadow)
			return malformed(sc, "stack underflow");
		k = sc->n; /* a shadow pass does not know the stack it continues */
	}
	pop_to(sc, sc->n - k);
	return 0;
}

/* Index of the topmost mark (0 for a shadow pass that has none). */
static int find_mark(struct scan *sc, size_t *at)
{
	size_t i = sc->n;

	while (i-- > 0)
		if (sc->stack[i].kind == V_MARK) {
			*at = i;
			return 0;
		}
	if (!sc->shadow)
		return malformed(sc, "no mark on the stack");
	*at = 0;
	return 0;
}

static int pop_mark(struct scan *sc)
{
	size_t m;

	if (find_mark(sc, &m))
		return -1;
	pop_to(sc, m);
	return 0;
}

/* TUPLE, TUPLE1..3, EMPTY_TUPLE: the last k values (or those above the mark) become one. */
static int make_tuple(struct scan *sc, int k)
{
	struct value *v;
	struct tup t;
	size_t base, first;

	if (k < 0) {
		if (find_mark(sc, &base))
			return -1;
		first = base + (base < sc->n && sc->stack[base].kind == V_MARK);
	} else {
		if (sc->n < (size_t)k && !sc->shadow)
			return malformed(sc, "stack underflow");
		base = first = sc->n < (size_t)k ? 0 : sc->n - (size_t)k;
	}
	tuple_of(&t, sc->n > first ? sc->stack + first : NULL, sc->n - first);
	pop_to(sc, base);
	if (!(v = push_slot(sc)))
		return -1;
	v->kind = V_TUPLE;
	v->u.t = t;
	return 0;
}

/* SETITEM (with_mark 0), SETITEMS, DICT (new 1): pairs go into the dict below them. */
static int set_items(struct scan *sc, int with_mark, int new)
{
	struct value d;
	struct dst *into = NULL;
	size_t base, first, i;

	if (with_mark) {
		if (find_mark(sc, &base))
			return -1;
		first = base + (base < sc->n && sc->stack[base].kind == V_MARK);
	} else {
		if (sc->n < 3 && !sc->shadow)
			return malformed(sc, "SETITEM with fewer than three values");
		base = first = sc->n < 2 ? 0 : sc->n - 2;
	}
	memset(&d, 0, sizeof(d));
	d.kind = V_DICT;
	if (new)
		into = &d.u.d;
	else if (base > 0 && sc->stack[base - 1].kind == V_DICT)
		into = &sc->stack[base - 1].u.d;
	for (i = first; into && i + 1 < sc->n; i += 2)
		dict_item(into, &sc->stack[i], &sc->stack[i + 1]);
	pop_to(sc, base);
	return new ? push_value(sc, &d) : 0;
}

static struct memo_key *memo_key_of(const struct scan *sc, uint64_t idx)
{
	struct memo_key *page = idx < MEMO_MAX ? sc->memo_pages[idx / MEMO_PAGE] : NULL;

	return page ? &page[idx % MEMO_PAGE] : NULL;
}

static int memo_stored(const struct scan *sc, uint64_t idx)
{
	const struct memo_key *k = memo_key_of(sc, idx);

	return k && k->gen == sc->gen;
}

/* The kept value of a stored key; with create, a new one when it has none. */
static struct memo_ent *memo_slot(struct scan *sc, uint64_t idx, int create)
{
	struct memo_key *k;

	if (!memo_stored(sc, idx))
		return NULL;
	k = memo_key_of(sc, idx);
	if (k->ent)
		return &sc->memo[k->ent - 1];
	if (!create)
		return NULL;
	if (sc->memo_kept == sc->memo_alloc) {
		sc->memo_alloc = sc->memo_alloc ? 2 * sc->memo_alloc : 64;
		sc->memo = mlctl_realloc(sc->memo, sc->memo_alloc * sizeof(*sc->memo));
	}
	memset(&sc->memo[sc->memo_kept], 0, sizeof(*sc->memo));
	k->ent = (uint32_t)++sc->memo_kept;
	return &sc->memo[k->ent - 1];
}

/*
 * Worth keeping in the memo: names, and the objects joblib arrays are built
 * from that a pickle fetches again (a dtype shared by several arrays, the
 * wrapper class). Ints, tuples and dicts are never fetched again by joblib.
 */
static int memo_worthy(const struct value *v)
{
	return v->kind == V_STR ? v->len <= MEMO_NAME_MAX : v->kind >= V_DTYPE;
}

static int memo_put(struct scan *sc, uint64_t idx)
{
	struct value *top;
	struct memo_ent *e;

	if (sc->n == 0) {
		if (sc->shadow)
			return 0;
		return malformed(sc, "memo store with an empty stack");
	}
	if (idx >= MEMO_MAX) {
		sc->memo_count++;
		return 0; /* never fetched as a name: a later STACK_GLOBAL is then hidden */
	}
	if (!sc->gen)
		sc->gen = 1;
	if (!sc->memo_pages[idx / MEMO_PAGE])
		sc->memo_pages[idx / MEMO_PAGE] = mlctl_calloc(MEMO_PAGE, sizeof(struct memo_key));
	top = &sc->stack[sc->n - 1];
	if (!memo_stored(sc, idx)) {
		/* a new key (most hold nothing of note) */
		*memo_key_of(sc, idx) = (struct memo_key){ sc->gen, 0 };
		sc->memo_count++;
		e = NULL;
		if (!memo_worthy(top))
			return 0;
	} else {
		e = memo_slot(sc, idx, 0);
	}
	if (memo_worthy(top) && (e || sc->memo_kept < MEMO_KEPT_MAX)) {
		if (!e)
			e = memo_slot(sc, idx, 1);
		else
			value_free(&e->v);
		top->mkey = (unsigned int)idx + 1;
		value_copy(&e->v, top);
	} else if (e) {
		/* no longer of note: forget its value */
		value_free(&e->v);
		e->v.kind = V_OTHER;
	}
	return 0;
}

static int memo_get(struct scan *sc, uint64_t idx)
{
	const struct memo_ent *e = NULL;
	struct value *v;

	if (idx >= MEMO_MAX)
		return push(sc, V_OTHER, NULL, 0);
	if (memo_stored(sc, idx))
		e = memo_slot(sc, idx, 0);
	else if (sc->shadow && sc->outer && memo_stored(sc->outer, idx))
		e = memo_slot(sc->outer, idx, 0); /* the memo of the stream it continues */
	else if (!sc->shadow)
		return malformed(sc, "memo fetch of a key never stored");
	if (!e || e->v.kind == V_OTHER || e->v.kind == V_UNSET)
		return push(sc, V_OTHER, NULL, 0);
	if (!(v = push_slot(sc)))
		return -1;
	value_copy(v, &e->v);
	v->mkey = (unsigned int)idx + 1;
	return 0;
}

static void reset(struct scan *sc)
{
	size_t i;

	pop_to(sc, 0);
	for (i = 0; i < sc->memo_kept; i++)
		value_free(&sc->memo[i].v);
	sc->memo_kept = 0;
	/* every key unstored at once; only a wrap of the counter clears the table */
	if (sc->gen && ++sc->gen == 0) {
		for (i = 0; i < MEMO_MAX / MEMO_PAGE; i++)
			if (sc->memo_pages[i])
				memset(sc->memo_pages[i], 0, MEMO_PAGE * sizeof(struct memo_key));
		sc->gen = 1;
	}
	sc->memo_count = 0;
}

static void scan_release(struct scan *sc)
{
	size_t i;

	reset(sc);
	free(sc->stack);
	free(sc->memo);
	for (i = 0; i < MEMO_MAX / MEMO_PAGE; i++)
		free(sc->memo_pages[i]);
}

/* ---------------------------------------------------------------- reading */

static int rd(struct scan *sc, void *buf, size_t n)
{
	if (mlctl_vin_exact(sc->in, buf, n) < 0)
		return malformed(sc, "truncated");
	return 0;
}

/* A newline-terminated argument, without the newline; bounded. */
static int rd_line(struct scan *sc, char *line, size_t cap, size_t *len)
{
	size_t n = 0;
	int c;

	for (;;) {
		c = mlctl_vin_byte(sc->in);
		if (c < 0)
			return malformed(sc, "truncated");
		if (c == '\n')
			break;
		if (n + 1 >= cap)
			return malformed(sc, "argument line too long");
		line[n++] = (char)c;
	}
	line[n] = '\0';
	*len = n;
	return 0;
}

static int rd_uint(struct scan *sc, size_t bytes, uint64_t *v)
{
	unsigned char b[8];
	size_t i;

	if (rd(sc, b, bytes))
		return -1;
	*v = 0;
	for (i = 0; i < bytes; i++)
		*v |= (uint64_t)b[i] << (8 * i);
	return 0;
}

/* A length-prefixed string or bytes: pushed as a string when short. */
static int rd_counted(struct scan *sc, size_t lenbytes, int is_text)
{
	uint64_t len;
	char small[STR_MAX];

	if (rd_uint(sc, lenbytes, &len))
		return -1;
	if (lenbytes == 4 && len > 0x7fffffffu && !is_text)
		return malformed(sc, "negative length");
	if (len > sc->in->size)
		return malformed(sc, "length past the end of the file");
	if (len <= STR_MAX) {
		if (rd(sc, small, (size_t)len))
			return -1;
		return push(sc, is_text ? V_STR : V_OTHER, small, (size_t)len);
	}
	if (mlctl_vin_skip(sc->in, len) < 0)
		return malformed(sc, "truncated");
	return push(sc, V_OTHER, NULL, 0);
}

/* torch.save's legacy format starts with this number, pickled as LONG1. */
static const unsigned char torch_magic[10] = { 0x6c, 0xfc, 0x9c, 0x46, 0xf9,
					       0x20, 0x6a, 0xa8, 0x50, 0x19 };

/* LONG1: little-endian two's complement; small ones are ints (shapes may use them). */
static int rd_long1(struct scan *sc)
{
	unsigned char b[255];
	uint64_t n;
	int64_t v = 0;
	size_t i;

	if (rd_uint(sc, 1, &n) || rd(sc, b, (size_t)n))
		return -1;
	if (n == sizeof(torch_magic) && !memcmp(b, torch_magic, n) && sc->pickles == 0 &&
	    sc->n == 0)
		sc->torch_magic = 1;
	if (n == 0 || n > 8 || (n == 8 && (b[7] & 0x80)))
		return push(sc, n == 0 ? V_INT : V_OTHER, NULL, 0);
	for (i = 0; i < n; i++)
		v |= (int64_t)((uint64_t)b[i] << (8 * i));
	if (b[n - 1] & 0x80)
		v = -1; /* negative: no shape or size is */
	return push_int(sc, v);
}

/* Protocol 0 quoted string argument ('abc' or "abc") to a plain value. */
static int push_quoted(struct scan *sc, const char *line, size_t n)
{
	if (n >= 2 && (line[0] == '\'' || line[0] == '"') && line[n - 1] == line[0])
		return push(sc, V_STR, line + 1, n - 2);
	return malformed(sc, "STRING argument is not quoted");
}

/* INT and LONG in text: a number when it is one, else some other value. */
static int push_text_int(struct scan *sc, const char *line)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(line, &end, 10);
	if (end == line || errno || (*end && strcmp(end, "L")) || !strcmp(line, "00") ||
	    !strcmp(line, "01"))
		return push(sc, V_OTHER, NULL, 0); /* "00"/"01": protocol 0's False/True */
	return push_int(sc, v);
}

static int do_global(struct scan *sc, const char *how, int inst)
{
	char module[LINE_MAX], name[LINE_MAX];
	size_t n1, n2;

	if (rd_line(sc, module, sizeof(module), &n1) || rd_line(sc, name, sizeof(name), &n2))
		return -1;
	report_global(sc, module, name, how);
	if (inst) {
		sc->calls++;
		if (pop_mark(sc))
			return -1;
		return push(sc, global_kind(module, name) == V_CLS_WRAPPER ? V_WRAPPER : V_OTHER,
			    NULL, 0);
	}
	return push(sc, global_kind(module, name), NULL, 0);
}

static int do_stack_global(struct scan *sc)
{
	struct value *mod, *name;
	enum vkind kind = V_OTHER;

	if (sc->n < 2) {
		if (sc->shadow)
			return pop(sc, 2) || push(sc, V_OTHER, NULL, 0);
		return malformed(sc, "STACK_GLOBAL with fewer than two values");
	}
	mod = &sc->stack[sc->n - 2];
	name = &sc->stack[sc->n - 1];
	if (mod->kind != V_STR || name->kind != V_STR) {
		if (!sc->shadow)
			mlctl_report_add(sc->in->rep, MLV103, MLCTL_SEV_ERROR, sc->in->path,
					 "imports a global whose name is not a plain string "
					 "(computed or hidden at byte %llu); refuse to load it",
					 (unsigned long long)sc->in->pos);
		sc->globals++;
	} else {
		report_global(sc, vstr(mod), vstr(name), "STACK_GLOBAL");
		kind = global_kind(vstr(mod), vstr(name));
	}
	pop_to(sc, sc->n - 2);
	return push(sc, kind, NULL, 0);
}

/* REDUCE, NEWOBJ (args 2) and NEWOBJ_EX (3): the callable is args values down. */
static int do_call(struct scan *sc, size_t args)
{
	struct value res;

	sc->calls++;
	if (sc->n < args) {
		if (!sc->shadow)
			return malformed(sc, "stack underflow");
		pop_to(sc, 0);
		return push(sc, V_OTHER, NULL, 0);
	}
	call_result(&res, &sc->stack[sc->n - args], &sc->stack[sc->n - args + 1]);
	pop_to(sc, sc->n - args);
	return push_value(sc, &res);
}

/* OBJ: MARK cls args... */
static int do_obj(struct scan *sc)
{
	size_t m;
	int wrapper;

	sc->calls++;
	if (find_mark(sc, &m))
		return -1;
	wrapper = m + 1 < sc->n && sc->stack[m + 1].kind == V_CLS_WRAPPER;
	pop_to(sc, m);
	return push(sc, wrapper ? V_WRAPPER : V_OTHER, NULL, 0);
}

/* ---------------------------------------------------------------- joblib */

static int scan_stream(struct scan *sc);

static int array_finding(struct scan *sc, const char *what, long long a, long long b)
{
	char msg[300];

	snprintf(msg, sizeof(msg), what, a, b);
	mlctl_report_add(sc->in->rep, MLV109, MLCTL_SEV_ERROR, sc->in->path,
			 "%s; joblib never writes that, so the rest of the file is not scanned: "
			 "do not load it",
			 msg);
	return -1;
}

struct window {
	struct mlctl_vin *in;
	uint64_t left;
};

static ssize_t window_read(void *ctx, void *buf, size_t n)
{
	struct window *w = ctx;
	size_t k = n < w->left ? n : (size_t)w->left;

	k = k ? mlctl_vin_read(w->in, buf, k) : 0;
	w->left -= k;
	return (ssize_t)k;
}

/*
 * Array bytes that no padding byte protects: read them as opcodes as a
 * plain pickle.load would (it would go on from here), then skip the rest.
 */
static int shadow_pass(struct scan *sc, uint64_t bytes)
{
	struct window w = { sc->in, bytes };
	struct mlctl_vin sub;
	struct scan sh;

	mlctl_vin_init(&sub, sc->in->path, bytes, window_read, &w, sc->in->rep);
	memset(&sh, 0, sizeof(sh));
	sh.in = &sub;
	sh.shadow = 1;
	sh.outer = sc;
	sh.memo_count = sc->memo_count;
	scan_stream(&sh);
	scan_release(&sh);
	mlctl_vin_release(&sub);
	if (mlctl_vin_skip(sc->in, w.left) < 0)
		return malformed(sc, "truncated inside joblib array data");
	return 0;
}

/* An object array: joblib stores it as a whole pickle, read by plain pickle.load. */
static int nested_pickle(struct scan *sc)
{
	struct scan sub;
	int saved = sc->in->single, rc;

	memset(&sub, 0, sizeof(sub));
	sub.in = sc->in;
	sc->in->single = 1;
	rc = scan_stream(&sub);
	sc->in->single = saved;
	scan_release(&sub);
	return rc;
}

/* The BUILD of a NumpyArrayWrapper: joblib reads the array's bytes from here. */
static int joblib_array(struct scan *sc, const struct dst *d)
{
	struct mlctl_vin *in = sc->in;
	uint64_t at = in->pos, bytes;

	if (d->bad || !d->shape || !d->dtype)
		return array_finding(sc, "has a joblib array at byte %lld whose shape or dtype "
				     "cannot be read, so where its data ends is unknown%.0lld",
				     (long long)at, 0);
	if (sc->frame_end > at)
		return array_finding(sc, "starts joblib array data at byte %lld inside a pickle "
				     "frame (%lld bytes before its end)",
				     (long long)at, (long long)(sc->frame_end - at));
	if (d->hasobj)
		return nested_pickle(sc);
	if (d->align) {
		int64_t want = 16 - (int64_t)((at + 1) % 16), c, k;

		if (d->align != 16)
			return array_finding(sc, "aligns a joblib array at byte %lld to %lld bytes "
					     "(joblib aligns to 16)",
					     (long long)at, (long long)d->align);
		c = mlctl_vin_byte(in);
		if (c < 0)
			return malformed(sc, "truncated inside joblib array padding");
		if (c != want)
			return array_finding(sc, "pads a joblib array with %lld bytes where joblib "
					     "writes %lld",
					     (long long)c, (long long)want);
		for (k = 0; k < c; k++)
			if (mlctl_vin_byte(in) != 0xff)
				return array_finding(sc, "pads a joblib array at byte %lld with "
						     "bytes other than 0xff%.0lld",
						     (long long)at, 0);
	}
	if (__builtin_mul_overflow(d->count, d->itemsize, &bytes) || bytes > in->size - in->pos)
		return malformed(sc, "joblib array data runs past the end of the file");
	if (!d->align)
		return shadow_pass(sc, bytes);
	if (mlctl_vin_skip(in, bytes) < 0)
		return malformed(sc, "truncated inside joblib array data");
	return 0;
}

/* BUILD: [obj, state] -> obj with its state set (and, for a wrapper, its array read). */
static int do_build(struct scan *sc)
{
	struct value *obj, *st;
	struct dst d;
	int wrapper;

	sc->calls++;
	if (sc->n < 2) {
		if (!sc->shadow)
			return malformed(sc, "BUILD with fewer than two values");
		pop_to(sc, 0);
		return 0;
	}
	obj = &sc->stack[sc->n - 2];
	st = &sc->stack[sc->n - 1];
	if (obj->kind == V_DTYPE && st->kind == V_TUPLE) {
		/* a dtype's state: element 5 is its itemsize when flexible, 7 its flags */
		struct memo_ent *e = obj->mkey ? memo_slot(sc, obj->mkey - 1, 0) : NULL;
		int obj_flag = st->u.t.e7 != NO_INT && (st->u.t.e7 & 1);

		if (st->u.t.e5 > 0)
			obj->u.dt.itemsize = (uint64_t)st->u.t.e5;
		obj->u.dt.hasobj |= (unsigned char)obj_flag;
		if (e && e->v.kind == V_DTYPE)
			e->v.u.dt = obj->u.dt; /* the memo holds the same object */
	}
	wrapper = obj->kind == V_WRAPPER && sc->joblib;
	memset(&d, 0, sizeof(d));
	if (st->kind == V_DICT)
		d = st->u.d;
	else
		d.bad = 1;
	pop_to(sc, sc->n - 1);
	if (!wrapper)
		return 0;
	value_free(&sc->stack[sc->n - 1]);
	sc->stack[sc->n - 1].kind = V_OTHER; /* joblib puts the array in its place */
	return joblib_array(sc, &d);
}

/* ---------------------------------------------------------------- opcodes */

/* One opcode; 1 at STOP, 0 to go on, -1 on a malformed stream. */
static int step(struct scan *sc, int op)
{
	char line[LINE_MAX];
	size_t n;
	uint64_t v;

	switch (op) {
	case '(': return push(sc, V_MARK, NULL, 0);                  /* MARK */
	case '.': return 1;                                           /* STOP */
	case '0': return pop(sc, 1);                                  /* POP */
	case '1': return pop_mark(sc);                                /* POP_MARK */
	case '2': {                                                   /* DUP */
		struct value *top;

		if (sc->n == 0) {
			if (sc->shadow)
				return push(sc, V_OTHER, NULL, 0);
			return malformed(sc, "DUP on an empty stack");
		}
		if (!push_slot(sc))
			return -1;
		/* copy after the push: the stack may have moved */
		top = &sc->stack[sc->n - 1];
		value_copy(top, &sc->stack[sc->n - 2]);
		return 0;
	}
	case 'F':                                                     /* FLOAT */
		if (rd_line(sc, line, sizeof(line), &n))
			return -1;
		return push(sc, V_OTHER, NULL, 0);
	case 'I': case 'L':                                           /* INT, LONG */
		if (rd_line(sc, line, sizeof(line), &n))
			return -1;
		return push_text_int(sc, line);
	case 'J':                                                     /* BININT */
		if (rd_uint(sc, 4, &v))
			return -1;
		return push_int(sc, (int32_t)(uint32_t)v);
	case 'K': if (rd_uint(sc, 1, &v)) return -1; return push_int(sc, (int64_t)v);
	case 'M': if (rd_uint(sc, 2, &v)) return -1; return push_int(sc, (int64_t)v);
	case 'G': if (rd(sc, line, 8)) return -1; return push(sc, V_OTHER, NULL, 0);
	case 'N': return push(sc, V_NONE, NULL, 0);                  /* NONE */
	case 0x88: case 0x89:                                         /* TRUE, FALSE */
	case ']': case 0x8f:                                          /* empty list, set */
		return push(sc, V_OTHER, NULL, 0);
	case ')': return make_tuple(sc, 0);                           /* EMPTY_TUPLE */
	case '}': return push(sc, V_DICT, NULL, 0) || (memset(&sc->stack[sc->n - 1].u.d, 0,
							       sizeof(struct dst)), 0);
	case 'P':                                                     /* PERSID */
		if (rd_line(sc, line, sizeof(line), &n))
			return -1;
		return push(sc, V_OTHER, NULL, 0);
	case 'Q':                                                     /* BINPERSID */
		if (pop(sc, 1))
			return -1;
		return push(sc, V_OTHER, NULL, 0);
	case 'R': case 0x81: return do_call(sc, 2);                  /* REDUCE, NEWOBJ */
	case 0x92: return do_call(sc, 3);                             /* NEWOBJ_EX */
	case 'S':                                                     /* STRING */
		if (rd_line(sc, line, sizeof(line), &n))
			return -1;
		return push_quoted(sc, line, n);
	case 'V':                                                     /* UNICODE (raw-unicode-escaped) */
		if (rd_line(sc, line, sizeof(line), &n))
			return -1;
		return push(sc, strchr(line, '\\') ? V_OTHER : V_STR, line, n);
	case 'T': return rd_counted(sc, 4, 0);                        /* BINSTRING */
	case 'U': return rd_counted(sc, 1, 1);                        /* SHORT_BINSTRING */
	case 'X': return rd_counted(sc, 4, 1);                        /* BINUNICODE */
	case 0x8c: return rd_counted(sc, 1, 1);                       /* SHORT_BINUNICODE */
	case 0x8d: return rd_counted(sc, 8, 1);                       /* BINUNICODE8 */
	case 'B': return rd_counted(sc, 4, 0);                        /* BINBYTES */
	case 'C': return rd_counted(sc, 1, 0);                        /* SHORT_BINBYTES */
	case 0x8e: case 0x96: return rd_counted(sc, 8, 0);            /* BINBYTES8, BYTEARRAY8 */
	case 0x8a: return rd_long1(sc);                               /* LONG1 */
	case 0x8b: return rd_counted(sc, 4, 0);                       /* LONG4 */
	case 'a': return pop(sc, 1);                                  /* APPEND */
	case 'b': return do_build(sc);                                /* BUILD */
	case 's': return set_items(sc, 0, 0);                         /* SETITEM */
	case 'u': return set_items(sc, 1, 0);                         /* SETITEMS */
	case 'd': return set_items(sc, 1, 1);                         /* DICT */
	case 'e': case 0x90:                                          /* APPENDS, ADDITEMS */
		return pop_mark(sc);
	case 'l': case 0x91:                                          /* LIST, FROZENSET */
		if (pop_mark(sc))
			return -1;
		return push(sc, V_OTHER, NULL, 0);
	case 't': return make_tuple(sc, -1);                          /* TUPLE */
	case 'o': return do_obj(sc);                                  /* OBJ */
	case 0x85: case 0x86: case 0x87:                              /* TUPLE1..3 */
		return make_tuple(sc, op - 0x84);
	case 'c': return do_global(sc, "GLOBAL", 0);
	case 'i': return do_global(sc, "INST", 1);
	case 0x93: return do_stack_global(sc);
	case 'g':                                                     /* GET */
		if (rd_line(sc, line, sizeof(line), &n))
			return -1;
		return memo_get(sc, strtoull(line, NULL, 10));
	case 'h': if (rd_uint(sc, 1, &v)) return -1; return memo_get(sc, v);   /* BINGET */
	case 'j': if (rd_uint(sc, 4, &v)) return -1; return memo_get(sc, v);   /* LONG_BINGET */
	case 'p':                                                     /* PUT */
		if (rd_line(sc, line, sizeof(line), &n))
			return -1;
		return memo_put(sc, strtoull(line, NULL, 10));
	case 'q': if (rd_uint(sc, 1, &v)) return -1; return memo_put(sc, v);   /* BINPUT */
	case 'r': if (rd_uint(sc, 4, &v)) return -1; return memo_put(sc, v);   /* LONG_BINPUT */
	case 0x94: return memo_put(sc, sc->memo_count);               /* MEMOIZE */
	case 0x80: return rd(sc, line, 1);                            /* PROTO */
	case 0x95:                                                    /* FRAME */
		if (rd_uint(sc, 8, &v))
			return -1;
		sc->frame_end = v > UINT64_MAX - sc->in->pos ? UINT64_MAX : sc->in->pos + v;
		return 0;
	case 0x82: case 0x83: case 0x84: {                            /* EXT1, EXT2, EXT4 */
		size_t k = op == 0x82 ? 1 : op == 0x83 ? 2 : 4;

		if (rd_uint(sc, k, &v))
			return -1;
		if (!sc->shadow)
			mlctl_report_add(sc->in->rep, MLV104, MLCTL_SEV_WARNING, sc->in->path,
					 "imports a global through copyreg extension code %llu, "
					 "which cannot be checked; check where the file comes from",
					 (unsigned long long)v);
		return push(sc, V_OTHER, NULL, 0);
	}
	case 0x97: return push(sc, V_OTHER, NULL, 0);                 /* NEXT_BUFFER */
	case 0x98:                                                    /* READONLY_BUFFER */
		if (sc->n == 0 && !sc->shadow)
			return malformed(sc, "READONLY_BUFFER on an empty stack");
		return 0;
	default: {
		char why[48];

		snprintf(why, sizeof(why), "unknown opcode 0x%02x", op);
		return malformed(sc, why);
	}
	}
}

/*
 * Opcodes to the end of the stream (or, for a single pickle, to its STOP):
 * 0, or -1 when the stream is malformed or the scan cannot go on.
 */
static int scan_stream(struct scan *sc)
{
	struct mlctl_vin *in = sc->in;
	unsigned long ops = 0, total = 0;
	int op, rc;

	for (;;) {
		if ((++total & 0xfffff) == 0 && mlctl_interrupted())
			return -1;
		op = mlctl_vin_byte(in);
		if (op < 0) {
			if (sc->shadow)
				return 0;
			if (ops > 0 || sc->pickles == 0)
				return malformed(sc, sc->pickles == 0 && ops == 0 ? "empty"
										  : "ends before STOP");
			return 0;
		}
		ops++;
		rc = step(sc, op);
		if (rc < 0)
			return -1;
		if (rc == 1) {
			/* several pickles may follow each other (legacy torch.save) */
			sc->pickles++;
			ops = 0;
			reset(sc);
			if (in->single || sc->shadow)
				return 0;
			if (sc->torch_magic && sc->pickles == 5)
				return 0; /* legacy torch.save: raw tensor data follows */
		}
	}
}

void mlctl_vcheck_pickle(struct mlctl_vin *in)
{
	struct scan sc;

	memset(&sc, 0, sizeof(sc));
	sc.in = in;
	sc.joblib = !in->plain;
	mlctl_report_ran(in->rep, MLV100, in->path);
	mlctl_report_ran(in->rep, MLV101, in->path);
	mlctl_report_ran(in->rep, MLV102, in->path);
	if (sc.joblib)
		mlctl_report_ran(in->rep, MLV109, in->path);
	scan_stream(&sc);
	scan_release(&sc);
}
