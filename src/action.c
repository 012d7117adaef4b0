/*
 * action.c: pidfd signalling with cgroup membership checks. The main
 * target's checks and signal run on the rescue path (rescue.c): they
 * read through descriptors opened beforehand, into stack buffers.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "action.h"
#include "file.h"

static int
pidfd_open_(pid_t pid)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);

	return fd < 0 ? -errno : fd;
}

static int
pidfd_send(int pidfd, int sig)
{
	return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0 ? -errno : 0;
}

int
action_parse_caught(const char *status_text, int sig)
{
	const char *p = strstr(status_text, "\nSigCgt:");
	unsigned long long mask;

	if (p == NULL || sscanf(p + 8, " %llx", &mask) != 1 || sig < 1 || sig > 64)
		return -EINVAL;
	return (mask >> (sig - 1)) & 1 ? 1 : 0;
}

/* path = proc_root/PID/name. Return 0, or -ENAMETOOLONG when it does
 * not fit (a truncated path could name another file). */
static int
proc_path(char *path, size_t len, const char *proc_root, pid_t pid, const char *name)
{
	int n = snprintf(path, len, "%s/%d/%s", proc_root, (int)pid, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int
action_caught(const char *proc_root, pid_t pid, int sig)
{
	char path[PATH_MAX], text[4096];
	int r;

	r = proc_path(path, sizeof(path), proc_root, pid, "status");
	if (r == 0)
		r = file_read(path, text, sizeof(text));
	if (r < 0)
		return r;
	return action_parse_caught(text, sig);
}

/* Does a /proc/PID/cgroup text put the process in path, for the memory
 * controller of this version? */
static bool
cgroup_text_has(const char *text, const char *path, int version)
{
	const char *line = text;
	size_t plen = strlen(path);

	while (line != NULL && *line != '\0') {
		const char *c2 = strchr(line, ':') ? strchr(strchr(line, ':') + 1, ':') : NULL;
		const char *nl = strchr(line, '\n');
		bool v2 = strncmp(line, "0::", 3) == 0;
		bool mem = c2 != NULL && memmem(line, (size_t)(c2 - line), "memory", 6) != NULL;

		if (c2 != NULL && ((version == 2 && v2) || (version == 1 && mem)) &&
		    strncmp(c2 + 1, path, plen) == 0 &&
		    (c2[1 + plen] == '\n' || c2[1 + plen] == '\0'))
			return true;
		line = nl != NULL ? nl + 1 : NULL;
	}
	return false;
}

/* pread all of a held /proc file into buf (NUL-terminated). Return 0,
 * -ESRCH for a target never opened, or file_pread()'s -errno. */
static int
pread_text(int fd, char *buf, size_t len)
{
	int r;

	if (fd < 0)
		return -ESRCH;
	r = file_pread(fd, buf, len);
	return r < 0 ? r : 0;
}

void
action_target_init(struct action_target *t)
{
	*t = (struct action_target){ 0, -1, -1, -1, false };
}

static int
open_proc(const char *proc_root, pid_t pid, const char *name)
{
	char path[PATH_MAX];
	int fd;

	if (proc_path(path, sizeof(path), proc_root, pid, name) < 0)
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? (errno == ENOENT ? -ESRCH : -errno) : fd;
}

int
action_target_open(const char *proc_root, pid_t pid, int pidfd, struct action_target *ret)
{
	struct action_target t;
	char text[4096];
	int r;

	action_target_init(&t);
	t.pid = pid;
	t.pidfd = pidfd;
	if (pidfd < 0) {
		t.pidfd = pidfd_open_(pid);
		if (t.pidfd < 0)
			return t.pidfd == -EINVAL ? -ESRCH : t.pidfd;
		t.own_pidfd = true;
	}
	t.status_fd = open_proc(proc_root, pid, "status");
	t.cgroup_fd = open_proc(proc_root, pid, "cgroup");
	r = t.status_fd < 0 ? t.status_fd : t.cgroup_fd < 0 ? t.cgroup_fd : 0;
	/* A first read makes the kernel allocate the file's buffer, which it
	 * keeps for the reads to come: in a frozen cgroup that allocation
	 * fails with ENOMEM (seen here), so it is made now. */
	if (r == 0)
		r = pread_text(t.status_fd, text, sizeof(text));
	if (r == 0)
		r = pread_text(t.cgroup_fd, text, sizeof(text));
	/* Alive through the pidfd after the opens: the PID was not reused
	 * in between, so the files are this process's. */
	if (r == 0)
		r = pidfd_send(t.pidfd, 0);
	if (r < 0) {
		action_target_close(&t);
		return r;
	}
	*ret = t;
	return 0;
}

void
action_target_close(struct action_target *t)
{
	if (t->own_pidfd && t->pidfd >= 0)
		close(t->pidfd);
	if (t->status_fd >= 0)
		close(t->status_fd);
	if (t->cgroup_fd >= 0)
		close(t->cgroup_fd);
	action_target_init(t);
}

int
action_target_caught(const struct action_target *t, int sig)
{
	char text[4096];
	int r = pread_text(t->status_fd, text, sizeof(text));

	return r < 0 ? r : action_parse_caught(text, sig);
}

int
action_signal_target(const struct action_ctx *ctx, const struct action_target *t, int sig,
    bool need_handler, struct action_result *ret)
{
	char text[4096];
	int r;

	if (t->pidfd < 0)
		return -ESRCH;
	r = pread_text(t->cgroup_fd, text, sizeof(text));
	if (r < 0)
		return r;
	if (!cgroup_text_has(text, ctx->cgroup_path, ctx->cgroup_version))
		return -EXDEV;
	if (need_handler) {
		r = action_target_caught(t, sig);
		if (r <= 0)
			return r == 0 ? -ENOTSUP : r;
	}
	r = pidfd_send(t->pidfd, sig);
	if (r < 0)
		return r;
	*ret = (struct action_result){ 1, 0, 0, t->pid };
	return 0;
}

int
action_in_cgroup(const struct action_ctx *ctx, pid_t pid)
{
	char path[PATH_MAX], text[4096];
	int r;

	r = proc_path(path, sizeof(path), ctx->proc_root, pid, "cgroup");
	if (r == 0)
		r = file_read(path, text, sizeof(text));
	if (r < 0)
		return r;
	return cgroup_text_has(text, ctx->cgroup_path, ctx->cgroup_version) ? 1 : 0;
}

/* Signal pid through pidfd after checking, with the pidfd held (so the
 * PID cannot be reused meanwhile), that it is in the cgroup and, when
 * asked, catches sig. */
static int
signal_checked(const struct action_ctx *ctx, pid_t pid, int pidfd, int sig, bool need_handler)
{
	int r = action_in_cgroup(ctx, pid);

	if (r == -ENOENT)
		return -ESRCH;
	if (r < 0)
		return r;
	if (r == 0)
		return -EXDEV;
	if (need_handler) {
		r = action_caught(ctx->proc_root, pid, sig);
		if (r <= 0)
			return r == 0 ? -ENOTSUP : r;
	}
	return pidfd_send(pidfd, sig);
}

int
action_signal_main(const struct action_ctx *ctx, pid_t pid, int pidfd, int sig, bool need_handler,
    struct action_result *ret)
{
	struct action_target t;
	int r = action_target_open(ctx->proc_root, pid, pidfd, &t);

	if (r < 0)
		return r;
	r = action_signal_target(ctx, &t, sig, need_handler, ret);
	action_target_close(&t);
	return r;
}

static pid_t
pgid_of(const char *proc_root, pid_t pid)
{
	char path[PATH_MAX], text[1024];
	const char *p;
	int pgid;

	if (proc_path(path, sizeof(path), proc_root, pid, "stat") < 0 ||
	    file_read(path, text, sizeof(text)) < 0)
		return -1;
	/* the command name may hold spaces and parentheses: skip to the last ')' */
	p = strrchr(text, ')');
	if (p == NULL || sscanf(p + 1, " %*c %*d %d", &pgid) != 1)
		return -1;
	return pgid;
}

static void
signal_one(const struct action_ctx *ctx, pid_t pid, pid_t pgid, int sig, bool need_handler,
    struct action_result *res)
{
	int fd, r;

	fd = pidfd_open_(pid);
	if (fd < 0) {
		res->skipped++;
		return;
	}
	if (pgid > 0 && pgid_of(ctx->proc_root, pid) != pgid)
		r = -ESRCH;
	else
		r = signal_checked(ctx, pid, fd, sig, need_handler);
	close(fd);
	if (r < 0) {
		res->skipped++;
		if (res->first_err == 0 && r != -ESRCH && r != -ENOTSUP)
			res->first_err = r;
		return;
	}
	if (res->sent++ == 0)
		res->pid = pid;
}

/* Read all of the file at path into a buffer of its own, NUL-terminated:
 * cgroup.procs has no size bound (9,000 processes take 60 KiB). Return 0
 * and set *ret (to free), or -errno. */
static int
read_all(const char *path, char **ret)
{
	size_t len = 0, cap = 16384;
	char *buf = malloc(cap), *more;
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;
	ssize_t n;

	if (fd < 0 || buf == NULL) {
		err = fd < 0 ? -errno : -ENOMEM;
		goto fail;
	}
	while ((n = read(fd, buf + len, cap - 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			goto fail;
		}
		len += (size_t)n;
		if (cap - 1 - len == 0) {
			more = realloc(buf, cap * 2);
			if (more == NULL) {
				err = -ENOMEM;
				goto fail;
			}
			buf = more;
			cap *= 2;
		}
	}
	close(fd);
	buf[len] = '\0';
	*ret = buf;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return err < 0 ? err : -EIO; /* never 0 without *ret */
}

int
action_signal_cgroup(
    const struct action_ctx *ctx, pid_t pgid, int sig, bool need_handler, struct action_result *ret)
{
	struct action_result res = { 0, 0, 0, 0 };
	char path[PATH_MAX], *text = NULL;
	pid_t self = getpid();
	char *p, *end;
	int r;

	r = file_join(path, sizeof(path), ctx->cgroup_dir, "/cgroup.procs");
	if (r < 0)
		return r;
	r = read_all(path, &text);
	if (r < 0)
		return r;
	for (p = text; *p != '\0'; p = end) {
		long pid = strtol(p, &end, 10);

		if (end == p)
			break;
		if (pid > 0 && pid != self)
			signal_one(ctx, (pid_t)pid, pgid, sig, need_handler, &res);
	}
	free(text);
	*ret = res;
	return 0;
}
