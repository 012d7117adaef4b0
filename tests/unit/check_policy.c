/*
 * check_policy.c: unit tests for src/policy.c; links nothing else.
 *
 * Each case is a table of synthetic samples and the action expected for
 * each, fed to the policy by one loop (run_steps). Unless a row says
 * otherwise the target is alive, allows GC requests, is generation 0 and
 * started at time 0, and the levels and timing are std_levels/std_timing.
 */

#include <check.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "policy.h"
#include "suite.h"

#define OFF       POLICY_OFF
#define MS(x)     ((uint64_t)(x)*1000) /* milliseconds to usec */
#define N         POLICY_NONE
#define G         POLICY_GC
#define R         POLICY_RESTART
#define K         POLICY_KILL
#define NELEM(a)  (sizeof(a) / sizeof((a)[0]))
#define MAX_STEPS 16

/* Row flags; a row without F_END is a sample. */
enum {
	F_FROZEN = 1 << 0,
	F_DEAD = 1 << 1,
	F_NOGC = 1 << 2,
	F_END = 1 << 3,
	F_THROTTLED = 1 << 4,
	F_RESCUE = 1 << 5, /* a reserve can wake the frozen target */
	F_TERM = 1 << 6,   /* the target catches the restart signal */
	F_KKILL = 1 << 7,  /* the kernel's OOM killer is on at this limit */
};

#define FR (F_FROZEN | F_RESCUE)

/* What a row expects of the episode, checked after the sample. */
enum { EP_ANY, EP_OPEN, EP_CLOSED };

struct step {
	uint64_t t_usec;
	uint64_t m_bytes;
	unsigned flags;
	unsigned lv; /* index into the case's levels */
	uint64_t gen;
	uint64_t started_usec;
	enum policy_action want;
	int ep;
};

/*
 * The tables below are kept out of clang-format's reach (clang-format off),
 * so that each sample keeps a line of its own.
 */
struct pcase {
	const char *name;
	/* Rows choose lv[0] (NULL: std_levels) or lv[1]. */
	const struct policy_levels *lv[2];
	const struct policy_timing *tm; /* NULL: std_timing */
	struct step steps[MAX_STEPS];
};

/* A 1000-byte limit: gc at 70%, restart 85%, kill 95%, rearm below 60%. */
#define STD_LEVELS                                                                                 \
	{                                                                                          \
		700, 850, 950, 600                                                                 \
	}
#define END                                                                                        \
	{                                                                                          \
		.flags = F_END                                                                     \
	}

static const struct policy_levels std_levels = STD_LEVELS;
static const struct policy_levels all_off = { OFF, OFF, OFF, OFF };
static const struct policy_levels gc_off = { OFF, 850, 950, 600 };
static const struct policy_levels kill_off = { 700, 850, OFF, 600 };
static const struct policy_levels gc_only = { 700, OFF, OFF, 600 };
static const struct policy_levels restart_only = { OFF, 850, OFF, 600 };
static const struct policy_levels rearm_off = { 700, 850, 950, OFF };
static const struct policy_levels rearm_high = { 700, 850, 950, 800 };
static const struct policy_levels lowered = { 400, 500, 600, 300 };
static const struct policy_levels kill_low = { 700, 850, 800, 600 };
static const struct policy_levels gc_high = { 900, 850, 950, 600 };
static const struct policy_levels all_zero = { 0, 0, 0, 0 };
static const struct policy_levels kill_only = { OFF, OFF, 950, 600 };
/* cooldown, grace, startup, min_interval */
static const struct policy_timing std_timing = { MS(1000), MS(5000), MS(2000), MS(100) };
static const struct policy_timing grace_off = { MS(1000), OFF, MS(2000), MS(100) };
static const struct policy_timing timing_off = { OFF, OFF, OFF, OFF };
static const struct policy_timing timing_zero = { 0, 0, 0, 0 };
static const struct policy_timing interval_long = { MS(1000), MS(5000), MS(2000), MS(5000) };

/* Feeds steps to a fresh policy and checks every action and episode flag. */
static void
run_steps(const char *name, const struct policy_levels *const lvs[], const struct policy_timing *tm,
    const struct step *steps, size_t nsteps)
{
	struct policy_state st;
	size_t i;

	policy_init(&st);
	for (i = 0; i < nsteps && !(steps[i].flags & F_END); i++) {
		const struct step *s = &steps[i];
		struct policy_input in = {
			.now_usec = s->t_usec,
			.metric_bytes = s->m_bytes,
			.frozen = (s->flags & F_FROZEN) != 0,
			.throttled = (s->flags & F_THROTTLED) != 0,
			.rescue = (s->flags & F_RESCUE) != 0,
			.restart_caught = (s->flags & F_TERM) != 0,
			.kernel_kills = (s->flags & F_KKILL) != 0,
			.target_alive = (s->flags & F_DEAD) == 0,
			.gc_allowed = (s->flags & F_NOGC) == 0,
			.target_started_usec = s->started_usec,
			.target_generation = s->gen,
		};
		enum policy_action got = policy_eval(&st, lvs[s->lv], tm, &in);

		ck_assert_msg(got == s->want,
		    "%s: step %zu (t=%" PRIu64 "us, metric=%" PRIu64 "): got %s, want %s", name, i,
		    s->t_usec, s->m_bytes, policy_action_name(got), policy_action_name(s->want));
		ck_assert_msg(s->ep == EP_ANY || st.in_episode == (s->ep == EP_OPEN),
		    "%s: step %zu (t=%" PRIu64 "us, metric=%" PRIu64 "): episode %s, want %s", name,
		    i, s->t_usec, s->m_bytes, st.in_episode ? "open" : "closed",
		    s->ep == EP_OPEN ? "open" : "closed");
	}
}

static void
run_case(const struct pcase *c)
{
	const struct policy_levels *lvs[2] = { c->lv[0] != NULL ? c->lv[0] : &std_levels,
		c->lv[1] };

	run_steps(c->name, lvs, c->tm != NULL ? c->tm : &std_timing, c->steps, MAX_STEPS);
}

/* ---- gc level ---- */

/* clang-format off */
static const struct pcase gc_cases[] = {
	{ "gc fires exactly at its level", .steps = {
		{ MS(10000), 699, .want = N, .ep = EP_CLOSED },
		{ MS(10100), 700, .want = G, .ep = EP_OPEN },
		END } },
	{ "gc repeats every cooldown while at or above its level", .steps = {
		{ MS(10000), 750, .want = G },
		{ MS(10500), 750, .want = N },
		{ MS(10999), 750, .want = N },
		{ MS(11000), 750, .want = G },
		{ MS(12000), 700, .want = G },
		{ MS(12500), 800, .want = N },
		{ MS(13000), 800, .want = G, .ep = EP_OPEN },
		END } },
	{ "gc does not repeat between rearm and gc", .steps = {
		{ MS(10000), 750, .want = G },
		{ MS(11000), 650, .want = N, .ep = EP_OPEN },
		{ MS(12000), 650, .want = N, .ep = EP_OPEN },
		{ MS(12500), 750, .want = G, .ep = EP_OPEN },
		END } },
	{ "gc waits while the target has no handler", .steps = {
		{ MS(10000), 750, F_NOGC, .want = N, .ep = EP_OPEN },
		{ MS(11000), 750, F_NOGC, .want = N },
		{ MS(11500), 750, .want = G },
		{ MS(12000), 750, .want = N },
		{ MS(12500), 750, .want = G },
		END } },
	{ "gc level off: nothing below restart", { &gc_off },
	    .steps = {
		{ MS(10000), 800, .want = N, .ep = EP_CLOSED },
		{ MS(10100), 849, .want = N, .ep = EP_CLOSED },
		END } },
	{ "gc is sent during start-up", .steps = {
		{ MS(10000), 750, .started_usec = MS(9500), .want = G },
		END } },
	{ "no gc to a dead target; time still counts", .steps = {
		{ MS(10000), 750, F_DEAD, .want = N, .ep = EP_OPEN },
		{ MS(10500), 750, .want = G },
		{ MS(11000), 750, F_DEAD, .want = N },
		{ MS(11500), 750, .want = G },
		END } },
};
/* clang-format on */

/* ---- gc requests paced by their effect ---- */

/* clang-format off */
static const struct pcase pacing_cases[] = {
	{ "a gc that took effect: the next at the gc level after min_interval", .steps = {
		{ MS(10000), 750, .want = G },
		{ MS(10020), 650, .want = N, .ep = EP_OPEN },
		{ MS(10050), 750, .want = N },
		{ MS(10099), 750, .want = N },
		{ MS(10100), 750, .want = G },
		{ MS(10150), 650, .want = N },
		{ MS(10200), 700, .want = G },
		END } },
	{ "below rearm ends the episode; the next gc after min_interval", .steps = {
		{ MS(10000), 750, .want = G },
		{ MS(10010), 500, .want = N, .ep = EP_CLOSED },
		{ MS(10050), 760, .want = N, .ep = EP_OPEN },
		{ MS(10100), 760, .want = G },
		{ MS(10110), 550, .want = N, .ep = EP_CLOSED },
		{ MS(10300), 700, .want = G, .ep = EP_OPEN },
		END } },
	{ "a gc without effect is repeated after the cooldown", .steps = {
		{ MS(10000), 750, .want = G },
		{ MS(10050), 740, .want = N },
		{ MS(10100), 750, .want = N },
		{ MS(10999), 750, .want = N },
		{ MS(11000), 750, .want = G },
		END } },
	{ "a fall of less than a sixteenth is no effect", .steps = {
		{ MS(10000), 800, .want = G },
		{ MS(10050), 751, .want = N },
		{ MS(10100), 800, .want = N },
		{ MS(11000), 800, .want = G },
		{ MS(11050), 750, .want = N },
		{ MS(11100), 800, .want = G },
		END } },
	{ "the effect is judged afresh for each request", .steps = {
		{ MS(10000), 750, .want = G },
		{ MS(10050), 650, .want = N },
		{ MS(10100), 750, .want = G },
		{ MS(10200), 750, .want = N },
		{ MS(10999), 750, .want = N },
		{ MS(11100), 750, .want = G },
		END } },
	{ "rearm off: only the fall counts", { &rearm_off }, .steps = {
		{ MS(10000), 700, .want = G },
		{ MS(10050), 699, .want = N, .ep = EP_CLOSED },
		{ MS(10100), 700, .want = N },
		{ MS(11000), 700, .want = G },
		END } },
	{ "min_interval longer than the cooldown: the cooldown bounds it",
	    .tm = &interval_long, .steps = {
		{ MS(10000), 750, .want = G },
		{ MS(10050), 650, .want = N },
		{ MS(10500), 750, .want = N },
		{ MS(11000), 750, .want = G },
		END } },
	{ "a frozen sample is no effect", { &gc_only }, .steps = {
		{ MS(10000), 750, .want = G },
		{ MS(10050), 100, F_FROZEN, .want = N },
		{ MS(10100), 750, .want = N },
		{ MS(11000), 750, .want = G },
		END } },
	{ "throttled: a gc that took effect is followed after min_interval", .steps = {
		{ MS(10000), 500, F_THROTTLED, .want = G },
		{ MS(10050), 400, .want = N, .ep = EP_CLOSED },
		{ MS(10150), 500, F_THROTTLED, .want = G },
		END } },
};
/* clang-format on */

/* ---- escalation follows the failure of gc requests ---- */

/* clang-format off */
static const struct pcase escalate_cases[] = {
	{ "gc requests that work at the restart level: no restart", .steps = {
		{ MS(10000), 860, .want = G },
		{ MS(10050), 650, .want = N },
		{ MS(10100), 860, .want = G },
		{ MS(10150), 650, .want = N },
		{ MS(10200), 860, .want = G },
		{ MS(11200), 650, .want = N },
		{ MS(12000), 860, .want = G },
		{ MS(12100), 650, .want = N },
		{ MS(13000), 860, .want = G },
		END } },
	{ "restart a cooldown after the first gc that did not work", .steps = {
		{ MS(10000), 860, .want = G },
		{ MS(10050), 700, .want = N },
		{ MS(10200), 860, .want = G },
		{ MS(10300), 870, .want = N },
		{ MS(11199), 870, .want = N },
		{ MS(11200), 870, .want = R },
		END } },
	{ "a young target at the kill level: gc first, not SIGKILL",
	    .steps = {
		{ MS(10000), 960, .started_usec = MS(9900), .want = G },
		{ MS(10050), 700, .started_usec = MS(9900), .want = N },
		{ MS(10100), 960, .started_usec = MS(9900), .want = G },
		{ MS(10150), 700, .started_usec = MS(9900), .want = N },
		{ MS(10200), 960, .started_usec = MS(9900), .want = G },
		END } },
	{ "a young target at the kill level whose gc fails: restart; the kill level after start-up",
	    .steps = {
		{ MS(10000), 960, .started_usec = MS(9900), .want = G },
		{ MS(10500), 960, .started_usec = MS(9900), .want = N },
		{ MS(11000), 960, .started_usec = MS(9900), .want = R },
		{ MS(11899), 960, .started_usec = MS(9900), .want = N },
		{ MS(11900), 960, .started_usec = MS(9900), .want = K },
		END } },
	{ "a young target at the restart level only: no restart", .steps = {
		{ MS(10000), 860, .started_usec = MS(9900), .want = G },
		{ MS(11000), 860, .started_usec = MS(9900), .want = G },
		{ MS(11900), 860, .started_usec = MS(9900), .want = N },
		{ MS(12000), 860, .started_usec = MS(9900), .want = R },
		END } },
	{ "a young target at the kill level, gc off: restart at once",
	    { &gc_off }, .steps = {
		{ MS(10000), 960, .started_usec = MS(9900), .want = R },
		END } },
	{ "a young target at the kill level, only kill armed: SIGKILL when start-up ends",
	    { &kill_only }, .steps = {
		{ MS(10000), 960, .started_usec = MS(9900), .want = N, .ep = EP_OPEN },
		{ MS(11899), 960, .started_usec = MS(9900), .want = N },
		{ MS(11900), 960, .started_usec = MS(9900), .want = K },
		END } },
	{ "a young target frozen: SIGKILL as before", .steps = {
		{ MS(10000), 500, F_FROZEN, .started_usec = MS(9900), .want = K },
		END } },
};
/* clang-format on */

/* ---- restart level ---- */

/* clang-format off */
static const struct pcase restart_cases[] = {
	{ "restart: gc first, restart one cooldown later", .steps = {
		{ MS(10000), 860, .want = G, .ep = EP_OPEN },
		{ MS(10500), 860, .want = N },
		{ MS(10999), 860, .want = N },
		{ MS(11000), 860, .want = R },
		{ MS(12000), 860, .want = N },
		END } },
	{ "a gc that brings the metric below restart prevents it", .steps = {
		{ MS(10000), 860, .want = G },
		{ MS(11000), 800, .want = G },
		{ MS(12000), 849, .want = G },
		{ MS(13000), 849, .want = G },
		END } },
	{ "a gc sent at the gc level is the first step", .steps = {
		{ MS(10000), 750, .want = G },
		{ MS(10500), 860, .want = N },
		{ MS(11000), 860, .want = R },
		END } },
	{ "restart fires exactly at its level", .steps = {
		{ MS(10000), 849, .want = G },
		{ MS(11000), 850, .want = R },
		END } },
	{ "gc level off: restart at once", { &gc_off },
	    .steps = {
		{ MS(10000), 860, .want = R, .ep = EP_OPEN },
		END } },
	{ "gc not allowed: restart at once", .steps = {
		{ MS(10000), 750, F_NOGC, .want = N },
		{ MS(10100), 860, F_NOGC, .want = R },
		END } },
	{ "restart waits out start-up; gc repeats meanwhile", .steps = {
		{ MS(10000), 860, .started_usec = MS(9500), .want = G },
		{ MS(11000), 860, .started_usec = MS(9500), .want = G },
		{ MS(11499), 860, .started_usec = MS(9500), .want = N },
		{ MS(11500), 860, .started_usec = MS(9500), .want = N },
		{ MS(12000), 860, .started_usec = MS(9500), .want = R },
		END } },
	{ "without gc, restart the moment start-up ends",
	    { &gc_off }, .steps = {
		{ MS(10000), 860, .started_usec = MS(9000), .want = N },
		{ MS(10999), 860, .started_usec = MS(9000), .want = N },
		{ MS(11000), 860, .started_usec = MS(9000), .want = R },
		END } },
	{ "restart once per episode; the new child meets the kill level",
	    { &gc_off }, .steps = {
		{ MS(10000), 860, .want = R },
		{ MS(10100), 860, .gen = 1, .started_usec = MS(10100),
		    .want = N },
		{ MS(12200), 860, .gen = 1, .started_usec = MS(10100),
		    .want = N, .ep = EP_OPEN },
		{ MS(13000), 960, .gen = 1, .started_usec = MS(10100),
		    .want = K },
		{ MS(13100), 960, .gen = 1, .started_usec = MS(10100),
		    .want = N },
		{ MS(14000), 500, .gen = 1, .started_usec = MS(10100),
		    .want = N, .ep = EP_CLOSED },
		{ MS(15000), 860, .gen = 2, .started_usec = MS(14500),
		    .want = N, .ep = EP_OPEN },
		{ MS(16500), 860, .gen = 2, .started_usec = MS(14500),
		    .want = R },
		END } },
	{ "one restart signal per target, even across episodes", .tm =
	    &grace_off, .lv = { &gc_off }, .steps = {
		{ MS(10000), 860, .want = R },
		{ MS(10100), 500, .want = N, .ep = EP_CLOSED },
		{ MS(10200), 860, .want = N, .ep = EP_OPEN },
		{ MS(20000), 860, .want = N },
		END } },
	{ "after a kill, the new child gets gc, then restart", .steps = {
		{ MS(10000), 860, .want = G },
		{ MS(10500), 960, .want = K },
		{ MS(10600), 860, .gen = 1, .started_usec = MS(10600),
		    .want = N },
		{ MS(11000), 860, .gen = 1, .started_usec = MS(10600),
		    .want = G },
		{ MS(12000), 860, .gen = 1, .started_usec = MS(10600),
		    .want = G },
		{ MS(12600), 860, .gen = 1, .started_usec = MS(10600),
		    .want = N },
		{ MS(13000), 860, .gen = 1, .started_usec = MS(10600),
		    .want = R },
		END } },
};
/* clang-format on */

/* ---- the grace period after the restart signal ---- */

/* clang-format off */
static const struct pcase grace_cases[] = {
	{ "kill when still alive grace after the restart signal",
	    { &gc_off }, .steps = {
		{ MS(10000), 860, .want = R },
		{ MS(14999), 860, .want = N },
		{ MS(15000), 860, .want = K },
		{ MS(16000), 860, .want = N },
		END } },
	{ "no kill when the target exited", { &gc_off },
	    .steps = {
		{ MS(10000), 860, .want = R },
		{ MS(12000), 860, F_DEAD, .want = N },
		{ MS(15000), 860, F_DEAD, .want = N },
		END } },
	{ "no grace kill for the new child", { &gc_off },
	    .steps = {
		{ MS(10000), 860, .want = R },
		{ MS(12000), 860, .gen = 1, .started_usec = MS(12000),
		    .want = N },
		{ MS(15000), 860, .gen = 1, .started_usec = MS(12000),
		    .want = N },
		{ MS(20000), 860, .gen = 1, .started_usec = MS(12000),
		    .want = N },
		END } },
	{ "grace kill outlives the episode and the limit",
	    { &gc_off, &all_off }, .steps = {
		{ MS(10000), 860, .want = R },
		{ MS(11000), 100, .want = N, .ep = EP_CLOSED },
		{ MS(14000), 100, .lv = 1, .want = N, .ep = EP_CLOSED },
		{ MS(15000), 100, .lv = 1, .want = K, .ep = EP_CLOSED },
		END } },
	{ "grace off: no kill after the restart signal", .tm = &grace_off,
	    .lv = { &gc_off }, .steps = {
		{ MS(10000), 860, .want = R },
		{ MS(100000), 860, .want = N },
		END } },
	{ "the kill level's kill is the only kill for that target",
	    { &gc_off }, .steps = {
		{ MS(10000), 860, .want = R },
		{ MS(12000), 960, .want = K },
		{ MS(15000), 960, .want = N },
		END } },
};
/* clang-format on */

/* ---- the kill level and a frozen cgroup ---- */

/* clang-format off */
static const struct pcase kill_cases[] = {
	{ "kill fires exactly at its level, once", .steps = {
		{ MS(10000), 949, .want = G },
		{ MS(10100), 950, .want = K },
		{ MS(10200), 951, .want = N },
		{ MS(20000), 951, .want = N },
		END } },
	{ "kill is the strongest action due", .steps = {
		{ MS(10000), 960, .want = K, .ep = EP_OPEN },
		END } },
	{ "frozen below every level: kill at once", .steps = {
		{ MS(10000), 500, F_FROZEN, .want = K, .ep = EP_OPEN },
		END } },
	{ "one kill per target; a new child may be killed again", .steps = {
		{ MS(10000), 960, .want = K },
		{ MS(10100), 960, .want = N },
		{ MS(10200), 960, .gen = 1, .started_usec = MS(7000),
		    .want = K },
		{ MS(10300), 960, .gen = 1, .started_usec = MS(7000),
		    .want = N },
		END } },
	{ "frozen, kill level off: restart at once, then grace",
	    { &kill_off }, .steps = {
		{ MS(10000), 500, F_FROZEN, .started_usec = MS(9900),
		    .want = R },
		{ MS(11000), 500, F_FROZEN, .started_usec = MS(9900),
		    .want = N },
		{ MS(15000), 500, F_FROZEN, .started_usec = MS(9900),
		    .want = K },
		END } },
	{ "frozen, only gc armed: gc every cooldown",
	    { &gc_only }, .steps = {
		{ MS(10000), 500, F_FROZEN, .want = G },
		{ MS(10500), 500, F_FROZEN, .want = N },
		{ MS(11000), 500, F_FROZEN, .want = G },
		END } },
	{ "frozen, every level off: nothing", { &all_off }, .steps = {
		{ MS(10000), 500, F_FROZEN, .want = N, .ep = EP_CLOSED },
		END } },
	{ "frozen overrides restart-once-per-episode for a new child",
	    { &restart_only }, .steps = {
		{ MS(10000), 860, .want = R },
		{ MS(10100), 860, .gen = 1, .started_usec = MS(10100),
		    .want = N },
		{ MS(10200), 860, F_FROZEN, .gen = 1,
		    .started_usec = MS(10100), .want = R },
		{ MS(15200), 860, F_FROZEN, .gen = 1,
		    .started_usec = MS(10100), .want = K },
		END } },
	{ "no kill to a dead target", .steps = {
		{ MS(10000), 960, F_DEAD, .want = N, .ep = EP_OPEN },
		{ MS(10100), 960, .want = K },
		END } },
	{ "throttled below gc: gc, repeated every cooldown, no more", .steps = {
		{ MS(10000), 500, F_THROTTLED, .want = G, .ep = EP_OPEN },
		{ MS(10500), 500, F_THROTTLED, .want = N },
		{ MS(11000), 500, F_THROTTLED, .want = G },
		{ MS(13000), 500, F_THROTTLED, .want = G },
		{ MS(13100), 500, .want = N, .ep = EP_CLOSED },
		END } },
	{ "throttled with gc off: nothing", { &gc_off }, .steps = {
		{ MS(10000), 500, F_THROTTLED, .want = N, .ep = EP_CLOSED },
		END } },
	{ "throttled above restart: the metric decides", .steps = {
		{ MS(10000), 860, F_THROTTLED, .want = G },
		{ MS(11000), 860, F_THROTTLED, .want = R },
		END } },
	{ "frozen keeps the episode open below rearm", .steps = {
		{ MS(10000), 750, .want = G },
		{ MS(10100), 100, F_FROZEN, .want = K, .ep = EP_OPEN },
		{ MS(10200), 100, .want = N, .ep = EP_CLOSED },
		END } },
};
/* clang-format on */

/* ---- a rescue: a frozen cgroup with a reserve to release ---- */

/* clang-format off */
static const struct pcase rescue_cases[] = {
	{ "gc handled: gc, then its grace before anything stronger", .steps = {
		{ MS(10000), 500, FR, .want = G, .ep = EP_OPEN },
		{ MS(10100), 960, F_FROZEN, .want = N },
		{ MS(11100), 960, .want = R },
		{ MS(14900), 960, F_FROZEN, .want = N },
		{ MS(15100), 960, .want = K },
		END } },
	{ "gc handled and freed: the episode ends", .steps = {
		{ MS(10000), 500, FR, .want = G, .ep = EP_OPEN },
		{ MS(10100), 300, .want = N, .ep = EP_CLOSED },
		END } },
	{ "no gc handler, restart caught: restart, kill after grace", .steps = {
		{ MS(10000), 500, FR | F_NOGC | F_TERM, .want = R },
		{ MS(10100), 500, F_FROZEN | F_NOGC, .want = N },
		{ MS(14900), 960, F_NOGC, .want = N },
		{ MS(15000), 960, F_NOGC, .want = K },
		END } },
	{ "restart caught during start-up: restart all the same", .steps = {
		{ MS(10000), 500, FR | F_NOGC | F_TERM,
		    .started_usec = MS(9900), .want = R },
		END } },
	{ "nothing handled: kill", .steps = {
		{ MS(10000), 500, FR | F_NOGC, .want = K },
		{ MS(10100), 500, FR | F_NOGC, .want = N },
		END } },
	{ "kill off, restart not caught: kill all the same",
	    { &kill_off }, .steps = {
		{ MS(10000), 500, FR | F_NOGC, .want = K },
		END } },
	{ "restart and kill off, nothing handled: nothing",
	    { &gc_only }, .steps = {
		{ MS(10000), 500, FR | F_NOGC | F_TERM, .want = N },
		END } },
	{ "only gc armed, not handled: nothing", { &gc_only }, .steps = {
		{ MS(10000), 500, FR | F_NOGC, .want = N },
		END } },
	{ "restart already sent: nothing more; it pends until grace", .steps = {
		{ MS(10000), 860, F_NOGC, .want = R },
		{ MS(10100), 860, FR | F_NOGC | F_TERM, .want = N },
		{ MS(15050), 860, F_FROZEN | F_NOGC, .want = N },
		{ MS(15100), 860, F_FROZEN | F_NOGC, .want = K },
		END } },
	{ "a gc rescue skips the cooldown", .steps = {
		{ MS(10000), 750, .want = G },
		{ MS(10100), 500, FR, .want = G },
		END } },
	{ "without a reserve a frozen cgroup is killed", .steps = {
		{ MS(10000), 750, .want = G },
		{ MS(10100), 500, F_FROZEN | F_TERM, .want = K },
		END } },
	{ "a second freeze after the grace, reserve back: rescued again", .steps = {
		{ MS(10000), 500, FR, .want = G },
		{ MS(10100), 300, .want = N, .ep = EP_CLOSED },
		{ MS(20000), 500, FR, .want = G },
		END } },
	{ "the kernel's OOM killer on, nothing handled: no SIGKILL of ours", .steps = {
		{ MS(10000), 500, FR | F_NOGC | F_KKILL, .want = N },
		{ MS(10100), 500, FR | F_NOGC | F_KKILL, .want = N },
		END } },
	{ "the kernel's OOM killer on, gc or restart handled: sent all the same", .steps = {
		{ MS(10000), 500, FR | F_KKILL, .want = G },
		{ MS(20000), 300, .want = N, .ep = EP_CLOSED },
		{ MS(30000), 500, FR | F_NOGC | F_TERM | F_KKILL, .want = R },
		END } },
	{ "a dead target: nothing", .steps = {
		{ MS(10000), 500, FR | F_DEAD, .want = N },
		END } },
};
/* clang-format on */

/* ---- episodes ---- */

/* clang-format off */
static const struct pcase episode_cases[] = {
	{ "below rearm ends the episode; the next one starts at gc",
	    .steps = {
		{ MS(10000), 750, .want = G, .ep = EP_OPEN },
		{ MS(10100), 599, .want = N, .ep = EP_CLOSED },
		{ MS(11000), 860, .want = G, .ep = EP_OPEN },
		{ MS(12000), 860, .want = R },
		END } },
	{ "exactly at rearm the episode goes on", .steps = {
		{ MS(10000), 860, .want = G },
		{ MS(10100), 600, .want = N, .ep = EP_OPEN },
		{ MS(11000), 860, .want = G },
		{ MS(12000), 860, .want = R },
		END } },
	{ "the band between rearm and gc opens no episode", .steps = {
		{ MS(10000), 650, .want = N, .ep = EP_CLOSED },
		{ MS(10100), 699, .want = N, .ep = EP_CLOSED },
		{ MS(10200), 700, .want = G, .ep = EP_OPEN },
		END } },
	{ "rearm off: the episode ends below the lowest level",
	    { &rearm_off }, .steps = {
		{ MS(10000), 710, .want = G, .ep = EP_OPEN },
		{ MS(10100), 699, .want = N, .ep = EP_CLOSED },
		{ MS(10200), 700, .want = N, .ep = EP_OPEN },
		{ MS(11000), 700, .want = G },
		END } },
	{ "rearm off: a dip that stays above gc keeps the escalation",
	    { &rearm_off }, .steps = {
		{ MS(10000), 860, .want = G },
		{ MS(10500), 820, .want = N, .ep = EP_OPEN },
		{ MS(11000), 860, .want = R },
		END } },
	{ "rearm above gc is taken as gc", { &rearm_high },
	    .steps = {
		{ MS(10000), 750, .want = G, .ep = EP_OPEN },
		{ MS(10100), 750, .want = N, .ep = EP_OPEN },
		{ MS(11000), 750, .want = G, .ep = EP_OPEN },
		{ MS(11100), 699, .want = N, .ep = EP_CLOSED },
		END } },
	{ "rearm above gc: a dip below it keeps the escalation",
	    { &rearm_high }, .steps = {
		{ MS(10000), 860, .want = G },
		{ MS(10500), 820, .want = N, .ep = EP_OPEN },
		{ MS(11000), 860, .want = R },
		END } },
	{ "limit removed: the episode ends and nothing fires",
	    { &std_levels, &all_off }, .steps = {
		{ MS(10000), 860, .want = G },
		{ MS(10100), 860, .lv = 1, .want = N, .ep = EP_CLOSED },
		{ MS(11000), 999999, .lv = 1, .want = N, .ep = EP_CLOSED },
		{ MS(11100), 860, .want = G, .ep = EP_OPEN },
		{ MS(12100), 860, .want = R },
		END } },
	{ "limit lowered below usage: kill", { &std_levels, &lowered }, .steps = {
		{ MS(10000), 650, .want = N, .ep = EP_CLOSED },
		{ MS(10100), 650, .lv = 1, .want = K, .ep = EP_OPEN },
		END } },
	{ "gc off: the episode opens at restart", { &gc_off },
	    .steps = {
		{ MS(10000), 800, .want = N, .ep = EP_CLOSED },
		{ MS(10100), 850, .want = R, .ep = EP_OPEN },
		END } },
};
/* clang-format on */

/* ---- the clock ---- */

/* clang-format off */
static const struct pcase clock_cases[] = {
	{ "clock backwards: no time passes, then time goes on", .steps = {
		{ MS(10000), 750, .want = G },
		{ MS(5000), 750, .want = N },
		{ MS(5999), 750, .want = N },
		{ MS(6000), 750, .want = G },
		END } },
	{ "clock back to 0 does not stall the grace period",
	    { &gc_off }, .steps = {
		{ MS(10000), 860, .want = R },
		{ 0, 860, .want = N },
		{ MS(4999), 860, .want = N },
		{ MS(5000), 860, .want = K },
		END } },
	{ "clock a week ahead: everything overdue, in order", .steps = {
		{ MS(10000), 860, .want = G },
		{ MS(10000) + MS(604800000), 860, .want = R },
		{ MS(10001) + MS(604800000), 860, .want = N },
		{ MS(15000) + MS(604800000), 860, .want = K },
		END } },
	{ "clock past the end of time keeps running", .steps = {
		{ MS(10000), 860, .want = G },
		{ UINT64_MAX - 1, 860, .want = R },
		{ UINT64_MAX, 860, .want = N },
		{ 0, 860, .want = N },
		{ MS(5000) - 2, 860, .want = N },
		{ MS(5000) - 1, 860, .want = K },
		END } },
	{ "a start time after now counts as just started",
	    { &gc_off }, .steps = {
		{ MS(10000), 860, .started_usec = MS(20000), .want = N },
		{ MS(11999), 860, .started_usec = MS(20000), .want = N },
		{ MS(12000), 860, .started_usec = MS(20000), .want = R },
		END } },
	{ "first sample at time 0", { &gc_off }, .steps = {
		{ 0, 860, .want = N },
		{ MS(1999), 860, .want = N },
		{ MS(2000), 860, .want = R },
		END } },
	{ "a backward step does not stretch start-up",
	    { &gc_off }, .steps = {
		{ MS(10000), 860, .gen = 1, .started_usec = MS(10000),
		    .want = N },
		{ MS(1000), 860, .gen = 1, .started_usec = MS(10000),
		    .want = N },
		{ MS(2999), 860, .gen = 1, .started_usec = MS(10000),
		    .want = N },
		{ MS(3000), 860, .gen = 1, .started_usec = MS(10000),
		    .want = R },
		END } },
	{ "a child started after a backward step", { &gc_off }, .steps = {
		{ MS(10000), 500, .want = N },
		{ MS(1000), 500, .want = N },
		{ MS(1500), 860, .gen = 1, .started_usec = MS(1500),
		    .want = N },
		{ MS(3499), 860, .gen = 1, .started_usec = MS(1500),
		    .want = N },
		{ MS(3500), 860, .gen = 1, .started_usec = MS(1500),
		    .want = R },
		END } },
};
/* clang-format on */

/* ---- misconfiguration and extremes ---- */

/* clang-format off */
static const struct pcase robust_cases[] = {
	{ "every level off: nothing, even at the top", { &all_off },
	    .steps = {
		{ MS(10000), UINT64_MAX, .want = N, .ep = EP_CLOSED },
		{ MS(10100), 0, .want = N, .ep = EP_CLOSED },
		END } },
	{ "metric at UINT64_MAX: kill", .steps = {
		{ MS(10000), UINT64_MAX, .want = K },
		END } },
	{ "kill below restart (misconfigured): kill at kill",
	    { &kill_low }, .steps = {
		{ MS(10000), 810, .want = K },
		END } },
	{ "gc above restart (misconfigured): gc first, then restart",
	    { &gc_high }, .steps = {
		{ MS(10000), 860, .want = G },
		{ MS(11000), 860, .want = R },
		END } },
	{ "every timing off: one gc ever, no restart, no grace kill; start-up never ends",
	    .tm = &timing_off, .steps = {
		{ MS(10000), 860, .want = G },
		{ MS(20000), 860, .want = N },
		{ MS(30000), 500, .want = N, .ep = EP_CLOSED },
		{ MS(40000), 860, .want = N },
		{ MS(40001), 960, .want = N },
		{ MS(40002), 500, F_FROZEN, .want = K },
		END } },
	{ "every timing off, even after UINT64_MAX usec", .tm = &timing_off,
	    .steps = {
		{ 0, 860, .want = G },
		{ UINT64_MAX, 860, .want = N },
		END } },
	{ "every timing zero: one action per call", .tm = &timing_zero,
	    .steps = {
		{ MS(10000), 860, .want = G },
		{ MS(10000), 860, .want = R },
		{ MS(10000), 860, .want = K },
		{ MS(10000), 860, .want = N },
		END } },
	{ "every level zero: kill", { &all_zero },
	    .steps = {
		{ MS(10000), 0, .want = K },
		END } },
	{ "everything off, frozen: nothing", { &all_off }, .tm = &timing_off,
	    .steps = {
		{ MS(10000), 860, F_FROZEN, .want = N },
		END } },
};
/* clang-format on */

/*
 * Long oscillations: the metric alternates between m_even and m_odd every
 * step_msec for 60 s from t = 10 s; want() gives the expected action and
 * episode for the step at t_msec after the start.
 */
struct osc {
	const char *name;
	struct policy_levels lv;
	uint64_t m_even_bytes, m_odd_bytes;
	uint64_t step_msec;
	void (*want)(uint64_t t_msec, bool even, struct step *s);
};

/* GC on every whole second (the cooldown), nothing else, one episode. */
static void
want_gc_each_second_open(uint64_t t_msec, bool even, struct step *s)
{
	(void)even;
	s->want = t_msec % 1000 == 0 ? G : N;
	s->ep = EP_OPEN;
}

/* The same GC rhythm while the episode ends and reopens on every swing. */
static void
want_gc_each_second_toggling(uint64_t t_msec, bool even, struct step *s)
{
	s->want = t_msec % 1000 == 0 ? G : N;
	s->ep = even ? EP_OPEN : EP_CLOSED;
}

/* GC on the swing up after min_interval (every other step): each one
 * took effect. */
static void
want_gc_each_swing_toggling(uint64_t t_msec, bool even, struct step *s)
{
	s->want = even ? G : N;
	s->ep = even ? EP_OPEN : EP_CLOSED;
	(void)t_msec;
}

/* GC every min_interval (100 ms), each one having taken effect. */
static void
want_gc_each_interval_open(uint64_t t_msec, bool even, struct step *s)
{
	(void)even;
	s->want = t_msec % 100 == 0 ? G : N;
	s->ep = EP_OPEN;
}

/* GC, restart one cooldown later, kill grace after that, then silence. */
static void
want_restart_then_kill(uint64_t t_msec, bool even, struct step *s)
{
	(void)even;
	s->want = t_msec == 0 ? G : t_msec == 1000 ? R : t_msec == 6000 ? K : N;
	s->ep = EP_OPEN;
}

static void
want_one_kill(uint64_t t_msec, bool even, struct step *s)
{
	(void)even;
	s->want = t_msec == 0 ? K : N;
	s->ep = EP_OPEN;
}

/* clang-format off */
static const struct osc osc_cases[] = {
	{ "jitter at the gc level", STD_LEVELS, 700, 699, 10,
	    want_gc_each_second_open },
	{ "jitter at the gc level with rearm off", { 700, 850, 950, OFF },
	    700, 699, 10, want_gc_each_second_toggling },
	{ "jitter at the restart level", STD_LEVELS, 850, 849, 10,
	    want_restart_then_kill },
	{ "swings across the whole band", STD_LEVELS, 860, 599, 100,
	    want_gc_each_swing_toggling },
	{ "jitter at the kill level", STD_LEVELS, 950, 949, 10,
	    want_one_kill },
	{ "swings between rearm and gc inside an episode", STD_LEVELS, 750, 600, 10,
	    want_gc_each_interval_open },
	{ "jitter above gc inside an episode", STD_LEVELS, 750, 720, 10,
	    want_gc_each_second_open },
};
/* clang-format on */

#define OSC_STEPS (60000 / 10)

START_TEST(test_oscillation)
{
	const struct osc *o = &osc_cases[_i];
	const struct policy_levels *lvs[2] = { &o->lv, &o->lv };
	static struct step steps[OSC_STEPS];
	size_t i, n = 60000 / o->step_msec;

	for (i = 0; i < n; i++) {
		uint64_t t_msec = i * o->step_msec;

		steps[i] = (struct step){ .t_usec = MS(10000 + t_msec),
			.m_bytes = i % 2 == 0 ? o->m_even_bytes : o->m_odd_bytes };
		o->want(t_msec, i % 2 == 0, &steps[i]);
	}
	run_steps(o->name, lvs, &std_timing, steps, n);
}
END_TEST

/*
 * Random walks with clock jumps, frozen samples, restarts and deaths,
 * checked against rules that must hold whatever the sequence: no action to
 * a dead target, one restart and one kill per generation, GC requests at
 * least a cooldown apart while the clock runs forward unless the last one
 * took effect (then at least min_interval, or the cooldown if shorter),
 * and nothing at all when every level is off. Under ASan/UBSan this is also the overflow test.
 */
static const struct policy_levels fuzz_levels[] = {
	STD_LEVELS,
	{ OFF, OFF, OFF, OFF },
	{ OFF, 850, 950, 600 },
	{ 700, 850, OFF, OFF },
	{ 900, 850, 800, 950 },
	{ 0, 0, 0, 0 },
};
static const struct policy_timing fuzz_timing[] = {
	{ MS(1000), MS(5000), MS(2000), MS(100) },
	{ 0, 0, 0, 0 },
	{ OFF, OFF, OFF, OFF },
	{ MS(1), OFF, 0, MS(1) },
	{ MS(1000), MS(5000), MS(2000), OFF },
};

static uint64_t
fuzz_rand(uint64_t *seed)
{
	/* splitmix64: fixed seed, so a failure reproduces. */
	uint64_t z = (*seed += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/*
 * The next sample: time mostly steps forward by up to 300 ms, the metric
 * walks by up to 30 bytes; sometimes either jumps anywhere.
 */
static void
fuzz_next(uint64_t *seed, struct policy_input *in, bool monotonic)
{
	uint64_t r = fuzz_rand(seed), walk = (r >> 8) % 61;

	if (r % 97 == 0 && !monotonic)
		in->now_usec = fuzz_rand(seed);
	else
		in->now_usec += r % MS(300);
	if (r % 61 == 0)
		in->metric_bytes =
		    fuzz_rand(seed) % 2 == 0 ? fuzz_rand(seed) : fuzz_rand(seed) % 1100;
	else if (in->metric_bytes > 1100)
		in->metric_bytes = 1100;
	else if (walk < 30)
		in->metric_bytes -= in->metric_bytes < 30 - walk ? in->metric_bytes : 30 - walk;
	else
		in->metric_bytes += walk - 30;
	in->frozen = (r >> 20) % 23 == 0;
	in->target_alive = (r >> 28) % 13 != 0;
	in->gc_allowed = (r >> 32) % 7 != 0;
	if ((r >> 36) % 41 == 0) {
		in->target_generation++;
		in->target_started_usec = in->now_usec;
	}
}

/* Whether a GC request at req_bytes took effect, the metric having been
 * as low as low_bytes since (docs/policy.md). */
static bool
fuzz_effect(const struct policy_levels *lv, uint64_t req_bytes, uint64_t low_bytes)
{
	if (low_bytes + req_bytes / 16 <= req_bytes)
		return true;
	return lv->rearm_bytes < lv->gc_bytes && req_bytes >= lv->rearm_bytes &&
	    low_bytes < lv->rearm_bytes;
}

/* Every levels and timing pair, once with a forward clock, once wild. */
#define FUZZ_COMBOS ((int)(NELEM(fuzz_levels) * NELEM(fuzz_timing)))

START_TEST(test_fuzz_invariants)
{
	const struct policy_levels *lv = &fuzz_levels[_i % NELEM(fuzz_levels)];
	const struct policy_timing *tm =
	    &fuzz_timing[(_i / NELEM(fuzz_levels)) % NELEM(fuzz_timing)];
	bool monotonic = _i < FUZZ_COMBOS,
	     levels_off = lv->gc_bytes == OFF && lv->restart_bytes == OFF && lv->kill_bytes == OFF;
	uint64_t seed = (uint64_t)_i, gc_last_usec = 0, req_bytes = 0, low_bytes = 0;
	unsigned restarts = 0, kills = 0, gcs = 0, seen[POLICY_KILL + 1] = { 0 };
	struct policy_input in = { .target_alive = true, .gc_allowed = true };
	struct policy_state st;
	int i;

	policy_init(&st);
	for (i = 0; i < 20000; i++) {
		uint64_t gen = in.target_generation;
		enum policy_action a;

		fuzz_next(&seed, &in, monotonic);
		if (!in.frozen && in.metric_bytes < low_bytes)
			low_bytes = in.metric_bytes;
		if (in.target_generation != gen)
			restarts = kills = 0;
		a = policy_eval(&st, lv, tm, &in);
		ck_assert_int_le(a, POLICY_KILL);
		seen[a]++;
		ck_assert(in.target_alive || a == N);
		ck_assert(!levels_off || a == N);
		restarts += a == R;
		kills += a == K;
		ck_assert_uint_le(restarts, 1);
		ck_assert_uint_le(kills, 1);
		if (a != G)
			continue;
		if (monotonic && gcs > 0 && tm->cooldown_usec != OFF)
			ck_assert_uint_ge(in.now_usec - gc_last_usec,
			    fuzz_effect(lv, req_bytes, low_bytes) &&
			            tm->min_interval_usec < tm->cooldown_usec
			        ? tm->min_interval_usec
			        : tm->cooldown_usec);
		gc_last_usec = in.now_usec;
		req_bytes = low_bytes = in.metric_bytes;
		gcs++;
	}
	ck_assert(tm->cooldown_usec != OFF || gcs <= 1);
	/* With the standard settings every action must have come up. */
	if (_i % FUZZ_COMBOS == 0)
		ck_assert(seen[G] > 0 && seen[R] > 0 && seen[K] > 0);
}
END_TEST

/* ---- the small things ---- */

START_TEST(test_action_names)
{
	ck_assert_str_eq(policy_action_name(POLICY_NONE), "none");
	ck_assert_str_eq(policy_action_name(POLICY_GC), "gc");
	ck_assert_str_eq(policy_action_name(POLICY_RESTART), "restart");
	ck_assert_str_eq(policy_action_name(POLICY_KILL), "kill");
	ck_assert_str_eq(policy_action_name((enum policy_action)42), "unknown");
}
END_TEST

START_TEST(test_init_forgets)
{
	struct policy_input in = {
		.now_usec = MS(10000), .metric_bytes = 960, .target_alive = true, .gc_allowed = true
	};
	struct policy_state st;

	policy_init(&st);
	ck_assert_int_eq(policy_eval(&st, &std_levels, &std_timing, &in), K);
	ck_assert_int_eq(policy_eval(&st, &std_levels, &std_timing, &in), N);
	policy_init(&st);
	ck_assert(!st.in_episode);
	ck_assert_int_eq(policy_eval(&st, &std_levels, &std_timing, &in), K);
}
END_TEST

#define TABLE_TEST(fn, table)                                                                      \
	START_TEST(fn)                                                                             \
	{                                                                                          \
		run_case(&(table)[_i]);                                                            \
	}                                                                                          \
	END_TEST

TABLE_TEST(test_gc, gc_cases)
TABLE_TEST(test_pacing, pacing_cases)
TABLE_TEST(test_escalate, escalate_cases)
TABLE_TEST(test_restart, restart_cases)
TABLE_TEST(test_grace, grace_cases)
TABLE_TEST(test_kill, kill_cases)
TABLE_TEST(test_rescue, rescue_cases)
TABLE_TEST(test_episode, episode_cases)
TABLE_TEST(test_clock, clock_cases)
TABLE_TEST(test_robust, robust_cases)

static void
add_tcase(Suite *s, const char *name, const TTest *fn, int n)
{
	TCase *tc = tcase_create(name);

	tcase_add_loop_test(tc, fn, 0, n);
	suite_add_tcase(s, tc);
}

static Suite *
policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("misc");

	add_tcase(s, "gc", test_gc, NELEM(gc_cases));
	add_tcase(s, "pacing", test_pacing, NELEM(pacing_cases));
	add_tcase(s, "escalate", test_escalate, NELEM(escalate_cases));
	add_tcase(s, "restart", test_restart, NELEM(restart_cases));
	add_tcase(s, "grace", test_grace, NELEM(grace_cases));
	add_tcase(s, "kill", test_kill, NELEM(kill_cases));
	add_tcase(s, "rescue", test_rescue, NELEM(rescue_cases));
	add_tcase(s, "episode", test_episode, NELEM(episode_cases));
	add_tcase(s, "clock", test_clock, NELEM(clock_cases));
	add_tcase(s, "robust", test_robust, NELEM(robust_cases));
	add_tcase(s, "oscillation", test_oscillation, NELEM(osc_cases));
	add_tcase(s, "fuzz", test_fuzz_invariants, 2 * FUZZ_COMBOS);
	tcase_add_test(tc, test_action_names);
	tcase_add_test(tc, test_init_forgets);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return suite_run(policy_suite());
}
