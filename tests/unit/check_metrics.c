/*
 * check_metrics.c: the metrics endpoint: the text and JSON written from
 * guards' snapshots, then the server on a unix socket in a loop of the
 * test's own, with clients that behave and clients that do not.
 */
#include <check.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "expo.h"
#include "metrics.h"
#include "suite.h"

static struct stats stats_a, stats_b;

static void
guard_fill(struct metrics_guard *g, const char *cgroup, const char *name, struct stats *st)
{
	memset(g, 0, sizeof(*g));
	g->cgroup = cgroup;
	g->name = name;
	g->metric = "workingset";
	g->stats = st;
	g->limit_bytes = 268435456;
	g->usage_bytes = 200000000;
	g->metric_bytes = 190000000;
	g->level_bytes[METRICS_LEVEL_GC] = 201326592;
	g->level_bytes[METRICS_LEVEL_RESTART] = 241591910;
	g->level_bytes[METRICS_LEVEL_KILL] = UINT64_MAX;
	g->level_bytes[METRICS_LEVEL_REARM] = 187904819;
	g->stage = METRICS_STAGE_GC;
}

static int
provide(void *arg, size_t i, struct metrics_guard *ret)
{
	(void)arg;
	if (i == 0) {
		guard_fill(ret, "/docker/abc", "web", &stats_a);
		return 0;
	}
	if (i == 1) {
		guard_fill(ret, "/system.slice/db.service", NULL, &stats_b);
		ret->has_events = true;
		ret->events[METRICS_EVENT_OOM_KILL] = 3;
		ret->has_psi = true;
		ret->psi_some_usec = 1234567;
		ret->last_usec[METRICS_ACTION_GC] = 1764600000500000ULL;
		return 0;
	}
	return -ENOENT;
}

static char *
render_text(void)
{
	struct metrics_guard g[2];
	struct evbuffer *b = evbuffer_new();
	char *s;
	size_t n;

	provide(NULL, 0, &g[0]);
	provide(NULL, 1, &g[1]);
	ck_assert_int_eq(metrics_render(b, g, 2), 0);
	n = evbuffer_get_length(b);
	s = malloc(n + 1);
	evbuffer_remove(b, s, n);
	s[n] = '\0';
	evbuffer_free(b);
	return s;
}

START_TEST(test_render)
{
	char *s;

	memset(&stats_a, 0, sizeof(stats_a));
	memset(&stats_b, 0, sizeof(stats_b));
	stats_a.gc_requests = 7;
	stats_a.live_bytes_estimate = 104857600;
	stats_b.kills = 2;
	stats_observe(&stats_a.reaction_usec, 700);
	s = render_text();
	ck_assert_ptr_nonnull(
	    strstr(s, "oomguard_build_info{version=\"" OOMGUARD_VERSION "\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(s,
	    "# TYPE oomguard_gc_requests_total counter\n"
	    "oomguard_gc_requests_total{cgroup=\"/docker/abc\","
	    "name=\"web\"} 7\n"
	    "oomguard_gc_requests_total{cgroup=\"/system.slice/"
	    "db.service\"} 0\n"));
	ck_assert_ptr_nonnull(
	    strstr(s, "oomguard_kills_total{cgroup=\"/system.slice/db.service\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(s,
	    "oomguard_level_bytes{cgroup=\"/docker/abc\",name=\"web\","
	    "level=\"gc\"} 201326592\n"));
	/* An off level has no series; a live set only once estimated. */
	ck_assert_ptr_null(strstr(s, "level=\"kill\""));
	ck_assert_ptr_nonnull(strstr(s,
	    "oomguard_live_bytes_estimate{cgroup=\"/docker/abc\","
	    "name=\"web\"} 104857600\n"
	    "# HELP"));
	ck_assert_ptr_nonnull(strstr(s,
	    "oomguard_episode_stage{cgroup=\"/docker/abc\",name=\"web\","
	    "stage=\"gc\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(s, "stage=\"none\"} 0\n"));
	ck_assert_ptr_nonnull(strstr(s,
	    "oomguard_memory_events_total{cgroup=\"/system.slice/"
	    "db.service\",kind=\"oom_kill\"} 3\n"));
	ck_assert_ptr_null(strstr(s, "oomguard_memory_events_total{cgroup=\"/docker/abc\""));
	ck_assert_ptr_nonnull(strstr(s,
	    "oomguard_memory_pressure_some_seconds_total{cgroup=\"/"
	    "system.slice/db.service\"} 1.234567\n"));
	ck_assert_ptr_nonnull(strstr(s,
	    "oomguard_last_action_timestamp_seconds{cgroup=\"/"
	    "system.slice/db.service\",action=\"gc\"} 1764600000.5\n"));
	ck_assert_ptr_nonnull(strstr(s,
	    "oomguard_reaction_duration_seconds_bucket{cgroup=\"/"
	    "docker/abc\",name=\"web\",le=\"0.001\"} 1\n"));
	free(s);
}
END_TEST

/* Every family is named once, and every sample line belongs to the
 * family above it. */
START_TEST(test_families_once)
{
	char *s = render_text(), *save = NULL, family[128] = "";
	unsigned families = 0;

	for (char *line = strtok_r(s, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char name[128];

		if (strncmp(line, "# TYPE ", 7) == 0) {
			ck_assert_int_eq(sscanf(line + 7, "%127s", name), 1);
			ck_assert_msg(strcmp(name, family) != 0, "%s twice", name);
			ck_assert(expo_name_valid(name, 0));
			snprintf(family, sizeof(family), "%s", name);
			families++;
		} else if (line[0] != '#') {
			ck_assert_msg(strncmp(line, family, strlen(family)) == 0, "%s under %s",
			    line, family);
		}
	}
	ck_assert_uint_ge(families, 18);
	free(s);
}
END_TEST

/* Prometheus's own linter finds nothing to say: names, units, suffixes,
 * HELP and TYPE. */
START_TEST(test_promtool)
{
	char *s = render_text(), path[] = "/tmp/check_metrics.prom.XXXXXX", cmd[256], out[4096];
	int fd = mkstemp(path);
	FILE *p;
	size_t n;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
	snprintf(cmd, sizeof(cmd), "promtool check metrics <%s 2>&1; echo exit $?", path);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	pclose(p);
	unlink(path);
	ck_assert_msg(strcmp(out, "exit 0\n") == 0, "promtool: %s", out);
	free(s);
}
END_TEST

START_TEST(test_status_json)
{
	struct metrics_guard g[2];
	json_t *j, *guard;
	char *s;

	memset(&stats_a, 0, sizeof(stats_a));
	stats_a.restarts = 4;
	provide(NULL, 0, &g[0]);
	provide(NULL, 1, &g[1]);
	j = metrics_status_json(g, 2, 42);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "pid")), 42);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "guards")), 2);
	guard = json_array_get(json_object_get(j, "guards"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(guard, "name")), "web");
	ck_assert_str_eq(json_string_value(json_object_get(guard, "stage")), "gc");
	ck_assert_int_eq(
	    json_integer_value(json_object_get(json_object_get(guard, "counts"), "restarts")), 4);
	ck_assert(json_is_null(json_object_get(json_object_get(guard, "levels"), "kill")));
	ck_assert_int_eq(json_integer_value(json_object_get(guard, "limit_bytes")), 268435456);
	s = json_dumps(j, JSON_COMPACT);
	ck_assert_ptr_nonnull(strstr(s, "\"rescue\":null"));
	free(s);
	json_decref(j);
	/* A path that is not UTF-8 is shown, not dropped. */
	g[0].cgroup = "/a\xff"
	              "b";
	j = metrics_status_json(g, 1, 42);
	guard = json_array_get(json_object_get(j, "guards"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(guard, "cgroup")),
	    "/a\xEF\xBF\xBD"
	    "b");
	json_decref(j);
}
END_TEST

/* The server, on a unix socket in a directory of the test's own. */

static char sock_path[108];
static struct event_base *base;
static struct metrics *server;

static void
server_up(void)
{
	struct metrics_provider p = { provide, NULL };
	struct listen_address a;
	char err[128], addr[128], dir[] = "/tmp/check_metrics.XXXXXX";

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sock_path, sizeof(sock_path), "%s/sub/m.sock", dir);
	snprintf(addr, sizeof(addr), "unix:%s", sock_path);
	ck_assert_int_eq(listen_parse(addr, &a, err, sizeof(err)), 0);
	base = event_base_new();
	ck_assert_int_eq(metrics_start(base, &a, &p, &server), 0);
}

static void
server_down(void)
{
	char dir[sizeof(sock_path)];

	metrics_stop(server);
	ck_assert_int_eq(access(sock_path, F_OK), -1);
	event_base_free(base);
	snprintf(dir, sizeof(dir), "%s", sock_path);
	*strrchr(dir, '/') = '\0';
	rmdir(dir);
	*strrchr(dir, '/') = '\0';
	rmdir(dir);
}

static void
run_loop(unsigned msec)
{
	struct timeval tv = { msec / 1000, (msec % 1000) * 1000 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

/* A client socket connected (or queued in the backlog), non-blocking. */
static int
client(const char *request)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock_path);
	ck_assert_int_ge(fd, 0);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		close(fd);
		return -errno;
	}
	if (request != NULL)
		ck_assert_int_eq(write(fd, request, strlen(request)), (ssize_t)strlen(request));
	return fd;
}

/* What fd holds now: the bytes read; *ret_eof when it was closed. */
static size_t
drain(int fd, char *buf, size_t len, bool *ret_eof)
{
	size_t n = 0;
	ssize_t r = -1;

	*ret_eof = false;
	while (n + 1 < len && (r = read(fd, buf + n, len - n - 1)) > 0)
		n += (size_t)r;
	if (r == 0 || (r < 0 && errno == ECONNRESET))
		*ret_eof = true;
	buf[n] = '\0';
	return n;
}

START_TEST(test_serve)
{
	static const char *const paths[] = { "/metrics", "/healthz", "/status", "/nope" };
	static const char *const want[] = { "HTTP/1.1 200 OK", "HTTP/1.1 200 OK", "HTTP/1.1 200 OK",
		"HTTP/1.1 404 Not Found" };
	char req[128], buf[65536];
	bool eof;

	server_up();
	for (size_t i = 0; i < 4; i++) {
		int fd;

		snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", paths[i]);
		fd = client(req);
		run_loop(200);
		drain(fd, buf, sizeof(buf), &eof);
		ck_assert_msg(strncmp(buf, want[i], strlen(want[i])) == 0, "%s: %s", paths[i], buf);
		ck_assert_msg(eof, "%s: the connection stays open", paths[i]);
		if (i == 0) {
			ck_assert_ptr_nonnull(strstr(buf, "Content-Type: " EXPO_CONTENT_TYPE));
			ck_assert_ptr_nonnull(strstr(buf, "oomguard_gc_requests_total{"));
		}
		if (i == 2)
			ck_assert_ptr_nonnull(
			    strstr(buf, "\"guards\":[{\"cgroup\":\"/docker/abc\""));
		close(fd);
	}
	/* A body, or a method other than GET and HEAD, is refused. */
	int fd = client("POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");

	run_loop(200);
	drain(fd, buf, sizeof(buf), &eof);
	ck_assert_ptr_null(strstr(buf, "200 OK"));
	close(fd);
	run_loop(300);
	ck_assert_uint_eq(metrics_connections(server), 0);
	server_down();
}
END_TEST

START_TEST(test_huge_headers)
{
	char *req = malloc(3 * METRICS_HEADERS_MAX), buf[4096];
	bool eof;
	int fd;

	server_up();
	strcpy(req, "GET /metrics HTTP/1.1\r\nX-Big: ");
	memset(req + strlen(req), 'a', 2 * METRICS_HEADERS_MAX);
	req[strlen("GET /metrics HTTP/1.1\r\nX-Big: ") + 2 * METRICS_HEADERS_MAX] = '\0';
	fd = client(NULL);
	ck_assert_int_ge(fd, 0);
	/* The socket's buffer may take only part of it: what it takes is
	 * enough to go over the limit. */
	ck_assert_int_gt(write(fd, req, strlen(req)), METRICS_HEADERS_MAX);
	run_loop(300);
	drain(fd, buf, sizeof(buf), &eof);
	ck_assert_ptr_null(strstr(buf, "200 OK"));
	ck_assert_msg(eof, "a connection over the header limit stays open");
	close(fd);
	free(req);
	server_down();
}
END_TEST

/* Clients that connect and send half a request, many more than the cap:
 * the server holds METRICS_CONN_MAX of them, closes each at its deadline,
 * and then takes the next, which it answers. */
START_TEST(test_cap_and_deadline)
{
	int fds[METRICS_CONN_MAX + 8], last;
	char buf[65536];
	bool eof;

	server_up();
	for (int i = 0; i < METRICS_CONN_MAX + 8; i++) {
		fds[i] = client("GET /metrics HTTP/1.1\r\nHost:");
		ck_assert_int_ge(fds[i], 0);
	}
	last = client("GET /healthz HTTP/1.1\r\n\r\n");
	/* The backlog may refuse it (EAGAIN): the cap holds all the same. */
	run_loop(500);
	ck_assert_uint_eq(metrics_connections(server), METRICS_CONN_MAX);
	drain(fds[0], buf, sizeof(buf), &eof);
	ck_assert(!eof);
	/* Past the cap, a complete request waits in the backlog. */
	if (last >= 0) {
		ck_assert_uint_eq(drain(last, buf, sizeof(buf), &eof), 0);
		ck_assert(!eof);
	}
	/* Trickled bytes do not keep a connection past its deadline. */
	for (int t = 0; t < 11; t++) {
		/* Refused (EPIPE) once the server has shut it down. */
		if (write(fds[0], " x", 2) < 0)
			ck_assert_int_eq(errno, EPIPE);
		run_loop(500);
	}
	drain(fds[0], buf, sizeof(buf), &eof);
	ck_assert_msg(eof, "a slow client outlives its deadline");
	ck_assert_ptr_null(strstr(buf, "200 OK"));
	run_loop(5500);
	if (last >= 0) {
		drain(last, buf, sizeof(buf), &eof);
		ck_assert_msg(strncmp(buf, "HTTP/1.1 200 OK", 15) == 0, "%s", buf);
		close(last);
	}
	for (int i = 0; i < METRICS_CONN_MAX + 8; i++)
		close(fds[i]);
	run_loop(300);
	ck_assert_uint_eq(metrics_connections(server), 0);
	server_down();
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("metrics");

	/* As oomguard does: a client gone is an error to handle, not a
	 * signal. */
	signal(SIGPIPE, SIG_IGN);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_render);
	tcase_add_test(tc, test_families_once);
	tcase_add_test(tc, test_promtool);
	tcase_add_test(tc, test_status_json);
	tcase_add_test(tc, test_serve);
	tcase_add_test(tc, test_huge_headers);
	tcase_add_test(tc, test_cap_and_deadline);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
