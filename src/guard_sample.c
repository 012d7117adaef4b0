/*
 * guard_sample.c: the path of a sample, in the order it runs: read
 * (memcg.c), inputs (inputs.c, pure), policy (policy.c, pure), act
 * (respond.c, knob.c), schedule (schedule.c, pure). The levels for a new
 * limit are taken before any decision and announced (logged, v1
 * thresholds, memory.high) after the act when the cgroup is frozen.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "guard.h"
#include "guard_state.h"
#include "log.h"
#include "respond.h"
#include "units.h"

static const char *
fmt_size(uint64_t bytes, char *buf)
{
	if (bytes == POLICY_OFF)
		return "off";
	return units_format_human(bytes, buf);
}

/* Take the levels for a limit. Return whether they changed: they are
 * then to be announced (levels_announce), after the act when the cgroup
 * is frozen. */
static bool
levels_take(struct guard *g, uint64_t limit_bytes)
{
	if (g->levels_set && g->limit_bytes == limit_bytes)
		return false;
	g->levels = inputs_levels(g->cfg, limit_bytes);
	g->limit_bytes = limit_bytes;
	g->levels_set = true;
	return true;
}

/* New levels: log them, register the v1 thresholds again, set
 * memory.high for them. */
static void
levels_announce(struct guard *g)
{
	const struct policy_levels *lv = &g->levels;
	char a[UNITS_BUF], b[UNITS_BUF], d[UNITS_BUF], e[UNITS_BUF], l[UNITS_BUF];
	char err[CONFIG_ERR_MAX + PATH_MAX];

	log_info("limit %s: gc at %s, restart at %s, kill at %s, rearm below %s",
	    g->limit_bytes ? units_format_human(g->limit_bytes, l) : "none",
	    fmt_size(lv->gc_bytes, a), fmt_size(lv->restart_bytes, b), fmt_size(lv->kill_bytes, d),
	    fmt_size(lv->rearm_bytes, e));
	if (config_check_limit(g->cfg, g->limit_bytes, err, sizeof(err)) < 0)
		log_warn("%s; the strongest action due wins", err);
	if (lv->gc_bytes == POLICY_OFF && lv->restart_bytes == POLICY_OFF &&
	    lv->kill_bytes == POLICY_OFF && !g->nolimit_warned) {
		log_warn("the cgroup has no limit and every level is a percentage of it: no gc, "
		         "restart or kill until a limit is set (or give the levels as sizes, "
		         "--gc-at 700M); oomguard still %s",
		    g->p.main == GUARD_MAIN_APP ? "runs the app, passes signals on and reaps"
		                                : "watches the cgroup");
		g->nolimit_warned = true;
	}
	guard_notify_thresholds(g);
	knob_high_apply(&g->knob, &g->cfg->watch_high, g->limit_bytes, lv->restart_bytes);
}

/* Whether the kernel says when the usage reaches the lowest armed level
 * (levels rise from gc to kill): its v1 threshold registered, and the
 * level not within the reserve of the limit (so that "about to freeze",
 * looked for on each sample, cannot hold below it). */
static bool
kernel_watches(const struct guard *g)
{
	const uint64_t lv[GUARD_THRESHOLDS] = { g->levels.gc_bytes, g->levels.restart_bytes,
		g->levels.kill_bytes };
	int i = 0;

	if (g->cg.version != 1 || g->thr_failed)
		return false;
	while (i < GUARD_THRESHOLDS && lv[i] == POLICY_OFF)
		i++;
	if (i == GUARD_THRESHOLDS || g->thr_fd[i] < 0)
		return false;
	return g->limit_bytes == 0 || lv[i] + g->rescue.bytes <= g->limit_bytes;
}

/* The next poll (now in CLOCK_MONOTONIC usec), or 0 when nothing is
 * watched. */
static uint64_t
guard_schedule(const struct guard *g, uint64_t now)
{
	struct schedule_inputs in = {
		.metric_bytes = g->metric_bytes,
		.in_episode = g->policy.in_episode,
		.pressure = now < g->pressure_until_usec,
		.seeking_low = g->low_seeking,
		.kernel_watches = kernel_watches(g),
		.usage_bytes = g->sample.usage_bytes,
	};

	if (!g->watching)
		return 0;
	if (g->have_sample && g->levels_set)
		return schedule_next(&g->sched, &g->levels, &in);
	return g->cfg->poll_min_usec;
}

static void
kills_log(struct guard *g, uint64_t kills)
{
	g->stats.kernel_oom_kills += kills;
	if (kills > 0)
		log_warn("the kernel OOM-killed %" PRIu64
		         " process(es) in %s (oom_kill counter %" PRIu64 ")",
		    kills, g->cg.dir, g->events.oom_kills);
}

void
guard_kernel_events(struct guard *g)
{
	struct memcg_sample s;
	uint64_t kills;
	bool throttled;

	if (!g->watching || memcg_read(&g->mem, &s) < 0)
		return;
	throttled = inputs_events_update(&g->events, &s, &kills);
	kills_log(g, kills);
	if (throttled)
		log_debug("memory.events: high %" PRIu64 " max %" PRIu64 ": throttled",
		    s.events.high, s.events.max);
}

/* What a sample found that is logged only after the act: the path of a
 * frozen cgroup logs nothing before the reserve is released. */
struct sample_notes {
	bool enomem;    /* the read failed with ENOMEM: frozen, the last sample stands in */
	bool throttled; /* the v2 high or max counter rose */
	uint64_t kills; /* OOM kills by the kernel since the last sample */
};

/* The limit the levels count from: inputs_limit() told what oomguard
 * itself wrote (the reserve's raise, memory.high). */
static uint64_t
sample_limit(const struct guard *g, const struct memcg_sample *s)
{
	struct inputs_own own = {
		.limit_raised = g->rescue.raised,
		.limit_bytes = g->rescue.limit_bytes,
		.raised_bytes = g->rescue.raised_bytes,
	};

	knob_own(&g->knob, &own);
	return inputs_limit(s, &own);
}

/* Read a sample: the usage and limit files first, memory.stat only when
 * the metric needs it (schedule_read_stat(), the read rule): levels for
 * this sample's limit, and the usage at or above one the metric is
 * compared with, or the low point after a gc request looked for (the
 * live set's estimate). Otherwise the usage stands in for the metric. Return 0
 * or -errno as memcg_read(). */
static int
sample_memcg_read(struct guard *g, struct memcg_sample *s)
{
	int r = memcg_read_base(&g->mem, s);

	if (r < 0)
		return r;
	if (!g->levels_set || sample_limit(g, s) != g->limit_bytes || g->low_seeking ||
	    schedule_read_stat(
	        &g->levels, &g->policy, g->cfg->metric == METRIC_USAGE, s->usage_bytes))
		memcg_read_stat(&g->mem, s);
	return 0;
}

/* Read a sample into *ret. Return 1 to go on with it, 0 when there is
 * none this time, -1 when the cgroup is gone (unwatched: *ret_gone says
 * why). ENOMEM means the cgroup is frozen (allocations in system calls
 * fail there): the last sample stands in, logged after the act. */
static int
sample_read(
    struct guard *g, struct memcg_sample *ret, struct sample_notes *notes, const char **ret_gone)
{
	int r = sample_memcg_read(g, ret);

	if (r == 0) {
		g->read_errno = 0;
		notes->throttled = inputs_events_update(&g->events, ret, &notes->kills);
		return 1;
	}
	if (r == -ENODEV || r == -ENOENT) {
		guard_unwatch(g);
		*ret_gone = "the watched cgroup was removed";
		return -1;
	}
	if (r == -ENOMEM && g->have_sample) {
		notes->enomem = true;
		*ret = g->sample;
		return 1;
	}
	if (r != -ENOMEM && r != g->read_errno)
		log_warn("cannot read memory usage of %s: %s; retrying", g->cg.dir, strerror(-r));
	if (r != -ENOMEM)
		g->read_errno = r;
	return 0;
}

/* The policy's question for this sample, and its answer: the one call of
 * policy_eval(). */
static enum policy_action
decide(struct guard *g, uint64_t now, bool frozen, bool *ret_rescue)
{
	struct policy_input in = {
		.now_usec = now,
		.metric_bytes = g->metric_bytes,
		.frozen = frozen,
		.throttled = g->throttled,
		.target_alive = respond_targets_exist(g) && !g->quiesced,
		.target_started_usec = g->target_started_usec,
		.target_generation = g->generation,
		.rescue = frozen && g->rescue.held,
		.kernel_kills = g->kernel_kills,
	};

	if (in.rescue) {
		in.gc_allowed = respond_gc_allowed(g, now, true);
		in.restart_caught = respond_target_caught(g, g->cfg->restart_signal) > 0;
	} else {
		in.gc_allowed = g->metric_bytes >= g->levels.gc_bytes || g->throttled
		    ? respond_gc_allowed(g, now, frozen)
		    : true;
	}
	*ret_rescue = in.rescue;
	return policy_eval(&g->policy, &g->levels, &g->timing, &in);
}

/* After the act: what the sample found, logged. */
static void
sample_log(struct guard *g, const struct sample_notes *notes, enum policy_action a, const char *why)
{
	kills_log(g, notes->kills);
	if (g->pressure_new != NULL)
		log_info("memory pressure (%s): polling every %s for %s", g->pressure_new,
		    units_format_duration(g->cfg->poll_min_usec, (char[UNITS_BUF]){ 0 }),
		    units_format_duration(g->cfg->psi.window_usec, (char[UNITS_BUF]){ 0 }));
	g->pressure_new = NULL;
	if (notes->enomem && g->read_errno != -ENOMEM)
		log_warn("cannot read memory usage of %s: %s (the cgroup is frozen)", g->cg.dir,
		    strerror(ENOMEM));
	g->read_errno = notes->enomem ? -ENOMEM : g->read_errno;
	if (a != POLICY_NONE)
		log_debug("sample (%s): %" PRIu64 " bytes, action %s", why, g->metric_bytes,
		    policy_action_name(a));
}

/* The inputs of a sample read into s: the metric, the limit and its
 * levels, frozen or about to be, the kernel's killer and throttling.
 * Return whether the cgroup is frozen; *ret_changed: new levels. */
static bool
sample_inputs(struct guard *g, const struct memcg_sample *s, const struct sample_notes *notes,
    bool *ret_changed)
{
	uint64_t limit = sample_limit(g, s);
	bool frozen = notes->enomem || (s->has_oom_control && s->under_oom);

	g->sample = *s;
	g->have_sample = true;
	g->metric_bytes = memcg_metric(s, g->cfg->metric);
	g->about_to_freeze = !frozen && guard_notify_about_to_freeze(g, s, limit);
	g->kernel_kills = inputs_kernel_kills(s, g->mem.version);
	g->throttled = notes->throttled;
	/* The levels are the limit's before any decision, frozen or not (a
	 * cgroup frozen at the first sample has no others). */
	*ret_changed = levels_take(g, limit);
	return frozen || g->about_to_freeze;
}

/* The live set's estimate: the metric's low point after a gc request
 * that took effect (the policy says when one has), while the target that
 * got it runs and is not told to leave. The low point is looked for
 * (sampled every poll_min, guard_schedule()) from the request until the
 * metric rises again after its fall, or GUARD_LOW_SEEK_USEC (1 s;
 * GUARD_LOW_SEEK_NO_EFFECT_USEC, 100 ms, while the request shows no
 * effect, so that an app that frees nothing is not sampled every
 * poll_min through its episode): the
 * estimate is then that low point; while it is looked for, the estimate
 * only falls (a later sample may still find it lower). Once the target
 * ends (or is told to) the cgroup's memory is no longer its live set:
 * the last estimate stays until the next target's own request has taken
 * effect. */
static void
sample_live_estimate(struct guard *g, enum policy_action a, uint64_t now)
{
	bool running = (g->has_target || g->p.main == GUARD_MAIN_NONE) &&
	    !g->policy.target_restart_sent && !g->policy.target_kill_sent;
	uint64_t *est = &g->stats.live_bytes_estimate;

	if (a == POLICY_GC) {
		g->gc_low_bytes = g->metric_bytes;
		g->gc_low_generation = g->generation;
		g->low_seeking = true;
		g->low_seek_from_usec = now;
		return;
	}
	if (!running || g->gc_low_generation != g->generation || !g->low_seeking) {
		g->low_seeking = false;
		return;
	}
	if (g->metric_bytes < g->gc_low_bytes)
		g->gc_low_bytes = g->metric_bytes;
	else if (g->policy.gc_effect)
		g->low_seeking = false; /* it rose again: that was the low point */
	if (now - g->low_seek_from_usec >=
	    (g->policy.gc_effect ? GUARD_LOW_SEEK_USEC : GUARD_LOW_SEEK_NO_EFFECT_USEC))
		g->low_seeking = false;
	if (g->policy.gc_ever && g->policy.gc_effect &&
	    (!g->low_seeking || *est == 0 || g->gc_low_bytes < *est))
		*est = g->gc_low_bytes;
}

/* ---- a restart or kill held for its hook ---- */

/* Whether a hook may be forked now (respond_hook_safe()). */
static bool
sample_hook_safe(const struct guard *g, bool frozen)
{
	struct respond_hook_room r = {
		.frozen = frozen,
		.inside = g->self_inside,
		.usage_bytes = g->sample.usage_bytes,
		.metric_bytes = g->metric_bytes,
		.limit_bytes = g->limit_bytes,
		.kill_bytes = g->levels.kill_bytes,
		.room_bytes = g->rescue.bytes > RESPOND_HOOK_ROOM_BYTES ? g->rescue.bytes
		                                                        : RESPOND_HOOK_ROOM_BYTES,
	};

	return respond_hook_safe(&r);
}

/* Whether the restart or kill a waits for its hook: the caller runs
 * hooks, [hook] on names its event, a signal is really sent (no dry
 * run) and a hook may be forked now (safe). */
static bool
hold_wanted(const struct guard *g, enum policy_action a, bool safe)
{
	enum hook_event e = a == POLICY_RESTART ? HOOK_RESTART : HOOK_KILL;

	if (!g->hooks_before || !safe || g->cfg->dry_run)
		return false;
	return (a == POLICY_RESTART || a == POLICY_KILL) && config_hook_wanted(g->cfg, e);
}

static void
hold_begin(struct guard *g, enum policy_action a, uint64_t now, struct guard_result *res)
{
	char t[UNITS_BUF];

	g->held = a;
	g->hold_id++;
	g->hold_released = false;
	g->hold_generation = g->generation;
	g->hold_sample_usec = now;
	g->hold_until_usec = now + g->cfg->hook_timeout_usec;
	res->held = a;
	res->hold_id = g->hold_id;
	log_info("%s: held for the %s hook (%s at most)", policy_action_name(a),
	    policy_action_name(a), units_format_duration(g->cfg->hook_timeout_usec, t));
}

/*
 * The held action at this sample (a the policy's decision now, frozen the
 * cgroup's state): a kill decided meanwhile replaces a held restart; the
 * held one goes out once its hook ended, its time is up or the cgroup is
 * (about to be) frozen, if its target is the same and, for a restart, the
 * episode still on. Return the action to carry out now; *ret_at is the
 * sample it counts from, *ret_dropped why a held one was not sent (logged
 * after the act: this may be the rescue path).
 */
static enum policy_action
hold_settle(struct guard *g, enum policy_action a, bool frozen, uint64_t now, uint64_t *ret_at,
    const char **ret_dropped)
{
	enum policy_action h = g->held;

	if (a == POLICY_RESTART || a == POLICY_KILL) {
		g->held = POLICY_NONE;
		*ret_dropped = "the kill level came first";
		return a;
	}
	if (!g->hold_released && now < g->hold_until_usec && !frozen)
		return a;
	g->held = POLICY_NONE;
	if (g->generation != g->hold_generation || !respond_targets_exist(g) || g->quiesced) {
		*ret_dropped = g->quiesced ? "oomguard is stopping" : "its target is gone";
		return a;
	}
	if (h == POLICY_RESTART && !g->policy.in_episode) {
		policy_held(&g->policy, h, now, false);
		*ret_dropped = "the episode ended meanwhile";
		return a;
	}
	policy_held(&g->policy, h, now, true);
	*ret_at = g->hold_sample_usec; /* not 0: a sample's CLOCK_MONOTONIC time */
	return h;
}

/* The act: a held action's turn first, then the policy's decision a, held
 * for its hook or carried out (on the rescue path when res->rescue).
 * Return the action carried out. */
static enum policy_action
sample_act(
    struct guard *g, enum policy_action a, bool frozen, uint64_t now, struct guard_result *res)
{
	const char *dropped = NULL;
	enum policy_action held = g->held;
	uint64_t at = 0;

	if (held != POLICY_NONE)
		a = hold_settle(g, a, frozen, now, &at, &dropped);
	res->after_hold = at != 0;
	if (at == 0)
		at = now;
	if (!res->rescue && !res->after_hold && hold_wanted(g, a, res->hook_safe)) {
		hold_begin(g, a, now, res);
		a = POLICY_NONE;
	} else if (res->rescue) {
		respond_rescue(g, a, at);
	} else if (a != POLICY_NONE) {
		respond_act(g, a, at);
	}
	if (dropped != NULL)
		log_info("%s held for its hook: not sent: %s", policy_action_name(held), dropped);
	return a;
}

struct guard_result
guard_sample(struct guard *g, uint64_t now, const char *why)
{
	struct guard_result res = { .action = POLICY_NONE };
	struct memcg_sample s;
	struct sample_notes notes = { 0 };
	bool frozen, changed;
	int r;

	if (!g->watching)
		return res;
	r = sample_read(g, &s, &notes, &res.gone);
	if (r <= 0) {
		res.next_usec = guard_schedule(g, now);
		return res;
	}
	if (guard_notify_psi_poll(g, now))
		g->pressure_new = "psi averages";
	frozen = sample_inputs(g, &s, &notes, &changed);
	/* Announcing new levels logs and writes, which waits for after a
	 * rescue. */
	if (changed && !frozen)
		levels_announce(g);
	res.hook_safe = sample_hook_safe(g, frozen);
	g->ending_why = NULL;
	/* A held restart's grace runs from its signal: not while it waits. */
	if (g->held == POLICY_RESTART)
		policy_held(&g->policy, POLICY_RESTART, now, true);
	res.action = sample_act(g, decide(g, now, frozen, &res.rescue), frozen, now, &res);
	respond_gc_summary(g, now);
	sample_log(g, &notes, res.action, why);
	if (changed && frozen)
		levels_announce(g);
	respond_reserve_sync(g);
	g->metric_bytes = knob_reclaim(&g->knob, g->cfg, &g->mem, g->limit_bytes,
	    g->levels.gc_bytes, g->metric_bytes, g->throttled, now);
	sample_live_estimate(g, res.action, now);
	res.sampled = true;
	res.ending_why = g->ending_why;
	res.limit_changed = changed;
	res.limit_bytes = g->limit_bytes;
	res.next_usec = guard_schedule(g, now);
	/* A held action goes out at its time, hook or not. */
	if (g->held != POLICY_NONE && now + res.next_usec > g->hold_until_usec)
		res.next_usec = g->hold_until_usec > now ? g->hold_until_usec - now : 1;
	stats_observe(&g->stats.sample_usec, guard_now_usec() - now);
	return res;
}

void
guard_hooks_before(struct guard *g, bool on)
{
	g->hooks_before = on;
}

bool
guard_release(struct guard *g, unsigned hold_id)
{
	if (g->held == POLICY_NONE || hold_id != g->hold_id)
		return false;
	g->hold_released = true;
	return true;
}
