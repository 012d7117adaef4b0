/*
 * app.c: the entrypoint's side of the loop, when oomguard runs the app:
 * start it, restart it after the back-off, give it its grace period and
 * then SIGKILL, reap it (and the orphans handed to us), pass signals on to
 * it, and begin the shutdown on SIGTERM or SIGINT. The duties themselves
 * are supervise.c's; this file wires them to the loop's state and timers.
 */
#include <event2/event.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "action.h"
#include "app.h"
#include "hints_cmd.h"
#include "knob.h"
#include "log.h"
#include "memcg.h"
#include "service.h"
#include "supervise.h"
#include "units.h"
#include "watch.h"

/* Start the app, or (it cannot be run) schedule the next try after the
 * back-off. Return 0, or -errno when it was not started (logged). */
static int
app_spawn(struct watch *w)
{
	uint64_t now = watch_now_usec();
	int r;

	w->generation++;
	hints_cmd_start(&w->hints, w->cfg, w->levels_set ? w->limit_bytes : 0);
	r = supervise_spawn(w->opts->app_argv, w->take_terminal, now, w->generation, &w->child);
	hints_cmd_restore(&w->hints);
	if (r < 0) {
		/* Degrade rather than die: try again after the back-off. */
		log_error("cannot start %s: %s", w->opts->app_argv[0], strerror(-r));
		w->restart_delay_usec =
		    supervise_backoff(w->restart_delay_usec, 0, w->cfg->restart_delay_usec,
		        w->cfg->restart_delay_max_usec, w->cfg->stable_usec);
		struct timeval tv = watch_timeval(w->restart_delay_usec);
		(void)watch_event_add(w->restart_ev, &tv, "the app's restart timer");
		return r;
	}
	w->have_child = true;
	r = action_target_open(w->opts->proc_root, w->child.pid, w->child.pidfd, &w->target);
	if (r < 0)
		log_warn("cannot hold %s/%d open: %s; its checks will open files as they go",
		    w->opts->proc_root, (int)w->child.pid, strerror(-r));
	w->by_watchdog = false;
	w->watchdog_why = NULL;
	w->handler_warned = false;
	if (w->levels_set)
		knob_high_again(
		    &w->knob, &w->cfg->watch_high, w->limit_bytes, w->levels.restart_bytes);
	if (w->child.exec_errno != 0)
		log_error("cannot run %s: %s", w->opts->app_argv[0], strerror(w->child.exec_errno));
	else
		log_info("started %s as pid %d", w->opts->app_argv[0], (int)w->child.pid);
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
	uint64_t now = watch_now_usec(), run = now - w->child.started_usec;
	int code = supervise_exit_code(status);
	pid_t pid = w->child.pid;
	char d[UNITS_BUF];

	/* Killed: read the counters now, so that an OOM kill by the kernel
	 * is named before the app's end. */
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && w->watching) {
		struct memcg_sample s;

		if (memcg_read(&w->mem, &s) == 0)
			(void)watch_kernel_events(w, &s);
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
	struct timeval tv = watch_timeval(w->restart_delay_usec);
	(void)watch_event_add(w->restart_ev, &tv, "the app's restart timer");
}

void
app_reap(struct watch *w)
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
	struct timeval tv = watch_timeval(w->cfg->restart_grace_usec);

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
	(void)watch_event_add(w->grace_ev, &tv, "the grace period's timer");
}

void
app_timers(struct watch *w)
{
	w->restart_ev = evtimer_new(w->base, restart_cb, w);
	w->grace_ev = evtimer_new(w->base, grace_cb, w);
}

int
app_start(struct watch *w)
{
	int r = supervise_init();

	w->take_terminal = supervise_in_foreground();
	if (r < 0)
		log_warn("cannot become a child subreaper: %s; orphans will not be reaped",
		    strerror(-r));
	return app_spawn(w);
}

void
app_signal(struct watch *w, int sig)
{
	if ((sig == SIGTERM || sig == SIGINT) && !w->shutting_down) {
		shutdown_begin(w, sig);
		return;
	}
	if (w->have_child) {
		supervise_signal(&w->child, sig);
		return;
	}
	if (w->opts->app_argv == NULL && (sig == SIGTERM || sig == SIGINT)) {
		event_base_loopbreak(w->base);
	}
}
