/*
 * check_units.c: sizes, durations, thresholds, signals and booleans, and
 * that every formatter's output parses back to the same value.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>

#include "units.h"
#include "suite.h"

static const struct {
	const char *text;
	int err;
	uint64_t bytes;
} sizes[] = {
	{ "0", 0, 0 },
	{ "4096", -EINVAL, 0 }, /* a bare number: bytes or a forgotten unit? */
	{ "1.5", -EINVAL, 0 },
	{ "4096B", 0, 4096 },
	{ "512m", 0, 512ULL << 20 },
	{ "2kib", 0, 2048 },
	{ "1.5B", -EINVAL, 0 }, /* not a whole number of bytes */
	{ "0.001K", -EINVAL, 0 },
	{ "10B", 0, 10 },
	{ "1K", 0, 1024 },
	{ "1KiB", 0, 1024 },
	{ "2k", 0, 2048 },
	{ "256M", 0, 256ULL << 20 },
	{ "256MiB", 0, 256ULL << 20 },
	{ "1.5G", 0, 3ULL << 29 },
	{ "1GiB", 0, 1ULL << 30 },
	{ "2T", 0, 2ULL << 40 },
	{ "0.5K", 0, 512 },
	{ "16777215TiB", 0, 16777215ULL << 40 },
	{ "16777216T", -ERANGE, 0 },
	{ "18446744073709551616", -ERANGE, 0 },
	{ "", -EINVAL, 0 },
	{ "M", -EINVAL, 0 },
	{ "10MB", -EINVAL, 0 },
	{ "10 M", -EINVAL, 0 },
	{ "-1M", -EINVAL, 0 },
	{ "1.M", -EINVAL, 0 },
	{ ".5M", -EINVAL, 0 },
	{ "1.0000000001G", -EINVAL, 0 },
	{ "12X", -EINVAL, 0 },
};

START_TEST(test_size)
{
	uint64_t v = 777;
	int r = units_parse_size(sizes[_i].text, &v);

	ck_assert_msg(
	    r == sizes[_i].err, "'%s': got %d, want %d", sizes[_i].text, r, sizes[_i].err);
	if (r == 0)
		ck_assert_uint_eq(v, sizes[_i].bytes);
	else
		ck_assert_uint_eq(v, 777); /* untouched on failure */
}
END_TEST

static const struct {
	const char *text;
	int err;
	uint64_t usec;
} durations[] = {
	{ "0", 0, 0 },
	{ "250us", 0, 250 },
	{ "2ms", 0, 2000 },
	{ "1s", 0, 1000000 },
	{ "1.5s", 0, 1500000 },
	{ "2m", 0, 120000000 },
	{ "1h", 0, 3600000000ULL },
	{ "10S", 0, 10000000 },
	{ "2MS", 0, 2000 },
	{ "1.5us", -EINVAL, 0 },
	{ "0.0005ms", -EINVAL, 0 },
	{ "10", -EINVAL, 0 },
	{ "s", -EINVAL, 0 },
	{ "5 s", -EINVAL, 0 },
	{ "5d", -EINVAL, 0 },
	{ "-5s", -EINVAL, 0 },
};

START_TEST(test_duration)
{
	uint64_t v = 777;
	int r = units_parse_duration(durations[_i].text, &v);

	ck_assert_msg(r == durations[_i].err, "'%s': got %d", durations[_i].text, r);
	ck_assert_uint_eq(v, r == 0 ? durations[_i].usec : 777);
}
END_TEST

static const struct {
	const char *text;
	bool allow_auto;
	int err;
	enum threshold_kind kind;
	uint64_t value;
} thresholds[] = {
	{ "none", false, 0, THRESHOLD_NONE, 0 },
	{ "75%", false, 0, THRESHOLD_PERCENT, 7500 },
	{ "99.5%", false, 0, THRESHOLD_PERCENT, 9950 },
	{ "0.01%", false, 0, THRESHOLD_PERCENT, 1 },
	{ "100%", false, 0, THRESHOLD_PERCENT, 10000 },
	{ "700M", false, 0, THRESHOLD_BYTES, 700ULL << 20 },
	{ "auto", true, 0, THRESHOLD_AUTO, 0 },
	{ "auto", false, -EINVAL, 0, 0 },
	{ "0%", false, -ERANGE, 0, 0 },
	{ "100.01%", false, -ERANGE, 0, 0 },
	{ "150%", false, -ERANGE, 0, 0 },
	{ "75.125%", false, -EINVAL, 0, 0 },
	{ "75 %", false, -EINVAL, 0, 0 },
	{ "%", false, -EINVAL, 0, 0 },
	{ "75%%", false, -EINVAL, 0, 0 },
	{ "none ", false, -EINVAL, 0, 0 },
	{ "NONE", false, 0, THRESHOLD_NONE, 0 },
	{ "Auto", true, 0, THRESHOLD_AUTO, 0 },
	{ "0", false, -ERANGE, 0, 0 }, /* a level of 0 bytes: "none" turns it off */
	{ "0B", false, -ERANGE, 0, 0 },
	{ "1.5", false, -EINVAL, 0, 0 },
	{ "700", false, -EINVAL, 0, 0 },
	{ "99999999999T", false, -ERANGE, 0, 0 },
};

START_TEST(test_threshold)
{
	struct threshold t = { THRESHOLD_BYTES, 777 };
	int r = units_parse_threshold(thresholds[_i].text, thresholds[_i].allow_auto, &t);

	ck_assert_msg(r == thresholds[_i].err, "'%s': got %d", thresholds[_i].text, r);
	if (r == 0) {
		ck_assert_int_eq(t.kind, thresholds[_i].kind);
		ck_assert_uint_eq(t.value, thresholds[_i].value);
	} else {
		ck_assert_uint_eq(t.value, 777);
	}
}
END_TEST

START_TEST(test_signal)
{
	int s = 0;

	ck_assert_int_eq(units_parse_signal("SIGUSR1", &s), 0);
	ck_assert_int_eq(s, SIGUSR1);
	ck_assert_int_eq(units_parse_signal("USR2", &s), 0);
	ck_assert_int_eq(s, SIGUSR2);
	ck_assert_int_eq(units_parse_signal("sigterm", &s), 0);
	ck_assert_int_eq(s, SIGTERM);
	ck_assert_int_eq(units_parse_signal("15", &s), 0);
	ck_assert_int_eq(s, 15);
	ck_assert_int_eq(units_parse_signal("RTMIN+3", &s), 0);
	ck_assert_int_eq(s, SIGRTMIN + 3);
	ck_assert_int_eq(units_parse_signal("SIGRTMAX-1", &s), 0);
	ck_assert_int_eq(s, SIGRTMAX - 1);
	ck_assert_int_eq(units_parse_signal("SIGRTMIN", &s), 0);
	ck_assert_int_eq(s, SIGRTMIN);
	s = 777;
	ck_assert_int_eq(units_parse_signal("SIGFOO", &s), -EINVAL);
	ck_assert_int_eq(units_parse_signal("0", &s), -EINVAL);
	ck_assert_int_eq(units_parse_signal("65", &s), -EINVAL);
	ck_assert_int_eq(units_parse_signal("", &s), -EINVAL);
	ck_assert_int_eq(units_parse_signal("RTMIN-1", &s), -EINVAL);
	ck_assert_int_eq(units_parse_signal("RTMIN+99", &s), -EINVAL);
	ck_assert_int_eq(s, 777);
}
END_TEST

START_TEST(test_bool)
{
	bool b = false;

	ck_assert_int_eq(units_parse_bool("yes", &b), 0);
	ck_assert(b);
	ck_assert_int_eq(units_parse_bool("Off", &b), 0);
	ck_assert(!b);
	ck_assert_int_eq(units_parse_bool("true", &b), 0);
	ck_assert(b);
	ck_assert_int_eq(units_parse_bool("0", &b), 0);
	ck_assert(!b);
	ck_assert_int_eq(units_parse_bool("maybe", &b), -EINVAL);
}
END_TEST

/* Every formatter's output must parse back to the same value. */
START_TEST(test_roundtrip)
{
	static const uint64_t sizes_rt[] = { 0, 1, 1023, 1024, 1536, 256ULL << 20, 3ULL << 29,
		1ULL << 40, 123456789 };
	static const uint64_t durs_rt[] = { 0, 1, 999, 1000, 2000, 1500000, 60000000, 90000000,
		3600000000ULL };
	static const struct threshold thr_rt[] = { { THRESHOLD_NONE, 0 }, { THRESHOLD_AUTO, 0 },
		{ THRESHOLD_PERCENT, 7500 }, { THRESHOLD_PERCENT, 9955 }, { THRESHOLD_PERCENT, 5 },
		{ THRESHOLD_BYTES, 700ULL << 20 } };
	char buf[UNITS_BUF];
	uint64_t v;
	struct threshold t;
	int s;

	for (size_t i = 0; i < sizeof(sizes_rt) / sizeof(sizes_rt[0]); i++) {
		ck_assert_int_eq(units_parse_size(units_format_size(sizes_rt[i], buf), &v), 0);
		ck_assert_uint_eq(v, sizes_rt[i]);
	}
	for (size_t i = 0; i < sizeof(durs_rt) / sizeof(durs_rt[0]); i++) {
		ck_assert_int_eq(
		    units_parse_duration(units_format_duration(durs_rt[i], buf), &v), 0);
		ck_assert_uint_eq(v, durs_rt[i]);
	}
	for (size_t i = 0; i < sizeof(thr_rt) / sizeof(thr_rt[0]); i++) {
		ck_assert_int_eq(
		    units_parse_threshold(units_format_threshold(&thr_rt[i], buf), true, &t), 0);
		ck_assert_int_eq(t.kind, thr_rt[i].kind);
		ck_assert_uint_eq(t.value, thr_rt[i].value);
	}
	for (int sig = 1; sig <= SIGRTMAX; sig++) {
		ck_assert_int_eq(units_parse_signal(units_format_signal(sig, buf), &s), 0);
		ck_assert_int_eq(s, sig);
	}
	ck_assert_str_eq(units_format_size(256ULL << 20, buf), "256MiB");
	ck_assert_str_eq(units_format_duration(1500000, buf), "1500ms");
	ck_assert_str_eq(units_format_signal(SIGUSR1, buf), "SIGUSR1");
}
END_TEST

START_TEST(test_threshold_bytes)
{
	struct threshold pct = { THRESHOLD_PERCENT, 7500 };
	struct threshold abs = { THRESHOLD_BYTES, 100 };
	struct threshold none = { THRESHOLD_NONE, 0 };

	ck_assert_uint_eq(units_threshold_bytes(&pct, 1000), 750);
	ck_assert_uint_eq(units_threshold_bytes(&pct, 0), UINT64_MAX);
	ck_assert_uint_eq(units_threshold_bytes(&pct, UINT64_MAX / 2),
	    6917529027641081855ULL); /* floor((2^63-1) * 3 / 4) */
	ck_assert_uint_eq(units_threshold_bytes(&abs, 0), 100);
	ck_assert_uint_eq(units_threshold_bytes(&none, 1000), UINT64_MAX);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("units");
	TCase *tc = tcase_create("units");

	tcase_add_loop_test(tc, test_size, 0, sizeof(sizes) / sizeof(sizes[0]));
	tcase_add_loop_test(tc, test_duration, 0, sizeof(durations) / sizeof(durations[0]));
	tcase_add_loop_test(tc, test_threshold, 0, sizeof(thresholds) / sizeof(thresholds[0]));
	tcase_add_test(tc, test_signal);
	tcase_add_test(tc, test_bool);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_threshold_bytes);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
