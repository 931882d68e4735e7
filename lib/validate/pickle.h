/*
 * pickle.h - what the pickle scanner's files share (pickle.c, pickle_globals.c,
 * pickle_stack.c, joblib.c); included only there.
 */
#ifndef MLCTL_VALIDATE_PICKLE_H
#define MLCTL_VALIDATE_PICKLE_H

#include <stdlib.h>

#include "validate/check.h"

#define STACK_MAX 100000
#define MEMO_MAX (1u << 20)
#define STR_MAX 512 /* longer strings are never module or attribute names */
#define MEMO_NAME_MAX 128      /* memoized strings kept (as possible names) up to this length */
#define MEMO_KEPT_MAX 65536    /* memo values kept (names, dtypes, joblib classes); later
				  ones are unknown: a global built from them is reported as
				  hidden (MLV103), a joblib array as MLV109, never missed */
#define LINE_MAX 4096

#define NO_INT INT64_MIN

#define MEMO_PAGE 4096u /* keys per page of the table: a page is made at its first store */

/*
 * V_UNSET: an empty memo slot. Kinds past V_MARK carry what joblib arrays
 * need; from V_DTYPE on they are objects the memo keeps (see memo_worthy).
 */
enum vkind {
	V_UNSET = 0, V_OTHER, V_STR, V_MARK, V_NONE, V_INT, V_TUPLE, V_DICT, V_DTYPE,
	V_CLS_WRAPPER, V_CLS_DTYPE, V_CLS_RECON, V_WRAPPER,
};

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
static inline const char *pk_vstr(const struct value *v)
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

/* pickle.c */
int pk_scan_stream(struct scan *sc);

/* pickle_globals.c */
enum vkind pk_global_kind(const char *module, const char *name);
void pk_report_global(struct scan *sc, const char *module, const char *name,
		      const char *how);

/* pickle_stack.c */
void pk_value_copy(struct value *dst, const struct value *src);
void pk_call_result(struct value *res, const struct value *fn, const struct value *args);
int pk_malformed(struct scan *sc, const char *why);
int pk_find_mark(struct scan *sc, size_t *at);
int pk_pop_mark(struct scan *sc);
int pk_make_tuple(struct scan *sc, int k);
int pk_set_items(struct scan *sc, int with_mark, int new);
struct memo_ent *pk_memo_slot(struct scan *sc, uint64_t idx, int create);
int pk_memo_put(struct scan *sc, uint64_t idx);
int pk_memo_get(struct scan *sc, uint64_t idx);
void pk_reset(struct scan *sc);
void pk_scan_release(struct scan *sc);

/* joblib.c */
int pk_do_build(struct scan *sc);

/* The stack's hot path, inline: every opcode pushes or pops. */
void pk_value_set(struct value *v, enum vkind kind, const char *s, size_t len);
int pk_grow(struct scan *sc);

static inline void pk_value_free(struct value *v)
{
	if (v->heap) {
		free(v->heap);
		v->heap = NULL;
	}
	v->kind = V_UNSET;
}

/* A new top of the stack, V_OTHER until the caller says more; NULL when full. */
static inline struct value *pk_push_slot(struct scan *sc)
{
	struct value *v;

	if (sc->n == sc->alloc && pk_grow(sc) < 0)
		return NULL;
	v = &sc->stack[sc->n++];
	v->kind = V_OTHER;
	v->heap = NULL;
	v->mkey = 0;
	return v;
}

static inline int pk_push(struct scan *sc, enum vkind kind, const char *s, size_t len)
{
	struct value *v = pk_push_slot(sc);

	if (!v)
		return -1;
	if (kind == V_STR)
		pk_value_set(v, kind, s, len);
	else
		v->kind = (unsigned char)kind;
	return 0;
}

static inline int pk_push_value(struct scan *sc, const struct value *src)
{
	struct value *v = pk_push_slot(sc);

	if (!v)
		return -1;
	*v = *src; /* src owns no heap string: kinds past V_MARK never do */
	return 0;
}

static inline int pk_push_int(struct scan *sc, int64_t i)
{
	struct value *v = pk_push_slot(sc);

	if (!v)
		return -1;
	v->kind = V_INT;
	v->u.i = i;
	return 0;
}

/* Pop down to (and including) index base. */
static inline void pk_pop_to(struct scan *sc, size_t base)
{
	while (sc->n > base)
		pk_value_free(&sc->stack[--sc->n]);
}

static inline int pk_pop(struct scan *sc, size_t k)
{
	if (sc->n < k) {
		if (!sc->shadow)
			return pk_malformed(sc, "stack underflow");
		k = sc->n; /* a shadow pass does not know the stack it continues */
	}
	pk_pop_to(sc, sc->n - k);
	return 0;
}

#endif
