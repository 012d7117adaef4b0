/*
 * mode_unit.h: oomguard beside a systemd unit (--unit): the unit's cgroup
 * watched and its main process the main target, run after run, asked of
 * systemd over D-Bus without waiting (unit.c) whenever systemd signals a
 * change of the unit, and every second or 30 s.
 */
#ifndef OOMGUARD_MODE_UNIT_H
#define OOMGUARD_MODE_UNIT_H

#include "mode.h"

/* The mode following the unit name (which must outlive it) on guard g.
 * Return it, or NULL when out of memory. */
struct mode *mode_unit_new(const char *name, const struct mode_host *host, struct guard *g);

#endif
