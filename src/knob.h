/*
 * knob.h: [watch] high and [gc] reclaim, the cgroup v2 memory knobs
 * oomguard turns on the watched cgroup, with their state in struct watch
 * and their logging. The low-level writes are memctl.c's.
 */
#ifndef OOMGUARD_KNOB_H
#define OOMGUARD_KNOB_H

#include <stdint.h>

#include "watch.h"

/* [watch] high: set memory.high to the configured level (auto: the
 * restart level) for the current limit and levels, saving the value found
 * first; called when the levels change. Returns nothing: a refusal (v1,
 * not writable) is logged once and leaves memory.high alone from then on. */
void knob_high_apply(struct watch *w);

/* The app is being stopped: put memory.high back to the saved value so
 * that it shuts down unthrottled; the next child gets it set again.
 * Returns nothing; does nothing when oomguard set no memory.high. */
void knob_high_lift(struct watch *w);

/* Put memory.high back to the value found before oomguard set it (at the
 * end, or when a reload changes [watch] high). Returns nothing: a failure
 * is logged. */
void knob_high_restore(struct watch *w);

/* [gc] reclaim: at or above the gc level (or throttled), at most once per
 * gc cooldown from now (CLOCK_MONOTONIC usec), ask the kernel to reclaim
 * and log how much the metric fell. Returns nothing: a refusal other than
 * "found less" is logged once and turns reclaim off until the cgroup or
 * the configuration changes. */
void knob_reclaim(struct watch *w, uint64_t now);

#endif
