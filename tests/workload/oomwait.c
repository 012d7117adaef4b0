/*
 * oomwait: note the moment a cgroup v1 memory cgroup freezes at its limit,
 * from outside it. For oomguard's rescue tests and benchmark.
 *
 * It registers the v1 OOM notification on the cgroup (an eventfd written to
 * cgroup.event_control as "<efd> <fd of memory.oom_control>"), prints a
 * "ready" line, and then one line each time the eventfd fires, with the time
 * read right after the wake-up on CLOCK_MONOTONIC (to compare with the
 * workload's handler lines) and CLOCK_REALTIME (to compare with oomguard's
 * log, whose times are CLOCK_REALTIME), both in microseconds:
 *   ready <mono_usec> <real_usec>
 *   oom <mono_usec> <real_usec> under_oom <0|1> events <n>
 *   gone <mono_usec> <real_usec>
 * The kernel signals the eventfd when the first task of the cgroup enters
 * the memcg OOM wait, just after it sets under_oom, so "oom" is the moment of
 * the freeze, late by this process's wake-up (tens of microseconds on an idle
 * core). It also fires at once when the cgroup is already frozen at
 * registration (register before starting the workload), and once more when
 * the cgroup is removed: then memory.oom_control can no longer be read, and
 * oomwait prints "gone" and exits 0. "events" is the eventfd's count (several
 * freezes between two reads coalesce into one line). under_oom is read after
 * the wake-up: 0 there means the freeze was already over (a rescue can be
 * that quick), not that there was none.
 *
 * Run it outside the watched cgroup (a frozen cgroup would freeze it too).
 *
 * Usage: oomwait CGROUP_DIR [COUNT]
 * With COUNT, exit 0 after COUNT "oom" lines. Exit status 1 when
 * the notification cannot be registered (the reason on stderr), 2 on a usage
 * error.
 */
/* The Makefile passes -D_GNU_SOURCE; a standalone build needs it too. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "workload.h"

/* Read under_oom from an open memory.oom_control. Return 0 or 1, or a
 * negative errno (-ENODEV once the cgroup is removed). */
static int
under_oom(int fd)
{
	char buf[256];
	const char *p;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	p = strstr(buf, "under_oom ");
	if (p == NULL)
		return -EINVAL;
	return p[10] == '1' ? 1 : 0;
}

/* Register the OOM notification on dir. Return the eventfd, or -1 after a
 * message; *ret_ofd is the open memory.oom_control. */
static int
oom_register(const char *dir, int *ret_ofd)
{
	char path[4096], cmd[64];
	int efd, ofd, cfd, len;

	snprintf(path, sizeof(path), "%s/memory.oom_control", dir);
	ofd = open(path, O_RDONLY | O_CLOEXEC);
	if (ofd < 0) {
		fprintf(stderr, "oomwait: open %s: %s\n", path, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/cgroup.event_control", dir);
	cfd = open(path, O_WRONLY | O_CLOEXEC);
	efd = eventfd(0, EFD_CLOEXEC);
	if (cfd < 0 || efd < 0) {
		fprintf(stderr, "oomwait: %s: %s\n", cfd < 0 ? path : "eventfd", strerror(errno));
		return -1;
	}
	len = snprintf(cmd, sizeof(cmd), "%d %d", efd, ofd);
	if (write(cfd, cmd, (size_t)len) != len) {
		fprintf(stderr, "oomwait: write '%s' to %s: %s\n", cmd, path, strerror(errno));
		return -1;
	}
	close(cfd);
	*ret_ofd = ofd;
	return efd;
}

int
main(int argc, char **argv)
{
	long count = 0, seen = 0;
	int efd, ofd = -1;

	if (argc < 2 || argc > 3 || (argc == 3 && (count = atol(argv[2])) <= 0)) {
		fprintf(stderr, "usage: oomwait CGROUP_DIR [COUNT]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	efd = oom_register(argv[1], &ofd);
	if (efd < 0)
		return 1;
	printf("ready %llu %llu\n", (unsigned long long)clock_usec(CLOCK_MONOTONIC),
	    (unsigned long long)clock_usec(CLOCK_REALTIME));
	for (;;) {
		uint64_t n, mono, real;
		int u;

		if (read(efd, &n, sizeof(n)) != sizeof(n)) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "oomwait: read eventfd: %s\n", strerror(errno));
			return 1;
		}
		mono = clock_usec(CLOCK_MONOTONIC);
		real = clock_usec(CLOCK_REALTIME);
		u = under_oom(ofd);
		if (u < 0) {
			printf(
			    "gone %llu %llu\n", (unsigned long long)mono, (unsigned long long)real);
			return 0;
		}
		printf("oom %llu %llu under_oom %d events %llu\n", (unsigned long long)mono,
		    (unsigned long long)real, u, (unsigned long long)n);
		if (count > 0 && ++seen >= count)
			return 0;
	}
}
