/*
 * guard.h: one watched cgroup and everything oomguard keeps about it: its
 * descriptors (memory files, v1 thresholds, OOM eventfd, memory.events
 * inotify, PSI trigger), the latest sample, the levels for its limit, the
 * policy's state, the gc requests' log, memory.high and reclaim (knob.c),
 * the reserve (rescue.c), the main target and the counters (stats.c).
 *
 * A guard knows no event loop and calls nothing above it: it lists its
 * descriptors (guard_fds()) for the caller to watch, is told when one is
 * readable (guard_notified()), and samples when asked (guard_sample()),
 * returning what it did. Nothing in it is global: a process may hold any
 * number of guards, one per cgroup.
 *
 * A guard's life: guard_new(), guard_watch() (locate the cgroup), then a
 * main target when there is one (guard_target_set() for the entrypoint's
 * child, guard_target_attach() for --pid or a unit's main process), then
 * guard_sample() on every wake-up, and guard_free() at the end.
 */
#ifndef OOMGUARD_GUARD_H
#define OOMGUARD_GUARD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "memcg.h"
#include "policy.h"
#include "stats.h"

/* The most descriptors guard_fds() lists. */
#define GUARD_FDS_MAX 8

/* What a descriptor of the guard's stands for. */
enum guard_fd_kind {
	GUARD_FD_THRESHOLD, /* a v1 threshold eventfd (a level crossed) */
	GUARD_FD_OOM,       /* the v1 OOM eventfd */
	GUARD_FD_EVENTS,    /* inotify on the v2 memory.events */
	GUARD_FD_PSI,       /* the PSI trigger's epoll descriptor */
	GUARD_FD_TARGET,    /* an attached main target's pidfd: readable when it ends */
};

struct guard_fd {
	int fd;
	enum guard_fd_kind kind;
};

/* Who the main target is meant to be. */
enum guard_main {
	GUARD_MAIN_NONE, /* none: the cgroup's processes (--cgroup) */
	GUARD_MAIN_APP,  /* the entrypoint's child (guard_target_set()) */
	GUARD_MAIN_PID,  /* a process attached (--pid, a unit's main process) */
};

struct guard_params {
	const char *proc_root; /* "/proc", or a fixture's */
	const char *fs_root;   /* "" or a fixture's root, put before mount points */
	enum guard_main main;
};

/* The entrypoint's child, as the guard's main target. */
struct guard_target {
	pid_t pid;
	int pidfd;             /* the caller's (not closed by the guard), or -1 */
	uint64_t started_usec; /* CLOCK_MONOTONIC */
	/* The process has exec'd the app: its SigCgt is the app's own from
	 * now on. Until then a gc signal never goes to it (the exec gate). */
	bool execed;
};

/* What one guard_sample() did. */
struct guard_result {
	bool sampled; /* a sample was read (or the frozen cgroup's last one stood in) */
	enum policy_action action; /* carried out (logged only in a dry run); POLICY_NONE: none */
	bool rescue;               /* the cgroup was frozen and the reserve released for it */
	/* A restart or kill went to the entrypoint's child: why, for the
	 * restart's log line ("restart level", ...); NULL otherwise. */
	const char *ending_why;
	bool limit_changed;   /* new levels: limit_bytes is the new limit */
	uint64_t limit_bytes; /* the limit the levels count from (0: none) */
	uint64_t next_usec;   /* sample again after this long; 0: not watching */
	const char *gone;     /* the cgroup went away (unwatched now): what happened; or NULL */
	/* A restart or kill the policy decided, held for its hook (not sent,
	 * not in action): the caller runs the hook and calls guard_release()
	 * with hold_id at its end or timeout. POLICY_NONE: none held. */
	enum policy_action held;
	unsigned hold_id;
	/* action went out after a hook held it (the hook ran before it). */
	bool after_hold;
	/* A hook may be forked now: the cgroup is not frozen nor about to
	 * freeze, and, when oomguard runs inside it, not near its limit. */
	bool hook_safe;
};

/* What the status line shows. */
struct guard_status {
	bool watching;
	bool have_sample;
	uint64_t metric_bytes;
	uint64_t limit_bytes;
	struct policy_levels levels;
};

struct guard;

/* CLOCK_MONOTONIC now: return it in microseconds. */
uint64_t guard_now_usec(void);

/* Make a guard for cfg (which must outlive it, or be replaced by
 * guard_reconfigure()); it watches nothing yet. Return it, or NULL when
 * out of memory. */
struct guard *guard_new(const struct config *cfg, const struct guard_params *p);

/* Put memory.high back (if the guard set it and the operator did not
 * since), release the reserve, close every descriptor and free g. NULL is
 * allowed. */
void guard_free(struct guard *g);

/* Locate the memory cgroup and watch it from a fresh start (a new sample,
 * levels, notifications, policy episode, reserve): the cgroup of pid when
 * pid > 0, of oomguard itself when path is "self", else path (a directory
 * or a path in the memory hierarchy). Descriptors of a cgroup watched
 * before are closed first. quiet: a failure is not logged (the caller
 * logs the first of a run). Return 0, or -errno with nothing watched. */
int guard_watch(struct guard *g, const char *path, pid_t pid, bool quiet);

/* Stop watching: close the cgroup's descriptors (the main target stays).
 * Safe when not watching. */
void guard_unwatch(struct guard *g);

/* Return whether a cgroup is watched. */
bool guard_watching(const struct guard *g);

/* Return the watched (or last watched) cgroup's directory, "" before any. */
const char *guard_dir(const struct guard *g);

/* A new configuration (a reload; the old one may be freed once this
 * returns): timings, levels (announced again at the next sample),
 * notifications, memory.high (put back when [watch] high changed), the
 * reserve (opened anew when its mode or size changed). The episode and
 * what was sent to the target stay. Returns nothing: failures are logged
 * and degrade. */
void guard_reconfigure(struct guard *g, const struct config *cfg);

/* Fill ret (room for max, GUARD_FDS_MAX is enough) with the descriptors
 * to watch for readability. Return their count. */
int guard_fds(const struct guard *g, struct guard_fd *ret, int max);

/* Return a number that changes whenever guard_fds() would list other
 * descriptors: compare it after each call into the guard. */
unsigned guard_fds_generation(const struct guard *g);

/* Return the name of a descriptor's kind, for the log ("threshold"). */
const char *guard_fd_name(enum guard_fd_kind kind);

/* A descriptor of kind turned readable (now in CLOCK_MONOTONIC usec):
 * drain it. Return 1 when a sample is due now, 0 when not, or -ENODEV
 * when the cgroup went away (the guard has stopped watching it). */
int guard_notified(struct guard *g, enum guard_fd_kind kind, uint64_t now);

/*
 * One sample and what follows from it, in order: read, inputs (pure),
 * policy (pure), act (signals, the reserve, memory.high, reclaim),
 * schedule (pure). now is CLOCK_MONOTONIC usec; why names the wake-up for
 * the debug log. Return what was done. Never fails: a failure is logged
 * and degrades. When the cgroup is frozen this is the rescue path
 * (rescue.c): nothing is logged, allocated or opened before the reserve
 * is released.
 */
struct guard_result guard_sample(struct guard *g, uint64_t now, const char *why);

/* The caller runs [hook] before a restart or kill where that is safe
 * (on): from now on the guard may hold one for it (guard_result.held)
 * until guard_release(). Off (the default), nothing is ever held. */
void guard_hooks_before(struct guard *g, bool on);

/* The hook of the action held as hold_id has ended or timed out: the
 * action is due now. Return whether it still waits (the caller samples
 * at once: the sample sends it, if the target is the same and the action
 * still due, on the rescue path if the cgroup froze meanwhile), false for
 * an id that is not the held one (sent, dropped or replaced already). */
bool guard_release(struct guard *g, unsigned hold_id);

/* The entrypoint's child is the main target from now on (a new
 * generation for the policy; memory.high set again if it was lifted for
 * the last one's end). Held open through its /proc files; a failure to
 * is logged and the child is reached by its PID. Never fails. */
void guard_target_set(struct guard *g, const struct guard_target *t);

/* The process pid is the main target from now on (--pid, a unit's main
 * process), held open and only if it is in the watched cgroup; its end
 * shows as a GUARD_FD_TARGET descriptor turning readable. Return 0, or
 * -errno (-EXDEV outside the cgroup), logged, with no main target. */
int guard_target_attach(struct guard *g, pid_t pid);

/* Return whether the guard has a main target. */
bool guard_has_target(const struct guard *g);

/* No main target from now on. Safe without one. */
void guard_target_clear(struct guard *g);

/* No more actions (oomguard is shutting down): samples go on, the policy
 * sees no target. Never fails. */
void guard_quiesce(struct guard *g);

/* Read the kernel's counters now and log the OOM kills since the last
 * sample (the app was just killed: the kernel's kill is named before its
 * end). Returns nothing. */
void guard_kernel_events(struct guard *g);

/* Return what the status line shows. */
struct guard_status guard_status(const struct guard *g);

/* What the metrics endpoint shows beyond the status and the counters. */
struct guard_view {
	uint64_t usage_bytes; /* the latest sample's usage */
	/* The strongest step of the episode under way: POLICY_NONE outside
	 * one, POLICY_GC once it began, then RESTART, KILL as they went out. */
	enum policy_action stage;
	bool has_events; /* v2: memory.events as last read */
	struct memcg_events events;
	bool has_psi; /* the cgroup's own pressure totals (not the system's) */
	bool has_psi_full;
	uint64_t psi_some_usec;
	uint64_t psi_full_usec;
	pid_t target_pid;   /* the main target, 0 without one */
	enum metric metric; /* what its configuration measures */
	int gc_signal;      /* and the signals it sends */
	int restart_signal;
};

/* Fill *ret for g. Reads the cgroup's pressure file (an open descriptor,
 * never on the rescue path: for a scrape). Never fails: what cannot be
 * read is left out. */
void guard_view(const struct guard *g, struct guard_view *ret);

/* Return the guard's counters: valid as long as g. */
const struct stats *guard_stats(const struct guard *g);

#endif
