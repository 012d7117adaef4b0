/*
 * observe.c: the metrics endpoint's provider and the hooks, for the loop.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hook.h"
#include "listen.h"
#include "log.h"
#include "metrics.h"
#include "observe.h"

/* A hook to run after its event, once forking one is safe. Its info's
 * cgroup is taken again from the guard when it runs. */
struct observe_due {
	bool due;
	struct hook_info info;
};

struct observe_guard {
	struct guard *g;
	bool labelled; /* name and pod are its own, not the observe's name */
	char *name, *pod;
	struct observe_guard *next;
	uint64_t last_usec[METRICS_NACTIONS]; /* CLOCK_REALTIME */
	bool episode_told;                    /* the gc-episode hook ran for this episode */
	struct observe_due due[HOOK_NEVENTS];
};

struct observe {
	struct event_base *base;
	const struct config *cfg;
	const char *name;
	struct metrics *metrics;
	struct hook_set *hooks;
	struct observe_guard *guards;
};

static uint64_t
realtime_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static enum metrics_stage
stage_of(enum policy_action a)
{
	switch (a) {
	case POLICY_GC:
		return METRICS_STAGE_GC;
	case POLICY_RESTART:
		return METRICS_STAGE_RESTART;
	case POLICY_KILL:
		return METRICS_STAGE_KILL;
	default:
		return METRICS_STAGE_NONE;
	}
}

static uint64_t
level_or_off(uint64_t bytes)
{
	return bytes == POLICY_OFF ? UINT64_MAX : bytes;
}

/* The entry of g, or NULL. */
static struct observe_guard *
og_find(const struct observe *o, const struct guard *g)
{
	struct observe_guard *og = o->guards;

	while (og != NULL && og->g != g)
		og = og->next;
	return og;
}

/* The name og's series and hooks carry: its own (the agent's), else the
 * observe's (the unit). */
static const char *
og_name(const struct observe *o, const struct observe_guard *og)
{
	return og != NULL && og->labelled ? og->name : o->name;
}

/* The endpoint's provider: guard i's snapshot. */
static int
provide(void *arg, size_t i, struct metrics_guard *ret)
{
	struct observe *o = arg;
	struct observe_guard *og = o->guards;
	struct guard_status st;
	struct guard_view v;

	while (og != NULL && i-- > 0)
		og = og->next;
	if (og == NULL)
		return -ENOENT;
	st = guard_status(og->g);
	guard_view(og->g, &v);
	memset(ret, 0, sizeof(*ret));
	ret->cgroup = guard_dir(og->g);
	ret->name = og_name(o, og);
	ret->pod = og->pod;
	ret->metric = config_metric_name(v.metric);
	ret->stats = guard_stats(og->g);
	ret->limit_bytes = st.limit_bytes;
	ret->usage_bytes = v.usage_bytes;
	ret->metric_bytes = st.metric_bytes;
	ret->level_bytes[METRICS_LEVEL_GC] = level_or_off(st.levels.gc_bytes);
	ret->level_bytes[METRICS_LEVEL_RESTART] = level_or_off(st.levels.restart_bytes);
	ret->level_bytes[METRICS_LEVEL_KILL] = level_or_off(st.levels.kill_bytes);
	ret->level_bytes[METRICS_LEVEL_REARM] = level_or_off(st.levels.rearm_bytes);
	ret->stage = stage_of(v.stage);
	ret->has_events = v.has_events;
	ret->events[METRICS_EVENT_LOW] = v.events.low;
	ret->events[METRICS_EVENT_HIGH] = v.events.high;
	ret->events[METRICS_EVENT_MAX] = v.events.max;
	ret->events[METRICS_EVENT_OOM] = v.events.oom;
	ret->events[METRICS_EVENT_OOM_KILL] = v.events.oom_kill;
	ret->events[METRICS_EVENT_OOM_GROUP_KILL] = v.events.oom_group_kill;
	ret->has_psi = v.has_psi;
	ret->has_psi_full = v.has_psi_full;
	ret->psi_some_usec = v.psi_some_usec;
	ret->psi_full_usec = v.psi_full_usec;
	memcpy(ret->last_usec, og->last_usec, sizeof(ret->last_usec));
	return 0;
}

static void
metrics_open(struct observe *o)
{
	const struct metrics_provider p = { provide, o };
	struct listen_address a;
	char err[128], text[LISTEN_TEXT_MAX];
	int r;

	if (listen_parse(o->cfg->metrics_listen, &a, err, sizeof(err)) < 0 || a.family == AF_UNSPEC)
		return;
	listen_format(&a, text, sizeof(text));
	r = metrics_start(o->base, &a, &p, &o->metrics);
	if (r < 0)
		log_error(
		    "cannot serve metrics on %s: %s; going on without them", text, strerror(-r));
	else
		log_info("metrics: serving /metrics, /healthz and /status on %s", text);
}

struct observe *
observe_new(struct event_base *base, const struct config *cfg, const char *name)
{
	struct observe *o = calloc(1, sizeof(*o));

	if (o == NULL || (o->hooks = hook_set_new(base)) == NULL) {
		free(o);
		log_error("cannot set up the metrics and hooks: %s", strerror(ENOMEM));
		return NULL;
	}
	o->base = base;
	o->cfg = cfg;
	o->name = name;
	metrics_open(o);
	return o;
}

static void
observe_guard_free(struct observe_guard *og)
{
	free(og->name);
	free(og->pod);
	free(og);
}

void
observe_free(struct observe *o)
{
	if (o == NULL)
		return;
	metrics_stop(o->metrics);
	hook_set_free(o->hooks);
	while (o->guards != NULL) {
		struct observe_guard *og = o->guards;

		o->guards = og->next;
		observe_guard_free(og);
	}
	free(o);
}

static void
guard_link(struct observe *o, struct observe_guard *og, struct guard *g)
{
	og->g = g;
	og->next = o->guards;
	o->guards = og;
}

int
observe_guard_add(struct observe *o, struct guard *g)
{
	struct observe_guard *og = calloc(1, sizeof(*og));

	if (og == NULL)
		return -ENOMEM;
	guard_link(o, og, g);
	return 0;
}

int
observe_guard_add_labelled(struct observe *o, struct guard *g, const char *name, const char *pod)
{
	struct observe_guard *og = calloc(1, sizeof(*og));

	if (og == NULL)
		return -ENOMEM;
	og->labelled = true;
	og->name = name != NULL ? strdup(name) : NULL;
	og->pod = pod != NULL ? strdup(pod) : NULL;
	if ((name != NULL && og->name == NULL) || (pod != NULL && og->pod == NULL)) {
		observe_guard_free(og);
		return -ENOMEM;
	}
	guard_link(o, og, g);
	return 0;
}

void
observe_guard_remove(struct observe *o, struct guard *g)
{
	for (struct observe_guard **p = &o->guards; *p != NULL; p = &(*p)->next) {
		if ((*p)->g == g) {
			struct observe_guard *og = *p;

			*p = og->next;
			observe_guard_free(og);
			return;
		}
	}
}

void
observe_reconfigure(struct observe *o, const struct config *cfg)
{
	if (strcmp(o->cfg->metrics_listen, cfg->metrics_listen) != 0)
		log_warn("[metrics] listen is now %s: that takes effect when oomguard restarts",
		    cfg->metrics_listen);
	o->cfg = cfg;
}

/* Run the hook for info now, done(arg) told at its end. Return 0, or
 * -errno (logged) when it was not started. */
static int
hook_start(struct observe *o, const struct hook_info *info, hook_done_fn done, void *arg)
{
	int r = hook_run(o->hooks, o->cfg->hook_exec, info, o->cfg->hook_timeout_usec, done, arg);

	if (r == -EBUSY)
		log_warn("hook %s: not run: %d hooks are running already",
		    config_hook_event_name(info->event), HOOK_RUNNING_MAX);
	else if (r < 0)
		log_warn("hook %s: cannot run %s: %s", config_hook_event_name(info->event),
		    o->cfg->hook_exec, strerror(-r));
	return r;
}

static struct hook_info
info_for(const struct observe *o, struct guard *g, enum hook_event e)
{
	struct guard_status st = guard_status(g);
	struct guard_view v;
	struct hook_info info = { .event = e,
		.cgroup = guard_dir(g),
		.name = og_name(o, og_find(o, g)),
		.metric_bytes = st.metric_bytes,
		.limit_bytes = st.limit_bytes,
		.dry_run = o->cfg->dry_run };

	guard_view(g, &v);
	info.pid = v.target_pid;
	/* The guard's own level and signal: a container's labels may set them. */
	if (e == HOOK_GC_EPISODE) {
		info.level_bytes = st.levels.gc_bytes;
		info.signo = v.gc_signal;
	} else if (e == HOOK_RESTART) {
		info.level_bytes = st.levels.restart_bytes;
		info.signo = v.restart_signal;
	} else if (e == HOOK_KILL) {
		info.level_bytes = st.levels.kill_bytes;
		info.signo = SIGKILL;
	}
	return info;
}

/* The hook of a restart or kill. */
static struct hook_info
info_action(const struct observe *o, struct guard *g, enum policy_action a)
{
	return info_for(o, g, a == POLICY_RESTART ? HOOK_RESTART : HOOK_KILL);
}

int
observe_hook_before(struct observe *o, struct guard *g, const struct guard_result *res,
    hook_done_fn done, void *arg)
{
	struct hook_info info = info_action(o, g, res->held);

	info.before = true;
	return hook_start(o, &info, done, arg);
}

/* Run the hooks due, now that forking one is safe. */
static void
hooks_due(struct observe *o, struct observe_guard *og)
{
	for (int e = 0; e < HOOK_NEVENTS; e++) {
		if (!og->due[e].due)
			continue;
		og->due[e].due = false;
		/* The guard's strings as they are now: a guard that located
		 * another cgroup since has freed the ones the event saw. */
		og->due[e].info.cgroup = guard_dir(og->g);
		(void)hook_start(o, &og->due[e].info, NULL, NULL);
	}
}

/* The hook for info after its event: due, run at once where safe. */
static void
hook_after(struct observe *o, struct observe_guard *og, const struct hook_info *info)
{
	if (config_hook_wanted(o->cfg, info->event))
		og->due[info->event] = (struct observe_due){ true, *info };
}

void
observe_sampled(struct observe *o, struct guard *g, const struct guard_result *res)
{
	struct observe_guard *og = og_find(o, g);
	struct guard_view v;
	struct hook_info info;
	uint64_t now = realtime_usec();

	if (og == NULL || !res->sampled)
		return;
	guard_view(g, &v);
	if (v.stage == POLICY_NONE)
		og->episode_told = false;
	if (res->rescue) {
		og->last_usec[METRICS_ACTION_RESCUE] = now;
		info = info_for(o, g, HOOK_RESCUE);
		hook_after(o, og, &info);
	}
	switch (res->action) {
	case POLICY_GC:
		og->last_usec[METRICS_ACTION_GC] = now;
		if (!og->episode_told && !res->rescue) {
			og->episode_told = true;
			info = info_for(o, g, HOOK_GC_EPISODE);
			hook_after(o, og, &info);
		}
		break;
	case POLICY_RESTART:
	case POLICY_KILL:
		og->last_usec[res->action == POLICY_RESTART ? METRICS_ACTION_RESTART
		                                            : METRICS_ACTION_KILL] = now;
		/* A hook held before the signal has run already. */
		if (!res->after_hold) {
			info = info_action(o, g, res->action);
			hook_after(o, og, &info);
		}
		break;
	default:
		break;
	}
	if (res->hook_safe)
		hooks_due(o, og);
}
