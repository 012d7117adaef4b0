/*
 * sidecar.h: the unit a watch follows (--unit), what the service manager
 * is told (READY, STATUS, WATCHDOG), and the reload of a watch without an
 * app (SIGHUP). The bus is unit.c's, the notifications service.c's.
 */
#ifndef OOMGUARD_SIDECAR_H
#define OOMGUARD_SIDECAR_H

#include "watch.h"

/* --unit: connect to systemd's bus and ask about the unit, which must
 * exist; its cgroup is watched from sidecar_unit_follow(). Return 0, or
 * -errno (logged; -ENOENT: no such unit): oomguard cannot begin then. */
int sidecar_open(struct watch *w);

/* Ask systemd about the unit and follow it: a new run, main process or
 * cgroup is watched at once (and sampled), a unit without a cgroup waited
 * for; then have systemd signal the unit's changes (once per connection),
 * which make oomguard ask again. Returns nothing: failures are logged once
 * per run of them, and the tick asks again every second (every 30 s while
 * systemd signals the changes). */
void sidecar_unit_follow(struct watch *w);

/* READY=1, once: the first time the watch has begun. Returns nothing. */
void sidecar_ready(struct watch *w);

/* Start the manager's timers: every second the status line (and the
 * unit's state with --unit, see sidecar_unit_follow()), and WATCHDOG=1 at half of WatchdogSec= when
 * it is set. Returns nothing: a timer that cannot be made is left out. */
void sidecar_timers(struct watch *w);

/* SIGHUP in a watch without an app: build the configuration afresh and
 * swap it in only when it is valid (then sample at once); otherwise log
 * why and keep the old one. Returns nothing. */
void sidecar_reload(struct watch *w);

#endif
