/*
 * mode_unit.c: oomguard beside a systemd unit (--unit): the unit's cgroup
 * and main process followed run after run, asked again when systemd
 * signals a change of the unit. The bus is unit.c's, asked without
 * waiting: the answer is taken when the bus descriptor turns readable, and
 * the loop samples and tells the manager meanwhile. This file owns the
 * unit as last seen and the bus's events, and points the guard at the
 * unit's cgroup (guard_watch()) and main process (guard_target_attach()).
 */
#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "guard.h"
#include "log.h"
#include "mode_unit.h"
#include "unit.h"

/* With systemd's signals, the unit is still asked about this often (in
 * seconds), in case one was missed; without them, every second. */
#define UNIT_RECHECK_SEC 30

struct mode_unit {
	struct mode m; /* first: the loop holds &m */
	const char *name;
	struct unit_bus *bus;
	struct unit_info unit;   /* as last seen */
	bool unit_failing;       /* a failure to ask or to locate was logged */
	struct event *bus_ev;    /* the bus readable: answers and systemd's signals */
	unsigned bus_ev_gen;     /* the connection bus_ev watches */
	struct event *follow_ev; /* ask about the unit shortly (a signal came) */
	unsigned bus_gen;        /* the connection a watch was tried on, or 0 */
	bool signals_ok;         /* systemd signals the unit's changes on it */
	unsigned unit_ticks;     /* ticks since the unit was last asked about */
};

static struct mode_unit *
unit_of(struct mode *m)
{
	return (struct mode_unit *)m;
}

/* The cgroup to watch: asked of systemd, which must know the unit; its
 * cgroup is then followed from the loop. */
static int
mu_open(struct mode *m)
{
	struct mode_unit *u = unit_of(m);
	struct unit_info info;
	int r;

	r = unit_bus_open(&u->bus);
	if (r < 0) {
		log_error("cannot connect to systemd's bus: %s", strerror(-r));
		return r;
	}
	r = unit_query(u->bus, u->name, &info);
	if (r < 0)
		log_error("cannot ask systemd about %s: %s", u->name,
		    r == -ENOENT ? "no such unit" : strerror(-r));
	return r;
}

/* A failed question: logged once per run of them; the tick asks again
 * every second. */
static void
unit_failed(struct mode_unit *u, int err)
{
	if (!u->unit_failing)
		log_warn("cannot ask systemd about %s: %s; asking again every second", u->name,
		    strerror(-err));
	u->unit_failing = true;
}

/* The unit has no cgroup (stopped): nothing to watch until it runs. */
static void
unit_stopped(struct mode_unit *u)
{
	struct guard *g = u->m.g;

	guard_target_clear(g);
	if (guard_watching(g)) {
		guard_unwatch(g);
		log_info("the unit has no cgroup (%s); waiting for %s to run again", guard_dir(g),
		    u->name);
	}
	u->m.host->sync(u->m.host->loop);
}

/* systemd's answer about the unit, and what follows from it (see
 * unit_follow()). Return 0 when the unit is followed, -1 when not
 * (failed, logged). */
static int
unit_apply(struct mode_unit *u, const struct unit_info *info)
{
	struct guard *g = u->m.g;
	bool new_run = strcmp(info->invocation_id, u->unit.invocation_id) != 0;
	bool new_pid = info->main_pid != u->unit.main_pid;
	bool new_cg = strcmp(info->control_group, u->unit.control_group) != 0;

	if (!new_run && !new_pid && !new_cg &&
	    (guard_watching(g) || info->control_group[0] == '\0') && !u->unit_failing)
		return 0;
	u->unit = *info;
	if (new_run || new_pid || new_cg)
		log_info("unit %s: %s, main pid %d, cgroup %s", u->name, info->active_state,
		    (int)info->main_pid,
		    info->control_group[0] != '\0' ? info->control_group : "none");
	u->unit_failing = false;
	if (info->control_group[0] == '\0') {
		unit_stopped(u);
		return 0;
	}
	/* A unit's memory cgroup is its main process's: on v1 it may differ
	 * from the ControlGroup systemd names (no memory accounting). */
	if ((!guard_watching(g) || new_run || new_cg || new_pid) &&
	    guard_watch(g, info->control_group, info->main_pid, false) < 0) {
		u->unit_failing = true;
		u->m.host->sync(u->m.host->loop);
		return -1;
	}
	if ((new_run || new_pid || !guard_has_target(g)) && info->main_pid > 0)
		(void)guard_target_attach(g, info->main_pid);
	else if (info->main_pid == 0)
		guard_target_clear(g);
	u->m.host->sample(u->m.host->loop, "unit");
	u->m.host->ready(u->m.host->loop);
	return 0;
}

/* A signal from systemd: ask about the unit shortly. Several come for one
 * change (one for each interface of the unit), and one question answers
 * them all; a flood of them cannot make oomguard ask more than 20 times a
 * second. */
static void
follow_soon(struct mode_unit *u)
{
	struct timeval soon = { 0, 50000 };

	if (u->follow_ev != NULL && !evtimer_pending(u->follow_ev, NULL))
		(void)mode_event_add(u->follow_ev, &soon, "the unit's follow-up timer");
}

static void unit_follow(struct mode_unit *u);

static void
follow_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	unit_follow(arg);
}

/* The connection is gone: no descriptor to watch, no signals. */
static void
bus_unwatch(struct mode_unit *u)
{
	if (u->bus_ev != NULL)
		event_free(u->bus_ev);
	u->bus_ev = NULL;
	u->bus_ev_gen = 0;
	u->signals_ok = false;
}

static void bus_poll(struct mode_unit *u);

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
bus_listen(struct mode_unit *u)
{
	unsigned gen = unit_bus_generation(u->bus);
	int fd = unit_bus_fd(u->bus);

	if (fd < 0 || (u->bus_ev != NULL && u->bus_ev_gen == gen))
		return;
	bus_unwatch(u);
	u->bus_ev = event_new(u->m.host->base, fd, EV_READ | EV_PERSIST, bus_cb, u);
	if (mode_event_add(u->bus_ev, NULL, "the watch of systemd's bus") == 0)
		u->bus_ev_gen = gen;
}

/* Have systemd signal the unit's changes on the current connection.
 * Tried once per connection. */
static void
bus_signals(struct mode_unit *u)
{
	unsigned gen = unit_bus_generation(u->bus);
	int r;

	if (u->bus_ev == NULL || gen == u->bus_gen)
		return;
	u->bus_gen = gen;
	r = unit_watch(u->bus, u->name);
	u->signals_ok = r >= 0;
	if (r < 0) {
		log_info("systemd does not signal the changes of %s (%s): asking about it every "
		         "second",
		    u->name, strerror(-r));
		return;
	}
	log_info("following %s by systemd's signals (and asking about it every %ds)", u->name,
	    UNIT_RECHECK_SEC);
	/* Signals read while the watch was made wait in the connection's
	 * queue, not on its descriptor. */
	if (unit_bus_process(u->bus) > 0)
		follow_soon(u);
}

/* Read what the bus has: systemd's signals (ask again soon), the answer
 * to a question (apply it), a timeout that ran out, or its end. */
static void
bus_poll(struct mode_unit *u)
{
	struct unit_info info;
	int r = unit_bus_process(u->bus);

	if (r > 0)
		follow_soon(u);
	else if (r < 0 && u->bus_ev != NULL) {
		log_info("the connection to systemd's bus closed (%s): asking about %s every "
		         "second until it is back",
		    strerror(-r), u->name);
		bus_unwatch(u);
	}
	r = unit_query_result(u->bus, &info);
	if (r == -EINPROGRESS)
		return;
	if (r < 0)
		unit_failed(u, r);
	else if (unit_apply(u, &info) == 0)
		bus_signals(u);
}

/* Ask systemd about the unit and follow it: a new run (invocation ID), a
 * new main process or a new cgroup is watched at once; a unit without a
 * cgroup (stopped) is waited for. The question goes without waiting:
 * bus_poll() takes the answer when it comes. oomguard asks when systemd
 * signals a change and every UNIT_RECHECK_SEC; every second without
 * signals and after a failure (logged once per run of them). */
static void
unit_follow(struct mode_unit *u)
{
	int r;

	u->unit_ticks = 0;
	r = unit_query_start(u->bus, u->name);
	if (r == -EBUSY)
		return;
	if (r < 0) {
		unit_failed(u, r);
		return;
	}
	bus_listen(u);
}

static int
mu_begin(struct mode *m)
{
	struct mode_unit *u = unit_of(m);

	u->follow_ev = evtimer_new(m->host->base, follow_cb, u);
	unit_follow(u);
	return 0;
}

static void
mu_tick(struct mode *m)
{
	struct mode_unit *u = unit_of(m);

	/* The bus read at least every second: a call's timeout is noticed
	 * there. */
	if (u->bus_ev != NULL)
		bus_poll(u);
	if (!u->signals_ok || u->unit_failing || ++u->unit_ticks >= UNIT_RECHECK_SEC)
		unit_follow(u);
}

static void
mu_sampled(struct mode *m, const struct guard_result *r)
{
	(void)m;
	(void)r;
}

/* Wait for the unit to run again. */
static int
mu_gone(struct mode *m, const char *why)
{
	log_info("%s (%s); waiting for %s to run again", why, guard_dir(m->g), unit_of(m)->name);
	return MODE_GO_ON;
}

static int
mu_stop(struct mode *m, int sig)
{
	(void)m;
	(void)sig;
	return 0;
}

static void
mu_free(struct mode *m)
{
	struct mode_unit *u = unit_of(m);

	if (u->follow_ev != NULL)
		event_free(u->follow_ev);
	bus_unwatch(u);
	unit_bus_close(u->bus);
	free(u);
}

static const struct mode_ops unit_ops = {
	.open = mu_open,
	.begin = mu_begin,
	.ready_later = true,
	.sampled = mu_sampled,
	.gone = mu_gone,
	.stop = mu_stop,
	.signal = mode_signal_no_app,
	.child = mode_reap_orphans,
	.tick = mu_tick,
	.free = mu_free,
};

struct mode *
mode_unit_new(const char *name, const struct mode_host *host, struct guard *g)
{
	struct mode_unit *u = calloc(1, sizeof(*u));

	if (u == NULL)
		return NULL;
	u->m = (struct mode){ &unit_ops, host, g };
	u->name = name;
	return &u->m;
}
