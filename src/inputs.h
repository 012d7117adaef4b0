/*
 * inputs.h: what a sample means, as pure code: the limit the levels count
 * from (never one oomguard wrote itself), the levels for it, whether the
 * cgroup is frozen, whether the kernel's OOM killer ends a stall, and the
 * kernel's events since the last sample. No I/O, no clock, no logging:
 * the second step of the path of a sample (read, inputs, policy, act,
 * schedule).
 */
#ifndef OOMGUARD_INPUTS_H
#define OOMGUARD_INPUTS_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "memcg.h"
#include "policy.h"

/* What oomguard itself has written into the cgroup's limit files, so that
 * a value of its own is never taken for the operator's. */
struct inputs_own {
	/* the reserve raised the hard limit from limit_bytes to raised_bytes */
	bool limit_raised;
	uint64_t limit_bytes;
	uint64_t raised_bytes;
	/* [watch] high: memory.high set to high_set_bytes, found at
	 * high_found_bytes (0: max) */
	bool high_set;
	uint64_t high_set_bytes;
	uint64_t high_found_bytes;
};

/* The kernel's counters as last seen, and what a new sample says of them. */
struct inputs_events {
	bool seen;                /* a sample was counted */
	uint64_t oom_kills;       /* oom_kill */
	uint64_t throttle_events; /* v2 memory.events high + max */
};

/* Return the limit the levels count from (0: none): the hard limit
 * (memory.max, memory.limit_in_bytes) unless it reads what a rescue raised
 * it to, then the limit before the raise; without one, memory.high, unless
 * it reads what oomguard set, then the value oomguard found there. */
uint64_t inputs_limit(const struct memcg_sample *s, const struct inputs_own *own);

/* Return the levels of cfg for a limit (0: none; percentages are then
 * POLICY_OFF). */
struct policy_levels inputs_levels(const struct config *cfg, uint64_t limit_bytes);

/* Return whether the kernel's OOM killer ends a stall at this limit: v1
 * with oom_kill_disable 0, v2 with a memory.max. */
bool inputs_kernel_kills(const struct memcg_sample *s, int version);

/* Count the kernel's events in s against ev and update ev. Return the OOM
 * kills since the last sample in *ret_kills (0 on the first) and whether
 * the v2 high or max counter rose (the kernel throttles or reclaims at a
 * limit; false on the first sample). */
bool inputs_events_update(
    struct inputs_events *ev, const struct memcg_sample *s, uint64_t *ret_kills);

#endif
