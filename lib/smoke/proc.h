/*
 * proc.h - run a command whose every descendant can be found and stopped.
 *
 * mlctl does not start the command itself: it starts a keeper, a small
 * process of its own that is a child subreaper (PR_SET_CHILD_SUBREAPER) and
 * the command's parent. Whatever the command starts, and whatever leaves its
 * process group or session (setsid, a daemon's double fork), stays below the
 * keeper: orphans are handed to it, not to pid 1. The keeper stops the whole
 * tree when told to, and on its own when mlctl dies without telling it
 * (SIGKILL, a crash, the OOM killer): TERM, a grace period, then KILL until
 * nothing is left.
 */
#ifndef MLCTL_PROC_H
#define MLCTL_PROC_H

#include <sys/types.h>

#include "util.h"

struct mlctl_proc {
	pid_t pid;      /* the command (the keeper's child), in a process group of its own */
	pid_t keeper;   /* mlctl's child; 0 when not running */
	int in_fd;      /* the command's stdin (write end), or -1 */
	int out_fd;     /* its stdout (read end), or -1 when it goes to log_fd */
	int log_fd;     /* its stderr (set by the caller) */
	int ctl_fd;     /* to the keeper: a byte means stop now, EOF that mlctl is gone */
	int st_fd;      /* from the keeper: the command's wait status when it ends */
	int exited;     /* the command ended: status holds how */
	int status;
};

/* Set every descriptor to -1 (before log_fd is filled in and start called). */
void mlctl_proc_init(struct mlctl_proc *p);

/*
 * Start argv (found on PATH) with envp in dir; stdin a pipe, stdout a pipe
 * or, with stdout_to_log, log_fd; stderr log_fd. The keeper's grace for TERM
 * is grace_ms.
 */
int mlctl_proc_start(struct mlctl_proc *p, char *const argv[], char **envp, const char *dir,
		     int stdout_to_log, int grace_ms, struct mlctl_err *err);

/* Has the command ended? With block, wait for it. 1 when it has. */
int mlctl_proc_reap(struct mlctl_proc *p, int block);

/* Send sig to the command and everything below it; the number of processes. */
int mlctl_proc_signal_all(const struct mlctl_proc *p, int sig);

/* Resident memory of the command and everything below it, in KiB. */
double mlctl_proc_rss_kb(const struct mlctl_proc *p);

/*
 * Stop now: the keeper kills every process below it, reaps them and goes.
 * The command's status is then known (exited is set). Closes the pipes.
 */
void mlctl_proc_end(struct mlctl_proc *p);

#endif
