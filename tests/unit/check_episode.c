/*
 * check_episode.c: unit tests for src/episode.c; links nothing else.
 */

#include <check.h>
#include <stdint.h>

#include "episode.h"
#include "suite.h"

#define MS(x) ((uint64_t)(x)*1000)

START_TEST(test_first_then_repeats)
{
	struct episode e;
	struct episode_summary s;

	episode_init(&e);
	ck_assert(!episode_sample(&e, MS(0), 500, false, &s));
	ck_assert(episode_request(&e, MS(100), 750));
	ck_assert(!episode_sample(&e, MS(100), 750, true, &s));
	ck_assert(!episode_request(&e, MS(200), 760));
	ck_assert(!episode_request(&e, MS(300), 770));
}
END_TEST

/* A first request alone never makes a summary, however long it waits. */
START_TEST(test_first_alone_no_summary)
{
	struct episode e;
	struct episode_summary s;

	episode_init(&e);
	ck_assert(episode_request(&e, MS(100), 750));
	ck_assert(!episode_sample(&e, MS(1100), 760, true, &s));
	ck_assert(!episode_sample(&e, MS(5000), 760, true, &s));
}
END_TEST

/* Requests every 100 ms, the metric falling 200 after each: one line a
 * second with the repeats, the range and the fall per request. */
START_TEST(test_summary_each_second)
{
	struct episode e;
	struct episode_summary s = { 0 };
	unsigned lines = 0, reqs = 1;
	uint64_t t;

	episode_init(&e);
	ck_assert(episode_request(&e, MS(0), 800));
	for (t = MS(50); t <= MS(3000); t += MS(50)) {
		bool up = t % MS(100) == 0;

		if (up)
			ck_assert(!episode_request(&e, t, 800)), reqs++;
		if (episode_sample(&e, t, up ? 800 : 600, !up, &s)) {
			lines++;
			ck_assert_uint_eq(t % MS(1000), 0);
			ck_assert_uint_eq(s.span_usec, MS(1000));
			ck_assert_uint_eq(s.requests, 10);
			ck_assert_uint_eq(s.min_bytes, 600);
			ck_assert_uint_eq(s.max_bytes, 800);
			ck_assert_uint_eq(s.freed_bytes, 200);
		}
	}
	ck_assert_uint_eq(lines, 3);
	ck_assert_uint_eq(reqs, 31);
}
END_TEST

/* Requests at every sample, every 2 ms: still at most one line a second. */
START_TEST(test_at_most_one_line_a_second)
{
	struct episode e;
	struct episode_summary s;
	uint64_t t, last = 0;
	unsigned lines = 0;

	episode_init(&e);
	for (t = MS(2); t <= MS(10000); t += MS(2)) {
		episode_request(&e, t, 900);
		if (episode_sample(&e, t, 900, true, &s)) {
			ck_assert(lines == 0 || t - last >= MS(1000));
			last = t;
			lines++;
		}
	}
	ck_assert_uint_le(lines, 10);
	ck_assert_uint_ge(lines, 9);
}
END_TEST

/* The episode ends a second after its last request, once the policy's
 * episode has closed; the repeats are summed up first. */
START_TEST(test_episode_ends)
{
	struct episode e;
	struct episode_summary s;

	episode_init(&e);
	ck_assert(episode_request(&e, MS(0), 800));
	ck_assert(!episode_sample(&e, MS(50), 500, true, &s));
	ck_assert(!episode_request(&e, MS(100), 800));
	ck_assert(!episode_sample(&e, MS(500), 500, false, &s));
	ck_assert(episode_sample(&e, MS(1100), 500, false, &s));
	ck_assert_uint_eq(s.requests, 1);
	ck_assert_uint_eq(s.freed_bytes, 300);
	ck_assert(episode_request(&e, MS(1200), 800));
}
END_TEST

/* While the policy's episode is open the log's stays open. */
START_TEST(test_open_while_policy_episode)
{
	struct episode e;
	struct episode_summary s;

	episode_init(&e);
	ck_assert(episode_request(&e, MS(0), 800));
	ck_assert(!episode_sample(&e, MS(5000), 750, true, &s));
	ck_assert(!episode_request(&e, MS(6000), 800));
	ck_assert(episode_sample(&e, MS(6500), 500, false, &s));
	ck_assert_uint_eq(s.requests, 1);
	ck_assert_uint_eq(s.min_bytes, 500);
	ck_assert_uint_eq(s.max_bytes, 800);
	ck_assert(!episode_sample(&e, MS(6999), 500, false, &s));
	ck_assert(!episode_request(&e, MS(6999), 800));
	ck_assert(!episode_sample(&e, MS(7400), 500, false, &s));
	ck_assert(episode_sample(&e, MS(7999), 500, false, &s));
	ck_assert(!episode_sample(&e, MS(8000), 500, false, &s));
	ck_assert(episode_request(&e, MS(8000), 800));
}
END_TEST

/* A clock that steps back delays the line; it comes once time is past. */
START_TEST(test_clock_back)
{
	struct episode e;
	struct episode_summary s;

	episode_init(&e);
	ck_assert(episode_request(&e, MS(5000), 800));
	ck_assert(!episode_request(&e, MS(5100), 800));
	ck_assert(!episode_sample(&e, MS(100), 800, true, &s));
	ck_assert(episode_sample(&e, MS(6000), 800, true, &s));
}
END_TEST

static Suite *
episode_suite(void)
{
	Suite *s = suite_create("episode");
	TCase *tc = tcase_create("episode");

	tcase_add_test(tc, test_first_then_repeats);
	tcase_add_test(tc, test_first_alone_no_summary);
	tcase_add_test(tc, test_summary_each_second);
	tcase_add_test(tc, test_at_most_one_line_a_second);
	tcase_add_test(tc, test_episode_ends);
	tcase_add_test(tc, test_open_while_policy_episode);
	tcase_add_test(tc, test_clock_back);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return suite_run(episode_suite());
}
