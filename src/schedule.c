/*
 * schedule.c: the adaptive polling interval.
 */
#include "schedule.h"

static uint64_t
nearest_above(const struct policy_levels *lv, uint64_t metric_bytes)
{
	const uint64_t levels[] = { lv->gc_bytes, lv->restart_bytes, lv->kill_bytes };
	uint64_t best = POLICY_OFF;

	for (unsigned i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		if (levels[i] != POLICY_OFF && levels[i] > metric_bytes && levels[i] < best)
			best = levels[i];
	}
	return best;
}

uint64_t
schedule_interval(const struct schedule_params *p, const struct policy_levels *lv,
    uint64_t metric_bytes, bool in_episode)
{
	uint64_t growth = p->max_growth_bytes ? p->max_growth_bytes : 1;
	uint64_t level = nearest_above(lv, metric_bytes);
	uint64_t usec = p->poll_max_usec;

	if (level != POLICY_OFF) {
		unsigned __int128 t = (unsigned __int128)(level - metric_bytes) * 1000000 / growth;

		usec = t < p->poll_max_usec ? (uint64_t)t : p->poll_max_usec;
	}
	if (in_episode && usec > SCHEDULE_EPISODE_MAX_USEC)
		usec = SCHEDULE_EPISODE_MAX_USEC;
	if (usec < p->poll_min_usec)
		usec = p->poll_min_usec;
	return usec;
}

uint64_t
schedule_next(const struct schedule_params *p, const struct policy_levels *lv,
    const struct schedule_inputs *in)
{
	if (in->pressure || in->seeking_low)
		return p->poll_min_usec;
	if (in->kernel_watches && !in->in_episode && nearest_above(lv, 0) != POLICY_OFF &&
	    in->usage_bytes < nearest_above(lv, 0))
		return p->poll_max_usec;
	return schedule_interval(p, lv, in->metric_bytes, in->in_episode);
}

static uint64_t
min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

bool
schedule_read_stat(const struct policy_levels *lv, const struct policy_state *st,
    bool metric_is_usage, uint64_t usage_bytes)
{
	uint64_t floor = min_u64(lv->gc_bytes, min_u64(lv->restart_bytes, lv->kill_bytes));

	if (metric_is_usage)
		return false;
	if (st->in_episode)
		floor = min_u64(floor, lv->rearm_bytes);
	if (st->gc_ever && !st->gc_effect)
		floor = min_u64(floor, policy_effect_bytes(st));
	return usage_bytes >= floor;
}
