/*
 * churn: a fast collector, for oomguard's tests and benchmark. It keeps a
 * live set of --live percent of --limit and replaces the rest of its heap
 * at --rate MB/s (10^6 bytes): every allocation is garbage the moment it is
 * made, and garbage is freed (munmap, so the cgroup is uncharged) only when
 * a SIGUSR1 asks for it, at once, as a busy Go or JVM service that collects
 * on request does. Without requests the heap grows until the limit stops it.
 *
 * Usage: churn --limit BYTES [--rate MBPS] [--live PCT] [--duration SEC]
 *              [--exit-code N]
 *   --limit BYTES   the cgroup's limit (K/M/G suffixes, powers of 1024)
 *   --rate MBPS     allocation rate in MB/s (default 200)
 *   --live PCT      live set, percent of the limit (default 60)
 *   --duration SEC  exit 0 after SEC seconds; 0 = until SIGTERM (default)
 *   --exit-code N   exit status after SIGTERM (default 0)
 *
 * Output: one line a second on stdout,
 *   t=<s> heap=<MiB> usr1=<requests received> served=<collections>
 * and at exit one line on stderr,
 *   churn: exit <status> (<why>): usr1 <n> served <n> allocated <MB> MB
 *   freed <MB> MB peak <MiB> MiB
 * Exit status: 0 at --duration, --exit-code after SIGTERM, 1 when a chunk
 * cannot be mapped, 2 on a usage error. A SIGKILL (oomguard's or the
 * kernel's OOM killer) leaves no exit line.
 *
 * Pages are written through a volatile pointer, so that gcc -O2 keeps the
 * writes and the cgroup is charged for every page. The handlers only count
 * and set flags; the main loop collects.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "workload.h"

#define CHUNK_BYTES ((size_t)256 << 10)
#define MIB         ((size_t)1 << 20)
/* The loop wakes this often to allocate its share of the rate. */
#define TICK_USEC 1000
/* Allocation owed after a stall is capped at this much time's worth. */
#define MAX_DEBT_USEC 20000

struct options {
	struct collector_opts c; /* rate in MB/s */
	double rate_bytes_per_sec;
};

struct heap {
	size_t page_bytes;
	char **live;
	size_t live_count;
	char **garbage;
	size_t garbage_count, garbage_max;
	unsigned long served;
	unsigned long long allocated_bytes, freed_bytes;
	size_t peak_chunks;
};

static volatile sig_atomic_t usr1_count;

static void
on_usr1(int sig)
{
	(void)sig;
	usr1_count++;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: churn --limit BYTES [--rate MBPS] [--live PCT] [--duration SEC] "
	    "[--exit-code N]\n");
}

/* Fill *ret_opts from argv. Return 0, or -EINVAL after printing why. */
static int
options_parse(int argc, char **argv, struct options *ret_opts)
{
	static const struct option longopts[] = {
		COLLECTOR_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct options o = { .c = { .live_pct = 60.0, .rate = 200.0 } };
	int c, idx = 0;

	while ((c = getopt_long(argc, argv, "", longopts, &idx)) != -1) {
		if (collector_option(c, optarg, &o.c) < 0) {
			usage();
			return -EINVAL;
		}
	}
	if (optind != argc || o.c.limit_bytes == 0) {
		usage();
		return -EINVAL;
	}
	o.rate_bytes_per_sec = o.c.rate * 1e6;
	*ret_opts = o;
	return 0;
}

/* One chunk, charged to the cgroup now (chunk_map). Return it, or NULL. */
static char *
chunk_new(const struct heap *h)
{
	return chunk_map(CHUNK_BYTES, h->page_bytes, 1);
}

/* Size the heap for the limit and build the live set. Return 0 or -ENOMEM. */
static int
heap_init(struct heap *h, const struct options *o)
{
	memset(h, 0, sizeof(*h));
	h->page_bytes = (size_t)sysconf(_SC_PAGESIZE);
	h->live_count = (size_t)((double)o->c.limit_bytes * o->c.live_pct / 100.0) / CHUNK_BYTES;
	/* Room for garbage up to twice the limit: the limit stops it first. */
	h->garbage_max = (size_t)(2 * o->c.limit_bytes / CHUNK_BYTES) + 1;
	return heap_build(
	    h->live_count, h->garbage_max, CHUNK_BYTES, h->page_bytes, &h->live, &h->garbage);
}

/* Free every garbage chunk: the collection. */
static void
heap_collect(struct heap *h)
{
	for (size_t i = 0; i < h->garbage_count; i++)
		munmap(h->garbage[i], CHUNK_BYTES);
	h->freed_bytes += (unsigned long long)h->garbage_count * CHUNK_BYTES;
	h->garbage_count = 0;
}

/* One more chunk of garbage. Return 0, or -ENOMEM. */
static int
heap_alloc(struct heap *h)
{
	char *p;

	if (h->garbage_count == h->garbage_max)
		return -ENOMEM;
	p = chunk_new(h);
	if (p == NULL)
		return -ENOMEM;
	h->garbage[h->garbage_count++] = p;
	h->allocated_bytes += CHUNK_BYTES;
	if (h->live_count + h->garbage_count > h->peak_chunks)
		h->peak_chunks = h->live_count + h->garbage_count;
	return 0;
}

static void
report(const struct heap *h, double t_sec)
{
	printf("t=%.0f heap=%zu usr1=%lu served=%lu\n", t_sec,
	    (h->live_count + h->garbage_count) * CHUNK_BYTES / MIB, (unsigned long)usr1_count,
	    h->served);
}

/* Serve a request, if one came, at once. */
static void
serve(struct heap *h, unsigned long *seen)
{
	unsigned long n = (unsigned long)usr1_count;

	if (n == *seen)
		return;
	*seen = n;
	heap_collect(h);
	h->served++;
}

/* Run until SIGTERM or --duration. Return the exit status; *ret_why says
 * what ended it. */
static int
run(struct heap *h, const struct options *o, const char **ret_why)
{
	uint64_t start = clock_usec(CLOCK_MONOTONIC), last = start, next_report = start + 1000000;
	const struct timespec tick = { 0, TICK_USEC * 1000L };
	double owed = 0.0, max_owed = o->rate_bytes_per_sec * MAX_DEBT_USEC / 1e6;
	unsigned long seen = 0;

	for (;;) {
		uint64_t now = clock_usec(CLOCK_MONOTONIC);

		serve(h, &seen);
		if (collector_term) {
			*ret_why = "SIGTERM";
			return o->c.exit_code;
		}
		if (o->c.duration_sec > 0 && (double)(now - start) >= o->c.duration_sec * 1e6) {
			*ret_why = "duration";
			return 0;
		}
		owed += o->rate_bytes_per_sec * (double)(now - last) / 1e6;
		owed = owed > max_owed ? max_owed : owed;
		last = now;
		while (owed >= (double)CHUNK_BYTES && !collector_term && usr1_count == (int)seen) {
			if (heap_alloc(h) < 0) {
				*ret_why = strerror(errno != 0 ? errno : ENOMEM);
				return 1;
			}
			owed -= (double)CHUNK_BYTES;
		}
		if (now >= next_report) {
			report(h, (double)(now - start) / 1e6);
			next_report += 1000000;
		}
		nanosleep(&tick, NULL);
	}
}

int
main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	const char *why = "";
	struct options o;
	struct heap h;
	int status;

	if (options_parse(argc, argv, &o) < 0)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = collector_on_term;
	sigaction(SIGTERM, &sa, NULL);
	if (heap_init(&h, &o) < 0) {
		fprintf(stderr, "churn: cannot build the live set: %s\n", strerror(errno));
		return 1;
	}
	fprintf(stderr, "churn: pid %d limit %lluMiB live %zuMiB rate %.0fMB/s\n", (int)getpid(),
	    o.c.limit_bytes >> 20, h.live_count * CHUNK_BYTES / MIB, o.rate_bytes_per_sec / 1e6);
	status = run(&h, &o, &why);
	fprintf(stderr,
	    "churn: exit %d (%s): usr1 %lu served %lu allocated %llu MB freed %llu MB peak %zu "
	    "MiB\n",
	    status, why, (unsigned long)usr1_count, h.served, h.allocated_bytes / 1000000,
	    h.freed_bytes / 1000000, h.peak_chunks * CHUNK_BYTES / MIB);
	return status;
}
