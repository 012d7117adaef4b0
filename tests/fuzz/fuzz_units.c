/*
 * fuzz_units.c: the value parsers of units.c (sizes, durations,
 * thresholds, signals, booleans), with the promise units.h makes: every
 * formatter prints text that its parser reads back to the same value.
 */
#include <stdbool.h>
#include <stdio.h>

#include "fuzz.h"
#include "units.h"

/* A broken promise is a crash, so that libFuzzer keeps the input. */
static void
check(bool ok, const char *what, const char *input)
{
	if (!ok) {
		fprintf(stderr, "fuzz_units: %s does not parse back: '%s'\n", what, input);
		abort();
	}
}

static void
fuzz_size(const char *s)
{
	char buf[UNITS_BUF];
	uint64_t v, back;

	if (units_parse_size(s, &v) < 0)
		return;
	(void)units_format_human(v, buf);
	check(units_parse_size(units_format_size(v, buf), &back) == 0 && back == v, "size", s);
}

static void
fuzz_duration(const char *s)
{
	char buf[UNITS_BUF];
	uint64_t v, back;

	if (units_parse_duration(s, &v) < 0)
		return;
	check(units_parse_duration(units_format_duration(v, buf), &back) == 0 && back == v,
	    "duration", s);
}

static void
fuzz_threshold(const char *s, bool allow_auto)
{
	char buf[UNITS_BUF];
	struct threshold t, back;

	if (units_parse_threshold(s, allow_auto, &t) < 0)
		return;
	(void)units_threshold_bytes(&t, 0);
	(void)units_threshold_bytes(&t, 1ULL << 30);
	(void)units_threshold_bytes(&t, UINT64_MAX);
	check(units_parse_threshold(units_format_threshold(&t, buf), allow_auto, &back) == 0 &&
	        back.kind == t.kind && back.value == t.value,
	    "threshold", s);
}

static void
fuzz_signal(const char *s)
{
	char buf[UNITS_BUF];
	int v, back;

	if (units_parse_signal(s, &v) < 0)
		return;
	check(
	    units_parse_signal(units_format_signal(v, buf), &back) == 0 && back == v, "signal", s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size);
	bool b;

	/* Each input goes through every parser: the text of one key is
	 * often tried as the value of another. */
	fuzz_size(s);
	fuzz_duration(s);
	fuzz_threshold(s, false);
	fuzz_threshold(s, true);
	fuzz_signal(s);
	(void)units_parse_bool(s, &b);
	free(s);
	return 0;
}
