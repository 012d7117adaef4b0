/*
 * floor: the least a watcher could do, for the benchmark's side-by-side
 * figures: how fast the kernel's mechanism alone, with nothing of
 * oomguard around it, gets a "free memory now" request to the app.
 *
 * usage: floor poll|event CGROUP_DIR LEVEL_BYTES REARM_BYTES POLL_USEC -- CMD [ARG...]
 *
 * Starts CMD as its child and sends it SIGUSR1 (by pidfd) once each time
 * the cgroup v1 memory.usage_in_bytes of CGROUP_DIR reaches LEVEL_BYTES,
 * again only after it has read below REARM_BYTES. poll: reads the usage
 * every POLL_USEC (a timerfd, absolute deadlines), nothing else. event: a
 * memory threshold eventfd at LEVEL_BYTES (cgroup.event_control) and no
 * polling at all; the kernel signals the crossing back down too, and that
 * re-arms it (REARM_BYTES is for poll: a usage read during the freeing may
 * still be above it). Exits with CMD's status once it ends.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "workload.h"

static int
die(const char *what)
{
	fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
	return 2;
}

/* A v1 memory threshold at level on usage_fd: return the eventfd, or -1. */
static int
threshold_open(const char *dir, int usage_fd, uint64_t level)
{
	char path[4096], line[64];
	int efd, cfd, n;

	snprintf(path, sizeof(path), "%s/cgroup.event_control", dir);
	efd = eventfd(0, EFD_CLOEXEC);
	cfd = open(path, O_WRONLY | O_CLOEXEC);
	if (efd < 0 || cfd < 0)
		return -1;
	n = snprintf(line, sizeof(line), "%d %d %llu", efd, usage_fd, (unsigned long long)level);
	if (write(cfd, line, (size_t)n) != n)
		return -1;
	close(cfd);
	return efd;
}

int
main(int argc, char **argv)
{
	struct pollfd pfd[2];
	uint64_t level, rearm, poll_usec, v;
	bool polling, sent = false;
	char path[4096];
	int usage_fd, wake_fd, pidfd, status;
	pid_t child;

	if (argc < 8 || strcmp(argv[6], "--") != 0 ||
	    (strcmp(argv[1], "poll") != 0 && strcmp(argv[1], "event") != 0)) {
		fprintf(stderr,
		    "usage: floor poll|event CGROUP_DIR LEVEL_BYTES REARM_BYTES "
		    "POLL_USEC -- CMD [ARG...]\n");
		return 2;
	}
	polling = strcmp(argv[1], "poll") == 0;
	level = strtoull(argv[3], NULL, 10);
	rearm = strtoull(argv[4], NULL, 10);
	poll_usec = strtoull(argv[5], NULL, 10);
	snprintf(path, sizeof(path), "%s/memory.usage_in_bytes", argv[2]);
	usage_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (usage_fd < 0)
		return die(path);
	if (polling) {
		struct timespec now;
		struct itimerspec its = { .it_interval = { 0, (long)poll_usec * 1000 } };

		wake_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
		clock_gettime(CLOCK_MONOTONIC, &now);
		its.it_value = now;
		if (wake_fd < 0 || poll_usec == 0 || poll_usec >= 1000000 ||
		    timerfd_settime(wake_fd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
			return die("timerfd");
	} else {
		wake_fd = threshold_open(argv[2], usage_fd, level);
		if (wake_fd < 0)
			return die("threshold eventfd");
	}
	child = fork();
	if (child < 0)
		return die("fork");
	if (child == 0) {
		execvp(argv[7], argv + 7);
		_exit(127);
	}
	pidfd = (int)syscall(SYS_pidfd_open, child, 0);
	if (pidfd < 0)
		return die("pidfd_open");
	pfd[0] = (struct pollfd){ .fd = wake_fd, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = pidfd, .events = POLLIN };
	for (;;) {
		uint64_t usage;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return die("poll");
		}
		if (pfd[1].revents)
			break;
		if (!(pfd[0].revents & POLLIN) || read(wake_fd, &v, sizeof(v)) != sizeof(v))
			continue;
		usage = read_usage(usage_fd);
		if (!sent && usage >= level) {
			syscall(SYS_pidfd_send_signal, pidfd, SIGUSR1, NULL, 0);
			sent = true;
		} else if (sent && usage < (polling ? rearm : level)) {
			sent = false;
		}
	}
	if (waitpid(child, &status, 0) < 0)
		return die("waitpid");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
