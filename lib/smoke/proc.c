/*
 * proc.c - a command run below a keeper that finds and stops all of it
 * (see proc.h).
 */
#define _GNU_SOURCE
#include "smoke/proc.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "banned.h"

#define KILL_GIVE_UP_MS 10000 /* a process stuck in the kernel: stop trying */

/* ---------------------------------------------------------------- the tree */

struct pinfo {
	pid_t pid, ppid;
	char state;
	signed char below; /* 1: below the root, 0: not, -1: not known yet */
};

static int pinfo_cmp(const void *a, const void *b)
{
	pid_t x = ((const struct pinfo *)a)->pid, y = ((const struct pinfo *)b)->pid;

	return (x > y) - (x < y);
}

/* Every process on the machine: pid, parent, state. NULL when /proc is unreadable. */
static struct pinfo *read_procs(size_t *n)
{
	DIR *d = opendir("/proc");
	struct pinfo *v = NULL;
	size_t cap = 0;
	struct dirent *e;

	*n = 0;
	if (!d)
		return NULL;
	while ((e = readdir(d))) {
		char path[64], buf[512], *rp;
		long ppid;
		char state;
		ssize_t len;
		int fd;

		if (!isdigit((unsigned char)e->d_name[0]) || strlen(e->d_name) > 20)
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue; /* gone meanwhile */
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		/* "pid (comm) state ppid ...": comm may hold anything, even ')' */
		rp = strrchr(buf, ')');
		if (!rp || sscanf(rp + 1, " %c %ld", &state, &ppid) != 2)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 256;
			v = mlctl_realloc(v, cap * sizeof(*v));
		}
		v[*n].pid = (pid_t)strtol(e->d_name, NULL, 10);
		v[*n].ppid = (pid_t)ppid;
		v[*n].state = state;
		v[*n].below = -1;
		(*n)++;
	}
	closedir(d);
	if (*n)
		qsort(v, *n, sizeof(*v), pinfo_cmp);
	return v;
}

static struct pinfo *find_proc(struct pinfo *v, size_t n, pid_t pid)
{
	struct pinfo key = { .pid = pid };

	return n ? bsearch(&key, v, n, sizeof(*v), pinfo_cmp) : NULL;
}

/* Is v[i] a descendant of root? Each chain is followed once (answers are kept). */
static int is_below(struct pinfo *v, size_t n, size_t i, pid_t root, struct pinfo **path)
{
	struct pinfo *cur = &v[i];
	size_t depth = 0, k;
	int ans;

	for (;;) {
		struct pinfo *up;

		if (cur->below >= 0) {
			ans = cur->below;
			break;
		}
		path[depth++] = cur;
		if (cur->ppid == root) {
			ans = 1;
			break;
		}
		up = cur->ppid > 1 ? find_proc(v, n, cur->ppid) : NULL;
		if (!up || depth >= n) {
			ans = 0;
			break;
		}
		cur = up;
	}
	for (k = 0; k < depth; k++)
		path[k]->below = (signed char)ans;
	return ans;
}

/*
 * Every live process below root: signalled with sig (when not 0), its
 * resident memory added to *rss_kb (when not NULL). Returns how many there
 * are, zombies not counted.
 */
static int walk_tree(pid_t root, int sig, double *rss_kb)
{
	size_t n, i;
	struct pinfo *v = read_procs(&n), **path;
	long page_kb = sysconf(_SC_PAGESIZE) / 1024;
	int count = 0;

	if (!v)
		return 0;
	path = mlctl_malloc((n ? n : 1) * sizeof(*path));
	for (i = 0; i < n; i++) {
		if (!is_below(v, n, i, root, path) || v[i].state == 'Z' || v[i].state == 'X')
			continue;
		count++;
		if (sig)
			kill(v[i].pid, sig);
		if (rss_kb) {
			char p[64];
			long pages = 0;
			FILE *f;

			snprintf(p, sizeof(p), "/proc/%ld/statm", (long)v[i].pid);
			if ((f = fopen(p, "re"))) {
				if (fscanf(f, "%*s %ld", &pages) == 1)
					*rss_kb += (double)pages * (double)page_kb;
				fclose(f);
			}
		}
	}
	free(path);
	free(v);
	return count;
}

/* ---------------------------------------------------------------- the keeper */

struct keeper {
	pid_t cmd;
	int st_fd;
	int reported; /* the command's status went to mlctl */
};

/* Reap every child that has ended; 1 when no child is left at all. */
static int reap_children(struct keeper *k)
{
	for (;;) {
		int st;
		pid_t w = waitpid(-1, &st, WNOHANG);

		if (w > 0) {
			if (w == k->cmd && !k->reported) {
				k->reported = 1;
				if (write(k->st_fd, &st, sizeof(st)) != (ssize_t)sizeof(st))
					k->reported = 1; /* mlctl is gone: nobody to tell */
			}
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		return w < 0 && errno == ECHILD;
	}
}

/* Stop everything below the keeper: TERM and grace_ms first when grace_ms > 0. */
static void stop_tree(struct keeper *k, int grace_ms)
{
	double end;

	if (grace_ms > 0) {
		walk_tree(getpid(), SIGTERM, NULL);
		end = mlctl_mono_ms() + grace_ms;
		while (mlctl_mono_ms() < end) {
			int none = reap_children(k);

			if (none && walk_tree(getpid(), 0, NULL) == 0)
				return;
			usleep(20000);
		}
	}
	end = mlctl_mono_ms() + KILL_GIVE_UP_MS;
	for (;;) {
		int alive = walk_tree(getpid(), SIGKILL, NULL);
		int none = reap_children(k);

		if ((alive == 0 && none) || mlctl_mono_ms() > end)
			return;
		usleep(alive ? 2000 : 10000);
	}
}

/* Move fd to a number of at least 10, away from the ones about to be set. */
static int high_fd(int fd)
{
	int h = fcntl(fd, F_DUPFD_CLOEXEC, 10);

	close(fd);
	return h;
}

static void set_default_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT, SIGCHLD };
	size_t i;

	for (i = 0; i < MLCTL_ARRAY_SIZE(sigs); i++)
		signal(sigs[i], SIG_DFL);
}

struct start {
	char *const *argv;
	char **envp;
	const char *dir;
	int in_rd, out_wr, log_fd, ctl_rd, st_wr;
	int grace_ms;
};

/* The command, in the keeper's child: never returns. */
static void exec_command(const struct start *s, const sigset_t *mask, pid_t keeper)
{
	sigprocmask(SIG_SETMASK, mask, NULL);
	set_default_signals();
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != keeper)
		_exit(127); /* the keeper died before the death signal was set */
	dup2(s->in_rd, 0);
	dup2(s->out_wr >= 0 ? s->out_wr : s->log_fd, 1);
	dup2(s->log_fd, 2);
	if (chdir(s->dir) < 0) {
		dprintf(2, "mlctl: cannot enter '%s': %s\n", s->dir, strerror(errno));
		_exit(126);
	}
	execvpe(s->argv[0], s->argv, s->envp);
	dprintf(2, "mlctl: cannot run '%s': %s\n", s->argv[0], strerror(errno));
	_exit(127);
}

/* The keeper: start the command, report how it ends, stop the tree. Never returns. */
static void keeper_main(const struct start *s)
{
	struct keeper k = { 0, -1, 0 };
	sigset_t chld, old;
	struct pollfd pfd[2];
	int null, sfd, ctl;
	pid_t self = getpid();

	/* outside mlctl's process group: a kill of that group leaves it to clean up */
	setpgid(0, 0);
	prctl(PR_SET_NAME, "mlctl-keeper");
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		_exit(1);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old);
	k.st_fd = s->st_wr;
	k.cmd = fork();
	if (k.cmd == 0)
		exec_command(s, &old, self);
	if (k.cmd < 0) {
		pid_t none = -1;

		if (write(s->st_wr, &none, sizeof(none)) < 0)
			_exit(1);
		_exit(1);
	}
	setpgid(k.cmd, k.cmd); /* also here: no race with the first signal */
	if (write(s->st_wr, &k.cmd, sizeof(k.cmd)) != (ssize_t)sizeof(k.cmd)) {
		stop_tree(&k, 0);
		_exit(1);
	}

	/* hold none of mlctl's files: the command must see EOF on its stdin, a
	 * caller reading mlctl's output must see it end */
	ctl = high_fd(s->ctl_rd);
	k.st_fd = high_fd(s->st_wr);
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
	}
	dup2(ctl, 3);
	dup2(k.st_fd, 4);
	ctl = 3;
	k.st_fd = 4;
	closefrom(5);
	sfd = signalfd(-1, &chld, SFD_CLOEXEC);

	pfd[0] = (struct pollfd){ ctl, POLLIN, 0 };
	pfd[1] = (struct pollfd){ sfd, POLLIN, 0 };
	reap_children(&k);
	for (;;) {
		char c;
		ssize_t n;

		/* without a signalfd, look for ended children every 20 ms */
		if (poll(pfd, sfd >= 0 ? 2 : 1, sfd >= 0 ? -1 : 20) < 0 && errno != EINTR)
			break;
		if (sfd >= 0 && (pfd[1].revents & POLLIN)) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) < 0 && errno != EINTR)
				break;
		}
		reap_children(&k);
		if (!(pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		n = read(ctl, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		/* a byte: mlctl has stopped the command its way, the rest goes now;
		 * EOF: mlctl is gone, so the command gets its grace first */
		stop_tree(&k, n == 1 ? 0 : s->grace_ms);
		_exit(0);
	}
	stop_tree(&k, s->grace_ms);
	_exit(0);
}

/* ---------------------------------------------------------------- mlctl's side */

void mlctl_proc_init(struct mlctl_proc *p)
{
	memset(p, 0, sizeof(*p));
	p->in_fd = p->out_fd = p->log_fd = p->ctl_fd = p->st_fd = -1;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int mlctl_proc_start(struct mlctl_proc *p, char *const argv[], char **envp, const char *dir,
		     int stdout_to_log, int grace_ms, struct mlctl_err *err)
{
	int fds[8] = { -1, -1, -1, -1, -1, -1, -1, -1 }; /* in, out, ctl, st: read, write */
	struct start s;
	pid_t k, cmd = -1;
	ssize_t n;
	size_t i;

	for (i = 0; i < 8; i += 2) {
		if ((i == 2 && stdout_to_log) || pipe2(fds + i, O_CLOEXEC) == 0)
			continue;
		mlctl_err_errno(err, MLCTL_EIO, "cannot make pipes for the model");
		for (i = 0; i < 8; i++)
			close_fd(&fds[i]);
		return err->code;
	}
	s = (struct start){ argv, envp, dir, fds[0], fds[3], p->log_fd, fds[4], fds[7], grace_ms };
	k = fork();
	if (k == 0)
		keeper_main(&s);
	close_fd(&fds[0]);
	close_fd(&fds[3]);
	close_fd(&fds[4]);
	close_fd(&fds[7]);
	if (k > 0) {
		do
			n = read(fds[6], &cmd, sizeof(cmd));
		while (n < 0 && errno == EINTR);
		if (n != (ssize_t)sizeof(cmd))
			cmd = -1;
	}
	if (k < 0 || cmd <= 0) {
		int e = errno;

		for (i = 0; i < 8; i++)
			close_fd(&fds[i]);
		if (k > 0)
			while (waitpid(k, NULL, 0) < 0 && errno == EINTR)
				;
		errno = e;
		return mlctl_err_errno(err, MLCTL_EIO, "cannot start the model");
	}
	fcntl(fds[6], F_SETFL, O_NONBLOCK);
	p->pid = cmd;
	p->keeper = k;
	p->in_fd = fds[1];
	p->out_fd = fds[2];
	p->ctl_fd = fds[5];
	p->st_fd = fds[6];
	p->exited = 0;
	p->status = 0;
	return 0;
}

int mlctl_proc_reap(struct mlctl_proc *p, int block)
{
	for (;;) {
		int st;
		ssize_t n;
		struct pollfd pfd;

		if (p->exited)
			return 1;
		if (p->st_fd < 0)
			return 0;
		n = read(p->st_fd, &st, sizeof(st));
		if (n == (ssize_t)sizeof(st)) {
			p->exited = 1;
			p->status = st;
			return 1;
		}
		if (n >= 0) {
			/* the keeper went without a word: it was killed, and the
			 * command with it (its death signal) */
			p->exited = 1;
			p->status = SIGKILL; /* as a wait status: killed by SIGKILL */
			return 1;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN || !block)
			return 0;
		pfd = (struct pollfd){ p->st_fd, POLLIN, 0 };
		poll(&pfd, 1, -1);
	}
}

int mlctl_proc_signal_all(const struct mlctl_proc *p, int sig)
{
	return p->keeper > 0 ? walk_tree(p->keeper, sig, NULL) : 0;
}

double mlctl_proc_rss_kb(const struct mlctl_proc *p)
{
	double kb = 0;

	if (p->keeper > 0)
		walk_tree(p->keeper, 0, &kb);
	return kb;
}

void mlctl_proc_end(struct mlctl_proc *p)
{
	if (p->keeper > 0) {
		/* a failed write means the keeper is gone already */
		if (write(p->ctl_fd, "x", 1) != 1)
			kill(p->keeper, SIGKILL);
		close_fd(&p->ctl_fd);
		while (waitpid(p->keeper, NULL, 0) < 0 && errno == EINTR)
			;
		p->keeper = 0;
		mlctl_proc_reap(p, 1);
	}
	close_fd(&p->ctl_fd);
	close_fd(&p->st_fd);
	close_fd(&p->in_fd);
	close_fd(&p->out_fd);
}
