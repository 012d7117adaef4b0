/*
 * metrics_serve.c: the metrics endpoint alone, for trying a client or a
 * scraper against it without a cgroup: one made-up guard whose gc
 * requests count up every 100 ms. metrics_serve ADDRESS SECONDS serves
 * for SECONDS, then prints the count it reached and exits.
 */
#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

static struct stats st;

static int
provide(void *arg, size_t i, struct metrics_guard *g)
{
	(void)arg;
	if (i > 0)
		return -ENOENT;
	memset(g, 0, sizeof(*g));
	g->cgroup = "/og-serve";
	g->name = "serve";
	g->metric = "workingset";
	g->stats = &st;
	g->limit_bytes = 256ULL << 20;
	g->usage_bytes = g->metric_bytes = 100ULL << 20;
	for (int k = 0; k < METRICS_NLEVELS; k++)
		g->level_bytes[k] = UINT64_MAX;
	return 0;
}

static void
tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	st.gc_requests++;
	stats_observe(&st.sample_usec, 40);
}

int
main(int argc, char **argv)
{
	struct metrics_provider p = { provide, NULL };
	struct listen_address a;
	struct event_base *base = event_base_new();
	struct metrics *m;
	struct event *t;
	struct timeval every = { 0, 100000 }, end = { 0, 0 };
	char err[128];
	int r;

	if (argc != 3 || listen_parse(argv[1], &a, err, sizeof(err)) < 0) {
		fprintf(stderr, "usage: metrics_serve ADDRESS SECONDS\n");
		return 64;
	}
	signal(SIGPIPE, SIG_IGN);
	r = metrics_start(base, &a, &p, &m);
	if (r < 0) {
		fprintf(stderr, "metrics_serve: %s: %s\n", argv[1], strerror(-r));
		return 1;
	}
	t = event_new(base, -1, EV_PERSIST, tick, NULL);
	event_add(t, &every);
	end.tv_sec = atoi(argv[2]);
	event_base_loopexit(base, &end);
	event_base_dispatch(base);
	printf("%llu\n", (unsigned long long)st.gc_requests);
	metrics_stop(m);
	event_free(t);
	event_base_free(base);
	return 0;
}
