/*
 * mode.h: how oomguard is run, plugged into the loop (loop.c): as the
 * container's entrypoint (mode_app.c: the app spawned, reaped, restarted),
 * beside a process or a cgroup (mode_target.c: --pid, --cgroup), or
 * following a systemd unit (mode_unit.c: --unit). Each mode owns its
 * state in a struct of its own that begins with struct mode.
 *
 * Calls go one way. The loop calls a mode through its struct mode_ops;
 * a mode calls down into its guard (guard.h: its main target, stopping
 * or starting the watch), and reaches the loop only through the
 * callbacks of struct mode_host, for what its own events find.
 */
#ifndef OOMGUARD_MODE_H
#define OOMGUARD_MODE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/time.h>

struct event;
struct event_base;
struct guard;
struct guard_result;

/* A mode's call that can end the loop returns the exit code oomguard is
 * to exit with (0-255), or MODE_GO_ON. */
#define MODE_GO_ON (-1)

/* What the loop lends a mode. */
struct mode_host {
	struct event_base *base; /* for the mode's own timers and descriptors */
	void *loop;              /* the first argument of the callbacks */
	/* The guard's descriptors or target changed (a watch stopped or
	 * began): the loop takes them up before it waits again. */
	void (*sync)(void *loop);
	/* Sample the guard now (why names it for the log); its result comes
	 * back through sampled() as every sample's does. */
	void (*sample)(void *loop, const char *why);
	/* READY=1 to the service manager (sent once). */
	void (*ready)(void *loop);
};

struct mode;

struct mode_ops {
	/* Start-up: point the guard at its cgroup (or, --unit, learn where
	 * it is). Return 0, or -errno (logged): oomguard cannot begin. */
	int (*open)(struct mode *m);
	/* After the first sample: start the app, attach the target, follow
	 * the unit. Return 0, or -errno (logged): oomguard cannot begin. */
	int (*begin)(struct mode *m);
	/* The mode sends READY=1 itself (host->ready) once its watch began;
	 * otherwise the loop sends it after begin(). */
	bool ready_later;
	/* Every sample's result, after the loop took up its descriptors. */
	void (*sampled)(struct mode *m, const struct guard_result *r);
	/* The cgroup went away (why says how; the guard has stopped
	 * watching it). Return an exit code or MODE_GO_ON. */
	int (*gone)(struct mode *m, const char *why);
	/* The first SIGTERM or SIGINT: the guard takes no more actions.
	 * Return an exit code (the loop ends at once) or MODE_GO_ON. */
	int (*stop)(struct mode *m, int sig);
	/* Any other signal the loop listens to but SIGCHLD and a reload's
	 * SIGHUP. Return an exit code or MODE_GO_ON. */
	int (*signal)(struct mode *m, int sig);
	/* SIGCHLD: reap. Return an exit code or MODE_GO_ON. */
	int (*child)(struct mode *m);
	/* Every second, or NULL: the loop then keeps no tick for it. */
	void (*tick)(struct mode *m);
	/* Free the mode; a child still running is killed. */
	void (*free)(struct mode *m);
};

struct mode {
	const struct mode_ops *ops;
	const struct mode_host *host;
	struct guard *g;
};

/* Return usec as a struct timeval, for event_add(). */
struct timeval mode_timeval(uint64_t usec);

/* event_add(ev, tv) (tv NULL: no timeout), a failure (ev NULL counts as
 * one) logged with what names the event. Return 0 or -1. */
int mode_event_add(struct event *ev, const struct timeval *tv, const char *what);

/* SIGCHLD without an app: reap whatever child ended. Return MODE_GO_ON;
 * a failure to reap is logged. */
int mode_reap_orphans(struct mode *m);

/* SIGTERM or SIGINT after the first, or any other signal, without an
 * app: return 0 for SIGTERM and SIGINT (the loop ends), else MODE_GO_ON. */
int mode_signal_no_app(struct mode *m, int sig);

#endif
