/*
 * check_rescue.c: the reserve in limit mode against a cgroup directory of
 * plain files (a copy of the v1 and v2 limit files): the release raises
 * what the file reads now, the restore puts back only a value the release
 * left, and a limit the operator changed is never written over.
 */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rescue.h"
#include "fixture.h"
#include "suite.h"

#define MiB (1ULL << 20)

static char dir[] = "/tmp/check_rescue_XXXXXX";

static void
setup(void)
{
	strcpy(dir, "/tmp/check_rescue_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
teardown(void)
{
	fixture_remove(dir);
}

/* A rescue raises the limit by the reserve and the restore puts it back. */
START_TEST(test_release_restore)
{
	struct rescue r;

	fixture_put(dir, "memory.limit_in_bytes", "268435456\n");
	ck_assert_int_eq(rescue_open(&r, RESERVE_LIMIT, dir, 1), 0);
	ck_assert_int_eq(rescue_take(&r, 8 * MiB, 256 * MiB), 0);
	ck_assert_int_eq(rescue_release(&r), 0);
	ck_assert_uint_eq(fixture_get(dir, "memory.limit_in_bytes"), 264 * MiB);
	ck_assert(r.raised);
	ck_assert_uint_eq(r.raised_bytes, 264 * MiB);
	ck_assert_int_eq(rescue_restore(&r), 0);
	ck_assert_uint_eq(fixture_get(dir, "memory.limit_in_bytes"), 256 * MiB);
	ck_assert(!r.raised);
	rescue_close(&r);
}
END_TEST

/* The operator raised the limit after the reserve was taken: a new size
 * drops the old reserve and writes nothing. */
START_TEST(test_drop_writes_nothing)
{
	struct rescue r;

	fixture_put(dir, "memory.limit_in_bytes", "268435456\n");
	ck_assert_int_eq(rescue_open(&r, RESERVE_LIMIT, dir, 1), 0);
	ck_assert_int_eq(rescue_take(&r, 5 * MiB, 256 * MiB), 0);
	fixture_put(dir, "memory.limit_in_bytes", "536870912\n");
	rescue_drop(&r);
	ck_assert(!r.held && !r.raised);
	ck_assert_uint_eq(fixture_get(dir, "memory.limit_in_bytes"), 512 * MiB);
	ck_assert_int_eq(rescue_take(&r, 10 * MiB, 512 * MiB), 0);
	rescue_close(&r);
	ck_assert_uint_eq(fixture_get(dir, "memory.limit_in_bytes"), 512 * MiB);
}
END_TEST

/* The operator changed the limit between take and release: the release
 * raises the limit it reads now, not the one of the take. */
START_TEST(test_release_reads_now)
{
	struct rescue r;

	fixture_put(dir, "memory.limit_in_bytes", "268435456\n");
	ck_assert_int_eq(rescue_open(&r, RESERVE_LIMIT, dir, 1), 0);
	ck_assert_int_eq(rescue_take(&r, 8 * MiB, 256 * MiB), 0);
	fixture_put(dir, "memory.limit_in_bytes", "402653184\n");
	ck_assert_int_eq(rescue_release(&r), 0);
	ck_assert_uint_eq(fixture_get(dir, "memory.limit_in_bytes"), 392 * MiB);
	ck_assert_int_eq(rescue_restore(&r), 0);
	ck_assert_uint_eq(fixture_get(dir, "memory.limit_in_bytes"), 384 * MiB);
	rescue_close(&r);
}
END_TEST

/* The operator changed the limit while it was raised: the restore (and
 * the close) leave the operator's value. */
START_TEST(test_restore_keeps_operators)
{
	struct rescue r;

	fixture_put(dir, "memory.limit_in_bytes", "268435456\n");
	ck_assert_int_eq(rescue_open(&r, RESERVE_LIMIT, dir, 1), 0);
	ck_assert_int_eq(rescue_take(&r, 8 * MiB, 256 * MiB), 0);
	ck_assert_int_eq(rescue_release(&r), 0);
	fixture_put(dir, "memory.limit_in_bytes", "402653184\n");
	ck_assert_int_eq(rescue_restore(&r), 1);
	ck_assert(!r.raised);
	ck_assert_uint_eq(fixture_get(dir, "memory.limit_in_bytes"), 384 * MiB);
	/* and once more at the close */
	ck_assert_int_eq(rescue_take(&r, 8 * MiB, 384 * MiB), 0);
	ck_assert_int_eq(rescue_release(&r), 0);
	fixture_put(dir, "memory.limit_in_bytes", "301989888\n");
	rescue_close(&r);
	ck_assert_uint_eq(fixture_get(dir, "memory.limit_in_bytes"), 288 * MiB);
}
END_TEST

/* memsw close to the limit is raised first and put back last; the
 * operator's memsw is left as it is. */
START_TEST(test_memsw)
{
	struct rescue r;

	fixture_put(dir, "memory.limit_in_bytes", "268435456\n");
	fixture_put(dir, "memory.memsw.limit_in_bytes", "268435456\n");
	ck_assert_int_eq(rescue_open(&r, RESERVE_LIMIT, dir, 1), 0);
	ck_assert_int_eq(rescue_take(&r, 8 * MiB, 256 * MiB), 0);
	ck_assert_int_eq(rescue_release(&r), 0);
	ck_assert_uint_eq(fixture_get(dir, "memory.memsw.limit_in_bytes"), 264 * MiB);
	ck_assert_uint_eq(fixture_get(dir, "memory.limit_in_bytes"), 264 * MiB);
	ck_assert_int_eq(rescue_restore(&r), 0);
	ck_assert_uint_eq(fixture_get(dir, "memory.memsw.limit_in_bytes"), 256 * MiB);
	ck_assert_uint_eq(fixture_get(dir, "memory.limit_in_bytes"), 256 * MiB);
	ck_assert_int_eq(rescue_take(&r, 8 * MiB, 256 * MiB), 0);
	ck_assert_int_eq(rescue_release(&r), 0);
	fixture_put(dir, "memory.memsw.limit_in_bytes", "536870912\n");
	ck_assert_int_eq(rescue_restore(&r), 1);
	ck_assert_uint_eq(fixture_get(dir, "memory.memsw.limit_in_bytes"), 512 * MiB);
	ck_assert_uint_eq(fixture_get(dir, "memory.limit_in_bytes"), 256 * MiB);
	rescue_close(&r);
}
END_TEST

/* v2 memory.max "max" (memory.high the only limit): nothing to raise,
 * nothing written, nothing to restore. */
START_TEST(test_v2_no_max)
{
	struct rescue r;
	char text[16] = "";

	fixture_put(dir, "memory.max", "max\n");
	ck_assert_int_eq(rescue_open(&r, RESERVE_LIMIT, dir, 2), 0);
	ck_assert_int_eq(rescue_take(&r, 1 * MiB, 48 * MiB), 0);
	ck_assert_int_eq(rescue_release(&r), -ERANGE);
	ck_assert(!r.raised);
	rescue_close(&r);
	fixture_read(dir, "memory.max", text, sizeof(text));
	ck_assert_str_eq(text, "max\n");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("rescue");
	TCase *tc = tcase_create("limit");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_release_restore);
	tcase_add_test(tc, test_drop_writes_nothing);
	tcase_add_test(tc, test_release_reads_now);
	tcase_add_test(tc, test_restore_keeps_operators);
	tcase_add_test(tc, test_memsw);
	tcase_add_test(tc, test_v2_no_max);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
