/*
 * check_supervise.c: the pure decisions (exit codes, restart, back-off,
 * forwarded signals) from tables, and the PID 1 duties on real processes:
 * exit statuses, exec failures, signals, orphans, the terminal.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "supervise.h"
#include "suite.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define SEC      1000000ULL

/* Every wait below gives up after this long, so a broken module fails
 * the test instead of hanging it. */
#define WAIT_MSEC 5000

/* Reap until the child pid ends; return its exit code, or -ETIMEDOUT. */
static int
wait_exit_code(pid_t pid)
{
	int status, r, i;

	for (i = 0; i < WAIT_MSEC / 10; i++) {
		r = supervise_reap(pid, &status);
		ck_assert_int_ge(r, 0);
		if (r == 1)
			return supervise_exit_code(status);
		usleep(10000);
	}
	return -ETIMEDOUT;
}

/* Spawn argv as the first generation, without the terminal. */
static struct supervise_child
spawn(char *const argv[])
{
	struct supervise_child c;

	ck_assert_int_eq(supervise_spawn(argv, false, 42, 1, &c), 0);
	ck_assert_int_gt(c.pid, 0);
	return c;
}

/* Whether we have any child, exited or not, without reaping it. */
static bool
have_children(void)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == 0)
		return true;
	ck_assert_int_eq(errno, ECHILD);
	return false;
}

START_TEST(test_exit_code_table)
{
	ck_assert_int_eq(supervise_exit_code(W_EXITCODE(0, 0)), 0);
	ck_assert_int_eq(supervise_exit_code(W_EXITCODE(3, 0)), 3);
	ck_assert_int_eq(supervise_exit_code(W_EXITCODE(255, 0)), 255);
	ck_assert_int_eq(supervise_exit_code(W_EXITCODE(0, SIGTERM)), 143);
	ck_assert_int_eq(supervise_exit_code(W_EXITCODE(0, SIGKILL)), 137);
	/* a core dump does not change the code */
	ck_assert_int_eq(supervise_exit_code(W_EXITCODE(0, SIGSEGV) | WCOREFLAG), 139);
	ck_assert_int_eq(supervise_exit_code(W_STOPCODE(SIGSTOP)), -EINVAL);
}
END_TEST

static const struct {
	enum restart_mode mode;
	bool by_watchdog, shutting_down, want;
} restart_cases[] = {
	{ RESTART_ON_WATCHDOG, false, false, false },
	{ RESTART_ON_WATCHDOG, true, false, true },
	{ RESTART_ON_WATCHDOG, false, true, false },
	{ RESTART_ON_WATCHDOG, true, true, false },
	{ RESTART_ALWAYS, false, false, true },
	{ RESTART_ALWAYS, true, false, true },
	{ RESTART_ALWAYS, false, true, false },
	{ RESTART_ALWAYS, true, true, false },
	{ RESTART_NEVER, false, false, false },
	{ RESTART_NEVER, true, false, false },
	{ RESTART_NEVER, false, true, false },
	{ RESTART_NEVER, true, true, false },
};

START_TEST(test_should_restart)
{
	enum restart_mode mode = restart_cases[_i].mode;
	bool got = supervise_should_restart(
	    mode, restart_cases[_i].by_watchdog, restart_cases[_i].shutting_down);

	ck_assert_msg(got == restart_cases[_i].want, "case %d", _i);
}
END_TEST

/* base 1s, max 60s, stable 60s, as the defaults. */
static const struct {
	uint64_t prev_usec, run_usec, want_usec;
} backoff_cases[] = {
	{ 0, 0, 1 * SEC },                   /* the first restart */
	{ 0, 3600 * SEC, 1 * SEC },          /* the first, after a long run */
	{ 1 * SEC, 0, 2 * SEC },             /* doubling */
	{ 2 * SEC, 5 * SEC, 4 * SEC },       /* ... */
	{ 16 * SEC, 59 * SEC, 32 * SEC },    /* just short of stable */
	{ 32 * SEC, 0, 60 * SEC },           /* capped */
	{ 60 * SEC, 0, 60 * SEC },           /* stays at the cap */
	{ 60 * SEC, 60 * SEC, 1 * SEC },     /* exactly stable: reset */
	{ 32 * SEC, 61 * SEC, 1 * SEC },     /* stable: reset */
	{ UINT64_MAX / 2 + 1, 0, 60 * SEC }, /* doubling would overflow */
};

START_TEST(test_backoff_table)
{
	uint64_t got_usec = supervise_backoff(
	    backoff_cases[_i].prev_usec, backoff_cases[_i].run_usec, 1 * SEC, 60 * SEC, 60 * SEC);

	ck_assert_msg(got_usec == backoff_cases[_i].want_usec, "case %d: %llu", _i,
	    (unsigned long long)got_usec);
}
END_TEST

/* A crash loop from the start: 1, 2, 4, ..., capped; a stable run resets. */
START_TEST(test_backoff_sequence)
{
	static const uint64_t want_sec[] = { 1, 2, 4, 8, 16, 30, 30, 30 };
	uint64_t delay = 0;
	size_t i;

	for (i = 0; i < NELEM(want_sec); i++) {
		delay = supervise_backoff(delay, 1 * SEC, 1 * SEC, 30 * SEC, 10 * SEC);
		ck_assert_uint_eq(delay, want_sec[i] * SEC);
	}
	delay = supervise_backoff(delay, 10 * SEC, 1 * SEC, 30 * SEC, 10 * SEC);
	ck_assert_uint_eq(delay, 1 * SEC);
	delay = supervise_backoff(delay, 1 * SEC, 1 * SEC, 30 * SEC, 10 * SEC);
	ck_assert_uint_eq(delay, 2 * SEC);
	/* a zero base restarts at once, forever */
	ck_assert_uint_eq(supervise_backoff(0, 0, 0, 30 * SEC, 10 * SEC), 0);
	ck_assert_uint_eq(supervise_backoff(0, 0, 0, 30 * SEC, 10 * SEC), 0);
}
END_TEST

static bool
contains(const int *sigs, int n, int sig)
{
	for (int i = 0; i < n; i++)
		if (sigs[i] == sig)
			return true;
	return false;
}

START_TEST(test_forwarded_signals)
{
	const int want[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGALRM,
		SIGCONT, SIGTSTP, SIGURG, SIGRTMIN, SIGRTMAX };
	static const int never[] = { SIGCHLD, SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGFPE, SIGILL,
		SIGABRT, SIGTRAP, SIGSYS, SIGPIPE, SIGXFSZ, SIGTTIN, SIGTTOU, 32, 33 };
	int sigs[SUPERVISE_SIGNALS_MAX], n, i;

	n = supervise_forwarded_signals(sigs, SUPERVISE_SIGNALS_MAX);
	ck_assert_int_gt(n, 0);
	for (i = 0; i < (int)NELEM(want); i++)
		ck_assert_msg(contains(sigs, n, want[i]), "signal %d not forwarded", want[i]);
	for (i = 0; i < (int)NELEM(never); i++)
		ck_assert_msg(!contains(sigs, n, never[i]), "signal %d forwarded", never[i]);
	/* ascending, so no duplicates, and all real signals */
	for (i = 0; i < n; i++) {
		ck_assert_int_ge(sigs[i], 1);
		ck_assert_int_le(sigs[i], SIGRTMAX);
		if (i > 0)
			ck_assert_int_gt(sigs[i], sigs[i - 1]);
	}
	/* 31 standard signals less 14 kept, and every real-time signal */
	ck_assert_int_eq(n, 31 - 14 + SIGRTMAX - SIGRTMIN + 1);
}
END_TEST

START_TEST(test_forwarded_signals_short)
{
	int sigs[4] = { -1, -1, -1, -1 };

	ck_assert_int_eq(supervise_forwarded_signals(sigs, 4), -ENOBUFS);
	ck_assert_int_eq(sigs[0], -1);
}
END_TEST

START_TEST(test_exit_3)
{
	char *argv[] = { "/bin/sh", "-c", "exit 3", NULL };
	struct supervise_child c = spawn(argv);

	ck_assert_uint_eq(c.started_usec, 42);
	ck_assert_uint_eq(c.generation, 1);
	ck_assert_int_eq(c.exec_errno, 0);
	ck_assert_int_eq(wait_exit_code(c.pid), 3);
	supervise_release(&c);
	ck_assert_int_eq(c.pidfd, -1);
	ck_assert_int_eq(c.pid, 0);
	/* twice is harmless */
	supervise_release(&c);
}
END_TEST

/* The reason comes back to the caller (who logs it in its own format);
 * the child writes nothing to our stderr: capture it in a file. */
START_TEST(test_not_found_127)
{
	char *argv[] = { "/nonexistent/oomguard-app", "x", NULL };
	char path[] = "/tmp/check_supervise.XXXXXX";
	struct supervise_child c;
	int fd, saved;
	struct stat st;

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	unlink(path);
	saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	c = spawn(argv);
	ck_assert_int_eq(c.exec_errno, ENOENT);
	ck_assert_int_eq(wait_exit_code(c.pid), 127);
	dup2(saved, STDERR_FILENO);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(st.st_size, 0);
	close(fd);
	close(saved);
	supervise_release(&c);
}
END_TEST

/* Looked up in PATH and not found there either. */
START_TEST(test_not_in_path_127)
{
	char *argv[] = { "oomguard-no-such-command", NULL };
	struct supervise_child c;
	int fd = open("/dev/null", O_WRONLY);

	ck_assert_int_ge(fd, 0);
	dup2(fd, STDERR_FILENO);
	c = spawn(argv);
	ck_assert_int_eq(wait_exit_code(c.pid), 127);
	supervise_release(&c);
}
END_TEST

/* A script without the execute bit: EACCES, even for root. */
START_TEST(test_not_executable_126)
{
	char path[] = "/tmp/check_supervise.XXXXXX";
	char *argv[] = { path, NULL };
	struct supervise_child c;
	int fd, null;

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "#!/bin/sh\nexit 0\n", 17), 17);
	ck_assert_int_eq(fchmod(fd, 0644), 0);
	close(fd);
	null = open("/dev/null", O_WRONLY);
	dup2(null, STDERR_FILENO);
	c = spawn(argv);
	ck_assert_int_eq(c.exec_errno, EACCES);
	ck_assert_int_eq(wait_exit_code(c.pid), 126);
	unlink(path);
	supervise_release(&c);
}
END_TEST

START_TEST(test_no_argv)
{
	char *argv[] = { NULL };
	struct supervise_child c = { .pid = 7 };

	ck_assert_int_eq(supervise_spawn(argv, false, 0, 1, &c), -EINVAL);
	ck_assert_int_eq(c.pid, 7);
}
END_TEST

/* The child must get SIGTERM's default action even though we ignore it
 * and block it, and must sit in a process group of its own; our own mask
 * must be as it was. */
START_TEST(test_sigterm_143)
{
	char *argv[] = { "sleep", "10", NULL };
	struct supervise_child c;
	sigset_t set, after;

	signal(SIGTERM, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_SETMASK, &set, NULL);
	c = spawn(argv);
	sigprocmask(SIG_SETMASK, NULL, &after);
	ck_assert(sigismember(&after, SIGTERM) && sigismember(&after, SIGUSR1));
	ck_assert(!sigismember(&after, SIGHUP));
	ck_assert_int_eq(getpgid(c.pid), c.pid);
	ck_assert_int_ne(getpgid(c.pid), getpgrp());
	ck_assert_int_eq(supervise_signal(&c, SIGTERM), 0);
	ck_assert_int_eq(wait_exit_code(c.pid), 143);
	/* reaped but not released: the pidfd knows it is gone */
	ck_assert_int_eq(supervise_signal(&c, 0), -ESRCH);
	supervise_release(&c);
	ck_assert_int_eq(supervise_signal(&c, 0), -ESRCH);
}
END_TEST

/* Without a pidfd, the PID is used. */
START_TEST(test_kill_fallback_137)
{
	char *argv[] = { "sleep", "10", NULL };
	struct supervise_child c = spawn(argv);

	if (c.pidfd >= 0)
		close(c.pidfd);
	c.pidfd = -1;
	ck_assert_int_eq(supervise_signal(&c, SIGKILL), 0);
	ck_assert_int_eq(wait_exit_code(c.pid), 137);
	supervise_release(&c);
	/* kill(0) would have reached our own process group */
	ck_assert_int_eq(supervise_signal(&c, 0), -ESRCH);
}
END_TEST

/* A pidfd whose process is gone while its PID now names a live process
 * (here ourselves, as after PID reuse): the signal must not get through. */
START_TEST(test_pidfd_not_pid)
{
	char *argv[] = { "true", NULL };
	struct supervise_child c = spawn(argv);

	if (c.pidfd < 0) {
		fprintf(stderr, "skipped: pidfd_open unavailable on this kernel\n");
		return;
	}
	ck_assert_int_eq(wait_exit_code(c.pid), 0);
	c.pid = getpid();
	ck_assert_int_eq(supervise_signal(&c, 0), -ESRCH);
	supervise_release(&c);
}
END_TEST

START_TEST(test_reap_nothing)
{
	int status = 12345;

	ck_assert_int_eq(supervise_reap(1, &status), 0);
	ck_assert_int_eq(status, 12345);
}
END_TEST

/* Three children that have all exited: one call reaps them all. */
START_TEST(test_reap_many)
{
	char *argv[] = { "true", NULL };
	struct supervise_child c[3];
	siginfo_t si;
	int status = -1, i, j;

	for (i = 0; i < 3; i++)
		c[i] = spawn(argv);
	for (i = 0; i < 3; i++) {
		for (j = 0; j < WAIT_MSEC / 10; j++) {
			memset(&si, 0, sizeof(si));
			ck_assert_int_eq(
			    waitid(P_PID, (id_t)c[i].pid, &si, WEXITED | WNOHANG | WNOWAIT), 0);
			if (si.si_pid != 0)
				break;
			usleep(10000);
		}
		ck_assert_int_eq(si.si_pid, c[i].pid);
	}
	ck_assert_int_eq(supervise_reap(c[1].pid, &status), 1);
	ck_assert_int_eq(supervise_exit_code(status), 0);
	ck_assert(!have_children());
	for (i = 0; i < 3; i++)
		supervise_release(&c[i]);
}
END_TEST

/* The shell leaves a sleep behind: as subreaper we inherit it, and
 * supervise_reap() collects it once it ends. */
START_TEST(test_orphan_reaped)
{
	char *argv[] = { "/bin/sh", "-c", "sleep 0.5 & exit 0", NULL };
	struct supervise_child c;
	int i, r, status, flag = 0;

	ck_assert_int_eq(supervise_init(), 0);
	ck_assert_int_eq(prctl(PR_GET_CHILD_SUBREAPER, &flag, 0, 0, 0), 0);
	ck_assert_int_eq(flag, 1);
	c = spawn(argv);
	ck_assert_int_eq(wait_exit_code(c.pid), 0);
	ck_assert_msg(have_children(), "the orphan was not reparented to us");
	for (i = 0; i < WAIT_MSEC / 10 && have_children(); i++) {
		r = supervise_reap(c.pid, &status);
		ck_assert_int_eq(r, 0);
		usleep(10000);
	}
	ck_assert_msg(!have_children(), "the orphan was not reaped");
	supervise_release(&c);
}
END_TEST

START_TEST(test_no_terminal)
{
	int null = open("/dev/null", O_RDONLY);

	ck_assert_int_ge(null, 0);
	dup2(null, STDIN_FILENO);
	ck_assert(!supervise_in_foreground());
}
END_TEST

/* In a new session with a pseudo-terminal as controlling terminal, the
 * child takes the foreground, and we are then in the background. Runs in
 * a process of its own, so that the new session leaves the test process
 * alone and setsid() cannot meet a group leader; its exit code names the
 * step that failed. */
static int
terminal_session(const char *slave)
{
	char *argv[] = { "sleep", "10", NULL };
	struct supervise_child c;
	int fd, i, got = 0;

	if (setsid() < 0)
		return 10;
	fd = open(slave, O_RDWR);
	if (fd < 0 || dup2(fd, STDIN_FILENO) < 0)
		return 11;
	if (!supervise_in_foreground())
		return 12;
	if (supervise_spawn(argv, true, 0, 1, &c) < 0)
		return 13;
	for (i = 0; i < WAIT_MSEC / 10 && !got; i++) {
		got = tcgetpgrp(STDIN_FILENO) == c.pid;
		usleep(10000);
	}
	(void)supervise_signal(&c, SIGKILL);
	(void)waitpid(c.pid, NULL, 0);
	if (!got)
		return 14;
	if (supervise_in_foreground())
		return 15;
	return 0;
}

START_TEST(test_take_terminal)
{
	int master, status, i;
	pid_t pid, r = 0;

	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0) {
		fprintf(stderr, "skipped: no pseudo-terminal: %s\n", strerror(errno));
		return;
	}
	ck_assert_int_eq(grantpt(master), 0);
	ck_assert_int_eq(unlockpt(master), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(terminal_session(ptsname(master)));
	for (i = 0; i < 2 * WAIT_MSEC / 10 && r == 0; i++) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == 0)
			usleep(10000);
	}
	ck_assert_int_eq(r, pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "session step %d failed",
	    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	close(master);
}
END_TEST

/* supervise_spawn() returns after the exec: the child's image is the
 * app's, so its SigCgt is no longer ours. */
START_TEST(test_exec_done_on_return)
{
	char *argv[] = { "sleep", "5", NULL };
	struct supervise_child c = spawn(argv);
	char path[64], exe[PATH_MAX];
	ssize_t n;
	int status;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)c.pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	ck_assert_int_gt(n, 0);
	exe[n] = '\0';
	ck_assert_ptr_nonnull(strstr(exe, "sleep"));
	ck_assert_int_eq(supervise_signal(&c, SIGKILL), 0);
	ck_assert_int_eq(waitpid(c.pid, &status, 0), c.pid);
	supervise_release(&c);
}
END_TEST

static Suite *
supervise_suite(void)
{
	Suite *s = suite_create("supervise");
	TCase *pure = tcase_create("pure");
	TCase *proc = tcase_create("processes");

	tcase_add_test(pure, test_exit_code_table);
	tcase_add_loop_test(pure, test_should_restart, 0, NELEM(restart_cases));
	tcase_add_loop_test(pure, test_backoff_table, 0, NELEM(backoff_cases));
	tcase_add_test(pure, test_backoff_sequence);
	tcase_add_test(pure, test_forwarded_signals);
	tcase_add_test(pure, test_forwarded_signals_short);
	suite_add_tcase(s, pure);

	tcase_set_timeout(proc, 15);
	tcase_add_test(proc, test_exit_3);
	tcase_add_test(proc, test_not_found_127);
	tcase_add_test(proc, test_not_in_path_127);
	tcase_add_test(proc, test_not_executable_126);
	tcase_add_test(proc, test_no_argv);
	tcase_add_test(proc, test_sigterm_143);
	tcase_add_test(proc, test_kill_fallback_137);
	tcase_add_test(proc, test_pidfd_not_pid);
	tcase_add_test(proc, test_reap_nothing);
	tcase_add_test(proc, test_reap_many);
	tcase_add_test(proc, test_orphan_reaped);
	tcase_add_test(proc, test_no_terminal);
	tcase_add_test(proc, test_take_terminal);
	tcase_add_test(proc, test_exec_done_on_return);
	suite_add_tcase(s, proc);
	return s;
}

int
main(void)
{
	return suite_run(supervise_suite());
}
