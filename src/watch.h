/*
 * watch.h: the watchdog: the libevent loop that samples the cgroup,
 * listens for kernel notifications and signals, asks the policy what to
 * do, acts, and supervises the app when oomguard runs it.
 */
#ifndef OOMGUARD_WATCH_H
#define OOMGUARD_WATCH_H

#include <sys/types.h>

#include "config.h"

struct watch_opts {
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
 * 0 when a watched cgroup was removed, or 1 when start-up failed (the
 * reason logged). */
int watch_run(const struct config *cfg, const struct watch_opts *opts);

#endif
