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
 */
#include <stdlib.h>
#include <string.h>

#include "vin.h"
#include "banned.h"

#define STACK_MAX 100000
#define MEMO_MAX (1u << 20)
#define STR_MAX 512 /* longer strings are never module or attribute names */
#define MEMO_NAME_MAX 128      /* memoized strings kept (as possible names) up to this length */
#define MEMO_STRS_MAX 65536    /* and this many; later ones are unknown: a global built
				  from them is reported as hidden (MLV103), never missed */
#define LINE_MAX 4096

enum vkind { V_UNSET = 0, V_OTHER, V_STR, V_MARK }; /* V_UNSET: an empty memo slot */

struct value {
	enum vkind kind;
	unsigned short len; /* V_STR: bytes in s */
	char small[46];     /* short strings live here: no allocation per opcode */
	char *heap;         /* V_STR: a copy when too long for small, else NULL */
};

/* A string value's text (values move when the stack grows: never point into one). */
static const char *vstr(const struct value *v)
{
	return v->heap ? v->heap : v->small;
}

struct memo_ent {
	uint64_t key_plus_one; /* 0: empty */
	struct value v;
};

struct scan {
	struct mlctl_vin *in;
	struct value *stack;
	size_t n, alloc;
	unsigned char *memo_set; /* bit per key < MEMO_MAX: was it stored */
	struct memo_ent *memo;   /* open-addressing table: keys whose value is a name */
	size_t memo_cap, memo_strs;
	uint64_t memo_count;     /* distinct keys stored: the index MEMOIZE uses next */
	size_t globals, calls;
	int stop;
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

static void report_global(struct scan *sc, const char *module, const char *name,
			  const char *how)
{
	char global[2 * STR_MAX + 2], shown[300];
	int verdict;

	snprintf(global, sizeof(global), "%s.%s", module, name);
	sc->globals++;
	verdict = judge(module, name, global);
	printable(shown, sizeof(shown), global);
	if (verdict < 0)
		mlctl_report_add(sc->in->rep, "MLV101", MLCTL_SEV_ERROR, sc->in->path,
				 "imports %s (%s), which can run code when the file is loaded; do "
				 "not load it: re-export the model with safetensors or ONNX",
				 shown, how);
	else if (verdict == 0)
		mlctl_report_add(sc->in->rep, "MLV102", MLCTL_SEV_WARNING, sc->in->path,
				 "imports %s, which is not on the list of known-safe globals; check "
				 "that it is yours and harmless",
				 shown);
}

/* ---------------------------------------------------------------- stack */

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

	v->kind = kind;
	v->heap = NULL;
	v->len = 0;
	if (kind != V_STR)
		return;
	if (len > STR_MAX) {
		v->kind = V_OTHER; /* too long to be a name */
		return;
	}
	if (len >= sizeof(v->small))
		v->heap = mlctl_malloc(len + 1);
	dst = v->heap ? v->heap : v->small;
	memcpy(dst, s, len);
	dst[len] = '\0';
	v->len = (unsigned short)len;
}

static int malformed(struct scan *sc, const char *why)
{
	mlctl_report_add(sc->in->rep, "MLV100", MLCTL_SEV_ERROR, sc->in->path,
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

static int malformed(struct scan *sc, const char *why);

static inline int push(struct scan *sc, enum vkind kind, const char *s, size_t len)
{
	struct value *v;

	if (sc->n == sc->alloc && grow(sc) < 0)
		return -1;
	v = &sc->stack[sc->n++];
	if (kind != V_STR) {
		v->kind = kind;
		v->heap = NULL;
		return 0;
	}
	value_set(v, kind, s, len);
	return 0;
}

static int pop(struct scan *sc, size_t k)
{
	while (k--) {
		if (sc->n == 0)
			return malformed(sc, "stack underflow");
		value_free(&sc->stack[--sc->n]);
	}
	return 0;
}

static int pop_mark(struct scan *sc)
{
	for (;;) {
		enum vkind k;

		if (sc->n == 0)
			return malformed(sc, "no mark on the stack");
		k = sc->stack[sc->n - 1].kind;
		value_free(&sc->stack[--sc->n]);
		if (k == V_MARK)
			return 0;
	}
}

static struct memo_ent *memo_slot(struct scan *sc, uint64_t idx, int create)
{
	size_t mask, i;

	if (!sc->memo) {
		if (!create)
			return NULL;
		sc->memo_cap = 1024;
		sc->memo = mlctl_calloc(sc->memo_cap, sizeof(*sc->memo));
	}
	if (create && 2 * (sc->memo_strs + 1) > sc->memo_cap) {
		/* grow: rehash every entry into a table twice as large */
		struct memo_ent *old = sc->memo;
		size_t oldcap = sc->memo_cap, k;

		sc->memo_cap *= 2;
		sc->memo = mlctl_calloc(sc->memo_cap, sizeof(*sc->memo));
		for (k = 0; k < oldcap; k++)
			if (old[k].key_plus_one) {
				struct memo_ent *e = memo_slot(sc, old[k].key_plus_one - 1, 1);

				*e = old[k];
			}
		free(old);
	}
	mask = sc->memo_cap - 1;
	for (i = (size_t)((idx * 0x9e3779b97f4a7c15ull) >> 20) & mask;; i = (i + 1) & mask) {
		if (sc->memo[i].key_plus_one == idx + 1)
			return &sc->memo[i];
		if (!sc->memo[i].key_plus_one)
			return create ? &sc->memo[i] : NULL;
	}
}

static int memo_put(struct scan *sc, uint64_t idx)
{
	const struct value *top;
	struct memo_ent *e;

	if (sc->n == 0)
		return malformed(sc, "memo store with an empty stack");
	if (idx >= MEMO_MAX) {
		sc->memo_count++;
		return 0; /* never fetched as a name: a later STACK_GLOBAL is then hidden */
	}
	if (!sc->memo_set)
		sc->memo_set = mlctl_calloc(MEMO_MAX / 8, 1);
	top = &sc->stack[sc->n - 1];
	if (!(sc->memo_set[idx / 8] & (1u << (idx % 8)))) {
		/* a new key: not in the table, so no lookup (most keys hold no string) */
		sc->memo_set[idx / 8] |= (unsigned char)(1u << (idx % 8));
		sc->memo_count++;
		e = NULL;
		if (top->kind != V_STR)
			return 0;
	} else {
		e = memo_slot(sc, idx, 0);
	}
	if (top->kind == V_STR && top->len <= MEMO_NAME_MAX &&
	    (e || sc->memo_strs < MEMO_STRS_MAX)) {
		if (!e) {
			e = memo_slot(sc, idx, 1);
			e->key_plus_one = idx + 1;
			sc->memo_strs++;
		} else {
			value_free(&e->v);
		}
		value_set(&e->v, V_STR, vstr(top), top->len);
	} else if (e) {
		/* no longer a name: forget it (deleting from the table would break probing) */
		value_free(&e->v);
		e->v.kind = V_OTHER;
	}
	return 0;
}

static int memo_get(struct scan *sc, uint64_t idx)
{
	const struct memo_ent *e;

	if (idx >= MEMO_MAX)
		return push(sc, V_OTHER, NULL, 0);
	if (!sc->memo_set || !(sc->memo_set[idx / 8] & (1u << (idx % 8))))
		return malformed(sc, "memo fetch of a key never stored");
	e = memo_slot(sc, idx, 0);
	if (e && e->v.kind == V_STR)
		return push(sc, V_STR, vstr(&e->v), e->v.len);
	return push(sc, V_OTHER, NULL, 0);
}

static void reset(struct scan *sc)
{
	size_t i;

	pop(sc, sc->n);
	for (i = 0; i < sc->memo_cap; i++)
		value_free(&sc->memo[i].v);
	free(sc->memo);
	sc->memo = NULL;
	sc->memo_cap = sc->memo_strs = 0;
	if (sc->memo_set)
		memset(sc->memo_set, 0, MEMO_MAX / 8);
	sc->memo_count = 0;
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

/* Protocol 0 quoted string argument ('abc' or "abc") to a plain value. */
static int push_quoted(struct scan *sc, const char *line, size_t n)
{
	if (n >= 2 && (line[0] == '\'' || line[0] == '"') && line[n - 1] == line[0])
		return push(sc, V_STR, line + 1, n - 2);
	return malformed(sc, "STRING argument is not quoted");
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
	}
	return push(sc, V_OTHER, NULL, 0);
}

static int do_stack_global(struct scan *sc)
{
	struct value *mod, *name;

	if (sc->n < 2)
		return malformed(sc, "STACK_GLOBAL with fewer than two values");
	mod = &sc->stack[sc->n - 2];
	name = &sc->stack[sc->n - 1];
	if (mod->kind != V_STR || name->kind != V_STR) {
		mlctl_report_add(sc->in->rep, "MLV103", MLCTL_SEV_ERROR, sc->in->path,
				 "imports a global whose name is not a plain string (computed or "
				 "hidden at byte %llu); refuse to load it",
				 (unsigned long long)sc->in->pos);
		sc->globals++;
	} else {
		report_global(sc, vstr(mod), vstr(name), "STACK_GLOBAL");
	}
	if (pop(sc, 2))
		return -1;
	return push(sc, V_OTHER, NULL, 0);
}

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
	case '2':                                                     /* DUP */
		if (sc->n == 0)
			return malformed(sc, "DUP on an empty stack");
		{
			/* copy first: push may move the stack */
			struct value c;
			int rc;

			value_set(&c, sc->stack[sc->n - 1].kind, vstr(&sc->stack[sc->n - 1]),
				  sc->stack[sc->n - 1].len);
			rc = push(sc, c.kind, vstr(&c), c.len);

			value_free(&c);
			return rc;
		}
	case 'F': case 'I': case 'L':                                 /* FLOAT, INT, LONG */
		if (rd_line(sc, line, sizeof(line), &n))
			return -1;
		return push(sc, V_OTHER, NULL, 0);
	case 'J': if (rd(sc, line, 4)) return -1; return push(sc, V_OTHER, NULL, 0);
	case 'K': if (rd(sc, line, 1)) return -1; return push(sc, V_OTHER, NULL, 0);
	case 'M': if (rd(sc, line, 2)) return -1; return push(sc, V_OTHER, NULL, 0);
	case 'G': if (rd(sc, line, 8)) return -1; return push(sc, V_OTHER, NULL, 0);
	case 'N': case 0x88: case 0x89:                               /* NONE, TRUE, FALSE */
	case ')': case ']': case '}': case 0x8f:                      /* empty containers */
		return push(sc, V_OTHER, NULL, 0);
	case 'P':                                                     /* PERSID */
		if (rd_line(sc, line, sizeof(line), &n))
			return -1;
		return push(sc, V_OTHER, NULL, 0);
	case 'Q':                                                     /* BINPERSID */
		if (pop(sc, 1))
			return -1;
		return push(sc, V_OTHER, NULL, 0);
	case 'R': case 0x81:                                          /* REDUCE, NEWOBJ */
		sc->calls++;
		if (pop(sc, 2))
			return -1;
		return push(sc, V_OTHER, NULL, 0);
	case 0x92:                                                    /* NEWOBJ_EX */
		sc->calls++;
		if (pop(sc, 3))
			return -1;
		return push(sc, V_OTHER, NULL, 0);
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
	case 0x8a: return rd_counted(sc, 1, 0);                       /* LONG1 */
	case 0x8b: return rd_counted(sc, 4, 0);                       /* LONG4 */
	case 'a': return pop(sc, 1);                                  /* APPEND */
	case 'b': sc->calls++; return pop(sc, 1);                     /* BUILD */
	case 's': return pop(sc, 2);                                  /* SETITEM */
	case 'e': case 'u': case 0x90:                                /* APPENDS, SETITEMS, ADDITEMS */
		return pop_mark(sc);
	case 'd': case 'l': case 't': case 0x91:                      /* DICT, LIST, TUPLE, FROZENSET */
		if (pop_mark(sc))
			return -1;
		return push(sc, V_OTHER, NULL, 0);
	case 'o':                                                     /* OBJ */
		sc->calls++;
		if (pop_mark(sc))
			return -1;
		return push(sc, V_OTHER, NULL, 0);
	case 0x85: case 0x86: case 0x87:                              /* TUPLE1..3 */
		if (pop(sc, (size_t)(op - 0x84)))
			return -1;
		return push(sc, V_OTHER, NULL, 0);
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
	case 0x95: return rd(sc, line, 8);                            /* FRAME */
	case 0x82: case 0x83: case 0x84: {                            /* EXT1, EXT2, EXT4 */
		size_t k = op == 0x82 ? 1 : op == 0x83 ? 2 : 4;

		if (rd_uint(sc, k, &v))
			return -1;
		mlctl_report_add(sc->in->rep, "MLV104", MLCTL_SEV_WARNING, sc->in->path,
				 "imports a global through copyreg extension code %llu, which "
				 "cannot be checked; check where the file comes from",
				 (unsigned long long)v);
		return push(sc, V_OTHER, NULL, 0);
	}
	case 0x97: return push(sc, V_OTHER, NULL, 0);                 /* NEXT_BUFFER */
	case 0x98:                                                    /* READONLY_BUFFER */
		if (sc->n == 0)
			return malformed(sc, "READONLY_BUFFER on an empty stack");
		return 0;
	default: {
		char why[48];

		snprintf(why, sizeof(why), "unknown opcode 0x%02x", op);
		return malformed(sc, why);
	}
	}
}

void mlctl_vcheck_pickle(struct mlctl_vin *in)
{
	struct scan sc;
	int op, rc = 0, pickles = 0, ops = 0;

	memset(&sc, 0, sizeof(sc));
	sc.in = in;
	mlctl_report_ran(in->rep, "MLV100", in->path);
	mlctl_report_ran(in->rep, "MLV101", in->path);
	mlctl_report_ran(in->rep, "MLV102", in->path);
	for (;;) {
		op = mlctl_vin_byte(in);
		if (op < 0) {
			if (ops > 0 || pickles == 0)
				malformed(&sc, pickles == 0 && ops == 0 ? "empty" : "ends before STOP");
			break;
		}
		ops++;
		rc = step(&sc, op);
		if (rc < 0)
			break;
		if (rc == 1) {
			/* several pickles may follow each other (legacy torch.save, joblib) */
			pickles++;
			ops = 0;
			reset(&sc);
			if (in->depth > 0)
				break; /* an embedded pickle (npy object array) ends at its STOP */
		}
	}
	reset(&sc);
	free(sc.stack);
	free(sc.memo);
	free(sc.memo_set);
}
