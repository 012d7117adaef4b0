/*
 * hook.h: the operator's program run on an escalation ([hook] exec, on,
 * timeout). The event is in its environment (OOMGUARD_EVENT, ...), its
 * output lines go to oomguard's log, and it is killed, with its process
 * group, at its timeout. The caller is told once, from the loop, when
 * the hook has ended or timed out, so that a signal that waits for the
 * hook is sent then and never later.
 *
 * oomguard's child is made with clone3() and no exit signal, and never
 * execs (an exec gives a process SIGCHLD as its exit signal again): it
 * raises no SIGCHLD, the entrypoint's reaper (waitpid(-1), which waits
 * only for children that signal their end) never collects it, and this
 * module reaps it through its pidfd. It runs the program as its own
 * child in its process group and exits with its code (128+N after
 * signal N).
 *
 * Rules for the caller (docs/metrics.md, oomguard.ini(5)): never start a
 * hook while the cgroup oomguard runs in is frozen (the hook would freeze
 * in it too), never on the rescue path (a hook forks and allocates), and
 * never hold a SIGKILL for it longer than its timeout. oomguard's loop
 * holds a restart or kill for its hook where that is safe (the guard
 * decides: guard_result.held) and sends it from the done callback; other
 * hooks run after the action, without one (observe.c).
 */
#ifndef OOMGUARD_HOOK_H
#define OOMGUARD_HOOK_H

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"

/* Hooks running at once, at most; a hook past this is not started. */
#define HOOK_RUNNING_MAX 4
/* A line of output longer than this is cut, and a hook's output after
 * this many lines is not logged. */
#define HOOK_LINE_MAX  256
#define HOOK_LINES_MAX 64

/* What the hook is told: each field is one OOMGUARD_* variable. */
struct hook_info {
	enum hook_event event;
	const char *cgroup;    /* OOMGUARD_CGROUP */
	const char *name;      /* OOMGUARD_NAME: container or unit, or NULL */
	uint64_t metric_bytes; /* OOMGUARD_METRIC_BYTES */
	uint64_t limit_bytes;  /* OOMGUARD_LIMIT_BYTES (0: none) */
	uint64_t level_bytes;  /* OOMGUARD_LEVEL_BYTES: the level crossed */
	pid_t pid;             /* OOMGUARD_PID: the target (0: none) */
	int signo;             /* OOMGUARD_SIGNAL: what was or is to be sent (0: none) */
	bool dry_run;          /* OOMGUARD_DRY_RUN=1 */
	bool before;           /* OOMGUARD_WHEN=before: signo waits for the hook; else after */
};

/* The variables of the hook's environment, at most this many of ours. */
#define HOOK_VARS 10

/* Build the hook's environment into env (at most max entries with the
 * terminating NULL), its strings in buf: the OOMGUARD_* variables of
 * info first, then those of envp except any of the same names. Pure.
 * Return the number of entries, or -E2BIG when env or buf is too small. */
int hook_env(const struct hook_info *info, char *const *envp, char **env, size_t max, char *buf,
    size_t buflen);

/* How a hook ended, for its done callback: a wait status (>= 0; the
 * program's exit code, 128+N when signal N ended it), or -ETIMEDOUT when
 * it was killed at its timeout. */
typedef void (*hook_done_fn)(void *arg, int status);

struct hook_set;

/* The running hooks of one loop. Return it, or NULL when out of memory. */
struct hook_set *hook_set_new(struct event_base *base);

/* Kill every running hook with its group and reap it (waiting the few
 * milliseconds a SIGKILL takes), without calling their done callbacks;
 * free hs. NULL is allowed. */
void hook_set_free(struct hook_set *hs);

/* Run program for info with timeout_usec. done(arg, status), when not
 * NULL, is called once from the loop: at the hook's end or at its
 * timeout, whichever comes first. Return 0, or -EBUSY when
 * HOOK_RUNNING_MAX hooks run already, or -errno when it cannot be started
 * (an exec that fails is a start: the hook ends with 127 or 126). */
int hook_run(struct hook_set *hs, const char *program, const struct hook_info *info,
    uint64_t timeout_usec, hook_done_fn done, void *arg);

/* The hooks running now. */
unsigned hook_running(const struct hook_set *hs);

#endif
