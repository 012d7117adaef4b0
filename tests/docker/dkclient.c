/*
 * dkclient.c: the Engine client (src/docker.c) on its own, for the tests
 * against the real engine (tests/docker/test_client.sh): each callback is
 * one line on stdout.
 *   up
 *   down WHY
 *   seen ID NAME pid=PID memory=BYTES oom_kill_disable=0|1 labels=N
 *   gone ID NAME
 * Usage: dkclient SOCKET; SIGTERM or SIGINT ends it.
 */
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "docker.h"

static void
on_seen(const struct dockerjson_container *c, void *arg)
{
	(void)arg;
	printf("seen %s %s pid=%d memory=%llu oom_kill_disable=%d labels=%zu\n", c->id, c->name,
	    c->pid, (unsigned long long)c->memory_bytes, c->oom_kill_disable, c->nlabels);
	fflush(stdout);
}

static void
on_gone(const char *id, const char *name, void *arg)
{
	(void)arg;
	printf("gone %s %s\n", id, name);
	fflush(stdout);
}

static void
on_engine(bool up, const char *why, void *arg)
{
	(void)arg;
	if (up)
		printf("up\n");
	else
		printf("down %s\n", why);
	fflush(stdout);
}

static void
on_signal(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopexit(arg, NULL);
}

int
main(int argc, char **argv)
{
	struct docker_callbacks cb = { on_seen, on_gone, on_engine, NULL };
	struct event_base *base = event_base_new();
	struct event *term, *intr;
	struct docker *d;
	char err[256];

	if (argc != 2 || base == NULL) {
		fprintf(stderr, "usage: dkclient SOCKET\n");
		return 2;
	}
	d = docker_new(base, argv[1], &cb, err, sizeof(err));
	term = evsignal_new(base, SIGTERM, on_signal, base);
	intr = evsignal_new(base, SIGINT, on_signal, base);
	if (d == NULL || term == NULL || intr == NULL || evsignal_add(term, NULL) < 0 ||
	    evsignal_add(intr, NULL) < 0) {
		fprintf(stderr, "dkclient: cannot start: %s\n", d == NULL ? err : "no signals");
		return 1;
	}
	docker_start(d);
	event_base_dispatch(base);
	docker_free(d);
	event_free(term);
	event_free(intr);
	event_base_free(base);
	return 0;
}
