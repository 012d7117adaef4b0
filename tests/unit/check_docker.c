/*
 * check_docker.c: the Engine client against a fake engine served by
 * libevent's evhttp over a unix socket in a temporary directory: the
 * captured replies (tests/fixtures/docker/), the events stream sent in
 * chunks cut inside its lines, then the engine closed and its socket
 * removed, and reopened: the client reports it lost, reconnects on its
 * own and lists again.
 */
#include <check.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "docker.h"
#include "suite.h"

#define FX          "tests/fixtures/docker/"
#define LABELLED_ID "73f8521b061d69eac6a1d636dfd7422bee06bce851bec0c50028ed922c79bf1b"

struct fake {
	struct event_base *base;
	struct evhttp *http;
	char dir[64], path[128];
	char *list, *inspect, *events;
	size_t events_len;
	struct evhttp_request *stream;
	bool filters_ok;
	unsigned lists;
	/* what the client reported */
	unsigned seen, gone, up, down;
	char down_why[512];
	struct event *step;
	int phase;
};

static char *
slurp(const char *path, size_t *ret_len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = malloc(1 << 16);
	size_t n;

	ck_assert_msg(fp != NULL, "cannot open %s", path);
	n = fread(buf, 1, (1 << 16) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	if (ret_len != NULL)
		*ret_len = n;
	return buf;
}

static void
reply(struct evhttp_request *req, int code, const char *body)
{
	struct evbuffer *b = evbuffer_new();

	evbuffer_add(b, body, strlen(body));
	evhttp_add_header(
	    evhttp_request_get_output_headers(req), "Content-Type", "application/json");
	evhttp_send_reply(req, code, code == 200 ? "OK" : "Not Found", b);
	evbuffer_free(b);
}

/* The second part of the events: from inside the third line on. */
static void
stream_rest(evutil_socket_t fd, short what, void *arg)
{
	struct fake *f = arg;
	struct evbuffer *b = evbuffer_new();
	size_t cut = f->events_len / 2 + 7;

	(void)fd;
	(void)what;
	if (f->stream != NULL) {
		evbuffer_add(b, f->events + cut, f->events_len - cut);
		evhttp_send_reply_chunk(f->stream, b);
	}
	evbuffer_free(b);
}

static void
handle(struct evhttp_request *req, void *arg)
{
	struct fake *f = arg;
	const char *uri = evhttp_request_get_uri(req);
	struct evbuffer *b;

	if (strcmp(uri, "/containers/json") == 0) {
		f->lists++;
		reply(req, 200, f->list);
	} else if (strcmp(uri, "/containers/" LABELLED_ID "/json") == 0) {
		reply(req, 200, f->inspect);
	} else if (strncmp(uri, "/events?", 8) == 0) {
		char *q = evhttp_decode_uri(uri);

		f->filters_ok = strstr(q, "\"type\":[\"container\"]") != NULL &&
		    strstr(q, "\"event\":[\"start\",\"die\",\"destroy\",\"update\"]") != NULL &&
		    strstr(q, "since=") != NULL;
		free(q);
		f->stream = req;
		evhttp_send_reply_start(req, 200, "OK");
		/* After the reconnect, a stream without news. */
		if (f->phase >= 2)
			return;
		b = evbuffer_new();
		evbuffer_add(b, f->events, f->events_len / 2 + 7);
		evhttp_send_reply_chunk(req, b);
		evbuffer_free(b);
		event_base_once(
		    f->base, -1, EV_TIMEOUT, stream_rest, f, &(struct timeval){ 0, 50000 });
	} else {
		reply(req, 404, "{\"message\":\"No such container\"}");
	}
}

static void
engine_open(struct fake *f)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_uint_lt(strlen(f->path), sizeof(sun.sun_path));
	memcpy(sun.sun_path, f->path, strlen(f->path) + 1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(listen(fd, 16), 0);
	f->http = evhttp_new(f->base);
	ck_assert_ptr_nonnull(f->http);
	evhttp_set_gencb(f->http, handle, f);
	ck_assert_ptr_nonnull(evhttp_accept_socket_with_handle(f->http, fd));
}

static void
engine_close(struct fake *f)
{
	f->stream = NULL;
	evhttp_free(f->http);
	f->http = NULL;
	unlink(f->path);
}

static void
step_later(struct fake *f, long usec)
{
	struct timeval tv = { usec / 1000000, usec % 1000000 };

	evtimer_add(f->step, &tv);
}

/* The test's course, one phase a step: 0 the first session's events
 * all seen; 1 the engine closed; 2 reopened once the loss is reported;
 * 3 listed again. */
static void
step(evutil_socket_t fd, short what, void *arg)
{
	struct fake *f = arg;

	(void)fd;
	(void)what;
	if (f->phase == 0 && f->gone == 2) {
		engine_close(f);
		f->phase = 1;
	} else if (f->phase == 1 && f->down == 1) {
		engine_open(f);
		f->phase = 2;
	} else if (f->phase == 2 && f->up == 2 && f->seen == 4) {
		event_base_loopexit(f->base, NULL);
		return;
	}
	step_later(f, 20000);
}

static void
on_seen(const struct dockerjson_container *c, void *arg)
{
	struct fake *f = arg;

	ck_assert_str_eq(c->id, LABELLED_ID);
	ck_assert_int_eq(c->pid, 17931);
	f->seen++;
}

static void
on_gone(const char *id, const char *name, void *arg)
{
	struct fake *f = arg;

	ck_assert_str_eq(id, LABELLED_ID);
	ck_assert_str_eq(name, "og-cap17681-labelled");
	f->gone++;
}

static void
on_engine(bool up, const char *why, void *arg)
{
	struct fake *f = arg;

	if (up) {
		f->up++;
	} else {
		f->down++;
		snprintf(f->down_why, sizeof(f->down_why), "%s", why);
	}
}

START_TEST(test_session_and_reconnect)
{
	static struct fake f;
	struct docker_callbacks cb = { on_seen, on_gone, on_engine, &f };
	struct timeval deadline = { 10, 0 };
	char err[256];
	struct docker *d;

	memset(&f, 0, sizeof(f));
	snprintf(f.dir, sizeof(f.dir), "/tmp/check_docker.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(f.dir));
	snprintf(f.path, sizeof(f.path), "%s/docker.sock", f.dir);
	f.list = slurp(FX "list.json", NULL);
	f.inspect = slurp(FX "inspect.json", NULL);
	f.events = slurp(FX "events.ndjson", &f.events_len);
	f.base = event_base_new();
	engine_open(&f);
	d = docker_new(f.base, f.path, &cb, err, sizeof(err));
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(docker_start(d), 0);
	f.step = evtimer_new(f.base, step, &f);
	step_later(&f, 20000);
	event_base_loopexit(f.base, &deadline);
	event_base_dispatch(f.base);
	/* The list's labelled container, its start and its update (the other
	 * container's inspection answers 404); its die and destroy; the list
	 * again after the reconnect. */
	ck_assert_msg(f.phase == 2, "stuck in phase %d: seen %u gone %u up %u down %u", f.phase,
	    f.seen, f.gone, f.up, f.down);
	ck_assert_uint_eq(f.seen, 4);
	ck_assert_uint_eq(f.gone, 2);
	ck_assert_uint_eq(f.up, 2);
	ck_assert_uint_eq(f.down, 1);
	ck_assert_uint_eq(f.lists, 2);
	ck_assert(f.filters_ok);
	ck_assert_msg(strstr(f.down_why, "reconnecting in 250ms") != NULL, "%s", f.down_why);
	docker_free(d);
	engine_close(&f);
	event_free(f.step);
	event_base_free(f.base);
	rmdir(f.dir);
	free(f.list);
	free(f.inspect);
	free(f.events);
}
END_TEST

/* No engine at all: one report, then quiet retries that keep going. */
START_TEST(test_no_engine)
{
	static struct fake f;
	struct docker_callbacks cb = { on_seen, on_gone, on_engine, &f };
	char err[256];
	struct docker *d;

	memset(&f, 0, sizeof(f));
	f.base = event_base_new();
	d = docker_new(f.base, "/nonexistent/docker.sock", &cb, err, sizeof(err));
	ck_assert_ptr_nonnull(d);
	docker_start(d);
	struct timeval wait = { 1, 200000 };

	event_base_loopexit(f.base, &wait);
	event_base_dispatch(f.base);
	ck_assert_uint_eq(f.down, 1);
	ck_assert_uint_eq(f.up, 0);
	ck_assert_msg(strstr(f.down_why, "reconnecting in 250ms") != NULL, "%s", f.down_why);
	docker_free(d);
	event_base_free(f.base);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("docker");
	TCase *tc = tcase_create("docker");

	tcase_add_test(tc, test_session_and_reconnect);
	tcase_add_test(tc, test_no_engine);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
