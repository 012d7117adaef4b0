/*
 * labels.h: a guard's configuration from a container's labels
 * (oomguard.SECTION.KEY=value, oomguard.gc.at=80%) or from a [pattern.NAME]
 * section's SECTION.KEY = value lines, set over a copy of the file's
 * configuration by config_set() and checked by config_validate(), the
 * same table and the same checks as the file. Pure.
 *
 * A bad label leaves its container unguarded (the caller logs the error,
 * naming the container): the operator asked for settings that cannot
 * hold, and the file's settings in their place could send a signal the
 * app was not meant to get.
 */
#ifndef OOMGUARD_LABELS_H
#define OOMGUARD_LABELS_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "dockerjson.h"

#define LABELS_ENABLE "oomguard.enable"

/* Whether c asks to be guarded: oomguard.enable=true (or yes, on, 1).
 * Return 1 or 0 (absent, or false), or -EINVAL with "label
 * oomguard.enable: what" in err. */
int labels_enabled(const struct dockerjson_container *c, char *err, size_t errlen);

/* Set c's oomguard.SECTION.KEY labels over a copy of base into *ret and
 * check the result. Keys that hold for the whole daemon ([log], [docker])
 * or that the agent decides ([watch] cgroup, [supervise], [runtime]) are
 * refused. Return 0, or -EINVAL with "label KEY: what" (or the origin of
 * the key a relation fails on) in err; *ret is untouched on failure. */
int labels_apply(const struct config *base, const struct dockerjson_container *c,
    struct config *ret, char *err, size_t errlen);

/* The same for a [pattern.NAME] section's keys, each named by its
 * "FILE:LINE". Return 0, or -EINVAL with "FILE:LINE: what" in err. */
int labels_apply_pattern(const struct config *base, const struct config_pattern *p,
    struct config *ret, char *err, size_t errlen);

/* Check each of the n patterns of v over base, as
 * labels_apply_pattern(). Return 0, or -EINVAL with the first error in
 * err. */
int labels_check_patterns(
    const struct config *base, const struct config_pattern *v, size_t n, char *err, size_t errlen);

/* The UID of the Kubernetes pod whose cgroup contains path (a cgroup's
 * path, with or without the mount point before it): a component under
 * kubepods named pod<UID> (the cgroupfs driver) or *-pod<UID>.slice (the
 * systemd driver, '-' in the UID written '_'). Pure. Return 1 with the
 * UID (dashes restored) in buf, or 0 when path is not a pod's (buf "").
 */
int labels_pod_uid(const char *path, char *buf, size_t len);

#endif
