/*
 * respond.c: what oomguard does about a level the policy returns: who the
 * targets are (the main target held open, the child, the group, the
 * cgroup), what they are sent and how it is logged, and the rescue of a
 * frozen cgroup with the reserve it needs (held, released, taken again).
 * The signalling is action.c's, the reserve rescue.c's; this file wires
 * them to the loop's state. respond_rescue() is on the rescue path.
 */
#include <errno.h>
#include <event2/event.h>
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
#include "watch.h"

/* ---- the main target ---- */

static void
target_end_cb(evutil_socket_t fd, short what, void *arg)
{
	struct watch *w = arg;

	(void)fd;
	(void)what;
	log_info("the target (pid %d) has ended; no main target left", (int)w->target.pid);
	respond_target_detach(w);
}

/* Drop the main target of a watch without an app. */
void
respond_target_detach(struct watch *w)
{
	if (w->target_ev != NULL)
		event_free(w->target_ev);
	w->target_ev = NULL;
	action_target_close(&w->target);
}

/* The main target of a watch without an app (--pid, or a unit's main
 * process): held open from now on, and only if it is in the watched
 * cgroup. A new target is a new generation for the policy. Return 0 or
 * -errno (-EXDEV outside the cgroup), logged. */
int
respond_target_attach(struct watch *w, pid_t pid)
{
	int r;

	respond_target_detach(w);
	w->generation++;
	w->target_started_usec = watch_now_usec();
	w->handler_warned = false;
	r = action_target_open(w->opts->proc_root, pid, -1, &w->target);
	if (r == 0)
		r = action_in_cgroup(&w->actx, pid);
	if (r <= 0) {
		log_error("cannot take pid %d as the target: %s", (int)pid,
		    r == 0 ? "it is not in the watched cgroup" : strerror(-r));
		action_target_close(&w->target);
		return r == 0 ? -EXDEV : r;
	}
	w->target_ev = event_new(w->base, w->target.pidfd, EV_READ, target_end_cb, w);
	(void)watch_event_add(w->target_ev, NULL, "the watch of the target's end");
	log_info("target: pid %d", (int)pid);
	return 0;
}

int
respond_target_caught(struct watch *w, int sig)
{
	if (w->target.pidfd >= 0)
		return action_target_caught(&w->target, sig);
	if (w->have_child)
		return action_caught(w->opts->proc_root, w->child.pid, sig);
	return -ESRCH;
}

static bool
has_main_target(const struct watch *w)
{
	return w->have_child || w->target.pidfd >= 0;
}

/* Whether there is anyone to signal: the main target; or, in a watch
 * without an app, the cgroup's processes, unless the main target is the
 * one wanted (--pid, --unit, target = main) and it is gone. */
bool
respond_targets_exist(const struct watch *w)
{
	if (has_main_target(w))
		return true;
	if (w->opts->app_argv != NULL)
		return false;
	return w->cfg->target != TARGET_MAIN || (w->opts->pid == 0 && w->opts->unit == NULL);
}

/* Whether a gc request may go to the main target: with require_handler,
 * only while it catches the signal. It is read afresh each time (a
 * handler can come and go; right after fork the child still shows
 * oomguard's own handlers), and the lack of one is logged once per
 * target, after its start-up, when it has had the time to install it;
 * never while the cgroup is frozen (no logging before the rescue). */
bool
respond_gc_allowed(struct watch *w, uint64_t now, bool frozen)
{
	uint64_t started = w->have_child ? w->child.started_usec : w->target_started_usec;
	char s[UNITS_BUF];
	int r;

	if (!w->cfg->gc_require_handler || w->cfg->target != TARGET_MAIN || !has_main_target(w))
		return true;
	r = respond_target_caught(w, w->cfg->gc_signal);
	if (r > 0)
		return true;
	if (r == 0 && !frozen && !w->handler_warned &&
	    now - started >= w->cfg->restart_startup_usec) {
		log_warn("the app (pid %d) does not handle %s: no gc requests until it does "
		         "(require_handler = yes)",
		    (int)(w->have_child ? w->child.pid : w->target.pid),
		    units_format_signal(w->cfg->gc_signal, s));
		w->handler_warned = true;
	}
	return false;
}

/* ---- actions ---- */

static int
action_signal_for(const struct watch *w, enum policy_action a)
{
	switch (a) {
	case POLICY_GC:
		return w->cfg->gc_signal;
	case POLICY_RESTART:
		return w->cfg->restart_signal;
	default:
		return SIGKILL;
	}
}

/* Send sig to the configured targets. Return 0 or -errno; *ret says who. */
static int
send_to_targets(struct watch *w, int sig, bool need_handler, struct action_result *ret)
{
	struct action_result res = { 0, 0, 0, 0 };
	int r;

	switch (w->cfg->target) {
	case TARGET_MAIN:
		if (w->target.pidfd >= 0)
			r = action_signal_target(&w->actx, &w->target, sig, need_handler, &res);
		else if (w->have_child)
			r = action_signal_main(
			    &w->actx, w->child.pid, w->child.pidfd, sig, need_handler, &res);
		else if (w->opts->pid > 0 || w->opts->unit != NULL)
			return -ESRCH;
		else
			r = action_signal_cgroup(&w->actx, 0, sig, need_handler, &res);
		break;
	case TARGET_GROUP:
		if (!w->have_child)
			return -ESRCH;
		r = action_signal_cgroup(&w->actx, w->child.pid, sig, need_handler, &res);
		break;
	default:
		r = action_signal_cgroup(&w->actx, 0, sig, need_handler, &res);
		break;
	}
	if (r == 0)
		*ret = res;
	return r;
}

static void
log_action(const struct watch *w, enum policy_action a, int sig, pid_t pid, const char *outcome,
    bool quiet)
{
	char m[UNITS_BUF], l[UNITS_BUF], s[UNITS_BUF], msg[256];
	uint64_t pct = w->limit_bytes ? w->metric_bytes * 10000 / w->limit_bytes : 0;
	struct log_field f[] = {
		{ "level", policy_action_name(a), 0 },
		{ "metric_bytes", NULL, (long long)w->metric_bytes },
		{ "limit_bytes", NULL, (long long)w->limit_bytes },
		{ "action", units_format_signal(sig, s), 0 }, { "pid", NULL, (long long)pid },
		{ "outcome", outcome, 0 },
		{ "percent", LOG_HUNDREDTHS, (long long)pct }, /* last: left out without a limit */
	};
	char of[64] = " (no limit)";

	if (w->limit_bytes)
		snprintf(of, sizeof(of), " of %s (%" PRIu64 ".%02" PRIu64 "%%)",
		    units_format_human(w->limit_bytes, l), pct / 100, pct % 100);
	snprintf(msg, sizeof(msg), "%s: %s %s%s, %s to pid %d: %s", policy_action_name(a),
	    config_metric_name(w->cfg->metric), units_format_human(w->metric_bytes, m), of, s,
	    (int)pid, outcome);
	log_fields(quiet         ? LOG_LVL_DEBUG
	        : a == POLICY_GC ? LOG_LVL_INFO
	                         : LOG_LVL_WARN,
	    msg, f, (int)(sizeof(f) / sizeof(f[0])) - (w->limit_bytes ? 0 : 1));
}

/* A restart or kill of the app is oomguard's doing: its end is restarted
 * (on-watchdog) and logged with why. */
static void
note_app_ending(struct watch *w, enum policy_action a)
{
	if ((a == POLICY_RESTART || a == POLICY_KILL) && w->have_child) {
		w->by_watchdog = true;
		/* policy_kill_due(): the kill level, or the restart's grace. */
		w->watchdog_why = a == POLICY_RESTART ? "restart level"
		    : w->policy.target_restart_sent && w->metric_bytes < w->levels.kill_bytes
		    ? "the restart signal's grace ran out"
		    : "kill level";
	}
}

void
respond_act(struct watch *w, enum policy_action a)
{
	int sig = action_signal_for(w, a);
	bool need_handler = a == POLICY_GC && w->cfg->gc_require_handler;
	struct action_result res = { 0, 0, 0, w->have_child ? w->child.pid : w->target.pid };
	char outcome[160];
	bool quiet;
	int r;

	/* A dry run logs every decision at info (they cannot take effect:
	 * at most one gc request per cooldown), and nothing it did not send
	 * is taken as done. */
	if (w->cfg->dry_run) {
		log_action(w, a, sig, res.pid, "dry run, not sent", false);
		return;
	}
	/* Otherwise only the first gc request of an episode is logged at
	 * info; the repeats at debug, summed up by respond_gc_summary(). */
	quiet = a == POLICY_GC && !episode_request(&w->gc_log, watch_now_usec(), w->metric_bytes);
	note_app_ending(w, a);
	r = send_to_targets(w, sig, need_handler, &res);
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
	    w, a, sig, res.pid, outcome, quiet || (a == POLICY_GC && r == 0 && res.sent == 0));
	if (a != POLICY_GC)
		knob_high_lift(&w->knob);
}

static void
log_gc_summary(const struct watch *w, const struct episode_summary *s)
{
	char lo[UNITS_BUF], hi[UNITS_BUF], l[UNITS_BUF], fr[UNITS_BUF], msg[256];
	uint64_t tenths = (s->span_usec + 50000) / 100000;
	const struct log_field f[] = {
		{ "event", "gc_summary", 0 },
		{ "requests", NULL, (long long)s->requests },
		{ "span_usec", NULL, (long long)s->span_usec },
		{ "metric_min_bytes", NULL, (long long)s->min_bytes },
		{ "metric_max_bytes", NULL, (long long)s->max_bytes },
		{ "limit_bytes", NULL, (long long)w->limit_bytes },
		{ "freed_per_request_bytes", NULL, (long long)s->freed_bytes },
	};

	snprintf(msg, sizeof(msg),
	    "gc: %u more request%s in %" PRIu64 ".%" PRIu64 "s, %s %s to %s of %s, %s freed per "
	    "request",
	    s->requests, s->requests == 1 ? "" : "s", tenths / 10, tenths % 10,
	    config_metric_name(w->cfg->metric), units_format_human(s->min_bytes, lo),
	    units_format_human(s->max_bytes, hi),
	    w->limit_bytes ? units_format_human(w->limit_bytes, l) : "no limit",
	    units_format_human(s->freed_bytes, fr));
	log_fields(LOG_LVL_INFO, msg, f, sizeof(f) / sizeof(f[0]));
}

void
respond_gc_summary(struct watch *w, uint64_t now)
{
	struct episode_summary s;

	if (episode_sample(&w->gc_log, now, w->metric_bytes, w->policy.in_episode, &s))
		log_gc_summary(w, &s);
}

/* ---- the rescue (rescue.c holds the rule this path keeps) ---- */

/* Is oomguard itself in the watched cgroup (or below it)? Then a reserve
 * it holds is charged there. */
static bool
self_inside(const struct watch *w)
{
	struct cgroup self;
	size_t n = strlen(w->cg.dir);

	if (cgroup_find_pid(w->opts->proc_root, w->opts->fs_root, 0, &self) < 0)
		return false;
	return strncmp(self.dir, w->cg.dir, n) == 0 && (self.dir[n] == '\0' || self.dir[n] == '/');
}

/* The reserve's mode for the watched cgroup, and its limit file opened
 * in limit mode. */
void
respond_reserve_open(struct watch *w)
{
	enum reserve_mode mode = w->cfg->reserve_mode;
	bool inside;
	int r;

	rescue_close(&w->rescue);
	w->rescue_ok = false;
	if (w->cfg->reserve_size.kind == THRESHOLD_NONE) {
		log_info("reserve: none; a frozen cgroup gets SIGKILL");
		return;
	}
	inside = self_inside(w);
	if (mode == RESERVE_AUTO)
		mode = inside ? RESERVE_MEMORY : RESERVE_LIMIT;
	r = rescue_open(&w->rescue, mode, w->cg.dir, w->cg.version);
	w->rescue_ok = r == 0;
	if (r < 0)
		log_info("reserve: cannot open the limit of %s for writing: %s; a frozen cgroup "
		         "gets SIGKILL",
		    w->cg.dir, strerror(-r));
	else if (mode == RESERVE_MEMORY && !inside)
		log_warn("reserve: oomguard is not in %s, so a reserve it holds cannot wake it; "
		         "[reserve] mode = limit can",
		    w->cg.dir);
}

/* Hold the reserve for the current limit: at start (before the app), and
 * again once the episode a rescue began is over; a limit raised for a rescue is put
 * back then. Not on the rescue path: this maps, writes and logs. */
void
respond_reserve_sync(struct watch *w)
{
	uint64_t want = rescue_size(&w->cfg->reserve_size, w->limit_bytes);
	char h[UNITS_BUF], l[UNITS_BUF], how[64];
	int r;

	/* The first take does not wait: a cgroup already over a level at
	 * start is the one most likely to freeze. */
	if (!w->rescue_ok || (w->policy.in_episode && w->reserve_taken) || w->cfg->dry_run)
		return;
	if (w->rescue.raised) {
		r = rescue_restore(&w->rescue);
		if (r < 0) {
			log_warn("cannot put the limit of %s back to %s: %s; retrying", w->cg.dir,
			    units_format_human(w->rescue.limit_bytes, l), strerror(-r));
			return;
		}
		if (r == 0)
			log_info("reserve: limit put back to %s",
			    units_format_human(w->rescue.limit_bytes, l));
		else
			log_info("reserve: the limit of %s was changed since the rescue raised it; "
			         "left as it is",
			    w->cg.dir);
	}
	if (w->rescue.held && w->rescue.bytes == want &&
	    (w->rescue.mode == RESERVE_MEMORY || w->rescue.limit_bytes == w->limit_bytes))
		return;
	/* A new limit wants a new size: the old reserve is dropped, never
	 * released (that would raise the new limit by the old reserve). */
	rescue_drop(&w->rescue);
	if (want == 0)
		return;
	r = rescue_take(&w->rescue, want, w->limit_bytes);
	if (r < 0) {
		if (!w->reserve_failing)
			log_warn("cannot hold a reserve of %s: %s; a frozen cgroup gets SIGKILL "
			         "until it can",
			    units_format_human(want, h), strerror(-r));
		w->reserve_failing = true;
		return;
	}
	w->reserve_failing = false;
	if (w->rescue.mode == RESERVE_LIMIT)
		snprintf(how, sizeof(how), " (the limit is raised by it for a rescue)");
	else if (w->rescue.locked_bytes == w->rescue.bytes)
		snprintf(how, sizeof(how), " (locked)");
	else
		snprintf(how, sizeof(how), " (%s of it locked: RLIMIT_MEMLOCK)",
		    units_format_human(w->rescue.locked_bytes, l));
	log_info("reserve: holding %s%s%s", units_format_human(want, h), how,
	    w->reserve_taken ? " again" : "");
	w->reserve_taken = true;
}

static void
log_rescue(const struct watch *w, enum policy_action a, int sig, const struct action_result *res,
    int sent, int released, uint64_t reserve_bytes)
{
	char m[UNITS_BUF], l[UNITS_BUF], sg[UNITS_BUF], rb[UNITS_BUF], msg[448], outcome[160];
	struct log_field f[] = {
		{ "event", "rescue", 0 },
		{ "level", policy_action_name(a), 0 },
		{ "metric_bytes", NULL, (long long)w->metric_bytes },
		{ "limit_bytes", NULL, (long long)w->limit_bytes },
		{ "action", a == POLICY_NONE ? "none" : units_format_signal(sig, sg), 0 },
		{ "pid", NULL, (long long)res->pid },
		{ "reserve_bytes", NULL, (long long)reserve_bytes },
		{ "outcome", outcome, 0 },
		{ "percent", LOG_HUNDREDTHS,
		    w->limit_bytes ? (long long)(w->metric_bytes * 10000 / w->limit_bytes) : 0 },
	};

	if (w->cfg->dry_run)
		snprintf(outcome, sizeof(outcome), "dry run, not sent, reserve kept");
	else if (a == POLICY_NONE && (w->policy.target_restart_sent || w->policy.target_kill_sent))
		snprintf(outcome, sizeof(outcome), "the signal sent before is pending");
	else if (a == POLICY_NONE)
		snprintf(outcome, sizeof(outcome), "nothing to send%s",
		    w->kernel_kills ? " (the kernel's OOM killer ends it)" : "");
	else if (sent < 0)
		snprintf(outcome, sizeof(outcome), "not sent: %s", strerror(-sent));
	else
		snprintf(outcome, sizeof(outcome), "sent");
	snprintf(msg, sizeof(msg),
	    "rescue: the cgroup %s at %s of %s; %s %s to pid %d (%s), then released the %s "
	    "reserve%s%s",
	    w->about_to_freeze ? "is about to freeze (full memory stalls within the reserve)"
	                       : "froze",
	    units_format_human(w->metric_bytes, m),
	    w->limit_bytes ? units_format_human(w->limit_bytes, l) : "no limit",
	    policy_action_name(a), a == POLICY_NONE ? "-" : sg, (int)res->pid, outcome,
	    units_format_human(reserve_bytes, rb), released < 0 ? ": " : "",
	    released < 0 ? strerror(-released) : "");
	log_fields(
	    LOG_LVL_WARN, msg, f, (int)(sizeof(f) / sizeof(f[0])) - (w->limit_bytes ? 0 : 1));
}

/*
 * The cgroup is frozen and the reserve held: signal the main target
 * through its open descriptors so that the signal is pending, then
 * release the reserve so that it wakes into its handler. Only then, with
 * memory to spare, log and reach the other targets (group, cgroup), whose
 * signalling opens files. The rescue path's rule is in rescue.c.
 */
void
respond_rescue(struct watch *w, enum policy_action a)
{
	int sig = action_signal_for(w, a), sent = -ESRCH, released = 0;
	struct action_result res = { 0, 0, 0, w->target.pid };
	uint64_t reserve_bytes = w->rescue.bytes;

	note_app_ending(w, a);
	if (!w->cfg->dry_run) {
		if (a != POLICY_NONE && w->target.pidfd >= 0)
			sent = action_signal_target(&w->actx, &w->target, sig, false, &res);
		released = rescue_release(&w->rescue);
	}
	if (!w->cfg->dry_run && a != POLICY_NONE &&
	    (w->cfg->target != TARGET_MAIN || w->target.pidfd < 0)) {
		struct action_result more = { 0, 0, 0, 0 };
		/* With memory to spare again the handlers can be read: a gc
		 * request reaches only those that catch it, as outside a
		 * rescue (an unhandled one would end the process). */
		bool need_handler = a == POLICY_GC && w->cfg->gc_require_handler;

		if (send_to_targets(w, sig, need_handler, &more) == 0 && sent < 0) {
			sent = more.sent > 0 ? 0 : -ESRCH;
			res = more;
		}
	}
	log_rescue(w, a, sig, &res, sent, released, reserve_bytes);
	if (a != POLICY_GC && a != POLICY_NONE)
		knob_high_lift(&w->knob);
}
