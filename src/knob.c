/*
 * knob.c: the cgroup v2 memory knobs oomguard turns on the watched cgroup
 * as configured: [watch] high (memory.high set to a level, lifted while
 * the app stops, put back at the end) and [gc] reclaim (memory.reclaim
 * near the gc level). memctl.c does the writing; this file decides when,
 * keeps what was there before, and logs.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "knob.h"
#include "log.h"
#include "memcg.h"
#include "memctl.h"
#include "policy.h"
#include "units.h"
#include "watch.h"

/* [watch] high: set memory.high to the configured level (auto: the
 * restart level) for the current limit, saving the value found first. */
void
knob_high_apply(struct watch *w)
{
	const struct threshold *t = &w->cfg->watch_high;
	uint64_t bytes;
	char text[32], h[UNITS_BUF];
	int r;

	if (t->kind == THRESHOLD_NONE || (w->high_done && w->high_saved[0] == '\0'))
		return;
	if (w->cg.version != 2) {
		log_info(
		    "[watch] high needs cgroup v2; %s is v1, memory.high left alone", w->cg.dir);
		w->high_done = true;
		return;
	}
	bytes = t->kind == THRESHOLD_AUTO ? w->levels.restart_bytes
	                                  : units_threshold_bytes(t, w->limit_bytes);
	if (bytes == POLICY_OFF)
		return;
	if (w->high_saved[0] == '\0' &&
	    memctl_high_get(w->cg.dir, w->high_saved, sizeof(w->high_saved)) < 0)
		w->high_saved[0] = '\0';
	snprintf(text, sizeof(text), "%llu", (unsigned long long)bytes);
	r = w->high_saved[0] != '\0' ? memctl_high_set(w->cg.dir, text) : -EACCES;
	if (r < 0) {
		log_info("cannot set memory.high of %s: %s; the kernel will not throttle before "
		         "memory.max",
		    w->cg.dir, strerror(-r));
		w->high_saved[0] = '\0';
		w->high_done = true;
		return;
	}
	w->high_done = true;
	log_info("memory.high set to %s (was %.*s)", units_format_human(bytes, h),
	    (int)strcspn(w->high_saved, "\n"), w->high_saved);
}

/* The app is being stopped: let it shut down at full speed rather than
 * throttled; memory.high is set again for the next child. */
void
knob_high_lift(struct watch *w)
{
	if (w->high_saved[0] == '\0' || w->high_lifted)
		return;
	if (memctl_high_set(w->cg.dir, w->high_saved) == 0) {
		w->high_lifted = true;
		log_info("memory.high lifted while the app stops");
	}
}

void
knob_high_restore(struct watch *w)
{
	int r;

	if (w->high_saved[0] == '\0' || !w->watching)
		return;
	r = memctl_high_set(w->cg.dir, w->high_saved);
	if (r < 0)
		log_warn("cannot restore memory.high of %s: %s", w->cg.dir, strerror(-r));
}

/* [gc] reclaim: at or above the gc level (or throttled), every cooldown,
 * have the kernel reclaim what it can (v2 memory.reclaim), with or without
 * the app's help, and say how much the metric fell. A refusal other than
 * "found less" is logged once and ends the attempts. */
void
knob_reclaim(struct watch *w, uint64_t now)
{
	const struct threshold *t = &w->cfg->gc_reclaim;
	uint64_t bytes = units_threshold_bytes(t, w->limit_bytes), before = w->metric_bytes;
	struct memcg_sample s;
	char a[UNITS_BUF], b[UNITS_BUF], c[UNITS_BUF];
	int r;

	if (t->kind == THRESHOLD_NONE || bytes == POLICY_OFF || w->cfg->dry_run || w->reclaim_off)
		return;
	if (w->metric_bytes < w->levels.gc_bytes && !w->throttled)
		return;
	if (w->reclaim_last_usec != 0 && now - w->reclaim_last_usec < w->cfg->gc_cooldown_usec)
		return;
	w->reclaim_last_usec = now;
	if (w->cg.version != 2) {
		log_info("[gc] reclaim needs cgroup v2; %s is v1", w->cg.dir);
		w->reclaim_off = true;
		return;
	}
	r = memctl_reclaim(w->cg.dir, bytes);
	if (r < 0 && r != -EAGAIN) {
		log_info("cannot reclaim from %s: %s; [gc] reclaim is off from now on", w->cg.dir,
		    strerror(-r));
		w->reclaim_off = true;
		return;
	}
	if (memcg_read(&w->mem, &s) < 0)
		return;
	w->metric_bytes = memcg_metric(&s, w->cfg->metric);
	log_info("reclaim: asked the kernel for %s%s; %s fell from %s to %s",
	    units_format_human(bytes, a), r == -EAGAIN ? " (it found less)" : "",
	    config_metric_name(w->cfg->metric), units_format_human(before, b),
	    units_format_human(w->metric_bytes, c));
}
