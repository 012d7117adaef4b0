/*
 * guard_events.c: a guard's descriptors as libevent events.
 */
#include <event2/event.h>

#include "guard_events.h"
#include "log.h"

struct event_base *
guard_events_base_new(void)
{
	struct event_config *ec = event_config_new();
	struct event_base *base;

	if (ec == NULL)
		return NULL;
	event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
	base = event_base_new_with_config(ec);
	event_config_free(ec);
	if (base != NULL && event_base_priority_init(base, 2) < 0) {
		event_base_free(base);
		return NULL;
	}
	return base;
}

static void
fd_cb(evutil_socket_t fd, short what, void *arg)
{
	/* Copied first: the callback may take up new descriptors, which
	 * rewrites the arguments, or free them. */
	struct guard_events_arg a = *(struct guard_events_arg *)arg;

	(void)fd;
	(void)what;
	a.ge->cb(a.ge->owner, a.kind);
}

void
guard_events_init(struct guard_events *ge, struct event_base *base, const struct guard *g,
    guard_events_cb cb, void *owner)
{
	*ge = (struct guard_events){ .base = base, .g = g, .cb = cb, .owner = owner };
	ge->gen = guard_fds_generation(g) - 1;
}

void
guard_events_free(struct guard_events *ge)
{
	for (int i = 0; i < ge->n; i++)
		event_free(ge->ev[i]);
	ge->n = 0;
}

void
guard_events_sync(struct guard_events *ge)
{
	struct guard_fd fds[GUARD_FDS_MAX];
	unsigned gen = guard_fds_generation(ge->g);
	int n;

	if (gen == ge->gen)
		return;
	guard_events_free(ge);
	ge->gen = gen;
	n = guard_fds(ge->g, fds, GUARD_FDS_MAX);
	for (int i = 0; i < n; i++) {
		struct event *ev;

		ge->arg[ge->n] = (struct guard_events_arg){ ge, fds[i].kind };
		ev = event_new(ge->base, fds[i].fd, EV_READ | EV_PERSIST, fd_cb, &ge->arg[ge->n]);
		if (ev == NULL || event_add(ev, NULL) < 0) {
			log_warn("cannot watch the %s descriptor of %s; polling carries it",
			    guard_fd_name(fds[i].kind), guard_dir(ge->g));
			if (ev != NULL)
				event_free(ev);
			continue;
		}
		ge->ev[ge->n++] = ev;
	}
}
