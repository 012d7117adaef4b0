/*
 * respond.h: acting on the policy's decision: the main target held open,
 * the signals sent to the targets and logged, and the rescue of a frozen
 * cgroup with its reserve. The loop (watch.c) decides when; action.c
 * signals and rescue.c holds the reserve.
 */
#ifndef OOMGUARD_RESPOND_H
#define OOMGUARD_RESPOND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "policy.h"
#include "watch.h"

/* The main target of a watch without an app (--pid, or a unit's main
 * process): held open from now on, and only if it is in the watched
 * cgroup; its end is noticed through its pidfd. A new target is a new
 * generation for the policy. Return 0, or -errno (-EXDEV outside the
 * cgroup), logged, with no main target held. */
int respond_target_attach(struct watch *w, pid_t pid);

/* Drop the main target of a watch without an app. Safe without one. */
void respond_target_detach(struct watch *w);

/* Whether the main target catches sig, read through its descriptors when
 * it is held open (then no file is opened: the rescue path asks too); 0
 * for a child that has not exec'd yet (its dispositions are still
 * oomguard's). Return 1, 0, or -errno (-ESRCH without a main target). */
int respond_target_caught(struct watch *w, int sig);

/* Return whether there is anyone to signal: the main target; or, in a
 * watch without an app, the cgroup's processes, unless the main target
 * is the one wanted (--pid, --unit, target = main) and it is gone. */
bool respond_targets_exist(const struct watch *w);

/* Return whether a gc request may go to the main target: always, unless
 * [gc] require_handler asks that it catch the signal, read afresh each
 * call. The lack of a handler is logged once per target, after its
 * start-up (now and the start in CLOCK_MONOTONIC usec), never while
 * frozen: on the rescue path it logs nothing. */
bool respond_gc_allowed(struct watch *w, uint64_t now, bool frozen);

/* Carry out a (not frozen) action: send its signal to the configured
 * targets, or only log it in a dry run, and log the outcome; a restart or
 * kill of the app counts as the watchdog's and lifts memory.high. Returns
 * nothing: a failure to send is in the logged outcome. */
void respond_act(struct watch *w, enum policy_action a);

/* Feed the sample (now in CLOCK_MONOTONIC usec) to the gc requests
 * account for the log (episode.c), and log its summary line at info when
 * one is due. Returns nothing. */
void respond_gc_summary(struct watch *w, uint64_t now);

/* The reserve for the watched cgroup: resolve its mode (auto: memory when
 * oomguard is inside the cgroup, limit when not) and, in limit mode, open
 * the limit file, releasing what an earlier one held. Holds nothing yet
 * (respond_reserve_sync() does). Returns nothing: without a reserve (none
 * configured, or the file refused, logged) a frozen cgroup gets SIGKILL. */
void respond_reserve_open(struct watch *w);

/* Hold the reserve for the current limit: at start, and again once the
 * episode a rescue began is over, putting back a limit raised for it. Not
 * on the rescue path: it maps, writes and logs. Returns nothing: a
 * failure is logged and retried on the next sample. */
void respond_reserve_sync(struct watch *w);

/* The rescue path's end (rescue.c holds its rule): the cgroup is frozen
 * and the reserve held. Signal the main target through its open
 * descriptors (a POLICY_NONE sends nothing: an earlier signal is
 * pending), release the reserve so that it wakes into its handler, and
 * only then reach the other targets and log. Returns nothing: the outcome
 * is logged. */
void respond_rescue(struct watch *w, enum policy_action a);

#endif
