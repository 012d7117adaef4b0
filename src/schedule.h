/*
 * schedule.h: when to look again. Pure code: the adaptive polling
 * interval from the headroom to the nearest armed level.
 */
#ifndef OOMGUARD_SCHEDULE_H
#define OOMGUARD_SCHEDULE_H

#include <stdbool.h>
#include <stdint.h>

#include "policy.h"

/* While an episode is open, look at least this often, so that repeated gc
 * requests and the grace period are kept to within this much. */
#define SCHEDULE_EPISODE_MAX_USEC 100000ULL

struct schedule_params {
	uint64_t poll_min_usec;
	uint64_t poll_max_usec;
	uint64_t max_growth_bytes; /* per second; 0 is treated as 1 */
};

/* The next polling interval: the time memory growing at max_growth would
 * need to reach the nearest armed level above metric_bytes, clamped to
 * [poll_min, poll_max]; at most SCHEDULE_EPISODE_MAX_USEC during an
 * episode. With no armed level above the metric, poll_max (or the episode
 * bound). Never fails. */
uint64_t schedule_interval(const struct schedule_params *p, const struct policy_levels *lv,
    uint64_t metric_bytes, bool in_episode);

/* What besides the headroom decides the next poll. */
struct schedule_inputs {
	uint64_t metric_bytes;
	bool in_episode;
	/* Memory pressure was seen within the PSI trigger's window: look
	 * every poll_min until it ends. */
	bool pressure;
	/* The low point after a gc request is looked for: every poll_min. */
	bool seeking_low;
	/* The kernel says when the usage reaches the lowest armed level (a
	 * cgroup v1 threshold registered for it), and that level is not within
	 * the reserve of the limit (so that "about to freeze" cannot come
	 * first). */
	bool kernel_watches;
	uint64_t usage_bytes; /* what the kernel's thresholds count */
};

/* The next polling interval: poll_min under pressure or while the low
 * point after a gc request is looked for; poll_max while the
 * kernel watches the lowest level, outside an episode, with the usage
 * below it (the metric is never above the usage, so no level can be
 * reached unseen); else schedule_interval(). Never fails. */
uint64_t schedule_next(const struct schedule_params *p, const struct policy_levels *lv,
    const struct schedule_inputs *in);

/* The read rule: whether a sample whose usage file read usage_bytes
 * must also read memory.stat for its metric. The metric (workingset:
 * usage minus inactive file; anon) is never above the usage, so a usage
 * under every level the metric is compared with says the metric is
 * under them too, and the sample may count the usage as its metric (an
 * upper bound) without changing any decision. The levels compared are
 * the armed gc, restart and kill levels; rearm in an episode; the fall
 * that tells a gc request took effect while that is awaited. lv must be
 * the levels of this sample's limit. metric_is_usage: nothing to read.
 * Never fails. */
bool schedule_read_stat(const struct policy_levels *lv, const struct policy_state *st,
    bool metric_is_usage, uint64_t usage_bytes);

#endif
