/*
 * usage.h: the one helper the benchmark's workloads share (stepper.c and
 * floor.c): a cgroup counter read from an open file.
 */
#ifndef OOMGUARD_WORKLOAD_USAGE_H
#define OOMGUARD_WORKLOAD_USAGE_H

#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

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
