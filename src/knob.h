/*
 * knob.h: [watch] high and [gc] reclaim, the cgroup v2 memory knobs
 * oomguard turns on the watched cgroup, with their state (struct knob,
 * one per watched cgroup, written only by knob.c) and their logging. The
 * low-level writes are memctl.c's.
 *
 * memory.high is the operator's as much as oomguard's: oomguard reads it
 * back before each write, and a value it did not write is the operator's,
 * set since: taken as the value to put back, never written over at the
 * end.
 */
#ifndef OOMGUARD_KNOB_H
#define OOMGUARD_KNOB_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "inputs.h"
#include "memcg.h"

struct knob {
	const char *dir; /* the watched cgroup's directory */
	int version;
	uint64_t host_ram_bytes; /* how memory.high is parsed, as memcg.c does */
	/* [watch] high */
	char high_found[32];       /* memory.high before oomguard set it; "" none */
	uint64_t high_found_bytes; /* the same parsed (0: max) */
	bool high_set;             /* memory.high reads high_set_bytes by oomguard's write */
	uint64_t high_set_bytes;
	bool high_done;   /* set, or given up on (logged once) */
	bool high_lifted; /* put back while the app stops */
	/* [gc] reclaim */
	uint64_t reclaim_last_usec;
	bool reclaim_off; /* refused for good (logged once) */
};

/* Start afresh on the cgroup directory dir (a new cgroup, or the first):
 * nothing set, nothing found. dir must outlive k. Never fails. */
void knob_init(struct knob *k, const char *dir, int version, uint64_t host_ram_bytes);

/* What oomguard has set in memory.high, for inputs_limit(): fills the
 * high_* fields of *own. Never fails. */
void knob_own(const struct knob *k, struct inputs_own *own);

/* [watch] high t: set memory.high to its level for limit_bytes (auto: the
 * restart level restart_bytes), keeping the value found first (or the
 * operator's, set since oomguard's last write); called when the levels
 * change. Returns nothing: a refusal (v1, not readable or not writable)
 * is logged once, with its reason, and leaves memory.high alone from
 * then on. */
void knob_high_apply(
    struct knob *k, const struct threshold *t, uint64_t limit_bytes, uint64_t restart_bytes);

/* The app is being stopped: put memory.high back to the value found so
 * that it shuts down unthrottled; knob_high_again() sets it for the next
 * child. Returns nothing; does nothing when oomguard set no memory.high
 * or the operator changed it since. */
void knob_high_lift(struct knob *k);

/* A new child after knob_high_lift(): set memory.high again. */
void knob_high_again(
    struct knob *k, const struct threshold *t, uint64_t limit_bytes, uint64_t restart_bytes);

/* Put memory.high back to the value found before oomguard set it, if it
 * still reads what oomguard set (at the end, or when a reload changes
 * [watch] high), and forget it. Returns nothing: a failure is logged. */
void knob_high_restore(struct knob *k);

/* [gc] reclaim with cfg: at or above the gc level gc_bytes (or throttled),
 * at most once per gc cooldown from now (CLOCK_MONOTONIC usec), ask the
 * kernel to reclaim from the cgroup whose limit is limit_bytes, read mem
 * again and log how much the metric fell. Return the metric after it
 * (metric_bytes when nothing was done). A refusal other than "found
 * less" is logged once and turns reclaim off until knob_init(). */
uint64_t knob_reclaim(struct knob *k, const struct config *cfg, const struct memcg *mem,
    uint64_t limit_bytes, uint64_t gc_bytes, uint64_t metric_bytes, bool throttled, uint64_t now);

/* A new configuration: [gc] reclaim is tried again after a refusal. */
void knob_reclaim_again(struct knob *k);

#endif
