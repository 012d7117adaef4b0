/*
 * mode.c: what the modes (mode_app.c, mode_target.c, mode_unit.c) share:
 * their timers' helpers and the signals of a watch without an app.
 */
#include <event2/event.h>
#include <signal.h>
#include <string.h>

#include "log.h"
#include "mode.h"
#include "supervise.h"

struct timeval
mode_timeval(uint64_t usec)
{
	struct timeval tv = { (time_t)(usec / 1000000), (suseconds_t)(usec % 1000000) };

	return tv;
}

int
mode_event_add(struct event *ev, const struct timeval *tv, const char *what)
{
	if (ev != NULL && event_add(ev, tv) == 0)
		return 0;
	log_error("cannot add %s to the event loop; it will not run", what);
	return -1;
}

int
mode_reap_orphans(struct mode *m)
{
	int status, r = supervise_reap(-1, &status);

	(void)m;
	if (r < 0)
		log_warn("cannot reap children: %s", strerror(-r));
	return MODE_GO_ON;
}

int
mode_signal_no_app(struct mode *m, int sig)
{
	(void)m;
	return sig == SIGTERM || sig == SIGINT ? 0 : MODE_GO_ON;
}
