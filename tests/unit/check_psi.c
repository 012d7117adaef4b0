/*
 * check_psi.c: parsing of pressure files, fixtures and edge cases, and
 * the refusal to write a trigger into a file that is not procfs or
 * cgroupfs.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "psi.h"
#include "suite.h"

START_TEST(test_parse)
{
	struct psi_stats s;

	ck_assert_int_eq(psi_parse("some avg10=1.23 avg60=0.05 avg300=10.00 total=71051\n"
	                           "full avg10=0.50 avg60=0.00 avg300=0.00 total=64660\n",
	                     &s),
	    0);
	ck_assert_uint_eq(s.some.avg10, 123);
	ck_assert_uint_eq(s.some.avg60, 5);
	ck_assert_uint_eq(s.some.avg300, 1000);
	ck_assert_uint_eq(s.some.total_usec, 71051);
	ck_assert(s.has_full);
	ck_assert_uint_eq(s.full.avg10, 50);
	ck_assert_uint_eq(s.full.total_usec, 64660);
	/* the cpu file of older kernels has no full line */
	ck_assert_int_eq(psi_parse("some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", &s), 0);
	ck_assert(!s.has_full);
	ck_assert_int_eq(
	    psi_parse("full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", &s), -EINVAL);
	ck_assert_int_eq(psi_parse("some avg10=x\n", &s), -EINVAL);
	ck_assert_int_eq(psi_parse("", &s), -EINVAL);
}
END_TEST

START_TEST(test_over)
{
	struct psi_stats s;
	struct psi_trigger some = { true, false, 150000, 1000000 }; /* 15% */
	struct psi_trigger full = { true, true, 100000, 2000000 };  /* 5% */

	ck_assert_int_eq(psi_parse("some avg10=15.00 avg60=0.00 avg300=0.00 total=1\n"
	                           "full avg10=4.99 avg60=0.00 avg300=0.00 total=1\n",
	                     &s),
	    0);
	ck_assert(psi_over(&s, &some));  /* exactly at the rate */
	ck_assert(!psi_over(&s, &full)); /* just below */
	s.full.avg10 = 500;
	ck_assert(psi_over(&s, &full));
	s.some.avg10 = 1499;
	ck_assert(!psi_over(&s, &some));
	s.has_full = false;
	ck_assert(!psi_over(&s, &full));
	some.enabled = false;
	s.some.avg10 = 10000;
	ck_assert(!psi_over(&s, &some));
}
END_TEST

START_TEST(test_read_fixture)
{
	struct psi_stats s;

	ck_assert_int_eq(psi_read("tests/fixtures/hybrid/proc/pressure/memory", &s), 0);
	ck_assert(s.has_full);
	ck_assert_int_eq(psi_read("tests/fixtures/nonexistent", &s), -ENOENT);
}
END_TEST

START_TEST(test_trigger_refuses_plain_file)
{
	struct psi_trigger t = { true, false, 150000, 1000000 };
	char tmp[] = "/tmp/check_psi_XXXXXX";
	int fd = mkstemp(tmp), epfd = -1, psifd = -1;
	char buf[8] = "";

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "some", 4), 4);
	ck_assert_int_eq(psi_trigger_open(tmp, &t, &epfd, &psifd), -ENOTSUP);
	ck_assert_int_eq(pread(fd, buf, 4, 0), 4);
	ck_assert_str_eq(buf, "some"); /* not overwritten */
	close(fd);
	unlink(tmp);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("psi");
	TCase *tc = tcase_create("psi");

	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_over);
	tcase_add_test(tc, test_read_fixture);
	tcase_add_test(tc, test_trigger_refuses_plain_file);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
