/*
 * docker.h: the Docker Engine client. Over the engine's unix socket it
 * lists the running containers and inspects each, then follows the events
 * stream (type container; start, die, destroy, update), inspecting a
 * container again on start and update. When the engine goes away it
 * reconnects with back-off, doubling from DOCKER_BACKOFF_MIN_USEC to
 * DOCKER_BACKOFF_MAX_USEC, and lists again; it never gives up.
 *
 * HTTP is libcurl's (its multi interface driven by the caller's libevent
 * loop, the library loaded at run time): libevent 2.1's evhttp client
 * cannot connect to a unix socket.
 * The replies are parsed by dockerjson.c. It knows nothing of guards: it
 * reports up through the callbacks it is given, from the loop.
 */
#ifndef OOMGUARD_DOCKER_H
#define OOMGUARD_DOCKER_H

#include <event2/event.h>
#include <stdbool.h>

#include "dockerjson.h"

#define DOCKER_BACKOFF_MIN_USEC 250000ULL
#define DOCKER_BACKOFF_MAX_USEC 8000000ULL

struct docker_callbacks {
	/* A running container inspected: found by the list, started, or
	 * updated (docker update: c->memory_bytes may have changed). A
	 * container can be reported again without having gone in between
	 * (after a reconnect, or a start the list already saw). */
	void (*seen)(const struct dockerjson_container *c, void *arg);
	/* A container stopped (die) or was removed (destroy); name may be "". */
	void (*gone)(const char *id, const char *name, void *arg);
	/* The engine answered (up, why "") or was lost or could not be
	 * reached (why says what failed and that a reconnect follows).
	 * Called on each change, and on the first failure to reach it. */
	void (*engine)(bool up, const char *why, void *arg);
	void *arg;
};

struct docker;

/* A client of the engine at socket_path on base; nothing is sent before
 * docker_start(). libcurl (libcurl.so.4) is loaded by the first call.
 * Return NULL with errno set and what failed in err: ELIBACC when
 * libcurl cannot be loaded, ENOMEM. */
struct docker *docker_new(struct event_base *base, const char *socket_path,
    const struct docker_callbacks *cb, char *err, size_t errlen);

/* List, inspect, and follow the events. Return 0: a failure, even to
 * queue the first request, is reported through the engine callback and
 * retried. */
int docker_start(struct docker *d);

/* Stop every request and free d (NULL is fine), never from one of its
 * callbacks. No callback runs after. */
void docker_free(struct docker *d);

#endif
