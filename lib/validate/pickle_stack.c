/*
 * pickle_stack.c - the simulated unpickler stack: values (strings, small
 * integers, tuples, dicts, dtypes, joblib classes), the memo in pages, marks
 * and frames, and the calls that build objects.
 */
#define _GNU_SOURCE
#include "validate/pickle.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

void pk_value_set(struct value *v, enum vkind kind, const char *s, size_t len)
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
void pk_value_copy(struct value *dst, const struct value *src)
{
	if (src->kind == V_STR) {
		pk_value_set(dst, V_STR, pk_vstr(src), src->len);
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
		memcpy(t->s0, pk_vstr(&el[0]), (size_t)el[0].len + 1);
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
	key = pk_vstr(k);
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
		if (v->kind != V_STR || (strcmp(pk_vstr(v), "C") && strcmp(pk_vstr(v), "F")))
			d->bad = 1;
	}
}

/* What calling fn(args) gives: a dtype or a wrapper when they are built, else V_OTHER. */
void pk_call_result(struct value *res, const struct value *fn, const struct value *args)
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

int pk_malformed(struct scan *sc, const char *why)
{
	if (sc->shadow)
		return -1; /* array bytes that are not opcodes: what they should be */
	mlctl_report_add(sc->in->rep, MLV100, MLCTL_SEV_ERROR, sc->in->path,
			 "pickle stream is malformed at byte %llu (%s); the file is damaged or "
			 "crafted",
			 (unsigned long long)sc->in->pos, why);
	return -1;
}

int pk_grow(struct scan *sc)
{
	if (sc->n >= STACK_MAX)
		return pk_malformed(sc, "stack deeper than 100000");
	sc->alloc = sc->alloc ? 2 * sc->alloc : 64;
	if (sc->alloc > STACK_MAX)
		sc->alloc = STACK_MAX;
	sc->stack = mlctl_realloc(sc->stack, sc->alloc * sizeof(*sc->stack));
	return 0;
}

/* Index of the topmost mark (0 for a shadow pass that has none). */
int pk_find_mark(struct scan *sc, size_t *at)
{
	size_t i = sc->n;

	while (i-- > 0)
		if (sc->stack[i].kind == V_MARK) {
			*at = i;
			return 0;
		}
	if (!sc->shadow)
		return pk_malformed(sc, "no mark on the stack");
	*at = 0;
	return 0;
}

int pk_pop_mark(struct scan *sc)
{
	size_t m;

	if (pk_find_mark(sc, &m))
		return -1;
	pk_pop_to(sc, m);
	return 0;
}

/* TUPLE, TUPLE1..3, EMPTY_TUPLE: the last k values (or those above the mark) become one. */
int pk_make_tuple(struct scan *sc, int k)
{
	struct value *v;
	struct tup t;
	size_t base, first;

	if (k < 0) {
		if (pk_find_mark(sc, &base))
			return -1;
		first = base + (base < sc->n && sc->stack[base].kind == V_MARK);
	} else {
		if (sc->n < (size_t)k && !sc->shadow)
			return pk_malformed(sc, "stack underflow");
		base = first = sc->n < (size_t)k ? 0 : sc->n - (size_t)k;
	}
	tuple_of(&t, sc->n > first ? sc->stack + first : NULL, sc->n - first);
	pk_pop_to(sc, base);
	if (!(v = pk_push_slot(sc)))
		return -1;
	v->kind = V_TUPLE;
	v->u.t = t;
	return 0;
}

/* SETITEM (with_mark 0), SETITEMS, DICT (new 1): pairs go into the dict below them. */
int pk_set_items(struct scan *sc, int with_mark, int new)
{
	struct value d;
	struct dst *into = NULL;
	size_t base, first, i;

	if (with_mark) {
		if (pk_find_mark(sc, &base))
			return -1;
		first = base + (base < sc->n && sc->stack[base].kind == V_MARK);
	} else {
		if (sc->n < 3 && !sc->shadow)
			return pk_malformed(sc, "SETITEM with fewer than three values");
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
	pk_pop_to(sc, base);
	return new ? pk_push_value(sc, &d) : 0;
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
struct memo_ent *pk_memo_slot(struct scan *sc, uint64_t idx, int create)
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

int pk_memo_put(struct scan *sc, uint64_t idx)
{
	struct value *top;
	struct memo_ent *e;

	if (sc->n == 0) {
		if (sc->shadow)
			return 0;
		return pk_malformed(sc, "memo store with an empty stack");
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
		e = pk_memo_slot(sc, idx, 0);
	}
	if (memo_worthy(top) && (e || sc->memo_kept < MEMO_KEPT_MAX)) {
		if (!e)
			e = pk_memo_slot(sc, idx, 1);
		else
			pk_value_free(&e->v);
		top->mkey = (unsigned int)idx + 1;
		pk_value_copy(&e->v, top);
	} else if (e) {
		/* no longer of note: forget its value */
		pk_value_free(&e->v);
		e->v.kind = V_OTHER;
	}
	return 0;
}

int pk_memo_get(struct scan *sc, uint64_t idx)
{
	const struct memo_ent *e = NULL;
	struct value *v;

	if (idx >= MEMO_MAX)
		return pk_push(sc, V_OTHER, NULL, 0);
	if (memo_stored(sc, idx))
		e = pk_memo_slot(sc, idx, 0);
	else if (sc->shadow && sc->outer && memo_stored(sc->outer, idx))
		e = pk_memo_slot(sc->outer, idx, 0); /* the memo of the stream it continues */
	else if (!sc->shadow)
		return pk_malformed(sc, "memo fetch of a key never stored");
	if (!e || e->v.kind == V_OTHER || e->v.kind == V_UNSET)
		return pk_push(sc, V_OTHER, NULL, 0);
	if (!(v = pk_push_slot(sc)))
		return -1;
	pk_value_copy(v, &e->v);
	v->mkey = (unsigned int)idx + 1;
	return 0;
}

void pk_reset(struct scan *sc)
{
	size_t i;

	pk_pop_to(sc, 0);
	for (i = 0; i < sc->memo_kept; i++)
		pk_value_free(&sc->memo[i].v);
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

void pk_scan_release(struct scan *sc)
{
	size_t i;

	pk_reset(sc);
	free(sc->stack);
	free(sc->memo);
	for (i = 0; i < MEMO_MAX / MEMO_PAGE; i++)
		free(sc->memo_pages[i]);
}
