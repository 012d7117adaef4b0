/*
 * notify-probe - which cgroup v2 memory notifications does this kernel give?
 *
 * Usage: notify-probe CGDIR TIMEOUT_SEC CMD [ARG...]
 *
 * Arms, before any load exists:
 *   - a PSI trigger "some 150000 1000000" on CGDIR/memory.pressure and on
 *     /proc/pressure/memory (opened O_RDWR, trigger written with its
 *     trailing NUL, then polled for POLLPRI);
 *   - inotify IN_MODIFY on CGDIR/memory.events;
 *   - poll() POLLPRI on an open CGDIR/memory.events.
 * Then runs CMD inside CGDIR (the load: something that goes over
 * memory.high), waits up to TIMEOUT_SEC for every notification, kills CMD,
 * removes CGDIR and checks that the cgroup PSI trigger reports POLLERR.
 *
 * Prints one `RESULT <name> PASS|FAIL|SKIP <why>` line per finding, for
 * tests/vm/run.sh. Exit status: 0 when nothing FAILed, 1 otherwise, 64 on
 * a usage error.
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROBE_TRIGGER "some 150000 1000000"

/* Where each notification stands; first_msec is -1 until it fires. */
struct probe_source {
	const char	*name;
	int		 fd;
	int		 write_errno;	/* 0 when the trigger was accepted */
	long		 first_msec;
};

struct probe {
	const char		*cgdir;
	struct probe_source	 psi_cgroup;
	struct probe_source	 psi_proc;
	struct probe_source	 inotify;
	struct probe_source	 events_pri;
	int			 events_fd;
	long			 high_before;
	long			 high_at_inotify;
	long			 high_at_pri;
	int			 failed;
};

static void
probe_result(struct probe *p, const char *name, const char *status,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Prints one RESULT line and remembers a FAIL for the exit status. */
static void
probe_result(struct probe *p, const char *name, const char *status,
    const char *fmt, ...)
{
	va_list ap;

	if (strcmp(status, "FAIL") == 0)
		p->failed = 1;
	printf("RESULT %s %s ", name, status);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static long
probe_now_msec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/*
 * Reads the `high` counter from an open memory.events, from offset 0 (which
 * is also what re-arms POLLPRI). Returns the counter, or -errno.
 */
static long
probe_read_high(int fd)
{
	char buf[512], *line;
	ssize_t n;

	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	for (line = buf; line != NULL; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		if (strncmp(line, "high ", 5) == 0)
			return strtol(line + 5, NULL, 10);
	}
	return -ENOENT;
}

/*
 * Opens a PSI file and writes the trigger. The trailing NUL goes with it:
 * the /proc files replace the last byte written with a NUL. Sets src->fd
 * (or -1) and src->write_errno.
 */
static void
probe_arm_psi(struct probe_source *src, const char *path)
{
	size_t len = strlen(PROBE_TRIGGER) + 1;

	src->first_msec = -1;
	src->write_errno = 0;
	src->fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (src->fd < 0) {
		src->write_errno = errno;
		return;
	}
	if (write(src->fd, PROBE_TRIGGER, len) != (ssize_t)len) {
		src->write_errno = errno;
		close(src->fd);
		src->fd = -1;
	}
}

/* Arms every notification. Returns 0, or -errno when memory.events fails. */
static int
probe_arm(struct probe *p)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/memory.pressure", p->cgdir);
	p->psi_cgroup.name = "psi-cgroup";
	probe_arm_psi(&p->psi_cgroup, path);
	p->psi_proc.name = "psi-proc";
	probe_arm_psi(&p->psi_proc, "/proc/pressure/memory");

	snprintf(path, sizeof(path), "%s/memory.events", p->cgdir);
	p->events_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (p->events_fd < 0)
		return -errno;
	p->high_before = probe_read_high(p->events_fd);
	p->high_at_inotify = p->high_at_pri = -1;
	p->events_pri.name = "events-pri";
	p->events_pri.fd = p->events_fd;
	p->events_pri.first_msec = -1;

	p->inotify.name = "inotify";
	p->inotify.first_msec = -1;
	p->inotify.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (p->inotify.fd < 0)
		return -errno;
	if (inotify_add_watch(p->inotify.fd, path, IN_MODIFY) < 0)
		return -errno;
	return 0;
}

/*
 * Starts argv inside the cgroup: the child moves itself by writing "0" to
 * cgroup.procs before exec. Returns the pid, or -errno.
 */
static pid_t
probe_spawn(struct probe *p, char *argv[])
{
	char path[PATH_MAX];
	pid_t pid;
	int fd;

	snprintf(path, sizeof(path), "%s/cgroup.procs", p->cgdir);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0)
		return pid;
	fd = open(path, O_WRONLY);
	if (fd < 0 || write(fd, "0", 1) != 1) {
		perror("notify-probe: joining the cgroup");
		_exit(126);
	}
	close(fd);
	execvp(argv[0], argv);
	perror("notify-probe: exec");
	_exit(127);
}

/*
 * Polls until every armed source has fired with the high counter above
 * its starting value, or until timeout_msec has passed since start_msec.
 */
static void
probe_wait(struct probe *p, long start_msec, long timeout_msec)
{
	struct probe_source *src[] = { &p->psi_cgroup, &p->psi_proc,
	    &p->inotify, &p->events_pri };
	struct pollfd pfd[4];
	char buf[4096];
	long now, high;
	int i, pending, n;

	for (;;) {
		now = probe_now_msec();
		pending = 0;
		for (i = 0; i < 4; i++) {
			pfd[i].fd = src[i]->first_msec < 0 ? src[i]->fd : -1;
			pfd[i].events = src[i] == &p->inotify ? POLLIN : POLLPRI;
			pfd[i].revents = 0;
			pending += pfd[i].fd >= 0;
		}
		if (pending == 0 || now - start_msec >= timeout_msec)
			return;
		n = poll(pfd, 4, (int)(timeout_msec - (now - start_msec)));
		if (n < 0 && errno != EINTR)
			return;
		now = probe_now_msec();
		for (i = 0; i < 4; i++) {
			if (pfd[i].revents == 0)
				continue;
			if (src[i] == &p->inotify) {
				while (read(p->inotify.fd, buf, sizeof(buf)) > 0)
					;
				high = probe_read_high(p->events_fd);
				/* Count only a change that raised `high`. */
				if (high > p->high_before) {
					p->high_at_inotify = high;
					p->inotify.first_msec = now - start_msec;
				}
			} else if (src[i] == &p->events_pri) {
				high = probe_read_high(p->events_fd);
				if (high > p->high_before) {
					p->high_at_pri = high;
					p->events_pri.first_msec = now - start_msec;
				}
			} else {
				src[i]->first_msec = now - start_msec;
			}
		}
	}
}

static void
probe_report_psi(struct probe *p, struct probe_source *src, const char *file,
    long timeout_msec)
{
	char name[64];

	snprintf(name, sizeof(name), "%s-trigger-write", src->name);
	if (src->write_errno != 0) {
		probe_result(p, name, "FAIL", "%s: writing \"%s\": %s", file,
		    PROBE_TRIGGER, strerror(src->write_errno));
		snprintf(name, sizeof(name), "%s-trigger-fires", src->name);
		probe_result(p, name, "SKIP", "no trigger armed");
		return;
	}
	probe_result(p, name, "PASS", "%s accepted \"%s\" (O_RDWR)", file,
	    PROBE_TRIGGER);
	snprintf(name, sizeof(name), "%s-trigger-fires", src->name);
	if (src->first_msec >= 0)
		probe_result(p, name, "PASS", "POLLPRI %ld ms after the load "
		    "started", src->first_msec);
	else
		probe_result(p, name, "FAIL", "no POLLPRI within %ld ms",
		    timeout_msec);
}

static void
probe_report_events(struct probe *p, struct probe_source *src,
    const char *name, const char *what, long high_at, long timeout_msec)
{
	long high_now = probe_read_high(p->events_fd);

	if (high_now <= p->high_before)
		probe_result(p, name, "SKIP", "the load never raised `high` "
		    "(%ld -> %ld)", p->high_before, high_now);
	else if (src->first_msec >= 0)
		probe_result(p, name, "PASS", "%s %ld ms after the load "
		    "started, high %ld -> %ld", what, src->first_msec,
		    p->high_before, high_at);
	else
		probe_result(p, name, "FAIL", "high rose %ld -> %ld, no %s "
		    "within %ld ms", p->high_before, high_now, what,
		    timeout_msec);
}

/*
 * After the cgroup is removed, a poll on its PSI trigger should report
 * POLLERR: that is how a watcher learns its cgroup is gone.
 */
static void
probe_check_rmdir(struct probe *p)
{
	struct pollfd pfd;

	if (p->psi_cgroup.fd < 0) {
		probe_result(p, "psi-cgroup-pollerr-on-rmdir", "SKIP",
		    "no trigger armed");
		return;
	}
	if (rmdir(p->cgdir) < 0) {
		probe_result(p, "psi-cgroup-pollerr-on-rmdir", "FAIL",
		    "rmdir %s: %s", p->cgdir, strerror(errno));
		return;
	}
	pfd.fd = p->psi_cgroup.fd;
	pfd.events = POLLPRI;
	pfd.revents = 0;
	if (poll(&pfd, 1, 2000) > 0 && (pfd.revents & POLLERR))
		probe_result(p, "psi-cgroup-pollerr-on-rmdir", "PASS",
		    "revents 0x%x after rmdir", pfd.revents);
	else
		probe_result(p, "psi-cgroup-pollerr-on-rmdir", "FAIL",
		    "revents 0x%x after rmdir", pfd.revents);
}

int
main(int argc, char *argv[])
{
	struct probe p = { 0 };
	long timeout_msec, start_msec;
	pid_t pid;
	int r;

	if (argc < 4 || (timeout_msec = atol(argv[2]) * 1000L) <= 0) {
		fprintf(stderr, "usage: notify-probe CGDIR TIMEOUT_SEC CMD "
		    "[ARG...]\n");
		return 64;
	}
	p.cgdir = argv[1];
	r = probe_arm(&p);
	if (r < 0) {
		probe_result(&p, "notify-probe-setup", "FAIL", "arming "
		    "memory.events in %s: %s", p.cgdir, strerror(-r));
		return 1;
	}
	start_msec = probe_now_msec();
	pid = probe_spawn(&p, argv + 3);
	if (pid < 0) {
		probe_result(&p, "notify-probe-setup", "FAIL", "fork: %s",
		    strerror((int)-pid));
		return 1;
	}
	probe_wait(&p, start_msec, timeout_msec);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);

	probe_report_psi(&p, &p.psi_cgroup, "memory.pressure", timeout_msec);
	probe_report_psi(&p, &p.psi_proc, "/proc/pressure/memory",
	    timeout_msec);
	probe_report_events(&p, &p.inotify, "events-inotify-modify",
	    "IN_MODIFY", p.high_at_inotify, timeout_msec);
	probe_report_events(&p, &p.events_pri, "events-poll-pri", "POLLPRI",
	    p.high_at_pri, timeout_msec);
	probe_check_rmdir(&p);
	return p.failed;
}
