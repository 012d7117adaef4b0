/*
 * policy.c: oomguard's escalation policy (gc, restart, kill), pure code.
 *
 * Everything here is a function of its arguments and of struct policy_state:
 * no I/O, no clock reads, no globals. docs/policy.md states the rules.
 */

#include <stdbool.h>
#include <stdint.h>

#include "policy.h"

/* a - b, or 0 when b is later: a time that seems to run backwards is 0. */
static uint64_t
policy_sub_usec(uint64_t a_usec, uint64_t b_usec)
{
	return a_usec > b_usec ? a_usec - b_usec : 0;
}

/*
 * Whether interval_usec has passed between then_usec and now_usec, both on
 * the policy clock. That clock only moves forward but may wrap, as jiffies
 * do, so the difference is taken modulo 2^64: exact for any interval under
 * 584,000 years, and a clock pushed past UINT64_MAX by a wild jump keeps
 * running instead of stopping. An interval of POLICY_OFF never passes.
 */
static bool
policy_elapsed(uint64_t now_usec, uint64_t then_usec, uint64_t interval_usec)
{
	if (interval_usec == POLICY_OFF)
		return false;
	return now_usec - then_usec >= interval_usec;
}

/*
 * Whether the sample has reached a level. A frozen cgroup has reached every
 * armed level: it is at its limit whatever the metric says (the metric may
 * exclude page cache, and v1 usage is fuzzy).
 */
static bool
policy_reached(uint64_t level_bytes, const struct policy_input *in)
{
	if (level_bytes == POLICY_OFF)
		return false;
	return in->frozen || in->metric_bytes >= level_bytes;
}

static uint64_t
policy_min(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* The level that opens an episode; POLICY_OFF when every level is off. */
static uint64_t
policy_lowest_bytes(const struct policy_levels *lv)
{
	return policy_min(lv->gc_bytes, policy_min(lv->restart_bytes, lv->kill_bytes));
}

/*
 * The level below which an episode ends. A rearm level that is off, or not
 * below the opening level, is taken as the opening level: otherwise a metric
 * between the two would end and reopen an episode on every sample.
 */
static uint64_t
policy_rearm_bytes(const struct policy_levels *lv, uint64_t lowest_bytes)
{
	return policy_min(lv->rearm_bytes, lowest_bytes);
}

/*
 * Advances the policy's own clock by the forward step of now_usec and
 * returns it. A backward step counts as no time passed, and time goes on
 * from there, so one bad sample cannot stall the grace period for as long
 * as the jump was. The clock starts at the first now_usec, so that it reads
 * like CLOCK_MONOTONIC in logs until the first backward step.
 */
static uint64_t
policy_clock(struct policy_state *st, uint64_t now_usec)
{
	if (!st->clock_started) {
		st->clock_started = true;
		st->clock_usec = now_usec;
	} else if (now_usec > st->last_now_usec) {
		st->clock_usec += now_usec - st->last_now_usec;
	}
	st->last_now_usec = now_usec;
	return st->clock_usec;
}

/*
 * A new generation is a new process: what was sent to the old one (and its
 * pending grace kill) says nothing about it. Its start time is carried onto
 * the policy clock once, so that later clock steps cannot move it.
 */
static void
policy_track_target(struct policy_state *st, const struct policy_input *in, uint64_t clock_usec)
{
	uint64_t age_usec;

	if (st->target_seen && st->target_generation == in->target_generation)
		return;
	age_usec = policy_sub_usec(in->now_usec, in->target_started_usec);
	st->target_seen = true;
	st->target_generation = in->target_generation;
	st->target_start_usec = clock_usec - age_usec; /* modulo 2^64 */
	st->target_gc_sent = false;
	st->target_restart_sent = false;
	st->target_restart_usec = 0;
	st->target_kill_sent = false;
	st->target_rescued = false;
	st->target_rescue_usec = 0;
}

/*
 * Closes the episode below rearm (or when no level is armed, as when the
 * limit is removed) and opens one at the lowest armed level. What was sent
 * to the target stays: a target told to restart still owes its exit.
 */
static void
policy_track_episode(
    struct policy_state *st, const struct policy_levels *lv, const struct policy_input *in)
{
	uint64_t lowest_bytes = policy_lowest_bytes(lv);

	if (st->in_episode &&
	    (lowest_bytes == POLICY_OFF ||
	        (!in->frozen && in->metric_bytes < policy_rearm_bytes(lv, lowest_bytes)))) {
		st->in_episode = false;
		st->restart_fired = false;
		st->target_gc_sent = false;
	}
	if (!st->in_episode && policy_reached(lowest_bytes, in))
		st->in_episode = true;
}

/* Whether the target is still within its start-up. */
static bool
policy_young(const struct policy_state *st, const struct policy_timing *tm, uint64_t clock_usec)
{
	return !policy_elapsed(clock_usec, st->target_start_usec, tm->startup_usec);
}

/*
 * The kill level, or a restart whose grace ran out. A young target is not
 * killed by the metric alone: the restart signal is its strongest step
 * (policy_restart_due). A frozen cgroup is killed whatever the target's
 * age, so that one with the OOM killer off never stays frozen.
 */
static bool
policy_kill_due(const struct policy_state *st, const struct policy_levels *lv,
    const struct policy_timing *tm, const struct policy_input *in, uint64_t clock_usec)
{
	if (st->target_kill_sent)
		return false;
	if (policy_reached(lv->kill_bytes, in) && (in->frozen || !policy_young(st, tm, clock_usec)))
		return true;
	return st->target_restart_sent &&
	    policy_elapsed(clock_usec, st->target_restart_usec, tm->grace_usec);
}

static bool
policy_gc_usable(const struct policy_levels *lv, const struct policy_input *in)
{
	return lv->gc_bytes != POLICY_OFF && in->gc_allowed;
}

/*
 * The restart level fires once per episode and once per target, after the
 * target's start-up (or within it at the kill level), and only once GC
 * requests have stopped working: the last one went to this target in this
 * episode, a cooldown ago, and has not taken effect. A frozen cgroup skips
 * the waits: its tasks can neither run a GC handler nor finish starting,
 * and the restart is then the strongest action left.
 */
static bool
policy_restart_due(const struct policy_state *st, const struct policy_levels *lv,
    const struct policy_timing *tm, const struct policy_input *in, uint64_t clock_usec)
{
	if (st->target_restart_sent || st->target_kill_sent ||
	    !policy_reached(lv->restart_bytes, in))
		return false;
	if (in->frozen)
		return true;
	if (st->restart_fired ||
	    (policy_young(st, tm, clock_usec) && !policy_reached(lv->kill_bytes, in)))
		return false;
	if (!policy_gc_usable(lv, in))
		return true;
	return st->target_gc_sent && !st->gc_effect &&
	    policy_elapsed(clock_usec, st->gc_last_usec, tm->cooldown_usec);
}

/*
 * GC requests go out at the gc level, and at the restart and kill levels
 * as their first step. After one that took effect the next waits
 * min_interval (never longer than the cooldown), after one that has not
 * the cooldown. A target told to restart or killed is leaving and is not
 * asked.
 */
static bool
policy_gc_due(const struct policy_state *st, const struct policy_levels *lv,
    const struct policy_timing *tm, const struct policy_input *in, uint64_t clock_usec)
{
	uint64_t wait_usec = tm->cooldown_usec;

	if (!policy_gc_usable(lv, in) || st->target_restart_sent || st->target_kill_sent)
		return false;
	if (!policy_reached(lv->gc_bytes, in) && !policy_reached(lv->restart_bytes, in))
		return false;
	if (st->gc_effect)
		wait_usec = policy_min(tm->min_interval_usec, tm->cooldown_usec);
	return !st->gc_ever || policy_elapsed(clock_usec, st->gc_last_usec, wait_usec);
}

/*
 * Whether the last GC request has taken effect, judged on this sample's
 * own metric (raw: not raised for throttling): it fell a sixteenth, or
 * from the rearm level or above to below it, where that level lies below
 * the gc level. A frozen sample says nothing of the metric.
 */
static void
policy_track_effect(
    struct policy_state *st, const struct policy_levels *lv, const struct policy_input *raw)
{
	if (!st->gc_ever || st->gc_effect || raw->frozen)
		return;
	if (raw->metric_bytes <= policy_effect_bytes(st) ||
	    (lv->rearm_bytes < lv->gc_bytes && st->gc_request_bytes >= lv->rearm_bytes &&
	        raw->metric_bytes < lv->rearm_bytes))
		st->gc_effect = true;
}

/*
 * A frozen cgroup about to be woken by a rescue: the mildest signal the
 * target handles, so that its handler runs once the reserve is released.
 * A restart signal already sent is pending and runs then too: nothing more
 * goes out. The gc request skips its cooldown (a burst can outrun the last
 * one) and the restart signal its start-up wait. A target that handles
 * neither cannot be woken into a handler: SIGKILL ends the freeze, when the
 * restart or the kill level allows ending the target at all, and only
 * where the kernel's OOM killer would not end it anyway.
 */
static enum policy_action
policy_rescue_action(
    const struct policy_state *st, const struct policy_levels *lv, const struct policy_input *in)
{
	if (st->target_kill_sent || st->target_restart_sent)
		return POLICY_NONE;
	if (policy_gc_usable(lv, in))
		return POLICY_GC;
	if (lv->restart_bytes != POLICY_OFF && in->restart_caught)
		return POLICY_RESTART;
	if (!in->kernel_kills && (lv->restart_bytes != POLICY_OFF || lv->kill_bytes != POLICY_OFF))
		return POLICY_KILL;
	return POLICY_NONE;
}

/* Records the action as sent, so that the rules above see it next time;
 * metric_bytes is the sample's own metric, for the effect of a GC. */
static void
policy_record(
    struct policy_state *st, enum policy_action act, uint64_t clock_usec, uint64_t metric_bytes)
{
	switch (act) {
	case POLICY_GC:
		st->gc_ever = true;
		st->gc_last_usec = clock_usec;
		st->gc_request_bytes = metric_bytes;
		st->gc_effect = false;
		st->target_gc_sent = true;
		break;
	case POLICY_RESTART:
		st->restart_fired = true;
		st->target_restart_sent = true;
		st->target_restart_usec = clock_usec;
		break;
	case POLICY_KILL:
		st->target_kill_sent = true;
		break;
	case POLICY_NONE:
		break;
	}
}

void
policy_init(struct policy_state *st)
{
	*st = (struct policy_state){ 0 };
}

enum policy_action
policy_eval(struct policy_state *st, const struct policy_levels *lv, const struct policy_timing *tm,
    const struct policy_input *in)
{
	enum policy_action act = POLICY_NONE;
	struct policy_input eff = *in;
	const struct policy_input *raw = in;
	uint64_t clock_usec;
	bool rescued;

	/* A throttled app stalls below the gc level: ask it to free memory
	 * as if it had reached the level. */
	if (in->throttled && lv->gc_bytes != POLICY_OFF && eff.metric_bytes < lv->gc_bytes)
		eff.metric_bytes = lv->gc_bytes;
	in = &eff;
	clock_usec = policy_clock(st, in->now_usec);
	policy_track_target(st, in, clock_usec);
	/* A rescued target gets its grace period: a cgroup still (or again)
	 * frozen in it waits for the handler, as the kill level does. */
	rescued = st->target_rescued &&
	    !policy_elapsed(clock_usec, st->target_rescue_usec, tm->grace_usec);
	if (rescued)
		eff.frozen = false;
	policy_track_episode(st, lv, in);
	policy_track_effect(st, lv, raw);
	/* With nothing to signal, time still passes but nothing is sent. */
	if (!in->target_alive)
		return POLICY_NONE;
	if (in->frozen && in->rescue) {
		act = policy_rescue_action(st, lv, in);
		policy_record(st, act, clock_usec, raw->metric_bytes);
		st->target_rescued = true;
		st->target_rescue_usec = clock_usec;
		return act;
	}
	if (!rescued && policy_kill_due(st, lv, tm, in, clock_usec))
		act = POLICY_KILL;
	else if (policy_restart_due(st, lv, tm, in, clock_usec))
		act = POLICY_RESTART;
	else if (policy_gc_due(st, lv, tm, in, clock_usec))
		act = POLICY_GC;
	policy_record(st, act, clock_usec, raw->metric_bytes);
	return act;
}

uint64_t
policy_effect_bytes(const struct policy_state *st)
{
	return st->gc_request_bytes - st->gc_request_bytes / POLICY_EFFECT_DIVISOR;
}

void
policy_held(struct policy_state *st, enum policy_action act, uint64_t now_usec, bool sent)
{
	uint64_t clock_usec = policy_clock(st, now_usec);

	if (act == POLICY_RESTART && sent)
		st->target_restart_usec = clock_usec;
	else if (act == POLICY_RESTART)
		st->target_restart_sent = st->restart_fired = false;
	else if (act == POLICY_KILL && !sent)
		st->target_kill_sent = false;
}

const char *
policy_action_name(enum policy_action a)
{
	switch (a) {
	case POLICY_NONE:
		return "none";
	case POLICY_GC:
		return "gc";
	case POLICY_RESTART:
		return "restart";
	case POLICY_KILL:
		return "kill";
	}
	return "unknown";
}
