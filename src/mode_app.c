/*
 * mode_app.c: the entrypoint's mode, when oomguard runs the app: start
 * it, restart it after the back-off, give it its grace period and then
 * SIGKILL, reap it (and the orphans handed to us), pass signals on to it,
 * and end with its exit code. The duties themselves are supervise.c's;
 * the runtime hints it starts with hints_cmd.c's. The guard gets the
 * child as its main target (guard_target_set()) and says in each
 * sample's result whether it sent the child a restart or kill.
 */
#include <event2/event.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "guard.h"
#include "hints_cmd.h"
#include "log.h"
#include "mode_app.h"
#include "supervise.h"
#include "units.h"

struct mode_app {
	struct mode m; /* first: the loop holds &m */
	const struct config *cfg;
	char **argv;
	struct event *restart_ev; /* the restart back-off */
	struct event *grace_ev;   /* SIGKILL after the grace period */
	bool have_child;
	struct supervise_child child;
	uint64_t generation;
	bool by_watchdog; /* oomguard sent the current child restart or kill */
	const char *watchdog_why;
	bool shutting_down;
	uint64_t restart_delay_usec;
	int exit_code;
	bool take_terminal;
	struct hints_app hints; /* the runtime hints the app was started with */
	bool have_limit;        /* a sample found the limit: */
	uint64_t limit_bytes;   /* the one the hints count from */
};

static struct mode_app *
app_of(struct mode *m)
{
	return (struct mode_app *)m;
}

static void
app_restart_later(struct mode_app *a)
{
	struct timeval tv = mode_timeval(a->restart_delay_usec);

	(void)mode_event_add(a->restart_ev, &tv, "the app's restart timer");
}

/* Start the app, or (it cannot be run) schedule the next try after the
 * back-off. Return 0, or -errno when it was not started (logged). */
static int
app_spawn(struct mode_app *a)
{
	uint64_t now = guard_now_usec();
	int r;

	a->generation++;
	hints_cmd_start(&a->hints, a->cfg, a->have_limit ? a->limit_bytes : 0);
	r = supervise_spawn(a->argv, a->take_terminal, now, a->generation, &a->child);
	hints_cmd_restore(&a->hints);
	if (r < 0) {
		/* Degrade rather than die: try again after the back-off. */
		log_error("cannot start %s: %s", a->argv[0], strerror(-r));
		a->restart_delay_usec =
		    supervise_backoff(a->restart_delay_usec, 0, a->cfg->restart_delay_usec,
		        a->cfg->restart_delay_max_usec, a->cfg->stable_usec);
		app_restart_later(a);
		return r;
	}
	a->have_child = true;
	a->by_watchdog = false;
	a->watchdog_why = NULL;
	/* supervise_spawn() waited for the exec: from here on the child's
	 * handlers are the app's own, unless the exec failed. */
	guard_target_set(a->m.g,
	    &(struct guard_target){
	        a->child.pid, a->child.pidfd, a->child.started_usec, a->child.exec_errno == 0 });
	if (a->child.exec_errno != 0)
		log_error("cannot run %s: %s", a->argv[0], strerror(a->child.exec_errno));
	else
		log_info("started %s as pid %d", a->argv[0], (int)a->child.pid);
	return 0;
}

static void
restart_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)app_spawn(arg);
}

static void
grace_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mode_app *a = arg;

	(void)fd;
	(void)what;
	if (!a->have_child)
		return;
	log_warn("the app (pid %d) is still running after the grace period; sending SIGKILL",
	    (int)a->child.pid);
	supervise_signal(&a->child, SIGKILL);
}

/* The app ended with status: return the exit code to end with, or
 * MODE_GO_ON when it is restarted. */
static int
child_ended(struct mode_app *a, int status)
{
	uint64_t now = guard_now_usec(), run = now - a->child.started_usec;
	int code = supervise_exit_code(status);
	pid_t pid = a->child.pid;
	char d[UNITS_BUF];

	/* Killed: read the counters now, so that an OOM kill by the kernel
	 * is named before the app's end. */
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		guard_kernel_events(a->m.g);
	guard_target_clear(a->m.g);
	supervise_release(&a->child);
	a->have_child = false;
	a->exit_code = code;
	event_del(a->grace_ev);
	if (WIFSIGNALED(status))
		log_info("the app (pid %d) was killed by signal %d (exit code %d)", (int)pid,
		    WTERMSIG(status), code);
	else
		log_info("the app (pid %d) exited with code %d", (int)pid, code);
	if (!supervise_should_restart(a->cfg->supervise_restart, a->by_watchdog, a->shutting_down))
		return code;
	a->restart_delay_usec = supervise_backoff(a->restart_delay_usec, run,
	    a->cfg->restart_delay_usec, a->cfg->restart_delay_max_usec, a->cfg->stable_usec);
	log_info("restarting the app in %s (%s)", units_format_duration(a->restart_delay_usec, d),
	    a->by_watchdog ? a->watchdog_why : "it ended on its own");
	app_restart_later(a);
	return MODE_GO_ON;
}

static int
app_child(struct mode *m)
{
	struct mode_app *a = app_of(m);
	int status, r;

	r = supervise_reap(a->have_child ? a->child.pid : -1, &status);
	if (r < 0)
		log_warn("cannot reap children: %s", strerror(-r));
	else if (r == 1 && a->have_child)
		return child_ended(a, status);
	return MODE_GO_ON;
}

static int
app_open(struct mode *m)
{
	struct mode_app *a = app_of(m);

	return guard_watch(m->g, a->cfg->cgroup, 0, false);
}

/* Become the app's supervisor (a child subreaper, logged when refused)
 * and start it. */
static int
app_begin(struct mode *m)
{
	struct mode_app *a = app_of(m);
	int r = supervise_init();

	a->take_terminal = supervise_in_foreground();
	if (r < 0)
		log_warn("cannot become a child subreaper: %s; orphans will not be reaped",
		    strerror(-r));
	return app_spawn(a);
}

static void
app_sampled(struct mode *m, const struct guard_result *res)
{
	struct mode_app *a = app_of(m);

	if (res->ending_why != NULL && a->have_child) {
		a->by_watchdog = true;
		a->watchdog_why = res->ending_why;
	}
	if (res->limit_changed) {
		a->have_limit = true;
		a->limit_bytes = res->limit_bytes;
		hints_cmd_limit(&a->hints, a->cfg, res->limit_bytes);
	}
}

static int
app_gone(struct mode *m, const char *why)
{
	log_warn("%s (%s); the app keeps running, unwatched", why, guard_dir(m->g));
	return MODE_GO_ON;
}

/* SIGTERM or SIGINT: pass it on, give the app its grace period, and end
 * with it. */
static int
app_stop(struct mode *m, int sig)
{
	struct mode_app *a = app_of(m);
	char s[UNITS_BUF], d[UNITS_BUF];
	struct timeval tv = mode_timeval(a->cfg->restart_grace_usec);

	a->shutting_down = true;
	event_del(a->restart_ev);
	if (!a->have_child)
		return a->exit_code;
	log_info("%s received; passing it on to pid %d, SIGKILL in %s", units_format_signal(sig, s),
	    (int)a->child.pid, units_format_duration(a->cfg->restart_grace_usec, d));
	supervise_signal(&a->child, sig);
	(void)mode_event_add(a->grace_ev, &tv, "the grace period's timer");
	return MODE_GO_ON;
}

static int
app_signal(struct mode *m, int sig)
{
	struct mode_app *a = app_of(m);

	if (a->have_child)
		supervise_signal(&a->child, sig);
	return MODE_GO_ON;
}

static void
app_free(struct mode *m)
{
	struct mode_app *a = app_of(m);

	/* Leaving with the app still running (should not happen): do not
	 * leave it behind. */
	if (a->have_child)
		supervise_signal(&a->child, SIGKILL);
	if (a->restart_ev != NULL)
		event_free(a->restart_ev);
	if (a->grace_ev != NULL)
		event_free(a->grace_ev);
	free(a);
}

static const struct mode_ops app_ops = {
	.open = app_open,
	.begin = app_begin,
	.sampled = app_sampled,
	.gone = app_gone,
	.stop = app_stop,
	.signal = app_signal,
	.child = app_child,
	.free = app_free,
};

struct mode *
mode_app_new(const struct config *cfg, char **argv, const struct mode_host *host, struct guard *g)
{
	struct mode_app *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->m = (struct mode){ &app_ops, host, g };
	a->cfg = cfg;
	a->argv = argv;
	a->exit_code = 1;
	a->restart_ev = evtimer_new(host->base, restart_cb, a);
	a->grace_ev = evtimer_new(host->base, grace_cb, a);
	if (a->restart_ev == NULL || a->grace_ev == NULL) {
		log_error("cannot create the event loop's timers");
		app_free(&a->m);
		return NULL;
	}
	return &a->m;
}
