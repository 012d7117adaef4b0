/*
 * notify.c: registration of kernel memory notifications. Low-level: no
 * logging, the caller decides what a failure means.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "notify.h"

/* path (PATH_MAX) = dir/file. Return 0, or -ENAMETOOLONG when it does
 * not fit (a truncated path could name another file). */
static int
path_in(char *path, const char *dir, const char *file)
{
	int n = snprintf(path, PATH_MAX, "%s/%s", dir, file);

	return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

/* Write "<efd> <fd> [args]" to dir/cgroup.event_control, where fd is dir/file
 * opened for reading. The file descriptor may be closed once registered:
 * the kernel holds its own reference. */
static int
event_control(const char *dir, const char *file, const char *args)
{
	char path[PATH_MAX], ctl[PATH_MAX], line[128];
	int efd, fd = -1, cfd = -1, r, n;

	if (path_in(path, dir, file) < 0 || path_in(ctl, dir, "cgroup.event_control") < 0)
		return -ENAMETOOLONG;
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd < 0)
		return -errno;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto fail;
	cfd = open(ctl, O_WRONLY | O_CLOEXEC);
	if (cfd < 0)
		goto fail;
	n = snprintf(line, sizeof(line), "%d %d%s%s", efd, fd, *args ? " " : "", args);
	if (write(cfd, line, (size_t)n) < 0)
		goto fail;
	close(cfd);
	close(fd);
	return efd;
fail:
	r = -errno;
	if (cfd >= 0)
		close(cfd);
	if (fd >= 0)
		close(fd);
	close(efd);
	return r;
}

int
notify_v1_threshold(const char *dir, uint64_t bytes)
{
	char arg[32];

	snprintf(arg, sizeof(arg), "%llu", (unsigned long long)bytes);
	return event_control(dir, "memory.usage_in_bytes", arg);
}

int
notify_v1_oom(const char *dir)
{
	return event_control(dir, "memory.oom_control", "");
}

int
notify_v2_events(const char *dir)
{
	char path[PATH_MAX];
	int fd, r;

	if (path_in(path, dir, "memory.events") < 0)
		return -ENAMETOOLONG;
	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (inotify_add_watch(fd, path, IN_MODIFY) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

int
notify_drain(int fd)
{
	char buf[4096];

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n > 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			return -errno;
		return 0;
	}
}
