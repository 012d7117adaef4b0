/*
 * guard_notify.c: the kernel's notifications on a guard's cgroup: v1
 * threshold eventfds at the levels, the v1 OOM eventfd, inotify on the v2
 * memory.events, the PSI trigger (or its averages read on each sample),
 * and the descriptors listed for the caller's loop. notify.c and psi.c
 * register and read; this file keeps the guard's descriptors and logs.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "guard.h"
#include "guard_state.h"
#include "log.h"
#include "notify.h"
#include "psi.h"
#include "units.h"

static void
thresholds_clear(struct guard *g)
{
	for (int i = 0; i < GUARD_THRESHOLDS; i++) {
		if (g->thr_fd[i] >= 0) {
			close(g->thr_fd[i]);
			g->fds_gen++;
		}
		g->thr_fd[i] = -1;
	}
}

void
guard_notify_thresholds(struct guard *g)
{
	const uint64_t want[GUARD_THRESHOLDS] = { g->levels.gc_bytes, g->levels.restart_bytes,
		g->levels.kill_bytes };

	if (g->cg.version != 1 || g->thr_failed)
		return;
	thresholds_clear(g);
	for (int i = 0; i < GUARD_THRESHOLDS; i++) {
		int fd;

		if (want[i] == POLICY_OFF)
			continue;
		fd = notify_v1_threshold(g->cg.dir, want[i]);
		if (fd < 0) {
			log_info(
			    "cannot register v1 threshold notifications on %s: %s; polling carries "
			    "the load",
			    g->cg.dir, strerror(-fd));
			g->thr_failed = true;
			thresholds_clear(g);
			return;
		}
		g->thr_fd[i] = fd;
		g->fds_gen++;
	}
}

/* The v1 OOM eventfd, or the v2 memory.events inotify. */
static void
events_open(struct guard *g)
{
	if (g->cg.version == 1) {
		g->oom_fd = notify_v1_oom(g->cg.dir);
		if (g->oom_fd < 0)
			log_info("cannot register the v1 OOM notification on %s: %s; polling "
			         "memory.oom_control instead",
			    g->cg.dir, strerror(-g->oom_fd));
		return;
	}
	g->events_fd = notify_v2_events(g->cg.dir);
	if (g->events_fd < 0)
		log_info("cannot watch %s/memory.events with inotify: %s; polling instead",
		    g->cg.dir, strerror(-g->events_fd));
}

void
guard_notify_open(struct guard *g)
{
	char t[64];
	int r;

	events_open(g);
	g->fds_gen++;
	/* Read on each sample: the averages where a trigger is refused, and
	 * the full total near the limit (rescue). */
	g->psi_polling = false;
	if (g->cg.psi_file[0] != '\0')
		g->psi_rd_fd = open(g->cg.psi_file, O_RDONLY | O_CLOEXEC);
	if (!g->cfg->psi.enabled)
		return;
	config_psi_format(&g->cfg->psi, t, sizeof(t));
	if (g->cg.psi_file[0] == '\0') {
		log_info("no memory pressure file for %s; psi trigger \"%s\" unused", g->cg.dir, t);
		return;
	}
	r = psi_trigger_open(g->cg.psi_file, &g->cfg->psi, &g->psi_epfd, &g->psi_fd);
	if (r < 0) {
		log_info("the kernel refused psi trigger \"%s\" on %s: %s; reading the averages on "
		         "the poll timer instead",
		    t, g->cg.psi_file, strerror(-r));
		g->psi_polling = g->psi_rd_fd >= 0;
	}
}

void
guard_notify_close(struct guard *g)
{
	int *fds[] = { &g->oom_fd, &g->events_fd, &g->psi_epfd, &g->psi_fd, &g->psi_rd_fd };

	thresholds_clear(g);
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
	g->fds_gen++;
}

int
guard_fds(const struct guard *g, struct guard_fd *ret, int max)
{
	struct guard_fd all[GUARD_FDS_MAX];
	int n = 0;

	for (int i = 0; i < GUARD_THRESHOLDS; i++)
		if (g->thr_fd[i] >= 0)
			all[n++] = (struct guard_fd){ g->thr_fd[i], GUARD_FD_THRESHOLD };
	if (g->oom_fd >= 0)
		all[n++] = (struct guard_fd){ g->oom_fd, GUARD_FD_OOM };
	if (g->events_fd >= 0)
		all[n++] = (struct guard_fd){ g->events_fd, GUARD_FD_EVENTS };
	if (g->psi_epfd >= 0)
		all[n++] = (struct guard_fd){ g->psi_epfd, GUARD_FD_PSI };
	/* The child's end is the entrypoint's SIGCHLD; an attached target's
	 * is its pidfd turning readable. */
	if (g->has_target && g->p.main != GUARD_MAIN_APP && g->target.pidfd >= 0)
		all[n++] = (struct guard_fd){ g->target.pidfd, GUARD_FD_TARGET };
	if (n > max)
		n = max;
	memcpy(ret, all, (size_t)n * sizeof(all[0]));
	return n;
}

unsigned
guard_fds_generation(const struct guard *g)
{
	return g->fds_gen;
}

const char *
guard_fd_name(enum guard_fd_kind kind)
{
	switch (kind) {
	case GUARD_FD_THRESHOLD:
		return "threshold";
	case GUARD_FD_OOM:
		return "oom";
	case GUARD_FD_EVENTS:
		return "memory.events";
	case GUARD_FD_PSI:
		return "psi";
	default:
		return "target";
	}
}

/* Memory pressure (a PSI trigger fired, or the averages passed its rate):
 * look closely for the trigger's window. Return whether it is new (logged
 * after the sample's act: it may be a rescue). */
static bool
pressure(struct guard *g, uint64_t now)
{
	bool fresh = now >= g->pressure_until_usec;

	g->pressure_until_usec = now + g->cfg->psi.window_usec;
	return fresh;
}

bool
guard_notify_psi_poll(struct guard *g, uint64_t now)
{
	struct psi_stats st;

	return g->psi_polling && psi_pread(g->psi_rd_fd, &st) == 0 && psi_over(&st, &g->cfg->psi) &&
	    pressure(g, now);
}

int
guard_notified(struct guard *g, enum guard_fd_kind kind, uint64_t now)
{
	int r;

	switch (kind) {
	case GUARD_FD_TARGET:
		if (g->has_target && g->p.main != GUARD_MAIN_APP) {
			log_info("the target (pid %d) has ended; no main target left",
			    (int)g->target_pid);
			guard_target_clear(g);
		}
		return 0;
	case GUARD_FD_PSI:
		if (g->psi_epfd < 0)
			return 0;
		r = psi_trigger_consume(g->psi_epfd);
		if (r == -ENODEV) {
			guard_unwatch(g);
			return -ENODEV;
		}
		/* libevent's own epoll already took the kernel's one-shot
		 * event when it found this descriptor readable, so readiness
		 * is the firing. */
		if (pressure(g, now))
			g->pressure_new = "psi trigger";
		return g->watching ? 1 : 0;
	case GUARD_FD_OOM:
		if (g->oom_fd >= 0)
			notify_drain(g->oom_fd);
		break;
	case GUARD_FD_EVENTS:
		if (g->events_fd >= 0)
			notify_drain(g->events_fd);
		break;
	default:
		for (int i = 0; i < GUARD_THRESHOLDS; i++)
			if (g->thr_fd[i] >= 0)
				notify_drain(g->thr_fd[i]);
		break;
	}
	return g->watching ? 1 : 0;
}

/*
 * About to freeze: usage within the reserve of the limit while the full
 * stall time of the pressure file grows (every task of the cgroup waiting
 * on memory). Only a held reserve makes it worth knowing; the pressure
 * file is read only that close to the limit.
 */
bool
guard_notify_about_to_freeze(struct guard *g, const struct memcg_sample *s, uint64_t limit_bytes)
{
	struct psi_stats st;
	bool rising;

	/* The whole system's pressure (a hybrid host whose unified tree has
	 * oomguard at its root, a container) says nothing of this cgroup. */
	if (!g->rescue.held || limit_bytes == 0 || g->psi_rd_fd < 0 || g->cg.psi_system ||
	    s->usage_bytes + g->rescue.bytes < limit_bytes) {
		g->psi_full_usec = 0;
		return false;
	}
	if (psi_pread(g->psi_rd_fd, &st) < 0 || !st.has_full)
		return false;
	rising = g->psi_full_usec != 0 && st.full.total_usec > g->psi_full_usec;
	g->psi_full_usec = st.full.total_usec;
	return rising;
}
