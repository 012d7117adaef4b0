/*
 * cgscan.h: the cgroups that match glob patterns under a cgroup root
 * (oomguard --cgroups): the memory hierarchy on v1, the unified one on v2,
 * given by the caller. A pattern is matched one path component at a time
 * with fnmatch(3) (kubepods.slice/ * / * / *.scope matches only at depth
 * four, and '*' never crosses a '/').
 *
 * Found and removed cgroups are reported by callbacks. New ones are seen
 * through inotify on the directories a pattern walks through (cgroupfs
 * reports mkdir and rmdir of child cgroups there), each event followed by
 * a rescan; where inotify cannot be had, a rescan every interval.
 */
#ifndef OOMGUARD_CGSCAN_H
#define OOMGUARD_CGSCAN_H

#include <event2/event.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#define CGSCAN_PATTERNS_MAX 16

/* Whether rel (a path relative to the root, no leading '/') matches
 * pattern, component by component. Pure. Return 1 or 0. */
int cgscan_match(const char *pattern, const char *rel);

/* Walk root for the directories matching pattern; call found(rel, arg)
 * for each, and dir(path, arg) (when not NULL) for each directory the
 * walk lists, the root included. Return the number found, or -errno when
 * the root cannot be read. Unreadable or vanishing directories below the
 * root are skipped. */
int cgscan_walk(const char *root, const char *pattern, void (*found)(const char *rel, void *arg),
    void (*dir)(const char *path, void *arg), void *arg);

struct cgscan_callbacks {
	/* A cgroup matching patterns[index] appeared (or was there at the
	 * start); rel is relative to the root. */
	void (*found)(const char *rel, size_t index, void *arg);
	/* A cgroup reported found is gone (removed, or no longer matched). */
	void (*lost)(const char *rel, size_t index, void *arg);
	void *arg;
};

struct cgscan;

/* A watch of npatterns patterns (copied) under root on base: a first scan
 * reports every match found now, before this returns. rescan_usec is the
 * fallback rescan's interval (poll_max). Return NULL with errno set
 * (EINVAL: no pattern or too many, ENOMEM, or the root's errno). */
struct cgscan *cgscan_new(struct event_base *base, const char *root, const char *const *patterns,
    size_t npatterns, uint64_t rescan_usec, const struct cgscan_callbacks *cb);

/* Whether inotify carries the watch (1), or the rescan timer (0). */
int cgscan_inotify(const struct cgscan *s);

/* Rescan now and report the changes; return the number of matches. */
int cgscan_rescan(struct cgscan *s);

/* Free s (NULL is fine), never from one of its callbacks; nothing is
 * reported. */
void cgscan_free(struct cgscan *s);

#endif
