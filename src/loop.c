/*
 * loop.c: the event loop. Everything after start-up is a callback on one
 * thread: this file owns the libevent base, the signals (priority 0), the
 * poll timer and descriptor events of each guard, the status and
 * watchdog timers, READY/STATUS/WATCHDOG/STOPPING, and the reload of a
 * watch without an app. It calls down: into the guards (guard.h) for
 * samples and notifications, and into the mode (mode.h) with what a
 * sample did and what a signal asks. Once the loop runs, oomguard never
 * exits on an error of its own: it logs, degrades and carries on.
 *
 * The guards are a list: today one, the mode's. Each has its own poll
 * timer and events; nothing here assumes there is only one but
 * loop_run(), which makes it.
 */
#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guard.h"
#include "guard_events.h"
#include "hook.h"
#include "log.h"
#include "loop.h"
#include "mode.h"
#include "mode_app.h"
#include "mode_target.h"
#include "mode_unit.h"
#include "observe.h"
#include "rescue.h"
#include "service.h"
#include "supervise.h"
#include "units.h"

/* Stack touched (and locked) at start for the rescue path's buffers. */
#define RESCUE_STACK_BYTES (256 * 1024)
/* The signals the loop listens to: those forwarded to the app, and SIGCHLD. */
#define LOOP_SIGNALS_MAX (SUPERVISE_SIGNALS_MAX + 1)

/* A restart or kill the guard holds while its hook runs. */
struct loop_hold {
	struct loop_guard *lg;
	unsigned id; /* guard_result.hold_id */
	bool busy;   /* the hook runs */
};

/* A guard and the events the loop keeps for it. */
struct loop_guard {
	struct loop *l;
	struct guard *g;
	struct event *poll_ev;
	struct guard_events events; /* its descriptors' */
	struct loop_hold holds[HOOK_RUNNING_MAX];
	struct loop_guard *next;
};

struct loop {
	const struct config *cfg;
	const struct loop_opts *opts;
	struct event_base *base;
	struct event *sig_ev[LOOP_SIGNALS_MAX];
	int nsig;
	struct event *tick_ev; /* every second: the mode's tick, the status line */
	struct event *wd_ev;   /* WATCHDOG=1 */
	struct loop_guard *guards;
	struct mode *mode;
	struct mode_host host;
	struct observe *obs;      /* the metrics endpoint and the hooks */
	struct config *cfg_owned; /* a configuration read by a reload */
	bool ready_sent;
	bool shutting_down;
	int exit_code;
};

static void
loop_end(struct loop *l, int code)
{
	l->exit_code = code;
	event_base_loopbreak(l->base);
}

/* ---- a guard's events ---- */

/* Take up the guard's descriptors when they changed; a guard that no
 * longer watches is not polled. */
static void
loop_guard_sync(struct loop_guard *lg)
{
	if (!guard_watching(lg->g))
		event_del(lg->poll_ev);
	guard_events_sync(&lg->events);
}

static void
guard_gone(struct loop_guard *lg, const char *why)
{
	int code = lg->l->mode->ops->gone(lg->l->mode, why);

	if (code >= 0)
		loop_end(lg->l, code);
}

static void guard_sample_now(struct loop_guard *lg, const char *why);

/* The hook of a held action ended or timed out: the action is due; a
 * sample at once sends it (guard_release()). */
static void
hold_done(void *arg, int status)
{
	struct loop_hold *h = arg;

	(void)status;
	h->busy = false;
	if (guard_release(h->lg->g, h->id))
		guard_sample_now(h->lg, "hook");
}

/* The guard holds res->held for its hook: run it. Return whether it
 * runs; if not (logged) the caller releases the action at once. */
static bool
hold_start(struct loop_guard *lg, const struct guard_result *res)
{
	for (int i = 0; i < HOOK_RUNNING_MAX; i++) {
		struct loop_hold *h = &lg->holds[i];

		if (h->busy)
			continue;
		if (observe_hook_before(lg->l->obs, lg->g, res, hold_done, h) < 0)
			return false;
		*h = (struct loop_hold){ lg, res->hold_id, true };
		return true;
	}
	return false;
}

/* Sample the guard and carry out what follows for the loop (the next
 * poll, its descriptors, the hook of an action held for it) and the mode
 * (what it did, the cgroup gone). */
static void
guard_sample_now(struct loop_guard *lg, const char *why)
{
	struct guard_result res = guard_sample(lg->g, guard_now_usec(), why);

	loop_guard_sync(lg);
	if (res.next_usec > 0) {
		struct timeval tv = mode_timeval(res.next_usec);

		(void)mode_event_add(lg->poll_ev, &tv, "the poll timer");
	}
	if (lg->l->obs != NULL)
		observe_sampled(lg->l->obs, lg->g, &res);
	lg->l->mode->ops->sampled(lg->l->mode, &res);
	if (res.gone != NULL)
		guard_gone(lg, res.gone);
	else if (res.held != POLICY_NONE && !hold_start(lg, &res) &&
	    guard_release(lg->g, res.hold_id))
		guard_sample_now(lg, "hook not run");
}

/* One of the guard's descriptors turned readable (guard_events.c). */
static void
fd_cb(void *owner, enum guard_fd_kind kind)
{
	struct loop_guard *lg = owner;
	int r = guard_notified(lg->g, kind, guard_now_usec());

	loop_guard_sync(lg);
	if (r == -ENODEV)
		guard_gone(lg, "the pressure file went away");
	else if (r > 0)
		guard_sample_now(lg, guard_fd_name(kind));
}

static void
poll_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	guard_sample_now(arg, "poll");
}

static struct loop_guard *
loop_guard_add(struct loop *l, struct guard *g)
{
	struct loop_guard *lg = calloc(1, sizeof(*lg));

	if (lg == NULL)
		return NULL;
	lg->l = l;
	lg->g = g;
	lg->poll_ev = evtimer_new(l->base, poll_cb, lg);
	if (lg->poll_ev == NULL) {
		free(lg);
		return NULL;
	}
	guard_events_init(&lg->events, l->base, g, fd_cb, lg);
	lg->next = l->guards;
	l->guards = lg;
	return lg;
}

static void
loop_guards_free(struct loop *l)
{
	while (l->guards != NULL) {
		struct loop_guard *lg = l->guards;

		l->guards = lg->next;
		if (l->obs != NULL)
			observe_guard_remove(l->obs, lg->g);
		guard_events_free(&lg->events);
		event_free(lg->poll_ev);
		guard_free(lg->g);
		free(lg);
	}
}

/* ---- what a mode asks of the loop ---- */

static void
host_sync(void *loop)
{
	struct loop *l = loop;

	for (struct loop_guard *lg = l->guards; lg != NULL; lg = lg->next)
		loop_guard_sync(lg);
}

/* The mode's guard, sampled. */
static void
host_sample(void *loop, const char *why)
{
	struct loop *l = loop;

	for (struct loop_guard *lg = l->guards; lg != NULL; lg = lg->next)
		if (lg->g == l->mode->g)
			guard_sample_now(lg, why);
}

static void
host_ready(void *loop)
{
	struct loop *l = loop;

	if (l->ready_sent)
		return;
	service_ready();
	l->ready_sent = true;
}

/* ---- the service manager ---- */

/* The status line systemctl status shows: the metric against the limit
 * and the highest level reached. */
static void
status_update(const struct loop *l)
{
	char text[SERVICE_STATUS_MAX], m[UNITS_BUF], lim[UNITS_BUF];
	struct guard_status st = guard_status(l->mode->g);
	const char *level = "none";

	if (!st.watching || !st.have_sample) {
		snprintf(text, sizeof(text), "waiting for %s",
		    l->opts->unit != NULL ? l->opts->unit : "the cgroup");
		service_status(text);
		return;
	}
	if (st.metric_bytes >= st.levels.kill_bytes)
		level = "kill";
	else if (st.metric_bytes >= st.levels.restart_bytes)
		level = "restart";
	else if (st.metric_bytes >= st.levels.gc_bytes)
		level = "gc";
	snprintf(text, sizeof(text), "%s %s of %s (%" PRIu64 "%%), level %s",
	    config_metric_name(l->cfg->metric), units_format_human(st.metric_bytes, m),
	    st.limit_bytes ? units_format_human(st.limit_bytes, lim) : "no limit",
	    st.limit_bytes ? st.metric_bytes * 100 / st.limit_bytes : 0, level);
	service_status(text);
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct loop *l = arg;

	(void)fd;
	(void)what;
	if (l->mode->ops->tick != NULL)
		l->mode->ops->tick(l->mode);
	status_update(l);
}

static void
watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	service_watchdog();
}

/* The manager's timers: the status line every second (and the mode's
 * tick), WATCHDOG=1 at half of WatchdogSec=. */
static void
timers_start(struct loop *l)
{
	struct timeval sec = { 1, 0 };
	uint64_t wd_usec;

	/* Nothing to tick and nobody to tell: no timer at all. */
	if (l->mode->ops->tick == NULL && getenv("NOTIFY_SOCKET") == NULL)
		return;
	l->tick_ev = event_new(l->base, -1, EV_PERSIST, tick_cb, l);
	(void)mode_event_add(l->tick_ev, &sec, "the status timer");
	wd_usec = service_watchdog_usec();
	if (wd_usec == 0)
		return;
	struct timeval half = mode_timeval(wd_usec / 2);

	l->wd_ev = event_new(l->base, -1, EV_PERSIST, watchdog_cb, l);
	(void)mode_event_add(l->wd_ev, &half, "the watchdog timer");
	service_watchdog();
}

/* ---- reload (SIGHUP without an app) ---- */

/* A reloaded configuration takes over: the guards' timings, levels,
 * notifications, memory.high and reserve (guard_reconfigure()), and
 * logging. */
static void
config_apply(struct loop *l, const struct config *next)
{
	if (strcmp(l->cfg->cgroup, next->cgroup) != 0)
		log_warn("[watch] cgroup is now %s: that takes effect when oomguard restarts",
		    next->cgroup);
	for (struct loop_guard *lg = l->guards; lg != NULL; lg = lg->next) {
		guard_reconfigure(lg->g, next);
		loop_guard_sync(lg);
	}
	if (l->obs != NULL)
		observe_reconfigure(l->obs, next);
	l->cfg = next;
	log_init(next->log_level, next->log_format);
	log_init_journal();
}

/* SIGHUP: read the configuration again into a new one and swap it in only
 * when it is valid (then sample at once); otherwise say why and keep the
 * old one. */
static void
loop_reload(struct loop *l)
{
	char err[CONFIG_ERR_MAX + PATH_MAX];
	struct config *next = malloc(sizeof(*next));

	service_reloading();
	if (next == NULL || l->opts->reload(next, err, sizeof(err)) < 0) {
		log_error("cannot reload the configuration: %s; keeping the old one",
		    next != NULL ? err : strerror(ENOMEM));
		free(next);
		service_ready();
		return;
	}
	config_apply(l, next);
	free(l->cfg_owned);
	l->cfg_owned = next;
	log_info("configuration reloaded%s%s", next->path[0] != '\0' ? " from " : "", next->path);
	for (struct loop_guard *lg = l->guards; lg != NULL; lg = lg->next)
		guard_sample_now(lg, "reload");
	service_ready();
}

/* ---- signals ---- */

/* SIGTERM or SIGINT, the first: no more actions, then the mode says
 * whether the loop ends now. */
static int
loop_stop(struct loop *l, int sig)
{
	char s[UNITS_BUF];
	int code;

	l->shutting_down = true;
	for (struct loop_guard *lg = l->guards; lg != NULL; lg = lg->next)
		guard_quiesce(lg->g);
	service_stopping();
	code = l->mode->ops->stop(l->mode, sig);
	if (code >= 0)
		log_info("%s received; exiting", units_format_signal(sig, s));
	return code;
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct loop *l = arg;
	int code;

	(void)what;
	if (sig == SIGCHLD)
		code = l->mode->ops->child(l->mode);
	else if (sig == SIGHUP && l->opts->reload != NULL) {
		/* Without an app, SIGHUP is ours: reload. With one, the app's. */
		loop_reload(l);
		return;
	} else if ((sig == SIGTERM || sig == SIGINT) && !l->shutting_down)
		code = loop_stop(l, (int)sig);
	else
		code = l->mode->ops->signal(l->mode, (int)sig);
	if (code >= 0)
		loop_end(l, code);
}

static int
signals_register(struct loop *l)
{
	int sigs[LOOP_SIGNALS_MAX];
	int n = supervise_forwarded_signals(sigs, SUPERVISE_SIGNALS_MAX);

	if (n < 0) {
		log_error("cannot list the signals to pass on: %s", strerror(-n));
		return n;
	}
	/* Signals about oomguard's own pipe writes, file sizes and terminal
	 * access are not the app's business, nor fatal to oomguard. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	signal(SIGTTIN, SIG_IGN);
	signal(SIGTTOU, SIG_IGN);
	sigs[n++] = SIGCHLD;
	for (int i = 0; i < n; i++) {
		l->sig_ev[i] = evsignal_new(l->base, sigs[i], signal_cb, l);
		if (l->sig_ev[i] == NULL || event_priority_set(l->sig_ev[i], 0) < 0 ||
		    evsignal_add(l->sig_ev[i], NULL) < 0) {
			log_error("cannot listen for %s in the event loop",
			    units_format_signal(sigs[i], (char[UNITS_BUF]){ 0 }));
			if (l->sig_ev[i] != NULL)
				event_free(l->sig_ev[i]);
			return -EINVAL;
		}
		l->nsig = i + 1;
	}
	return 0;
}

/* ---- set-up and teardown ---- */

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

/* The mode for the command line, on guard g. */
static struct mode *
mode_new(struct loop *l, struct guard *g)
{
	if (l->opts->app_argv != NULL)
		return mode_app_new(l->cfg, l->opts->app_argv, &l->host, g);
	if (l->opts->unit != NULL)
		return mode_unit_new(l->opts->unit, &l->host, g);
	return mode_target_new(l->cfg->cgroup, l->opts->pid, &l->host, g);
}

/* The guard and the mode. Return 0, or -1 (logged). */
static int
loop_open(struct loop *l)
{
	struct guard_params p = { l->opts->proc_root, l->opts->fs_root,
		l->opts->app_argv != NULL                       ? GUARD_MAIN_APP
		    : l->opts->pid > 0 || l->opts->unit != NULL ? GUARD_MAIN_PID
		                                                : GUARD_MAIN_NONE };
	struct guard *g = guard_new(l->cfg, &p);
	struct loop_guard *lg = g != NULL ? loop_guard_add(l, g) : NULL;

	if (lg == NULL) {
		guard_free(g);
		log_error("cannot create the event loop's timers");
		return -1;
	}
	l->mode = mode_new(l, g);
	if (l->mode == NULL) {
		log_error("cannot create the event loop's timers");
		return -1;
	}
	l->obs = observe_new(l->base, l->cfg, l->opts->unit);
	if (l->obs == NULL || observe_guard_add(l->obs, g) < 0)
		return -1;
	guard_hooks_before(g, true);
	return 0;
}

static void
loop_free(struct loop *l)
{
	if (l->mode != NULL)
		l->mode->ops->free(l->mode);
	loop_guards_free(l);
	observe_free(l->obs);
	if (l->tick_ev != NULL)
		event_free(l->tick_ev);
	if (l->wd_ev != NULL)
		event_free(l->wd_ev);
	free(l->cfg_owned);
	for (int i = 0; i < l->nsig; i++)
		event_free(l->sig_ev[i]);
	if (l->base != NULL)
		event_base_free(l->base);
}

/* From the guard's cgroup to the mode's begin: the first sample takes
 * the reserve before the app starts (an app that fills its cgroup at
 * once must find it held). Return 0 or -1 (logged). */
static int
loop_start(struct loop *l)
{
	if (signals_register(l) < 0 || l->mode->ops->open(l->mode) < 0)
		return -1;
	host_sync(l);
	lock_self();
	if (guard_watching(l->mode->g))
		host_sample(l, "start");
	if (l->mode->ops->begin(l->mode) < 0)
		return -1;
	host_sync(l);
	timers_start(l);
	if (!l->mode->ops->ready_later)
		host_ready(l);
	return 0;
}

int
loop_run(const struct config *cfg, const struct loop_opts *opts)
{
	struct loop l = { .cfg = cfg, .opts = opts, .exit_code = 1 };
	int r;

	l.base = guard_events_base_new();
	if (l.base == NULL) {
		log_error("cannot create the event loop");
		return 1;
	}
	l.host = (struct mode_host){ l.base, &l, host_sync, host_sample, host_ready };
	if (loop_open(&l) < 0 || loop_start(&l) < 0) {
		loop_free(&l);
		return 1;
	}
	event_base_dispatch(l.base);
	if (!l.shutting_down)
		service_stopping();
	r = l.exit_code;
	loop_free(&l);
	return r;
}
