/*
 * expo.h: the Prometheus text exposition format, version 0.0.4: HELP and
 * TYPE lines, samples with their labels, histograms from a guard's
 * struct stats_hist. Pure apart from appending to the evbuffer it is
 * given: what a metric means is the caller's (metrics.c); how it is
 * written is this module's.
 */
#ifndef OOMGUARD_EXPO_H
#define OOMGUARD_EXPO_H

#include <event2/buffer.h>
#include <stddef.h>
#include <stdint.h>

#include "stats.h"

/* The Content-Type of the format. */
#define EXPO_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

enum expo_type { EXPO_COUNTER, EXPO_GAUGE, EXPO_HISTOGRAM };

/* A label: name is one of the caller's literals ([a-zA-Z_][a-zA-Z0-9_]*),
 * value any string (escaped, and made valid UTF-8, as it is written). */
struct expo_label {
	const char *name;
	const char *value;
};

/* The labels of one series: the guard's own, then at most one more
 * (level="gc", kind="oom_kill"). */
struct expo_series {
	const char *name; /* the metric's name, without _bucket, _sum, _count */
	const struct expo_label *labels;
	size_t nlabels;
	const struct expo_label *extra; /* NULL for none */
};

/* Whether name is a valid metric or label name: [a-zA-Z_:][a-zA-Z0-9_:]*
 * (no ':' in a label name when label is true). Pure. */
int expo_name_valid(const char *name, int label);

/* Append "# HELP name help" (help escaped: \\ and \n) and "# TYPE name
 * type". Return 0, or -ENOMEM. */
int expo_family(struct evbuffer *out, const char *name, enum expo_type type, const char *help);

/* Append one sample: name{labels} value, the value an integer. Return 0,
 * or -ENOMEM. */
int expo_uint(struct evbuffer *out, const struct expo_series *s, uint64_t value);

/* Append one sample whose value is usec microseconds written in seconds,
 * exactly (1500 as 0.0015). Return 0, or -ENOMEM. */
int expo_seconds(struct evbuffer *out, const struct expo_series *s, uint64_t usec);

/* Append a histogram of durations in seconds: name_bucket with le for
 * each bound of stats_bucket_usec and +Inf, cumulative; name_sum in
 * seconds; name_count. s->extra must be NULL (le takes its place).
 * Return 0, or -ENOMEM. */
int expo_histogram(struct evbuffer *out, const struct expo_series *s, const struct stats_hist *h);

/* Append value as the inside of a label value's quotes: \ as \\, " as
 * \", a newline as \n, and every byte that is not part of valid UTF-8
 * as U+FFFD. Return 0, or -ENOMEM. */
int expo_escape(struct evbuffer *out, const char *value);

/* The length of the valid UTF-8 sequence at p (RFC 3629: no overlong
 * form, no surrogate, at most U+10FFFF), or 0 when p does not start one
 * (or is at its NUL). Pure. */
size_t expo_utf8_length(const char *p);

/* Write usec as seconds, exactly and without trailing zeros ("0.00025",
 * "5"), into buf of at least EXPO_SECONDS_MAX bytes; return buf. */
#define EXPO_SECONDS_MAX 32
char *expo_format_seconds(uint64_t usec, char *buf);

#endif
