/*
 * util.c - errors, memory, strings, buffers, SHA-256, signals, fault
 * points, UTF-8 text and time. Free of mlctl concepts: the other modules
 * build on it (files and folders are in fs.c).
 */
#define _GNU_SOURCE
/* SHA256_Init and friends are deprecated in OpenSSL 3, and used (see mlctl_sha256_new) */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <pthread.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/opensslv.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wchar.h>

#include "banned.h"

static int err_vset(struct mlctl_err *err, int code, int with_errno, const char *fmt, va_list ap)
{
	int saved = errno;
	size_t n;

	if (!err)
		return code;
	err->code = code;
	err->check = 0;
	err->kind = NULL;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	if (with_errno) {
		n = strlen(err->msg);
		snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", strerror(saved));
	}
	return code;
}

int mlctl_err_set(struct mlctl_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(err, code, 0, fmt, ap);
	va_end(ap);
	return code;
}

int mlctl_err_errno(struct mlctl_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(err, code, 1, fmt, ap);
	va_end(ap);
	return code;
}

void mlctl_err_clear(struct mlctl_err *err)
{
	if (err) {
		err->code = 0;
		err->msg[0] = '\0';
		err->check = 0;
		err->kind = NULL;
	}
}

void *mlctl_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		fputs("mlctl: out of memory\n", stderr);
		abort();
	}
	return p;
}

void *mlctl_calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p) {
		fputs("mlctl: out of memory\n", stderr);
		abort();
	}
	return p;
}

void *mlctl_realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q) {
		fputs("mlctl: out of memory\n", stderr);
		abort();
	}
	return q;
}

char *mlctl_strdup(const char *s)
{
	return mlctl_strndup(s, strlen(s));
}

int mlctl_str_in(const char *s, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(s, list[i]))
			return 1;
	return 0;
}

void mlctl_strv_free(char **v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

char *mlctl_strndup(const char *s, size_t n)
{
	char *p = mlctl_malloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *mlctl_aprintf(const char *fmt, ...)
{
	struct mlctl_buf b = MLCTL_BUF_INIT;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	mlctl_buf_grow(&b, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(b.buf, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b.len = (size_t)n;
	return mlctl_buf_detach(&b);
}

void mlctl_buf_grow(struct mlctl_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;

	if (need <= b->alloc)
		return;
	if (b->alloc == 0)
		b->alloc = 64;
	while (b->alloc < need)
		b->alloc *= 2;
	b->buf = mlctl_realloc(b->buf, b->alloc);
}

void mlctl_buf_add(struct mlctl_buf *b, const void *data, size_t len)
{
	mlctl_buf_grow(b, len);
	if (len)
		memcpy(b->buf + b->len, data, len);
	b->len += len;
	b->buf[b->len] = '\0';
}

void mlctl_buf_puts(struct mlctl_buf *b, const char *s)
{
	mlctl_buf_add(b, s, strlen(s));
}

void mlctl_buf_printf(struct mlctl_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	mlctl_buf_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void mlctl_buf_add_xml(struct mlctl_buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '<': mlctl_buf_puts(b, "&lt;"); break;
		case '>': mlctl_buf_puts(b, "&gt;"); break;
		case '&': mlctl_buf_puts(b, "&amp;"); break;
		case '"': mlctl_buf_puts(b, "&quot;"); break;
		case '\'': mlctl_buf_puts(b, "&apos;"); break;
		default:
			if (c < 0x20 && c != '\t' && c != '\n')
				mlctl_buf_printf(b, "\\x%02x", c);
			else
				mlctl_buf_add(b, s, 1);
		}
	}
}

void mlctl_buf_reset(struct mlctl_buf *b)
{
	b->len = 0;
	if (b->buf)
		b->buf[0] = '\0';
}

void mlctl_buf_release(struct mlctl_buf *b)
{
	free(b->buf);
	b->buf = NULL;
	b->len = b->alloc = 0;
}

char *mlctl_buf_detach(struct mlctl_buf *b)
{
	char *s = b->buf ? b->buf : mlctl_strdup("");

	b->buf = NULL;
	b->len = b->alloc = 0;
	return s;
}

/*
 * SHA-256 through OpenSSL's SHA256_Init/Update/Final, not EVP, where they
 * are there (every OpenSSL 3, which deprecates them): EVP's first use sets
 * up OpenSSL 3's providers and reads openssl.cnf, some 6 M instructions
 * (~2 ms), more than all the rest of a 'mlctl show', which checks a
 * manifest's digest. Both are the same code underneath (the SHA-NI/AVX2
 * block function); a content address needs no provider choice. OpenSSL 4,
 * or a 3 built without the deprecated functions, gets EVP.
 */
#if OPENSSL_VERSION_MAJOR < 4 && !defined(OPENSSL_NO_DEPRECATED_3_0)
#define SHA256_LOW_LEVEL 1
#endif

struct mlctl_sha256 {
#ifdef SHA256_LOW_LEVEL
	SHA256_CTX c;
#else
	EVP_MD_CTX *ctx;
#endif
};

struct mlctl_sha256 *mlctl_sha256_new(void)
{
	struct mlctl_sha256 *h = mlctl_malloc(sizeof(*h));

#ifdef SHA256_LOW_LEVEL
	if (SHA256_Init(&h->c) != 1) {
#else
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
#endif
		fputs("mlctl: cannot set up SHA-256 in libcrypto\n", stderr);
		abort();
	}
	return h;
}

void mlctl_sha256_update(struct mlctl_sha256 *h, const void *data, size_t len)
{
#ifdef SHA256_LOW_LEVEL
	SHA256_Update(&h->c, data, len);
#else
	EVP_DigestUpdate(h->ctx, data, len);
#endif
}

void mlctl_sha256_final_hex(struct mlctl_sha256 *h, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 32, i;

#ifdef SHA256_LOW_LEVEL
	SHA256_Final(md, &h->c);
#else
	EVP_DigestFinal_ex(h->ctx, md, &n);
#endif
	for (i = 0; i < n && i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
}

void mlctl_sha256_free(struct mlctl_sha256 *h)
{
	if (!h)
		return;
#ifndef SHA256_LOW_LEVEL
	EVP_MD_CTX_free(h->ctx);
#endif
	free(h);
}

void mlctl_sha256_hex(char hex[65], const void *data, size_t len)
{
	struct mlctl_sha256 *h = mlctl_sha256_new();

	mlctl_sha256_update(h, data, len);
	mlctl_sha256_final_hex(h, hex);
	mlctl_sha256_free(h);
}

char *mlctl_base64_encode(const void *data, size_t len)
{
	char *out = mlctl_malloc(4 * ((len + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

int mlctl_base64_decode(struct mlctl_buf *out, const char *text)
{
	size_t n = strlen(text), pad = 0;
	int got;

	if (n % 4 || n > INT32_MAX)
		return -1;
	if (n > 0 && text[n - 1] == '=')
		pad++;
	if (n > 1 && text[n - 2] == '=')
		pad++;
	mlctl_buf_grow(out, n / 4 * 3 + 1);
	got = EVP_DecodeBlock((unsigned char *)out->buf + out->len, (const unsigned char *)text,
			      (int)n);
	if (got < 0 || (size_t)got < pad)
		return -1;
	out->len += (size_t)got - pad;
	out->buf[out->len] = '\0';
	return 0;
}

void mlctl_hmac_sha256(unsigned char mac[32], const void *key, size_t keylen, const void *data,
		       size_t len)
{
	unsigned int n = 32;

	if (!HMAC(EVP_sha256(), key, (int)keylen, data, len, mac, &n)) {
		fputs("mlctl: HMAC-SHA256 failed in libcrypto\n", stderr);
		abort();
	}
}

void mlctl_random_uuid(char out[37])
{
	unsigned char b[16];

	if (RAND_bytes(b, sizeof(b)) != 1) {
		fputs("mlctl: no random bytes from libcrypto\n", stderr);
		abort();
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
}

int mlctl_is_sha256_hex(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[64] == '\0';
}

void mlctl_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("mlctl: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static volatile sig_atomic_t caught;

static void on_signal(int sig)
{
	caught = sig;
}

void mlctl_catch_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: a blocked read returns EINTR and the loop looks */
	for (i = 0; i < MLCTL_ARRAY_SIZE(sigs); i++) {
		struct sigaction old;

		/* a signal ignored by whoever started us (nohup, a background job) stays ignored */
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			continue;
		sigaction(sigs[i], &sa, NULL);
	}
}

int mlctl_interrupted(void)
{
	return caught;
}

int mlctl_err_interrupted(struct mlctl_err *err)
{
	return mlctl_err_set(err, MLCTL_EIO, "interrupted by signal %d; nothing was changed",
			     (int)caught);
}

#ifndef MLCTL_NO_FAULTS
void mlctl_fault(const char *point)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static const char *seen[64];
	static unsigned counts[64];
	const char *at = getenv("MLCTL_FAULT"), *trace = getenv("MLCTL_FAULT_TRACE");
	size_t i, len = strlen(point);
	unsigned want = 1;

	if (!at && !trace)
		return;
	if (trace && *trace) {
		int fd = open(trace, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

		if (fd >= 0) {
			/* a trace is best effort: one write, so lines of racing processes stay whole */
			char line[128];
			int n = snprintf(line, sizeof(line), "%s\n", point);

			if (n > 0 && write(fd, line, (size_t)n) != n)
				n = 0;
			close(fd);
		}
	}
	if (!at || strncmp(at, point, len) || (at[len] && at[len] != ':'))
		return;
	if (at[len] == ':')
		want = (unsigned)strtoul(at + len + 1, NULL, 10);
	/* transfer threads (--jobs) pass points too: the n-th time is counted once */
	pthread_mutex_lock(&lock);
	for (i = 0; i < MLCTL_ARRAY_SIZE(seen) && seen[i] && strcmp(seen[i], point); i++)
		;
	if (i < MLCTL_ARRAY_SIZE(seen)) {
		seen[i] = point;
		if (++counts[i] >= want)
			_exit(99);
	}
	pthread_mutex_unlock(&lock);
}
#endif

/* Length of the well-formed UTF-8 sequence at s[0, n) and its code point, or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n, unsigned *cp)
{
	size_t j, k;
	unsigned c = s[0];

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xe0) == 0xc0) {
		k = 1;
		*cp = c & 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		k = 2;
		*cp = c & 0x0f;
	} else if ((c & 0xf8) == 0xf0) {
		k = 3;
		*cp = c & 0x07;
	} else {
		return 0;
	}
	if (k > n - 1)
		return 0;
	for (j = 1; j <= k; j++) {
		if ((s[j] & 0xc0) != 0x80)
			return 0;
		*cp = *cp << 6 | (s[j] & 0x3f);
	}
	if ((k == 1 && *cp < 0x80) || (k == 2 && *cp < 0x800) || (k == 3 && *cp < 0x10000) ||
	    *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return k + 1;
}

size_t mlctl_utf8_check(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, k;
	unsigned cp;

	while (i < n && (k = utf8_seq(s + i, n - i, &cp)))
		i += k;
	return i;
}

char *mlctl_utf8_fixed(char *s)
{
	struct mlctl_buf b = MLCTL_BUF_INIT;
	size_t n = strlen(s), i = 0, k;

	if (mlctl_utf8_valid(s, n))
		return s;
	while (i < n) {
		k = mlctl_utf8_check(s + i, n - i);
		mlctl_buf_add(&b, s + i, k);
		i += k;
		if (i < n) {
			mlctl_buf_puts(&b, "\xef\xbf\xbd");
			i++;
		}
	}
	free(s);
	return mlctl_buf_detach(&b);
}

int mlctl_utf8_valid(const char *str, size_t n)
{
	return mlctl_utf8_check(str, n) == n;
}

/* Controls, and the marks that turn text around on a terminal. */
static int shows_badly(unsigned cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) ||
	       (cp >= 0x200e && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

size_t mlctl_display_width(const char *s)
{
	mbstate_t st;
	size_t cols = 0, n = strlen(s);

	memset(&st, 0, sizeof(st));
	while (n > 0) {
		wchar_t wc;
		size_t k;
		int w;

		if ((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f) {
			cols++; /* printable ASCII, most of what a table holds: one column */
			s++;
			n--;
			continue;
		}
		k = mbrtowc(&wc, s, n, &st);

		if (k == (size_t)-1 || k == (size_t)-2 || k == 0)
			return cols + n; /* not text in this locale: a column a byte */
		w = wcwidth(wc);
		cols += w < 0 ? 1 : (size_t)w;
		s += k;
		n -= k;
	}
	return cols;
}

const char *mlctl_escape(char *out, size_t cap, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strlen(str), i = 0, len = 0, k, plen;
	unsigned cp;
	char piece[16];

	out[0] = '\0';
	while (i < n) {
		k = utf8_seq(s + i, n - i, &cp);
		if (k == 0) {
			snprintf(piece, sizeof(piece), "\\x%02x", s[i]); /* not UTF-8: the byte */
			k = 1;
		} else if (cp == '\\') {
			snprintf(piece, sizeof(piece), "\\\\");
		} else if (shows_badly(cp) && cp < 0x80) {
			snprintf(piece, sizeof(piece), "\\x%02x", cp);
		} else if (shows_badly(cp)) {
			snprintf(piece, sizeof(piece), "\\u%04x", cp);
		} else {
			memcpy(piece, s + i, k);
			piece[k] = '\0';
		}
		i += k;
		plen = strlen(piece);
		if (len + plen + 4 > cap) {
			snprintf(out + len, cap - len, "...");
			break;
		}
		memcpy(out + len, piece, plen + 1);
		len += plen;
	}
	return out;
}

void mlctl_locale_utf8(void)
{
	static const char *const names[] = { "C.UTF-8", "C.utf8", "", "en_US.UTF-8" };
	size_t i;

	for (i = 0; i < MLCTL_ARRAY_SIZE(names); i++)
		if (setlocale(LC_CTYPE, names[i]) && mlctl_locale_is_utf8())
			return;
	setlocale(LC_CTYPE, "C");
}

int mlctl_locale_is_utf8(void)
{
	const char *cs = nl_langinfo(CODESET);

	return cs && (!strcmp(cs, "UTF-8") || !strcmp(cs, "utf8"));
}

void mlctl_time_iso(char out[32], int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* n digits at s as a number, or -1. */
static int digits(const char *s, int n)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int mlctl_time_parse(int64_t *out, const char *s)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	struct tm tm;
	size_t n = strlen(s);
	int y, leap;

	memset(&tm, 0, sizeof(tm));
	/* YYYY-MM-DD, then THH:MM, THH:MM:SS, each with or without a Z; nothing else */
	if (n < 10 || s[4] != '-' || s[7] != '-' || (y = digits(s, 4)) < 1970 ||
	    (tm.tm_mon = digits(s + 5, 2) - 1) < 0 || tm.tm_mon > 11 ||
	    (tm.tm_mday = digits(s + 8, 2)) < 1)
		return -1;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (tm.tm_mday > mdays[tm.tm_mon] + (tm.tm_mon == 1 && leap))
		return -1;
	tm.tm_year = y - 1900;
	s += 10;
	if (*s == 'T') {
		if (s[3] != ':' || (tm.tm_hour = digits(s + 1, 2)) < 0 || tm.tm_hour > 23 ||
		    (tm.tm_min = digits(s + 4, 2)) < 0 || tm.tm_min > 59)
			return -1;
		s += 6;
		if (*s == ':') {
			if ((tm.tm_sec = digits(s + 1, 2)) < 0 || tm.tm_sec > 59)
				return -1;
			s += 3;
		}
		if (*s == 'Z')
			s++;
	}
	if (*s)
		return -1;
	*out = (int64_t)timegm(&tm);
	return 0;
}

int64_t mlctl_now(void)
{
	return (int64_t)time(NULL);
}

double mlctl_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

void mlctl_human_size(char out[32], uint64_t n)
{
	static const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	size_t u = 0;

	while (v >= 1024 && u + 1 < MLCTL_ARRAY_SIZE(units)) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(out, 32, "%llu B", (unsigned long long)n);
	else
		snprintf(out, 32, "%.1f %s", v, units[u]);
}

int mlctl_run_pipe(struct mlctl_buf *out, int *status, char *const argv[], const char *input,
		   const char *env_add, int quiet)
{
	extern char **environ;
	posix_spawn_file_actions_t fa;
	int in[2] = { -1, -1 }, outp[2] = { -1, -1 }, ws, rc = -1, saved;
	char **env = environ, chunk[4096];
	size_t n_env = 0;
	pid_t pid;
	ssize_t n;

	*status = -1;
	if (env_add) {
		while (environ[n_env])
			n_env++;
		env = mlctl_calloc(n_env + 2, sizeof(*env));
		memcpy(env, environ, n_env * sizeof(*env));
		env[n_env] = (char *)env_add;
	}
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(outp, O_CLOEXEC) < 0)
		goto out;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
	if (quiet)
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	ws = posix_spawnp(&pid, argv[0], &fa, NULL, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(outp[1]);
	in[0] = outp[1] = -1;
	if (ws != 0) {
		errno = ws;
		goto out;
	}
	{
		/* a program that exits early must not kill us with SIGPIPE */
		struct sigaction ign = { .sa_handler = SIG_IGN }, old;

		sigaction(SIGPIPE, &ign, &old);
		if (input)
			(void)!mlctl_write_all(in[1], input, strlen(input));
		sigaction(SIGPIPE, &old, NULL);
	}
	close(in[1]);
	in[1] = -1;
	while ((n = read(outp[0], chunk, sizeof(chunk))) > 0)
		if (out->len < 64 * 1024)
			mlctl_buf_add(out, chunk, (size_t)n);
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128;
	rc = 0;
out:
	saved = errno;
	if (in[0] >= 0)
		close(in[0]);
	if (in[1] >= 0)
		close(in[1]);
	if (outp[0] >= 0)
		close(outp[0]);
	if (outp[1] >= 0)
		close(outp[1]);
	explicit_bzero(chunk, sizeof(chunk));
	if (env != environ)
		free(env);
	errno = saved;
	return rc;
}
