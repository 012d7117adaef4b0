/*
 * sidecar.c: oomguard beside its app rather than running it, and
 * oomguard under systemd: the unit followed over D-Bus (--unit: its
 * cgroup and main process, run after run, asked again when systemd
 * signals a change of the unit), the manager told how the
 * watch goes (READY, the status line every second, WATCHDOG=1), and
 * SIGHUP in a watch without an app, which reloads the configuration. The
 * bus is unit.c's and the notifications service.c's; this file wires them
 * to the loop's state.
 */
#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "knob.h"
#include "log.h"
#include "policy.h"
#include "respond.h"
#include "schedule.h"
#include "service.h"
#include "sidecar.h"
#include "unit.h"
#include "units.h"
#include "watch.h"

/* The cgroup to watch, with --unit: asked of systemd, which must know the
 * unit; its cgroup is then followed from the loop. */
int
sidecar_open(struct watch *w)
{
	struct unit_info u;
	int r;

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

void
sidecar_ready(struct watch *w)
{
	if (w->ready_sent)
		return;
	service_ready();
	w->ready_sent = true;
}

/* A failed question: logged once per run of them; the tick asks again
 * every second. */
static void
unit_failed(struct watch *w, int err)
{
	if (!w->unit_failing)
		log_warn("cannot ask systemd about %s: %s; asking again every second",
		    w->opts->unit, strerror(-err));
	w->unit_failing = true;
}

/* systemd's answer about the unit, and what follows from it (see
 * sidecar_unit_follow()). Return 0 when the unit is followed, -1 when not
 * (failed, logged). */
static int
unit_apply(struct watch *w, const struct unit_info *u)
{
	bool new_run = strcmp(u->invocation_id, w->unit.invocation_id) != 0;
	bool new_pid = u->main_pid != w->unit.main_pid;
	bool new_cg = strcmp(u->control_group, w->unit.control_group) != 0;

	if (!new_run && !new_pid && !new_cg && (w->watching || u->control_group[0] == '\0') &&
	    !w->unit_failing)
		return 0;
	w->unit = *u;
	if (new_run || new_pid || new_cg)
		log_info("unit %s: %s, main pid %d, cgroup %s", w->opts->unit, u->active_state,
		    (int)u->main_pid, u->control_group[0] != '\0' ? u->control_group : "none");
	w->unit_failing = false;
	if (u->control_group[0] == '\0') {
		respond_target_detach(w);
		if (w->watching)
			watch_unwatch(w, "the unit has no cgroup");
		return 0;
	}
	if ((!w->watching || new_run || new_cg || new_pid) && watch_relocate(w) < 0) {
		w->unit_failing = true;
		return -1;
	}
	if ((new_run || new_pid || w->target.pidfd < 0) && u->main_pid > 0)
		(void)respond_target_attach(w, u->main_pid);
	else if (u->main_pid == 0)
		respond_target_detach(w);
	watch_sample(w, "unit");
	sidecar_ready(w);
	return 0;
}

/* With systemd's signals, the unit is still asked about this often (in
 * seconds), in case one was missed; without them, every second. */
#define SIDECAR_RECHECK_SEC 30

/* A signal from systemd: ask about the unit shortly. Several come for one
 * change (one for each interface of the unit), and one question answers
 * them all; a flood of them cannot make oomguard ask more than 20 times a
 * second. */
static void
follow_soon(struct watch *w)
{
	struct timeval soon = { 0, 50000 };

	if (w->follow_ev != NULL && !evtimer_pending(w->follow_ev, NULL))
		(void)watch_event_add(w->follow_ev, &soon, "the unit's follow-up timer");
}

static void
follow_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	sidecar_unit_follow(arg);
}

/* The connection is gone: no descriptor to watch, no signals. */
static void
bus_unwatch(struct watch *w)
{
	if (w->bus_ev != NULL)
		event_free(w->bus_ev);
	w->bus_ev = NULL;
	w->bus_ev_gen = 0;
	w->signals_ok = false;
}

static void bus_poll(struct watch *w);

static void
bus_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	bus_poll(arg);
}

/* Watch the descriptor of the current connection, where the answers and
 * systemd's signals come (a new one after a reconnection). */
static void
bus_listen(struct watch *w)
{
	unsigned gen = unit_bus_generation(w->bus);
	int fd = unit_bus_fd(w->bus);

	if (fd < 0 || (w->bus_ev != NULL && w->bus_ev_gen == gen))
		return;
	bus_unwatch(w);
	w->bus_ev = event_new(w->base, fd, EV_READ | EV_PERSIST, bus_cb, w);
	if (watch_event_add(w->bus_ev, NULL, "the watch of systemd's bus") == 0)
		w->bus_ev_gen = gen;
}

/* Have systemd signal the unit's changes on the current connection.
 * Tried once per connection. */
static void
bus_signals(struct watch *w)
{
	unsigned gen = unit_bus_generation(w->bus);
	int r;

	if (w->bus_ev == NULL || gen == w->bus_gen)
		return;
	w->bus_gen = gen;
	r = unit_watch(w->bus, w->opts->unit);
	w->signals_ok = r >= 0;
	if (r < 0) {
		log_info("systemd does not signal the changes of %s (%s): asking about it every "
		         "second",
		    w->opts->unit, strerror(-r));
		return;
	}
	log_info("following %s by systemd's signals (and asking about it every %ds)", w->opts->unit,
	    SIDECAR_RECHECK_SEC);
	/* Signals read while the watch was made wait in the connection's
	 * queue, not on its descriptor. */
	if (unit_bus_process(w->bus) > 0)
		follow_soon(w);
}

/* Read what the bus has: systemd's signals (ask again soon), the answer
 * to a question (apply it), a timeout that ran out, or its end. */
static void
bus_poll(struct watch *w)
{
	struct unit_info u;
	int r = unit_bus_process(w->bus);

	if (r > 0)
		follow_soon(w);
	else if (r < 0 && w->bus_ev != NULL) {
		log_info("the connection to systemd's bus closed (%s): asking about %s every "
		         "second until it is back",
		    strerror(-r), w->opts->unit);
		bus_unwatch(w);
	}
	r = unit_query_result(w->bus, &u);
	if (r == -EINPROGRESS)
		return;
	if (r < 0)
		unit_failed(w, r);
	else if (unit_apply(w, &u) == 0)
		bus_signals(w);
}

/* Ask systemd about the unit and follow it: a new run (invocation ID), a
 * new main process or a new cgroup is watched at once; a unit without a
 * cgroup (stopped) is waited for. The question goes without waiting:
 * bus_poll() takes the answer when it comes, and the loop samples and
 * tells the manager meanwhile. oomguard asks when systemd signals a
 * change and every SIDECAR_RECHECK_SEC; every second without signals and
 * after a failure (logged once per run of them). */
void
sidecar_unit_follow(struct watch *w)
{
	int r;

	w->unit_ticks = 0;
	r = unit_query_start(w->bus, w->opts->unit);
	if (r == -EBUSY)
		return;
	if (r < 0) {
		unit_failed(w, r);
		return;
	}
	bus_listen(w);
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
	if (w->opts->unit != NULL) {
		/* The bus read at least every second: a call's timeout is
		 * noticed there. */
		if (w->bus_ev != NULL)
			bus_poll(w);
		if (!w->signals_ok || w->unit_failing || ++w->unit_ticks >= SIDECAR_RECHECK_SEC)
			sidecar_unit_follow(w);
	}
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
void
sidecar_timers(struct watch *w)
{
	struct timeval sec = { 1, 0 };

	/* Nothing to follow and nobody to tell: no timer at all. */
	if (w->opts->unit == NULL && getenv("NOTIFY_SOCKET") == NULL)
		return;
	if (w->opts->unit != NULL)
		w->follow_ev = evtimer_new(w->base, follow_cb, w);
	w->tick_ev = event_new(w->base, -1, EV_PERSIST, tick_cb, w);
	(void)watch_event_add(w->tick_ev, &sec, "the status timer");
	w->wd_usec = service_watchdog_usec();
	if (w->wd_usec == 0)
		return;
	struct timeval half = watch_timeval(w->wd_usec / 2);

	w->wd_ev = event_new(w->base, -1, EV_PERSIST, watchdog_cb, w);
	(void)watch_event_add(w->wd_ev, &half, "the watchdog timer");
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
		knob_high_restore(&w->knob);
	}
	w->cfg = next;
	log_init(next->log_level, next->log_format);
	log_init_journal();
	w->timing = (struct policy_timing){ next->gc_cooldown_usec, next->restart_grace_usec,
		next->restart_startup_usec, next->gc_min_interval_usec };
	w->sched = (struct schedule_params){ next->poll_min_usec, next->poll_max_usec,
		next->max_growth_bytes };
	w->levels_set = false;
	knob_reclaim_again(&w->knob);
	if (!w->watching)
		return;
	watch_notifications_close(w);
	watch_notifications_register(w);
	if (old->reserve_mode != next->reserve_mode ||
	    memcmp(&old->reserve_size, &next->reserve_size, sizeof(next->reserve_size)))
		respond_reserve_open(w);
}

/* SIGHUP: read the configuration again into a new one and swap it in only
 * when it is valid; otherwise say why and keep the old one. */
void
sidecar_reload(struct watch *w)
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
