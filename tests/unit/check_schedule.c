/*
 * check_schedule.c: the adaptive polling interval.
 */
#include <check.h>
#include <stdlib.h>

#include "schedule.h"
#include "suite.h"

#define MiB (1ULL << 20)

static const struct schedule_params params = { 2000, 1000000, 1024 * MiB };
static const struct policy_levels levels = { 768 * MiB, 900 * MiB, 990 * MiB, 700 * MiB };
static const struct policy_levels off = { POLICY_OFF, POLICY_OFF, POLICY_OFF, POLICY_OFF };

START_TEST(test_far_is_poll_max)
{
	/* 758 MiB of headroom at 1 GiB/s */
	ck_assert_uint_eq(schedule_interval(&params, &levels, 10 * MiB, false), 740234);
	ck_assert_uint_eq(schedule_interval(&params, &off, 10 * MiB, false), 1000000);
}
END_TEST

START_TEST(test_headroom_over_growth)
{
	/* 256 MiB below gc at 1 GiB/s: a quarter of a second */
	ck_assert_uint_eq(schedule_interval(&params, &levels, 512 * MiB, false), 250000);
	/* 1 MiB below: about 1 ms, clamped up to poll_min */
	ck_assert_uint_eq(schedule_interval(&params, &levels, 767 * MiB, false), 2000);
	/* above gc, the next level up counts: 90 MiB to restart */
	ck_assert_uint_eq(schedule_interval(&params, &levels, 810 * MiB, false), 87890);
}
END_TEST

START_TEST(test_exactly_at_level)
{
	/* at gc the nearest level above is restart */
	ck_assert_uint_eq(schedule_interval(&params, &levels, 768 * MiB, false), 128906);
	/* above every level: poll_max, bounded during the episode */
	ck_assert_uint_eq(schedule_interval(&params, &levels, 995 * MiB, false), 1000000);
	ck_assert_uint_eq(
	    schedule_interval(&params, &levels, 995 * MiB, true), SCHEDULE_EPISODE_MAX_USEC);
}
END_TEST

START_TEST(test_episode_bound)
{
	ck_assert_uint_eq(schedule_interval(&params, &levels, 800 * MiB, true), 97656);
	ck_assert_uint_eq(
	    schedule_interval(&params, &levels, 100 * MiB, true), SCHEDULE_EPISODE_MAX_USEC);
}
END_TEST

START_TEST(test_zero_growth)
{
	struct schedule_params p = { 2000, 1000000, 0 };

	ck_assert_uint_eq(schedule_interval(&p, &levels, 0, false), 1000000);
	ck_assert_uint_eq(schedule_interval(&p, &levels, 768 * MiB - 1, false), 1000000);
}
END_TEST

START_TEST(test_next_pressure)
{
	struct schedule_inputs in = { .metric_bytes = 10 * MiB, .pressure = true };

	/* far from every level, but under pressure: poll_min */
	ck_assert_uint_eq(schedule_next(&params, &levels, &in), 2000);
	in.pressure = false;
	ck_assert_uint_eq(schedule_next(&params, &levels, &in), 740234);
}
END_TEST

START_TEST(test_next_kernel_watches)
{
	struct schedule_inputs in = {
		.metric_bytes = 760 * MiB, .kernel_watches = true, .usage_bytes = 767 * MiB
	};

	/* 8 MiB below gc, the usage 1 MiB below: the thresholds will say */
	ck_assert_uint_eq(schedule_next(&params, &levels, &in), 1000000);
	/* the usage at gc: the metric may cross unseen, headroom as before */
	in.usage_bytes = 768 * MiB;
	ck_assert_uint_eq(schedule_next(&params, &levels, &in), 7812);
	/* during an episode the bound holds */
	in.usage_bytes = 700 * MiB;
	in.in_episode = true;
	ck_assert_uint_eq(schedule_next(&params, &levels, &in), 7812);
	/* without the kernel's thresholds */
	in.in_episode = false;
	in.kernel_watches = false;
	ck_assert_uint_eq(schedule_next(&params, &levels, &in), 7812);
	/* no level armed: poll_max in any case */
	in.kernel_watches = true;
	ck_assert_uint_eq(schedule_next(&params, &off, &in), 1000000);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("schedule");
	TCase *tc = tcase_create("schedule");

	tcase_add_test(tc, test_far_is_poll_max);
	tcase_add_test(tc, test_headroom_over_growth);
	tcase_add_test(tc, test_exactly_at_level);
	tcase_add_test(tc, test_episode_bound);
	tcase_add_test(tc, test_zero_growth);
	tcase_add_test(tc, test_next_pressure);
	tcase_add_test(tc, test_next_kernel_watches);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
