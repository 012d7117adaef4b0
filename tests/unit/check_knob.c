/*
 * check_knob.c: [watch] high against a copy of a v2 cgroup directory,
 * sampled as the loop does (memcg_read, inputs_limit told what the knob
 * set, inputs_levels, knob_high_apply on a new limit): memory.high set
 * by oomguard never becomes the next limit, the operator's value, set
 * since, is the one put back, and one written after oomguard's is left.
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inputs.h"
#include "knob.h"
#include "memcg.h"
#include "fixture.h"
#include "suite.h"

#define MiB      (1ULL << 20)
#define HOST_RAM (983496ULL * 1024)

static char dir[64];

static uint64_t
high(void)
{
	return fixture_get(dir, "memory.high");
}

static void
setup(void)
{
	char cmd[256];

	strcpy(dir, "/tmp/check_knob_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "cp tests/fixtures/v2/sys/fs/cgroup/test/* %s/", dir);
	ck_assert_int_eq(system(cmd), 0);
	fixture_put(dir, "memory.max", "max\n");
	fixture_put(dir, "memory.high", "209715200\n");
}

static void
teardown(void)
{
	fixture_remove(dir);
}

/* The defaults with [watch] high = 90%, the test cgroup opened (v2) and
 * its knob set up, as oomguard starts. */
static void
start(struct config *c, struct memcg *m, struct knob *k)
{
	config_defaults(c);
	c->watch_high = (struct threshold){ THRESHOLD_PERCENT, 90 * UNITS_PCT_SCALE };
	ck_assert_int_eq(memcg_open(m, dir, 2, HOST_RAM), 0);
	knob_init(k, dir, 2, HOST_RAM);
}

/* One sample as the loop takes it: return the limit it counts from. */
static uint64_t
sample(struct knob *k, const struct memcg *m, const struct config *c, uint64_t *limit_bytes)
{
	struct memcg_sample s;
	struct inputs_own own = { 0 };
	uint64_t limit;

	ck_assert_int_eq(memcg_read(m, &s), 0);
	knob_own(k, &own);
	limit = inputs_limit(&s, &own);
	if (limit != *limit_bytes) {
		struct policy_levels lv = inputs_levels(c, limit);

		knob_high_apply(k, &c->watch_high, limit, lv.restart_bytes);
		*limit_bytes = limit;
	}
	return limit;
}

START_TEST(test_high_not_the_next_limit)
{
	struct config c;
	struct memcg m;
	struct knob k;
	uint64_t limit = 1;

	start(&c, &m, &k);
	for (int i = 0; i < 5; i++) {
		ck_assert_uint_eq(sample(&k, &m, &c, &limit), 200 * MiB);
		ck_assert_uint_eq(high(), 180 * MiB);
	}
	/* the operator sets 300M: it is the limit now, and what goes back */
	fixture_put(dir, "memory.high", "314572800\n");
	for (int i = 0; i < 3; i++) {
		ck_assert_uint_eq(sample(&k, &m, &c, &limit), 300 * MiB);
		ck_assert_uint_eq(high(), 270 * MiB);
	}
	knob_high_restore(&k);
	ck_assert_uint_eq(high(), 300 * MiB);
	memcg_close(&m);
}
END_TEST

START_TEST(test_restore_leaves_operators)
{
	struct config c;
	struct memcg m;
	struct knob k;
	uint64_t limit = 1;

	fixture_put(dir, "memory.max", "268435456\n");
	start(&c, &m, &k);
	ck_assert_uint_eq(sample(&k, &m, &c, &limit), 256 * MiB);
	ck_assert_uint_eq(high(), 241591910);
	/* lifted while the app stops, set again for the next one */
	knob_high_lift(&k);
	ck_assert_uint_eq(high(), 200 * MiB);
	knob_high_again(&k, &c.watch_high, limit, 0);
	ck_assert_uint_eq(high(), 241591910);
	/* the operator writes memory.high after oomguard: it stays */
	fixture_put(dir, "memory.high", "104857600\n");
	knob_high_lift(&k);
	ck_assert_uint_eq(high(), 100 * MiB);
	knob_high_restore(&k);
	ck_assert_uint_eq(high(), 100 * MiB);
	memcg_close(&m);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("knob");
	TCase *tc = tcase_create("high");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_high_not_the_next_limit);
	tcase_add_test(tc, test_restore_leaves_operators);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
