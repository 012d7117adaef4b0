/*
 * mode_target.c: the mode of a watch without an app and without a unit:
 * a cgroup (--cgroup), with a process in it as the main target (--pid).
 * The guard holds the target and notices its end (GUARD_FD_TARGET); this
 * file points the guard at the cgroup, attaches the target once, and ends
 * oomguard when the cgroup goes away.
 */
#include <stdlib.h>

#include "guard.h"
#include "log.h"
#include "mode_target.h"

struct mode_target {
	struct mode m; /* first: the loop holds &m */
	const char *cgroup;
	pid_t pid;
};

static struct mode_target *
target_of(struct mode *m)
{
	return (struct mode_target *)m;
}

static int
target_open(struct mode *m)
{
	struct mode_target *t = target_of(m);

	return guard_watch(m->g, t->cgroup, t->pid, false);
}

static int
target_begin(struct mode *m)
{
	struct mode_target *t = target_of(m);

	if (t->pid > 0 && guard_target_attach(m->g, t->pid) < 0)
		return -1;
	return 0;
}

static void
target_sampled(struct mode *m, const struct guard_result *r)
{
	(void)m;
	(void)r;
}

/* Without an app there is nothing left to do. */
static int
target_gone(struct mode *m, const char *why)
{
	log_info("%s (%s); exiting", why, guard_dir(m->g));
	return 0;
}

static int
target_stop(struct mode *m, int sig)
{
	(void)m;
	(void)sig;
	return 0;
}

static void
target_free(struct mode *m)
{
	free(target_of(m));
}

static const struct mode_ops target_ops = {
	.open = target_open,
	.begin = target_begin,
	.sampled = target_sampled,
	.gone = target_gone,
	.stop = target_stop,
	.signal = mode_signal_no_app,
	.child = mode_reap_orphans,
	.free = target_free,
};

struct mode *
mode_target_new(const char *cgroup, pid_t pid, const struct mode_host *host, struct guard *g)
{
	struct mode_target *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->m = (struct mode){ &target_ops, host, g };
	t->cgroup = cgroup;
	t->pid = pid;
	return &t->m;
}
