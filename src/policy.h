/*
 * policy.h: oomguard's escalation policy, as pure code.
 *
 * The policy turns a stream of samples (time, metric, frozen, target
 * liveness) into at most one action per sample: ask the app to free memory
 * (gc), ask it to restart (restart), or SIGKILL it (kill). It does no I/O,
 * reads no clock and keeps no globals, so it is tested with tables of
 * synthetic samples; docs/policy.md describes the rules and the state table.
 */

#ifndef OOMGUARD_POLICY_H
#define OOMGUARD_POLICY_H

#include <stdbool.h>
#include <stdint.h>

/*
 * A level or a percentage that is disabled, or that has no meaning because
 * the cgroup has no limit. As a timing it means an interval that never
 * elapses.
 */
#define POLICY_OFF UINT64_MAX

/* Ordered by strength: a larger value is the stronger action. */
enum policy_action {
	POLICY_NONE,
	POLICY_GC,
	POLICY_RESTART,
	POLICY_KILL,
};

/* Thresholds resolved to bytes for the current limit; POLICY_OFF disables. */
struct policy_levels {
	uint64_t gc_bytes;
	uint64_t restart_bytes;
	uint64_t kill_bytes;
	uint64_t rearm_bytes; /* an episode ends below this */
};

struct policy_timing {
	/*
	 * How long a GC request gets to take effect: one that has not is
	 * repeated after it, and the restart level fires once it has passed.
	 */
	uint64_t cooldown_usec;
	/* After the restart signal, SIGKILL if the target is still alive. */
	uint64_t grace_usec;
	/* A target this young is not sent the restart signal, nor SIGKILL at
	 * the kill level unless its cgroup is frozen. */
	uint64_t startup_usec;
	/* After a GC request that took effect, the next one may go out as
	 * soon as the metric is back at the gc level, but not sooner than
	 * this (nor later than the cooldown would allow). */
	uint64_t min_interval_usec;
};

/*
 * A GC request took effect when a later sample, not frozen, shows the
 * metric a sixteenth below what it was at the request, or below a rearm
 * level that lies below the gc level (docs/policy.md says why).
 */
#define POLICY_EFFECT_DIVISOR 16

struct policy_input {
	uint64_t now_usec; /* CLOCK_MONOTONIC */
	uint64_t metric_bytes;
	bool frozen; /* cgroup v1 under_oom 1 */
	/*
	 * A frozen target can be woken (rescue.c holds a reserve to release),
	 * so a handler it catches will run: a frozen cgroup is then sent the
	 * mildest signal the target handles rather than SIGKILL.
	 */
	bool rescue;
	bool restart_caught; /* the target catches the restart signal */
	/* The kernel's OOM killer ends a stall at this limit by itself (v2
	 * memory.max, v1 with the OOM killer on): a rescue then sends only a
	 * signal the target handles, never the SIGKILL the kernel would send. */
	bool kernel_kills;
	/* The kernel is throttling or reclaiming at a limit (v2 memory.events
	 * high or max rose): counts as having reached the gc level, no more. */
	bool throttled;
	bool target_alive; /* there is a target to signal */
	/* False when require_handler is set and the target lacks a handler. */
	bool gc_allowed;
	uint64_t target_started_usec; /* CLOCK_MONOTONIC */
	/* Changes whenever the supervised child is (re)started. */
	uint64_t target_generation;
};

/*
 * Bookkeeping between samples. Callers only initialise it with policy_init()
 * and pass it back; the fields are public so that tests and logs can read
 * them. Times ending in _usec are on the policy's own clock, which advances
 * by each forward step of now_usec and ignores backward ones.
 */
struct policy_state {
	bool clock_started;
	uint64_t clock_usec;
	uint64_t last_now_usec; /* the raw now_usec of the last sample */

	/* The episode: from reaching the lowest armed level to below rearm. */
	bool in_episode;
	bool restart_fired; /* the restart signal went out in it */

	/* GC requests are paced across episodes and targets. */
	bool gc_ever;
	uint64_t gc_last_usec;
	uint64_t gc_request_bytes; /* the metric when the last one went out */
	bool gc_effect;            /* the last one has taken effect */

	/* The current target, one generation of the supervised child. */
	bool target_seen;
	uint64_t target_generation;
	uint64_t target_start_usec;
	bool target_gc_sent; /* asked to free memory, this episode */
	bool target_restart_sent;
	uint64_t target_restart_usec;
	bool target_kill_sent;
	/* A rescue signal went out: its handler gets the grace period, in
	 * which neither the kill level nor a frozen cgroup ends it. */
	bool target_rescued;
	uint64_t target_rescue_usec;
};

/* policy.c */

/* Resets st to "no sample seen yet". Never fails. */
void policy_init(struct policy_state *st);

/* The metric at or under which the last gc request has taken effect by
 * its fall (a sixteenth below the metric at the request): the rules' own
 * test and the read rule's (schedule.c). Pure. */
uint64_t policy_effect_bytes(const struct policy_state *st);

/*
 * Feeds one sample. Returns the strongest action due now (POLICY_NONE if
 * none; for a frozen cgroup with in->rescue, the mildest one the target
 * handles) and records it in st as carried out: the caller must act on it, or
 * at least log it in dry-run mode, before the next call. Returns POLICY_NONE
 * whenever in->target_alive is false. Never fails; any input is accepted.
 */
enum policy_action policy_eval(struct policy_state *st, const struct policy_levels *lv,
    const struct policy_timing *tm, const struct policy_input *in);

/*
 * A restart or kill that policy_eval() returned was held back (a hook ran
 * before it) and went out at now_usec (sent), or was dropped (not sent):
 * the rules see it as sent then, so that the grace period counts from
 * the signal, or as never sent. Never fails; a gc or none is ignored.
 */
void policy_held(struct policy_state *st, enum policy_action act, uint64_t now_usec, bool sent);

/*
 * Returns "none", "gc", "restart" or "kill"; "unknown" for a value outside
 * the enum. Never NULL; the string is static.
 */
const char *policy_action_name(enum policy_action a);

#endif /* OOMGUARD_POLICY_H */
