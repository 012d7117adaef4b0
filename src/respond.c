/*
 * respond.c: what oomguard does about a level the policy returns: who the
 * targets are (the main target held open, the child, the group, the
 * cgroup), what they are sent and how it is logged, and the rescue of a
 * frozen cgroup with the reserve it needs (held, released, taken again).
 * The signalling is action.c's, the reserve rescue.c's; this file is the
 * guard's acting part, on its state (guard_state.h). respond_rescue() is
 * on the rescue path.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "action.h"
#include "cgroup.h"
#include "config.h"
#include "episode.h"
#include "knob.h"
#include "log.h"
#include "policy.h"
#include "rescue.h"
#include "respond.h"
#include "units.h"
#include "guard.h"
#include "guard_state.h"
#include "stats.h"

/* ---- the main target ---- */

int
respond_target_caught(struct guard *g, int sig)
{
	if (!g->has_target)
		return -ESRCH;
	/* The exec gate: until its exec a process shows the handlers of
	 * the one that forked it, which its program has not installed. */
	if (!g->target_execed)
		return 0;
	if (g->target.pidfd >= 0)
		return action_target_caught(&g->target, sig);
	return action_caught(g->p.proc_root, g->target_pid, sig);
}

bool
respond_targets_exist(const struct guard *g)
{
	if (g->has_target)
		return true;
	if (g->p.main == GUARD_MAIN_APP)
		return false;
	return g->cfg->target != TARGET_MAIN || g->p.main == GUARD_MAIN_NONE;
}

/* Whether a gc request may go to the main target: with require_handler,
 * only while it catches the signal. It is read afresh each time (a
 * handler can come and go; right after fork the child still shows
 * oomguard's own handlers), and the lack of one is logged once per
 * target, after its start-up, when it has had the time to install it;
 * never while the cgroup is frozen (no logging before the rescue). */
bool
respond_gc_allowed(struct guard *g, uint64_t now, bool frozen)
{
	char s[UNITS_BUF];
	int r;

	if (!g->cfg->gc_require_handler || g->cfg->target != TARGET_MAIN || !g->has_target)
		return true;
	r = respond_target_caught(g, g->cfg->gc_signal);
	if (r > 0)
		return true;
	if (r == 0 && !frozen && !g->handler_warned &&
	    now - g->target_started_usec >= g->cfg->restart_startup_usec) {
		log_warn("the app (pid %d) does not handle %s: no gc requests until it does "
		         "(require_handler = yes)",
		    (int)g->target_pid, units_format_signal(g->cfg->gc_signal, s));
		g->handler_warned = true;
	}
	return false;
}

/* ---- actions ---- */

static int
action_signal_for(const struct guard *g, enum policy_action a)
{
	switch (a) {
	case POLICY_GC:
		return g->cfg->gc_signal;
	case POLICY_RESTART:
		return g->cfg->restart_signal;
	default:
		return SIGKILL;
	}
}

/* Send sig to the configured targets. Return 0 or -errno; *ret says who. */
static int
send_to_targets(struct guard *g, int sig, bool need_handler, struct action_result *ret)
{
	struct action_result res = { 0, 0, 0, 0 };
	int r;

	switch (g->cfg->target) {
	case TARGET_MAIN:
		if (g->target.pidfd >= 0)
			r = action_signal_target(&g->actx, &g->target, sig, need_handler, &res);
		else if (g->has_target)
			r = action_signal_main(
			    &g->actx, g->target_pid, g->target_pidfd, sig, need_handler, &res);
		else if (g->p.main != GUARD_MAIN_NONE)
			return -ESRCH;
		else
			r = action_signal_cgroup(&g->actx, 0, sig, need_handler, &res);
		break;
	case TARGET_GROUP:
		if (g->p.main != GUARD_MAIN_APP || !g->has_target)
			return -ESRCH;
		r = action_signal_cgroup(&g->actx, g->target_pid, sig, need_handler, &res);
		break;
	default:
		r = action_signal_cgroup(&g->actx, 0, sig, need_handler, &res);
		break;
	}
	if (r == 0)
		*ret = res;
	return r;
}

static void
log_action(const struct guard *g, enum policy_action a, int sig, pid_t pid, const char *outcome,
    bool quiet)
{
	char m[UNITS_BUF], l[UNITS_BUF], s[UNITS_BUF], msg[256];
	uint64_t pct = g->limit_bytes ? g->metric_bytes * 10000 / g->limit_bytes : 0;
	struct log_field f[] = {
		{ "level", policy_action_name(a), 0 },
		{ "metric_bytes", NULL, (long long)g->metric_bytes },
		{ "limit_bytes", NULL, (long long)g->limit_bytes },
		{ "action", units_format_signal(sig, s), 0 }, { "pid", NULL, (long long)pid },
		{ "outcome", outcome, 0 },
		{ "percent", LOG_HUNDREDTHS, (long long)pct }, /* last: left out without a limit */
	};
	char of[64] = " (no limit)";

	if (g->limit_bytes)
		snprintf(of, sizeof(of), " of %s (%" PRIu64 ".%02" PRIu64 "%%)",
		    units_format_human(g->limit_bytes, l), pct / 100, pct % 100);
	snprintf(msg, sizeof(msg), "%s: %s %s%s, %s to pid %d: %s", policy_action_name(a),
	    config_metric_name(g->cfg->metric), units_format_human(g->metric_bytes, m), of, s,
	    (int)pid, outcome);
	log_fields(quiet         ? LOG_LVL_DEBUG
	        : a == POLICY_GC ? LOG_LVL_INFO
	                         : LOG_LVL_WARN,
	    msg, f, (int)(sizeof(f) / sizeof(f[0])) - (g->limit_bytes ? 0 : 1));
}

/* A restart or kill of the app is oomguard's doing: its end is restarted
 * (on-watchdog) and logged with why, which the sample's result carries
 * to the entrypoint. */
static void
note_app_ending(struct guard *g, enum policy_action a)
{
	if ((a == POLICY_RESTART || a == POLICY_KILL) && g->p.main == GUARD_MAIN_APP &&
	    g->has_target) {
		/* policy_kill_due(): the kill level, or the restart's grace. */
		g->ending_why = a == POLICY_RESTART ? "restart level"
		    : g->policy.target_restart_sent && g->metric_bytes < g->levels.kill_bytes
		    ? "the restart signal's grace ran out"
		    : "kill level";
	}
}

/* Count a signal that went out (or, in a dry run, was logged) and the
 * time from the sample's start (now) to it. */
static void
count_action(struct guard *g, enum policy_action a, uint64_t now)
{
	if (a == POLICY_GC)
		g->stats.gc_requests++;
	else if (a == POLICY_RESTART)
		g->stats.restarts++;
	else if (a == POLICY_KILL)
		g->stats.kills++;
	if (a != POLICY_NONE)
		stats_observe(&g->stats.reaction_usec, guard_now_usec() - now);
}

void
respond_act(struct guard *g, enum policy_action a, uint64_t now)
{
	int sig = action_signal_for(g, a);
	bool need_handler = a == POLICY_GC && g->cfg->gc_require_handler;
	struct action_result res = { 0, 0, 0, g->has_target ? g->target_pid : 0 };
	char outcome[160];
	bool quiet;
	int r;

	/* A dry run logs every decision at info (they cannot take effect:
	 * at most one gc request per cooldown), and nothing it did not send
	 * is taken as done. */
	if (g->cfg->dry_run) {
		log_action(g, a, sig, res.pid, "dry run, not sent", false);
		count_action(g, a, now);
		return;
	}
	/* Otherwise only the first gc request of an episode is logged at
	 * info; the repeats at debug, summed up by respond_gc_summary(). */
	quiet = a == POLICY_GC && !episode_request(&g->gc_log, guard_now_usec(), g->metric_bytes);
	note_app_ending(g, a);
	r = send_to_targets(g, sig, need_handler, &res);
	if (r == 0 && res.sent > 0)
		count_action(g, a, now);
	if (r < 0)
		snprintf(outcome, sizeof(outcome), "not sent: %s", strerror(-r));
	else if (res.sent == 0)
		snprintf(
		    outcome, sizeof(outcome), "no process to signal (%d skipped)", res.skipped);
	else if (res.sent == 1 && res.skipped == 0)
		snprintf(outcome, sizeof(outcome), "sent");
	else
		snprintf(outcome, sizeof(outcome), "sent to %d, %d skipped", res.sent, res.skipped);
	/* A gc request that found no process able to take it says so at
	 * debug level: it repeats every cooldown. */
	log_action(
	    g, a, sig, res.pid, outcome, quiet || (a == POLICY_GC && r == 0 && res.sent == 0));
	if (a != POLICY_GC)
		knob_high_lift(&g->knob);
}

static void
log_gc_summary(const struct guard *g, const struct episode_summary *s)
{
	char lo[UNITS_BUF], hi[UNITS_BUF], l[UNITS_BUF], fr[UNITS_BUF], msg[256];
	uint64_t tenths = (s->span_usec + 50000) / 100000;
	const struct log_field f[] = {
		{ "event", "gc_summary", 0 },
		{ "requests", NULL, (long long)s->requests },
		{ "span_usec", NULL, (long long)s->span_usec },
		{ "metric_min_bytes", NULL, (long long)s->min_bytes },
		{ "metric_max_bytes", NULL, (long long)s->max_bytes },
		{ "limit_bytes", NULL, (long long)g->limit_bytes },
		{ "freed_per_request_bytes", NULL, (long long)s->freed_bytes },
	};

	snprintf(msg, sizeof(msg),
	    "gc: %u more request%s in %" PRIu64 ".%" PRIu64 "s, %s %s to %s of %s, %s freed per "
	    "request",
	    s->requests, s->requests == 1 ? "" : "s", tenths / 10, tenths % 10,
	    config_metric_name(g->cfg->metric), units_format_human(s->min_bytes, lo),
	    units_format_human(s->max_bytes, hi),
	    g->limit_bytes ? units_format_human(g->limit_bytes, l) : "no limit",
	    units_format_human(s->freed_bytes, fr));
	log_fields(LOG_LVL_INFO, msg, f, sizeof(f) / sizeof(f[0]));
}

void
respond_gc_summary(struct guard *g, uint64_t now)
{
	struct episode_summary s;

	if (episode_sample(&g->gc_log, now, g->metric_bytes, g->policy.in_episode, &s))
		log_gc_summary(g, &s);
}

/* ---- hooks ---- */

bool
respond_hook_safe(const struct respond_hook_room *r)
{
	if (r->frozen)
		return false;
	if (!r->inside)
		return true;
	if (r->kill_bytes != POLICY_OFF && r->metric_bytes >= r->kill_bytes)
		return false;
	return r->limit_bytes == 0 || r->usage_bytes + r->room_bytes < r->limit_bytes;
}

/* ---- the rescue (rescue.c holds the rule this path keeps) ---- */

/* Is oomguard itself in the watched cgroup (or below it)? Then a reserve
 * it holds is charged there. */
static bool
self_inside(const struct guard *g)
{
	struct cgroup self;
	size_t n = strlen(g->cg.dir);
	bool inside;

	if (cgroup_find_pid(g->p.proc_root, g->p.fs_root, 0, &self) < 0)
		return false;
	inside =
	    strncmp(self.dir, g->cg.dir, n) == 0 && (self.dir[n] == '\0' || self.dir[n] == '/');
	cgroup_free(&self);
	return inside;
}

/* The reserve's mode for the watched cgroup, and its limit file opened
 * in limit mode. */
void
respond_reserve_open(struct guard *g)
{
	enum reserve_mode mode = g->cfg->reserve_mode;
	bool inside;
	int r;

	rescue_close(&g->rescue);
	g->rescue_ok = false;
	inside = g->self_inside = self_inside(g);
	if (g->cfg->reserve_size.kind == THRESHOLD_NONE) {
		log_info("reserve: none; a frozen cgroup gets SIGKILL");
		return;
	}
	if (mode == RESERVE_AUTO)
		mode = inside ? RESERVE_MEMORY : RESERVE_LIMIT;
	r = rescue_open(&g->rescue, mode, g->cg.dir, g->cg.version);
	g->rescue_ok = r == 0;
	if (r < 0)
		log_info("reserve: cannot open the limit of %s for writing: %s; a frozen cgroup "
		         "gets SIGKILL",
		    g->cg.dir, strerror(-r));
	else if (mode == RESERVE_MEMORY && !inside)
		log_warn("reserve: oomguard is not in %s, so a reserve it holds cannot wake it; "
		         "[reserve] mode = limit can",
		    g->cg.dir);
}

/* Hold the reserve for the current limit: at start (before the app), and
 * again once the episode a rescue began is over; a limit raised for a rescue is put
 * back then. Not on the rescue path: this maps, writes and logs. */
void
respond_reserve_sync(struct guard *g)
{
	uint64_t want = rescue_size(&g->cfg->reserve_size, g->limit_bytes);
	char h[UNITS_BUF], l[UNITS_BUF], how[64];
	int r;

	/* The first take does not wait: a cgroup already over a level at
	 * start is the one most likely to freeze. */
	if (!g->rescue_ok || (g->policy.in_episode && g->reserve_taken) || g->cfg->dry_run)
		return;
	if (g->rescue.raised) {
		r = rescue_restore(&g->rescue);
		if (r < 0) {
			log_warn("cannot put the limit of %s back to %s: %s; retrying", g->cg.dir,
			    units_format_human(g->rescue.limit_bytes, l), strerror(-r));
			return;
		}
		if (r == 0)
			log_info("reserve: limit put back to %s",
			    units_format_human(g->rescue.limit_bytes, l));
		else
			log_info("reserve: the limit of %s was changed since the rescue raised it; "
			         "left as it is",
			    g->cg.dir);
	}
	if (g->rescue.held && g->rescue.bytes == want &&
	    (g->rescue.mode == RESERVE_MEMORY || g->rescue.limit_bytes == g->limit_bytes))
		return;
	/* A new limit wants a new size: the old reserve is dropped, never
	 * released (that would raise the new limit by the old reserve). */
	rescue_drop(&g->rescue);
	if (want == 0)
		return;
	r = rescue_take(&g->rescue, want, g->limit_bytes);
	if (r < 0) {
		if (!g->reserve_failing)
			log_warn("cannot hold a reserve of %s: %s; a frozen cgroup gets SIGKILL "
			         "until it can",
			    units_format_human(want, h), strerror(-r));
		g->reserve_failing = true;
		return;
	}
	g->reserve_failing = false;
	if (g->rescue.mode == RESERVE_LIMIT)
		snprintf(how, sizeof(how), " (the limit is raised by it for a rescue)");
	else if (g->rescue.locked_bytes == g->rescue.bytes)
		snprintf(how, sizeof(how), " (locked)");
	else
		snprintf(how, sizeof(how), " (%s of it locked: RLIMIT_MEMLOCK)",
		    units_format_human(g->rescue.locked_bytes, l));
	log_info("reserve: holding %s%s%s", units_format_human(want, h), how,
	    g->reserve_taken ? " again" : "");
	g->reserve_taken = true;
}

static void
log_rescue(const struct guard *g, enum policy_action a, int sig, const struct action_result *res,
    int sent, int released, uint64_t reserve_bytes)
{
	char m[UNITS_BUF], l[UNITS_BUF], sg[UNITS_BUF], rb[UNITS_BUF], msg[448], outcome[160];
	struct log_field f[] = {
		{ "event", "rescue", 0 },
		{ "level", policy_action_name(a), 0 },
		{ "metric_bytes", NULL, (long long)g->metric_bytes },
		{ "limit_bytes", NULL, (long long)g->limit_bytes },
		{ "action", a == POLICY_NONE ? "none" : units_format_signal(sig, sg), 0 },
		{ "pid", NULL, (long long)res->pid },
		{ "reserve_bytes", NULL, (long long)reserve_bytes },
		{ "outcome", outcome, 0 },
		{ "percent", LOG_HUNDREDTHS,
		    g->limit_bytes ? (long long)(g->metric_bytes * 10000 / g->limit_bytes) : 0 },
	};

	if (g->cfg->dry_run)
		snprintf(outcome, sizeof(outcome), "dry run, not sent, reserve kept");
	else if (a == POLICY_NONE && (g->policy.target_restart_sent || g->policy.target_kill_sent))
		snprintf(outcome, sizeof(outcome), "the signal sent before is pending");
	else if (a == POLICY_NONE)
		snprintf(outcome, sizeof(outcome), "nothing to send%s",
		    g->kernel_kills ? " (the kernel's OOM killer ends it)" : "");
	else if (sent < 0)
		snprintf(outcome, sizeof(outcome), "not sent: %s", strerror(-sent));
	else
		snprintf(outcome, sizeof(outcome), "sent");
	snprintf(msg, sizeof(msg),
	    "rescue: the cgroup %s at %s of %s; %s %s to pid %d (%s), then released the %s "
	    "reserve%s%s",
	    g->about_to_freeze ? "is about to freeze (full memory stalls within the reserve)"
	                       : "froze",
	    units_format_human(g->metric_bytes, m),
	    g->limit_bytes ? units_format_human(g->limit_bytes, l) : "no limit",
	    policy_action_name(a), a == POLICY_NONE ? "-" : sg, (int)res->pid, outcome,
	    units_format_human(reserve_bytes, rb), released < 0 ? ": " : "",
	    released < 0 ? strerror(-released) : "");
	log_fields(
	    LOG_LVL_WARN, msg, f, (int)(sizeof(f) / sizeof(f[0])) - (g->limit_bytes ? 0 : 1));
}

/*
 * The cgroup is frozen and the reserve held: signal the main target
 * through its open descriptors so that the signal is pending, then
 * release the reserve so that it wakes into its handler. Only then, with
 * memory to spare, log and reach the other targets (group, cgroup), whose
 * signalling opens files. The rescue path's rule is in rescue.c.
 */
void
respond_rescue(struct guard *g, enum policy_action a, uint64_t now)
{
	int sig = action_signal_for(g, a), sent = -ESRCH, released = 0;
	struct action_result res = { 0, 0, 0, g->target.pid };
	uint64_t reserve_bytes = g->rescue.bytes;

	note_app_ending(g, a);
	if (!g->cfg->dry_run) {
		if (a != POLICY_NONE && g->target.pidfd >= 0)
			sent = action_signal_target(&g->actx, &g->target, sig, false, &res);
		released = rescue_release(&g->rescue);
	}
	if (!g->cfg->dry_run && a != POLICY_NONE &&
	    (g->cfg->target != TARGET_MAIN || g->target.pidfd < 0)) {
		struct action_result more = { 0, 0, 0, 0 };
		/* With memory to spare again the handlers can be read: a gc
		 * request reaches only those that catch it, as outside a
		 * rescue (an unhandled one would end the process). */
		bool need_handler = a == POLICY_GC && g->cfg->gc_require_handler;

		if (send_to_targets(g, sig, need_handler, &more) == 0 && sent < 0) {
			sent = more.sent > 0 ? 0 : -ESRCH;
			res = more;
		}
	}
	if (!g->cfg->dry_run) {
		g->stats.rescues++;
		if (sent == 0)
			count_action(g, a, now);
	}
	log_rescue(g, a, sig, &res, sent, released, reserve_bytes);
	if (a != POLICY_GC && a != POLICY_NONE)
		knob_high_lift(&g->knob);
}
