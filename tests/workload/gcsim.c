/*
 * gcsim: a stand-in for a garbage-collected service, for oomguard's tests.
 *
 * It keeps a live set of --live percent of its memory limit and allocates
 * short-lived "objects" (1 MiB mmap chunks, touched page by page so the
 * cgroup is charged for them) at --rate MiB/s. Everything allocated after
 * start-up is garbage. The heap (live + garbage) may grow to --garbage-ratio
 * times the live set before gcsim collects on its own, the way Go's GOGC=100
 * lets the heap double. Collecting means munmap of every garbage chunk, so
 * the memory really goes back to the kernel and the cgroup is uncharged.
 *
 * With the defaults (live 60%, ratio 2.0) the heap goal is 120% of the
 * limit: the service reaches its cgroup limit before it ever collects on its
 * own. That is the situation oomguard exists for. Under cgroup v1 with
 * oom_kill_disable=1 gcsim then freezes in the memcg OOM wait once the
 * garbage fills the 40% of headroom: half a second of churn at the default
 * rate, 1.2-1.7 s after exec with a 256M limit on the build machines (page
 * faults cost about 12 us there, so building the live set takes ~0.6 s).
 * A SIGUSR1 ("GC now") makes it collect at once; every 200 ms keeps it near
 * 205 MiB of 256M, every 500 ms is too slow.
 *
 * Usage: gcsim [options]
 *   --limit BYTES        memory limit (K/M/G suffixes); default: read the
 *                        limit of gcsim's own memory cgroup, v1 or v2 (the
 *                        smallest limit on the path to the root)
 *   --live PCT           live set, percent of the limit (default 60)
 *   --garbage-ratio R    self-collect when heap >= R x live (default 2.0)
 *   --rate MIBPS         allocation rate in MiB/s (default 200)
 *   --duration SEC       exit 0 after SEC seconds; 0 = run forever (default)
 *   --usr1 MODE          gc: SIGUSR1 collects at once (default)
 *                        catch: handled but does nothing (Go without
 *                          signal.Notify)
 *                        ignore: SIG_IGN (SigIgn, not SigCgt)
 *                        default: SIG_DFL, SIGUSR1 kills gcsim (JVM, Python)
 *   --ignore-usr1        same as --usr1 ignore
 *   --ignore-term        ignore SIGTERM (SIG_IGN)
 *   --exit-code N        exit status after a graceful SIGTERM (default 0)
 *
 * Output: one line per second on stdout,
 *   t=<seconds> heap=<MiB> live=<MiB> gcs=<self-collections> usr1=<served>
 * where heap counts live + garbage chunks and usr1 counts the SIGUSR1
 * requests served (signals that arrive together coalesce into one).
 * A start-up line and an exit line go to stderr.
 *
 * Exit status: 0 when --duration ran out, the --exit-code value after
 * SIGTERM, 1 on a runtime error (no limit found, mmap failed), 2 on a usage
 * error.
 *
 * The signal handlers only set sig_atomic_t flags; the main loop does the
 * work. A task frozen in the v1 OOM wait cannot run a handler at all, so a
 * frozen gcsim only reacts once something else uncharges memory.
 */
/* The Makefile passes -D_GNU_SOURCE; a standalone build needs it too. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "workload.h"

#define CHUNK_BYTES ((size_t)1 << 20)
#define MIB         (1024.0 * 1024.0)
/* The main loop wakes this often to allocate its share of the rate. */
#define TICK_NSEC 10000000L
/* Allocation owed after a stall (a freeze, a slow tick) is capped at this
 * much time's worth, so a thawed gcsim does not allocate in a burst. */
#define MAX_DEBT_SEC 0.05
/* Like Go's minimum heap goal: a tiny live set still gets some headroom. */
#define MIN_GARBAGE_BYTES (4 * CHUNK_BYTES)
#define TOUCH_LIVE_SEC    1.0
#define REPORT_SEC        1.0

enum usr1_mode { USR1_GC, USR1_CATCH, USR1_IGNORE, USR1_DEFAULT };

/* Indexed by enum usr1_mode. */
static const char *const usr1_mode_names[] = { "gc", "catch", "ignore", "default" };

struct options {
	struct collector_opts c; /* limit_bytes 0: read from the cgroup; rate in MiB/s */
	double garbage_ratio;
	enum usr1_mode usr1_mode;
	int ignore_term;
};

struct heap {
	size_t page_bytes;
	char **live;
	size_t live_count;
	char **garbage;
	size_t garbage_count;
	size_t garbage_max; /* self-collect when garbage_count reaches it */
	unsigned long gcs;
	unsigned long usr1_served;
	unsigned char touch_value;
};

/* Signal flags: the only globals, set by the handlers and cleared by the
 * main loop. */
static volatile sig_atomic_t usr1_pending;

static void
on_usr1(int sig)
{
	(void)sig;
	usr1_pending = 1;
}

static void
on_usr1_noop(int sig)
{
	(void)sig;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: gcsim [--limit BYTES] [--live PCT] [--garbage-ratio R]\n"
	    "             [--rate MIBPS] [--duration SEC]\n"
	    "             [--usr1 gc|catch|ignore|default] [--ignore-usr1]\n"
	    "             [--ignore-term] [--exit-code N]\n");
}

static double
now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
parse_usr1_mode(const char *s, enum usr1_mode *ret_mode)
{
	size_t i;

	for (i = 0; i < sizeof(usr1_mode_names) / sizeof(usr1_mode_names[0]); i++) {
		if (strcmp(s, usr1_mode_names[i]) == 0) {
			*ret_mode = (enum usr1_mode)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* Fill *ret_opts from argv. Return 0, or -EINVAL after printing why. */
static int
options_parse(int argc, char **argv, struct options *ret_opts)
{
	static const struct option longopts[] = {
		COLLECTOR_LONGOPTS,
		{ "garbage-ratio", required_argument, NULL, 'g' },
		{ "usr1", required_argument, NULL, 'u' },
		{ "ignore-usr1", no_argument, NULL, 'U' },
		{ "ignore-term", no_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	struct options o = {
		.c = { .live_pct = 60.0, .rate = 200.0 },
		.garbage_ratio = 2.0,
		.usr1_mode = USR1_GC,
	};
	int c, idx = 0, r = 0;

	while ((c = getopt_long(argc, argv, "", longopts, &idx)) != -1) {
		r = collector_option(c, optarg, &o.c);
		if (r == -ENOENT) {
			r = 0;
			if (c == 'g')
				r = parse_double(optarg, 1.0, 1000.0, &o.garbage_ratio);
			else if (c == 'u')
				r = parse_usr1_mode(optarg, &o.usr1_mode);
			else if (c == 'U')
				o.usr1_mode = USR1_IGNORE;
			else if (c == 'T')
				o.ignore_term = 1;
			else {
				usage();
				return -EINVAL;
			}
		}
		if (r < 0) {
			fprintf(stderr, "gcsim: bad value for --%s: '%s'\n", longopts[idx].name,
			    optarg);
			usage();
			return -EINVAL;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "gcsim: unexpected argument '%s'\n", argv[optind]);
		usage();
		return -EINVAL;
	}
	*ret_opts = o;
	return 0;
}

/* Return 1 if the comma-separated list holds word, else 0. */
static int
list_has(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *p = list;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, word, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return 1;
		p = strchr(p, ',');
		if (p != NULL)
			p++;
	}
	return 0;
}

/* Undo mountinfo's octal escapes (\040 for a space) in place. */
static void
unescape_octal(char *s)
{
	char *out = s;

	while (*s != '\0') {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*out++ = *s++;
		}
	}
	*out = '\0';
}

/* Find this process's memory cgroup path in /proc/self/cgroup: the v1
 * memory hierarchy when there is one, else the v2 line. Return 0 and fill
 * ret_path and *ret_v2, or -ENOENT. */
static int
self_cgroup_path(char *ret_path, size_t len, int *ret_v2)
{
	char line[4096], v2_path[4096] = "";
	FILE *f = fopen("/proc/self/cgroup", "re");

	if (f == NULL)
		return -errno;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *ctrls, *path;

		line[strcspn(line, "\n")] = '\0';
		ctrls = strchr(line, ':');
		path = ctrls != NULL ? strchr(ctrls + 1, ':') : NULL;
		if (path == NULL)
			continue;
		*ctrls++ = '\0';
		*path++ = '\0';
		if (strcmp(line, "0") == 0 && *ctrls == '\0') {
			snprintf(v2_path, sizeof(v2_path), "%s", path);
		} else if (list_has(ctrls, "memory")) {
			fclose(f);
			snprintf(ret_path, len, "%s", path);
			*ret_v2 = 0;
			return 0;
		}
	}
	fclose(f);
	if (v2_path[0] == '\0')
		return -ENOENT;
	snprintf(ret_path, len, "%s", v2_path);
	*ret_v2 = 1;
	return 0;
}

/* Find the directory of this process's memory cgroup from /proc/self/cgroup
 * and /proc/self/mountinfo. Return 0 and fill ret_dir (and ret_mnt, the
 * hierarchy's mount point), *ret_v2, or a negative errno. */
static int
self_cgroup_dir(char *ret_dir, char *ret_mnt, size_t len, int *ret_v2)
{
	char cg_path[4096], line[8192];
	int v2 = 0, r;
	FILE *f;

	r = self_cgroup_path(cg_path, sizeof(cg_path), &v2);
	if (r < 0)
		return r;
	f = fopen("/proc/self/mountinfo", "re");
	if (f == NULL)
		return -errno;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *field[6], *sep, *fstype, *opts, *save = NULL;
		const char *rel;
		size_t rootlen;
		int i;

		sep = strstr(line, " - ");
		if (sep == NULL)
			continue;
		*sep = '\0';
		fstype = strtok_r(sep + 3, " \n", &save);
		(void)strtok_r(NULL, " \n", &save); /* the mount source */
		opts = strtok_r(NULL, " \n", &save);
		if (fstype == NULL || opts == NULL)
			continue;
		if (v2 ? strcmp(fstype, "cgroup2") != 0
		       : strcmp(fstype, "cgroup") != 0 || !list_has(opts, "memory"))
			continue;
		save = NULL;
		for (i = 0; i < 5; i++)
			field[i] = strtok_r(i == 0 ? line : NULL, " ", &save);
		if (field[4] == NULL)
			continue;
		unescape_octal(field[3]);
		unescape_octal(field[4]);
		/* The cgroup path is relative to the root of this mount. */
		rootlen = strcmp(field[3], "/") == 0 ? 0 : strlen(field[3]);
		if (strncmp(cg_path, field[3], rootlen) != 0 ||
		    (cg_path[rootlen] != '/' && cg_path[rootlen] != '\0'))
			continue;
		rel = cg_path + rootlen;
		fclose(f);
		snprintf(ret_mnt, len, "%s", field[4]);
		snprintf(ret_dir, len, "%s%s", field[4], strcmp(rel, "/") == 0 ? "" : rel);
		*ret_v2 = v2;
		return 0;
	}
	fclose(f);
	return -ENOENT;
}

/* Read a limit file ("max" or a number). Return 0 and set *ret_bytes
 * (ULLONG_MAX for "max"), or a negative errno. */
static int
read_limit_file(const char *path, unsigned long long *ret_bytes)
{
	char buf[64];
	FILE *f = fopen(path, "re");
	char *end;
	unsigned long long v;

	if (f == NULL)
		return -errno;
	if (fgets(buf, sizeof(buf), f) == NULL) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	if (strcmp(buf, "max") == 0) {
		*ret_bytes = ULLONG_MAX;
		return 0;
	}
	errno = 0;
	v = strtoull(buf, &end, 10);
	if (errno != 0 || end == buf || *end != '\0')
		return -EINVAL;
	*ret_bytes = v;
	return 0;
}

/* The effective memory limit of this process's cgroup: the smallest limit
 * from its cgroup up to the hierarchy's root. A limit at or above host RAM
 * counts as none. Return 0 and set *ret_bytes, or a negative errno
 * (-ENOENT when no limit applies). */
static int
cgroup_limit_bytes(unsigned long long *ret_bytes)
{
	char dir[4096], mnt[4096], path[4200];
	unsigned long long best = ULLONG_MAX, v = 0, ram_bytes;
	int v2 = 0, r;

	r = self_cgroup_dir(dir, mnt, sizeof(dir), &v2);
	if (r < 0)
		return r;
	for (;;) {
		char *slash;

		snprintf(
		    path, sizeof(path), "%s/%s", dir, v2 ? "memory.max" : "memory.limit_in_bytes");
		if (read_limit_file(path, &v) == 0 && v < best)
			best = v;
		if (strcmp(dir, mnt) == 0)
			break;
		slash = strrchr(dir, '/');
		if (slash == NULL || slash == dir)
			break;
		*slash = '\0';
	}
	ram_bytes =
	    (unsigned long long)sysconf(_SC_PHYS_PAGES) * (unsigned long long)sysconf(_SC_PAGESIZE);
	if (best >= ram_bytes)
		return -ENOENT;
	*ret_bytes = best;
	return 0;
}

/* One chunk, charged to the cgroup now (chunk_map). Return it, or NULL. */
static char *
chunk_new(const struct heap *h)
{
	return chunk_map(CHUNK_BYTES, h->page_bytes, (char)(h->touch_value | 1));
}

/* Return the garbage to the kernel: the "collection". */
static void
heap_collect(struct heap *h)
{
	size_t i;

	for (i = 0; i < h->garbage_count; i++)
		munmap(h->garbage[i], CHUNK_BYTES);
	h->garbage_count = 0;
}

/* Write to every page of the live set, as a mutator would. */
static void
heap_touch_live(struct heap *h)
{
	size_t i, off;

	h->touch_value++;
	for (i = 0; i < h->live_count; i++)
		for (off = 0; off < CHUNK_BYTES; off += h->page_bytes)
			h->live[i][off] = (char)h->touch_value;
}

/* Size the heap for limit_bytes and build the live set. Return 0, or
 * -ENOMEM with errno set by the failed calloc or mmap. */
static int
heap_init(struct heap *h, const struct options *o, unsigned long long limit_bytes)
{
	double live_bytes = (double)limit_bytes * o->c.live_pct / 100.0;
	double garbage_bytes = live_bytes * (o->garbage_ratio - 1.0);

	memset(h, 0, sizeof(*h));
	h->page_bytes = (size_t)sysconf(_SC_PAGESIZE);
	h->live_count = (size_t)(live_bytes / (double)CHUNK_BYTES);
	if (garbage_bytes < (double)MIN_GARBAGE_BYTES)
		garbage_bytes = (double)MIN_GARBAGE_BYTES;
	/* Round up: a fraction of a chunk still counts as room for one. */
	h->garbage_max = (size_t)(garbage_bytes / (double)CHUNK_BYTES + 0.999999);
	return heap_build(
	    h->live_count, h->garbage_max, CHUNK_BYTES, h->page_bytes, &h->live, &h->garbage);
}

/* Allocate one garbage chunk, collecting first when the heap is at its goal.
 * Return 0, or -ENOMEM. */
static int
heap_alloc_garbage(struct heap *h)
{
	char *p;

	if (h->garbage_count >= h->garbage_max) {
		heap_collect(h);
		h->gcs++;
	}
	p = chunk_new(h);
	if (p == NULL)
		return -ENOMEM;
	h->garbage[h->garbage_count++] = p;
	return 0;
}

/* Unmap everything and free the bookkeeping (so that leak checkers stay
 * quiet when gcsim is built with sanitizers). */
static void
heap_free(struct heap *h)
{
	size_t i;

	if (h->garbage != NULL)
		heap_collect(h);
	for (i = 0; h->live != NULL && i < h->live_count; i++)
		if (h->live[i] != NULL)
			munmap(h->live[i], CHUNK_BYTES);
	free(h->live);
	free(h->garbage);
	h->live = NULL;
	h->garbage = NULL;
	h->live_count = 0;
}

static int
install_handler(int sig, void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	return sigaction(sig, &sa, NULL);
}

static void
install_signals(const struct options *o)
{
	static void (*const usr1[])(int) = {
		[USR1_GC] = on_usr1,
		[USR1_CATCH] = on_usr1_noop,
		[USR1_IGNORE] = SIG_IGN,
		[USR1_DEFAULT] = SIG_DFL,
	};

	install_handler(SIGUSR1, usr1[o->usr1_mode]);
	install_handler(SIGTERM, o->ignore_term ? SIG_IGN : collector_on_term);
}

static void
report(const struct heap *h, double t_sec)
{
	printf("t=%ld heap=%zu live=%zu gcs=%lu usr1=%lu\n", (long)t_sec,
	    (h->live_count + h->garbage_count) * (CHUNK_BYTES >> 20),
	    h->live_count * (CHUNK_BYTES >> 20), h->gcs, h->usr1_served);
}

/* Run until SIGTERM or --duration. Return the exit status. */
static int
run(struct heap *h, const struct options *o)
{
	double start = now_sec(), last = start, next_touch = start + TOUCH_LIVE_SEC;
	double next_report = start + REPORT_SEC, owed_bytes = 0.0;
	double rate_bytes = o->c.rate * MIB;
	const struct timespec tick = { 0, TICK_NSEC };

	for (;;) {
		double now = now_sec();

		if (collector_term) {
			fprintf(stderr, "gcsim: SIGTERM, exiting with %d\n", o->c.exit_code);
			return o->c.exit_code;
		}
		if (usr1_pending) {
			usr1_pending = 0;
			heap_collect(h);
			h->usr1_served++;
		}
		if (o->c.duration_sec > 0 && now - start >= o->c.duration_sec) {
			fprintf(stderr, "gcsim: --duration reached, exiting with 0\n");
			return 0;
		}
		owed_bytes += rate_bytes * (now - last);
		if (owed_bytes > rate_bytes * MAX_DEBT_SEC)
			owed_bytes = rate_bytes * MAX_DEBT_SEC;
		last = now;
		/* Check the flags between chunks: a request is served within
		 * one chunk's worth of allocation. */
		while (owed_bytes >= (double)CHUNK_BYTES && !usr1_pending && !collector_term) {
			if (heap_alloc_garbage(h) < 0) {
				fprintf(
				    stderr, "gcsim: mmap of a chunk failed: %s\n", strerror(errno));
				return 1;
			}
			owed_bytes -= (double)CHUNK_BYTES;
		}
		if (now >= next_touch) {
			heap_touch_live(h);
			next_touch = now + TOUCH_LIVE_SEC;
		}
		if (now >= next_report) {
			report(h, now - start);
			next_report += REPORT_SEC;
			if (next_report <= now)
				next_report = now + REPORT_SEC;
		}
		if (!usr1_pending && !collector_term)
			nanosleep(&tick, NULL);
	}
}

int
main(int argc, char **argv)
{
	struct options o;
	struct heap h;
	unsigned long long limit_bytes;
	int status;

	if (options_parse(argc, argv, &o) < 0)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	install_signals(&o);
	limit_bytes = o.c.limit_bytes;
	if (limit_bytes == 0) {
		int r = cgroup_limit_bytes(&limit_bytes);

		if (r < 0) {
			fprintf(stderr,
			    "gcsim: no memory limit found for this cgroup (%s); "
			    "pass --limit\n",
			    strerror(-r));
			return 1;
		}
	}
	if (heap_init(&h, &o, limit_bytes) < 0) {
		fprintf(stderr, "gcsim: cannot build the live set: %s\n", strerror(errno));
		heap_free(&h);
		return 1;
	}
	fprintf(stderr,
	    "gcsim: pid=%d limit=%lluMiB live=%zuMiB heap_goal=%zuMiB rate=%gMiB/s usr1=%s%s\n",
	    (int)getpid(), limit_bytes >> 20, h.live_count * (CHUNK_BYTES >> 20),
	    (h.live_count + h.garbage_max) * (CHUNK_BYTES >> 20), o.c.rate,
	    usr1_mode_names[o.usr1_mode], o.ignore_term ? " sigterm=ignored" : "");
	status = run(&h, &o);
	heap_free(&h);
	return status;
}
