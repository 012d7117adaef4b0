/*
 * check_stats.c: a guard's duration histograms.
 */
#include <check.h>
#include <stdlib.h>

#include "stats.h"
#include "suite.h"

START_TEST(test_buckets_by_upper_bound)
{
	struct stats_hist h = { 0 };

	stats_observe(&h, 0);
	stats_observe(&h, 100);     /* on the bound: in it */
	stats_observe(&h, 101);     /* just above: the next */
	stats_observe(&h, 5000000); /* the last bound */
	stats_observe(&h, 5000001); /* over every bound */
	ck_assert_uint_eq(h.bucket[0], 2);
	ck_assert_uint_eq(h.bucket[1], 1);
	ck_assert_uint_eq(h.bucket[STATS_BUCKETS - 1], 1);
	ck_assert_uint_eq(h.over, 1);
	ck_assert_uint_eq(h.count, 5);
	ck_assert_uint_eq(h.sum_usec, 10000202);
}
END_TEST

START_TEST(test_cumulative)
{
	struct stats_hist h = { 0 };

	stats_observe(&h, 50);
	stats_observe(&h, 300);
	stats_observe(&h, 300);
	stats_observe(&h, 9000000);
	ck_assert_uint_eq(stats_cumulative(&h, 0), 1);
	ck_assert_uint_eq(stats_cumulative(&h, 1), 1);
	ck_assert_uint_eq(stats_cumulative(&h, 2), 3);
	ck_assert_uint_eq(stats_cumulative(&h, STATS_BUCKETS - 1), 3);
	ck_assert_uint_eq(stats_cumulative(&h, STATS_BUCKETS), 4);
}
END_TEST

START_TEST(test_bounds_ascend)
{
	for (unsigned i = 1; i < STATS_BUCKETS; i++)
		ck_assert_uint_gt(stats_bucket_usec[i], stats_bucket_usec[i - 1]);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("stats");
	TCase *tc = tcase_create("stats");

	tcase_add_test(tc, test_buckets_by_upper_bound);
	tcase_add_test(tc, test_cumulative);
	tcase_add_test(tc, test_bounds_ascend);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
