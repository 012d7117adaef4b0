/*
 * guard_events.h: a guard's descriptors as libevent events, kept in step
 * with guard_fds(). The part of the event wiring that the loop (one guard
 * per mode) and the host agent (one guard per container or cgroup) share;
 * what a readable descriptor means stays theirs, in the callback.
 */
#ifndef OOMGUARD_GUARD_EVENTS_H
#define OOMGUARD_GUARD_EVENTS_H

#include "guard.h"

struct event;
struct event_base;
struct guard_events;

/* A descriptor of kind turned readable; owner is what guard_events_init()
 * was given. The callback may call guard_events_sync() or free the owner
 * (with its guard_events). */
typedef void (*guard_events_cb)(void *owner, enum guard_fd_kind kind);

/* One event's argument. */
struct guard_events_arg {
	struct guard_events *ge;
	enum guard_fd_kind kind;
};

struct guard_events {
	struct event_base *base;
	const struct guard *g;
	guard_events_cb cb;
	void *owner;
	struct event *ev[GUARD_FDS_MAX];
	struct guard_events_arg arg[GUARD_FDS_MAX];
	int n;
	unsigned gen; /* guard_fds_generation() the events were made for */
};

/* The event loop of the loop and of the agent, with timers to the
 * microsecond (EVENT_BASE_FLAG_PRECISE_TIMER: epoll_wait() counts in
 * milliseconds and would round a 2 ms poll up to 3) and two priorities:
 * the signals' events go first (priority 0), so that a SIGTERM that
 * arrives with a sample's wake-up starts the shutdown before the sample
 * could act; everything else runs at the default. Return it, or NULL. */
struct event_base *guard_events_base_new(void);

/* Watch g's descriptors on base, calling cb(owner, kind) when one turns
 * readable; no event is made before the first guard_events_sync(). Never
 * fails. */
void guard_events_init(struct guard_events *ge, struct event_base *base, const struct guard *g,
    guard_events_cb cb, void *owner);

/* Take up the guard's descriptors when they changed: every old event is
 * freed before a new one is made, so that a number reused by a new
 * descriptor is never taken for the old one's. Returns nothing: a
 * descriptor that cannot be watched is logged and left to polling. */
void guard_events_sync(struct guard_events *ge);

/* Free every event (the descriptors are the guard's). Safe twice. */
void guard_events_free(struct guard_events *ge);

#endif
