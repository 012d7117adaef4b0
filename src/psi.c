/*
 * psi.c: PSI averages and triggers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/epoll.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "file.h"
#include "psi.h"

/* "avg10=1.23" etc.: the kernel prints two decimals. */
static int
parse_line(const char *p, struct psi_line *ret)
{
	unsigned a10i, a10f, a60i, a60f, a300i, a300f;
	unsigned long long total;

	if (sscanf(p, "avg10=%u.%u avg60=%u.%u avg300=%u.%u total=%llu", &a10i, &a10f, &a60i, &a60f,
	        &a300i, &a300f, &total) != 7)
		return -EINVAL;
	ret->avg10 = a10i * 100 + a10f;
	ret->avg60 = a60i * 100 + a60f;
	ret->avg300 = a300i * 100 + a300f;
	ret->total_usec = total;
	return 0;
}

int
psi_parse(const char *text, struct psi_stats *ret)
{
	struct psi_stats s;
	const char *full;

	memset(&s, 0, sizeof(s));
	if (strncmp(text, "some ", 5) != 0 || parse_line(text + 5, &s.some) < 0)
		return -EINVAL;
	full = strstr(text, "\nfull ");
	if (full != NULL && parse_line(full + 6, &s.full) == 0)
		s.has_full = true;
	*ret = s;
	return 0;
}

int
psi_read(const char *path, struct psi_stats *ret)
{
	char text[512];
	int r = file_read(path, text, sizeof(text));

	if (r < 0)
		return r;
	return psi_parse(text, ret);
}

int
psi_pread(int fd, struct psi_stats *ret)
{
	char text[512];
	int r = file_pread(fd, text, sizeof(text));

	if (r < 0)
		return r;
	return psi_parse(text, ret);
}

bool
psi_over(const struct psi_stats *s, const struct psi_trigger *t)
{
	const struct psi_line *l = t->full ? &s->full : &s->some;
	uint64_t want;

	if (!t->enabled || t->window_usec == 0 || (t->full && !s->has_full))
		return false;
	/* avg10 is in hundredths of a percent */
	want = t->stall_usec * 10000 / t->window_usec;
	return l->avg10 >= want;
}

int
psi_trigger_open(const char *path, const struct psi_trigger *t, int *ret_epfd, int *ret_psifd)
{
	struct epoll_event ev = { .events = EPOLLPRI };
	struct statfs sfs;
	char spec[96];
	int fd, epfd, n, r;

	n = snprintf(spec, sizeof(spec), "%s %llu %llu", t->full ? "full" : "some",
	    (unsigned long long)t->stall_usec, (unsigned long long)t->window_usec);
	fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* Only procfs and cgroupfs files take triggers: writing the spec
	 * into anything else (a fixture, a copy) would overwrite it. */
	if (fstatfs(fd, &sfs) < 0 ||
	    (sfs.f_type != PROC_SUPER_MAGIC && sfs.f_type != CGROUP2_SUPER_MAGIC)) {
		close(fd);
		return -ENOTSUP;
	}
	/* The /proc files want the trailing NUL written too. */
	if (write(fd, spec, (size_t)n + 1) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	ev.data.fd = fd;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		r = -errno;
		close(epfd);
		close(fd);
		return r;
	}
	*ret_epfd = epfd;
	*ret_psifd = fd;
	return 0;
}

int
psi_trigger_consume(int epfd)
{
	struct epoll_event ev;
	int n = epoll_wait(epfd, &ev, 1, 0);

	if (n < 0)
		return -errno;
	if (n == 0)
		return 0;
	if (ev.events & EPOLLERR)
		return -ENODEV;
	return (ev.events & EPOLLPRI) ? 1 : 0;
}
