/*
 * memcg.c: one memory sample of a v1 or v2 cgroup, read with pread on
 * descriptors opened once.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "file.h"
#include "memcg.h"

#define STAT_TEXT_MAX 16384

static int
open_in(const char *dir, const char *name)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int
memcg_open(struct memcg *m, const char *dir, int version, uint64_t host_ram_bytes)
{
	struct memcg n = { version, host_ram_bytes, -1, -1, -1, -1, -1, -1 };
	bool v1 = version == 1;

	n.usage_fd = open_in(dir, v1 ? "memory.usage_in_bytes" : "memory.current");
	if (n.usage_fd < 0)
		return n.usage_fd;
	n.limit_fd = open_in(dir, v1 ? "memory.limit_in_bytes" : "memory.max");
	if (n.limit_fd < 0) {
		int r = n.limit_fd;

		close(n.usage_fd);
		return r;
	}
	n.stat_fd = open_in(dir, "memory.stat");
	n.oom_fd = v1 ? open_in(dir, "memory.oom_control") : -1;
	n.high_fd = v1 ? -1 : open_in(dir, "memory.high");
	n.events_fd = v1 ? -1 : open_in(dir, "memory.events");
	*m = n;
	return 0;
}

void
memcg_close(struct memcg *m)
{
	int *fds[] = { &m->usage_fd, &m->limit_fd, &m->high_fd, &m->stat_fd, &m->oom_fd,
		&m->events_fd };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

int
memcg_parse_limit(const char *text, uint64_t host_ram_bytes, uint64_t *ret_bytes)
{
	uint64_t v;

	if (strcmp(text, "max\n") == 0 || strcmp(text, "max") == 0) {
		*ret_bytes = 0;
		return 0;
	}
	if (file_parse_u64(text, &v) < 0)
		return -EINVAL;
	/* v1 writes "unlimited" as LONG_MAX rounded down to a page, whose
	 * exact value depends on the page size: anything the host could
	 * never fill is no limit. */
	*ret_bytes = host_ram_bytes != 0 && v >= host_ram_bytes ? 0 : v;
	return 0;
}

int
memcg_parse_meminfo(const char *text, uint64_t *ret_bytes)
{
	unsigned long long kib;
	const char *p = strstr(text, "MemTotal:");

	if (p == NULL || sscanf(p, "MemTotal: %llu kB", &kib) != 1)
		return -ENOENT;
	*ret_bytes = (uint64_t)kib * 1024;
	return 0;
}

uint64_t
memcg_host_ram(const char *proc_root)
{
	char path[PATH_MAX], text[8192];
	uint64_t bytes = 0;

	if (file_join(path, sizeof(path), proc_root, "/meminfo") == 0 &&
	    file_read(path, text, sizeof(text)) >= 0)
		(void)memcg_parse_meminfo(text, &bytes);
	return bytes;
}

int
memcg_parse_events(const char *text, struct memcg_events *ret)
{
	struct memcg_events e = { 0 };

	if (file_kv_lookup(text, "low", &e.low) < 0 || file_kv_lookup(text, "high", &e.high) < 0 ||
	    file_kv_lookup(text, "max", &e.max) < 0 || file_kv_lookup(text, "oom", &e.oom) < 0 ||
	    file_kv_lookup(text, "oom_kill", &e.oom_kill) < 0)
		return -EINVAL;
	/* oom_group_kill appeared in 5.17. */
	(void)file_kv_lookup(text, "oom_group_kill", &e.oom_group_kill);
	*ret = e;
	return 0;
}

static int
read_u64_fd(int fd, uint64_t *ret)
{
	char buf[64];
	int r = file_pread(fd, buf, sizeof(buf));

	if (r < 0)
		return r;
	return file_parse_u64(buf, ret);
}

int
memcg_read_usage(const struct memcg *m, uint64_t *ret_bytes)
{
	return read_u64_fd(m->usage_fd, ret_bytes);
}

void
memcg_read_stat(const struct memcg *m, struct memcg_sample *s)
{
	char text[STAT_TEXT_MAX];
	bool v1 = m->version == 1;

	if (m->stat_fd < 0 || file_pread(m->stat_fd, text, sizeof(text)) < 0)
		return;
	if (file_kv_lookup(text, v1 ? "total_rss" : "anon", &s->anon_bytes) < 0 ||
	    file_kv_lookup(text, v1 ? "total_cache" : "file", &s->file_bytes) < 0 ||
	    file_kv_lookup(
	        text, v1 ? "total_inactive_file" : "inactive_file", &s->inactive_file_bytes) < 0)
		return;
	s->has_stat = true;
	s->workingset_bytes =
	    s->usage_bytes > s->inactive_file_bytes ? s->usage_bytes - s->inactive_file_bytes : 0;
}

static void
read_oom_control(const struct memcg *m, struct memcg_sample *s)
{
	char text[256];
	uint64_t disable, under;

	if (m->oom_fd < 0 || file_pread(m->oom_fd, text, sizeof(text)) < 0)
		return;
	if (file_kv_lookup(text, "oom_kill_disable", &disable) < 0 ||
	    file_kv_lookup(text, "under_oom", &under) < 0)
		return;
	/* oom_kill appeared in 4.13. */
	(void)file_kv_lookup(text, "oom_kill", &s->oom_kill);
	s->oom_kill_disable = disable != 0;
	s->under_oom = under != 0;
	s->has_oom_control = true;
}

static void
read_v2_extras(const struct memcg *m, struct memcg_sample *s)
{
	char text[512];

	if (m->high_fd >= 0 && file_pread(m->high_fd, text, sizeof(text)) >= 0)
		(void)memcg_parse_limit(text, m->host_ram_bytes, &s->high_bytes);
	if (m->events_fd >= 0 && file_pread(m->events_fd, text, sizeof(text)) >= 0 &&
	    memcg_parse_events(text, &s->events) == 0)
		s->has_events = true;
}

int
memcg_read_base(const struct memcg *m, struct memcg_sample *ret)
{
	struct memcg_sample s;
	char text[64];
	int r;

	memset(&s, 0, sizeof(s));
	r = read_u64_fd(m->usage_fd, &s.usage_bytes);
	if (r < 0)
		return r;
	r = file_pread(m->limit_fd, text, sizeof(text));
	if (r < 0)
		return r;
	r = memcg_parse_limit(text, m->host_ram_bytes, &s.limit_bytes);
	if (r < 0)
		return r;
	read_oom_control(m, &s);
	read_v2_extras(m, &s);
	*ret = s;
	return 0;
}

int
memcg_read(const struct memcg *m, struct memcg_sample *ret)
{
	int r = memcg_read_base(m, ret);

	if (r == 0)
		memcg_read_stat(m, ret);
	return r;
}

uint64_t
memcg_metric(const struct memcg_sample *s, enum metric metric)
{
	switch (metric) {
	case METRIC_WORKINGSET:
		return s->has_stat ? s->workingset_bytes : s->usage_bytes;
	case METRIC_ANON:
		return s->has_stat ? s->anon_bytes : s->usage_bytes;
	case METRIC_USAGE:
		break;
	}
	return s->usage_bytes;
}
