/*
 * burst: a workload that allocates as fast as it can until its cgroup
 * freezes, for oomguard's rescue tests and benchmark.
 *
 * It maps anonymous memory in chunks (--chunk MiB, 16 by default), asks for
 * transparent huge pages (MADV_HUGEPAGE: each fault then charges 2 MiB) and
 * writes to every 4 KiB page of each chunk as fast as it can, with no pause,
 * until --max MiB (a safety stop for a cgroup without a limit; it then holds
 * what it has). Under cgroup v1 with oom_kill_disable=1 it thus runs into its
 * limit and freezes in the memcg OOM wait: the huge-page charges fail near
 * the limit, the kernel falls back to 4 KiB pages, and the first of those
 * that cannot be charged parks the task. On the build machines (a shared
 * 2-core VM) it froze a 256 MiB cgroup 40 ms to 1.8 s after its start, 0.6 s
 * typically: pages the hypervisor has not backed yet fault slowly, recycled
 * ones at several GiB/s. That still does not outrun oomguard's levels (its
 * requests came within 1 MiB of a level); the rescue tests keep the levels
 * out of the way instead.
 *
 * What it does on signals (the only handlers it installs; a signal not
 * named keeps its default action):
 *   --term exit:N   SIGTERM: print a "handler" line and _exit(N).
 *   --usr1 free     SIGUSR1: munmap all but the first --keep percent (25 by
 *                   default) of the completed chunks, print a "handler" line
 *                   and return. The chunk being written is left alone (the
 *                   main loop owns it); the main loop notices the free,
 *                   unmaps that chunk itself and from then on holds what is
 *                   left, writing to it once a second like a live heap, and
 *                   printing an "alive" line each time. Another SIGUSR1 frees
 *                   again.
 *   default         for both: SIGTERM and SIGUSR1 keep their default
 *                   actions (terminate).
 * A task parked in the OOM wait cannot run a handler: a caught signal stays
 * pending until something uncharges memory in the cgroup (oomguard's
 * rescue releases its reserve), and then the handler runs first thing.
 *
 * Output on stdout, one write(2) per line, times in microseconds on
 * CLOCK_MONOTONIC and CLOCK_REALTIME (both, so that they can be compared
 * with oomwait's moment of the freeze and with oomguard's log):
 *   start <mono_usec> <real_usec> pid <pid>
 *   handler SIGTERM <mono_usec> <real_usec> allocated <MiB> touch <mono_usec>
 *   handler SIGUSR1 <mono_usec> <real_usec> allocated <MiB> freed <MiB>
 *           touch <mono_usec>     (on one line)
 *   alive <mono_usec> held <MiB>
 *   max <mono_usec> allocated <MiB>
 * "allocated" counts whole chunks written so far (what was held), "freed"
 * what the handler gave back.
 *
 * The moment of the freeze, two ways: oomwait (tests/workload/oomwait.c)
 * watches the cgroup's v1 OOM notification from outside and notes the time
 * it wakes up, which is late by its scheduling delay (tens of milliseconds
 * on a loaded machine unless it runs with a real-time priority); and burst
 * notes the time before each page it writes ("touch": the last one before
 * the handler is the write that froze, so this is early, by the kernel's
 * reclaim attempts before it parks the task). The rescue time is the
 * handler's mono_usec minus either. Noting the time costs a vDSO
 * clock_gettime per 4 KiB page, about 2 ms per 256 MiB.
 *
 * The handlers are async-signal-safe: they call clock_gettime, munmap,
 * write and _exit, and format numbers by hand. The main loop blocks SIGUSR1
 * around its bookkeeping of the chunk list, so the handler always sees a
 * consistent list; it never blocks it while writing to memory, which is where
 * the task freezes and where the signal must get through. The stack is
 * written to at start-up, so a handler's frame needs no new page.
 *
 * Usage: burst [--term exit:N|default] [--usr1 free|default] [--chunk MIB]
 *              [--max MIB] [--keep PCT] [--no-thp]
 * Exit status: N after SIGTERM with --term exit:N, 1 when mmap fails, 2 on a
 * usage error; otherwise it runs until a signal ends it.
 */
/* The Makefile passes -D_GNU_SOURCE; a standalone build needs it too. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "workload.h"

#define MIB_BYTES      ((size_t)1 << 20)
#define PAGE_BYTES     4096
#define MAX_CHUNKS     4096
#define STACK_PREFAULT (256 * 1024)

struct options {
	int term_exit; /* -1: SIGTERM keeps its default action */
	int usr1_free;
	size_t chunk_mib;
	size_t max_mib;
	size_t keep_pct;
	int thp;
};

/* Shared with the handlers. The chunk list is changed by the main loop only
 * with SIGUSR1 blocked, and by the SIGUSR1 handler, which cannot interrupt
 * itself. */
static char *chunks[MAX_CHUNKS];
static volatile sig_atomic_t nchunks;
static volatile sig_atomic_t frees;  /* SIGUSR1 frees so far */
static volatile uint64_t touch_usec; /* CLOCK_MONOTONIC before the last write */
static size_t chunk_bytes;
static size_t keep_pct;
static int term_exit_code;

/* ---- async-signal-safe output ---- */

struct outbuf {
	char buf[256];
	size_t len;
};

static void
out_str(struct outbuf *o, const char *s)
{
	while (*s != '\0' && o->len < sizeof(o->buf) - 1)
		o->buf[o->len++] = *s++;
}

static void
out_u64(struct outbuf *o, uint64_t v)
{
	char digits[24];
	size_t n = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0 && o->len < sizeof(o->buf) - 1)
		o->buf[o->len++] = digits[--n];
}

/* Write the line with one write(2), so that lines never interleave. */
static void
out_line(struct outbuf *o)
{
	o->buf[o->len++] = '\n';
	(void)!write(STDOUT_FILENO, o->buf, o->len);
	o->len = 0;
}

/* "<mono_usec> <real_usec>", read back to back. */
static void
out_times(struct outbuf *o)
{
	uint64_t mono = clock_usec(CLOCK_MONOTONIC), real = clock_usec(CLOCK_REALTIME);

	out_u64(o, mono);
	out_str(o, " ");
	out_u64(o, real);
}

static uint64_t
held_mib(void)
{
	return (uint64_t)nchunks * (chunk_bytes / MIB_BYTES);
}

/* ---- handlers ---- */

static void
on_term(int sig)
{
	struct outbuf o = { .len = 0 };

	(void)sig;
	out_str(&o, "handler SIGTERM ");
	out_times(&o);
	out_str(&o, " allocated ");
	out_u64(&o, held_mib());
	out_str(&o, " touch ");
	out_u64(&o, touch_usec);
	out_line(&o);
	_exit(term_exit_code);
}

/* The line starts with the handler's entry time; the frees come after. */
static void
on_usr1(int sig)
{
	struct outbuf o = { .len = 0 };
	int saved_errno = errno;
	sig_atomic_t n = nchunks, keep = (sig_atomic_t)((size_t)n * keep_pct / 100);
	uint64_t before = held_mib();

	(void)sig;
	out_str(&o, "handler SIGUSR1 ");
	out_times(&o);
	for (sig_atomic_t i = keep; i < n; i++) {
		munmap(chunks[i], chunk_bytes);
		chunks[i] = NULL;
	}
	nchunks = keep;
	frees++;
	out_str(&o, " allocated ");
	out_u64(&o, before);
	out_str(&o, " freed ");
	out_u64(&o, before - held_mib());
	out_str(&o, " touch ");
	out_u64(&o, touch_usec);
	out_line(&o);
	errno = saved_errno;
}

/* ---- the workload ---- */

static void
usage(void)
{
	fprintf(stderr,
	    "usage: burst [--term exit:N|default] [--usr1 free|default] "
	    "[--chunk MIB] [--max MIB] [--keep PCT] [--no-thp]\n");
}

/* Parse a decimal in [min, max]. Return 0 and set *ret, or -EINVAL. */
static int
parse_size(const char *s, size_t min, size_t max, size_t *ret)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || *s == '-' || v < min || v > max)
		return -EINVAL;
	*ret = (size_t)v;
	return 0;
}

static int
parse_term(const char *s, int *ret_code)
{
	size_t code;

	if (strcmp(s, "default") == 0) {
		*ret_code = -1;
		return 0;
	}
	if (strncmp(s, "exit:", 5) != 0 || parse_size(s + 5, 0, 255, &code) < 0)
		return -EINVAL;
	*ret_code = (int)code;
	return 0;
}

static int
parse_usr1(const char *s, int *ret_free)
{
	if (strcmp(s, "free") == 0)
		*ret_free = 1;
	else if (strcmp(s, "default") == 0)
		*ret_free = 0;
	else
		return -EINVAL;
	return 0;
}

/* Fill *ret_opts from argv. Return 0, or -EINVAL after printing why. */
static int
options_parse(int argc, char **argv, struct options *ret_opts)
{
	static const struct option longopts[] = {
		{ "term", required_argument, NULL, 't' },
		{ "usr1", required_argument, NULL, 'u' },
		{ "chunk", required_argument, NULL, 'c' },
		{ "max", required_argument, NULL, 'm' },
		{ "keep", required_argument, NULL, 'k' },
		{ "no-thp", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct options o = {
		.term_exit = -1, .chunk_mib = 16, .max_mib = 2048, .keep_pct = 25, .thp = 1
	};
	int c, idx = 0, r = 0;

	while ((c = getopt_long(argc, argv, "", longopts, &idx)) != -1) {
		switch (c) {
		case 't':
			r = parse_term(optarg, &o.term_exit);
			break;
		case 'u':
			r = parse_usr1(optarg, &o.usr1_free);
			break;
		case 'c':
			r = parse_size(optarg, 2, 1024, &o.chunk_mib);
			break;
		case 'm':
			r = parse_size(optarg, 1, 1 << 20, &o.max_mib);
			break;
		case 'k':
			r = parse_size(optarg, 0, 100, &o.keep_pct);
			break;
		case 'n':
			o.thp = 0;
			break;
		default:
			usage();
			return -EINVAL;
		}
		if (r < 0) {
			fprintf(stderr, "burst: bad value for --%s: '%s'\n", longopts[idx].name,
			    optarg);
			usage();
			return -EINVAL;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "burst: unexpected argument '%s'\n", argv[optind]);
		usage();
		return -EINVAL;
	}
	if (o.max_mib / o.chunk_mib > MAX_CHUNKS) {
		fprintf(stderr, "burst: --max / --chunk is more than %d chunks\n", MAX_CHUNKS);
		return -EINVAL;
	}
	*ret_opts = o;
	return 0;
}

/* Write to the stack well below main's frame once, so that the pages a
 * handler's frame lands on are already charged when the cgroup is full. */
static void
stack_prefault(void)
{
	volatile char area[STACK_PREFAULT];

	for (size_t off = 0; off < sizeof(area); off += PAGE_BYTES)
		area[off] = 1;
}

static int
install_signals(const struct options *o)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	if (o->term_exit >= 0) {
		sa.sa_handler = on_term;
		/* The exit code is read in the handler: set it first. */
		term_exit_code = o->term_exit;
		if (sigaction(SIGTERM, &sa, NULL) < 0)
			return -errno;
	}
	if (o->usr1_free) {
		sa.sa_handler = on_usr1;
		sigaddset(&sa.sa_mask, SIGTERM);
		if (sigaction(SIGUSR1, &sa, NULL) < 0)
			return -errno;
	}
	return 0;
}

static void
block_usr1(int how)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(how, &set, NULL);
}

/* Write to every page of p until done or until the handler frees (frees
 * moves past seen). Return 1 when every page was written, 0 if a free
 * interrupted it. */
static int
chunk_touch(char *p, sig_atomic_t seen)
{
	for (size_t off = 0; off < chunk_bytes; off += PAGE_BYTES) {
		if (frees != seen)
			return 0;
		touch_usec = clock_usec(CLOCK_MONOTONIC);
		p[off] = 1;
	}
	return 1;
}

/* Hold what the handler left, writing to it once a second; never returns. */
static void
hold(void)
{
	struct outbuf o = { .len = 0 };
	const struct timespec tick = { 1, 0 };
	unsigned char v = 0;

	for (;;) {
		v++;
		block_usr1(SIG_BLOCK);
		for (sig_atomic_t i = 0; i < nchunks; i++)
			for (size_t off = 0; off < chunk_bytes; off += PAGE_BYTES)
				chunks[i][off] = (char)v;
		out_str(&o, "alive ");
		out_u64(&o, clock_usec(CLOCK_MONOTONIC));
		out_str(&o, " held ");
		out_u64(&o, held_mib());
		block_usr1(SIG_UNBLOCK);
		out_line(&o);
		nanosleep(&tick, NULL);
	}
}

/* Allocate until frozen, --max or a free. Return 0 to hold, 1 on error. */
static int
grow(const struct options *o)
{
	struct outbuf out = { .len = 0 };
	size_t max_chunks = o->max_mib / o->chunk_mib;

	for (;;) {
		sig_atomic_t seen = frees;
		char *p;

		if ((size_t)nchunks >= max_chunks) {
			out_str(&out, "max ");
			out_u64(&out, clock_usec(CLOCK_MONOTONIC));
			out_str(&out, " allocated ");
			out_u64(&out, held_mib());
			out_line(&out);
			return 0;
		}
		p = mmap(NULL, chunk_bytes, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED) {
			fprintf(
			    stderr, "burst: mmap of %zu MiB: %s\n", o->chunk_mib, strerror(errno));
			return 1;
		}
		(void)madvise(p, chunk_bytes, o->thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
		if (!chunk_touch(p, seen)) {
			munmap(p, chunk_bytes);
			return 0;
		}
		block_usr1(SIG_BLOCK);
		chunks[nchunks] = p;
		nchunks = nchunks + 1;
		block_usr1(SIG_UNBLOCK);
		/* A free that came right after the last page was written. */
		if (frees != seen)
			return 0;
	}
}

int
main(int argc, char **argv)
{
	struct options o;
	struct outbuf out = { .len = 0 };
	int r;

	if (options_parse(argc, argv, &o) < 0)
		return 2;
	chunk_bytes = o.chunk_mib * MIB_BYTES;
	keep_pct = o.keep_pct;
	stack_prefault();
	r = install_signals(&o);
	if (r < 0) {
		fprintf(stderr, "burst: sigaction: %s\n", strerror(-r));
		return 1;
	}
	out_str(&out, "start ");
	out_times(&out);
	out_str(&out, " pid ");
	out_u64(&out, (uint64_t)getpid());
	out_line(&out);
	if (grow(&o) != 0)
		return 1;
	hold();
	return 0;
}
