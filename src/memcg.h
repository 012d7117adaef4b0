/*
 * memcg.h: reading one memory sample of a cgroup, v1 or v2, through
 * descriptors opened once, so that a sample costs a few preads and no
 * allocation or path walk.
 */
#ifndef OOMGUARD_MEMCG_H
#define OOMGUARD_MEMCG_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

/* The v2 memory.events counters. */
struct memcg_events {
	uint64_t low, high, max, oom, oom_kill, oom_group_kill;
};

struct memcg_sample {
	uint64_t usage_bytes;
	uint64_t limit_bytes; /* 0: no limit */
	uint64_t high_bytes;  /* v2 memory.high; 0: none */
	bool has_stat;
	uint64_t anon_bytes;
	uint64_t file_bytes;
	uint64_t inactive_file_bytes;
	uint64_t workingset_bytes; /* usage minus inactive file, as kubelet computes it */
	/* v1 memory.oom_control */
	bool has_oom_control;
	bool oom_kill_disable;
	bool under_oom;
	uint64_t oom_kill;
	/* v2 memory.events */
	bool has_events;
	struct memcg_events events;
};

struct memcg {
	int version;
	uint64_t host_ram_bytes;
	int usage_fd; /* memory.usage_in_bytes or memory.current */
	int limit_fd; /* memory.limit_in_bytes or memory.max */
	int high_fd;  /* v2 memory.high, or -1 */
	int stat_fd;
	int oom_fd;    /* v1 memory.oom_control, or -1 */
	int events_fd; /* v2 memory.events, or -1 */
};

/* Open the memory files of the cgroup directory dir (version 1 or 2).
 * host_ram_bytes bounds what counts as a limit. Return 0, or -errno of
 * the usage or limit file (the others are optional). */
int memcg_open(struct memcg *m, const char *dir, int version, uint64_t host_ram_bytes);
void memcg_close(struct memcg *m);

/* Read usage only: the cheap read for fast polling. Return 0 or -errno. */
int memcg_read_usage(const struct memcg *m, uint64_t *ret_bytes);

/* Read a full sample. Return 0, or -errno when usage or limit cannot be
 * read (ENOMEM here is a sign of a frozen cgroup). */
int memcg_read(const struct memcg *m, struct memcg_sample *ret);

/* Read a sample without memory.stat (has_stat false), the usage first:
 * memcg_read() without its costliest file. Return as memcg_read(). */
int memcg_read_base(const struct memcg *m, struct memcg_sample *ret);

/* Add memory.stat to a sample read by memcg_read_base(): has_stat set
 * when it could be read and parsed, else the sample is left as it is. */
void memcg_read_stat(const struct memcg *m, struct memcg_sample *s);

/* The value of the configured metric in a sample. */
uint64_t memcg_metric(const struct memcg_sample *s, enum metric metric);

/* Parse a limit file's text: "max", or a number where anything at or
 * above host_ram_bytes means no limit. Return 0 and set *ret_bytes
 * (0 = no limit), or -EINVAL. */
int memcg_parse_limit(const char *text, uint64_t host_ram_bytes, uint64_t *ret_bytes);

/* MemTotal from a meminfo text. Return 0 and set *ret_bytes, or -ENOENT. */
int memcg_parse_meminfo(const char *text, uint64_t *ret_bytes);

/* The host's RAM from proc_root/meminfo, the bound memcg_open() takes:
 * return it in bytes, or 0 when it cannot be read (no bound then). */
uint64_t memcg_host_ram(const char *proc_root);

/* Parse memory.events. Return 0, or -EINVAL when a counter is missing. */
int memcg_parse_events(const char *text, struct memcg_events *ret);

#endif
