/*
 * memctl.h: the cgroup v2 memory knobs oomguard may turn: memory.high
 * (throttle instead of hitting memory.max) and memory.reclaim (drop
 * reclaimable memory without the app's help). Low-level: no logging.
 */
#ifndef OOMGUARD_MEMCTL_H
#define OOMGUARD_MEMCTL_H

#include <stddef.h>
#include <stdint.h>

/* Read dir/memory.high as text ("max\n" or a number) into buf. Return
 * its length, or -errno. */
int memctl_high_get(const char *dir, char *buf, size_t len);

/* Write text (as read by memctl_high_get, or a number) to dir/memory.high.
 * Return 0 or -errno (EACCES/EROFS where the cgroup is not writable). */
int memctl_high_set(const char *dir, const char *text);

/* Ask the kernel to reclaim bytes from the cgroup (dir/memory.reclaim,
 * Linux 5.19). Return 0, -EAGAIN when it reclaimed less, or -errno. */
int memctl_reclaim(const char *dir, uint64_t bytes);

#endif
