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
 *
 * This file reads opcodes and runs them; pickle_stack.c holds the stack and
 * memo, pickle_globals.c the deny and allow lists, joblib.c joblib's arrays.
 */
#define _GNU_SOURCE
#include "validate/pickle.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

static int rd(struct scan *sc, void *buf, size_t n)
{
	if (mlctl_vin_exact(sc->in, buf, n) < 0)
		return pk_malformed(sc, "truncated");
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
			return pk_malformed(sc, "truncated");
		if (c == '\n')
			break;
		if (n + 1 >= cap)
			return pk_malformed(sc, "argument line too long");
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
		return pk_malformed(sc, "negative length");
	if (len > sc->in->size)
		return pk_malformed(sc, "length past the end of the file");
	if (len <= STR_MAX) {
		if (rd(sc, small, (size_t)len))
			return -1;
		return pk_push(sc, is_text ? V_STR : V_OTHER, small, (size_t)len);
	}
	if (mlctl_vin_skip(sc->in, len) < 0)
		return pk_malformed(sc, "truncated");
	return pk_push(sc, V_OTHER, NULL, 0);
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
		return pk_push(sc, n == 0 ? V_INT : V_OTHER, NULL, 0);
	for (i = 0; i < n; i++)
		v |= (int64_t)((uint64_t)b[i] << (8 * i));
	if (b[n - 1] & 0x80)
		v = -1; /* negative: no shape or size is */
	return pk_push_int(sc, v);
}

/* Protocol 0 quoted string argument ('abc' or "abc") to a plain value. */
static int push_quoted(struct scan *sc, const char *line, size_t n)
{
	if (n >= 2 && (line[0] == '\'' || line[0] == '"') && line[n - 1] == line[0])
		return pk_push(sc, V_STR, line + 1, n - 2);
	return pk_malformed(sc, "STRING argument is not quoted");
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
		return pk_push(sc, V_OTHER, NULL, 0); /* "00"/"01": protocol 0's False/True */
	return pk_push_int(sc, v);
}

static int do_global(struct scan *sc, const char *how, int inst)
{
	char module[LINE_MAX], name[LINE_MAX];
	size_t n1, n2;

	if (rd_line(sc, module, sizeof(module), &n1) || rd_line(sc, name, sizeof(name), &n2))
		return -1;
	pk_report_global(sc, module, name, how);
	if (inst) {
		sc->calls++;
		if (pk_pop_mark(sc))
			return -1;
		return pk_push(sc, pk_global_kind(module, name) == V_CLS_WRAPPER ? V_WRAPPER : V_OTHER,
			       NULL, 0);
	}
	return pk_push(sc, pk_global_kind(module, name), NULL, 0);
}

static int do_stack_global(struct scan *sc)
{
	struct value *mod, *name;
	enum vkind kind = V_OTHER;

	if (sc->n < 2) {
		if (sc->shadow)
			return pk_pop(sc, 2) || pk_push(sc, V_OTHER, NULL, 0);
		return pk_malformed(sc, "STACK_GLOBAL with fewer than two values");
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
		pk_report_global(sc, pk_vstr(mod), pk_vstr(name), "STACK_GLOBAL");
		kind = pk_global_kind(pk_vstr(mod), pk_vstr(name));
	}
	pk_pop_to(sc, sc->n - 2);
	return pk_push(sc, kind, NULL, 0);
}

/* REDUCE, NEWOBJ (args 2) and NEWOBJ_EX (3): the callable is args values down. */
static int do_call(struct scan *sc, size_t args)
{
	struct value res;

	sc->calls++;
	if (sc->n < args) {
		if (!sc->shadow)
			return pk_malformed(sc, "stack underflow");
		pk_pop_to(sc, 0);
		return pk_push(sc, V_OTHER, NULL, 0);
	}
	pk_call_result(&res, &sc->stack[sc->n - args], &sc->stack[sc->n - args + 1]);
	pk_pop_to(sc, sc->n - args);
	return pk_push_value(sc, &res);
}

/* OBJ: MARK cls args... */
static int do_obj(struct scan *sc)
{
	size_t m;
	int wrapper;

	sc->calls++;
	if (pk_find_mark(sc, &m))
		return -1;
	wrapper = m + 1 < sc->n && sc->stack[m + 1].kind == V_CLS_WRAPPER;
	pk_pop_to(sc, m);
	return pk_push(sc, wrapper ? V_WRAPPER : V_OTHER, NULL, 0);
}

/* ---------------------------------------------------------------- opcodes */

/* One opcode; 1 at STOP, 0 to go on, -1 on a malformed stream. */
static int step(struct scan *sc, int op)
{
	char line[LINE_MAX];
	size_t n;
	uint64_t v;

	switch (op) {
	case '(': return pk_push(sc, V_MARK, NULL, 0);                  /* MARK */
	case '.': return 1;                                           /* STOP */
	case '0': return pk_pop(sc, 1);                                  /* POP */
	case '1': return pk_pop_mark(sc);                                /* POP_MARK */
	case '2': {                                                   /* DUP */
		struct value *top;

		if (sc->n == 0) {
			if (sc->shadow)
				return pk_push(sc, V_OTHER, NULL, 0);
			return pk_malformed(sc, "DUP on an empty stack");
		}
		if (!pk_push_slot(sc))
			return -1;
		/* copy after the push: the stack may have moved */
		top = &sc->stack[sc->n - 1];
		pk_value_copy(top, &sc->stack[sc->n - 2]);
		return 0;
	}
	case 'F':                                                     /* FLOAT */
		if (rd_line(sc, line, sizeof(line), &n))
			return -1;
		return pk_push(sc, V_OTHER, NULL, 0);
	case 'I': case 'L':                                           /* INT, LONG */
		if (rd_line(sc, line, sizeof(line), &n))
			return -1;
		return push_text_int(sc, line);
	case 'J':                                                     /* BININT */
		if (rd_uint(sc, 4, &v))
			return -1;
		return pk_push_int(sc, (int32_t)(uint32_t)v);
	case 'K': if (rd_uint(sc, 1, &v)) return -1; return pk_push_int(sc, (int64_t)v);
	case 'M': if (rd_uint(sc, 2, &v)) return -1; return pk_push_int(sc, (int64_t)v);
	case 'G': if (rd(sc, line, 8)) return -1; return pk_push(sc, V_OTHER, NULL, 0);
	case 'N': return pk_push(sc, V_NONE, NULL, 0);                  /* NONE */
	case 0x88: case 0x89:                                         /* TRUE, FALSE */
	case ']': case 0x8f:                                          /* empty list, set */
		return pk_push(sc, V_OTHER, NULL, 0);
	case ')': return pk_make_tuple(sc, 0);                           /* EMPTY_TUPLE */
	case '}': return pk_push(sc, V_DICT, NULL, 0) || (memset(&sc->stack[sc->n - 1].u.d, 0,
							       sizeof(struct dst)), 0);
	case 'P':                                                     /* PERSID */
		if (rd_line(sc, line, sizeof(line), &n))
			return -1;
		return pk_push(sc, V_OTHER, NULL, 0);
	case 'Q':                                                     /* BINPERSID */
		if (pk_pop(sc, 1))
			return -1;
		return pk_push(sc, V_OTHER, NULL, 0);
	case 'R': case 0x81: return do_call(sc, 2);                  /* REDUCE, NEWOBJ */
	case 0x92: return do_call(sc, 3);                             /* NEWOBJ_EX */
	case 'S':                                                     /* STRING */
		if (rd_line(sc, line, sizeof(line), &n))
			return -1;
		return push_quoted(sc, line, n);
	case 'V':                                                     /* UNICODE (raw-unicode-escaped) */
		if (rd_line(sc, line, sizeof(line), &n))
			return -1;
		return pk_push(sc, strchr(line, '\\') ? V_OTHER : V_STR, line, n);
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
	case 'a': return pk_pop(sc, 1);                                  /* APPEND */
	case 'b': return pk_do_build(sc);                                /* BUILD */
	case 's': return pk_set_items(sc, 0, 0);                         /* SETITEM */
	case 'u': return pk_set_items(sc, 1, 0);                         /* SETITEMS */
	case 'd': return pk_set_items(sc, 1, 1);                         /* DICT */
	case 'e': case 0x90:                                          /* APPENDS, ADDITEMS */
		return pk_pop_mark(sc);
	case 'l': case 0x91:                                          /* LIST, FROZENSET */
		if (pk_pop_mark(sc))
			return -1;
		return pk_push(sc, V_OTHER, NULL, 0);
	case 't': return pk_make_tuple(sc, -1);                          /* TUPLE */
	case 'o': return do_obj(sc);                                  /* OBJ */
	case 0x85: case 0x86: case 0x87:                              /* TUPLE1..3 */
		return pk_make_tuple(sc, op - 0x84);
	case 'c': return do_global(sc, "GLOBAL", 0);
	case 'i': return do_global(sc, "INST", 1);
	case 0x93: return do_stack_global(sc);
	case 'g':                                                     /* GET */
		if (rd_line(sc, line, sizeof(line), &n))
			return -1;
		return pk_memo_get(sc, strtoull(line, NULL, 10));
	case 'h': if (rd_uint(sc, 1, &v)) return -1; return pk_memo_get(sc, v);   /* BINGET */
	case 'j': if (rd_uint(sc, 4, &v)) return -1; return pk_memo_get(sc, v);   /* LONG_BINGET */
	case 'p':                                                     /* PUT */
		if (rd_line(sc, line, sizeof(line), &n))
			return -1;
		return pk_memo_put(sc, strtoull(line, NULL, 10));
	case 'q': if (rd_uint(sc, 1, &v)) return -1; return pk_memo_put(sc, v);   /* BINPUT */
	case 'r': if (rd_uint(sc, 4, &v)) return -1; return pk_memo_put(sc, v);   /* LONG_BINPUT */
	case 0x94: return pk_memo_put(sc, sc->memo_count);               /* MEMOIZE */
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
		return pk_push(sc, V_OTHER, NULL, 0);
	}
	case 0x97: return pk_push(sc, V_OTHER, NULL, 0);                 /* NEXT_BUFFER */
	case 0x98:                                                    /* READONLY_BUFFER */
		if (sc->n == 0 && !sc->shadow)
			return pk_malformed(sc, "READONLY_BUFFER on an empty stack");
		return 0;
	default: {
		char why[48];

		snprintf(why, sizeof(why), "unknown opcode 0x%02x", op);
		return pk_malformed(sc, why);
	}
	}
}

/*
 * Opcodes to the end of the stream (or, for a single pickle, to its STOP):
 * 0, or -1 when the stream is pk_malformed or the scan cannot go on.
 */
int pk_scan_stream(struct scan *sc)
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
				return pk_malformed(sc, sc->pickles == 0 && ops == 0 ? "empty"
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
			pk_reset(sc);
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
	pk_scan_stream(&sc);
	pk_scan_release(&sc);
}
