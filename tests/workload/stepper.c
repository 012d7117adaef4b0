/*
 * stepper: measures how fast a "free memory now" request arrives once the
 * cgroup's usage crosses a threshold. For the benchmark, not the tests.
 *
 * usage: stepper USAGE_FILE THRESHOLD_BYTES RATE_MIBPS COUNT [BASE_BYTES]
 *
 * First it touches BASE_BYTES (default 0) and holds them, so that each
 * step starts close below the threshold. Then COUNT times: touch fresh pages one by one at RATE
 * MiB/s, reading the cgroup's usage file (USAGE_FILE, e.g. memory.usage_in_bytes) after each page;
 * note the moment the kernel's usage first reads at or above the threshold; keep growing until
 * SIGUSR1 arrives (its handler notes the moment) or a second passes; print the latency in
 * microseconds (0 when the request arrived before the read that would have noted the crossing),
 * or "timeout" (no request within the second, or one before the crossing); free everything and rest
 * 100 ms so that the episode ends.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "workload.h"

#define PAGE  4096
#define ARENA (1UL << 30)

static volatile sig_atomic_t got;
static struct timespec got_at;

static void
on_usr1(int sig)
{
	(void)sig;
	clock_gettime(CLOCK_MONOTONIC, &got_at);
	got = 1;
}

static uint64_t
usec_of(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000 + (uint64_t)ts->tv_nsec / 1000;
}

static uint64_t
now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return usec_of(&ts);
}

/* One crossing: return the latency in usec, or -1 on timeout. */
static long
step(int fd, char *arena, uint64_t threshold, double rate_bps)
{
	uint64_t start = now_usec(), crossed = 0;
	size_t off = 0;

	got = 0;
	while (off + PAGE <= ARENA) {
		arena[off] = 1;
		off += PAGE;
		if (crossed == 0 && read_usage(fd) >= threshold)
			crossed = now_usec();
		if (got)
			break;
		if (crossed != 0 && now_usec() - crossed > 1000000)
			break;
		/* pace: the time this many bytes should have taken */
		uint64_t due = start + (uint64_t)((double)off / rate_bps * 1e6);
		while (now_usec() < due && !got)
			;
	}
	if (got && crossed == 0 && read_usage(fd) >= threshold)
		return 0; /* the request came between the page that crossed and the read */
	if (!got || crossed == 0)
		return -1;
	return usec_of(&got_at) > crossed ? (long)(usec_of(&got_at) - crossed) : 0;
}

int
main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	uint64_t threshold;
	double rate;
	char *arena;
	int fd, count;

	if (argc != 5 && argc != 6) {
		fprintf(stderr,
		    "usage: stepper USAGE_FILE THRESHOLD_BYTES RATE_MIBPS COUNT [BASE_BYTES]\n");
		return 2;
	}
	if (argc == 6) {
		size_t base = strtoull(argv[5], NULL, 10);
		char *held = base
		    ? mmap(NULL, base, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
		    : NULL;

		if (held == MAP_FAILED)
			return 1;
		for (size_t off = 0; off < base; off += PAGE)
			held[off] = 1;
	}
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	threshold = strtoull(argv[2], NULL, 10);
	rate = atof(argv[3]) * 1048576.0;
	count = atoi(argv[4]);
	if (fd < 0 || threshold == 0 || rate <= 0 || count <= 0) {
		fprintf(stderr, "stepper: bad arguments\n");
		return 2;
	}
	sigaction(SIGUSR1, &sa, NULL);
	for (int i = 0; i < count; i++) {
		long lat;

		arena = mmap(NULL, ARENA, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (arena == MAP_FAILED)
			return 1;
		madvise(arena, ARENA, MADV_NOHUGEPAGE);
		lat = step(fd, arena, threshold, rate);
		munmap(arena, ARENA);
		if (lat < 0)
			printf("timeout\n");
		else
			printf("%ld\n", lat);
		fflush(stdout);
		usleep(100000);
	}
	return 0;
}
