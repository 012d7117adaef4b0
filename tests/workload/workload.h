/*
 * workload.h: the helpers the workloads share: a cgroup counter read from
 * an open file (stepper.c, floor.c), a clock in microseconds (burst.c,
 * oomwait.c, churn.c), and the option values and heap chunks of the two
 * collectors (gcsim.c, churn.c).
 */
#ifndef OOMGUARD_WORKLOAD_H
#define OOMGUARD_WORKLOAD_H

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* The clock id (CLOCK_MONOTONIC, CLOCK_REALTIME) now, in microseconds. */
static inline uint64_t
clock_usec(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* The number in the file open as fd (memory.usage_in_bytes), read from
 * its start; 0 when it cannot be read. */
static inline uint64_t
read_usage(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strtoull(buf, NULL, 10);
}

/* A byte count with an optional K, M, G or T suffix (powers of 1024, any
 * case). Return 0 and set *ret_bytes, or -EINVAL. */
static inline int
parse_bytes(const char *s, unsigned long long *ret_bytes)
{
	static const char units[] = "kmgt";
	unsigned long long v, mult = 1;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *s == '-')
		return -EINVAL;
	for (int i = 0; units[i] != '\0'; i++) {
		if (*end == units[i] || *end == units[i] - 'a' + 'A') {
			mult = 1ULL << (10 * (i + 1));
			end++;
			break;
		}
	}
	if (*end != '\0' || v > ULLONG_MAX / mult)
		return -EINVAL;
	*ret_bytes = v * mult;
	return 0;
}

/* A finite number in [min, max]. Return 0 and set *ret, or -EINVAL. */
static inline int
parse_double(const char *s, double min, double max, double *ret)
{
	double v;
	char *end;

	errno = 0;
	v = strtod(s, &end);
	/* Written so that NaN fails the range check too. */
	if (errno != 0 || end == s || *end != '\0' || !(v >= min && v <= max))
		return -EINVAL;
	*ret = v;
	return 0;
}

/* An exit status, a whole number from 0 to 255. Return 0 and set *ret, or
 * -EINVAL. */
static inline int
parse_exit_code(const char *s, int *ret)
{
	double v;

	if (parse_double(s, 0.0, 255.0, &v) < 0 || v != (int)v)
		return -EINVAL;
	*ret = (int)v;
	return 0;
}

/* Set by collector_on_term(), the SIGTERM handler of gcsim and churn,
 * whose loops read it. */
static volatile sig_atomic_t collector_term __attribute__((unused));

static inline void
collector_on_term(int sig)
{
	(void)sig;
	collector_term = 1;
}

/* The options gcsim and churn share, each in its own struct options. */
struct collector_opts {
	unsigned long long limit_bytes; /* --limit */
	double live_pct;                /* --live: percent of the limit */
	double rate;                    /* --rate, in MiB/s (gcsim) or MB/s (churn) */
	double duration_sec;            /* --duration; 0: run until SIGTERM */
	int exit_code;                  /* --exit-code: the status after SIGTERM */
};

/* Their entries in a getopt_long() table, with the values
 * collector_option() takes. */
/* clang-format off */
#define COLLECTOR_LONGOPTS                              \
	{ "limit", required_argument, NULL, 'l' },      \
	{ "live", required_argument, NULL, 'L' },       \
	{ "rate", required_argument, NULL, 'r' },       \
	{ "duration", required_argument, NULL, 'd' },   \
	{ "exit-code", required_argument, NULL, 'e' }
/* clang-format on */

/* Take getopt_long()'s c and its argument into *o when c is one of
 * COLLECTOR_LONGOPTS. Return 0, -EINVAL for a bad value, or -ENOENT for
 * another option. */
static inline int
collector_option(int c, const char *arg, struct collector_opts *o)
{
	switch (c) {
	case 'l':
		return parse_bytes(arg, &o->limit_bytes);
	case 'L':
		return parse_double(arg, 0.0, 100.0, &o->live_pct);
	case 'r':
		return parse_double(arg, 0.0, 1e6, &o->rate);
	case 'd':
		return parse_double(arg, 0.0, 1e9, &o->duration_sec);
	case 'e':
		return parse_exit_code(arg, &o->exit_code);
	default:
		return -ENOENT;
	}
}

/* Map bytes of anonymous memory and write value to each of its pages
 * through a volatile pointer, so that the cgroup is charged for all of it
 * now (a write the compiler could drop would charge nothing). Huge pages
 * are refused, so the charge grows page by page as for a heap of small
 * objects. Return the mapping, or NULL with errno set. */
static inline char *
chunk_map(size_t bytes, size_t page_bytes, char value)
{
	volatile char *v;
	char *p;

	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	(void)madvise(p, bytes, MADV_NOHUGEPAGE);
	v = p;
	for (size_t off = 0; off < bytes; off += page_bytes)
		v[off] = value;
	return p;
}

/* The heap of a collector: *ret_live, live_count chunks of chunk_bytes
 * mapped and written now (chunk_map), and *ret_garbage, room for
 * garbage_max more. Return 0, or -ENOMEM (what was mapped is left to the
 * exit). */
static inline int
heap_build(size_t live_count, size_t garbage_max, size_t chunk_bytes, size_t page_bytes,
    char ***ret_live, char ***ret_garbage)
{
	/* One spare slot: calloc(0) may return NULL. */
	char **live = calloc(live_count + 1, sizeof(*live));
	char **garbage = calloc(garbage_max + 1, sizeof(*garbage));

	*ret_live = live;
	*ret_garbage = garbage;
	if (live == NULL || garbage == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < live_count; i++) {
		live[i] = chunk_map(chunk_bytes, page_bytes, 1);
		if (live[i] == NULL)
			return -ENOMEM;
	}
	return 0;
}

#endif
