/*
 * mode_app.h: oomguard as the container's entrypoint: the app it runs,
 * started, restarted after its back-off, given its grace period on
 * SIGTERM, reaped, sent the signals oomguard receives, its exit code
 * passed on. The duties themselves are supervise.c's.
 */
#ifndef OOMGUARD_MODE_APP_H
#define OOMGUARD_MODE_APP_H

#include "config.h"
#include "mode.h"

/* The entrypoint's mode for argv on guard g (cfg and argv must outlive
 * it): g watches cfg->cgroup ("self": oomguard's own). Return it, or
 * NULL when out of memory or its timers cannot be made (logged). */
struct mode *mode_app_new(
    const struct config *cfg, char **argv, const struct mode_host *host, struct guard *g);

#endif
