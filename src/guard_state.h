/*
 * guard_state.h: struct guard, for the guard's own files (guard.c the
 * guard's life and its main target, guard_sample.c the path of a sample,
 * guard_notify.c the kernel's notifications, respond.c the acting) and
 * for its unit suite. Everyone else goes through guard.h.
 */
#ifndef OOMGUARD_GUARD_STATE_H
#define OOMGUARD_GUARD_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "action.h"
#include "cgroup.h"
#include "config.h"
#include "episode.h"
#include "guard.h"
#include "inputs.h"
#include "knob.h"
#include "memcg.h"
#include "policy.h"
#include "rescue.h"
#include "schedule.h"
#include "stats.h"

/* How long after a gc request its low point is looked for at most: once
 * the request took effect, and while it shows none (an app that frees
 * nothing). */
#define GUARD_LOW_SEEK_USEC           1000000ULL
#define GUARD_LOW_SEEK_NO_EFFECT_USEC 100000ULL

/* The levels that get a v1 threshold notification: gc, restart, kill. */
#define GUARD_THRESHOLDS 3

struct guard {
	const struct config *cfg;
	struct guard_params p;

	/* the cgroup (guard.c) */
	bool watching; /* false before guard_watch() and once the cgroup is gone */
	struct cgroup cg;
	struct memcg mem;
	struct action_ctx actx;

	/* its notifications (guard_notify.c) */
	int thr_fd[GUARD_THRESHOLDS];
	bool thr_failed;
	int oom_fd, events_fd, psi_epfd, psi_fd;
	int psi_rd_fd;                /* the pressure file, read-only: averages and totals */
	bool psi_polling;             /* no trigger: read the averages on each sample */
	uint64_t pressure_until_usec; /* poll at poll_min until then */
	const char *pressure_new;     /* pressure began (how it showed): logged after the act */
	uint64_t psi_full_usec;       /* the full total at the last sample near the limit */
	unsigned fds_gen;             /* changes with the descriptors guard_fds() lists */

	/* the latest sample and what it means (guard_sample.c) */
	struct memcg_sample sample;
	bool have_sample;
	uint64_t metric_bytes;
	bool about_to_freeze; /* full memory stalls within the reserve */
	bool kernel_kills;    /* the kernel's OOM killer is on at this limit */
	bool throttled;       /* the v2 high or max counter rose */
	int read_errno;       /* last read error logged, to log a run of them once */
	struct inputs_events events;

	/* the levels and the policy (guard_sample.c) */
	uint64_t limit_bytes;
	bool levels_set;
	bool nolimit_warned; /* the no-limit warning is given once */
	struct policy_levels levels;
	struct policy_timing timing;
	struct policy_state policy;
	struct schedule_params sched;
	bool quiesced; /* shutting down: no more actions */

	/* what was done (respond.c) */
	struct episode gc_log;      /* gc requests summed up for the log */
	uint64_t gc_low_bytes;      /* the metric's low point since the last gc request */
	struct knob knob;           /* memory.high, memory.reclaim */
	const char *ending_why;     /* the app's restart or kill went out in this sample */
	uint64_t gc_low_generation; /* the target the live set's low point is of */
	/* After a gc request, until the metric's low point is found (it rose
	 * again once the request took effect) or GUARD_LOW_SEEK_USEC passed
	 * (GUARD_LOW_SEEK_NO_EFFECT_USEC without an effect): sampled every
	 * poll_min with memory.stat, for the live set's estimate. */
	bool low_seeking;
	uint64_t low_seek_from_usec; /* the request's sample */

	/* a restart or kill held for its hook (guard_sample.c) */
	enum policy_action held;   /* POLICY_NONE: none */
	unsigned hold_id;          /* the hold's, a new one for each */
	bool hold_released;        /* its hook ended: send at the next sample */
	uint64_t hold_generation;  /* the target it was decided for */
	uint64_t hold_sample_usec; /* the sample that decided it (reaction time) */
	uint64_t hold_until_usec;  /* sent at the first sample from then, hook or not */
	bool self_inside;          /* oomguard runs in the watched cgroup (or below) */
	bool hooks_before;         /* the caller runs hooks and releases holds */

	/* the main target (guard.c) */
	bool has_target;
	pid_t target_pid;
	int target_pidfd;            /* the caller's pidfd of the child, or -1 */
	bool target_execed;          /* the exec gate: see struct guard_target */
	struct action_target target; /* held open: the rescue path's target */
	uint64_t target_started_usec;
	uint64_t generation; /* a new one for every main target */
	bool handler_warned; /* this target's lack of a gc handler was logged */

	/* the reserve (respond.c) */
	struct rescue rescue;
	bool rescue_ok;       /* rescue_open() succeeded */
	bool reserve_taken;   /* held once: later takes say "again" */
	bool reserve_failing; /* a failure to take it was logged */

	struct stats stats;
};

/* guard_notify.c: the kernel's notifications on the watched cgroup */

/* Register the v1 OOM eventfd or the v2 memory.events inotify, the PSI
 * trigger, and open the pressure file. Returns nothing: each refusal is
 * logged once with what replaces it. */
void guard_notify_open(struct guard *g);

/* Close every notification and the v1 thresholds. Safe to call twice. */
void guard_notify_close(struct guard *g);

/* v1: an eventfd at every armed level of g->levels, so that crossing one
 * wakes the caller at once. Returns nothing: a refusal is logged once
 * and polling carries the load. */
void guard_notify_thresholds(struct guard *g);

/* Whether the pressure averages (where no trigger could be set) show
 * pressure that began now. */
bool guard_notify_psi_poll(struct guard *g, uint64_t now);

/* Whether the cgroup is about to freeze: usage within the reserve of
 * limit_bytes while the full stall total of the pressure file grows. */
bool guard_notify_about_to_freeze(
    struct guard *g, const struct memcg_sample *s, uint64_t limit_bytes);

#endif
