/*
 * check_service.c: the sd_notify messages, as a service manager would
 * receive them on the datagram socket NOTIFY_SOCKET names.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "service.h"
#include "suite.h"

static int manager_fd = -1;
static char manager_dir[64], manager_sock[96];

static void
manager_start(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	strcpy(manager_dir, "/tmp/check_service.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(manager_dir));
	snprintf(manager_sock, sizeof(manager_sock), "%s/notify", manager_dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", manager_sock);
	manager_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(manager_fd, 0);
	ck_assert_int_eq(bind(manager_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	setenv("NOTIFY_SOCKET", manager_sock, 1);
}

static void
manager_stop(void)
{
	close(manager_fd);
	unlink(manager_sock);
	rmdir(manager_dir);
}

/* The next message the manager got, or "" when none is waiting:
 * sd_notify() has sent it by the time it returns. */
static const char *
received(void)
{
	static char buf[1024];
	ssize_t n = recv(manager_fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	if (n < 0) {
		ck_assert_int_eq(errno, EAGAIN);
		n = 0;
	}
	buf[n] = '\0';
	return buf;
}

#if OOMGUARD_SYSTEMD

START_TEST(test_states)
{
	service_ready();
	ck_assert_str_eq(received(), "READY=1");
	service_stopping();
	ck_assert_str_eq(received(), "STOPPING=1");
	service_watchdog();
	ck_assert_str_eq(received(), "WATCHDOG=1");
	service_watchdog();
	ck_assert_str_eq(received(), "WATCHDOG=1");
	ck_assert_str_eq(received(), "");
}
END_TEST

START_TEST(test_status_repeats_skipped)
{
	service_status("watching app.service");
	ck_assert_str_eq(received(), "STATUS=watching app.service");
	service_status("watching app.service");
	ck_assert_str_eq(received(), "");
	service_status("gc sent");
	ck_assert_str_eq(received(), "STATUS=gc sent");
	service_status("watching app.service");
	ck_assert_str_eq(received(), "STATUS=watching app.service");
}
END_TEST

START_TEST(test_status_one_line)
{
	char text[SERVICE_STATUS_MAX + 100], want[sizeof("STATUS=") + SERVICE_STATUS_MAX];

	/* A newline would make "READY=1" an assignment of its own. */
	service_status("a\nREADY=1");
	ck_assert_str_eq(received(), "STATUS=a READY=1");
	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	/* cut to SERVICE_STATUS_MAX characters */
	memcpy(want, "STATUS=", 7);
	memset(want + 7, 'x', SERVICE_STATUS_MAX);
	want[7 + SERVICE_STATUS_MAX] = '\0';
	service_status(text);
	ck_assert_str_eq(received(), want);
}
END_TEST

START_TEST(test_status_unsent_not_remembered)
{
	/* Without a manager nothing is sent, so nothing is taken as known. */
	unsetenv("NOTIFY_SOCKET");
	service_status("starting");
	service_ready();
	setenv("NOTIFY_SOCKET", manager_sock, 1);
	ck_assert_str_eq(received(), "");
	service_status("starting");
	ck_assert_str_eq(received(), "STATUS=starting");
}
END_TEST

START_TEST(test_reloading)
{
	struct timespec t0, t1;
	unsigned long long before, after, usec;
	const char *m;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	service_reloading();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	m = received();
	ck_assert_msg(sscanf(m, "RELOADING=1\nMONOTONIC_USEC=%llu", &usec) == 1, "%s", m);
	before = (unsigned long long)t0.tv_sec * 1000000 + (unsigned long long)t0.tv_nsec / 1000;
	after = (unsigned long long)t1.tv_sec * 1000000 + (unsigned long long)t1.tv_nsec / 1000;
	ck_assert_uint_ge(usec, before);
	ck_assert_uint_le(usec, after);
}
END_TEST

START_TEST(test_watchdog_usec)
{
	char pid[16];

	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	ck_assert_uint_eq(service_watchdog_usec(), 0);
	setenv("WATCHDOG_USEC", "3000000", 1);
	ck_assert_uint_eq(service_watchdog_usec(), 3000000);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	ck_assert_uint_eq(service_watchdog_usec(), 3000000);
	/* Set for another process (ours passed it on): not ours. */
	snprintf(pid, sizeof(pid), "%d", (int)getpid() + 1);
	setenv("WATCHDOG_PID", pid, 1);
	ck_assert_uint_eq(service_watchdog_usec(), 0);
}
END_TEST

#else /* !OOMGUARD_SYSTEMD */

START_TEST(test_silent_without_systemd)
{
	service_ready();
	service_status("watching");
	service_reloading();
	service_stopping();
	service_watchdog();
	ck_assert_str_eq(received(), "");
	setenv("WATCHDOG_USEC", "3000000", 1);
	ck_assert_uint_eq(service_watchdog_usec(), 0);
}
END_TEST

#endif

int
main(void)
{
	Suite *s = suite_create("service");
	TCase *tc = tcase_create("notify");

	tcase_add_checked_fixture(tc, manager_start, manager_stop);
#if OOMGUARD_SYSTEMD
	tcase_add_test(tc, test_states);
	tcase_add_test(tc, test_status_repeats_skipped);
	tcase_add_test(tc, test_status_one_line);
	tcase_add_test(tc, test_status_unsent_not_remembered);
	tcase_add_test(tc, test_reloading);
	tcase_add_test(tc, test_watchdog_usec);
#else
	tcase_add_test(tc, test_silent_without_systemd);
#endif
	suite_add_tcase(s, tc);
	return suite_run(s);
}
