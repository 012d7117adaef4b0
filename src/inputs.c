/*
 * inputs.c: what a sample means, as pure code (see inputs.h).
 */
#include "inputs.h"
#include "units.h"

uint64_t
inputs_limit(const struct memcg_sample *s, const struct inputs_own *own)
{
	if (s->limit_bytes != 0) {
		if (own->limit_raised && s->limit_bytes == own->raised_bytes)
			return own->limit_bytes;
		return s->limit_bytes;
	}
	/* Without memory.max, memory.high is where the kernel stops the app:
	 * percentages count from it, but never from the value oomguard set
	 * (that limit would fall by its own level on every sample). */
	if (own->high_set && s->high_bytes == own->high_set_bytes)
		return own->high_found_bytes;
	return s->high_bytes;
}

struct policy_levels
inputs_levels(const struct config *cfg, uint64_t limit_bytes)
{
	struct policy_levels lv;

	lv.gc_bytes = units_threshold_bytes(&cfg->gc_at, limit_bytes);
	lv.restart_bytes = units_threshold_bytes(&cfg->restart_at, limit_bytes);
	lv.kill_bytes = units_threshold_bytes(&cfg->kill_at, limit_bytes);
	lv.rearm_bytes = units_threshold_bytes(&cfg->gc_rearm_below, limit_bytes);
	return lv;
}

bool
inputs_kernel_kills(const struct memcg_sample *s, int version)
{
	if (s->has_oom_control)
		return !s->oom_kill_disable;
	return version == 2 && s->limit_bytes != 0;
}

bool
inputs_events_update(struct inputs_events *ev, const struct memcg_sample *s, uint64_t *ret_kills)
{
	uint64_t kills = s->has_events ? s->events.oom_kill : s->oom_kill;
	uint64_t throttle = s->has_events ? s->events.high + s->events.max : 0;
	bool throttled = ev->seen && throttle > ev->throttle_events;

	*ret_kills = ev->seen && kills > ev->oom_kills ? kills - ev->oom_kills : 0;
	ev->seen = true;
	ev->oom_kills = kills;
	ev->throttle_events = throttle;
	return throttled;
}
