/*
 * check_expo.c: the Prometheus text format, written into an evbuffer and
 * compared whole.
 */
#include <check.h>
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "expo.h"
#include "suite.h"

/* The buffer's text, NUL-terminated, to be freed. */
static char *
text(struct evbuffer *b)
{
	size_t n = evbuffer_get_length(b);
	char *s = malloc(n + 1);

	ck_assert_ptr_nonnull(s);
	evbuffer_remove(b, s, n);
	s[n] = '\0';
	return s;
}

static void
expect(struct evbuffer *b, const char *want)
{
	char *got = text(b);

	ck_assert_str_eq(got, want);
	free(got);
}

START_TEST(test_family)
{
	struct evbuffer *b = evbuffer_new();

	ck_assert_int_eq(expo_family(b, "oomguard_kills_total", EXPO_COUNTER,
	                     "SIGKILLs sent \\ by \"the\"\nkill level"),
	    0);
	expect(b,
	    "# HELP oomguard_kills_total SIGKILLs sent \\\\ by \"the\"\\nkill level\n"
	    "# TYPE oomguard_kills_total counter\n");
	evbuffer_free(b);
}
END_TEST

START_TEST(test_samples_and_labels)
{
	struct evbuffer *b = evbuffer_new();
	const struct expo_label labels[] = { { "cgroup", "/a\"b\\c\nd" }, { "name", "web" } };
	const struct expo_label level = { "level", "gc" };
	struct expo_series s = { "oomguard_level_bytes", labels, 2, &level };
	struct expo_series bare = { "oomguard_up", NULL, 0, NULL };
	struct expo_series one = { "x_seconds_total", labels + 1, 1, NULL };

	ck_assert_int_eq(expo_uint(b, &s, 18446744073709551615ULL), 0);
	ck_assert_int_eq(expo_uint(b, &bare, 1), 0);
	ck_assert_int_eq(expo_seconds(b, &one, 1500), 0);
	expect(b,
	    "oomguard_level_bytes{cgroup=\"/a\\\"b\\\\c\\nd\",name=\"web\",level=\"gc\"} "
	    "18446744073709551615\n"
	    "oomguard_up 1\n"
	    "x_seconds_total{name=\"web\"} 0.0015\n");
	evbuffer_free(b);
}
END_TEST

START_TEST(test_seconds_exact)
{
	char buf[EXPO_SECONDS_MAX];

	ck_assert_str_eq(expo_format_seconds(0, buf), "0");
	ck_assert_str_eq(expo_format_seconds(100, buf), "0.0001");
	ck_assert_str_eq(expo_format_seconds(250, buf), "0.00025");
	ck_assert_str_eq(expo_format_seconds(5000000, buf), "5");
	ck_assert_str_eq(expo_format_seconds(1000001, buf), "1.000001");
	ck_assert_str_eq(
	    expo_format_seconds(18446744073709551615ULL, buf), "18446744073709.551615");
}
END_TEST

START_TEST(test_invalid_utf8_replaced)
{
	struct evbuffer *b = evbuffer_new();

	/* A lone continuation byte, an overlong '/', a surrogate, a cut
	 * sequence at the end; valid é and U+10FFFF kept. */
	ck_assert_int_eq(expo_escape(b,
	                     "a\x80"
	                     "b\xC0\xAF"
	                     "c\xED\xA0\x80"
	                     "\xC3\xA9\xF4\x8F\xBF\xBF\xE2\x82"),
	    0);
	expect(b,
	    "a\xEF\xBF\xBD"
	    "b\xEF\xBF\xBD\xEF\xBF\xBD"
	    "c\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
	    "\xC3\xA9\xF4\x8F\xBF\xBF\xEF\xBF\xBD\xEF\xBF\xBD");
	evbuffer_free(b);
}
END_TEST

START_TEST(test_histogram)
{
	struct evbuffer *b = evbuffer_new();
	const struct expo_label labels[] = { { "cgroup", "/c" } };
	struct expo_series s = { "oomguard_sample_duration_seconds", labels, 1, NULL };
	struct stats_hist h = { 0 };
	char *got, *line;
	unsigned nbuckets = 0;

	stats_observe(&h, 50);
	stats_observe(&h, 300);
	stats_observe(&h, 9000000);
	ck_assert_int_eq(expo_histogram(b, &s, &h), 0);
	got = text(b);
	ck_assert_ptr_nonnull(strstr(got,
	    "oomguard_sample_duration_seconds_bucket{cgroup=\"/c\","
	    "le=\"0.0001\"} 1\n"
	    "oomguard_sample_duration_seconds_bucket{cgroup=\"/c\","
	    "le=\"0.00025\"} 1\n"
	    "oomguard_sample_duration_seconds_bucket{cgroup=\"/c\","
	    "le=\"0.0005\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(got,
	    "le=\"5\"} 2\n"
	    "oomguard_sample_duration_seconds_bucket{cgroup=\"/c\","
	    "le=\"+Inf\"} 3\n"
	    "oomguard_sample_duration_seconds_sum{cgroup=\"/c\"} "
	    "9.00035\n"
	    "oomguard_sample_duration_seconds_count{cgroup=\"/c\"} "
	    "3\n"));
	for (line = got; (line = strstr(line, "_bucket{")) != NULL; line++)
		nbuckets++;
	ck_assert_uint_eq(nbuckets, STATS_BUCKETS + 1);
	free(got);
	evbuffer_free(b);
}
END_TEST

START_TEST(test_names)
{
	ck_assert(expo_name_valid("oomguard_kills_total", 0));
	ck_assert(expo_name_valid("a:b", 0));
	ck_assert(!expo_name_valid("a:b", 1));
	ck_assert(!expo_name_valid("9a", 0));
	ck_assert(!expo_name_valid("", 1));
	ck_assert(!expo_name_valid("a-b", 0));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("expo");
	TCase *tc = tcase_create("expo");

	tcase_add_test(tc, test_family);
	tcase_add_test(tc, test_samples_and_labels);
	tcase_add_test(tc, test_seconds_exact);
	tcase_add_test(tc, test_invalid_utf8_replaced);
	tcase_add_test(tc, test_histogram);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
