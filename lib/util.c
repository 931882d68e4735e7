/*
 * util.c - errors, buffers, SHA-256 and small file-system helpers.
 *
 * Everything here is free of mlctl concepts: the other modules build on it.
 */
#define _GNU_SOURCE
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
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

struct mlctl_sha256 {
	EVP_MD_CTX *ctx;
};

struct mlctl_sha256 *mlctl_sha256_new(void)
{
	struct mlctl_sha256 *h = mlctl_malloc(sizeof(*h));

	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
		fputs("mlctl: cannot set up SHA-256 in libcrypto\n", stderr);
		abort();
	}
	return h;
}

void mlctl_sha256_update(struct mlctl_sha256 *h, const void *data, size_t len)
{
	EVP_DigestUpdate(h->ctx, data, len);
}

void mlctl_sha256_final_hex(struct mlctl_sha256 *h, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;

	EVP_DigestFinal_ex(h->ctx, md, &n);
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
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

void mlctl_sha256_hex(char hex[65], const void *data, size_t len)
{
	struct mlctl_sha256 *h = mlctl_sha256_new();

	mlctl_sha256_update(h, data, len);
	mlctl_sha256_final_hex(h, hex);
	mlctl_sha256_free(h);
}

int mlctl_is_sha256_hex(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[64] == '\0';
}

const char *mlctl_file_kind(mode_t mode)
{
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISDIR(mode))
		return "a folder";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "a device";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISLNK(mode))
		return "a symlink";
	return "a regular file";
}

static int not_regular(struct mlctl_err *err, int code, const char *path, mode_t mode)
{
	return mlctl_err_set(err, code, "'%s' is %s; it must be a regular file", path,
			     mlctl_file_kind(mode));
}

int mlctl_open_regular(const char *path, int notreg_code, struct mlctl_err *err)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	if (fd < 0) {
		/* a socket cannot be opened at all (ENXIO): say what it is */
		if (errno == ENXIO && stat(path, &st) == 0 && !S_ISREG(st.st_mode))
			return not_regular(err, notreg_code, path, st.st_mode);
		return mlctl_err_errno(err, errno == ENOENT ? MLCTL_ENOTFOUND : MLCTL_EIO,
				       "cannot open '%s'", path);
	}
	if (fstat(fd, &st) < 0) {
		close(fd);
		return mlctl_err_errno(err, MLCTL_EIO, "cannot read '%s'", path);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return not_regular(err, notreg_code, path, st.st_mode);
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		close(fd);
		return mlctl_err_errno(err, MLCTL_EIO, "cannot read '%s'", path);
	}
	return fd;
}

int mlctl_check_regular_or_absent(const char *path, int notreg_code, struct mlctl_err *err)
{
	struct stat st;

	if (stat(path, &st) < 0 || S_ISREG(st.st_mode))
		return 0;
	return not_regular(err, notreg_code, path, st.st_mode);
}

int mlctl_read_file(struct mlctl_buf *out, const char *path, size_t cap, struct mlctl_err *err)
{
	char chunk[65536];
	ssize_t n;
	int fd = mlctl_open_regular(path, MLCTL_EUSAGE, err);

	if (fd < 0)
		return fd;
	mlctl_buf_reset(out);
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			return mlctl_err_errno(err, MLCTL_EIO, "cannot read '%s'", path);
		}
		if (n == 0)
			break;
		if (out->len + (size_t)n > cap) {
			close(fd);
			return mlctl_err_set(err, MLCTL_EGATE, "'%s' is larger than %zu bytes", path,
					     cap);
		}
		mlctl_buf_add(out, chunk, (size_t)n);
	}
	close(fd);
	if (!out->buf)
		mlctl_buf_add(out, "", 0);
	return 0;
}

int mlctl_fd_hash_copy(int in, int out, char hex[65], uint64_t *total, const char *src,
		       const char *dst, struct mlctl_err *err)
{
	struct mlctl_sha256 *h = mlctl_sha256_new();
	char *buf = mlctl_malloc(MLCTL_IO_CHUNK);
	int rc = 0;

	*total = 0;
	for (;;) {
		ssize_t n;

		if (mlctl_interrupted()) {
			rc = mlctl_err_interrupted(err);
			break;
		}
		n = read(in, buf, MLCTL_IO_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = mlctl_err_errno(err, MLCTL_EIO, "cannot read '%s'", src);
			break;
		}
		if (n == 0)
			break;
		mlctl_sha256_update(h, buf, (size_t)n);
		*total += (uint64_t)n;
		if (out >= 0 && mlctl_write_all(out, buf, (size_t)n) < 0) {
			rc = mlctl_err_errno(err, MLCTL_EIO, "cannot write '%s'", dst);
			break;
		}
	}
	if (!rc)
		mlctl_sha256_final_hex(h, hex);
	mlctl_sha256_free(h);
	free(buf);
	return rc;
}

ssize_t mlctl_pread_all(int fd, void *buf, size_t n, uint64_t off)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = pread(fd, (char *)buf + done, n - done, (off_t)(off + done));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		done += (size_t)r;
	}
	return (ssize_t)done;
}

int mlctl_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int mlctl_fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int mlctl_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
			    struct mlctl_err *err)
{
	char *dir = mlctl_dirname(path);
	char *tmp = mlctl_aprintf("%s.tmp-%ld", path, (long)getpid());
	int fd = -1, rc = 0;

	if ((rc = mlctl_check_regular_or_absent(path, MLCTL_EUSAGE, err)))
		goto done;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		rc = mlctl_err_errno(err, MLCTL_EIO, "cannot create '%s'", tmp);
		goto done;
	}
	if (mlctl_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		rc = mlctl_err_errno(err, MLCTL_EIO, "cannot write '%s'", tmp);
		goto done;
	}
	if (close(fd) < 0) {
		fd = -1;
		rc = mlctl_err_errno(err, MLCTL_EIO, "cannot write '%s'", tmp);
		goto done;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		rc = mlctl_err_errno(err, MLCTL_EIO, "cannot rename '%s' to '%s'", tmp, path);
		goto done;
	}
	mlctl_fsync_dir(dir);
done:
	if (fd >= 0)
		close(fd);
	if (rc)
		unlink(tmp);
	free(tmp);
	free(dir);
	return rc;
}

int mlctl_mkdir_p(const char *path, mode_t mode, struct mlctl_err *err)
{
	char *p = mlctl_strdup(path);
	char *s;
	int rc = 0;

	for (s = p + 1; ; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;

			*s = '\0';
			if (mkdir(p, mode) < 0 && errno != EEXIST) {
				rc = mlctl_err_errno(err, MLCTL_EIO, "cannot create folder '%s'", p);
				break;
			}
			*s = c;
			if (c == '\0')
				break;
		}
	}
	if (!rc && !mlctl_is_dir(path))
		rc = mlctl_err_set(err, MLCTL_EIO, "'%s' exists and is not a folder", path);
	free(p);
	return rc;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
	if (unlink(path) < 0 && errno != ENOENT) {
		/* read-only folders: make them writable and retry */
		return -1;
	}
	return 0;
}

int mlctl_rm_rf(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path);
	return nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS);
}

int mlctl_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int mlctl_dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int empty = 1;

	if (!d)
		return errno == ENOENT ? 1 : 0;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			empty = 0;
			break;
		}
	}
	closedir(d);
	return empty;
}

char *mlctl_path_join(const char *a, const char *b)
{
	size_t n = strlen(a);

	if (n && a[n - 1] == '/')
		return mlctl_aprintf("%s%s", a, b);
	return mlctl_aprintf("%s/%s", a, b);
}

/* The pid in a name's rest ("123"), or 0 when it is not a number. */
static long name_pid(const char *s)
{
	long pid = 0;
	const char *p = s;

	for (; *p >= '0' && *p <= '9' && p - s < 10; p++)
		pid = pid * 10 + (*p - '0');
	return p == s || *p ? 0 : pid;
}

static int pid_gone(long pid)
{
	return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

void mlctl_sweep_dead(const char *parent, const char *prefix, int locked)
{
	size_t n = strlen(prefix);
	DIR *d = opendir(parent);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		char *path;
		long pid;
		int fd;

		if (strncmp(e->d_name, prefix, n) || (pid = name_pid(e->d_name + n)) <= 0 ||
		    pid == (long)getpid() || !pid_gone(pid))
			continue;
		path = mlctl_path_join(parent, e->d_name);
		if (!locked) {
			mlctl_rm_rf(path);
		} else {
			fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0)
				mlctl_rm_rf(path);
			if (fd >= 0)
				close(fd);
		}
		free(path);
	}
	if (d)
		closedir(d);
}

/*
 * Remove what killed runs left next to parent/name: .NAME.pull-PID folders
 * whose lock is free and whose process is gone, and .NAME.old-PID folders
 * of a process that is gone, once name is in place again (before that,
 * .old holds the only copy of the folder).
 */
static void stage_sweep(const char *parent, const char *name, int in_place)
{
	char *pull = mlctl_aprintf(".%s.pull-", name), *old = mlctl_aprintf(".%s.old-", name);

	mlctl_sweep_dead(parent, pull, 1);
	if (in_place)
		mlctl_sweep_dead(parent, old, 0);
	free(pull);
	free(old);
}

int mlctl_dir_stage_begin(struct mlctl_dir_stage *st, const char *dir, int force,
			  struct mlctl_err *err)
{
	struct stat lst;
	size_t len;
	int rc;

	memset(st, 0, sizeof(*st));
	st->lock = -1;
	st->dir = mlctl_strdup(dir);
	len = strlen(st->dir);
	while (len > 1 && st->dir[len - 1] == '/')
		st->dir[--len] = '\0';
	if (lstat(st->dir, &lst) == 0 && S_ISLNK(lst.st_mode)) {
		/* fill the folder the link points to, as cp -r and tar -C do */
		char *real = realpath(st->dir, NULL);

		if (!real || !mlctl_is_dir(real)) {
			rc = mlctl_err_set(err, MLCTL_ECONFLICT,
					   "'%s' is a symbolic link to something that is not a folder; "
					   "point it at a folder or pick another -o",
					   st->dir);
			free(real);
			return rc;
		}
		free(st->dir);
		st->dir = mlctl_strdup(real);
		free(real);
	}
	st->exists = access(st->dir, F_OK) == 0;
	if (st->exists && !mlctl_is_dir(st->dir))
		return mlctl_err_set(err, MLCTL_ECONFLICT, "'%s' exists and is not a folder; pick "
				     "another -o", st->dir);
	if (st->exists && !force && !mlctl_dir_is_empty(st->dir))
		return mlctl_err_set(err, MLCTL_ECONFLICT,
				     "'%s' is not empty; pull into a new folder or pass --force to "
				     "replace it",
				     st->dir);
	st->parent = mlctl_dirname(st->dir);
	if ((rc = mlctl_mkdir_p(st->parent, 0755, err)))
		return rc;
	stage_sweep(st->parent, mlctl_basename(st->dir), st->exists);
	st->tmp = mlctl_aprintf("%s/.%s.pull-%ld", st->parent, mlctl_basename(st->dir),
				(long)getpid());
	mlctl_rm_rf(st->tmp);
	if (mkdir(st->tmp, 0755) < 0) {
		rc = mlctl_err_errno(err, MLCTL_EIO, "cannot create '%s'", st->tmp);
		free(st->tmp);
		st->tmp = NULL;
		return rc;
	}
	/* held until the end: while it is, no other pull takes this folder for garbage */
	st->lock = open(st->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st->lock >= 0)
		flock(st->lock, LOCK_EX);
	return 0;
}

int mlctl_dir_stage_commit(struct mlctl_dir_stage *st, struct mlctl_err *err)
{
	char *old = NULL;
	int rc = 0;

	mlctl_fsync_dir(st->tmp);
	if (st->exists && !mlctl_dir_is_empty(st->dir)) {
		old = mlctl_aprintf("%s/.%s.old-%ld", st->parent, mlctl_basename(st->dir),
				    (long)getpid());
		if (rename(st->dir, old) < 0) {
			rc = mlctl_err_errno(err, MLCTL_EIO, "cannot move '%s' aside", st->dir);
			goto done;
		}
	} else if (st->exists) {
		rmdir(st->dir);
	}
	if (rename(st->tmp, st->dir) < 0) {
		rc = mlctl_err_errno(err, MLCTL_EIO, "cannot rename '%s' to '%s'", st->tmp,
				     st->dir);
		if (old)
			rename(old, st->dir);
		goto done;
	}
	free(st->tmp);
	st->tmp = NULL;
	mlctl_fsync_dir(st->parent);
	if (old)
		mlctl_rm_rf(old);
done:
	free(old);
	return rc;
}

void mlctl_dir_stage_release(struct mlctl_dir_stage *st)
{
	if (st->tmp)
		mlctl_rm_rf(st->tmp);
	if (st->lock >= 0)
		close(st->lock);
	free(st->dir);
	free(st->tmp);
	free(st->parent);
	memset(st, 0, sizeof(*st));
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

char *mlctl_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return mlctl_strdup(".");
	if (slash == path)
		return mlctl_strdup("/");
	return mlctl_strndup(path, (size_t)(slash - path));
}

const char *mlctl_basename(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

int mlctl_path_is_safe(const char *path)
{
	const char *p = path, *seg;
	size_t n = strlen(path);

	if (n == 0 || n > 4096 || path[0] == '/')
		return 0;
	for (; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '\\')
			return 0;
	if (!mlctl_utf8_valid(path, n))
		return 0;
	p = path;
	while (*p) {
		seg = p;
		while (*p && *p != '/')
			p++;
		if (p == seg)
			return 0; /* empty component: "a//b" or trailing slash */
		if ((p - seg == 1 && seg[0] == '.') ||
		    (p - seg == 2 && seg[0] == '.' && seg[1] == '.'))
			return 0;
		if (*p == '/') {
			p++;
			if (!*p)
				return 0;
		}
	}
	return 1;
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
	for (i = 0; i < MLCTL_ARRAY_SIZE(seen) && seen[i] && strcmp(seen[i], point); i++)
		;
	if (i == MLCTL_ARRAY_SIZE(seen))
		return;
	seen[i] = point;
	if (++counts[i] >= want)
		_exit(99);
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
		size_t k = mbrtowc(&wc, s, n, &st);
		int w;

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
