/*
 * npy.c - check a NumPy .npy header: magic, version, a header dict with
 * descr, fortran_order and shape, and a data size that matches the file.
 * An object dtype means the data is a pickle: it is scanned as one.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "validate/check.h"
#include "banned.h"

#define HEADER_CAP (1024 * 1024)

static const char *value_of(const char *hdr, const char *key)
{
	const char *p = strstr(hdr, key);

	if (!p)
		return NULL;
	p += strlen(key);
	while (*p == ' ')
		p++;
	if (*p != ':')
		return NULL;
	p++;
	while (*p == ' ')
		p++;
	return p;
}

/* Bytes per item of a simple descr such as '<f4', '|b1', '<U10', '<c16'; 0 if unknown. */
static uint64_t itemsize(const char *d, size_t n)
{
	uint64_t v = 0;
	size_t i = 2;

	if (n < 3 || !strchr("<>|=", d[0]))
		return 0;
	if (!isdigit((unsigned char)d[2]))
		return 0;
	while (i < n && isdigit((unsigned char)d[i])) {
		if (v > 1000000)
			return 0;
		v = v * 10 + (uint64_t)(d[i++] - '0');
	}
	if (d[1] == 'U')
		v *= 4;
	return v;
}

void mlctl_vcheck_npy(struct mlctl_vin *in)
{
	unsigned char pre[10];
	char *hdr = NULL;
	const char *descr, *shape, *p;
	uint64_t hlen, total, nelem = 1, isz;
	int object;

	mlctl_report_ran(in->rep, MLV140, in->path);
	if (mlctl_vin_exact(in, pre, 8) < 0 || memcmp(pre, "\x93NUMPY", 6)) {
		mlctl_report_add(in->rep, MLV140, MLCTL_SEV_ERROR, in->path,
				 "not a NumPy .npy file (no \\x93NUMPY magic)");
		return;
	}
	if (pre[6] == 1) {
		if (mlctl_vin_exact(in, pre + 8, 2) < 0)
			goto truncated;
		hlen = (uint64_t)pre[8] | (uint64_t)pre[9] << 8;
		total = 10 + hlen;
	} else if (pre[6] == 2 || pre[6] == 3) {
		if (mlctl_vin_exact(in, pre + 8, 2) < 0 || mlctl_vin_exact(in, pre, 2) < 0)
			goto truncated;
		hlen = (uint64_t)pre[8] | (uint64_t)pre[9] << 8 | (uint64_t)pre[0] << 16 |
		       (uint64_t)pre[1] << 24;
		total = 12 + hlen;
	} else {
		mlctl_report_add(in->rep, MLV140, MLCTL_SEV_ERROR, in->path,
				 "unknown .npy format version %d.%d", pre[6], pre[7]);
		return;
	}
	if (hlen > HEADER_CAP || total > in->size) {
		mlctl_report_add(in->rep, MLV140, MLCTL_SEV_ERROR, in->path,
				 "header length %llu is too large for the file",
				 (unsigned long long)hlen);
		return;
	}
	hdr = mlctl_malloc((size_t)hlen + 1);
	if (mlctl_vin_exact(in, hdr, (size_t)hlen) < 0)
		goto truncated;
	hdr[hlen] = '\0';
	if (strlen(hdr) != hlen || hdr[0] != '{') {
		mlctl_report_add(in->rep, MLV140, MLCTL_SEV_ERROR, in->path,
				 "header is not a dictionary literal");
		goto done;
	}
	descr = value_of(hdr, "'descr'");
	shape = value_of(hdr, "'shape'");
	if (!descr || !shape || !value_of(hdr, "'fortran_order'") || *shape != '(') {
		mlctl_report_add(in->rep, MLV140, MLCTL_SEV_ERROR, in->path,
				 "header lacks descr, fortran_order or shape");
		goto done;
	}
	/* an object anywhere in the dtype (also inside a structured one) */
	object = !strncmp(descr, "'|O'", 4) || !strncmp(descr, "'O'", 3) ||
		 (descr[0] == '[' && strstr(descr, "'|O'"));
	if (object) {
		mlctl_report_add(in->rep, MLV141, MLCTL_SEV_INFO, in->path,
				 "holds an object array, which NumPy stores as a pickle: scanned "
				 "as one (load it with allow_pickle=False to refuse it)");
		/* the rest of this stream is one pickle, which numpy reads with pickle.load */
		int single = in->single, plain = in->plain;

		in->single = in->plain = 1;
		in->depth++;
		mlctl_vcheck_pickle(in);
		in->depth--;
		in->single = single;
		in->plain = plain;
		goto done;
	}
	for (p = shape + 1; *p && *p != ')';) {
		uint64_t dim = 0;

		while (*p == ' ' || *p == ',')
			p++;
		if (*p == ')')
			break;
		if (!isdigit((unsigned char)*p)) {
			mlctl_report_add(in->rep, MLV140, MLCTL_SEV_ERROR, in->path,
					 "shape is not a tuple of sizes");
			goto done;
		}
		while (isdigit((unsigned char)*p)) {
			if (dim > (UINT64_MAX - 9) / 10)
				goto overflow;
			dim = dim * 10 + (uint64_t)(*p++ - '0');
		}
		if (__builtin_mul_overflow(nelem, dim, &nelem))
			goto overflow;
	}
	if (descr[0] == '\'' && (isz = itemsize(descr + 1, strcspn(descr + 1, "'"))) > 0) {
		uint64_t bytes;

		if (__builtin_mul_overflow(nelem, isz, &bytes) || bytes + total != in->size)
			mlctl_report_add(in->rep, MLV140, MLCTL_SEV_ERROR, in->path,
					 "header says %llu bytes of data but the file holds %llu",
					 (unsigned long long)(nelem * isz),
					 (unsigned long long)(in->size - total));
	}
	goto done;
overflow:
	mlctl_report_add(in->rep, MLV140, MLCTL_SEV_ERROR, in->path,
			 "shape's size overflows");
	goto done;
truncated:
	mlctl_report_add(in->rep, MLV140, MLCTL_SEV_ERROR, in->path, "file ends inside its header");
done:
	free(hdr);
}
