/*
 * check_hook.c: hooks run as real programs (shell scripts written by the
 * test) in a loop of the test's own: the environment they see, their
 * output in the log, the kill at the timeout with the group, and the
 * reaper of orphans that must not take them.
 */
#include <check.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hook.h"
#include "log.h"
#include "suite.h"

static char dir[] = "/tmp/check_hook.XXXXXX";
static struct event_base *base;
static struct hook_set *hooks;
static int done_status, done_calls;
static struct timespec done_at;

static void
on_done(void *arg, int status)
{
	(void)arg;
	done_status = status;
	done_calls++;
	clock_gettime(CLOCK_MONOTONIC, &done_at);
}

static const char *
script(const char *name, const char *body)
{
	static char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	ck_assert_msg(fp != NULL, "%s: %s", path, strerror(errno));
	fprintf(fp, "#!/bin/sh\n%s\n", body);
	fclose(fp);
	chmod(path, 0755);
	return path;
}

static char *
slurp(const char *name)
{
	static char buf[65536];
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void
run_loop(unsigned msec)
{
	struct timeval tv = { msec / 1000, (msec % 1000) * 1000 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

static const struct hook_info restart_info = { .event = HOOK_RESTART,
	.cgroup = "/docker/abc",
	.name = "web",
	.metric_bytes = 241000000,
	.limit_bytes = 268435456,
	.level_bytes = 241591910,
	.pid = 1234,
	.signo = SIGTERM,
	.before = true };

static void
setup(void)
{
	char log[300];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	/* The log goes to a file the tests read. */
	snprintf(log, sizeof(log), "%s/log", dir);
	ck_assert_int_ge(dup2(open(log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644), 2), 0);
	log_init(LOG_LVL_DEBUG, LOG_FMT_TEXT);
	base = event_base_new();
	hooks = hook_set_new(base);
	done_calls = 0;
	done_status = 12345;
}

static void
teardown(void)
{
	char cmd[300];

	hook_set_free(hooks);
	event_base_free(base);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
	strcpy(dir, "/tmp/check_hook.XXXXXX");
}

START_TEST(test_env_and_output)
{
	char body[512];
	const char *env;

	setenv("OOMGUARD_EVENT", "stale", 1);
	setenv("CHECK_HOOK_INHERITED", "yes", 1);
	snprintf(body, sizeof(body),
	    "env | grep -E '^(OOMGUARD_|CHECK_HOOK_)' | sort >%s/env\n"
	    "echo first line; echo to stderr >&2; printf 'no newline'",
	    dir);
	ck_assert_int_eq(
	    hook_run(hooks, script("env.sh", body), &restart_info, 2000000, on_done, NULL), 0);
	ck_assert_uint_eq(hook_running(hooks), 1);
	ck_assert_int_eq(done_calls, 0); /* never from hook_run itself */
	for (int i = 0; i < 40 && done_calls == 0; i++)
		run_loop(50);
	ck_assert_int_eq(done_calls, 1);
	ck_assert(WIFEXITED(done_status) && WEXITSTATUS(done_status) == 0);
	ck_assert_uint_eq(hook_running(hooks), 0);
	env = slurp("env");
	ck_assert_ptr_nonnull(env);
	ck_assert_str_eq(env,
	    "CHECK_HOOK_INHERITED=yes\n"
	    "OOMGUARD_CGROUP=/docker/abc\n"
	    "OOMGUARD_DRY_RUN=0\n"
	    "OOMGUARD_EVENT=restart\n"
	    "OOMGUARD_LEVEL_BYTES=241591910\n"
	    "OOMGUARD_LIMIT_BYTES=268435456\n"
	    "OOMGUARD_METRIC_BYTES=241000000\n"
	    "OOMGUARD_NAME=web\n"
	    "OOMGUARD_PID=1234\n"
	    "OOMGUARD_SIGNAL=SIGTERM\n"
	    "OOMGUARD_WHEN=before\n");
	env = slurp("log");
	ck_assert_ptr_nonnull(strstr(env, "hook restart: first line\n"));
	ck_assert_ptr_nonnull(strstr(env, "hook restart: to stderr\n"));
	ck_assert_ptr_nonnull(strstr(env, "hook restart: no newline\n"));
	ck_assert_ptr_nonnull(strstr(env, "hook restart: exited with 0 after "));
	unsetenv("OOMGUARD_EVENT");
}
END_TEST

/* A hook that outlives its timeout is killed then, with what it started
 * in its group, and the caller told at the timeout. */
START_TEST(test_timeout_kills_group)
{
	char body[256], *pid_text;
	struct timespec t0;
	long ms;
	pid_t bg;

	snprintf(body, sizeof(body), "sleep 30 & echo $! >%s/bg\nsleep 30", dir);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(
	    hook_run(hooks, script("slow.sh", body), &restart_info, 300000, on_done, NULL), 0);
	for (int i = 0; i < 60 && done_calls == 0; i++)
		run_loop(50);
	ck_assert_int_eq(done_calls, 1);
	ck_assert_int_eq(done_status, -ETIMEDOUT);
	ms = (done_at.tv_sec - t0.tv_sec) * 1000 + (done_at.tv_nsec - t0.tv_nsec) / 1000000;
	ck_assert_msg(ms >= 290 && ms < 2000, "told after %ld ms", ms);
	run_loop(300);
	ck_assert_uint_eq(hook_running(hooks), 0);
	ck_assert_int_eq(done_calls, 1);
	pid_text = slurp("bg");
	ck_assert_ptr_nonnull(pid_text);
	bg = (pid_t)atol(pid_text);
	ck_assert_int_gt(bg, 0);
	/* Reparented to init (or a subreaper) and reaped there: gone, or a
	 * zombie at worst. */
	for (int i = 0; i < 20 && kill(bg, 0) == 0; i++) {
		char stat[64], buf[256];
		FILE *fp;

		snprintf(stat, sizeof(stat), "/proc/%d/stat", bg);
		fp = fopen(stat, "r");
		if (fp != NULL && fgets(buf, sizeof(buf), fp) != NULL &&
		    strstr(buf, ") Z ") != NULL) {
			fclose(fp);
			break;
		}
		if (fp != NULL)
			fclose(fp);
		ck_assert_msg(i < 19, "the hook's background child %d lives on", bg);
		usleep(50000);
	}
	ck_assert_ptr_nonnull(strstr(slurp("log"), "hook restart: killed at its timeout (300ms)"));
}
END_TEST

/* The entrypoint reaps every child that signals its end with
 * waitpid(-1): a hook raises no SIGCHLD and is not among them. */
START_TEST(test_not_taken_by_reaper)
{
	int st;

	ck_assert_int_eq(
	    hook_run(hooks, script("three.sh", "exit 3"), &restart_info, 2000000, on_done, NULL),
	    0);
	usleep(300000);
	ck_assert_int_le(waitpid(-1, &st, WNOHANG), 0);
	for (int i = 0; i < 40 && done_calls == 0; i++)
		run_loop(50);
	ck_assert_int_eq(done_calls, 1);
	ck_assert(WIFEXITED(done_status) && WEXITSTATUS(done_status) == 3);
	ck_assert_ptr_nonnull(strstr(slurp("log"), "hook restart: exited with 3 after "));
}
END_TEST

START_TEST(test_exec_fails_and_cap)
{
	const char *path;

	ck_assert_int_eq(
	    hook_run(hooks, "/nonexistent/hook", &restart_info, 2000000, on_done, NULL), 0);
	for (int i = 0; i < 40 && done_calls == 0; i++)
		run_loop(50);
	ck_assert(WIFEXITED(done_status) && WEXITSTATUS(done_status) == 127);
	/* Written once: a script being run cannot be written (ETXTBSY). */
	path = script("long.sh", "sleep 30");
	for (int i = 0; i < HOOK_RUNNING_MAX; i++)
		ck_assert_int_eq(hook_run(hooks, path, &restart_info, 10000000, NULL, NULL), 0);
	ck_assert_int_eq(hook_run(hooks, path, &restart_info, 10000000, NULL, NULL), -EBUSY);
	/* hook_set_free() in the teardown kills and reaps them. */
}
END_TEST

START_TEST(test_env_too_small)
{
	char *env[20], buf[64];
	char *const envp[] = { "A=1", NULL };

	ck_assert_int_eq(hook_env(&restart_info, envp, env, 20, buf, sizeof(buf)), -E2BIG);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("hook");
	TCase *tc = tcase_create("hook");

	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_env_and_output);
	tcase_add_test(tc, test_timeout_kills_group);
	tcase_add_test(tc, test_not_taken_by_reaper);
	tcase_add_test(tc, test_exec_fails_and_cap);
	tcase_add_test(tc, test_env_too_small);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
