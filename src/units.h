/*
 * units.h: parsing and printing of the values oomguard's configuration
 * holds: sizes, durations, thresholds, signals and booleans. Pure code: no
 * I/O, no globals. Every formatter prints text that its parser reads back
 * to the same value.
 */
#ifndef OOMGUARD_UNITS_H
#define OOMGUARD_UNITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Basis points: a percentage is held as hundredths of a percent. */
#define UNITS_PCT_SCALE 100U

enum threshold_kind { THRESHOLD_NONE, THRESHOLD_PERCENT, THRESHOLD_BYTES, THRESHOLD_AUTO };

/* A level's trigger point: disabled, a share of the cgroup's limit, an
 * absolute size, or (where a key allows it) chosen by oomguard. */
struct threshold {
	enum threshold_kind kind;
	uint64_t value; /* basis points for PERCENT, bytes for BYTES */
};

/* The longest text a formatter below produces, NUL included. */
#define UNITS_BUF 32

/* Parse a size: digits with an optional fraction and a unit B, K, KiB, M,
 * MiB, G, GiB, T, TiB (binary multiples, case-insensitive). A number
 * without a unit is refused, "0" alone excepted, and so is a fraction that
 * is not a whole number of bytes (1.5B). Return 0 and set *ret_bytes,
 * -EINVAL for text that is not a size, -ERANGE for a size that does not
 * fit 64 bits. */
int units_parse_size(const char *s, uint64_t *ret_bytes);

/* Parse a duration: a number with a unit us, ms, s, m or h
 * (case-insensitive; "0" alone is allowed; a fraction must give whole
 * microseconds). Return 0 and set *ret_usec, -EINVAL, or -ERANGE. */
int units_parse_duration(const char *s, uint64_t *ret_usec);

/* Parse a threshold: "none", a percentage ("75%", "99.5%", above 0 and at
 * most 100, two decimals at most), a size above 0, or "auto" when
 * allow_auto (keywords case-insensitive). Return 0 and set *ret, -EINVAL,
 * or -ERANGE (a percentage out of range, a size of 0 or past 64 bits). */
int units_parse_threshold(const char *s, bool allow_auto, struct threshold *ret);

/* Parse a signal: a name with or without "SIG" (any case), RTMIN+N,
 * RTMAX-N, or a number from 1 to 64. SIGKILL and SIGSTOP are accepted: what
 * to allow is the caller's choice. Return 0 and set *ret_signo, or -EINVAL. */
int units_parse_signal(const char *s, int *ret_signo);

/* Parse yes/no, true/false, on/off, 1/0. Return 0 and set *ret, or -EINVAL. */
int units_parse_bool(const char *s, bool *ret);

/* Formatters write into buf (at least UNITS_BUF bytes) and return buf. */
char *units_format_size(uint64_t bytes, char *buf);
char *units_format_duration(uint64_t usec, char *buf);
char *units_format_threshold(const struct threshold *t, char *buf);
/* "SIGUSR1", "SIGRTMIN+3", or the number when the signal has no name. */
char *units_format_signal(int signo, char *buf);
/* A size for people: "512.0MiB" with one decimal; does not parse back. */
char *units_format_human(uint64_t bytes, char *buf);

/* The threshold in bytes for a cgroup limit (0 = no limit). A disabled
 * threshold, or a percentage with no limit, gives UINT64_MAX. */
uint64_t units_threshold_bytes(const struct threshold *t, uint64_t limit_bytes);

#endif
