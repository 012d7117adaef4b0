/*
 * check_hints.c: the runtime hints from limits, levels and environments:
 * the values per runtime, the base they are fitted under, a user's own
 * setting kept, values appended to what the user has, limits too small,
 * nothing without a limit or with hints = none, and the shell output
 * read back by a real sh.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hints.h"
#include "suite.h"

#define MiB ((uint64_t)1 << 20)

enum { GO, NODE, JAVA, DOTNET };

static char *empty_env[] = { NULL };

static struct config
cfg(void)
{
	struct config c;

	config_defaults(&c);
	c.runtime_hints = HINTS_AUTO;
	return c;
}

static struct hints
compute(const struct config *c, uint64_t limit_bytes, char **envp, int want_nset)
{
	struct hints h;

	ck_assert_int_eq(hints_compute(c, limit_bytes, envp, &h), want_nset);
	return h;
}

static void
assert_set(const struct hints *h, int i, const char *name, const char *value)
{
	ck_assert_str_eq(h->var[i].name, name);
	ck_assert_msg(h->var[i].outcome == HINT_SET, "%s: outcome %d", name, h->var[i].outcome);
	ck_assert_str_eq(h->var[i].value, value);
}

/* 256 MiB, gc at 75%, restart at 90%: Go fitted under 192 MiB, the
 * hard limits under 230.4 MiB. */
START_TEST(test_values_256m)
{
	struct config c = cfg();
	struct hints h = compute(&c, 256 * MiB, empty_env, 4);

	ck_assert_uint_eq(h.limit_bytes, 256 * MiB);
	ck_assert_uint_eq(h.base_bytes, 192 * MiB);
	ck_assert_uint_eq(h.hard_base_bytes, 256 * MiB * 9 / 10);
	assert_set(&h, GO, "GOMEMLIMIT", "172MiB"); /* 90% of 192 is 172.8 */
	assert_set(&h, NODE, "NODE_OPTIONS", "--max-old-space-size=156");
	assert_set(&h, JAVA, "JAVA_TOOL_OPTIONS", "-Xmx124m");
	assert_set(&h, DOTNET, "DOTNET_GCHeapHardLimit", "0xac00000"); /* 172 MiB */
	for (int i = 0; i < HINTS_NVARS; i++)
		ck_assert(!h.var[i].had);
}
END_TEST

/* The base is the lowest armed level, or the limit when that is lower. */
START_TEST(test_base)
{
	char err[CONFIG_ERR_MAX];
	struct config c = cfg();
	struct hints h;

	ck_assert_int_eq(
	    config_set(&c, "gc", "at", "none", &(struct config_origin){ 0 }, err, sizeof(err)), 0);
	h = compute(&c, 1000 * MiB, empty_env, 4);
	ck_assert_uint_eq(h.base_bytes, 900 * MiB); /* restart at 90% */
	assert_set(&h, GO, "GOMEMLIMIT", "810MiB");
	c.restart_at.kind = THRESHOLD_NONE;
	h = compute(&c, 1000 * MiB, empty_env, 4);
	ck_assert_uint_eq(h.base_bytes, 1000 * MiB * 97 / 100); /* kill at 97% */
	c.kill_at.kind = THRESHOLD_NONE;
	h = compute(&c, 1000 * MiB, empty_env, 4);
	ck_assert_uint_eq(h.base_bytes, 1000 * MiB); /* no level: the limit */
	c.gc_at = (struct threshold){ THRESHOLD_BYTES, 100 * MiB };
	h = compute(&c, 256 * MiB, empty_env, 4);
	ck_assert_uint_eq(h.base_bytes, 100 * MiB);
	/* A low gc level lowers the soft limit only: the hard ones are fitted
	 * under the restart level (none here: the limit). */
	assert_set(&h, GO, "GOMEMLIMIT", "90MiB");
	ck_assert_uint_eq(h.hard_base_bytes, 256 * MiB);
	assert_set(&h, NODE, "NODE_OPTIONS", "--max-old-space-size=176");
	c.gc_at = (struct threshold){ THRESHOLD_BYTES, 4096 * MiB };
	h = compute(&c, 256 * MiB, empty_env, 4);
	ck_assert_uint_eq(h.base_bytes, 256 * MiB);
	/* Levels out of order: the lowest armed one counts. */
	c.gc_at = (struct threshold){ THRESHOLD_BYTES, 240 * MiB };
	c.restart_at = (struct threshold){ THRESHOLD_PERCENT, 90 * UNITS_PCT_SCALE };
	h = compute(&c, 256 * MiB, empty_env, 4);
	ck_assert_uint_eq(h.base_bytes, 256 * MiB * 9 / 10);
}
END_TEST

START_TEST(test_nothing)
{
	static char *env[] = { "GOMEMLIMIT=100MiB", NULL };
	struct config c = cfg();
	struct hints h = compute(&c, 0, empty_env, 0);

	ck_assert_uint_eq(h.limit_bytes, 0);
	for (int i = 0; i < HINTS_NVARS; i++)
		ck_assert_int_eq(h.var[i].outcome, HINT_NONE);
	c.runtime_hints = HINTS_NONE;
	h = compute(&c, 256 * MiB, env, 0);
	ck_assert_uint_eq(h.limit_bytes, 0);
	for (int i = 0; i < HINTS_NVARS; i++)
		ck_assert_int_eq(h.var[i].outcome, HINT_NONE);
}
END_TEST

/* Each runtime's own limit, wherever the user set it, is kept. */
static const struct {
	char *entry;
	int var;
} users[] = {
	{ "GOMEMLIMIT=100MiB", GO },
	{ "NODE_OPTIONS=--max-old-space-size=200", NODE },
	{ "NODE_OPTIONS=--trace-gc --max_old_space_size=200", NODE },
	{ "JAVA_TOOL_OPTIONS=-Xmx64m", JAVA },
	{ "JAVA_TOOL_OPTIONS=-XX:MaxRAMPercentage=50", JAVA },
	{ "JDK_JAVA_OPTIONS=-XX:MaxHeapSize=100m", JAVA },
	{ "_JAVA_OPTIONS=-Xmx1g", JAVA },
	{ "DOTNET_GCHeapHardLimit=0x1000000", DOTNET },
	{ "DOTNET_GCHeapHardLimitPercent=0x3C", DOTNET },
	{ "COMPlus_GCHeapHardLimit=0x1000000", DOTNET },
};

START_TEST(test_user_kept)
{
	char *env[] = { "PATH=/bin", users[_i].entry, NULL };
	struct config c = cfg();
	struct hints h = compute(&c, 256 * MiB, env, 3);
	char buf[256];

	for (int i = 0; i < HINTS_NVARS; i++)
		ck_assert_int_eq(h.var[i].outcome, i == users[_i].var ? HINT_KEPT : HINT_SET);
	ck_assert_str_eq(h.var[users[_i].var].part, users[_i].entry);
	ck_assert_str_eq(hints_describe(&h, HINT_KEPT, buf, sizeof(buf)), users[_i].entry);
}
END_TEST

/* Other options are kept, and ours appended; an empty variable is none. */
START_TEST(test_append)
{
	static char *env[] = { "NODE_OPTIONS=--trace-gc", "JAVA_TOOL_OPTIONS=-Xss512k -Xms8m",
		"GOMEMLIMIT=", "_JAVA_OPTIONS=-Dx=1", NULL };
	struct config c = cfg();
	struct hints h = compute(&c, 256 * MiB, env, 4);
	char buf[256];

	assert_set(&h, NODE, "NODE_OPTIONS", "--trace-gc --max-old-space-size=156");
	ck_assert(h.var[NODE].had);
	ck_assert_uint_eq(h.var[NODE].had_len, strlen("--trace-gc"));
	assert_set(&h, JAVA, "JAVA_TOOL_OPTIONS", "-Xss512k -Xms8m -Xmx124m");
	ck_assert_uint_eq(h.var[JAVA].had_len, strlen("-Xss512k -Xms8m"));
	assert_set(&h, GO, "GOMEMLIMIT", "172MiB");
	ck_assert(h.var[GO].had);
	ck_assert_uint_eq(h.var[GO].had_len, 0);
	ck_assert_str_eq(hints_describe(&h, HINT_SET, buf, sizeof(buf)),
	    "GOMEMLIMIT=172MiB NODE_OPTIONS+=--max-old-space-size=156 JAVA_TOOL_OPTIONS+=-Xmx124m "
	    "DOTNET_GCHeapHardLimit=0xac00000");
}
END_TEST

/* A heap under 16 MiB is not set: 64 MiB has its restart level at 57.6
 * MiB, whose 75% is too little for a JVM heap beside its 48 MiB; 40 MiB
 * has it at 36 MiB, too little for V8's old space beside its 16 MiB. */
START_TEST(test_too_small)
{
	struct config c = cfg();
	struct hints h = compute(&c, 64 * MiB, empty_env, 3);
	char buf[256];

	assert_set(&h, GO, "GOMEMLIMIT", "43MiB");
	assert_set(&h, NODE, "NODE_OPTIONS", "--max-old-space-size=27");
	ck_assert_int_eq(h.var[JAVA].outcome, HINT_TOO_SMALL);
	assert_set(&h, DOTNET, "DOTNET_GCHeapHardLimit", "0x2b00000");
	ck_assert_str_eq(hints_describe(&h, HINT_TOO_SMALL, buf, sizeof(buf)), "JAVA_TOOL_OPTIONS");
	h = compute(&c, 40 * MiB, empty_env, 2);
	ck_assert_str_eq(
	    hints_describe(&h, HINT_TOO_SMALL, buf, sizeof(buf)), "NODE_OPTIONS JAVA_TOOL_OPTIONS");
	h = compute(&c, 8 * MiB, empty_env, 0);
	for (int i = 0; i < HINTS_NVARS; i++)
		ck_assert_int_eq(h.var[i].outcome, HINT_TOO_SMALL);
}
END_TEST

/* An empty variable is no setting: ours alone, and it is put back empty. */
START_TEST(test_empty)
{
	static char *env[] = { "NODE_OPTIONS=", NULL };
	struct config c = cfg();
	struct hints h = compute(&c, 256 * MiB, env, 4);

	assert_set(&h, NODE, "NODE_OPTIONS", "--max-old-space-size=156");
	ck_assert(h.var[NODE].had);
	ck_assert_uint_eq(h.var[NODE].had_len, 0);
}
END_TEST

START_TEST(test_too_long)
{
	static char long_opts[HINTS_VALUE_MAX + 16];
	char *env[] = { long_opts, NULL };
	struct config c = cfg();
	struct hints h;

	memset(long_opts, 'x', sizeof(long_opts) - 1);
	memcpy(long_opts, "NODE_OPTIONS=", 13);
	h = compute(&c, 256 * MiB, env, 3);
	ck_assert_int_eq(h.var[NODE].outcome, HINT_TOO_LONG);
}
END_TEST

START_TEST(test_same)
{
	static char *env[] = { "GOMEMLIMIT=1GiB", NULL };
	struct config c = cfg();
	struct hints a = compute(&c, 256 * MiB, empty_env, 4);
	struct hints b = compute(&c, 256 * MiB, empty_env, 4);

	ck_assert(hints_same(&a, &b));
	b = compute(&c, 512 * MiB, empty_env, 4);
	ck_assert(!hints_same(&a, &b));
	b = compute(&c, 256 * MiB, env, 3);
	ck_assert(!hints_same(&a, &b));
	/* A limit that changes by less than a MiB of heap changes nothing. */
	b = compute(&c, 256 * MiB + 4096, empty_env, 4);
	ck_assert(hints_same(&a, &b));
}
END_TEST

/* The shell form, with a quote in the user's options, read back by sh. */
START_TEST(test_print_shell)
{
	static char *env[] = { "NODE_OPTIONS=--title=it's", NULL };
	struct config c = cfg();
	struct hints h = compute(&c, 256 * MiB, env, 4);
	char path[] = "/tmp/check_hints.XXXXXX", cmd[64], out[512];
	int fd = mkstemp(path);
	FILE *fp;
	size_t n;

	ck_assert_int_ge(fd, 0);
	fp = fdopen(fd, "w");
	ck_assert_ptr_nonnull(fp);
	hints_print(&h, true, fp);
	fputs("printf '%s|%s' \"$GOMEMLIMIT\" \"$NODE_OPTIONS\"\n", fp);
	fclose(fp);
	snprintf(cmd, sizeof(cmd), "env -i /bin/sh %s", path);
	fp = popen(cmd, "r");
	ck_assert_ptr_nonnull(fp);
	n = fread(out, 1, sizeof(out) - 1, fp);
	out[n] = '\0';
	ck_assert_int_eq(pclose(fp), 0);
	unlink(path);
	ck_assert_str_eq(out, "172MiB|--title=it's --max-old-space-size=156");
}
END_TEST

START_TEST(test_print_plain)
{
	static char *env[] = { "GOMEMLIMIT=100MiB", NULL };
	struct config c = cfg();
	struct hints h = compute(&c, 256 * MiB, env, 3);
	char out[1024];
	FILE *fp = fmemopen(out, sizeof(out), "w");

	hints_print(&h, false, fp);
	fclose(fp);
	ck_assert_str_eq(out,
	    "# limit 256.0MiB, soft limits under 192.0MiB, hard limits under 230.4MiB\n"
	    "# GOMEMLIMIT: the user's setting kept: GOMEMLIMIT=100MiB\n"
	    "NODE_OPTIONS=--max-old-space-size=156\n"
	    "JAVA_TOOL_OPTIONS=-Xmx124m\n"
	    "DOTNET_GCHeapHardLimit=0xac00000\n");
	h = compute(&c, 0, env, 0);
	fp = fmemopen(out, sizeof(out), "w");
	hints_print(&h, false, fp);
	fclose(fp);
	ck_assert_str_eq(out, "# no runtime hints: no memory limit, or [runtime] hints = none\n");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("hints");
	TCase *tc = tcase_create("hints");

	tcase_add_test(tc, test_values_256m);
	tcase_add_test(tc, test_base);
	tcase_add_test(tc, test_nothing);
	tcase_add_loop_test(tc, test_user_kept, 0, sizeof(users) / sizeof(users[0]));
	tcase_add_test(tc, test_append);
	tcase_add_test(tc, test_too_small);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_too_long);
	tcase_add_test(tc, test_same);
	tcase_add_test(tc, test_print_shell);
	tcase_add_test(tc, test_print_plain);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
