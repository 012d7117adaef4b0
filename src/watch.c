/*
 * watch.c: the event wiring. Everything here runs in libevent callbacks
 * on one thread; the decisions are made by pure code (policy.c,
 * schedule.c, supervise_should_restart) and carried out through action.c
 * and supervise.c. Once the loop runs, oomguard never exits on an error of
 * its own: it logs, degrades and carries on.
 */
#include <errno.h>
#include <fcntl.h>
#include <event2/event.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "action.h"
#include "cgroup.h"
#include "log.h"
#include "memcg.h"
#include "memctl.h"
#include "notify.h"
#include "policy.h"
#include "psi.h"
#include "rescue.h"
#include "schedule.h"
#include "service.h"
#include "supervise.h"
#include "unit.h"
#include "watch.h"

#define NTHRESHOLDS 3
/* Stack touched (and locked) at start for the rescue path's buffers. */
#define RESCUE_STACK_BYTES (256 * 1024)
#define MAX_SIGNALS        (SUPERVISE_SIGNALS_MAX + 1)

struct watch {
	const struct config *cfg;
	const struct watch_opts *opts;
	struct event_base *base;
	struct event *poll_ev;
	struct event *restart_ev;
	struct event *grace_ev;
	struct event *sig_ev[MAX_SIGNALS];
	int nsig;

	/* the cgroup and its notifications */
	struct cgroup cg;
	struct memcg mem;
	struct action_ctx actx;
	int thr_fd[NTHRESHOLDS];
	uint64_t thr_bytes[NTHRESHOLDS];
	struct event *thr_ev[NTHRESHOLDS];
	bool thr_failed;
	int oom_fd, events_fd, psi_epfd, psi_fd;
	int psi_rd_fd;                /* the pressure file, read-only: averages and totals */
	uint64_t psi_full_usec;       /* its full total at the last sample near the limit */
	bool about_to_freeze;         /* the latest sample found it so */
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
	struct policy_levels levels;
	struct policy_timing timing;
	struct policy_state policy;
	struct schedule_params sched;
	int read_errno;           /* last read error logged, to log a run of them once */
	uint64_t oom_kills;       /* the oom_kill counter last seen */
	uint64_t throttle_events; /* v2 memory.events high + max last seen */

	/* [watch] high: memory.high as it was before oomguard set it */
	char high_saved[32];
	bool high_done;   /* set, or given up on (logged once) */
	bool high_lifted; /* put back while the app stops */

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
	uint64_t reclaim_last_usec;
	bool reclaim_off; /* memory.reclaim refused for good (logged once) */

	/* the main target held open (the child, or --pid), and the reserve:
	 * the rescue path's tools (rescue.c) */
	struct action_target target;
	struct event *target_ev; /* --pid: its pidfd turns readable when it ends */
	struct rescue rescue;
	bool rescue_ok;               /* rescue_open() succeeded */
	bool reserve_taken;           /* held once: later takes say "again" */
	uint64_t target_started_usec; /* --pid or the unit's main process: when taken */

	/* systemd: the unit followed, reloads, the manager's notifications */
	struct unit_bus *bus;
	struct unit_info unit; /* as last seen */
	bool unit_failing;     /* a failure to ask or to locate was logged */
	struct event *tick_ev; /* every second: the unit, the status line */
	struct event *wd_ev;   /* WATCHDOG=1 */
	uint64_t wd_usec;
	struct config *cfg_owned; /* a configuration read by a reload */
	bool ready_sent;
};

static uint64_t
now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static struct timeval
tv_of(uint64_t usec)
{
	struct timeval tv = { (time_t)(usec / 1000000), (suseconds_t)(usec % 1000000) };

	return tv;
}

static void watch_sample(struct watch *w, const char *why);

/* ---- levels and v1 thresholds ---- */

static void
threshold_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	notify_drain(fd);
	watch_sample(arg, "threshold");
}

static void
thresholds_clear(struct watch *w)
{
	for (int i = 0; i < NTHRESHOLDS; i++) {
		if (w->thr_ev[i] != NULL)
			event_free(w->thr_ev[i]);
		if (w->thr_fd[i] >= 0)
			close(w->thr_fd[i]);
		w->thr_ev[i] = NULL;
		w->thr_fd[i] = -1;
		w->thr_bytes[i] = POLICY_OFF;
	}
}

/* v1: an eventfd at every armed level, so that crossing one wakes the loop
 * at once whatever the polling interval. */
static void
thresholds_register(struct watch *w)
{
	const uint64_t want[NTHRESHOLDS] = { w->levels.gc_bytes, w->levels.restart_bytes,
		w->levels.kill_bytes };

	if (w->cg.version != 1 || w->thr_failed)
		return;
	thresholds_clear(w);
	for (int i = 0; i < NTHRESHOLDS; i++) {
		int fd;

		if (want[i] == POLICY_OFF)
			continue;
		fd = notify_v1_threshold(w->cg.dir, want[i]);
		if (fd < 0) {
			log_info(
			    "cannot register v1 threshold notifications on %s: %s; polling carries "
			    "the load",
			    w->cg.dir, strerror(-fd));
			w->thr_failed = true;
			thresholds_clear(w);
			return;
		}
		w->thr_fd[i] = fd;
		w->thr_bytes[i] = want[i];
		w->thr_ev[i] = event_new(w->base, fd, EV_READ | EV_PERSIST, threshold_cb, w);
		event_add(w->thr_ev[i], NULL);
	}
}

static const char *
fmt_size(uint64_t bytes, char *buf)
{
	if (bytes == POLICY_OFF)
		return "off";
	return units_format_human(bytes, buf);
}

/* [watch] high: set memory.high to the configured level (auto: the
 * restart level) for the current limit, saving the value found first. */
static void
high_apply(struct watch *w)
{
	const struct threshold *t = &w->cfg->watch_high;
	uint64_t bytes;
	char text[32], h[UNITS_BUF];
	int r;

	if (t->kind == THRESHOLD_NONE || (w->high_done && w->high_saved[0] == '\0'))
		return;
	if (w->cg.version != 2) {
		log_info(
		    "[watch] high needs cgroup v2; %s is v1, memory.high left alone", w->cg.dir);
		w->high_done = true;
		return;
	}
	bytes = t->kind == THRESHOLD_AUTO ? w->levels.restart_bytes
	                                  : units_threshold_bytes(t, w->limit_bytes);
	if (bytes == POLICY_OFF)
		return;
	if (w->high_saved[0] == '\0' &&
	    memctl_high_get(w->cg.dir, w->high_saved, sizeof(w->high_saved)) < 0)
		w->high_saved[0] = '\0';
	snprintf(text, sizeof(text), "%llu", (unsigned long long)bytes);
	r = w->high_saved[0] != '\0' ? memctl_high_set(w->cg.dir, text) : -EACCES;
	if (r < 0) {
		log_info("cannot set memory.high of %s: %s; the kernel will not throttle before "
		         "memory.max",
		    w->cg.dir, strerror(-r));
		w->high_saved[0] = '\0';
		w->high_done = true;
		return;
	}
	w->high_done = true;
	log_info("memory.high set to %s (was %.*s)", units_format_human(bytes, h),
	    (int)strcspn(w->high_saved, "\n"), w->high_saved);
}

/* The app is being stopped: let it shut down at full speed rather than
 * throttled; memory.high is set again for the next child. */
static void
high_lift(struct watch *w)
{
	if (w->high_saved[0] == '\0' || w->high_lifted)
		return;
	if (memctl_high_set(w->cg.dir, w->high_saved) == 0) {
		w->high_lifted = true;
		log_info("memory.high lifted while the app stops");
	}
}

static void
high_restore(struct watch *w)
{
	int r;

	if (w->high_saved[0] == '\0' || !w->watching)
		return;
	r = memctl_high_set(w->cg.dir, w->high_saved);
	if (r < 0)
		log_warn("cannot restore memory.high of %s: %s", w->cg.dir, strerror(-r));
}

/* Resolve the thresholds for a limit; on a change, log the levels and
 * register the v1 thresholds again. */
static void
levels_update(struct watch *w, uint64_t limit_bytes)
{
	const struct config *c = w->cfg;
	struct policy_levels lv;
	char a[UNITS_BUF], b[UNITS_BUF], d[UNITS_BUF], e[UNITS_BUF], l[UNITS_BUF];

	lv.gc_bytes = units_threshold_bytes(&c->gc_at, limit_bytes);
	lv.restart_bytes = units_threshold_bytes(&c->restart_at, limit_bytes);
	lv.kill_bytes = units_threshold_bytes(&c->kill_at, limit_bytes);
	lv.rearm_bytes = units_threshold_bytes(&c->gc_rearm_below, limit_bytes);
	if (w->levels_set && w->limit_bytes == limit_bytes)
		return;
	w->levels = lv;
	w->limit_bytes = limit_bytes;
	w->levels_set = true;
	log_info("limit %s: gc at %s, restart at %s, kill at %s, rearm below %s",
	    limit_bytes ? units_format_human(limit_bytes, l) : "none", fmt_size(lv.gc_bytes, a),
	    fmt_size(lv.restart_bytes, b), fmt_size(lv.kill_bytes, d), fmt_size(lv.rearm_bytes, e));
	if ((lv.gc_bytes != POLICY_OFF && lv.restart_bytes != POLICY_OFF &&
	        lv.gc_bytes >= lv.restart_bytes) ||
	    (lv.restart_bytes != POLICY_OFF && lv.kill_bytes != POLICY_OFF &&
	        lv.restart_bytes >= lv.kill_bytes))
		log_warn(
		    "for this limit the levels are out of order; the strongest action due wins");
	thresholds_register(w);
	high_apply(w);
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
			return action_signal_cgroup(&w->actx, 0, sig, need_handler, ret);
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
		{ "percent", NULL, (long long)(pct / 100) },
		{ "action", units_format_signal(sig, s), 0 },
		{ "pid", NULL, (long long)pid },
		{ "outcome", outcome, 0 },
	};

	snprintf(msg, sizeof(msg),
	    "%s: %s %s of %s (%" PRIu64 ".%02" PRIu64 "%%), %s to pid %d: %s",
	    policy_action_name(a), config_metric_name(w->cfg->metric),
	    units_format_human(w->metric_bytes, m),
	    w->limit_bytes ? units_format_human(w->limit_bytes, l) : "no limit", pct / 100,
	    pct % 100, s, (int)pid, outcome);
	log_fields(quiet         ? LOG_LVL_DEBUG
	        : a == POLICY_GC ? LOG_LVL_INFO
	                         : LOG_LVL_WARN,
	    msg, f, sizeof(f) / sizeof(f[0]));
}

/* [gc] reclaim: at or above the gc level (or throttled), every cooldown,
 * have the kernel reclaim what it can (v2 memory.reclaim), with or without
 * the app's help, and say how much the metric fell. A refusal other than
 * "found less" is logged once and ends the attempts. */
static void
reclaim(struct watch *w, uint64_t now)
{
	const struct threshold *t = &w->cfg->gc_reclaim;
	uint64_t bytes = units_threshold_bytes(t, w->limit_bytes), before = w->metric_bytes;
	struct memcg_sample s;
	char a[UNITS_BUF], b[UNITS_BUF], c[UNITS_BUF];
	int r;

	if (t->kind == THRESHOLD_NONE || bytes == POLICY_OFF || w->cfg->dry_run || w->reclaim_off)
		return;
	if (w->metric_bytes < w->levels.gc_bytes && !w->throttled)
		return;
	if (w->reclaim_last_usec != 0 && now - w->reclaim_last_usec < w->cfg->gc_cooldown_usec)
		return;
	w->reclaim_last_usec = now;
	if (w->cg.version != 2) {
		log_info("[gc] reclaim needs cgroup v2; %s is v1", w->cg.dir);
		w->reclaim_off = true;
		return;
	}
	r = memctl_reclaim(w->cg.dir, bytes);
	if (r < 0 && r != -EAGAIN) {
		log_info("cannot reclaim from %s: %s; [gc] reclaim is off from now on", w->cg.dir,
		    strerror(-r));
		w->reclaim_off = true;
		return;
	}
	if (memcg_read(&w->mem, &s) < 0)
		return;
	w->metric_bytes = memcg_metric(&s, w->cfg->metric);
	log_info("reclaim: asked the kernel for %s%s; %s fell from %s to %s",
	    units_format_human(bytes, a), r == -EAGAIN ? " (it found less)" : "",
	    config_metric_name(w->cfg->metric), units_format_human(before, b),
	    units_format_human(w->metric_bytes, c));
}

static void
act(struct watch *w, enum policy_action a)
{
	int sig = action_signal_for(w, a);
	bool need_handler = a == POLICY_GC && w->cfg->gc_require_handler;
	struct action_result res = { 0, 0, 0, w->have_child ? w->child.pid : 0 };
	char outcome[160];
	int r;

	if (a != POLICY_GC && w->have_child) {
		w->by_watchdog = true;
		w->watchdog_why = a == POLICY_KILL ? "kill level" : "restart level";
	}
	if (w->cfg->dry_run) {
		log_action(w, a, sig, res.pid, "dry run, not sent", false);
		return;
	}
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
	log_action(w, a, sig, res.pid, outcome, a == POLICY_GC && r == 0 && res.sent == 0);
	if (a != POLICY_GC)
		high_lift(w);
}

/* Whether a gc request may go to the main child: with require_handler,
 * only while it catches the signal. It is read afresh each time (a
 * handler can come and go; right after fork the child still shows
 * oomguard's own handlers), and the lack of one is logged once per child,
 * after its start-up, when it has had the time to install it. */
/* ---- the rescue (rescue.c holds the rule this path keeps) ---- */

/* Hold the reserve for the current limit: at start, and again once the
 * episode a rescue began is over; a limit raised for a rescue is put
 * back then. Not on the rescue path: this maps, writes and logs. */
static void
reserve_sync(struct watch *w)
{
	uint64_t want = rescue_size(&w->cfg->reserve_size, w->limit_bytes);
	char h[UNITS_BUF], l[UNITS_BUF];
	int r;

	if (!w->rescue_ok || w->policy.in_episode || w->cfg->dry_run)
		return;
	if (w->rescue.raised) {
		r = rescue_restore(&w->rescue);
		if (r < 0) {
			log_warn("cannot put the limit of %s back to %s: %s; retrying", w->cg.dir,
			    units_format_human(w->rescue.limit_bytes, l), strerror(-r));
			return;
		}
		log_info(
		    "reserve: limit put back to %s", units_format_human(w->rescue.limit_bytes, l));
	}
	if (w->rescue.held && w->rescue.bytes == want &&
	    (w->rescue.mode == RESERVE_MEMORY || w->rescue.limit_bytes == w->limit_bytes))
		return;
	if (w->rescue.held) /* a new limit: a new size */
		(void)rescue_release(&w->rescue);
	if (want == 0)
		return;
	r = rescue_take(&w->rescue, want, w->limit_bytes);
	if (r < 0) {
		log_warn("cannot hold a reserve of %s: %s; a frozen cgroup gets SIGKILL",
		    units_format_human(want, h), strerror(-r));
		return;
	}
	log_info("reserve: holding %s%s%s", units_format_human(want, h),
	    w->rescue.mode == RESERVE_LIMIT ? " (the limit is raised by it for a rescue)"
	        : w->rescue.locked          ? " (locked)"
	                                    : " (not locked)",
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
	};

	if (w->cfg->dry_run)
		snprintf(outcome, sizeof(outcome), "dry run, not sent, reserve kept");
	else if (a == POLICY_NONE)
		snprintf(outcome, sizeof(outcome), "the signal sent before is pending");
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
	f[4].str = a == POLICY_NONE ? "none" : sg;
	log_fields(LOG_LVL_WARN, msg, f, sizeof(f) / sizeof(f[0]));
}

/*
 * The cgroup is frozen and the reserve held: signal the main target
 * through its open descriptors so that the signal is pending, then
 * release the reserve so that it wakes into its handler. Only then, with
 * memory to spare, log and reach the other targets (group, cgroup), whose
 * signalling opens files. The rescue path's rule is in rescue.c.
 */
static void
rescue_act(struct watch *w, enum policy_action a)
{
	int sig = action_signal_for(w, a), sent = -ESRCH, released = 0;
	struct action_result res = { 0, 0, 0, w->target.pid };
	uint64_t reserve_bytes = w->rescue.bytes;

	if (a != POLICY_GC && a != POLICY_NONE && w->have_child) {
		w->by_watchdog = true;
		w->watchdog_why = a == POLICY_KILL ? "kill level" : "restart level";
	}
	if (!w->cfg->dry_run) {
		if (a != POLICY_NONE && w->target.pidfd >= 0)
			sent = action_signal_target(&w->actx, &w->target, sig, false, &res);
		released = rescue_release(&w->rescue);
	}
	if (!w->cfg->dry_run && a != POLICY_NONE &&
	    (w->cfg->target != TARGET_MAIN || w->target.pidfd < 0)) {
		struct action_result more = { 0, 0, 0, 0 };

		if (send_to_targets(w, sig, false, &more) == 0 && sent < 0) {
			sent = more.sent > 0 ? 0 : -ESRCH;
			res = more;
		}
	}
	log_rescue(w, a, sig, &res, sent, released, reserve_bytes);
	if (a != POLICY_GC && a != POLICY_NONE)
		high_lift(w);
}

/* Whether the main target catches sig, read through its descriptors when
 * it is held open (no file opened: the rescue path asks too). Return 1,
 * 0, or -errno (-ESRCH without a main target). */
static int
target_caught(const struct watch *w, int sig)
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
static bool
targets_exist(const struct watch *w)
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
static bool
gc_allowed(struct watch *w, uint64_t now, bool frozen)
{
	uint64_t started = w->have_child ? w->child.started_usec : w->target_started_usec;
	char s[UNITS_BUF];
	int r;

	if (!w->cfg->gc_require_handler || w->cfg->target != TARGET_MAIN || !has_main_target(w))
		return true;
	r = target_caught(w, w->cfg->gc_signal);
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

/* ---- sampling ---- */

static void
schedule_next(struct watch *w)
{
	uint64_t usec = w->cfg->poll_min_usec;
	struct timeval tv;

	if (!w->watching)
		return;
	if (w->have_sample && w->levels_set)
		usec =
		    schedule_interval(&w->sched, &w->levels, w->metric_bytes, w->policy.in_episode);
	tv = tv_of(usec);
	event_add(w->poll_ev, &tv);
}

static void unwatch(struct watch *w, const char *why);

/* A read that fails: ENOMEM means the cgroup is frozen (allocations in
 * system calls fail there), ENODEV or ENOENT that it was removed. */
static int
sample_failed(struct watch *w, int err)
{
	if (err == -ENODEV || err == -ENOENT) {
		unwatch(w, "the watched cgroup was removed");
		return -1;
	}
	/* ENOMEM is logged after the action: logging first could fail,
	 * and would delay the rescue. */
	if (err == -ENOMEM)
		return 1;
	if (err != w->read_errno)
		log_warn("cannot read memory usage of %s: %s; retrying", w->cg.dir, strerror(-err));
	w->read_errno = err;
	return 0;
}

/* Memory pressure (a PSI trigger fired, or the averages passed its rate):
 * look closely for the trigger's window. */
static void
pressure(struct watch *w, uint64_t now, const char *how)
{
	if (now >= w->pressure_until_usec)
		log_info("memory pressure (%s): polling every %s for %s", how,
		    units_format_duration(w->cfg->poll_min_usec, (char[UNITS_BUF]){ 0 }),
		    units_format_duration(w->cfg->psi.window_usec, (char[UNITS_BUF]){ 0 }));
	w->pressure_until_usec = now + w->cfg->psi.window_usec;
}

static void
psi_poll(struct watch *w, uint64_t now)
{
	struct psi_stats st;

	if (w->psi_polling && psi_pread(w->psi_rd_fd, &st) == 0 && psi_over(&st, &w->cfg->psi))
		pressure(w, now, "psi averages");
}

/* The kernel's own events since the last sample: OOM kills are logged
 * (the app's end, if it was the app, is then handled by the restart
 * policy); a rise of the v2 high or max counter means the kernel is
 * throttling or reclaiming at a limit. Return whether it is. */
static bool
kernel_events(struct watch *w, const struct memcg_sample *s)
{
	uint64_t kills = s->has_events ? s->events.oom_kill : s->oom_kill;
	uint64_t throttle = s->has_events ? s->events.high + s->events.max : 0;
	bool first = !w->have_sample, throttled = !first && throttle > w->throttle_events;

	if (!first && kills > w->oom_kills)
		log_warn("the kernel OOM-killed %" PRIu64
		         " process(es) in %s (oom_kill counter %" PRIu64 ")",
		    kills - w->oom_kills, w->cg.dir, kills);
	if (throttled)
		log_debug("memory.events: high %" PRIu64 " max %" PRIu64 ": throttled",
		    s->events.high, s->events.max);
	w->oom_kills = kills;
	w->throttle_events = throttle;
	return throttled;
}

/*
 * About to freeze: usage within the reserve of the limit while the full
 * stall time of the pressure file grows (every task of the cgroup waiting
 * on memory). Only a held reserve makes it worth knowing; the pressure
 * file is read only that close to the limit.
 */
static bool
about_to_freeze(struct watch *w, const struct memcg_sample *s, uint64_t limit_bytes)
{
	struct psi_stats st;
	bool rising;

	if (!w->rescue.held || limit_bytes == 0 || w->psi_rd_fd < 0 ||
	    s->usage_bytes + w->rescue.bytes < limit_bytes) {
		w->psi_full_usec = 0;
		return false;
	}
	if (psi_pread(w->psi_rd_fd, &st) < 0 || !st.has_full)
		return false;
	rising = w->psi_full_usec != 0 && st.full.total_usec > w->psi_full_usec;
	w->psi_full_usec = st.full.total_usec;
	return rising;
}

/*
 * One sample and what follows from it. When the cgroup is frozen this is
 * the start of the rescue path (rescue.c): up to rescue_act() it reads
 * open descriptors and decides, and logs nothing.
 */
static void
watch_sample(struct watch *w, const char *why)
{
	struct memcg_sample s;
	struct policy_input in;
	enum policy_action a;
	uint64_t now = now_usec(), limit;
	bool enomem = false, throttled = false, frozen;
	int r;

	if (!w->watching)
		return;
	r = memcg_read(&w->mem, &s);
	if (r < 0) {
		r = sample_failed(w, r);
		if (r < 0)
			return;
		if (r == 0 || !w->have_sample) {
			schedule_next(w);
			return;
		}
		enomem = true;
		s = w->sample;
	} else {
		w->read_errno = 0;
		throttled = kernel_events(w, &s);
	}
	w->sample = s;
	w->have_sample = true;
	psi_poll(w, now);
	w->metric_bytes = memcg_metric(&s, w->cfg->metric);
	/* Without memory.max, memory.high is where the kernel stops the app:
	 * percentages count from it. A limit oomguard raised for a rescue is
	 * not the cgroup's own. */
	limit = s.limit_bytes ? s.limit_bytes : s.high_bytes;
	if (w->rescue.raised && limit == w->rescue.limit_bytes + w->rescue.bytes)
		limit = w->rescue.limit_bytes;
	frozen = enomem || (s.has_oom_control && s.under_oom);
	w->about_to_freeze = !frozen && about_to_freeze(w, &s, limit);
	frozen = frozen || w->about_to_freeze;
	if (!frozen)
		levels_update(w, limit);
	in = (struct policy_input){
		.now_usec = now,
		.metric_bytes = w->metric_bytes,
		.frozen = frozen,
		.throttled = throttled,
		.target_alive = targets_exist(w) && !w->shutting_down,
		.target_started_usec =
		    w->have_child ? w->child.started_usec : w->target_started_usec,
		.target_generation = w->generation,
		.rescue = frozen && w->rescue.held,
	};
	if (in.rescue) {
		in.gc_allowed = gc_allowed(w, now, true);
		in.restart_caught = target_caught(w, w->cfg->restart_signal) > 0;
	} else {
		in.gc_allowed = w->metric_bytes >= w->levels.gc_bytes || throttled
		    ? gc_allowed(w, now, frozen)
		    : true;
	}
	w->throttled = throttled;
	a = policy_eval(&w->policy, &w->levels, &w->timing, &in);
	if (in.rescue)
		rescue_act(w, a);
	else if (a != POLICY_NONE)
		act(w, a);
	if (enomem && w->read_errno != -ENOMEM)
		log_warn("cannot read memory usage of %s: %s (the cgroup is frozen)", w->cg.dir,
		    strerror(ENOMEM));
	w->read_errno = enomem ? -ENOMEM : w->read_errno;
	if (a != POLICY_NONE)
		log_debug("sample (%s): %" PRIu64 " bytes, action %s", why, w->metric_bytes,
		    policy_action_name(a));
	if (frozen)
		levels_update(w, limit);
	reserve_sync(w);
	reclaim(w, now);
	schedule_next(w);
}

static void
poll_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	watch_sample(arg, "poll");
}

static void
oom_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	notify_drain(fd);
	watch_sample(arg, "oom");
}

static void
events_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	notify_drain(fd);
	watch_sample(arg, "memory.events");
}

static void
psi_cb(evutil_socket_t fd, short what, void *arg)
{
	struct watch *w = arg;
	int r;

	(void)what;
	r = psi_trigger_consume(fd);
	if (r == -ENODEV) {
		unwatch(w, "the pressure file went away");
		return;
	}
	/* libevent's own epoll already took the kernel's one-shot event when
	 * it found this descriptor readable, so readiness is the firing. */
	pressure(w, now_usec(), "psi trigger");
	watch_sample(w, "psi");
}

static struct event *
watch_fd(struct watch *w, int fd, event_callback_fn cb)
{
	struct event *ev = event_new(w->base, fd, EV_READ | EV_PERSIST, cb, w);

	if (ev != NULL)
		event_add(ev, NULL);
	return ev;
}

/* Kernel notifications where the cgroup allows them; each failure is
 * logged once with what replaces it. */
static void
notifications_register(struct watch *w)
{
	char t[64];
	int r;

	if (w->cg.version == 1) {
		w->oom_fd = notify_v1_oom(w->cg.dir);
		if (w->oom_fd >= 0)
			w->oom_ev = watch_fd(w, w->oom_fd, oom_cb);
		else
			log_info("cannot register the v1 OOM notification on %s: %s; polling "
			         "memory.oom_control instead",
			    w->cg.dir, strerror(-w->oom_fd));
	} else {
		w->events_fd = notify_v2_events(w->cg.dir);
		if (w->events_fd >= 0)
			w->events_ev = watch_fd(w, w->events_fd, events_cb);
		else
			log_info("cannot watch %s/memory.events with inotify: %s; polling instead",
			    w->cg.dir, strerror(-w->events_fd));
	}
	/* Read on the timer: the averages where a trigger is refused, and the
	 * full total near the limit (rescue). */
	w->psi_polling = false;
	if (w->cg.psi_file[0] != '\0')
		w->psi_rd_fd = open(w->cg.psi_file, O_RDONLY | O_CLOEXEC);
	if (!w->cfg->psi.enabled)
		return;
	config_psi_format(&w->cfg->psi, t, sizeof(t));
	if (w->cg.psi_file[0] == '\0') {
		log_info("no memory pressure file for %s; psi trigger \"%s\" unused", w->cg.dir, t);
		return;
	}
	r = psi_trigger_open(w->cg.psi_file, &w->cfg->psi, &w->psi_epfd, &w->psi_fd);
	if (r < 0) {
		log_info("the kernel refused psi trigger \"%s\" on %s: %s; reading the averages on "
		         "the poll timer instead",
		    t, w->cg.psi_file, strerror(-r));
		w->psi_polling = w->psi_rd_fd >= 0;
		return;
	}
	w->psi_ev = watch_fd(w, w->psi_epfd, psi_cb);
}

static void
notifications_close(struct watch *w)
{
	struct event **evs[] = { &w->oom_ev, &w->events_ev, &w->psi_ev };
	int *fds[] = { &w->oom_fd, &w->events_fd, &w->psi_epfd, &w->psi_fd, &w->psi_rd_fd };

	thresholds_clear(w);
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
		if (*evs[i] != NULL)
			event_free(*evs[i]);
		*evs[i] = NULL;
	}
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

/* The cgroup is gone: without an app there is nothing left to do; with
 * one, keep supervising it unwatched. */
static void
unwatch(struct watch *w, const char *why)
{
	w->watching = false;
	event_del(w->poll_ev);
	notifications_close(w);
	memcg_close(&w->mem);
	if (w->opts->unit != NULL) {
		log_info("%s (%s); waiting for %s to run again", why, w->cg.dir, w->opts->unit);
		return;
	}
	if (w->opts->app_argv == NULL) {
		log_info("%s (%s); exiting", why, w->cg.dir);
		w->exit_code = 0;
		event_base_loopbreak(w->base);
		return;
	}
	log_warn("%s (%s); the app keeps running, unwatched", why, w->cg.dir);
}

/* ---- the app ---- */

static void
spawn_child(struct watch *w)
{
	uint64_t now = now_usec();
	int r;

	w->generation++;
	r = supervise_spawn(w->opts->app_argv, w->take_terminal, now, w->generation, &w->child);
	if (r < 0) {
		/* Degrade rather than die: try again after the back-off. */
		log_error("cannot start %s: %s", w->opts->app_argv[0], strerror(-r));
		w->restart_delay_usec =
		    supervise_backoff(w->restart_delay_usec, 0, w->cfg->restart_delay_usec,
		        w->cfg->restart_delay_max_usec, w->cfg->stable_usec);
		struct timeval tv = tv_of(w->restart_delay_usec);
		event_add(w->restart_ev, &tv);
		return;
	}
	w->have_child = true;
	r = action_target_open(w->opts->proc_root, w->child.pid, w->child.pidfd, &w->target);
	if (r < 0)
		log_warn("cannot hold /proc/%d open: %s; its checks will open files as they go",
		    (int)w->child.pid, strerror(-r));
	w->by_watchdog = false;
	w->watchdog_why = NULL;
	w->handler_warned = false;
	if (w->high_lifted && w->levels_set) {
		w->high_lifted = false;
		w->high_done = false;
		high_apply(w);
	}
	log_info("started %s as pid %d", w->opts->app_argv[0], (int)w->child.pid);
}

static void
restart_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	spawn_child(arg);
}

static void
grace_cb(evutil_socket_t fd, short what, void *arg)
{
	struct watch *w = arg;

	(void)fd;
	(void)what;
	if (!w->have_child)
		return;
	log_warn("the app (pid %d) is still running after the grace period; sending SIGKILL",
	    (int)w->child.pid);
	supervise_signal(&w->child, SIGKILL);
}

static void
child_ended(struct watch *w, int status)
{
	uint64_t now = now_usec(), run = now - w->child.started_usec;
	int code = supervise_exit_code(status);
	pid_t pid = w->child.pid;
	char d[UNITS_BUF];

	/* Killed: read the counters now, so that an OOM kill by the kernel
	 * is named before the app's end. */
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && w->watching) {
		struct memcg_sample s;

		if (memcg_read(&w->mem, &s) == 0)
			(void)kernel_events(w, &s);
	}
	action_target_close(&w->target);
	supervise_release(&w->child);
	w->have_child = false;
	w->exit_code = code;
	event_del(w->grace_ev);
	if (WIFSIGNALED(status))
		log_info("the app (pid %d) was killed by signal %d (exit code %d)", (int)pid,
		    WTERMSIG(status), code);
	else
		log_info("the app (pid %d) exited with code %d", (int)pid, code);
	if (!supervise_should_restart(
	        w->cfg->supervise_restart, w->by_watchdog, w->shutting_down)) {
		event_base_loopbreak(w->base);
		return;
	}
	w->restart_delay_usec = supervise_backoff(w->restart_delay_usec, run,
	    w->cfg->restart_delay_usec, w->cfg->restart_delay_max_usec, w->cfg->stable_usec);
	log_info("restarting the app in %s (%s)", units_format_duration(w->restart_delay_usec, d),
	    w->by_watchdog ? w->watchdog_why : "it ended on its own");
	struct timeval tv = tv_of(w->restart_delay_usec);
	event_add(w->restart_ev, &tv);
}

static void
reap(struct watch *w)
{
	int status, r;

	r = supervise_reap(w->have_child ? w->child.pid : -1, &status);
	if (r < 0)
		log_warn("cannot reap children: %s", strerror(-r));
	else if (r == 1 && w->have_child)
		child_ended(w, status);
}

/* SIGTERM or SIGINT: pass it on, give the app its grace period, and end
 * with it. */
static void
shutdown_begin(struct watch *w, int sig)
{
	char s[UNITS_BUF], d[UNITS_BUF];
	struct timeval tv = tv_of(w->cfg->restart_grace_usec);

	w->shutting_down = true;
	service_stopping();
	event_del(w->restart_ev);
	if (!w->have_child) {
		if (w->opts->app_argv == NULL)
			w->exit_code = 0;
		log_info("%s received; exiting", units_format_signal(sig, s));
		event_base_loopbreak(w->base);
		return;
	}
	log_info("%s received; passing it on to pid %d, SIGKILL in %s", units_format_signal(sig, s),
	    (int)w->child.pid, units_format_duration(w->cfg->restart_grace_usec, d));
	supervise_signal(&w->child, sig);
	event_add(w->grace_ev, &tv);
}

static void reload(struct watch *w);

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct watch *w = arg;

	(void)what;
	if (sig == SIGCHLD) {
		reap(w);
		return;
	}
	/* Without an app, SIGHUP is ours: reload. With one, it is the app's. */
	if (sig == SIGHUP && w->opts->reload != NULL) {
		reload(w);
		return;
	}
	if ((sig == SIGTERM || sig == SIGINT) && !w->shutting_down) {
		shutdown_begin(w, (int)sig);
		return;
	}
	if (w->have_child) {
		supervise_signal(&w->child, (int)sig);
		return;
	}
	if (w->opts->app_argv == NULL && (sig == SIGTERM || sig == SIGINT)) {
		event_base_loopbreak(w->base);
	}
}

static int
signals_register(struct watch *w)
{
	int sigs[MAX_SIGNALS];
	int n = supervise_forwarded_signals(sigs, SUPERVISE_SIGNALS_MAX);

	if (n < 0)
		return n;
	/* Signals about oomguard's own pipe writes, file sizes and terminal
	 * access are not the app's business, nor fatal to oomguard. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	signal(SIGTTIN, SIG_IGN);
	signal(SIGTTOU, SIG_IGN);
	sigs[n++] = SIGCHLD;
	for (int i = 0; i < n; i++) {
		w->sig_ev[i] = evsignal_new(w->base, sigs[i], signal_cb, w);
		if (w->sig_ev[i] == NULL || evsignal_add(w->sig_ev[i], NULL) < 0)
			return -EINVAL;
		w->nsig = i + 1;
	}
	return 0;
}

/* ---- set-up ---- */

static int
locate(struct watch *w)
{
	const char *cgroup = w->cfg->cgroup;
	int r;

	/* A unit's memory cgroup is its main process's: on v1 it may differ
	 * from the ControlGroup systemd names (no memory accounting). */
	if (w->opts->unit != NULL && w->unit.main_pid > 0)
		r = cgroup_find_pid(w->opts->proc_root, w->opts->fs_root, w->unit.main_pid, &w->cg);
	else if (w->opts->unit != NULL)
		r = cgroup_find_path(
		    w->opts->proc_root, w->opts->fs_root, w->unit.control_group, &w->cg);
	else if (strcmp(cgroup, "self") == 0)
		r = cgroup_find_pid(w->opts->proc_root, w->opts->fs_root, w->opts->pid, &w->cg);
	else
		r = cgroup_find_path(w->opts->proc_root, w->opts->fs_root, cgroup, &w->cg);
	if (r < 0) {
		log_error("cannot locate the memory cgroup %s: %s",
		    w->opts->unit != NULL ? w->unit.control_group : cgroup, strerror(-r));
		return r;
	}
	r = memcg_open(&w->mem, w->cg.dir, w->cg.version, memcg_host_ram(w->opts->proc_root));
	if (r < 0) {
		log_error("cannot open the memory files of %s: %s", w->cg.dir, strerror(-r));
		return r;
	}
	w->actx = (struct action_ctx){ w->opts->proc_root, w->cg.dir, w->cg.path, w->cg.version };
	log_info("watching %s (cgroup v%d, %s host), metric %s", w->cg.dir, w->cg.version,
	    cgroup_layout_name(w->cg.layout), config_metric_name(w->cfg->metric));
	return 0;
}

static void target_detach(struct watch *w);

static void
target_end_cb(evutil_socket_t fd, short what, void *arg)
{
	struct watch *w = arg;

	(void)fd;
	(void)what;
	log_info("the target (pid %d) has ended; no main target left", (int)w->target.pid);
	target_detach(w);
}

/* Drop the main target of a watch without an app. */
static void
target_detach(struct watch *w)
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
static int
target_attach(struct watch *w, pid_t pid)
{
	int r;

	target_detach(w);
	w->generation++;
	w->target_started_usec = now_usec();
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
	if (w->target_ev != NULL)
		event_add(w->target_ev, NULL);
	log_info("target: pid %d", (int)pid);
	return 0;
}

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
static void
reserve_open(struct watch *w)
{
	enum reserve_mode mode = w->cfg->reserve_mode;
	int r;

	rescue_close(&w->rescue);
	w->rescue_ok = false;
	if (w->cfg->reserve_size.kind == THRESHOLD_NONE) {
		log_info("reserve: none; a frozen cgroup gets SIGKILL");
		return;
	}
	if (mode == RESERVE_AUTO)
		mode = self_inside(w) ? RESERVE_MEMORY : RESERVE_LIMIT;
	r = rescue_open(&w->rescue, mode, w->cg.dir, w->cg.version);
	w->rescue_ok = r == 0;
	if (r < 0)
		log_info("reserve: cannot open the limit of %s for writing: %s; a frozen cgroup "
		         "gets SIGKILL",
		    w->cg.dir, strerror(-r));
	else if (mode == RESERVE_MEMORY && !self_inside(w))
		log_warn("reserve: oomguard is not in %s, so a reserve it holds cannot wake it; "
		         "[reserve] mode = limit can",
		    w->cg.dir);
}

/* oomguard's memory locked, once. */
static void
lock_self(void)
{
	int r = rescue_lock_self(RESCUE_STACK_BYTES);

	if (r < 0)
		log_info("cannot lock oomguard's memory (mlockall: %s); it may fault while the "
		         "cgroup is frozen",
		    strerror(-r));
	else
		log_info("oomguard's memory is locked");
}

/* ---- systemd: the unit followed, the manager told, reloads ---- */

static void
ready(struct watch *w)
{
	if (w->ready_sent)
		return;
	service_ready();
	w->ready_sent = true;
}

/* Watch the cgroup anew (the unit restarted, or ran again): the old
 * descriptors belong to a cgroup that may be gone. Return 0 or -errno. */
static int
relocate(struct watch *w)
{
	int r;

	if (w->watching) {
		event_del(w->poll_ev);
		notifications_close(w);
		memcg_close(&w->mem);
		w->watching = false;
	}
	r = locate(w);
	if (r < 0)
		return r;
	w->watching = true;
	w->have_sample = false;
	w->levels_set = false;
	w->thr_failed = false;
	/* A cgroup made anew starts afresh: no episode carried over from
	 * the old one, whose usage ended with its processes. */
	policy_init(&w->policy);
	w->high_saved[0] = '\0';
	w->high_done = false;
	w->high_lifted = false;
	w->reclaim_off = false;
	notifications_register(w);
	reserve_open(w);
	return 0;
}

/* Ask systemd about the unit and follow it: a new run (invocation ID), a
 * new main process or a new cgroup is watched at once; a unit without a
 * cgroup (stopped) is waited for. Failures are logged once per run of
 * them: oomguard asks again every second. */
static void
unit_follow(struct watch *w)
{
	struct unit_info u;
	bool new_run, new_pid, new_cg;
	int r = unit_query(w->bus, w->opts->unit, &u);

	if (r < 0) {
		if (!w->unit_failing)
			log_warn("cannot ask systemd about %s: %s; asking again every second",
			    w->opts->unit, strerror(-r));
		w->unit_failing = true;
		return;
	}
	new_run = strcmp(u.invocation_id, w->unit.invocation_id) != 0;
	new_pid = u.main_pid != w->unit.main_pid;
	new_cg = strcmp(u.control_group, w->unit.control_group) != 0;
	if (!new_run && !new_pid && !new_cg && (w->watching || u.control_group[0] == '\0') &&
	    !w->unit_failing)
		return;
	w->unit = u;
	if (new_run || new_pid || new_cg)
		log_info("unit %s: %s, main pid %d, cgroup %s", w->opts->unit, u.active_state,
		    (int)u.main_pid, u.control_group[0] != '\0' ? u.control_group : "none");
	w->unit_failing = false;
	if (u.control_group[0] == '\0') {
		target_detach(w);
		if (w->watching)
			unwatch(w, "the unit has no cgroup");
		return;
	}
	if ((!w->watching || new_run || new_cg || new_pid) && relocate(w) < 0) {
		w->unit_failing = true;
		return;
	}
	if ((new_run || new_pid || w->target.pidfd < 0) && u.main_pid > 0)
		(void)target_attach(w, u.main_pid);
	else if (u.main_pid == 0)
		target_detach(w);
	watch_sample(w, "unit");
	ready(w);
}

/* The status line systemctl status shows: the metric against the limit
 * and the highest level reached. */
static void
status_update(struct watch *w)
{
	char text[SERVICE_STATUS_MAX], m[UNITS_BUF], l[UNITS_BUF];
	const struct policy_levels *lv = &w->levels;
	const char *level = "none";

	if (!w->watching || !w->have_sample) {
		snprintf(text, sizeof(text), "waiting for %s",
		    w->opts->unit != NULL ? w->opts->unit : "the cgroup");
		service_status(text);
		return;
	}
	if (w->metric_bytes >= lv->kill_bytes)
		level = "kill";
	else if (w->metric_bytes >= lv->restart_bytes)
		level = "restart";
	else if (w->metric_bytes >= lv->gc_bytes)
		level = "gc";
	snprintf(text, sizeof(text), "%s %s of %s (%" PRIu64 "%%), level %s",
	    config_metric_name(w->cfg->metric), units_format_human(w->metric_bytes, m),
	    w->limit_bytes ? units_format_human(w->limit_bytes, l) : "no limit",
	    w->limit_bytes ? w->metric_bytes * 100 / w->limit_bytes : 0, level);
	service_status(text);
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct watch *w = arg;

	(void)fd;
	(void)what;
	if (w->opts->unit != NULL)
		unit_follow(w);
	status_update(w);
}

static void
watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	service_watchdog();
}

/* The manager's timers: the status line every second (and the unit's
 * state with --unit), WATCHDOG=1 at half of WatchdogSec=. */
static void
service_timers(struct watch *w)
{
	struct timeval sec = { 1, 0 };

	w->tick_ev = event_new(w->base, -1, EV_PERSIST, tick_cb, w);
	if (w->tick_ev != NULL)
		event_add(w->tick_ev, &sec);
	w->wd_usec = service_watchdog_usec();
	if (w->wd_usec == 0)
		return;
	struct timeval half = tv_of(w->wd_usec / 2);

	w->wd_ev = event_new(w->base, -1, EV_PERSIST, watchdog_cb, w);
	if (w->wd_ev != NULL)
		event_add(w->wd_ev, &half);
	service_watchdog();
}

/* A reloaded configuration takes over: timings, levels (logged again and
 * registered anew), notifications, memory.high, the reserve, logging.
 * The episode and what was sent to the target stay. */
static void
config_apply(struct watch *w, const struct config *next)
{
	const struct config *old = w->cfg;

	if (strcmp(old->cgroup, next->cgroup) != 0)
		log_warn("[watch] cgroup is now %s: that takes effect when oomguard restarts",
		    next->cgroup);
	if (w->watching && memcmp(&old->watch_high, &next->watch_high, sizeof(next->watch_high))) {
		high_restore(w);
		w->high_saved[0] = '\0';
		w->high_done = false;
	}
	w->cfg = next;
	log_init(next->log_level, next->log_format);
	log_init_journal();
	w->timing = (struct policy_timing){ next->gc_cooldown_usec, next->restart_grace_usec,
		next->restart_startup_usec };
	w->sched = (struct schedule_params){ next->poll_min_usec, next->poll_max_usec,
		next->max_growth_bytes };
	w->levels_set = false;
	w->reclaim_off = false;
	if (!w->watching)
		return;
	notifications_close(w);
	notifications_register(w);
	if (old->reserve_mode != next->reserve_mode ||
	    memcmp(&old->reserve_size, &next->reserve_size, sizeof(next->reserve_size)))
		reserve_open(w);
}

/* SIGHUP: read the configuration again into a new one and swap it in only
 * when it is valid; otherwise say why and keep the old one. */
static void
reload(struct watch *w)
{
	char err[CONFIG_ERR_MAX + PATH_MAX];
	struct config *next = malloc(sizeof(*next));

	service_reloading();
	if (next == NULL || w->opts->reload(next, err, sizeof(err)) < 0) {
		log_error("cannot reload the configuration: %s; keeping the old one",
		    next != NULL ? err : strerror(ENOMEM));
		free(next);
		service_ready();
		return;
	}
	config_apply(w, next);
	free(w->cfg_owned);
	w->cfg_owned = next;
	log_info("configuration reloaded%s%s", next->path[0] != '\0' ? " from " : "", next->path);
	watch_sample(w, "reload");
	service_ready();
}

static void
watch_init(struct watch *w, const struct config *cfg, const struct watch_opts *opts)
{
	memset(w, 0, sizeof(*w));
	w->cfg = cfg;
	w->opts = opts;
	w->oom_fd = w->events_fd = w->psi_epfd = w->psi_fd = w->psi_rd_fd = -1;
	for (int i = 0; i < NTHRESHOLDS; i++)
		w->thr_fd[i] = -1;
	w->mem.usage_fd = -1;
	action_target_init(&w->target);
	w->rescue.limit_fd = -1;
	w->timing = (struct policy_timing){ cfg->gc_cooldown_usec, cfg->restart_grace_usec,
		cfg->restart_startup_usec };
	w->sched = (struct schedule_params){ cfg->poll_min_usec, cfg->poll_max_usec,
		cfg->max_growth_bytes };
	w->exit_code = 1;
	policy_init(&w->policy);
}

static void
watch_free(struct watch *w)
{
	notifications_close(w);
	if (w->tick_ev != NULL)
		event_free(w->tick_ev);
	if (w->wd_ev != NULL)
		event_free(w->wd_ev);
	unit_bus_close(w->bus);
	free(w->cfg_owned);
	if (w->target_ev != NULL)
		event_free(w->target_ev);
	action_target_close(&w->target);
	rescue_close(&w->rescue);
	if (w->watching)
		memcg_close(&w->mem);
	for (int i = 0; i < w->nsig; i++)
		event_free(w->sig_ev[i]);
	if (w->poll_ev != NULL)
		event_free(w->poll_ev);
	if (w->restart_ev != NULL)
		event_free(w->restart_ev);
	if (w->grace_ev != NULL)
		event_free(w->grace_ev);
	if (w->base != NULL)
		event_base_free(w->base);
}

/* The cgroup to watch: found now, or (--unit) asked of systemd, which
 * must know the unit; its cgroup is then followed from the loop. */
static int
watch_open(struct watch *w)
{
	struct unit_info u;
	int r;

	if (w->opts->unit == NULL) {
		r = locate(w);
		w->watching = r == 0;
		return r;
	}
	r = unit_bus_open(&w->bus);
	if (r < 0) {
		log_error("cannot connect to systemd's bus: %s", strerror(-r));
		return r;
	}
	r = unit_query(w->bus, w->opts->unit, &u);
	if (r < 0)
		log_error("cannot ask systemd about %s: %s", w->opts->unit,
		    r == -ENOENT ? "no such unit" : strerror(-r));
	return r;
}

int
watch_run(const struct config *cfg, const struct watch_opts *opts)
{
	struct watch w;
	int r;

	watch_init(&w, cfg, opts);
	w.base = event_base_new();
	if (w.base == NULL) {
		log_error("cannot create the event loop");
		return 1;
	}
	w.poll_ev = evtimer_new(w.base, poll_cb, &w);
	w.restart_ev = evtimer_new(w.base, restart_cb, &w);
	w.grace_ev = evtimer_new(w.base, grace_cb, &w);
	if (signals_register(&w) < 0 || watch_open(&w) < 0) {
		watch_free(&w);
		return 1;
	}
	if (opts->app_argv != NULL) {
		r = supervise_init();
		w.take_terminal = supervise_in_foreground();
		if (r < 0)
			log_warn("cannot become a child subreaper: %s; orphans will not be reaped",
			    strerror(-r));
		spawn_child(&w);
		if (!w.have_child) {
			watch_free(&w);
			return 1;
		}
	} else if (opts->pid > 0 && target_attach(&w, opts->pid) < 0) {
		watch_free(&w);
		return 1;
	}
	if (w.watching) {
		notifications_register(&w);
		reserve_open(&w);
	}
	lock_self();
	service_timers(&w);
	if (opts->unit != NULL) {
		unit_follow(&w);
	} else {
		watch_sample(&w, "start");
		ready(&w);
	}
	event_base_dispatch(w.base);
	service_stopping();
	r = w.exit_code;
	high_restore(&w);
	if (w.have_child) {
		/* Leaving with the app still running (should not happen): do
		 * not leave it behind. */
		supervise_signal(&w.child, SIGKILL);
	}
	watch_free(&w);
	return r;
}
