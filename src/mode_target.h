/*
 * mode_target.h: oomguard beside its app: watching a cgroup (--cgroup),
 * the processes in it the targets, or a process (--pid), held open as
 * the main target. Ends when the cgroup goes away.
 */
#ifndef OOMGUARD_MODE_TARGET_H
#define OOMGUARD_MODE_TARGET_H

#include <sys/types.h>

#include "mode.h"

/* The mode watching cgroup ("self": the cgroup of pid, or oomguard's own
 * when pid is 0; cgroup must outlive open()) on guard g, with pid (> 0)
 * as its main target. Return it, or NULL when out of memory. */
struct mode *mode_target_new(
    const char *cgroup, pid_t pid, const struct mode_host *host, struct guard *g);

#endif
