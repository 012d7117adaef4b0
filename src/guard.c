/*
 * guard.c: a guard's life (made, pointed at a cgroup, reconfigured,
 * freed) and its main target (who it is, held open, its exec gate). The
 * path of a sample is guard_sample.c's, the kernel's notifications
 * guard_notify.c's, the acting respond.c's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cgroup.h"
#include "guard.h"
#include "guard_state.h"
#include "psi.h"
#include "log.h"
#include "respond.h"

uint64_t
guard_now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* The timings and the polling bounds of cfg. */
static void
take_config(struct guard *g, const struct config *cfg)
{
	g->cfg = cfg;
	g->timing = (struct policy_timing){ cfg->gc_cooldown_usec, cfg->restart_grace_usec,
		cfg->restart_startup_usec, cfg->gc_min_interval_usec };
	g->sched = (struct schedule_params){ cfg->poll_min_usec, cfg->poll_max_usec,
		cfg->max_growth_bytes };
}

struct guard *
guard_new(const struct config *cfg, const struct guard_params *p)
{
	struct guard *g = calloc(1, sizeof(*g));

	if (g == NULL)
		return NULL;
	g->p = *p;
	g->oom_fd = g->events_fd = g->psi_epfd = g->psi_fd = g->psi_rd_fd = -1;
	for (int i = 0; i < GUARD_THRESHOLDS; i++)
		g->thr_fd[i] = -1;
	g->mem.usage_fd = -1;
	g->target_pidfd = -1;
	action_target_init(&g->target);
	g->rescue.limit_fd = g->rescue.memsw_fd = -1;
	take_config(g, cfg);
	policy_init(&g->policy);
	episode_init(&g->gc_log);
	return g;
}

void
guard_free(struct guard *g)
{
	if (g == NULL)
		return;
	if (g->watching)
		knob_high_restore(&g->knob);
	guard_unwatch(g);
	action_target_close(&g->target);
	rescue_close(&g->rescue);
	cgroup_free(&g->cg);
	free(g);
}

/* Find the cgroup and open its memory files. Return 0 or -errno, logged
 * unless quiet. */
static int
locate(struct guard *g, const char *path, pid_t pid, bool quiet)
{
	struct cgroup cg;
	int r;

	/* A unit's memory cgroup is its main process's: on v1 it may differ
	 * from the ControlGroup systemd names (no memory accounting). */
	if (pid > 0 || strcmp(path, "self") == 0)
		r = cgroup_find_pid(g->p.proc_root, g->p.fs_root, pid, &cg);
	else
		r = cgroup_find_path(g->p.proc_root, g->p.fs_root, path, &cg);
	if (r < 0) {
		if (!quiet)
			log_error("cannot locate the memory cgroup %s: %s", path, strerror(-r));
		return r;
	}
	/* The same cgroup again keeps its strings, which others may point at. */
	if (cgroup_same(&cg, &g->cg)) {
		cgroup_free(&cg);
	} else {
		cgroup_free(&g->cg);
		g->cg = cg;
	}
	r = memcg_open(&g->mem, g->cg.dir, g->cg.version, memcg_host_ram(g->p.proc_root));
	if (r < 0) {
		if (!quiet)
			log_error(
			    "cannot open the memory files of %s: %s", g->cg.dir, strerror(-r));
		return r;
	}
	g->actx = (struct action_ctx){ g->p.proc_root, g->cg.dir, g->cg.path, g->cg.version };
	knob_init(&g->knob, g->cg.dir, g->cg.version, g->mem.host_ram_bytes);
	log_info("watching %s (cgroup v%d, %s host), metric %s", g->cg.dir, g->cg.version,
	    cgroup_layout_name(g->cg.layout), config_metric_name(g->cfg->metric));
	return 0;
}

int
guard_watch(struct guard *g, const char *path, pid_t pid, bool quiet)
{
	int r;

	guard_unwatch(g);
	r = locate(g, path, pid, quiet);
	if (r < 0)
		return r;
	g->watching = true;
	g->have_sample = false;
	g->levels_set = false;
	g->thr_failed = false;
	/* A cgroup made anew starts afresh: no episode carried over from
	 * the old one, whose usage ended with its processes. */
	policy_init(&g->policy);
	g->held = POLICY_NONE;
	g->reserve_taken = false;
	g->psi_full_usec = 0;
	g->read_errno = 0;
	g->events = (struct inputs_events){ 0 };
	guard_notify_open(g);
	respond_reserve_open(g);
	return 0;
}

void
guard_unwatch(struct guard *g)
{
	if (!g->watching)
		return;
	g->watching = false;
	guard_notify_close(g);
	memcg_close(&g->mem);
}

bool
guard_watching(const struct guard *g)
{
	return g->watching;
}

const char *
guard_dir(const struct guard *g)
{
	return g->cg.dir != NULL ? g->cg.dir : "";
}

void
guard_reconfigure(struct guard *g, const struct config *cfg)
{
	const struct config *old = g->cfg;

	if (g->watching && memcmp(&old->watch_high, &cfg->watch_high, sizeof(cfg->watch_high)))
		knob_high_restore(&g->knob);
	take_config(g, cfg);
	g->levels_set = false;
	knob_reclaim_again(&g->knob);
	if (!g->watching)
		return;
	guard_notify_close(g);
	guard_notify_open(g);
	if (old->reserve_mode != cfg->reserve_mode ||
	    memcmp(&old->reserve_size, &cfg->reserve_size, sizeof(cfg->reserve_size)))
		respond_reserve_open(g);
}

/* A new main target: a new generation for the policy, its handler not
 * yet found missing, counted. */
static void
target_new(struct guard *g, pid_t pid, uint64_t started_usec)
{
	guard_target_clear(g);
	g->generation++;
	g->target_pid = pid;
	g->target_started_usec = started_usec;
	g->handler_warned = false;
	g->stats.app_starts++;
}

void
guard_target_set(struct guard *g, const struct guard_target *t)
{
	int r;

	target_new(g, t->pid, t->started_usec);
	g->has_target = true;
	g->target_pidfd = t->pidfd;
	g->target_execed = t->execed;
	r = action_target_open(g->p.proc_root, t->pid, t->pidfd, &g->target);
	if (r < 0)
		log_warn("cannot hold %s/%d open: %s; its checks will open files as they go",
		    g->p.proc_root, (int)t->pid, strerror(-r));
	if (g->levels_set)
		knob_high_again(
		    &g->knob, &g->cfg->watch_high, g->limit_bytes, g->levels.restart_bytes);
}

int
guard_target_attach(struct guard *g, pid_t pid)
{
	int r;

	target_new(g, pid, guard_now_usec());
	r = action_target_open(g->p.proc_root, pid, -1, &g->target);
	if (r == 0)
		r = action_in_cgroup(&g->actx, pid);
	if (r <= 0) {
		log_error("cannot take pid %d as the target: %s", (int)pid,
		    r == 0 ? "it is not in the watched cgroup" : strerror(-r));
		action_target_close(&g->target);
		return r == 0 ? -EXDEV : r;
	}
	/* Its exec cannot be seen: a process taken as it runs counts as
	 * having exec'd, its handlers as its program's. */
	g->has_target = true;
	g->target_execed = true;
	g->fds_gen++;
	log_info("target: pid %d", (int)pid);
	return 0;
}

bool
guard_has_target(const struct guard *g)
{
	return g->has_target;
}

void
guard_target_clear(struct guard *g)
{
	if (g->has_target && g->target.pidfd >= 0 && g->p.main != GUARD_MAIN_APP)
		g->fds_gen++;
	action_target_close(&g->target);
	g->has_target = false;
	g->target_pidfd = -1;
	g->target_execed = false;
}

void
guard_quiesce(struct guard *g)
{
	g->quiesced = true;
}

struct guard_status
guard_status(const struct guard *g)
{
	return (struct guard_status){ g->watching, g->have_sample, g->metric_bytes, g->limit_bytes,
		g->levels };
}

void
guard_view(const struct guard *g, struct guard_view *ret)
{
	const struct policy_state *p = &g->policy;
	struct psi_stats psi;

	memset(ret, 0, sizeof(*ret));
	ret->usage_bytes = g->have_sample ? g->sample.usage_bytes : 0;
	ret->target_pid = g->has_target ? g->target_pid : 0;
	ret->metric = g->cfg->metric;
	ret->gc_signal = g->cfg->gc_signal;
	ret->restart_signal = g->cfg->restart_signal;
	if (p->in_episode)
		ret->stage = p->target_kill_sent                 ? POLICY_KILL
		    : p->restart_fired || p->target_restart_sent ? POLICY_RESTART
		                                                 : POLICY_GC;
	ret->has_events = g->have_sample && g->sample.has_events;
	ret->events = g->sample.events;
	if (g->psi_rd_fd >= 0 && !g->cg.psi_system && psi_pread(g->psi_rd_fd, &psi) == 0) {
		ret->has_psi = true;
		ret->psi_some_usec = psi.some.total_usec;
		ret->has_psi_full = psi.has_full;
		ret->psi_full_usec = psi.full.total_usec;
	}
}

const struct stats *
guard_stats(const struct guard *g)
{
	return &g->stats;
}
