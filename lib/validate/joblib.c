/*
 * joblib.c - joblib's NumpyArrayWrapper: the array bytes after its
 * BUILD skipped exactly (padding, alignment, object arrays as a second
 * pickle), and read again as a plain pickle.load would.
 */
#define _GNU_SOURCE
#include "validate/pickle.h"

#include <string.h>

#include "banned.h"

int pk_scan_stream(struct scan *sc);

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
	pk_scan_stream(&sh);
	pk_scan_release(&sh);
	mlctl_vin_release(&sub);
	if (mlctl_vin_skip(sc->in, w.left) < 0)
		return pk_malformed(sc, "truncated inside joblib array data");
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
	rc = pk_scan_stream(&sub);
	sc->in->single = saved;
	pk_scan_release(&sub);
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
			return pk_malformed(sc, "truncated inside joblib array padding");
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
		return pk_malformed(sc, "joblib array data runs past the end of the file");
	if (!d->align)
		return shadow_pass(sc, bytes);
	if (mlctl_vin_skip(in, bytes) < 0)
		return pk_malformed(sc, "truncated inside joblib array data");
	return 0;
}

/* BUILD: [obj, state] -> obj with its state set (and, for a wrapper, its array read). */
int pk_do_build(struct scan *sc)
{
	struct value *obj, *st;
	struct dst d;
	int wrapper;

	sc->calls++;
	if (sc->n < 2) {
		if (!sc->shadow)
			return pk_malformed(sc, "BUILD with fewer than two values");
		pk_pop_to(sc, 0);
		return 0;
	}
	obj = &sc->stack[sc->n - 2];
	st = &sc->stack[sc->n - 1];
	if (obj->kind == V_DTYPE && st->kind == V_TUPLE) {
		/* a dtype's state: element 5 is its itemsize when flexible, 7 its flags */
		struct memo_ent *e = obj->mkey ? pk_memo_slot(sc, obj->mkey - 1, 0) : NULL;
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
	pk_pop_to(sc, sc->n - 1);
	if (!wrapper)
		return 0;
	pk_value_free(&sc->stack[sc->n - 1]);
	sc->stack[sc->n - 1].kind = V_OTHER; /* joblib puts the array in its place */
	return joblib_array(sc, &d);
}
