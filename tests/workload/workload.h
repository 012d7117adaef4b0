/*
 * workload.h: the helpers the workloads share: a cgroup counter read from
 * an open file (stepper.c, floor.c) and a clock in microseconds (burst.c,
 * oomwait.c).
 */
#ifndef OOMGUARD_WORKLOAD_H
#define OOMGUARD_WORKLOAD_H

#include <stdint.h>
#include <stdlib.h>
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

#endif
