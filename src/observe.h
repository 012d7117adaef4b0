/*
 * observe.h: what the loop shows and tells of its guards: the metrics
 * endpoint ([metrics] listen, metrics.c), with the guards as its
 * provider, and the hooks ([hook], hook.c) run on what a sample did. The
 * loop makes one, adds its guards and hands it each sample's result; this
 * module keeps the rest (the last actions' times, the hooks due).
 *
 * When a hook runs (docs/metrics.md): before a restart or kill the guard
 * held for it (the loop starts it, observe_hook_before(), and releases
 * the action at its end); otherwise after what it tells of, at the first
 * sample where forking one is safe (guard_result.hook_safe: not frozen,
 * not about to freeze, not near the limit of the cgroup oomguard runs
 * in), so that a hook is never forked into a frozen cgroup and never on
 * the rescue path.
 */
#ifndef OOMGUARD_OBSERVE_H
#define OOMGUARD_OBSERVE_H

#include <event2/event.h>

#include "config.h"
#include "guard.h"
#include "hook.h"

struct observe;

/* For the loop on base, with cfg (which must outlive it, or be replaced
 * by observe_reconfigure()); name is the guards' label (the unit), or
 * NULL. Starts the endpoint when [metrics] listen names an address: a
 * failure to listen is logged and oomguard goes on without it. Return it,
 * or NULL when out of memory (logged). */
struct observe *observe_new(struct event_base *base, const struct config *cfg, const char *name);

/* Stop the endpoint, kill the hooks still running, free o. NULL is
 * allowed. */
void observe_free(struct observe *o);

/* Show g from now on, its series labelled with the name given to
 * observe_new(). Return 0, or -ENOMEM. */
int observe_guard_add(struct observe *o, struct guard *g);

/* Show g from now on, its series labelled name (a container's name, or
 * NULL for none) and pod (a pod's UID, or NULL), both copied: for the
 * host agent, whose guards each have their own. Return 0, or -ENOMEM. */
int observe_guard_add_labelled(
    struct observe *o, struct guard *g, const char *name, const char *pod);

/* g was freed: show it no more. */
void observe_guard_remove(struct observe *o, struct guard *g);

/* A new configuration (a reload): the hooks' program, events and
 * timeout. A new [metrics] listen takes effect at the next start (said
 * in the log). */
void observe_reconfigure(struct observe *o, const struct config *cfg);

/* g held res->held for its hook: run the hook (OOMGUARD_WHEN=before),
 * done(arg) told once at its end or timeout. Return 0, or -errno (logged:
 * -EBUSY with HOOK_RUNNING_MAX running) when it was not started: the
 * caller releases the action at once. */
int observe_hook_before(struct observe *o, struct guard *g, const struct guard_result *res,
    hook_done_fn done, void *arg);

/* g was sampled and did res: note the time of its action and run the
 * hooks due after it, where res says forking one is safe. */
void observe_sampled(struct observe *o, struct guard *g, const struct guard_result *res);

#endif
