/*
 * app.h: the app oomguard runs as its entrypoint, wired to the loop:
 * started, restarted, given its grace period, reaped, sent the signals
 * oomguard receives. The loop (watch.c) calls in; the duties themselves
 * are supervise.c's.
 */
#ifndef OOMGUARD_APP_H
#define OOMGUARD_APP_H

#include "watch.h"

/* Make the app's timers on w's loop: the restart back-off and the grace
 * period before SIGKILL. Returns nothing. */
void app_timers(struct watch *w);

/* Become the app's supervisor (a child subreaper, logged when refused)
 * and start it. Return 0, or -errno when it could not be started
 * (logged): oomguard cannot begin then. */
int app_start(struct watch *w);

/* SIGCHLD: reap every child that ended; when the app is among them, end
 * the loop or schedule its restart, as [supervise] restart says. Returns
 * nothing: a failure to reap is logged. */
void app_reap(struct watch *w);

/* Any signal the loop receives but SIGCHLD and a reload's SIGHUP: SIGTERM
 * or SIGINT begins the shutdown (passed on to the app, SIGKILL after the
 * grace period; the loop ends at once without an app); the others are
 * passed on to the app, if it runs. Returns nothing. */
void app_signal(struct watch *w, int sig);

#endif
