/*
 * check_action.c: the SigCgt and cgroup membership checks on written proc
 * files, and real signals to real children through pidfds: sent inside
 * the cgroup, refused outside it, refused without a handler when one is
 * required, and nothing for a process that is gone.
 */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "action.h"
#include "file.h"
#include "suite.h"

START_TEST(test_parse_caught)
{
	const char *status = "Name:\tgcsim\nSigIgn:\t0000000000000000\n"
	                     "SigCgt:\t0000000180004202\nCapInh:\t0\n";

	ck_assert_int_eq(action_parse_caught(status, SIGUSR1), 1); /* bit 9 */
	ck_assert_int_eq(action_parse_caught(status, SIGINT), 1);  /* bit 1 */
	ck_assert_int_eq(action_parse_caught(status, SIGUSR2), 0);
	ck_assert_int_eq(action_parse_caught(status, SIGTERM), 1); /* bit 14 */
	ck_assert_int_eq(action_parse_caught(status, 33), 1);      /* bit 32 */
	ck_assert_int_eq(action_parse_caught(status, 64), 0);
	ck_assert_int_eq(action_parse_caught("Name:\tx\n", SIGUSR1), -EINVAL);
	ck_assert_int_eq(action_parse_caught(status, 0), -EINVAL);
}
END_TEST

static void
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	ck_assert(fp != NULL);
	fputs(text, fp);
	fclose(fp);
}

START_TEST(test_in_cgroup_text)
{
	char root[] = "/tmp/check_action_XXXXXX", dir[PATH_MAX + 16], path[PATH_MAX + 32];
	struct action_ctx v1 = { root, "/unused", "/app", 1 };
	struct action_ctx v2 = { root, "/unused", "/app", 2 };

	ck_assert(mkdtemp(root) != NULL);
	snprintf(dir, sizeof(dir), "%s/123", root);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/cgroup", dir);
	write_file(path, "5:cpu,cpuacct:/other\n4:memory:/app\n0::/\n");
	ck_assert_int_eq(action_in_cgroup(&v1, 123), 1);
	ck_assert_int_eq(action_in_cgroup(&v2, 123), 0);
	/* a prefix is not membership */
	write_file(path, "4:memory:/app2\n0::/app/sub\n");
	ck_assert_int_eq(action_in_cgroup(&v1, 123), 0);
	ck_assert_int_eq(action_in_cgroup(&v2, 123), 0);
	write_file(path, "0::/app\n");
	ck_assert_int_eq(action_in_cgroup(&v2, 123), 1);
	ck_assert_int_eq(action_in_cgroup(&v1, 123), 0);
	ck_assert_int_eq(action_in_cgroup(&v1, 999), -ENOENT);
	unlink(path);
	rmdir(dir);
	rmdir(root);
}
END_TEST

/* A cgroup.procs of 9,000 processes (60 KiB and more) is read whole:
 * none of these PIDs exists (above the kernel's PID_MAX_LIMIT), so each
 * is skipped, and none is signalled. */
START_TEST(test_many_procs)
{
	char dir[] = "/tmp/check_action_XXXXXX", path[PATH_MAX];
	struct action_ctx ctx = { "/proc", dir, "/unused", 1 };
	struct action_result res = { 0, 0, 0, 0 };
	FILE *fp;

	ck_assert(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	for (int i = 0; i < 9000; i++)
		fprintf(fp, "%d\n", 4200000 + i);
	fclose(fp);
	ck_assert_int_eq(action_signal_cgroup(&ctx, 0, SIGUSR1, false, &res), 0);
	ck_assert_int_eq(res.sent, 0);
	ck_assert_int_eq(res.skipped, 9000);
	unlink(path);
	rmdir(dir);
}
END_TEST

static void
usr1_exit(int sig)
{
	(void)sig;
	_exit(42);
}

/* A child that exits 42 on SIGUSR1 when handle, and otherwise waits. */
static pid_t
child(bool handle)
{
	sigset_t none;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (handle)
			signal(SIGUSR1, usr1_exit);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		for (int i = 0; i < 100; i++)
			usleep(50000);
		_exit(0);
	}
	/* Let it install its handler. */
	for (int i = 0; i < 100 && action_caught("/proc", pid, SIGUSR1) != handle; i++)
		usleep(10000);
	return pid;
}

/* Our own memory cgroup, as /proc/self/cgroup names it. */
static struct action_ctx
self_ctx(char *path, size_t len, int *version)
{
	char text[4096];
	const char *p;

	ck_assert_int_ge(file_read("/proc/self/cgroup", text, sizeof(text)), 0);
	p = strstr(text, ":memory:");
	*version = 1;
	if (p == NULL) {
		p = strstr(text, "0::");
		*version = 2;
		ck_assert(p != NULL);
		p += 3;
	} else {
		p += 8;
	}
	snprintf(path, len, "%.*s", (int)strcspn(p, "\n"), p);
	return (struct action_ctx){ "/proc", "/unused", path, *version };
}

START_TEST(test_signal_main)
{
	char path[PATH_MAX];
	int version, status;
	struct action_ctx ctx = self_ctx(path, sizeof(path), &version);
	struct action_ctx elsewhere = { "/proc", "/unused", "/no/such/cgroup", version };
	struct action_result res = { 0, 0, 0, 0 };
	pid_t pid;

	/* outside the watched cgroup: never signalled */
	pid = child(true);
	ck_assert_int_eq(action_signal_main(&elsewhere, pid, -1, SIGUSR1, false, &res), -EXDEV);
	/* inside: sent, and its handler ran */
	ck_assert_int_eq(action_signal_main(&ctx, pid, -1, SIGUSR1, true, &res), 0);
	ck_assert_int_eq(res.sent, 1);
	ck_assert_int_eq(res.pid, pid);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 42);
	/* reaped: gone, nothing sent */
	ck_assert_int_eq(action_signal_main(&ctx, pid, -1, SIGUSR1, false, &res), -ESRCH);

	/* without a handler, when one is required: refused */
	pid = child(false);
	ck_assert_int_eq(action_signal_main(&ctx, pid, -1, SIGUSR1, true, &res), -ENOTSUP);
	ck_assert_int_eq(action_signal_main(&ctx, pid, -1, SIGKILL, false, &res), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}
END_TEST

/* A target held open reads and signals through its descriptors; once the
 * process is reaped they answer ESRCH, so nothing can reach a reused PID. */
START_TEST(test_target)
{
	char path[PATH_MAX];
	int version, status;
	struct action_ctx ctx = self_ctx(path, sizeof(path), &version);
	struct action_ctx elsewhere = { "/proc", "/unused", "/no/such/cgroup", version };
	struct action_result res = { 0, 0, 0, 0 };
	struct action_target t;
	pid_t pid = child(true);

	ck_assert_int_eq(action_target_open("/proc", pid, -1, &t), 0);
	ck_assert_int_eq(t.pid, pid);
	ck_assert_int_eq(action_target_caught(&t, SIGUSR1), 1);
	ck_assert_int_eq(action_target_caught(&t, SIGUSR2), 0);
	ck_assert_int_eq(action_signal_target(&elsewhere, &t, SIGUSR1, false, &res), -EXDEV);
	ck_assert_int_eq(action_signal_target(&ctx, &t, SIGUSR2, true, &res), -ENOTSUP);
	ck_assert_int_eq(action_signal_target(&ctx, &t, SIGUSR1, true, &res), 0);
	ck_assert_int_eq(res.sent, 1);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 42);
	ck_assert_int_eq(action_target_caught(&t, SIGUSR1), -ESRCH);
	ck_assert_int_eq(action_signal_target(&ctx, &t, SIGKILL, false, &res), -ESRCH);
	action_target_close(&t);
	ck_assert_int_eq(t.pidfd, -1);
	ck_assert_int_eq(action_signal_target(&ctx, &t, SIGKILL, false, &res), -ESRCH);
	/* gone before it was opened */
	ck_assert_int_eq(action_target_open("/proc", pid, -1, &t), -ESRCH);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("action");
	TCase *tc = tcase_create("action");

	tcase_add_test(tc, test_parse_caught);
	tcase_add_test(tc, test_in_cgroup_text);
	tcase_add_test(tc, test_signal_main);
	tcase_add_test(tc, test_target);
	tcase_add_test(tc, test_many_procs);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
