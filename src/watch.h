/*
 * watch.h: the watchdog: the libevent loop that samples the cgroup,
 * listens for kernel notifications and signals, asks the policy what to
 * do, acts, and supervises the app when oomguard runs it.
 *
 * The first part is for main.c. The second is the loop's state, shared by
 * the modules its callbacks call into (app.c, sidecar.c, respond.c,
 * knob.c), and the calls they make back into watch.c.
 */
#ifndef OOMGUARD_WATCH_H
#define OOMGUARD_WATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/time.h>
#include <sys/types.h>

#include "action.h"
#include "cgroup.h"
#include "config.h"
#include "episode.h"
#include "hints_cmd.h"
#include "inputs.h"
#include "knob.h"
#include "memcg.h"
#include "policy.h"
#include "rescue.h"
#include "schedule.h"
#include "supervise.h"
#include "unit.h"

struct watch_opts {
	const char *proc_root;
	const char *fs_root;
	char **app_argv;  /* NULL: watch only (the cgroup's processes are the targets) */
	pid_t pid;        /* watch only: the main target (--pid), 0 if none */
	const char *unit; /* watch only: the systemd unit whose cgroup is watched, or NULL */
	/* Build the configuration afresh (SIGHUP): return 0, or -EINVAL with
	 * the error in err. NULL: SIGHUP is the app's (it is passed on). */
	int (*reload)(struct config *ret, char *err, size_t errlen);
};

/* Run until the app ends for good (entrypoint) or the watched cgroup goes
 * away (watch only). Return the exit code oomguard should exit with: the
 * app's (128+N when a signal ended it, 126/127 when it could not be run),
 * 0 when a watched cgroup was removed, or 1 when start-up failed (the
 * reason logged). */
int watch_run(const struct config *cfg, const struct watch_opts *opts);

/* ---- the loop's state, for the modules it calls into ---- */

/* The levels that get a v1 threshold notification: gc, restart, kill. */
#define WATCH_THRESHOLDS 3
/* The signals the loop listens to: those forwarded to the app, and SIGCHLD. */
#define WATCH_SIGNALS_MAX (SUPERVISE_SIGNALS_MAX + 1)

struct event;
struct event_base;

/* One per process, made by watch_run() and passed as the argument of
 * every libevent callback. */
struct watch {
	const struct config *cfg;
	const struct watch_opts *opts;
	struct event_base *base;
	struct event *poll_ev;
	struct event *restart_ev;
	struct event *grace_ev;
	struct event *sig_ev[WATCH_SIGNALS_MAX];
	int nsig;

	/* the cgroup and its notifications */
	struct cgroup cg;
	struct memcg mem;
	struct action_ctx actx;
	int thr_fd[WATCH_THRESHOLDS];
	struct event *thr_ev[WATCH_THRESHOLDS];
	bool thr_failed;
	int oom_fd, events_fd, psi_epfd, psi_fd;
	int psi_rd_fd;          /* the pressure file, read-only: averages and totals */
	uint64_t psi_full_usec; /* its full total at the last sample near the limit */
	bool about_to_freeze;   /* the latest sample found it so */
	bool kernel_kills;      /* the kernel's OOM killer is on at this limit */
	struct event *oom_ev, *events_ev, *psi_ev;
	bool psi_polling;             /* no trigger: read the averages on each sample */
	uint64_t pressure_until_usec; /* poll at poll_min until then */
	bool watching;                /* false once the cgroup is gone */

	/* the latest sample and the levels for its limit */
	struct memcg_sample sample;
	bool have_sample;
	uint64_t metric_bytes;
	uint64_t limit_bytes;
	bool levels_set;
	bool nolimit_warned; /* the no-limit warning is given once */
	struct policy_levels levels;
	struct policy_timing timing;
	struct policy_state policy;
	struct episode gc_log; /* gc requests summed up for the log */
	struct schedule_params sched;
	int read_errno;              /* last read error logged, to log a run of them once */
	struct inputs_events events; /* the kernel's counters last seen */

	/* [watch] high and [gc] reclaim */
	struct knob knob;

	/* the app, when oomguard runs it */
	bool have_child;
	struct supervise_child child;
	uint64_t generation;
	bool by_watchdog; /* oomguard sent the current child restart or kill */
	const char *watchdog_why;
	bool shutting_down;
	uint64_t restart_delay_usec;
	int exit_code;
	bool take_terminal;
	bool handler_warned; /* this child's lack of a gc handler was logged */
	bool throttled;      /* the latest sample saw the kernel throttling */

	/* the runtime hints the app was started with (hints_cmd.c) */
	struct hints_app hints;

	/* the main target held open (the child, or --pid), and the reserve:
	 * the rescue path's tools (rescue.c) */
	struct action_target target;
	struct event *target_ev; /* --pid: its pidfd turns readable when it ends */
	struct rescue rescue;
	bool rescue_ok;               /* rescue_open() succeeded */
	bool reserve_taken;           /* held once: later takes say "again" */
	bool reserve_failing;         /* a failure to take it was logged */
	uint64_t target_started_usec; /* --pid or the unit's main process: when taken */

	/* systemd: the unit followed, reloads, the manager's notifications */
	struct unit_bus *bus;
	struct unit_info unit;   /* as last seen */
	bool unit_failing;       /* a failure to ask or to locate was logged */
	struct event *bus_ev;    /* the bus readable: answers and systemd's signals */
	unsigned bus_ev_gen;     /* the connection bus_ev watches */
	struct event *follow_ev; /* ask about the unit shortly (a signal came) */
	unsigned bus_gen;        /* the connection a watch was tried on, or 0 */
	bool signals_ok;         /* systemd signals the unit's changes on it */
	unsigned unit_ticks;     /* ticks since the unit was last asked about */
	struct event *tick_ev;   /* every second: the unit, the status line */
	struct event *wd_ev;     /* WATCHDOG=1 */
	uint64_t wd_usec;
	struct config *cfg_owned; /* a configuration read by a reload */
	bool ready_sent;
};

/* CLOCK_MONOTONIC now: return it in microseconds. */
uint64_t watch_now_usec(void);

/* Return usec as a struct timeval, for event_add(). */
struct timeval watch_timeval(uint64_t usec);

/* event_add(ev, tv) (tv NULL: no timeout), a failure (ev NULL counts as
 * one) logged with what names the event. Return 0 or -1. */
int watch_event_add(struct event *ev, const struct timeval *tv, const char *what);

/*
 * Take one sample (why names the wake-up, for the debug log) and do what
 * follows from it: levels, the policy's action, the reserve, reclaim, the
 * next poll. Returns nothing: a failure is logged and degrades. When the
 * cgroup is frozen this is the start of the rescue path (rescue.c).
 */
void watch_sample(struct watch *w, const char *why);

/* Log the kernel's OOM kills counted in s since the last sample and keep
 * its counters. Return whether the v2 high or max counter rose (the
 * kernel is throttling or reclaiming at a limit); false on the first
 * sample. */
bool watch_kernel_events(struct watch *w, const struct memcg_sample *s);

/* Register the kernel's notifications on the watched cgroup (v1 OOM
 * eventfd, v2 memory.events inotify, PSI trigger) and open its pressure
 * file. Returns nothing: each refusal is logged once with what replaces
 * it. */
void watch_notifications_register(struct watch *w);

/* Close every notification and the v1 thresholds. Safe to call twice. */
void watch_notifications_close(struct watch *w);

/* Stop watching the cgroup (why says what happened, for the log): with
 * --unit wait for it to run again, without an app end the loop (exit code
 * 0), with one keep supervising it unwatched. Returns nothing. */
void watch_unwatch(struct watch *w, const char *why);

/* Locate the cgroup anew and watch it from a fresh start (a new sample,
 * levels, notifications, policy episode, reserve): the old descriptors
 * belong to a cgroup that may be gone. Return 0, or -errno (logged) with
 * nothing watched. */
int watch_relocate(struct watch *w);

#endif
