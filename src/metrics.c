/*
 * metrics.c: the metrics endpoint: what each metric means and how the
 * guards' snapshots become the text format and /status's JSON (pure),
 * then the server around them (evhttp on the loop's event base).
 */
#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "expo.h"
#include "metrics.h"

static const char *const level_names[METRICS_NLEVELS] = { "gc", "restart", "kill", "rearm" };
static const char *const stage_names[METRICS_NSTAGES] = { "none", "gc", "restart", "kill" };
static const char *const action_names[METRICS_NACTIONS] = { "gc", "restart", "kill", "rescue" };
static const char *const event_names[METRICS_NEVENTS] = { "low", "high", "max", "oom", "oom_kill",
	"oom_group_kill" };

const char *
metrics_level_name(enum metrics_level l)
{
	return level_names[l];
}

const char *
metrics_stage_name(enum metrics_stage s)
{
	return stage_names[s];
}

const char *
metrics_action_name(enum metrics_action a)
{
	return action_names[a];
}

/* The counters of struct stats, as families of their own. */
static const struct {
	const char *name;
	size_t offset;
	const char *help;
} counters[] = {
	{ "oomguard_gc_requests_total", offsetof(struct stats, gc_requests),
	    "gc requests sent to the app (logged only in a dry run)" },
	{ "oomguard_restarts_total", offsetof(struct stats, restarts),
	    "restart signals sent to the app" },
	{ "oomguard_kills_total", offsetof(struct stats, kills),
	    "SIGKILLs sent by the kill level or by a rescue" },
	{ "oomguard_rescues_total", offsetof(struct stats, rescues),
	    "frozen cgroups rescued with the reserve" },
	{ "oomguard_kernel_oom_kills_total", offsetof(struct stats, kernel_oom_kills),
	    "OOM kills by the kernel in the watched cgroup" },
	{ "oomguard_app_starts_total", offsetof(struct stats, app_starts),
	    "starts of the app (entrypoint), or new targets seen (sidecar)" },
};

/* The most labels a guard's series carry besides a family's own. */
#define GUARD_LABELS_MAX 3

/* The labels of guard g: cgroup, and name and pod when known. */
static size_t
guard_labels(const struct metrics_guard *g, struct expo_label *l)
{
	size_t n = 0;

	l[n++] = (struct expo_label){ "cgroup", g->cgroup != NULL ? g->cgroup : "" };
	if (g->name != NULL && g->name[0] != '\0')
		l[n++] = (struct expo_label){ "name", g->name };
	if (g->pod != NULL && g->pod[0] != '\0')
		l[n++] = (struct expo_label){ "pod", g->pod };
	return n;
}

/* The series name of guard g, its labels in l. */
static struct expo_series
guard_series(const struct metrics_guard *g, const char *name, struct expo_label *l,
    const struct expo_label *extra)
{
	struct expo_series s = { name, l, 0, extra };

	s.nlabels = guard_labels(g, l);
	return s;
}

/* One family of gauges, one series per guard: value(g) or skipped when
 * has(g) is false. */
typedef bool (*guard_value_fn)(const struct metrics_guard *g, uint64_t *ret);

static int
render_gauge(struct evbuffer *out, const struct metrics_guard *g, size_t n, const char *name,
    const char *help, guard_value_fn value)
{
	struct expo_label l[GUARD_LABELS_MAX];
	uint64_t v;

	if (expo_family(out, name, EXPO_GAUGE, help) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct expo_series s = guard_series(&g[i], name, l, NULL);

		if (value(&g[i], &v) && expo_uint(out, &s, v) < 0)
			return -ENOMEM;
	}
	return 0;
}

static bool
value_limit(const struct metrics_guard *g, uint64_t *ret)
{
	*ret = g->limit_bytes;
	return g->limit_bytes != 0;
}

static bool
value_usage(const struct metrics_guard *g, uint64_t *ret)
{
	*ret = g->usage_bytes;
	return true;
}

static bool
value_metric(const struct metrics_guard *g, uint64_t *ret)
{
	*ret = g->metric_bytes;
	return true;
}

static bool
value_live(const struct metrics_guard *g, uint64_t *ret)
{
	*ret = g->stats->live_bytes_estimate;
	return *ret != 0;
}

/* A family whose series carry one more label, key=names[k] for k < nk;
 * value(g, k, &v) says whether that series exists. */
typedef bool (*guard_kind_fn)(const struct metrics_guard *g, size_t k, uint64_t *ret);

static int
render_kinds(struct evbuffer *out, const struct metrics_guard *g, size_t n, const char *name,
    enum expo_type type, const char *help, const char *key, const char *const *names, size_t nk,
    guard_kind_fn value)
{
	struct expo_label l[GUARD_LABELS_MAX];
	uint64_t v;

	if (expo_family(out, name, type, help) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < nk; k++) {
			struct expo_label extra = { key, names[k] };
			struct expo_series s = guard_series(&g[i], name, l, &extra);

			if (value(&g[i], k, &v) && expo_uint(out, &s, v) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

static bool
kind_level(const struct metrics_guard *g, size_t k, uint64_t *ret)
{
	*ret = g->level_bytes[k];
	return *ret != UINT64_MAX;
}

static bool
kind_stage(const struct metrics_guard *g, size_t k, uint64_t *ret)
{
	*ret = g->stage == (enum metrics_stage)k;
	return true;
}

static bool
kind_event(const struct metrics_guard *g, size_t k, uint64_t *ret)
{
	*ret = g->events[k];
	return g->has_events;
}

static int
render_counters(struct evbuffer *out, const struct metrics_guard *g, size_t n)
{
	struct expo_label l[GUARD_LABELS_MAX];

	for (size_t c = 0; c < sizeof(counters) / sizeof(counters[0]); c++) {
		if (expo_family(out, counters[c].name, EXPO_COUNTER, counters[c].help) < 0)
			return -ENOMEM;
		for (size_t i = 0; i < n; i++) {
			struct expo_series s = guard_series(&g[i], counters[c].name, l, NULL);
			const uint64_t *v =
			    (const uint64_t *)((const char *)g[i].stats + counters[c].offset);

			if (expo_uint(out, &s, *v) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

/* Seconds: the PSI totals (counters) and the last actions' times
 * (gauges). */
static int
render_seconds(struct evbuffer *out, const struct metrics_guard *g, size_t n)
{
	struct expo_label l[GUARD_LABELS_MAX];

	if (expo_family(out, "oomguard_memory_pressure_some_seconds_total", EXPO_COUNTER,
	        "time some task of the cgroup stalled on memory (PSI)") < 0)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct expo_series s =
		    guard_series(&g[i], "oomguard_memory_pressure_some_seconds_total", l, NULL);

		if (g[i].has_psi && expo_seconds(out, &s, g[i].psi_some_usec) < 0)
			return -ENOMEM;
	}
	if (expo_family(out, "oomguard_memory_pressure_full_seconds_total", EXPO_COUNTER,
	        "time every task of the cgroup stalled on memory at once (PSI)") < 0)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct expo_series s =
		    guard_series(&g[i], "oomguard_memory_pressure_full_seconds_total", l, NULL);

		if (g[i].has_psi_full && expo_seconds(out, &s, g[i].psi_full_usec) < 0)
			return -ENOMEM;
	}
	if (expo_family(out, "oomguard_last_action_timestamp_seconds", EXPO_GAUGE,
	        "when each action was last taken (Unix time)") < 0)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		for (size_t a = 0; a < METRICS_NACTIONS; a++) {
			struct expo_label extra = { "action", action_names[a] };
			struct expo_series s = guard_series(
			    &g[i], "oomguard_last_action_timestamp_seconds", l, &extra);

			if (g[i].last_usec[a] != 0 && expo_seconds(out, &s, g[i].last_usec[a]) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

static int
render_histograms(struct evbuffer *out, const struct metrics_guard *g, size_t n)
{
	static const struct {
		const char *name, *help;
		size_t offset;
	} hists[] = {
		{ "oomguard_sample_duration_seconds", "how long a sample took, read to act",
		    offsetof(struct stats, sample_usec) },
		{ "oomguard_reaction_duration_seconds",
		    "from the sample that found a level to the signal sent",
		    offsetof(struct stats, reaction_usec) },
	};
	struct expo_label l[GUARD_LABELS_MAX];

	for (size_t h = 0; h < sizeof(hists) / sizeof(hists[0]); h++) {
		if (expo_family(out, hists[h].name, EXPO_HISTOGRAM, hists[h].help) < 0)
			return -ENOMEM;
		for (size_t i = 0; i < n; i++) {
			struct expo_series s = guard_series(&g[i], hists[h].name, l, NULL);
			const struct stats_hist *hist =
			    (const void *)((const char *)g[i].stats + hists[h].offset);

			if (expo_histogram(out, &s, hist) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

int
metrics_render(struct evbuffer *out, const struct metrics_guard *g, size_t n)
{
	const struct expo_label version = { "version", OOMGUARD_VERSION };
	const struct expo_series info = { "oomguard_build_info", NULL, 0, &version };

	if (expo_family(out, "oomguard_build_info", EXPO_GAUGE, "oomguard's version") < 0 ||
	    expo_uint(out, &info, 1) < 0 ||
	    render_gauge(out, g, n, "oomguard_memory_limit_bytes",
	        "the limit the levels count from (none: no series)", value_limit) < 0 ||
	    render_gauge(out, g, n, "oomguard_memory_usage_bytes", "the cgroup's memory usage",
	        value_usage) < 0 ||
	    render_gauge(out, g, n, "oomguard_memory_metric_bytes",
	        "the metric compared with the levels ([watch] metric)", value_metric) < 0 ||
	    render_kinds(out, g, n, "oomguard_level_bytes", EXPO_GAUGE,
	        "each armed level for the limit", "level", level_names, METRICS_NLEVELS,
	        kind_level) < 0 ||
	    render_gauge(out, g, n, "oomguard_live_bytes_estimate",
	        "the app's live set: the metric's low point after the last gc request that took "
	        "effect",
	        value_live) < 0 ||
	    render_kinds(out, g, n, "oomguard_episode_stage", EXPO_GAUGE,
	        "the strongest step of the episode under way (1 for the current stage)", "stage",
	        stage_names, METRICS_NSTAGES, kind_stage) < 0 ||
	    render_counters(out, g, n) < 0 ||
	    render_kinds(out, g, n, "oomguard_memory_events_total", EXPO_COUNTER,
	        "cgroup v2 memory.events, by kind", "kind", event_names, METRICS_NEVENTS,
	        kind_event) < 0 ||
	    render_seconds(out, g, n) < 0 || render_histograms(out, g, n) < 0)
		return -ENOMEM;
	return 0;
}

/* A JSON string of s, each byte that is not part of valid UTF-8 written
 * as U+FFFD (jansson refuses invalid UTF-8). NULL when out of memory. */
static json_t *
json_text(const char *s)
{
	json_t *j = json_string(s);
	char *clean, *w;

	if (j != NULL)
		return j;
	clean = malloc(strlen(s) * 3 + 1);
	if (clean == NULL)
		return NULL;
	for (w = clean; *s != '\0';) {
		size_t n = expo_utf8_length(s);

		if (n == 0) {
			memcpy(w, "\xEF\xBF\xBD", 3);
			w += 3;
			s++;
		} else {
			memcpy(w, s, n);
			w += n;
			s += n;
		}
	}
	*w = '\0';
	j = json_string(clean);
	free(clean);
	return j;
}

static json_t *
guard_json(const struct metrics_guard *g)
{
	json_t *o = json_object(), *levels = json_object(), *counts = json_object(),
	       *last = json_object();
	const struct stats *st = g->stats;

	if (o == NULL || levels == NULL || counts == NULL || last == NULL) {
		json_decref(o);
		json_decref(levels);
		json_decref(counts);
		json_decref(last);
		return NULL;
	}
	for (size_t k = 0; k < METRICS_NLEVELS; k++)
		json_object_set_new(levels, level_names[k],
		    g->level_bytes[k] == UINT64_MAX ? json_null()
		                                    : json_integer((json_int_t)g->level_bytes[k]));
	json_object_set_new(counts, "gc_requests", json_integer((json_int_t)st->gc_requests));
	json_object_set_new(counts, "restarts", json_integer((json_int_t)st->restarts));
	json_object_set_new(counts, "kills", json_integer((json_int_t)st->kills));
	json_object_set_new(counts, "rescues", json_integer((json_int_t)st->rescues));
	json_object_set_new(
	    counts, "kernel_oom_kills", json_integer((json_int_t)st->kernel_oom_kills));
	json_object_set_new(counts, "app_starts", json_integer((json_int_t)st->app_starts));
	for (size_t a = 0; a < METRICS_NACTIONS; a++)
		json_object_set_new(last, action_names[a],
		    g->last_usec[a] == 0 ? json_null() : json_real((double)g->last_usec[a] / 1e6));
	json_object_set_new(o, "cgroup", json_text(g->cgroup != NULL ? g->cgroup : ""));
	json_object_set_new(o, "name", g->name != NULL ? json_text(g->name) : json_null());
	json_object_set_new(o, "pod", g->pod != NULL ? json_text(g->pod) : json_null());
	json_object_set_new(o, "metric", json_string(g->metric != NULL ? g->metric : ""));
	json_object_set_new(o, "limit_bytes", json_integer((json_int_t)g->limit_bytes));
	json_object_set_new(o, "usage_bytes", json_integer((json_int_t)g->usage_bytes));
	json_object_set_new(o, "metric_bytes", json_integer((json_int_t)g->metric_bytes));
	json_object_set_new(
	    o, "live_bytes_estimate", json_integer((json_int_t)st->live_bytes_estimate));
	json_object_set_new(o, "stage", json_string(stage_names[g->stage]));
	json_object_set_new(o, "levels", levels);
	json_object_set_new(o, "counts", counts);
	json_object_set_new(o, "last", last);
	return o;
}

json_t *
metrics_status_json(const struct metrics_guard *g, size_t n, long pid)
{
	json_t *root = json_object(), *guards = json_array();

	if (root == NULL || guards == NULL) {
		json_decref(root);
		json_decref(guards);
		return NULL;
	}
	json_object_set_new(root, "version", json_string(OOMGUARD_VERSION));
	json_object_set_new(root, "pid", json_integer(pid));
	json_object_set_new(root, "guards", guards);
	for (size_t i = 0; i < n; i++) {
		json_t *o = guard_json(&g[i]);

		if (o == NULL || json_array_append_new(guards, o) < 0) {
			json_decref(root);
			return NULL;
		}
	}
	return root;
}

/* The server. */

/* A connection as this module tracks it: the bufferevent it made for
 * evhttp, held by one reference of ours so that it can be looked at after
 * evhttp freed it (its callbacks are then NULL). */
struct metrics_conn {
	struct bufferevent *bev; /* NULL: a free slot */
	uint64_t deadline_usec;
	bool shut;
};

struct metrics {
	struct event_base *base;
	struct evhttp *http;
	struct evconnlistener *listener;
	struct listen_address addr;
	struct metrics_provider provider;
	struct event *sweep;
	struct metrics_conn conn[METRICS_CONN_MAX];
	unsigned nconn;
	bool paused; /* the listener disabled at the cap */
};

/* How often the connections are looked at while any is open. */
#define SWEEP_USEC 100000

static uint64_t
now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void
sweep_arm(struct metrics *m)
{
	const struct timeval tv = { 0, SWEEP_USEC };

	if (!evtimer_pending(m->sweep, NULL))
		evtimer_add(m->sweep, &tv);
}

/* Forget the connections evhttp has freed, shut those past their
 * deadline down (evhttp then reads the end and frees them), and accept
 * again below the cap. */
static void
sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct metrics *m = arg;
	uint64_t now = now_usec();

	(void)fd;
	(void)what;
	for (unsigned i = 0; i < METRICS_CONN_MAX; i++) {
		struct metrics_conn *c = &m->conn[i];
		bufferevent_data_cb readcb;
		bufferevent_event_cb eventcb;

		if (c->bev == NULL)
			continue;
		bufferevent_getcb(c->bev, &readcb, NULL, &eventcb, NULL);
		if (readcb == NULL && eventcb == NULL) {
			bufferevent_decref(c->bev);
			*c = (struct metrics_conn){ 0 };
			m->nconn--;
		} else if (now >= c->deadline_usec && !c->shut) {
			shutdown(bufferevent_getfd(c->bev), SHUT_RDWR);
			c->shut = true;
		}
	}
	if (m->paused && m->nconn < METRICS_CONN_MAX && evconnlistener_enable(m->listener) == 0)
		m->paused = false;
	if (m->nconn > 0)
		sweep_arm(m);
}

/* evhttp's hook for a new connection's bufferevent: the connection is
 * counted here, and the listener paused at the cap. */
static struct bufferevent *
conn_new(struct event_base *base, void *arg)
{
	struct metrics *m = arg;
	struct bufferevent *bev;
	unsigned i;

	for (i = 0; i < METRICS_CONN_MAX && m->conn[i].bev != NULL; i++)
		;
	if (i == METRICS_CONN_MAX)
		return NULL;
	bev = bufferevent_socket_new(base, -1, 0);
	if (bev == NULL)
		return NULL;
	bufferevent_incref(bev);
	m->conn[i] = (struct metrics_conn){ bev, now_usec() + METRICS_CONN_USEC, false };
	if (++m->nconn == METRICS_CONN_MAX && evconnlistener_disable(m->listener) == 0)
		m->paused = true;
	sweep_arm(m);
	return bev;
}

/* The guards' snapshots, in an array to be freed; NULL with *ret_n 0
 * when there is none, or when out of memory (-ENOMEM in *ret_err). */
static struct metrics_guard *
snapshots(struct metrics *m, size_t *ret_n, int *ret_err)
{
	struct metrics_guard g, *all;
	size_t n = 0;

	*ret_err = 0;
	while (n < METRICS_GUARDS_MAX && m->provider.guard(m->provider.arg, n, &g) == 0)
		n++;
	*ret_n = 0;
	if (n == 0)
		return NULL;
	all = calloc(n, sizeof(*all));
	if (all == NULL) {
		*ret_err = -ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		if (m->provider.guard(m->provider.arg, i, &all[i]) < 0)
			n = i;
	*ret_n = n;
	return all;
}

static void
reply(struct evhttp_request *req, int code, const char *reason, const char *type,
    struct evbuffer *body)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Content-Type", type);
	/* One request a connection: an idle keep-alive connection would
	 * hold one of the few slots. */
	evhttp_add_header(h, "Connection", "close");
	evhttp_send_reply(req, code, reason, body);
}

static void
serve_error(struct evhttp_request *req, int code, const char *reason)
{
	struct evbuffer *b = evbuffer_new();

	if (b != NULL)
		evbuffer_add_printf(b, "%s\n", reason);
	reply(req, code, reason, "text/plain; charset=utf-8", b);
	if (b != NULL)
		evbuffer_free(b);
}

static void
serve_metrics(struct evhttp_request *req, void *arg)
{
	struct metrics *m = arg;
	struct evbuffer *b = evbuffer_new();
	size_t n;
	int err;
	struct metrics_guard *g = snapshots(m, &n, &err);

	if (b == NULL || err < 0 || metrics_render(b, g, n) < 0)
		serve_error(req, 500, "Internal Server Error");
	else
		reply(req, 200, "OK", EXPO_CONTENT_TYPE, b);
	free(g);
	if (b != NULL)
		evbuffer_free(b);
}

static void
serve_status(struct evhttp_request *req, void *arg)
{
	struct metrics *m = arg;
	struct evbuffer *b = evbuffer_new();
	size_t n;
	int err;
	struct metrics_guard *g = snapshots(m, &n, &err);
	json_t *j = err < 0 ? NULL : metrics_status_json(g, n, (long)getpid());
	char *text = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;

	if (b == NULL || text == NULL || evbuffer_add_printf(b, "%s\n", text) < 0)
		serve_error(req, 500, "Internal Server Error");
	else
		reply(req, 200, "OK", "application/json", b);
	free(text);
	json_decref(j);
	free(g);
	if (b != NULL)
		evbuffer_free(b);
}

static void
serve_healthz(struct evhttp_request *req, void *arg)
{
	struct evbuffer *b = evbuffer_new();

	(void)arg;
	if (b != NULL)
		evbuffer_add(b, "ok\n", 3);
	reply(req, 200, "OK", "text/plain; charset=utf-8", b);
	if (b != NULL)
		evbuffer_free(b);
}

static void
serve_other(struct evhttp_request *req, void *arg)
{
	(void)arg;
	serve_error(req, 404, "Not Found");
}

/* A listening socket for a, non-blocking and closed on exec. */
static int
listen_socket(const struct listen_address *a)
{
	const struct sockaddr_un *sun = (const struct sockaddr_un *)&a->sa;
	int fd, one = 1, r;
	struct stat st;

	if (a->family == AF_UNIX) {
		char dir[sizeof(sun->sun_path)];

		snprintf(dir, sizeof(dir), "%s", sun->sun_path);
		if (mkdir(dirname(dir), 0755) < 0 && errno != EEXIST)
			return -errno;
		if (lstat(sun->sun_path, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(sun->sun_path);
	}
	fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (a->family != AF_UNIX)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&a->sa, a->len) < 0 ||
	    listen(fd, METRICS_CONN_MAX) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

static int
server_setup(struct metrics *m, int fd)
{
	m->http = evhttp_new(m->base);
	m->sweep = evtimer_new(m->base, sweep_cb, m);
	if (m->http == NULL || m->sweep == NULL)
		return -ENOMEM;
	m->listener = evconnlistener_new(
	    m->base, NULL, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
	if (m->listener == NULL) {
		close(fd);
		return -ENOMEM;
	}
	if (evhttp_bind_listener(m->http, m->listener) == NULL) {
		evconnlistener_free(m->listener);
		return -ENOMEM;
	}
	evhttp_set_bevcb(m->http, conn_new, m);
	evhttp_set_max_headers_size(m->http, METRICS_HEADERS_MAX);
	evhttp_set_max_body_size(m->http, 0);
	evhttp_set_allowed_methods(m->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_timeout(m->http, METRICS_CONN_USEC / 1000000);
	if (evhttp_set_cb(m->http, "/metrics", serve_metrics, m) < 0 ||
	    evhttp_set_cb(m->http, "/status", serve_status, m) < 0 ||
	    evhttp_set_cb(m->http, "/healthz", serve_healthz, m) < 0)
		return -ENOMEM;
	evhttp_set_gencb(m->http, serve_other, m);
	return 0;
}

int
metrics_start(struct event_base *base, const struct listen_address *a,
    const struct metrics_provider *provider, struct metrics **ret)
{
	struct metrics *m = calloc(1, sizeof(*m));
	int fd, r;

	if (m == NULL)
		return -ENOMEM;
	m->base = base;
	m->addr = *a;
	m->provider = *provider;
	fd = listen_socket(a);
	if (fd < 0) {
		free(m);
		return fd;
	}
	r = server_setup(m, fd);
	if (r < 0) {
		metrics_stop(m);
		return r;
	}
	*ret = m;
	return 0;
}

void
metrics_stop(struct metrics *m)
{
	if (m == NULL)
		return;
	/* evhttp_free() closes the listener (bound to it) and frees every
	 * connection; the references of ours go after it. */
	if (m->http != NULL)
		evhttp_free(m->http);
	else if (m->listener != NULL)
		evconnlistener_free(m->listener);
	for (unsigned i = 0; i < METRICS_CONN_MAX; i++)
		if (m->conn[i].bev != NULL)
			bufferevent_decref(m->conn[i].bev);
	if (m->sweep != NULL)
		event_free(m->sweep);
	if (m->addr.family == AF_UNIX)
		unlink(((const struct sockaddr_un *)&m->addr.sa)->sun_path);
	free(m);
}

unsigned
metrics_connections(const struct metrics *m)
{
	return m->nconn;
}
