/*
 * watch.c: the event loop and its sampling. Everything the loop runs is a
 * libevent callback on one thread: this file owns the loop's set-up and
 * teardown, the signals it listens to, the cgroup it watches (located,
 * sampled, its kernel notifications and v1 thresholds, the levels for its
 * limit), and hands on to the modules that act: respond.c (signals and
 * the rescue), knob.c (memory.high, memory.reclaim), app.c (the app when
 * oomguard runs it) and sidecar.c (systemd, the unit followed, reloads).
 * The decisions are made by pure code (policy.c, schedule.c). Once the
 * loop runs, oomguard never exits on an error of its own: it logs,
 * degrades and carries on.
 */
#include <errno.h>
#include <fcntl.h>
#include <event2/event.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "action.h"
#include "app.h"
#include "cgroup.h"
#include "knob.h"
#include "log.h"
#include "memcg.h"
#include "notify.h"
#include "policy.h"
#include "psi.h"
#include "rescue.h"
#include "respond.h"
#include "schedule.h"
#include "service.h"
#include "sidecar.h"
#include "supervise.h"
#include "unit.h"
#include "units.h"
#include "watch.h"

/* Stack touched (and locked) at start for the rescue path's buffers. */
#define RESCUE_STACK_BYTES (256 * 1024)

uint64_t
watch_now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

struct timeval
watch_timeval(uint64_t usec)
{
	struct timeval tv = { (time_t)(usec / 1000000), (suseconds_t)(usec % 1000000) };

	return tv;
}

int
watch_event_add(struct event *ev, const struct timeval *tv, const char *what)
{
	if (ev != NULL && event_add(ev, tv) == 0)
		return 0;
	log_error("cannot add %s to the event loop; it will not run", what);
	return -1;
}

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
	for (int i = 0; i < WATCH_THRESHOLDS; i++) {
		if (w->thr_ev[i] != NULL)
			event_free(w->thr_ev[i]);
		if (w->thr_fd[i] >= 0)
			close(w->thr_fd[i]);
		w->thr_ev[i] = NULL;
		w->thr_fd[i] = -1;
	}
}

/* v1: an eventfd at every armed level, so that crossing one wakes the loop
 * at once whatever the polling interval. */
static void
thresholds_register(struct watch *w)
{
	const uint64_t want[WATCH_THRESHOLDS] = { w->levels.gc_bytes, w->levels.restart_bytes,
		w->levels.kill_bytes };

	if (w->cg.version != 1 || w->thr_failed)
		return;
	thresholds_clear(w);
	for (int i = 0; i < WATCH_THRESHOLDS; i++) {
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
		w->thr_ev[i] = event_new(w->base, fd, EV_READ | EV_PERSIST, threshold_cb, w);
		(void)watch_event_add(w->thr_ev[i], NULL, "a v1 threshold notification");
	}
}

static const char *
fmt_size(uint64_t bytes, char *buf)
{
	if (bytes == POLICY_OFF)
		return "off";
	return units_format_human(bytes, buf);
}

/* Take the levels for a limit. Return whether they changed: they are
 * then to be announced (levels_announce), after the action when the
 * cgroup is frozen. */
static bool
levels_take(struct watch *w, uint64_t limit_bytes)
{
	if (w->levels_set && w->limit_bytes == limit_bytes)
		return false;
	w->levels = inputs_levels(w->cfg, limit_bytes);
	w->limit_bytes = limit_bytes;
	w->levels_set = true;
	return true;
}

/* New levels: log them, register the v1 thresholds again, set
 * memory.high for them. */
static void
levels_announce(struct watch *w)
{
	const struct policy_levels *lv = &w->levels;
	char a[UNITS_BUF], b[UNITS_BUF], d[UNITS_BUF], e[UNITS_BUF], l[UNITS_BUF];
	char err[CONFIG_ERR_MAX + PATH_MAX];

	log_info("limit %s: gc at %s, restart at %s, kill at %s, rearm below %s",
	    w->limit_bytes ? units_format_human(w->limit_bytes, l) : "none",
	    fmt_size(lv->gc_bytes, a), fmt_size(lv->restart_bytes, b), fmt_size(lv->kill_bytes, d),
	    fmt_size(lv->rearm_bytes, e));
	if (config_check_limit(w->cfg, w->limit_bytes, err, sizeof(err)) < 0)
		log_warn("%s; the strongest action due wins", err);
	if (lv->gc_bytes == POLICY_OFF && lv->restart_bytes == POLICY_OFF &&
	    lv->kill_bytes == POLICY_OFF && !w->nolimit_warned) {
		log_warn("the cgroup has no limit and every level is a percentage of it: no gc, "
		         "restart or kill until a limit is set (or give the levels as sizes, "
		         "--gc-at 700M); oomguard still %s",
		    w->opts->app_argv != NULL ? "runs the app, passes signals on and reaps"
		                              : "watches the cgroup");
		w->nolimit_warned = true;
	}
	thresholds_register(w);
	knob_high_apply(&w->knob, &w->cfg->watch_high, w->limit_bytes, lv->restart_bytes);
	hints_cmd_limit(&w->hints, w->cfg, w->limit_bytes);
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
	tv = watch_timeval(usec);
	watch_event_add(w->poll_ev, &tv, "the poll timer");
}

/* A read that fails: ENOMEM means the cgroup is frozen (allocations in
 * system calls fail there), ENODEV or ENOENT that it was removed. */
static int
sample_failed(struct watch *w, int err)
{
	if (err == -ENODEV || err == -ENOENT) {
		watch_unwatch(w, "the watched cgroup was removed");
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
 * look closely for the trigger's window. Return whether it is new (to be
 * logged by pressure_log(), after the sample: it may be a rescue). */
static bool
pressure(struct watch *w, uint64_t now)
{
	bool fresh = now >= w->pressure_until_usec;

	w->pressure_until_usec = now + w->cfg->psi.window_usec;
	return fresh;
}

static void
pressure_log(const struct watch *w, const char *how)
{
	log_info("memory pressure (%s): polling every %s for %s", how,
	    units_format_duration(w->cfg->poll_min_usec, (char[UNITS_BUF]){ 0 }),
	    units_format_duration(w->cfg->psi.window_usec, (char[UNITS_BUF]){ 0 }));
}

/* The averages, where no trigger could be set. Return whether pressure
 * began. */
static bool
psi_poll(struct watch *w, uint64_t now)
{
	struct psi_stats st;

	return w->psi_polling && psi_pread(w->psi_rd_fd, &st) == 0 && psi_over(&st, &w->cfg->psi) &&
	    pressure(w, now);
}

static void
kills_log(const struct watch *w, uint64_t kills)
{
	if (kills > 0)
		log_warn("the kernel OOM-killed %" PRIu64
		         " process(es) in %s (oom_kill counter %" PRIu64 ")",
		    kills, w->cg.dir, w->events.oom_kills);
}

bool
watch_kernel_events(struct watch *w, const struct memcg_sample *s)
{
	uint64_t kills;
	bool throttled = inputs_events_update(&w->events, s, &kills);

	kills_log(w, kills);
	if (throttled)
		log_debug("memory.events: high %" PRIu64 " max %" PRIu64 ": throttled",
		    s->events.high, s->events.max);
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

	/* The whole system's pressure (a hybrid host whose unified tree has
	 * oomguard at its root, a container) says nothing of this cgroup. */
	if (!w->rescue.held || limit_bytes == 0 || w->psi_rd_fd < 0 || w->cg.psi_system ||
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

/* What a sample found that is logged only after the action: the path of
 * a frozen cgroup logs nothing before the reserve is released. */
struct sample_notes {
	bool enomem;    /* the read failed with ENOMEM: frozen, the last sample stands in */
	bool throttled; /* the v2 high or max counter rose */
	bool pressure;  /* the psi averages began to show pressure */
	uint64_t kills; /* OOM kills by the kernel since the last sample */
};

/* Read a sample into *ret. Return 1 to go on with it, 0 when there is
 * none this time (the next one is scheduled), -1 when the cgroup is
 * gone. */
static int
sample_read(struct watch *w, struct memcg_sample *ret, struct sample_notes *notes)
{
	int r = memcg_read(&w->mem, ret);

	if (r == 0) {
		w->read_errno = 0;
		notes->throttled = inputs_events_update(&w->events, ret, &notes->kills);
		return 1;
	}
	r = sample_failed(w, r);
	if (r < 0)
		return -1;
	if (r == 0 || !w->have_sample) {
		schedule_next(w);
		return 0;
	}
	notes->enomem = true;
	*ret = w->sample;
	return 1;
}

/* The policy's question for this sample, and its answer: the one call of
 * policy_eval(). */
static enum policy_action
decide(struct watch *w, uint64_t now, bool frozen, bool throttled, bool *ret_rescue)
{
	struct policy_input in = {
		.now_usec = now,
		.metric_bytes = w->metric_bytes,
		.frozen = frozen,
		.throttled = throttled,
		.target_alive = respond_targets_exist(w) && !w->shutting_down,
		.target_started_usec =
		    w->have_child ? w->child.started_usec : w->target_started_usec,
		.target_generation = w->generation,
		.rescue = frozen && w->rescue.held,
		.kernel_kills = w->kernel_kills,
	};

	if (in.rescue) {
		in.gc_allowed = respond_gc_allowed(w, now, true);
		in.restart_caught = respond_target_caught(w, w->cfg->restart_signal) > 0;
	} else {
		in.gc_allowed = w->metric_bytes >= w->levels.gc_bytes || throttled
		    ? respond_gc_allowed(w, now, frozen)
		    : true;
	}
	*ret_rescue = in.rescue;
	return policy_eval(&w->policy, &w->levels, &w->timing, &in);
}

/* After the action: what the sample found, logged. */
static void
sample_log(struct watch *w, const struct sample_notes *notes, enum policy_action a, const char *why)
{
	kills_log(w, notes->kills);
	if (notes->pressure)
		pressure_log(w, "psi averages");
	if (notes->enomem && w->read_errno != -ENOMEM)
		log_warn("cannot read memory usage of %s: %s (the cgroup is frozen)", w->cg.dir,
		    strerror(ENOMEM));
	w->read_errno = notes->enomem ? -ENOMEM : w->read_errno;
	if (a != POLICY_NONE)
		log_debug("sample (%s): %" PRIu64 " bytes, action %s", why, w->metric_bytes,
		    policy_action_name(a));
}

/* The limit the levels count from: inputs_limit() told what oomguard
 * itself wrote (the reserve's raise, memory.high). */
static uint64_t
sample_limit(const struct watch *w, const struct memcg_sample *s)
{
	struct inputs_own own = {
		.limit_raised = w->rescue.raised,
		.limit_bytes = w->rescue.limit_bytes,
		.raised_bytes = w->rescue.raised_bytes,
	};

	knob_own(&w->knob, &own);
	return inputs_limit(s, &own);
}

/*
 * One sample and what follows from it, in order: read, inputs, decide,
 * act, schedule. When the cgroup is frozen this is the start of the
 * rescue path (rescue.c): up to respond_rescue() it reads open
 * descriptors and decides, and logs nothing.
 */
void
watch_sample(struct watch *w, const char *why)
{
	struct memcg_sample s;
	struct sample_notes notes = { 0 };
	enum policy_action a;
	uint64_t now = watch_now_usec(), limit;
	bool frozen, changed, rescue;

	if (!w->watching || sample_read(w, &s, &notes) <= 0)
		return;
	w->sample = s;
	w->have_sample = true;
	notes.pressure = psi_poll(w, now);
	w->metric_bytes = memcg_metric(&s, w->cfg->metric);
	limit = sample_limit(w, &s);
	frozen = notes.enomem || (s.has_oom_control && s.under_oom);
	w->about_to_freeze = !frozen && about_to_freeze(w, &s, limit);
	frozen = frozen || w->about_to_freeze;
	w->kernel_kills = inputs_kernel_kills(&s, w->mem.version);
	w->throttled = notes.throttled;
	/* The levels are the limit's before any decision, frozen or not (a
	 * cgroup frozen at the first sample has no others); announcing them
	 * logs and writes, which waits for after a rescue. */
	changed = levels_take(w, limit);
	if (changed && !frozen)
		levels_announce(w);
	a = decide(w, now, frozen, notes.throttled, &rescue);
	if (rescue)
		respond_rescue(w, a);
	else if (a != POLICY_NONE)
		respond_act(w, a);
	respond_gc_summary(w, now);
	sample_log(w, &notes, a, why);
	if (changed && frozen)
		levels_announce(w);
	respond_reserve_sync(w);
	w->metric_bytes = knob_reclaim(&w->knob, w->cfg, &w->mem, w->limit_bytes,
	    w->levels.gc_bytes, w->metric_bytes, w->throttled, now);
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
	bool fresh;
	int r;

	(void)what;
	r = psi_trigger_consume(fd);
	if (r == -ENODEV) {
		watch_unwatch(w, "the pressure file went away");
		return;
	}
	/* libevent's own epoll already took the kernel's one-shot event when
	 * it found this descriptor readable, so readiness is the firing. */
	fresh = pressure(w, watch_now_usec());
	watch_sample(w, "psi");
	if (fresh)
		pressure_log(w, "psi trigger");
}

static struct event *
watch_fd(struct watch *w, int fd, event_callback_fn cb, const char *what)
{
	struct event *ev = event_new(w->base, fd, EV_READ | EV_PERSIST, cb, w);

	(void)watch_event_add(ev, NULL, what);
	return ev;
}

/* Kernel notifications where the cgroup allows them; each failure is
 * logged once with what replaces it. */
void
watch_notifications_register(struct watch *w)
{
	char t[64];
	int r;

	if (w->cg.version == 1) {
		w->oom_fd = notify_v1_oom(w->cg.dir);
		if (w->oom_fd >= 0)
			w->oom_ev = watch_fd(w, w->oom_fd, oom_cb, "the v1 OOM notification");
		else
			log_info("cannot register the v1 OOM notification on %s: %s; polling "
			         "memory.oom_control instead",
			    w->cg.dir, strerror(-w->oom_fd));
	} else {
		w->events_fd = notify_v2_events(w->cg.dir);
		if (w->events_fd >= 0)
			w->events_ev =
			    watch_fd(w, w->events_fd, events_cb, "the memory.events notification");
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
	w->psi_ev = watch_fd(w, w->psi_epfd, psi_cb, "the psi trigger");
}

void
watch_notifications_close(struct watch *w)
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
void
watch_unwatch(struct watch *w, const char *why)
{
	w->watching = false;
	event_del(w->poll_ev);
	watch_notifications_close(w);
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

/* ---- signals ---- */

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct watch *w = arg;

	(void)what;
	if (sig == SIGCHLD) {
		app_reap(w);
		return;
	}
	/* Without an app, SIGHUP is ours: reload. With one, it is the app's. */
	if (sig == SIGHUP && w->opts->reload != NULL) {
		sidecar_reload(w);
		return;
	}
	app_signal(w, (int)sig);
}

static int
signals_register(struct watch *w)
{
	int sigs[WATCH_SIGNALS_MAX];
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
		w->sig_ev[i] = evsignal_new(w->base, sigs[i], signal_cb, w);
		if (w->sig_ev[i] == NULL || event_priority_set(w->sig_ev[i], 0) < 0 ||
		    evsignal_add(w->sig_ev[i], NULL) < 0) {
			log_error("cannot listen for %s in the event loop",
			    units_format_signal(sigs[i], (char[UNITS_BUF]){ 0 }));
			if (w->sig_ev[i] != NULL)
				event_free(w->sig_ev[i]);
			return -EINVAL;
		}
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
	/* Following a unit, a failure repeats every second until it clears:
	 * the sidecar logs the first of a run (unit_failing). */
	if (r < 0) {
		if (!w->unit_failing)
			log_error("cannot locate the memory cgroup %s: %s",
			    w->opts->unit != NULL ? w->unit.control_group : cgroup, strerror(-r));
		return r;
	}
	r = memcg_open(&w->mem, w->cg.dir, w->cg.version, memcg_host_ram(w->opts->proc_root));
	if (r < 0) {
		if (!w->unit_failing)
			log_error(
			    "cannot open the memory files of %s: %s", w->cg.dir, strerror(-r));
		return r;
	}
	w->actx = (struct action_ctx){ w->opts->proc_root, w->cg.dir, w->cg.path, w->cg.version };
	knob_init(&w->knob, w->cg.dir, w->cg.version, w->mem.host_ram_bytes);
	log_info("watching %s (cgroup v%d, %s host), metric %s", w->cg.dir, w->cg.version,
	    cgroup_layout_name(w->cg.layout), config_metric_name(w->cfg->metric));
	return 0;
}

/* Watch the cgroup anew (the unit restarted, or ran again): the old
 * descriptors belong to a cgroup that may be gone. Return 0 or -errno. */
int
watch_relocate(struct watch *w)
{
	int r;

	if (w->watching) {
		event_del(w->poll_ev);
		watch_notifications_close(w);
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
	w->reserve_taken = false;
	w->psi_full_usec = 0;
	w->read_errno = 0;
	w->events = (struct inputs_events){ 0 };
	watch_notifications_register(w);
	respond_reserve_open(w);
	return 0;
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

static void
watch_init(struct watch *w, const struct config *cfg, const struct watch_opts *opts)
{
	memset(w, 0, sizeof(*w));
	w->cfg = cfg;
	w->opts = opts;
	w->oom_fd = w->events_fd = w->psi_epfd = w->psi_fd = w->psi_rd_fd = -1;
	for (int i = 0; i < WATCH_THRESHOLDS; i++)
		w->thr_fd[i] = -1;
	w->mem.usage_fd = -1;
	action_target_init(&w->target);
	w->rescue.limit_fd = w->rescue.memsw_fd = -1;
	w->timing = (struct policy_timing){ cfg->gc_cooldown_usec, cfg->restart_grace_usec,
		cfg->restart_startup_usec, cfg->gc_min_interval_usec };
	w->sched = (struct schedule_params){ cfg->poll_min_usec, cfg->poll_max_usec,
		cfg->max_growth_bytes };
	w->exit_code = 1;
	policy_init(&w->policy);
}

static void
watch_free(struct watch *w)
{
	watch_notifications_close(w);
	if (w->tick_ev != NULL)
		event_free(w->tick_ev);
	if (w->bus_ev != NULL)
		event_free(w->bus_ev);
	if (w->follow_ev != NULL)
		event_free(w->follow_ev);
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
	int r;

	if (w->opts->unit != NULL)
		return sidecar_open(w);
	r = locate(w);
	w->watching = r == 0;
	return r;
}

/* The event loop, with timers to the microsecond: epoll_wait() counts in
 * milliseconds and would round a 2 ms poll up to 3 (libevent's precise
 * timer is a timerfd). */
static struct event_base *
watch_base_new(void)
{
	struct event_config *ec = event_config_new();
	struct event_base *base;

	if (ec == NULL)
		return NULL;
	event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
	base = event_base_new_with_config(ec);
	event_config_free(ec);
	/* Two priorities: the signals first (priority 0), so that a
	 * SIGTERM that arrives with a sample's wake-up starts the shutdown
	 * before the sample could act; everything else at the default. */
	if (base != NULL && event_base_priority_init(base, 2) < 0) {
		event_base_free(base);
		return NULL;
	}
	return base;
}

int
watch_run(const struct config *cfg, const struct watch_opts *opts)
{
	struct watch w;
	int r;

	watch_init(&w, cfg, opts);
	w.base = watch_base_new();
	if (w.base == NULL) {
		log_error("cannot create the event loop");
		return 1;
	}
	w.poll_ev = evtimer_new(w.base, poll_cb, &w);
	app_timers(&w);
	if (w.poll_ev == NULL || w.restart_ev == NULL || w.grace_ev == NULL) {
		log_error("cannot create the event loop's timers");
		watch_free(&w);
		return 1;
	}
	if (signals_register(&w) < 0 || watch_open(&w) < 0) {
		watch_free(&w);
		return 1;
	}
	if (w.watching) {
		watch_notifications_register(&w);
		respond_reserve_open(&w);
	}
	lock_self();
	/* The first sample takes the reserve, before the app starts: an app
	 * that fills its cgroup at once must find it held. */
	if (w.watching)
		watch_sample(&w, "start");
	if (opts->app_argv != NULL) {
		if (app_start(&w) < 0) {
			watch_free(&w);
			return 1;
		}
	} else if (opts->pid > 0 && respond_target_attach(&w, opts->pid) < 0) {
		watch_free(&w);
		return 1;
	}
	sidecar_timers(&w);
	if (opts->unit != NULL)
		sidecar_unit_follow(&w);
	else
		sidecar_ready(&w);
	event_base_dispatch(w.base);
	if (!w.shutting_down)
		service_stopping();
	r = w.exit_code;
	if (w.watching)
		knob_high_restore(&w.knob);
	if (w.have_child) {
		/* Leaving with the app still running (should not happen): do
		 * not leave it behind. */
		supervise_signal(&w.child, SIGKILL);
	}
	watch_free(&w);
	return r;
}
