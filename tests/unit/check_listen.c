/*
 * check_listen.c: the metrics endpoint's address.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <string.h>

#include "listen.h"
#include "suite.h"

static void
round_trip(const char *s, int family)
{
	struct listen_address a;
	char err[128], buf[LISTEN_TEXT_MAX];

	ck_assert_int_eq(listen_parse(s, &a, err, sizeof(err)), 0);
	ck_assert_int_eq(a.family, family);
	ck_assert_str_eq(listen_format(&a, buf, sizeof(buf)), s);
}

START_TEST(test_forms)
{
	struct listen_address a;
	char err[128];

	round_trip("127.0.0.1:9487", AF_INET);
	round_trip("[::1]:9487", AF_INET6);
	round_trip("0.0.0.0:1", AF_INET);
	round_trip("unix:/run/oomguard/metrics.sock", AF_UNIX);
	round_trip("none", AF_UNSPEC);
	ck_assert_int_eq(listen_parse("", &a, err, sizeof(err)), 0);
	ck_assert_int_eq(a.family, AF_UNSPEC);
	ck_assert_int_eq(listen_parse("127.0.0.1:9487", &a, err, sizeof(err)), 0);
	ck_assert_uint_eq(ntohs(((struct sockaddr_in *)&a.sa)->sin_port), 9487);
	ck_assert_uint_eq(a.len, sizeof(struct sockaddr_in));
}
END_TEST

START_TEST(test_refused)
{
	static const char *const bad[] = { "localhost:9487", "127.0.0.1", "127.0.0.1:0",
		"127.0.0.1:65536", "127.0.0.1:+80", "127.0.0.1:80x", "::1:9487", "[::1]9487",
		"[::1]:", "[127.0.0.1]:80", "unix:", "unix:relative.sock", ":9487", "1.2.3:80" };
	struct listen_address a = { .family = 99 };
	char err[128], longpath[200];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(listen_parse(bad[i], &a, err, sizeof(err)) == -EINVAL, "%s", bad[i]);
		ck_assert_int_eq(a.family, 99);
		ck_assert(err[0] != '\0');
	}
	memset(longpath, 'x', sizeof(longpath));
	memcpy(longpath, "unix:/", 6);
	longpath[sizeof(longpath) - 1] = '\0';
	ck_assert_int_eq(listen_parse(longpath, &a, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "at most 107"));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("listen");
	TCase *tc = tcase_create("listen");

	tcase_add_test(tc, test_forms);
	tcase_add_test(tc, test_refused);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
