/*
 * loop.h: the event loop: the libevent base, the signals oomguard
 * listens to, the poll timers, the service manager's notifications
 * (READY, STATUS, WATCHDOG), reloads; it wraps the guards' descriptors in
 * events and calls down into the guard (guard.h) and the mode (mode.h).
 */
#ifndef OOMGUARD_LOOP_H
#define OOMGUARD_LOOP_H

#include <stddef.h>
#include <sys/types.h>

#include "config.h"

struct loop_opts {
	const char *proc_root;
	const char *fs_root;
	char **app_argv;  /* NULL: watch only (the cgroup's processes are the targets) */
	pid_t pid;        /* watch only: the main target (--pid), 0 if none */
	const char *unit; /* watch only: the systemd unit whose cgroup is watched, or NULL */
	/* Build the configuration afresh (SIGHUP): return 0, or -EINVAL with
	 * the error in err. NULL: SIGHUP is the app's (it is passed on). */
	int (*reload)(struct config *ret, char *err, size_t errlen);
};

/* Run until the app ends for good (entrypoint) or the watched cgroup goes
 * away (watch only). Return the exit code oomguard should exit with: the
 * app's (128+N when a signal ended it, 126/127 when it could not be run),
 * 0 when a watched cgroup was removed or SIGTERM ended a watch, or 1 when
 * start-up failed (the reason logged). */
int loop_run(const struct config *cfg, const struct loop_opts *opts);

#endif
