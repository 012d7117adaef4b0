/*
 * respond.h: a guard acting on the policy's decision: who the targets
 * are, the signals sent to them and logged, the rescue of a frozen cgroup
 * with its reserve. Part of the guard (guard_state.h): guard_sample.c
 * decides when, action.c signals and rescue.c holds the reserve.
 */
#ifndef OOMGUARD_RESPOND_H
#define OOMGUARD_RESPOND_H

#include <stdbool.h>
#include <stdint.h>

#include "guard_state.h"
#include "policy.h"

/* Whether the main target catches sig, read through its descriptors when
 * it is held open (then no file is opened: the rescue path asks too); 0
 * before it exec'd (the exec gate: its dispositions are still those of
 * the process that forked it). Return 1, 0, or -errno (-ESRCH without a
 * main target). */
int respond_target_caught(struct guard *g, int sig);

/* Return whether there is anyone to signal: the main target; or, without
 * an app, the cgroup's processes, unless the main target is the one
 * wanted (--pid, --unit, target = main) and it is gone. */
bool respond_targets_exist(const struct guard *g);

/* Return whether a gc request may go to the main target: always, unless
 * [gc] require_handler asks that it catch the signal, read afresh each
 * call. The lack of a handler is logged once per target, after its
 * start-up (now and the start in CLOCK_MONOTONIC usec), never while
 * frozen: on the rescue path it logs nothing. */
bool respond_gc_allowed(struct guard *g, uint64_t now, bool frozen);

/* Carry out a (not frozen) action decided by the sample that began at
 * now: send its signal to the configured targets, or only log it in a dry
 * run, log the outcome and count it; a restart or kill of the app notes
 * why (g->ending_why) and lifts memory.high. Returns nothing: a failure
 * to send is in the logged outcome. */
void respond_act(struct guard *g, enum policy_action a, uint64_t now);

/* Feed the sample (now in CLOCK_MONOTONIC usec) to the gc requests'
 * account for the log (episode.c), and log its summary line at info when
 * one is due. Returns nothing. */
void respond_gc_summary(struct guard *g, uint64_t now);

/* The room a hook needs to fork and exec in the cgroup oomguard runs in,
 * at least (the reserve's size when larger). */
#define RESPOND_HOOK_ROOM_BYTES (8ULL << 20)

/* What decides whether a hook may be forked now. */
struct respond_hook_room {
	bool frozen; /* the cgroup is frozen or about to freeze */
	bool inside; /* oomguard (and so its hook) runs in the watched cgroup */
	uint64_t usage_bytes, metric_bytes, limit_bytes; /* limit 0: none */
	uint64_t kill_bytes;                             /* POLICY_OFF: none */
	uint64_t room_bytes;                             /* what a hook needs */
};

/* Whether a hook may be forked now: never while the cgroup is frozen or
 * about to freeze (the hook would stall with it); when oomguard runs in
 * the watched cgroup, not at its kill level nor with less than room_bytes
 * under its limit (the hook is charged there and would wait for memory
 * like the app). Pure. */
bool respond_hook_safe(const struct respond_hook_room *r);

/* The reserve for the watched cgroup: resolve its mode (auto: memory when
 * oomguard is inside the cgroup, limit when not) and, in limit mode, open
 * the limit file, releasing what an earlier one held. Holds nothing yet
 * (respond_reserve_sync() does). Returns nothing: without a reserve (none
 * configured, or the file refused, logged) a frozen cgroup gets SIGKILL. */
void respond_reserve_open(struct guard *g);

/* Hold the reserve for the current limit: at start, and again once the
 * episode a rescue began is over, putting back a limit raised for it. Not
 * on the rescue path: it maps, writes and logs. Returns nothing: a
 * failure is logged and retried on the next sample. */
void respond_reserve_sync(struct guard *g);

/* The rescue path's end (rescue.c holds its rule): the cgroup is frozen
 * and the reserve held. Signal the main target through its open
 * descriptors (a POLICY_NONE sends nothing: an earlier signal is
 * pending), release the reserve so that it wakes into its handler, and
 * only then reach the other targets, count and log. Returns nothing: the
 * outcome is logged. */
void respond_rescue(struct guard *g, enum policy_action a, uint64_t now);

#endif
