/*
 * metrics.h: the metrics endpoint. libevent's evhttp on the loop's own
 * event base serves GET /metrics (the Prometheus text format), GET
 * /healthz and GET /status (JSON, for `oomguard status`). It knows
 * nothing of the guards: a provider it is given fills one snapshot per
 * guard when a client asks, and this module writes them out.
 *
 * A client cannot hurt the loop: at most METRICS_CONN_MAX connections
 * at once (the listener stops accepting at the cap, and the rest wait in
 * the kernel's backlog, holding no descriptor or memory of ours), each
 * closed METRICS_CONN_USEC after it was accepted whatever it does,
 * headers of at most METRICS_HEADERS_MAX bytes, no body. A scrape is one
 * callback that runs to its end between two others of the loop, never
 * inside a sample; it allocates its answer and frees it once sent, so
 * that nothing on the rescue path waits for or allocates for it. The
 * caller ignores SIGPIPE (a client may leave before its answer is sent).
 */
#ifndef OOMGUARD_METRICS_H
#define OOMGUARD_METRICS_H

#include <event2/buffer.h>
#include <event2/event.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "listen.h"
#include "stats.h"

#define METRICS_CONN_MAX    16
#define METRICS_CONN_USEC   5000000 /* a connection's whole life */
#define METRICS_HEADERS_MAX 8192
#define METRICS_GUARDS_MAX  4096 /* guards shown in one answer */

enum metrics_level {
	METRICS_LEVEL_GC,
	METRICS_LEVEL_RESTART,
	METRICS_LEVEL_KILL,
	METRICS_LEVEL_REARM,
	METRICS_NLEVELS
};

/* The strongest step of the episode under way. */
enum metrics_stage {
	METRICS_STAGE_NONE,
	METRICS_STAGE_GC,
	METRICS_STAGE_RESTART,
	METRICS_STAGE_KILL,
	METRICS_NSTAGES
};

/* The actions whose last time is shown. */
enum metrics_action {
	METRICS_ACTION_GC,
	METRICS_ACTION_RESTART,
	METRICS_ACTION_KILL,
	METRICS_ACTION_RESCUE,
	METRICS_NACTIONS
};

/* cgroup v2's memory.events, by kind. */
enum metrics_event {
	METRICS_EVENT_LOW,
	METRICS_EVENT_HIGH,
	METRICS_EVENT_MAX,
	METRICS_EVENT_OOM,
	METRICS_EVENT_OOM_KILL,
	METRICS_EVENT_OOM_GROUP_KILL,
	METRICS_NEVENTS
};

/* What one guard shows. Strings and stats are the guard's own, read
 * while the scrape's callback runs. */
struct metrics_guard {
	const char *cgroup; /* the watched cgroup's path: label cgroup */
	const char *name;   /* its container, unit or pod, or NULL: label name */
	const char *pod;    /* the Kubernetes pod's UID, or NULL: label pod */
	const char *metric; /* the metric's kind: "workingset", ... */
	const struct stats *stats;
	uint64_t limit_bytes; /* 0: none */
	uint64_t usage_bytes;
	uint64_t metric_bytes;
	uint64_t level_bytes[METRICS_NLEVELS]; /* UINT64_MAX: off */
	enum metrics_stage stage;
	bool has_events; /* v2: events[] read from memory.events */
	uint64_t events[METRICS_NEVENTS];
	bool has_psi; /* memory.pressure's totals */
	bool has_psi_full;
	uint64_t psi_some_usec;
	uint64_t psi_full_usec;
	uint64_t last_usec[METRICS_NACTIONS]; /* wall clock (CLOCK_REALTIME); 0: never */
};

/* The source of the snapshots: guard(arg, i, ret) fills guard i's and
 * returns 0, or returns -ENOENT past the last guard. */
struct metrics_provider {
	int (*guard)(void *arg, size_t i, struct metrics_guard *ret);
	void *arg;
};

/* Write the guards' metrics in the text format, every family once, each
 * guard's series under it. Pure apart from the evbuffer. Return 0, or
 * -ENOMEM. */
int metrics_render(struct evbuffer *out, const struct metrics_guard *g, size_t n);

/* The guards as /status shows them: {"version", "pid", "guards": [...]}.
 * Return a new reference, or NULL when out of memory. */
json_t *metrics_status_json(const struct metrics_guard *g, size_t n, long pid);

/* The names the text and JSON use. */
const char *metrics_level_name(enum metrics_level l);
const char *metrics_stage_name(enum metrics_stage s);
const char *metrics_action_name(enum metrics_action a);

struct metrics;

/* Listen on a (not AF_UNSPEC) and serve on base; the provider is called
 * from base's loop only. A unix socket's file is replaced when it is a
 * socket, and its directory made when missing. Return 0 and set *ret,
 * or -errno (-EADDRINUSE, -EACCES, ...). */
int metrics_start(struct event_base *base, const struct listen_address *a,
    const struct metrics_provider *provider, struct metrics **ret);

/* Close every connection and the listener (a unix socket's file
 * removed), and free m. NULL is allowed. */
void metrics_stop(struct metrics *m);

/* The connections open now, for the tests. */
unsigned metrics_connections(const struct metrics *m);

#endif
