/*
 * docker.c: the Engine client. libcurl's multi interface is driven from
 * libevent: curl names the sockets and the timeout it wants watched
 * (socket_cb, timer_cb), the loop tells it what is ready (event_cb,
 * timeout_cb), and finished transfers are collected after each call
 * (collect). Nothing is started from inside a libcurl callback, which
 * libcurl forbids: an events message is queued there and handled after.
 *
 * The session: the list, then one inspection per listed container, then
 * the events stream from just before the list (so that nothing between
 * the two is missed; a start seen twice is reported twice). The stream's
 * end, or a failed list, loses the engine: back-off, then a new session.
 */
#include <curl/curl.h>
#include <dlfcn.h>
#include <stddef.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "docker.h"
#include "log.h"

/* libcurl is loaded when a client is made (docker_new()), not linked:
 * oomguard locks its memory (mlockall), and libcurl with the libraries
 * it needs (TLS, LDAP, Kerberos, ...) would add some 16 MiB of locked
 * pages to every oomguard, guarding a Docker host or not. */
#define CURL_LIBRARY "libcurl.so.4"

static struct {
	CURLcode (*global_init)(long);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	void (*easy_cleanup)(CURL *);
	const char *(*easy_strerror)(CURLcode);
	char *(*easy_escape)(CURL *, const char *, int);
	void (*free)(void *);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_setopt)(CURLM *, CURLMoption, ...);
	CURLMcode (*multi_add_handle)(CURLM *, CURL *);
	CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
	CURLMcode (*multi_assign)(CURLM *, curl_socket_t, void *);
	CURLMcode (*multi_socket_action)(CURLM *, curl_socket_t, int, int *);
	CURLMsg *(*multi_info_read)(CURLM *, int *);
	CURLMcode (*multi_cleanup)(CURLM *);
} cu;

/* Load libcurl once. Return 0, or -ELIBACC with dlerror()'s text in err. */
static int
curl_load(char *err, size_t errlen)
{
	static const struct {
		const char *name;
		size_t offset;
	} syms[] = {
#define SYM(field, name) { name, offsetof(__typeof__(cu), field) }
		SYM(global_init, "curl_global_init"),
		SYM(easy_init, "curl_easy_init"),
		SYM(easy_setopt, "curl_easy_setopt"),
		SYM(easy_getinfo, "curl_easy_getinfo"),
		SYM(easy_cleanup, "curl_easy_cleanup"),
		SYM(easy_strerror, "curl_easy_strerror"),
		SYM(easy_escape, "curl_easy_escape"),
		SYM(free, "curl_free"),
		SYM(multi_init, "curl_multi_init"),
		SYM(multi_setopt, "curl_multi_setopt"),
		SYM(multi_add_handle, "curl_multi_add_handle"),
		SYM(multi_remove_handle, "curl_multi_remove_handle"),
		SYM(multi_assign, "curl_multi_assign"),
		SYM(multi_socket_action, "curl_multi_socket_action"),
		SYM(multi_info_read, "curl_multi_info_read"),
		SYM(multi_cleanup, "curl_multi_cleanup"),
#undef SYM
	};
	static void *lib;

	if (lib != NULL)
		return 0;
	lib = dlopen(CURL_LIBRARY, RTLD_NOW | RTLD_LOCAL);
	for (size_t i = 0; lib != NULL && i < sizeof(syms) / sizeof(syms[0]); i++) {
		void *f = dlsym(lib, syms[i].name);

		if (f == NULL) {
			dlclose(lib);
			lib = NULL;
			break;
		}
		memcpy((char *)&cu + syms[i].offset, &f, sizeof(f));
	}
	if (lib == NULL) {
		snprintf(err, errlen, "%s", dlerror());
		return -ELIBACC;
	}
	return cu.global_init(CURL_GLOBAL_NOTHING) == CURLE_OK ? 0 : -ENOMEM;
}

/* The largest replies kept: a list of every container of a large host,
 * one inspection, one events message. Larger ones fail the request. */
#define LIST_MAX_BYTES       (16u << 20)
#define INSPECT_MAX_BYTES    (4u << 20)
#define EVENT_MAX_BYTES      (1u << 20)
#define REQUEST_TIMEOUT_MSEC 10000L

enum req_kind { REQ_LIST, REQ_INSPECT, REQ_EVENTS };

struct req {
	struct docker *d;
	CURL *easy;
	enum req_kind kind;
	char *buf; /* the reply, or the events not yet handled */
	size_t len, cap, max;
	bool overflow;
	char id[DOCKERJSON_ID_MAX]; /* REQ_INSPECT */
	char errbuf[CURL_ERROR_SIZE];
	struct req *next;
};

struct docker {
	struct event_base *base;
	char socket_path[108];
	struct docker_callbacks cb;
	CURLM *multi;
	struct event *timer; /* libcurl's timeout */
	struct event *retry; /* the next session, after back-off */
	struct req *reqs;    /* every request in flight */
	struct req *events;  /* the stream, once started */
	uint64_t backoff_usec;
	time_t since; /* the events stream starts here */
	bool up, down_reported;
	unsigned pending; /* inspections of the list still running */
};

static struct req *
req_new(struct docker *d, enum req_kind kind, const char *path, size_t max)
{
	struct req *r = calloc(1, sizeof(*r));
	char url[1024];

	if (r == NULL)
		return NULL;
	r->easy = cu.easy_init();
	if (r->easy == NULL) {
		free(r);
		return NULL;
	}
	r->d = d;
	r->kind = kind;
	r->max = max;
	snprintf(url, sizeof(url), "http://docker%s", path);
	cu.easy_setopt(r->easy, CURLOPT_UNIX_SOCKET_PATH, d->socket_path);
	cu.easy_setopt(r->easy, CURLOPT_URL, url);
	cu.easy_setopt(r->easy, CURLOPT_PRIVATE, r);
	cu.easy_setopt(r->easy, CURLOPT_ERRORBUFFER, r->errbuf);
	cu.easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
	cu.easy_setopt(r->easy, CURLOPT_PROTOCOLS_STR, "http");
	cu.easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT_MS, REQUEST_TIMEOUT_MSEC);
	if (kind != REQ_EVENTS)
		cu.easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, REQUEST_TIMEOUT_MSEC);
	return r;
}

static void
req_destroy(struct req *r)
{
	if (r->d->events == r)
		r->d->events = NULL;
	cu.multi_remove_handle(r->d->multi, r->easy);
	cu.easy_cleanup(r->easy);
	free(r->buf);
	free(r);
}

/* Every request in flight stopped and freed. */
static void
req_free_all(struct docker *d)
{
	struct req *r = d->reqs, *next;

	d->reqs = NULL;
	for (; r != NULL; r = next) {
		next = r->next;
		req_destroy(r);
	}
}

static void
req_free(struct req *r)
{
	struct req **p;

	for (p = &r->d->reqs; *p != NULL; p = &(*p)->next) {
		if (*p == r) {
			*p = r->next;
			break;
		}
	}
	req_destroy(r);
}

static size_t
write_cb(char *data, size_t size, size_t n, void *arg)
{
	struct req *r = arg;
	size_t add = size * n;

	if (r->len + add > r->max) {
		r->overflow = true;
		return 0; /* ends the transfer with CURLE_WRITE_ERROR */
	}
	if (r->len + add + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : 4096;
		char *buf;

		while (cap < r->len + add + 1)
			cap *= 2;
		buf = realloc(r->buf, cap);
		if (buf == NULL)
			return 0;
		r->buf = buf;
		r->cap = cap;
	}
	memcpy(r->buf + r->len, data, add);
	r->len += add;
	r->buf[r->len] = '\0';
	return add;
}

static int
req_start(struct req *r)
{
	cu.easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, write_cb);
	cu.easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
	if (cu.multi_add_handle(r->d->multi, r->easy) != CURLM_OK) {
		cu.easy_cleanup(r->easy);
		free(r);
		return -ENOMEM;
	}
	r->next = r->d->reqs;
	r->d->reqs = r;
	return 0;
}

static void session_start(struct docker *d);

/* The engine is lost (or was never reached): every request of the
 * session dropped, the engine callback told once, a new session after
 * the back-off. */
static void
engine_lost(struct docker *d, const char *what)
{
	char why[512];
	struct timeval tv;

	req_free_all(d);
	d->pending = 0;
	snprintf(why, sizeof(why), "%s; reconnecting in %llums", what,
	    (unsigned long long)(d->backoff_usec / 1000));
	if (d->up || !d->down_reported)
		d->cb.engine(false, why, d->cb.arg);
	d->up = false;
	d->down_reported = true;
	tv.tv_sec = (time_t)(d->backoff_usec / 1000000);
	tv.tv_usec = (suseconds_t)(d->backoff_usec % 1000000);
	evtimer_add(d->retry, &tv);
	d->backoff_usec *= 2;
	if (d->backoff_usec > DOCKER_BACKOFF_MAX_USEC)
		d->backoff_usec = DOCKER_BACKOFF_MAX_USEC;
}

static int
inspect_start(struct docker *d, const char *id)
{
	char path[128];
	struct req *r;

	snprintf(path, sizeof(path), "/containers/%s/json", id);
	r = req_new(d, REQ_INSPECT, path, INSPECT_MAX_BYTES);
	if (r == NULL)
		return -ENOMEM;
	snprintf(r->id, sizeof(r->id), "%s", id);
	return req_start(r);
}

static int
events_start(struct docker *d)
{
	static const char filters[] = "{\"type\":[\"container\"],"
	                              "\"event\":[\"start\",\"die\",\"destroy\",\"update\"]}";
	char *esc = cu.easy_escape(NULL, filters, 0), path[512];
	struct req *r;

	if (esc == NULL)
		return -ENOMEM;
	snprintf(path, sizeof(path), "/events?since=%lld&filters=%s", (long long)d->since, esc);
	cu.free(esc);
	r = req_new(d, REQ_EVENTS, path, EVENT_MAX_BYTES);
	if (r == NULL || req_start(r) < 0)
		return -ENOMEM;
	d->events = r;
	return 0;
}

static void
list_done(struct docker *d, struct req *r)
{
	struct dockerjson_container *v = NULL;
	char err[DOCKERJSON_ERR_MAX], what[DOCKERJSON_ERR_MAX + 64];
	size_t n = 0;

	if (dockerjson_list(r->buf ? r->buf : "", r->len, &v, &n, err, sizeof(err)) < 0) {
		snprintf(what, sizeof(what), "cannot read the container list: %s", err);
		req_free(r);
		engine_lost(d, what);
		return;
	}
	req_free(r);
	d->up = true;
	d->down_reported = false;
	d->backoff_usec = DOCKER_BACKOFF_MIN_USEC;
	d->cb.engine(true, "", d->cb.arg);
	for (size_t i = 0; i < n; i++) {
		if (v[i].running && inspect_start(d, v[i].id) == 0)
			d->pending++;
	}
	free(v);
	if (d->pending == 0 && events_start(d) < 0)
		engine_lost(d, "cannot follow the events: out of memory");
}

static void
inspect_done(struct docker *d, struct req *r, long status)
{
	struct dockerjson_container *c = malloc(sizeof(*c));
	char err[DOCKERJSON_ERR_MAX];
	bool of_list = d->events == NULL;

	/* 404: the container went before it was inspected; its die and
	 * destroy events follow. */
	if (c != NULL && status == 200) {
		if (dockerjson_inspect(r->buf ? r->buf : "", r->len, c, err, sizeof(err)) < 0)
			log_debug(
			    "docker: container %s: cannot read its inspection: %s", r->id, err);
		else if (c->running)
			d->cb.seen(c, d->cb.arg);
	}
	free(c);
	req_free(r);
	if (of_list && d->pending > 0 && --d->pending == 0 && events_start(d) < 0)
		engine_lost(d, "cannot follow the events: out of memory");
}

/* Handle each whole line of the events stream received so far. */
static void
events_handle(struct docker *d)
{
	struct req *r = d->events;
	char err[DOCKERJSON_ERR_MAX], *line, *nl;
	size_t used = 0;

	if (r == NULL || r->len == 0)
		return;
	for (line = r->buf; (nl = memchr(line, '\n', r->len - used)) != NULL; line = nl + 1) {
		struct dockerjson_event ev;
		size_t len = (size_t)(nl - line);

		used += len + 1;
		if (len == 0)
			continue;
		if (dockerjson_event(line, len, &ev, err, sizeof(err)) < 0) {
			log_debug("docker: an events message skipped: %s", err);
			continue;
		}
		if (!ev.container)
			continue;
		if (ev.action == DOCKERJSON_START || ev.action == DOCKERJSON_UPDATE)
			(void)inspect_start(d, ev.id);
		else if (ev.action == DOCKERJSON_DIE || ev.action == DOCKERJSON_DESTROY)
			d->cb.gone(ev.id, ev.name, d->cb.arg);
	}
	memmove(r->buf, r->buf + used, r->len - used);
	r->len -= used;
}

static void
req_done(struct docker *d, struct req *r, CURLcode result)
{
	long status = 0;
	char what[CURL_ERROR_SIZE + 128];

	cu.easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	if (r->kind == REQ_INSPECT && result == CURLE_OK) {
		inspect_done(d, r, status);
		return;
	}
	if (result == CURLE_OK && status == 200 && r->kind == REQ_LIST) {
		list_done(d, r);
		return;
	}
	if (r->overflow)
		snprintf(what, sizeof(what), "a reply over %zu bytes", r->max);
	else if (result == CURLE_COULDNT_CONNECT && access(d->socket_path, F_OK) < 0)
		snprintf(what, sizeof(what), "%s: %s", d->socket_path, strerror(errno));
	else if (result == CURLE_COULDNT_CONNECT)
		snprintf(what, sizeof(what), "%s: %s", d->socket_path, cu.easy_strerror(result));
	else if (result != CURLE_OK)
		snprintf(what, sizeof(what), "%s%s",
		    r->kind == REQ_EVENTS ? "the events stream broke: " : "",
		    r->errbuf[0] ? r->errbuf : cu.easy_strerror(result));
	else if (r->kind == REQ_EVENTS && status == 200)
		snprintf(what, sizeof(what), "the events stream ended");
	else
		snprintf(what, sizeof(what), "HTTP status %ld", status);
	if (r->kind == REQ_INSPECT) {
		/* One container's inspection failing does not lose the engine. */
		log_debug("docker: container %s: inspection failed: %s", r->id, what);
		inspect_done(d, r, 0);
		return;
	}
	req_free(r);
	engine_lost(d, what);
}

/* Collect the finished transfers and handle the new events. */
static void
collect(struct docker *d)
{
	CURLMsg *msg;
	int left;

	events_handle(d);
	while ((msg = cu.multi_info_read(d->multi, &left)) != NULL) {
		struct req *r = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		cu.easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		if (r == NULL)
			continue;
		if (r == d->events)
			events_handle(d);
		req_done(d, r, msg->data.result);
	}
}

static void
event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct docker *d = arg;
	int running,
	    action =
	        (what & EV_READ ? CURL_CSELECT_IN : 0) | (what & EV_WRITE ? CURL_CSELECT_OUT : 0);

	cu.multi_socket_action(d->multi, fd, action, &running);
	collect(d);
}

static void
timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct docker *d = arg;
	int running;

	(void)fd;
	(void)what;
	cu.multi_socket_action(d->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	collect(d);
}

/* libcurl: watch socket s for what, or stop watching it. */
static int
socket_cb(CURL *easy, curl_socket_t s, int what, void *arg, void *sockp)
{
	struct docker *d = arg;
	struct event *ev = sockp;
	short kind = (short)((what & CURL_POLL_IN ? EV_READ : 0) |
	    (what & CURL_POLL_OUT ? EV_WRITE : 0) | EV_PERSIST);

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (ev != NULL)
			event_free(ev);
		cu.multi_assign(d->multi, s, NULL);
		return 0;
	}
	if (ev != NULL)
		event_free(ev);
	ev = event_new(d->base, s, kind, event_cb, d);
	if (ev == NULL || event_add(ev, NULL) < 0)
		return -1;
	cu.multi_assign(d->multi, s, ev);
	return 0;
}

/* libcurl: call back after timeout_msec (-1: never). */
static int
timer_cb(CURLM *multi, long timeout_msec, void *arg)
{
	struct docker *d = arg;
	struct timeval tv = { timeout_msec / 1000, (timeout_msec % 1000) * 1000 };

	(void)multi;
	if (timeout_msec < 0)
		evtimer_del(d->timer);
	else
		evtimer_add(d->timer, &tv);
	return 0;
}

static void
session_start(struct docker *d)
{
	struct req *r;

	/* A second before the list: events of that second come again, and
	 * none is missed. */
	d->since = time(NULL) - 1;
	r = req_new(d, REQ_LIST, "/containers/json", LIST_MAX_BYTES);
	if (r == NULL || req_start(r) < 0)
		engine_lost(d, "cannot list containers: out of memory");
}

static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	session_start(arg);
}

struct docker *
docker_new(struct event_base *base, const char *socket_path, const struct docker_callbacks *cb,
    char *err, size_t errlen)
{
	struct docker *d;
	int r = curl_load(err, errlen);

	if (r < 0) {
		errno = -r;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (d == NULL || (d->multi = cu.multi_init()) == NULL ||
	    (d->timer = evtimer_new(base, timeout_cb, d)) == NULL ||
	    (d->retry = evtimer_new(base, retry_cb, d)) == NULL) {
		docker_free(d);
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		errno = ENOMEM;
		return NULL;
	}
	d->base = base;
	snprintf(d->socket_path, sizeof(d->socket_path), "%s", socket_path);
	d->cb = *cb;
	d->backoff_usec = DOCKER_BACKOFF_MIN_USEC;
	cu.multi_setopt(d->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	cu.multi_setopt(d->multi, CURLMOPT_SOCKETDATA, d);
	cu.multi_setopt(d->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	cu.multi_setopt(d->multi, CURLMOPT_TIMERDATA, d);
	return d;
}

int
docker_start(struct docker *d)
{
	session_start(d);
	return 0;
}

void
docker_free(struct docker *d)
{
	if (d == NULL)
		return;
	req_free_all(d);
	if (d->multi != NULL)
		cu.multi_cleanup(d->multi);
	if (d->timer != NULL)
		event_free(d->timer);
	if (d->retry != NULL)
		event_free(d->retry);
	free(d);
}
