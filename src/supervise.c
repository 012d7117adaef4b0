/*
 * supervise.c: the PID 1 duties: spawn, signal, reap, exit codes, restart
 * decisions. Follows tini, without its event loop: the caller's libevent
 * loop owns the signals and calls in.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "supervise.h"

/* The standard signals are 1 to 31 on Linux; 32 and 33 belong to the C
 * library's threads, and SIGRTMIN to SIGRTMAX are left to applications. */
#define STANDARD_SIGNAL_LAST 31

/* The syscall numbers are the same on every architecture since 5.1, so
 * headers older than the kernel need not stop us. */
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

int
supervise_init(void)
{
	/* PID 1 of a namespace gets the orphans anyway, and PID 1 of the
	 * host (oomguard as a VM's init) has no reaper above it to defer to. */
	if (getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		return -errno;
	return 0;
}

bool
supervise_in_foreground(void)
{
	/* tcgetpgrp() fails with ENOTTY unless stdin is our controlling
	 * terminal; then there is nothing to hand over. */
	pid_t fg = tcgetpgrp(STDIN_FILENO);

	return fg > 0 && fg == getpgrp();
}

/* In the child, between fork() and exec: put every signal back to its
 * default before unblocking, so that a signal already pending, or sent
 * now, meets the default action and not the caller's handler (whose
 * libevent self-pipe the child shares), and so that the app does not
 * inherit what oomguard ignores (SIGPIPE, SIGTTOU). strerror() and
 * dprintf() are not async-signal-safe, which only matters when another
 * thread held a lock at fork(): oomguard has a single thread. */
static _Noreturn void
spawn_child(char *const argv[], bool take_terminal, int exec_rd, int exec_wr)
{
	struct sigaction dfl;
	sigset_t none;
	int sig, err;

	if (exec_rd >= 0)
		(void)close(exec_rd);
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	/* SIGKILL and SIGSTOP cannot be changed, and the C library's own
	 * signals refuse it: the errors are expected and harmless. */
	for (sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &dfl, NULL);
	/* The parent makes the same call, so the group exists whichever of
	 * the two runs first; a failure leaves the child in our group, where
	 * it still runs. */
	(void)setpgid(0, 0);
	/* A background group calling tcsetpgrp() gets SIGTTOU unless it is
	 * blocked, and every signal is still blocked here. A terminal that
	 * refuses leaves the app in the background: it still runs. */
	if (take_terminal && tcsetpgrp(STDIN_FILENO, getpgrp()) < 0)
		dprintf(STDERR_FILENO, "oomguard: cannot give the terminal to %s: %s\n", argv[0],
		    strerror(errno));
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	execvp(argv[0], argv);
	err = errno;
	/* The parent logs why, in its own format; a pipe it cannot read
	 * leaves it the exit status alone. */
	if (exec_wr >= 0)
		(void)!write(exec_wr, &err, sizeof(err));
	_exit(err == ENOENT ? 127 : 126);
}

/* Wait for the child's exec, as posix_spawn() does: the pipe's write end
 * closes at a successful exec (end of file), or carries the errno of a
 * failed one. Return that errno, or 0. Closes rd. */
static int
spawn_wait_exec(int rd)
{
	int err = 0;
	ssize_t n;

	if (rd < 0)
		return 0;
	do
		n = read(rd, &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	(void)close(rd);
	return n == (ssize_t)sizeof(err) ? err : 0;
}

int
supervise_spawn(char *const argv[], bool take_terminal, uint64_t now_usec, uint64_t generation,
    struct supervise_child *ret)
{
	sigset_t all, old;
	pid_t pid;
	int pidfd, err, exec_pipe[2] = { -1, -1 };

	if (argv == NULL || argv[0] == NULL)
		return -EINVAL;
	/* Without the pipe (out of descriptors) the exec is taken as seen,
	 * as before there was one. */
	if (pipe2(exec_pipe, O_CLOEXEC) < 0)
		exec_pipe[0] = exec_pipe[1] = -1;
	/* Blocked from before fork() until the child reset its handlers:
	 * see spawn_child(). The parent's mask comes back right after. */
	sigfillset(&all);
	if (sigprocmask(SIG_SETMASK, &all, &old) < 0)
		return -errno;
	pid = fork();
	if (pid == 0)
		spawn_child(argv, take_terminal, exec_pipe[0], exec_pipe[1]);
	err = errno;
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	if (exec_pipe[1] >= 0)
		(void)close(exec_pipe[1]);
	if (pid < 0) {
		if (exec_pipe[0] >= 0)
			(void)close(exec_pipe[0]);
		return -err;
	}
	/* EACCES once the child has exec'd: it made the group itself. */
	(void)setpgid(pid, pid);
	/* Our own child cannot be reaped behind our back before this, so the
	 * pidfd refers to it even if it has already exited. */
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		log_debug(
		    "pidfd_open(%d): %s, signalling the child by PID", (int)pid, strerror(errno));
	ret->pid = pid;
	ret->pidfd = pidfd;
	ret->started_usec = now_usec;
	ret->generation = generation;
	ret->exec_errno = spawn_wait_exec(exec_pipe[0]);
	return 0;
}

int
supervise_reap(pid_t main_pid, int *ret_status)
{
	int status, main_status = 0;
	bool found = false;
	pid_t pid;

	/* Each call reaps one child; loop until none is left exited, since
	 * signals do not queue and one SIGCHLD may stand for many exits. */
	for (;;) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid > 0) {
			if (pid == main_pid) {
				found = true;
				main_status = status;
			}
			continue;
		}
		if (pid == 0 || errno == ECHILD)
			break;
		if (errno == EINTR)
			continue;
		/* The main child's status matters more than the error. */
		if (!found)
			return -errno;
		break;
	}
	if (!found)
		return 0;
	*ret_status = main_status;
	return 1;
}

int
supervise_exit_code(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return -EINVAL;
}

int
supervise_signal(const struct supervise_child *c, int sig)
{
	/* kill(0) and kill(-1) would reach our group or every process. */
	if (c->pid <= 0)
		return -ESRCH;
	if (c->pidfd >= 0)
		return syscall(SYS_pidfd_send_signal, c->pidfd, sig, NULL, 0) < 0 ? -errno : 0;
	return kill(c->pid, sig) < 0 ? -errno : 0;
}

void
supervise_release(struct supervise_child *c)
{
	if (c->pidfd >= 0)
		(void)close(c->pidfd);
	c->pidfd = -1;
	c->pid = 0;
}

bool
supervise_should_restart(enum restart_mode mode, bool by_watchdog, bool shutting_down)
{
	/* Being told to stop outranks every mode: a restart would outlive
	 * the container's stop request until the runtime's SIGKILL. */
	if (shutting_down)
		return false;
	switch (mode) {
	case RESTART_ON_WATCHDOG:
		return by_watchdog;
	case RESTART_ALWAYS:
		return true;
	case RESTART_NEVER:
		return false;
	}
	return false;
}

uint64_t
supervise_backoff(uint64_t prev_delay_usec, uint64_t run_usec, uint64_t base_usec,
    uint64_t max_usec, uint64_t stable_usec)
{
	uint64_t delay_usec;

	if (prev_delay_usec == 0 || run_usec >= stable_usec)
		delay_usec = base_usec;
	else if (prev_delay_usec > UINT64_MAX / 2)
		delay_usec = UINT64_MAX;
	else
		delay_usec = prev_delay_usec * 2;
	return delay_usec < max_usec ? delay_usec : max_usec;
}

/* Which signals stay with oomguard, and why. */
static bool
signal_forwarded(int sig)
{
	switch (sig) {
	/* Cannot be caught. */
	case SIGKILL:
	case SIGSTOP:
	/* Tells us a child ended: ours to reap, not the app's business. */
	case SIGCHLD:
	/* Synchronous faults of oomguard itself, as in tini: forwarding one
	 * would hide our own crash and kill a healthy app. */
	case SIGSEGV:
	case SIGBUS:
	case SIGFPE:
	case SIGILL:
	case SIGABRT:
	case SIGTRAP:
	case SIGSYS:
	/* Raised by the kernel for our own writes (a log reader that went
	 * away, a log file over RLIMIT_FSIZE). A signal handler cannot tell
	 * them from one sent with kill(), and forwarding them would kill the
	 * app for oomguard's trouble; the caller ignores them and gets EPIPE
	 * or EFBIG. This departs from tini, which forwards them. */
	case SIGPIPE:
	case SIGXFSZ:
	/* Job control of our own terminal access, ignored as in tini: once
	 * the app has the terminal's foreground, a log line of ours would
	 * otherwise stop oomguard with SIGTTOU under "stty tostop". SIGTSTP
	 * and SIGCONT are forwarded, as tini does: sent to oomguard, they are
	 * meant for the app. */
	case SIGTTIN:
	case SIGTTOU:
		return false;
	default:
		return true;
	}
}

int
supervise_forwarded_signals(int *sigs, int max)
{
	int list[SUPERVISE_SIGNALS_MAX];
	int n = 0, sig;

	for (sig = 1; sig <= SIGRTMAX && n < SUPERVISE_SIGNALS_MAX; sig++) {
		if (sig > STANDARD_SIGNAL_LAST && sig < SIGRTMIN)
			continue;
		if (signal_forwarded(sig))
			list[n++] = sig;
	}
	if (n > max)
		return -ENOBUFS;
	memcpy(sigs, list, (size_t)n * sizeof(list[0]));
	return n;
}
