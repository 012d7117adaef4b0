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
	/* the low point after a gc request looked for: poll_min, even where
	 * the kernel's thresholds would say */
	in.seeking_low = true;
	in.kernel_watches = true;
	ck_assert_uint_eq(schedule_next(&params, &levels, &in), 2000);
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

/* The read rule: memory.stat only when the usage reaches a level the
 * metric is compared with (levels: gc 768, restart 900, kill 990, rearm
 * 700 MiB). */
START_TEST(test_read_stat)
{
	struct policy_state st = { 0 };

	/* under gc, no episode: the usage stands in for the metric */
	ck_assert(!schedule_read_stat(&levels, &st, false, 767 * MiB));
	ck_assert(schedule_read_stat(&levels, &st, false, 768 * MiB));
	ck_assert(schedule_read_stat(&levels, &st, false, 995 * MiB));
	/* the metric is the usage: nothing to read */
	ck_assert(!schedule_read_stat(&levels, &st, true, 995 * MiB));
	/* every level off: nothing to compare */
	ck_assert(!schedule_read_stat(&off, &st, false, 995 * MiB));
	/* in an episode the rearm level counts */
	st.in_episode = true;
	ck_assert(schedule_read_stat(&levels, &st, false, 700 * MiB));
	ck_assert(!schedule_read_stat(&levels, &st, false, 699 * MiB));
	/* a gc request awaiting its effect: its fall counts (a sixteenth of
	 * 760 MiB is 47.5 MiB: 712.5 MiB), under rearm or above it */
	st.in_episode = false;
	st.gc_ever = true;
	st.gc_request_bytes = 760 * MiB;
	ck_assert(schedule_read_stat(&levels, &st, false, 713 * MiB));
	ck_assert(!schedule_read_stat(&levels, &st, false, 712 * MiB));
	st.gc_effect = true;
	ck_assert(!schedule_read_stat(&levels, &st, false, 767 * MiB));
	/* a restart level under gc counts as well */
	{
		const struct policy_levels low = { 768 * MiB, 600 * MiB, POLICY_OFF, 500 * MiB };

		ck_assert(schedule_read_stat(&low, &st, false, 650 * MiB));
		ck_assert(!schedule_read_stat(&low, &st, false, 599 * MiB));
	}
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
	tcase_add_test(tc, test_read_stat);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
