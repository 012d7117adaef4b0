/*
 * notify.h: kernel notifications of memory events: cgroup v1 threshold
 * and OOM eventfds (through cgroup.event_control), and inotify on the v2
 * memory.events file. Each returns a descriptor that turns readable when
 * the event happens, for the caller's event loop.
 */
#ifndef OOMGUARD_NOTIFY_H
#define OOMGUARD_NOTIFY_H

#include <stdint.h>

/* Register a v1 threshold at bytes on the cgroup directory dir. The
 * eventfd fires when usage crosses it in either direction. Return the
 * eventfd, or -errno (EACCES or EROFS on a read-only cgroupfs). */
int notify_v1_threshold(const char *dir, uint64_t bytes);

/* Register for v1 OOM notifications on dir; the eventfd fires when the
 * cgroup enters OOM, at once if it already is. Return it, or -errno. */
int notify_v1_oom(const char *dir);

/* Watch dir/memory.events with inotify IN_MODIFY. Return the inotify
 * descriptor, or -errno. */
int notify_v2_events(const char *dir);

/* Drain a descriptor returned above after it turned readable. Return 0,
 * or -errno. */
int notify_drain(int fd);

#endif
