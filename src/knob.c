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

void
knob_init(struct knob *k, const char *dir, int version, uint64_t host_ram_bytes)
{
	*k = (struct knob){ .dir = dir, .version = version, .host_ram_bytes = host_ram_bytes };
}

void
knob_own(const struct knob *k, struct inputs_own *own)
{
	own->high_set = k->high_set;
	own->high_set_bytes = k->high_set_bytes;
	own->high_found_bytes = k->high_found_bytes;
}

/* Read memory.high into text (sized 32) and *ret_bytes. Return 0 or
 * -errno. */
static int
high_read(const struct knob *k, char *text, uint64_t *ret_bytes)
{
	int r = memctl_high_get(k->dir, text, 32);

	if (r < 0)
		return r;
	return memcg_parse_limit(text, k->host_ram_bytes, ret_bytes);
}

/* Whether memory.high, reading now_bytes, still holds oomguard's value. */
static bool
high_ours(const struct knob *k, uint64_t now_bytes)
{
	return k->high_set && now_bytes == k->high_set_bytes;
}

/* Write text to memory.high and note what it reads after (the kernel
 * rounds to pages). Return 0 or -errno. */
static int
high_write(struct knob *k, const char *text)
{
	char back[32];
	uint64_t bytes;
	int r = memctl_high_set(k->dir, text);

	if (r < 0)
		return r;
	r = high_read(k, back, &bytes);
	k->high_set = r == 0;
	k->high_set_bytes = r == 0 ? bytes : 0;
	return 0;
}

static void
high_give_up(struct knob *k, const char *what, int err)
{
	log_info("cannot %s memory.high of %s: %s; the kernel will not throttle before "
	         "memory.max",
	    what, k->dir, strerror(-err));
	k->high_found[0] = '\0';
	k->high_set = false;
	k->high_done = true;
}

/* The value to put back: the one found first, or the operator's, written
 * since oomguard's last write. Return 0 or -errno. */
static int
high_note_found(struct knob *k)
{
	char text[32];
	uint64_t bytes;
	int r = high_read(k, text, &bytes);

	if (r < 0)
		return r;
	if (k->high_found[0] == '\0' || !high_ours(k, bytes)) {
		snprintf(
		    k->high_found, sizeof(k->high_found), "%.*s", (int)strcspn(text, "\n"), text);
		k->high_found_bytes = bytes;
	}
	return 0;
}

void
knob_high_apply(
    struct knob *k, const struct threshold *t, uint64_t limit_bytes, uint64_t restart_bytes)
{
	uint64_t bytes;
	char text[32], h[UNITS_BUF];
	int r;

	if (t->kind == THRESHOLD_NONE || (k->high_done && k->high_found[0] == '\0'))
		return;
	if (k->version != 2) {
		log_info("[watch] high needs cgroup v2; %s is v1, memory.high left alone", k->dir);
		k->high_done = true;
		return;
	}
	bytes = t->kind == THRESHOLD_AUTO ? restart_bytes : units_threshold_bytes(t, limit_bytes);
	if (bytes == POLICY_OFF)
		return;
	r = high_note_found(k);
	if (r < 0) {
		high_give_up(k, "read", r);
		return;
	}
	snprintf(text, sizeof(text), "%llu", (unsigned long long)bytes);
	r = high_write(k, text);
	if (r < 0) {
		high_give_up(k, "set", r);
		return;
	}
	k->high_done = true;
	log_info("memory.high set to %s (was %s)", units_format_human(bytes, h), k->high_found);
}

void
knob_high_lift(struct knob *k)
{
	char text[32];
	uint64_t bytes;

	if (k->high_found[0] == '\0' || k->high_lifted || !k->high_set)
		return;
	if (high_read(k, text, &bytes) < 0 || !high_ours(k, bytes))
		return;
	if (high_write(k, k->high_found) == 0) {
		k->high_lifted = true;
		log_info("memory.high lifted while the app stops");
	}
}

void
knob_high_again(
    struct knob *k, const struct threshold *t, uint64_t limit_bytes, uint64_t restart_bytes)
{
	if (!k->high_lifted)
		return;
	k->high_lifted = false;
	k->high_done = false;
	knob_high_apply(k, t, limit_bytes, restart_bytes);
}

void
knob_high_restore(struct knob *k)
{
	char text[32];
	uint64_t bytes;
	int r;

	if (k->high_found[0] != '\0' && k->high_set) {
		r = high_read(k, text, &bytes);
		if (r == 0 && !high_ours(k, bytes))
			log_info(
			    "memory.high of %s was changed since oomguard set it; left as it is",
			    k->dir);
		else if (r == 0)
			r = memctl_high_set(k->dir, k->high_found);
		if (r < 0)
			log_warn("cannot restore memory.high of %s: %s", k->dir, strerror(-r));
	}
	k->high_found[0] = '\0';
	k->high_set = false;
	k->high_done = false;
	k->high_lifted = false;
}

/* Whether [gc] reclaim is due now. */
static bool
reclaim_due(const struct knob *k, const struct config *cfg, uint64_t bytes, uint64_t gc_bytes,
    uint64_t metric_bytes, bool throttled, uint64_t now)
{
	if (cfg->gc_reclaim.kind == THRESHOLD_NONE || bytes == POLICY_OFF || cfg->dry_run ||
	    k->reclaim_off)
		return false;
	if (metric_bytes < gc_bytes && !throttled)
		return false;
	return k->reclaim_last_usec == 0 || now - k->reclaim_last_usec >= cfg->gc_cooldown_usec;
}

uint64_t
knob_reclaim(struct knob *k, const struct config *cfg, const struct memcg *mem,
    uint64_t limit_bytes, uint64_t gc_bytes, uint64_t metric_bytes, bool throttled, uint64_t now)
{
	uint64_t bytes = units_threshold_bytes(&cfg->gc_reclaim, limit_bytes), after;
	struct memcg_sample s;
	char a[UNITS_BUF], b[UNITS_BUF], c[UNITS_BUF];
	int r;

	if (!reclaim_due(k, cfg, bytes, gc_bytes, metric_bytes, throttled, now))
		return metric_bytes;
	k->reclaim_last_usec = now;
	if (k->version != 2) {
		log_info("[gc] reclaim needs cgroup v2; %s is v1", k->dir);
		k->reclaim_off = true;
		return metric_bytes;
	}
	r = memctl_reclaim(k->dir, bytes);
	if (r < 0 && r != -EAGAIN) {
		log_info("cannot reclaim from %s: %s; [gc] reclaim is off from now on", k->dir,
		    strerror(-r));
		k->reclaim_off = true;
		return metric_bytes;
	}
	if (memcg_read(mem, &s) < 0)
		return metric_bytes;
	after = memcg_metric(&s, cfg->metric);
	log_info("reclaim: asked the kernel for %s%s; %s fell from %s to %s",
	    units_format_human(bytes, a), r == -EAGAIN ? " (it found less)" : "",
	    config_metric_name(cfg->metric), units_format_human(metric_bytes, b),
	    units_format_human(after, c));
	return after;
}

void
knob_reclaim_again(struct knob *k)
{
	k->reclaim_off = false;
}
