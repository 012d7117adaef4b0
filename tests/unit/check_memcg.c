/*
 * check_memcg.c: samples read from fixture cgroup directories copied from
 * real kernels, and the limit, meminfo and events parsers.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>

#include "memcg.h"
#include "suite.h"

#define FX       "tests/fixtures/"
#define HOST_RAM (24683620ULL * 1024)
#define V2_RAM   (983496ULL * 1024)
#define HYBRID_DIR                                                                                 \
	FX "hybrid/sys/fs/cgroup/memory/process_api/7855fb0c0c1de9d4b0337360aecab08e/"             \
	   "oomguard-fixture"

START_TEST(test_v1_sample)
{
	struct memcg m;
	struct memcg_sample s;

	ck_assert_int_eq(memcg_open(&m, HYBRID_DIR, 1, HOST_RAM), 0);
	ck_assert_int_eq(memcg_read(&m, &s), 0);
	ck_assert_uint_eq(s.usage_bytes, 58060800);
	ck_assert_uint_eq(s.limit_bytes, 256ULL << 20);
	ck_assert(s.has_stat);
	ck_assert_uint_eq(s.anon_bytes, 48979968);
	ck_assert_uint_eq(s.file_bytes, 8388608);
	ck_assert_uint_eq(s.inactive_file_bytes, 8388608);
	ck_assert_uint_eq(s.workingset_bytes, 58060800 - 8388608);
	ck_assert(s.has_oom_control && s.oom_kill_disable && !s.under_oom);
	ck_assert(!s.has_events);
	ck_assert_uint_eq(memcg_metric(&s, METRIC_USAGE), 58060800);
	ck_assert_uint_eq(memcg_metric(&s, METRIC_WORKINGSET), 58060800 - 8388608);
	ck_assert_uint_eq(memcg_metric(&s, METRIC_ANON), 48979968);
	uint64_t usage = 0;
	ck_assert_int_eq(memcg_read_usage(&m, &usage), 0);
	ck_assert_uint_eq(usage, 58060800);
	memcg_close(&m);
	ck_assert_int_eq(m.usage_fd, -1);
}
END_TEST

START_TEST(test_v2_sample)
{
	struct memcg m;
	struct memcg_sample s;

	ck_assert_int_eq(memcg_open(&m, FX "v2/sys/fs/cgroup/test", 2, V2_RAM), 0);
	ck_assert_int_eq(memcg_read(&m, &s), 0);
	ck_assert_uint_eq(s.usage_bytes, 46727168);
	ck_assert_uint_eq(s.limit_bytes, 64ULL << 20);
	ck_assert_uint_eq(s.high_bytes, 48ULL << 20);
	ck_assert(s.has_stat);
	ck_assert_uint_eq(s.anon_bytes, 41996288);
	ck_assert_uint_eq(s.file_bytes, 4325376);
	ck_assert_uint_eq(s.inactive_file_bytes, 4325376);
	ck_assert_uint_eq(s.workingset_bytes, 46727168 - 4325376);
	ck_assert(!s.has_oom_control);
	ck_assert(s.has_events);
	ck_assert_uint_eq(s.events.high, 34);
	ck_assert_uint_eq(s.events.max, 0);
	ck_assert_uint_eq(s.events.oom_kill, 0);
	memcg_close(&m);

	/* "max" for memory.max and memory.high reads as no limit */
	ck_assert_int_eq(memcg_open(&m, FX "v2/sys/fs/cgroup/nolimit", 2, V2_RAM), 0);
	ck_assert_int_eq(memcg_read(&m, &s), 0);
	ck_assert_uint_eq(s.limit_bytes, 0);
	ck_assert_uint_eq(s.high_bytes, 0);
	ck_assert_uint_gt(s.usage_bytes, 0);
	memcg_close(&m);
}
END_TEST

START_TEST(test_open_missing)
{
	struct memcg m = { .usage_fd = 42 };

	ck_assert_int_eq(memcg_open(&m, FX "nonexistent", 1, HOST_RAM), -ENOENT);
	ck_assert_int_eq(m.usage_fd, 42); /* untouched on failure */
	ck_assert_int_eq(memcg_open(&m, HYBRID_DIR, 2, HOST_RAM), -ENOENT);
}
END_TEST

START_TEST(test_parse_limit)
{
	uint64_t v = 1;

	/* v1 "unlimited" is LONG_MAX rounded down to the page size */
	ck_assert_int_eq(memcg_parse_limit("9223372036854771712\n", HOST_RAM, &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(memcg_parse_limit("9223372036854710272\n", HOST_RAM, &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(memcg_parse_limit("max\n", HOST_RAM, &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(memcg_parse_limit("268435456\n", HOST_RAM, &v), 0);
	ck_assert_uint_eq(v, 268435456);
	/* at or above host RAM: no limit */
	ck_assert_int_eq(memcg_parse_limit("25276026880\n", HOST_RAM, &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(memcg_parse_limit("25276026879\n", HOST_RAM, &v), 0);
	ck_assert_uint_eq(v, 25276026879ULL);
	v = 7;
	ck_assert_int_eq(memcg_parse_limit("maxx\n", HOST_RAM, &v), -EINVAL);
	ck_assert_int_eq(memcg_parse_limit("", HOST_RAM, &v), -EINVAL);
	ck_assert_int_eq(memcg_parse_limit("12 34\n", HOST_RAM, &v), -EINVAL);
	ck_assert_uint_eq(v, 7);
}
END_TEST

START_TEST(test_parse_meminfo)
{
	uint64_t v = 0;

	ck_assert_int_eq(
	    memcg_parse_meminfo("MemTotal:       24683620 kB\nMemFree: 1 kB\n", &v), 0);
	ck_assert_uint_eq(v, HOST_RAM);
	ck_assert_int_eq(memcg_parse_meminfo("MemFree: 1 kB\n", &v), -ENOENT);
}
END_TEST

START_TEST(test_parse_events)
{
	struct memcg_events e;

	ck_assert_int_eq(
	    memcg_parse_events("low 1\nhigh 2\nmax 3\noom 4\noom_kill 5\noom_group_kill 6\n", &e),
	    0);
	ck_assert_uint_eq(e.low, 1);
	ck_assert_uint_eq(e.high, 2);
	ck_assert_uint_eq(e.max, 3);
	ck_assert_uint_eq(e.oom, 4);
	ck_assert_uint_eq(e.oom_kill, 5);
	ck_assert_uint_eq(e.oom_group_kill, 6);
	/* before 5.17 there is no oom_group_kill */
	ck_assert_int_eq(memcg_parse_events("low 0\nhigh 9\nmax 0\noom 0\noom_kill 0\n", &e), 0);
	ck_assert_uint_eq(e.high, 9);
	ck_assert_uint_eq(e.oom_group_kill, 0);
	ck_assert_int_eq(memcg_parse_events("low 0\nhigh 9\n", &e), -EINVAL);
	/* "oom" must not match "oom_kill" */
	ck_assert_int_eq(memcg_parse_events("low 0\nhigh 0\nmax 0\noom_kill 3\n", &e), -EINVAL);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("memcg");
	TCase *tc = tcase_create("memcg");

	tcase_add_test(tc, test_v1_sample);
	tcase_add_test(tc, test_v2_sample);
	tcase_add_test(tc, test_open_missing);
	tcase_add_test(tc, test_parse_limit);
	tcase_add_test(tc, test_parse_meminfo);
	tcase_add_test(tc, test_parse_events);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
