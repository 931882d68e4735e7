/*
 * fs.c - files and folders: regular files opened safely, whole
 * reads and atomic writes, fsync, mkdir -p, rm -rf, paths, leftovers of dead
 * processes, and a folder filled beside its target and renamed into place.
 */
#define _GNU_SOURCE
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>

#include "banned.h"

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

char *mlctl_path_absolute(const char *path)
{
	char *abs = realpath(path, NULL);

	return abs ? abs : mlctl_strdup(path);
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
