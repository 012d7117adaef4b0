/*
 * supervise.h: the entrypoint's duties towards the app it runs: spawn it
 * in its own process group, signal it through a pidfd, reap it and every
 * orphan handed to us, map its end to an exit code, and decide whether
 * and when to restart it. This module owns no event loop and installs no
 * signal handler: the caller's loop receives the signals and calls in.
 */
#ifndef OOMGUARD_SUPERVISE_H
#define OOMGUARD_SUPERVISE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"

/* Room supervise_forwarded_signals() needs. */
#define SUPERVISE_SIGNALS_MAX 64

struct supervise_child {
	pid_t pid;             /* 0 once released */
	int pidfd;             /* pidfd_open(pid), -1 if unavailable or released */
	uint64_t started_usec; /* CLOCK_MONOTONIC */
	uint64_t generation;   /* 1 for the first child, +1 per restart */
	int exec_errno;        /* 0, or why the child could not exec (it exits 127/126) */
};

/* Prepare this process to supervise: become a child subreaper unless we
 * are PID 1 (which the kernel already hands orphans to), so that orphans
 * of the app are reparented to us and supervise_reap() collects them.
 * Return 0, or -errno when the flag cannot be set (-EINVAL before Linux
 * 3.4); oomguard can still run the app then, leaving orphans to init. */
int supervise_init(void);

/* Whether stdin is our controlling terminal with our process group in its
 * foreground: only then should supervise_spawn() give the terminal to the
 * child. Ask once, at start-up, and keep the answer: once the first child
 * has the terminal we are in the background, yet a restarted child must
 * take it too. */
bool supervise_in_foreground(void);

/* Run argv (argv[0] looked up in PATH) as a child in a process group of
 * its own; with take_terminal, the child makes its group the terminal's
 * foreground. The child starts with an empty signal mask and every
 * disposition at its default, whatever ours are. It waits for the
 * child's exec, as posix_spawn() does: until the exec the child's
 * /proc/PID/status shows the caller's handlers, which the app has not
 * installed, and a signal the app will catch could kill it; once this
 * returns, SigCgt is the app's own. When exec fails ret->exec_errno says
 * why (the caller logs it) and the child exits 127 if argv[0] was not
 * found (ENOENT), 126 otherwise (EACCES, ENOTDIR, ...), as shells and
 * tini do.
 * A file without "#!" runs under /bin/sh, as execvp() does.
 * All signals are blocked in the caller from fork to the child's reset,
 * so that none reaches the caller's handlers inside the child. Return 0
 * and fill *ret (pidfd -1 when the kernel refuses pidfd_open(), so that
 * supervise_signal() falls back to the PID), or -errno when fork fails. */
int supervise_spawn(char *const argv[], bool take_terminal, uint64_t now_usec, uint64_t generation,
    struct supervise_child *ret);

/* Reap every child that has exited, without blocking: the app and any
 * orphan reparented to us. Call it on each SIGCHLD; one SIGCHLD can stand
 * for many exits. Return 1 and set *ret_status to the raw wait status if
 * main_pid was among them (main_pid <= 0 matches none), 0 if not, or
 * -errno on an unexpected waitpid() error before main_pid was reaped
 * (having no children, ECHILD, is not an error). */
int supervise_reap(pid_t main_pid, int *ret_status);

/* The exit code that passes on a wait status: the child's exit code, or
 * 128+N when signal N ended it. Return it (0-255), or -EINVAL for a status
 * that is neither an exit nor a death by signal. */
int supervise_exit_code(int wstatus);

/* Send sig to the child through its pidfd, which cannot reach another
 * process that reused the PID; through kill(pid) only when the pidfd is
 * -1, which is safe as long as the child is unreaped. Return 0, or -errno:
 * -ESRCH when the child is gone or was released. */
int supervise_signal(const struct supervise_child *c, int sig);

/* Close the pidfd of a child that was reaped and forget its PID, so that a
 * later supervise_signal() returns -ESRCH instead of reaching a reused
 * PID. Safe to call twice. */
void supervise_release(struct supervise_child *c);

/* Pure: should the child be restarted after it ended? mode is [supervise]
 * restart; by_watchdog: oomguard ended it (restart level or kill);
 * shutting_down: oomguard was told to stop (SIGTERM, SIGINT), which no
 * mode overrides. on-watchdog restarts only what oomguard ended, always
 * restarts whatever the reason, never never does. */
bool supervise_should_restart(enum restart_mode mode, bool by_watchdog, bool shutting_down);

/* Pure: the delay before the next restart. prev_delay_usec is the delay
 * used before the run that just ended (0 before the first restart) and
 * run_usec that run's length. Return base_usec for the first restart or
 * after a run of at least stable_usec, else twice prev_delay_usec; never
 * more than max_usec. */
uint64_t supervise_backoff(uint64_t prev_delay_usec, uint64_t run_usec, uint64_t base_usec,
    uint64_t max_usec, uint64_t stable_usec);

/* The signals oomguard forwards to the child, ascending: every signal a
 * process can catch except SIGCHLD (ours to reap), the synchronous faults
 * SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS, the signals
 * the kernel raises for our own system calls, SIGPIPE and SIGXFSZ, and
 * SIGTTIN and SIGTTOU, which are about our own terminal access (the caller
 * should ignore these four). Real-time signals are included. Fill sigs and
 * return the count, or -ENOBUFS, sigs untouched, when max is less than
 * that (SUPERVISE_SIGNALS_MAX is always enough). */
int supervise_forwarded_signals(int *sigs, int max);

#endif
