/*
 * check_status.c: `oomguard status`: the answer's head, the sentence
 * about the live set, what a person reads, and the client against a
 * real endpoint (metrics.c in a child process), an absent one, one that
 * never answers and one that is not oomguard's.
 */
#include <check.h>
#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "metrics.h"
#include "status.h"
#include "suite.h"

START_TEST(test_parse_response)
{
	const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: x\r\n\r\nbody";
	int code = 0;
	size_t body = 0;

	ck_assert_int_eq(status_parse_response(ok, strlen(ok), &code, &body), 0);
	ck_assert_int_eq(code, 200);
	ck_assert_str_eq(ok + body, "body");
	ck_assert_int_eq(status_parse_response("HTTP/1.0 404\r\n\r\n", 16, &code, &body), 0);
	ck_assert_int_eq(code, 404);
	ck_assert_int_eq(status_parse_response("HTTP/1.1 200 OK\r\n", 17, &code, &body), -EPROTO);
	ck_assert_int_eq(
	    status_parse_response("SSH-2.0-OpenSSH\r\n\r\n", 19, &code, &body), -EPROTO);
	ck_assert_int_eq(
	    status_parse_response("HTTP/1.1 2x0 OK\r\n\r\n", 19, &code, &body), -EPROTO);
	ck_assert_int_eq(status_parse_response("HTTP/1.1 200", 12, &code, &body), -EPROTO);
}
END_TEST

START_TEST(test_advice)
{
	char buf[256];

	/* The example: 230 MiB live under 256 MiB, gc at 75%. */
	ck_assert_int_eq(
	    status_advice(230ULL << 20, 256ULL << 20, 192ULL << 20, 179ULL << 20, buf, sizeof(buf)),
	    1);
	ck_assert_str_eq(buf,
	    "live set 230.0MiB of 256.0MiB: gc requests cannot help; raise the "
	    "limit");
	ck_assert_int_eq(
	    status_advice(185ULL << 20, 256ULL << 20, 192ULL << 20, 179ULL << 20, buf, sizeof(buf)),
	    1);
	ck_assert_ptr_nonnull(strstr(buf, "above the rearm level"));
	ck_assert_int_eq(
	    status_advice(100ULL << 20, 256ULL << 20, 192ULL << 20, 179ULL << 20, buf, sizeof(buf)),
	    0);
	ck_assert_int_eq(
	    status_advice(0, 256ULL << 20, 192ULL << 20, 179ULL << 20, buf, sizeof(buf)), 0);
	ck_assert_int_eq(
	    status_advice(250ULL << 20, 256ULL << 20, UINT64_MAX, UINT64_MAX, buf, sizeof(buf)), 0);
}
END_TEST

static struct stats stats_g;

static int
provide(void *arg, size_t i, struct metrics_guard *g)
{
	(void)arg;
	if (i > 0)
		return -ENOENT;
	memset(g, 0, sizeof(*g));
	g->cgroup = "/docker/abc";
	g->name = "web";
	g->metric = "workingset";
	g->stats = &stats_g;
	g->limit_bytes = 256ULL << 20;
	g->usage_bytes = 200ULL << 20;
	g->metric_bytes = 128ULL << 20;
	g->level_bytes[METRICS_LEVEL_GC] = 192ULL << 20;
	g->level_bytes[METRICS_LEVEL_RESTART] = 230ULL << 20;
	g->level_bytes[METRICS_LEVEL_KILL] = UINT64_MAX;
	g->level_bytes[METRICS_LEVEL_REARM] = 179ULL << 20;
	g->stage = METRICS_STAGE_GC;
	g->last_usec[METRICS_ACTION_GC] = 1000000000ULL * 1000000 - 90 * 1000000ULL;
	return 0;
}

START_TEST(test_print)
{
	struct metrics_guard g;
	json_t *j;
	char *text, *out = NULL, err[256];
	size_t n = 0;
	FILE *fp = open_memstream(&out, &n);

	memset(&stats_g, 0, sizeof(stats_g));
	stats_g.gc_requests = 12;
	stats_g.live_bytes_estimate = 230ULL << 20;
	provide(NULL, 0, &g);
	j = metrics_status_json(&g, 1, 77);
	text = json_dumps(j, 0);
	ck_assert_int_eq(status_print(fp, text, 1000000000ULL * 1000000, err, sizeof(err)), 0);
	fclose(fp);
	ck_assert_msg(strstr(out,
	                  "oomguard " OOMGUARD_VERSION ", pid 77\n\n/docker/abc (web)\n"
	                  "  workingset 128.0MiB of 256.0MiB  "
	                  "[####################..........g....r....] 50.0%\n"
	                  "  levels     gc 192.0MiB, restart 230.0MiB, kill off, rearm "
	                  "179.0MiB\n"
	                  "  stage      gc\n"
	                  "  live set   230.0MiB") != NULL,
	    "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "12 gc requests, 0 restarts"));
	ck_assert_ptr_nonnull(
	    strstr(out, "last       gc 90s ago; restart never; kill never; rescue never\n"));
	ck_assert_ptr_nonnull(
	    strstr(out, "note       live set 230.0MiB of 256.0MiB: gc requests cannot help"));
	free(out);
	free(text);
	json_decref(j);
	ck_assert_int_eq(status_print(stdout, "{\"guards\": 3}", 0, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(status_print(stdout, "<html>", 0, err, sizeof(err)), -EINVAL);
}
END_TEST

static char dir[64];

static void
dir_make(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check_status.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
dir_remove(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static struct listen_address
address_in_dir(const char *name)
{
	struct listen_address a;
	char text[200], err[128];

	snprintf(text, sizeof(text), "unix:%s/%s", dir, name);
	ck_assert_int_eq(listen_parse(text, &a, err, sizeof(err)), 0);
	return a;
}

/* A metrics endpoint in a child process, until it is killed. */
static pid_t
serve(const struct listen_address *a)
{
	int p[2];
	char c;
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct event_base *base = event_base_new();
		struct metrics_provider prov = { provide, NULL };
		struct metrics *m;

		signal(SIGPIPE, SIG_IGN);
		if (metrics_start(base, a, &prov, &m) < 0)
			_exit(1);
		(void)!write(p[1], "x", 1);
		event_base_dispatch(base);
		_exit(0);
	}
	close(p[1]);
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	close(p[0]);
	return pid;
}

START_TEST(test_fetch)
{
	struct listen_address a = address_in_dir("m.sock");
	char *body = NULL, err[256];
	pid_t pid;

	pid = serve(&a);
	ck_assert_msg(status_fetch(&a, "/status", &body, err, sizeof(err)) == 0, "%s", err);
	ck_assert_ptr_nonnull(strstr(body, "\"cgroup\":\"/docker/abc\""));
	free(body);
	ck_assert_int_eq(status_fetch(&a, "/nope", &body, err, sizeof(err)), -EPROTO);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	/* Nothing there. */
	a = address_in_dir("none.sock");
	ck_assert_int_eq(status_fetch(&a, "/status", &body, err, sizeof(err)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "none.sock: No such file or directory"));
}
END_TEST

/* A socket that takes the connection and never answers: the deadline. */
START_TEST(test_fetch_deadline)
{
	struct listen_address a = address_in_dir("mute.sock");
	char *body = NULL, err[256];
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a.sa, a.len), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	ck_assert_int_eq(status_fetch(&a, "/status", &body, err, sizeof(err)), -ETIMEDOUT);
	close(fd);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("status");
	TCase *tc = tcase_create("status");

	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_parse_response);
	tcase_add_test(tc, test_advice);
	tcase_add_test(tc, test_print);
	suite_add_tcase(s, tc);
	tc = tcase_create("fetch");
	tcase_set_timeout(tc, 20);
	tcase_add_checked_fixture(tc, dir_make, dir_remove);
	tcase_add_test(tc, test_fetch);
	tcase_add_test(tc, test_fetch_deadline);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
