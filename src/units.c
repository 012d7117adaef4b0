/*
 * units.c: parsing and printing of configuration values. Pure code.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "units.h"

#define FRAC_DIGITS_MAX 9

/* A non-negative decimal number split at the point: "12.50" gives
 * whole 12, frac 50, frac_digits 2. */
struct decimal {
	uint64_t whole;
	uint64_t frac;
	unsigned frac_digits;
};

static uint64_t
pow10u(unsigned n)
{
	uint64_t p = 1;

	while (n-- > 0)
		p *= 10;
	return p;
}

/* Parse the number at the start of s; return 0 and set *ret_dec and
 * *ret_end, -EINVAL when there are no digits, -ERANGE when too long. */
static int
decimal_parse(const char *s, struct decimal *ret_dec, const char **ret_end)
{
	struct decimal d = { 0, 0, 0 };
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (d.whole > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		d.whole = d.whole * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		for (; *p >= '0' && *p <= '9'; p++) {
			if (d.frac_digits == FRAC_DIGITS_MAX)
				return -EINVAL;
			d.frac = d.frac * 10 + (uint64_t)(*p - '0');
			d.frac_digits++;
		}
	}
	*ret_dec = d;
	*ret_end = p;
	return 0;
}

/* d times mult; -EINVAL when that is not a whole number (1.5B, 0.5us),
 * -ERANGE past 64 bits. */
static int
decimal_scale(const struct decimal *d, uint64_t mult, uint64_t *ret)
{
	unsigned __int128 v = (unsigned __int128)d->whole * mult;
	unsigned __int128 frac = (unsigned __int128)d->frac * mult;

	if (frac % pow10u(d->frac_digits) != 0)
		return -EINVAL;
	v += frac / pow10u(d->frac_digits);
	if (v > UINT64_MAX)
		return -ERANGE;
	*ret = (uint64_t)v;
	return 0;
}

struct unit {
	const char *name;
	uint64_t mult;
};

static const struct unit size_units[] = {
	{ "B", 1 },
	{ "K", 1ULL << 10 },
	{ "KiB", 1ULL << 10 },
	{ "M", 1ULL << 20 },
	{ "MiB", 1ULL << 20 },
	{ "G", 1ULL << 30 },
	{ "GiB", 1ULL << 30 },
	{ "T", 1ULL << 40 },
	{ "TiB", 1ULL << 40 },
};

static const struct unit duration_units[] = {
	{ "us", 1 },
	{ "ms", 1000 },
	{ "s", 1000000 },
	{ "m", 60000000 },
	{ "h", 3600000000ULL },
};

static int
parse_with_units(const char *s, const struct unit *units, size_t nunits, uint64_t *ret)
{
	struct decimal d;
	const char *end;
	int r;

	r = decimal_parse(s, &d, &end);
	if (r < 0)
		return r;
	for (size_t i = 0; i < nunits; i++) {
		if (strcasecmp(end, units[i].name) == 0)
			return decimal_scale(&d, units[i].mult, ret);
	}
	return -EINVAL;
}

int
units_parse_size(const char *s, uint64_t *ret_bytes)
{
	/* Zero is zero in every unit; any other number needs one. */
	if (strcmp(s, "0") == 0) {
		*ret_bytes = 0;
		return 0;
	}
	return parse_with_units(
	    s, size_units, sizeof(size_units) / sizeof(size_units[0]), ret_bytes);
}

int
units_parse_duration(const char *s, uint64_t *ret_usec)
{
	if (strcmp(s, "0") == 0) {
		*ret_usec = 0;
		return 0;
	}
	return parse_with_units(
	    s, duration_units, sizeof(duration_units) / sizeof(duration_units[0]), ret_usec);
}

static int
parse_percent(const char *s, struct threshold *ret)
{
	struct decimal d;
	const char *end;
	uint64_t bp;
	int r;

	r = decimal_parse(s, &d, &end);
	if (r < 0)
		return r;
	if (strcmp(end, "%") != 0 || d.frac_digits > 2)
		return -EINVAL;
	if (decimal_scale(&d, UNITS_PCT_SCALE, &bp) < 0 || bp == 0 || bp > 100 * UNITS_PCT_SCALE)
		return -ERANGE;
	ret->kind = THRESHOLD_PERCENT;
	ret->value = bp;
	return 0;
}

int
units_parse_threshold(const char *s, bool allow_auto, struct threshold *ret)
{
	uint64_t bytes;
	int r;

	if (strcasecmp(s, "none") == 0) {
		*ret = (struct threshold){ THRESHOLD_NONE, 0 };
		return 0;
	}
	if (allow_auto && strcasecmp(s, "auto") == 0) {
		*ret = (struct threshold){ THRESHOLD_AUTO, 0 };
		return 0;
	}
	if (strchr(s, '%') != NULL)
		return parse_percent(s, ret);
	r = units_parse_size(s, &bytes);
	if (r < 0)
		return r;
	/* A level of 0 bytes would always be reached: "none" turns one off. */
	if (bytes == 0)
		return -ERANGE;
	*ret = (struct threshold){ THRESHOLD_BYTES, bytes };
	return 0;
}

static int
parse_number(const char *s, long min, long max, long *ret)
{
	long v = 0;

	if (*s == '\0')
		return -EINVAL;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || v > max)
			return -EINVAL;
		v = v * 10 + (*s - '0');
	}
	if (v < min || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* "RTMIN+3", "RTMAX-1", "RTMIN" (s without the SIG prefix). */
static int
parse_rt_signal(const char *s, int *ret_signo)
{
	long off = 0;
	int base;
	int sign;

	if (strncasecmp(s, "RTMIN", 5) == 0) {
		base = SIGRTMIN;
		sign = 1;
	} else if (strncasecmp(s, "RTMAX", 5) == 0) {
		base = SIGRTMAX;
		sign = -1;
	} else {
		return -EINVAL;
	}
	s += 5;
	if (*s != '\0') {
		if (*s != (sign > 0 ? '+' : '-') ||
		    parse_number(s + 1, 0, SIGRTMAX - SIGRTMIN, &off) < 0)
			return -EINVAL;
	}
	*ret_signo = base + sign * (int)off;
	return 0;
}

int
units_parse_signal(const char *s, int *ret_signo)
{
	long n;

	if (parse_number(s, 1, SIGRTMAX, &n) == 0) {
		*ret_signo = (int)n;
		return 0;
	}
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	if (parse_rt_signal(s, ret_signo) == 0)
		return 0;
	for (int i = 1; i < SIGRTMIN; i++) {
		const char *name = sigabbrev_np(i);

		if (name != NULL && strcasecmp(s, name) == 0) {
			*ret_signo = i;
			return 0;
		}
	}
	return -EINVAL;
}

int
units_parse_bool(const char *s, bool *ret)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*ret = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

/* Print n in the largest unit that divides it exactly. */
static char *
format_exact(uint64_t n, const struct unit *units, size_t nunits, char *buf)
{
	size_t best = 0;

	for (size_t i = 0; i < nunits; i++) {
		if (n != 0 && n % units[i].mult == 0 && units[i].mult >= units[best].mult)
			best = i;
	}
	snprintf(
	    buf, UNITS_BUF, "%llu%s", (unsigned long long)(n / units[best].mult), units[best].name);
	return buf;
}

char *
units_format_size(uint64_t bytes, char *buf)
{
	static const struct unit out[] = {
		{ "B", 1 },
		{ "KiB", 1ULL << 10 },
		{ "MiB", 1ULL << 20 },
		{ "GiB", 1ULL << 30 },
		{ "TiB", 1ULL << 40 },
	};

	return format_exact(bytes, out, sizeof(out) / sizeof(out[0]), buf);
}

char *
units_format_duration(uint64_t usec, char *buf)
{
	if (usec == 0) {
		snprintf(buf, UNITS_BUF, "0");
		return buf;
	}
	return format_exact(
	    usec, duration_units, sizeof(duration_units) / sizeof(duration_units[0]), buf);
}

char *
units_format_threshold(const struct threshold *t, char *buf)
{
	switch (t->kind) {
	case THRESHOLD_NONE:
		snprintf(buf, UNITS_BUF, "none");
		break;
	case THRESHOLD_AUTO:
		snprintf(buf, UNITS_BUF, "auto");
		break;
	case THRESHOLD_BYTES:
		units_format_size(t->value, buf);
		break;
	case THRESHOLD_PERCENT:
		if (t->value % UNITS_PCT_SCALE == 0)
			snprintf(buf, UNITS_BUF, "%llu%%",
			    (unsigned long long)(t->value / UNITS_PCT_SCALE));
		else
			snprintf(buf, UNITS_BUF, "%llu.%02llu%%",
			    (unsigned long long)(t->value / UNITS_PCT_SCALE),
			    (unsigned long long)(t->value % UNITS_PCT_SCALE));
		break;
	}
	return buf;
}

char *
units_format_signal(int signo, char *buf)
{
	const char *name = signo > 0 && signo < SIGRTMIN ? sigabbrev_np(signo) : NULL;

	if (name != NULL)
		snprintf(buf, UNITS_BUF, "SIG%s", name);
	else if (signo >= SIGRTMIN && signo <= SIGRTMAX)
		snprintf(buf, UNITS_BUF, "SIGRTMIN+%d", signo - SIGRTMIN);
	else
		snprintf(buf, UNITS_BUF, "%d", signo);
	return buf;
}

char *
units_format_human(uint64_t bytes, char *buf)
{
	static const char *const names[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	size_t i = 0;

	while (v >= 1024 && i + 1 < sizeof(names) / sizeof(names[0])) {
		v /= 1024;
		i++;
	}
	if (i == 0)
		snprintf(buf, UNITS_BUF, "%lluB", (unsigned long long)bytes);
	else
		snprintf(buf, UNITS_BUF, "%.1f%s", v, names[i]);
	return buf;
}

uint64_t
units_threshold_bytes(const struct threshold *t, uint64_t limit_bytes)
{
	switch (t->kind) {
	case THRESHOLD_BYTES:
		return t->value;
	case THRESHOLD_PERCENT:
		if (limit_bytes == 0)
			return UINT64_MAX;
		return (
		    uint64_t)((unsigned __int128)limit_bytes * t->value / (100 * UNITS_PCT_SCALE));
	default:
		return UINT64_MAX;
	}
}
