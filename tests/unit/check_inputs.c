/*
 * check_inputs.c: what a sample means (inputs.c, pure): the limit the
 * levels count from, never one oomguard wrote; the levels; the kernel's
 * OOM killer; the kernel's events.
 */
#include <check.h>

#include "inputs.h"
#include "suite.h"

#define MiB (1ULL << 20)

START_TEST(test_limit_hard)
{
	struct memcg_sample s = { .limit_bytes = 256 * MiB, .high_bytes = 200 * MiB };
	struct inputs_own own = { 0 };

	ck_assert_uint_eq(inputs_limit(&s, &own), 256 * MiB);
	/* raised by a rescue: the limit before the raise */
	own = (struct inputs_own){
		.limit_raised = true, .limit_bytes = 256 * MiB, .raised_bytes = 261 * MiB
	};
	s.limit_bytes = 261 * MiB;
	ck_assert_uint_eq(inputs_limit(&s, &own), 256 * MiB);
	/* the operator's limit, set since the raise, counts as it is */
	s.limit_bytes = 260 * MiB;
	ck_assert_uint_eq(inputs_limit(&s, &own), 260 * MiB);
	s.limit_bytes = 512 * MiB;
	ck_assert_uint_eq(inputs_limit(&s, &own), 512 * MiB);
}
END_TEST

START_TEST(test_limit_high)
{
	struct memcg_sample s = { .limit_bytes = 0, .high_bytes = 100 * MiB };
	struct inputs_own own = { 0 };

	ck_assert_uint_eq(inputs_limit(&s, &own), 100 * MiB);
	/* oomguard set memory.high to 90M: the limit stays the 100M found */
	own = (struct inputs_own){
		.high_set = true, .high_set_bytes = 90 * MiB, .high_found_bytes = 100 * MiB
	};
	s.high_bytes = 90 * MiB;
	ck_assert_uint_eq(inputs_limit(&s, &own), 100 * MiB);
	/* the operator set it since */
	s.high_bytes = 200 * MiB;
	ck_assert_uint_eq(inputs_limit(&s, &own), 200 * MiB);
	/* found at max: no limit */
	own.high_found_bytes = 0;
	s.high_bytes = 90 * MiB;
	ck_assert_uint_eq(inputs_limit(&s, &own), 0);
	/* a memory.max counts whatever memory.high reads */
	s.limit_bytes = 128 * MiB;
	ck_assert_uint_eq(inputs_limit(&s, &own), 128 * MiB);
}
END_TEST

START_TEST(test_levels)
{
	struct config c;
	struct policy_levels lv;

	config_defaults(&c);
	c.gc_at = (struct threshold){ THRESHOLD_PERCENT, 75 * UNITS_PCT_SCALE };
	c.restart_at = (struct threshold){ THRESHOLD_PERCENT, 90 * UNITS_PCT_SCALE };
	c.kill_at = (struct threshold){ THRESHOLD_NONE, 0 };
	c.gc_rearm_below = (struct threshold){ THRESHOLD_PERCENT, 60 * UNITS_PCT_SCALE };
	lv = inputs_levels(&c, 100 * MiB);
	ck_assert_uint_eq(lv.gc_bytes, 75 * MiB);
	ck_assert_uint_eq(lv.restart_bytes, 90 * MiB);
	ck_assert_uint_eq(lv.kill_bytes, POLICY_OFF);
	ck_assert_uint_eq(lv.rearm_bytes, 60 * MiB);
	/* no limit: every percentage off */
	lv = inputs_levels(&c, 0);
	ck_assert_uint_eq(lv.gc_bytes, POLICY_OFF);
	ck_assert_uint_eq(lv.restart_bytes, POLICY_OFF);
	c.gc_at = (struct threshold){ THRESHOLD_BYTES, 95 * MiB };
	lv = inputs_levels(&c, 100 * MiB);
	/* a size stays a size, whatever the limit */
	ck_assert_uint_eq(lv.gc_bytes, 95 * MiB);
}
END_TEST

START_TEST(test_kernel_kills)
{
	struct memcg_sample v1 = { .has_oom_control = true, .oom_kill_disable = true };
	struct memcg_sample v2 = { .limit_bytes = 64 * MiB };

	ck_assert(!inputs_kernel_kills(&v1, 1));
	v1.oom_kill_disable = false;
	ck_assert(inputs_kernel_kills(&v1, 1));
	ck_assert(inputs_kernel_kills(&v2, 2));
	v2.limit_bytes = 0;
	ck_assert(!inputs_kernel_kills(&v2, 2));
}
END_TEST

START_TEST(test_events)
{
	struct inputs_events ev = { 0 };
	struct memcg_sample s = { .has_events = true };
	uint64_t kills = 9;

	s.events.oom_kill = 3;
	s.events.high = 10;
	ck_assert(!inputs_events_update(&ev, &s, &kills));
	ck_assert_uint_eq(kills, 0);
	s.events.oom_kill = 5;
	ck_assert(!inputs_events_update(&ev, &s, &kills));
	ck_assert_uint_eq(kills, 2);
	s.events.max = 1;
	ck_assert(inputs_events_update(&ev, &s, &kills));
	ck_assert_uint_eq(kills, 0);
	ck_assert_uint_eq(ev.oom_kills, 5);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("inputs");
	TCase *tc = tcase_create("inputs");

	tcase_add_test(tc, test_limit_hard);
	tcase_add_test(tc, test_limit_high);
	tcase_add_test(tc, test_levels);
	tcase_add_test(tc, test_kernel_kills);
	tcase_add_test(tc, test_events);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
