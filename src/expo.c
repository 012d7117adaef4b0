/*
 * expo.c: the Prometheus text exposition format (0.0.4).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "expo.h"

static const char *const type_names[] = { "counter", "gauge", "histogram" };

int
expo_name_valid(const char *name, int label)
{
	if (name[0] == '\0' || (name[0] >= '0' && name[0] <= '9'))
		return 0;
	for (const char *p = name; *p != '\0'; p++) {
		char c = *p;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		        c == '_' || (c == ':' && !label)))
			return 0;
	}
	return 1;
}

size_t
expo_utf8_length(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned char lo = 0x80, hi = 0xBF;
	size_t n;

	if (p[0] == 0)
		return 0;
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		n = 2;
	else if (p[0] >= 0xE0 && p[0] <= 0xEF)
		n = 3;
	else if (p[0] >= 0xF0 && p[0] <= 0xF4)
		n = 4;
	else
		return 0;
	if (p[0] == 0xE0)
		lo = 0xA0;
	else if (p[0] == 0xED)
		hi = 0x9F;
	else if (p[0] == 0xF0)
		lo = 0x90;
	else if (p[0] == 0xF4)
		hi = 0x8F;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return n;
}

/* Append s escaped: backslash and newline always, the double quote when
 * quote is set (label values; HELP text leaves it alone). */
static int
escape(struct evbuffer *out, const char *s, int quote)
{
	const unsigned char *p = (const unsigned char *)s;
	int r = 0;

	while (*p != '\0' && r == 0) {
		size_t n = expo_utf8_length((const char *)p);

		if (n == 0) {
			r = evbuffer_add(out, "\xEF\xBF\xBD", 3);
			p++;
		} else if (*p == '\\') {
			r = evbuffer_add(out, "\\\\", 2);
			p++;
		} else if (*p == '\n') {
			r = evbuffer_add(out, "\\n", 2);
			p++;
		} else if (*p == '"' && quote) {
			r = evbuffer_add(out, "\\\"", 2);
			p++;
		} else {
			r = evbuffer_add(out, p, n);
			p += n;
		}
	}
	return r < 0 ? -ENOMEM : 0;
}

int
expo_escape(struct evbuffer *out, const char *value)
{
	return escape(out, value, 1);
}

int
expo_family(struct evbuffer *out, const char *name, enum expo_type type, const char *help)
{
	if (evbuffer_add_printf(out, "# HELP %s ", name) < 0 || escape(out, help, 0) < 0 ||
	    evbuffer_add_printf(out, "\n# TYPE %s %s\n", name, type_names[type]) < 0)
		return -ENOMEM;
	return 0;
}

char *
expo_format_seconds(uint64_t usec, char *buf)
{
	int n = snprintf(
	    buf, EXPO_SECONDS_MAX, "%" PRIu64 ".%06" PRIu64, usec / 1000000, usec % 1000000);

	while (n > 0 && buf[n - 1] == '0')
		buf[--n] = '\0';
	if (n > 0 && buf[n - 1] == '.')
		buf[--n] = '\0';
	return buf;
}

static int
add_label(struct evbuffer *out, const struct expo_label *l, int first)
{
	if (evbuffer_add_printf(out, "%s%s=\"", first ? "" : ",", l->name) < 0 ||
	    expo_escape(out, l->value) < 0 || evbuffer_add(out, "\"", 1) < 0)
		return -ENOMEM;
	return 0;
}

/* name + suffix, then {labels} with extra last; nothing for no label. */
static int
add_series(struct evbuffer *out, const struct expo_series *s, const char *suffix)
{
	size_t n = s->nlabels + (s->extra != NULL);

	if (evbuffer_add_printf(out, "%s%s", s->name, suffix) < 0)
		return -ENOMEM;
	if (n == 0)
		return 0;
	if (evbuffer_add(out, "{", 1) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < s->nlabels; i++)
		if (add_label(out, &s->labels[i], i == 0) < 0)
			return -ENOMEM;
	if (s->extra != NULL && add_label(out, s->extra, s->nlabels == 0) < 0)
		return -ENOMEM;
	return evbuffer_add(out, "}", 1) < 0 ? -ENOMEM : 0;
}

int
expo_uint(struct evbuffer *out, const struct expo_series *s, uint64_t value)
{
	if (add_series(out, s, "") < 0 || evbuffer_add_printf(out, " %" PRIu64 "\n", value) < 0)
		return -ENOMEM;
	return 0;
}

int
expo_seconds(struct evbuffer *out, const struct expo_series *s, uint64_t usec)
{
	char v[EXPO_SECONDS_MAX];

	if (add_series(out, s, "") < 0 ||
	    evbuffer_add_printf(out, " %s\n", expo_format_seconds(usec, v)) < 0)
		return -ENOMEM;
	return 0;
}

int
expo_histogram(struct evbuffer *out, const struct expo_series *s, const struct stats_hist *h)
{
	struct expo_series b = *s;
	char le[EXPO_SECONDS_MAX];
	struct expo_label l = { "le", le };

	b.extra = &l;
	for (unsigned i = 0; i <= STATS_BUCKETS; i++) {
		if (i < STATS_BUCKETS)
			expo_format_seconds(stats_bucket_usec[i], le);
		else
			snprintf(le, sizeof(le), "+Inf");
		if (add_series(out, &b, "_bucket") < 0 ||
		    evbuffer_add_printf(out, " %" PRIu64 "\n", stats_cumulative(h, i)) < 0)
			return -ENOMEM;
	}
	b.extra = NULL;
	if (add_series(out, &b, "_sum") < 0 ||
	    evbuffer_add_printf(out, " %s\n", expo_format_seconds(h->sum_usec, le)) < 0 ||
	    add_series(out, &b, "_count") < 0 ||
	    evbuffer_add_printf(out, " %" PRIu64 "\n", h->count) < 0)
		return -ENOMEM;
	return 0;
}
