/*
 * agent.c: the host agent's loop. It owns the libevent base, one entry
 * per guarded container or cgroup (its configuration, its guard, the
 * events of the guard's descriptors and its own timer), the shared idle
 * timer, the signals, and the Engine client and the cgroup watch that
 * tell it which entries to make and drop. Every guard call is made with
 * the entry's name as the log's scope, so that each line says whose it
 * is.
 */
#include <errno.h>
#include <event2/event.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "cgroup.h"
#include "cgscan.h"
#include "docker.h"
#include "file.h"
#include "guard.h"
#include "guard_events.h"
#include "labels.h"
#include "log.h"
#include "rescue.h"
#include "service.h"

/* make static leaves the Engine client (libcurl) out: --docker then
 * fails at start-up, --cgroups works. */
#ifndef OOMGUARD_DOCKER
#define OOMGUARD_DOCKER 1
#endif

/* One guarded container or cgroup. */
struct entry {
	struct agent *a;
	char *key;          /* a container's id, or a cgroup's path under the root */
	char *name;         /* what the log calls it */
	struct config *cfg; /* the file's configuration with its labels or pattern over
	                     * it, shared with the entries that have the same */
	pid_t pid;          /* a container's PID 1 as the host sees it; 0 for a cgroup */
	struct guard *g;
	struct event *timer;        /* its next sample, when sooner than the idle tick */
	bool idle;                  /* sampled by the idle tick */
	struct guard_events events; /* its descriptors' */
	struct entry *next;
	char text[]; /* key and name */
};

/* A configuration shared by the entries whose configurations are equal
 * (every cgroup of one pattern, every container without labels): one
 * copy for them all, locked in memory once, freed with the last. */
struct shared_config {
	struct config cfg; /* first: an entry's cfg points here */
	size_t refs;
};

struct agent {
	const struct config *cfg;
	const struct agent_opts *o;
	struct event_base *base;
	struct entry *entries;
	struct event *idle_tick;
	struct event *sig_ev[3];
	struct docker *docker;
	struct cgscan *scan;
	char root[PATH_MAX]; /* the memory hierarchy's mount point, for --cgroups */
	const char *globs[AGENT_CGROUPS_MAX];
	size_t pattern_of[AGENT_CGROUPS_MAX]; /* the [pattern.NAME] of each glob, or SIZE_MAX */
	size_t nglobs;
};

/* ---- an entry's configuration ---- */

/* The shared copy of cfg: an entry's equal to it, or a new one. Equal
 * means the same bytes: a difference in padding only costs a copy.
 * Return it, or NULL without memory. */
static struct config *
config_share(struct agent *a, const struct config *cfg)
{
	struct shared_config *s;

	for (struct entry *e = a->entries; e != NULL; e = e->next) {
		if (memcmp(e->cfg, cfg, sizeof(*cfg)) == 0) {
			((struct shared_config *)e->cfg)->refs++;
			return e->cfg;
		}
	}
	s = malloc(sizeof(*s));
	if (s == NULL)
		return NULL;
	memcpy(&s->cfg, cfg, sizeof(*cfg));
	s->refs = 1;
	return &s->cfg;
}

/* Drop an entry's hold on a configuration from config_share(). */
static void
config_unshare(struct config *cfg)
{
	struct shared_config *s = (struct shared_config *)cfg;

	if (s != NULL && --s->refs == 0)
		free(s);
}

/* ---- an entry's events ---- */

static void
entry_destroy(struct entry *e)
{
	guard_events_free(&e->events);
	if (e->timer != NULL)
		event_free(e->timer);
	log_scope(e->name);
	guard_free(e->g);
	log_scope(NULL);
	config_unshare(e->cfg);
	free(e);
}

static void
entry_free(struct entry *e)
{
	struct entry **p;

	for (p = &e->a->entries; *p != NULL; p = &(*p)->next) {
		if (*p == e) {
			*p = e->next;
			break;
		}
	}
	entry_destroy(e);
}

/* Sample e now and schedule the next: on its own timer when sooner than
 * poll_max, else with the idle tick. Return false when its cgroup is gone
 * (e is freed then). */
static bool
entry_sample(struct entry *e, const char *why)
{
	struct guard_result res;

	log_scope(e->name);
	res = guard_sample(e->g, guard_now_usec(), why);
	guard_events_sync(&e->events);
	log_scope(NULL);
	if (res.gone != NULL) {
		log_info("%s: %s; no longer guarded", e->name, res.gone);
		entry_free(e);
		return false;
	}
	e->idle = res.next_usec == 0 || res.next_usec >= e->cfg->poll_max_usec;
	if (e->idle) {
		event_del(e->timer);
	} else {
		struct timeval tv = { (time_t)(res.next_usec / 1000000),
			(suseconds_t)(res.next_usec % 1000000) };

		event_add(e->timer, &tv);
	}
	return true;
}

/* One of the entry's guard's descriptors turned readable
 * (guard_events.c). */
static void
fd_cb(void *owner, enum guard_fd_kind kind)
{
	struct entry *e = owner;
	int r;

	log_scope(e->name);
	r = guard_notified(e->g, kind, guard_now_usec());
	guard_events_sync(&e->events);
	log_scope(NULL);
	if (r == -ENODEV) {
		log_info("%s: its cgroup went away; no longer guarded", e->name);
		entry_free(e);
	} else if (r > 0) {
		(void)entry_sample(e, guard_fd_name(kind));
	}
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)entry_sample(arg, "poll");
}

/* Every idle guard, sampled together: one wake-up per poll_max for all. */
static void
idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct agent *a = arg;
	struct entry *e, *next;

	(void)fd;
	(void)what;
	for (e = a->entries; e != NULL; e = next) {
		next = e->next;
		if (e->idle)
			(void)entry_sample(e, "poll");
	}
}

static struct entry *
entry_find(struct agent *a, const char *key)
{
	for (struct entry *e = a->entries; e != NULL; e = e->next) {
		if (strcmp(e->key, key) == 0)
			return e;
	}
	return NULL;
}

/* Make an entry for key, watching the cgroup of pid (> 0) or else the
 * directory dir, with cfg; pid its main target when cfg's target is main
 * (and pid > 0). Return it (sampled once), or NULL (logged). */
static struct entry *
entry_add(struct agent *a, const char *key, const char *name, const struct config *cfg,
    const char *dir, pid_t pid)
{
	struct guard_params p = { a->o->proc_root, a->o->fs_root,
		pid > 0 && cfg->target == TARGET_MAIN ? GUARD_MAIN_PID : GUARD_MAIN_NONE };
	size_t klen = strlen(key) + 1, nlen = strlen(name) + 1;
	struct entry *e = calloc(1, sizeof(*e) + klen + nlen);
	int r = -ENOMEM;

	if (e == NULL || (e->cfg = config_share(a, cfg)) == NULL) {
		log_error("%s: cannot guard it: %s", name, strerror(ENOMEM));
		free(e);
		return NULL;
	}
	e->a = a;
	e->key = memcpy(e->text, key, klen);
	e->name = memcpy(e->text + klen, name, nlen);
	e->timer = evtimer_new(a->base, timer_cb, e);
	e->g = e->timer != NULL ? guard_new(e->cfg, &p) : NULL;
	log_scope(e->name);
	if (e->g != NULL)
		r = guard_watch(e->g, dir, pid, false);
	if (r == 0 && p.main == GUARD_MAIN_PID)
		r = guard_target_attach(e->g, pid);
	log_scope(NULL);
	if (r < 0) {
		log_error("%s: cannot guard it (%s); left unguarded", name, strerror(-r));
		if (e->g != NULL)
			guard_free(e->g);
		if (e->timer != NULL)
			event_free(e->timer);
		config_unshare(e->cfg);
		free(e);
		return NULL;
	}
	guard_events_init(&e->events, a->base, e->g, fd_cb, e);
	e->next = a->entries;
	a->entries = e;
	return entry_sample(e, "start") ? e : NULL;
}

/* ---- containers (docker.c) ---- */
#if OOMGUARD_DOCKER

static void
container_seen(const struct dockerjson_container *c, void *arg)
{
	struct agent *a = arg;
	struct entry *e = entry_find(a, c->id);
	char err[CONFIG_ERR_MAX], name[DOCKERJSON_NAME_MAX + 16];
	struct config *cfg;
	int r;

	/* Restarted while the engine was away: a new PID 1, and with the
	 * cgroupfs driver a new cgroup: guarded afresh. */
	if (e != NULL && e->pid != c->pid) {
		entry_free(e);
		e = NULL;
	}
	if (e != NULL) {
		/* docker update, or the engine back: its limit is read anew
		 * at once, its levels follow within this sample. */
		(void)entry_sample(e, "docker update");
		return;
	}
	r = labels_enabled(c, err, sizeof(err));
	if (r <= 0) {
		if (r < 0)
			log_error("container %s: %s; left unguarded", c->name, err);
		return;
	}
	cfg = malloc(sizeof(*cfg));
	if (cfg == NULL)
		return;
	if (labels_apply(a->cfg, c, cfg, err, sizeof(err)) < 0) {
		log_error("container %s: %s; left unguarded", c->name, err);
		free(cfg);
		return;
	}
	snprintf(name, sizeof(name), "container %s", c->name);
	e = entry_add(a, c->id, name, cfg, "", c->pid);
	if (e != NULL) {
		e->pid = c->pid;
		log_info("container %s: guarded (pid %d, limit %llu bytes)", c->name, c->pid,
		    (unsigned long long)c->memory_bytes);
	}
	free(cfg);
}

static void
container_gone(const char *id, const char *name, void *arg)
{
	struct entry *e = entry_find(arg, id);

	if (e == NULL)
		return;
	log_info("container %s: stopped; no longer guarded", name[0] ? name : id);
	entry_free(e);
}

static void
engine_changed(bool up, const char *why, void *arg)
{
	(void)arg;
	if (up)
		log_info("docker: the engine answers; following its containers");
	else
		log_warn("docker: %s (the containers known are guarded on)", why);
}

#endif

/* ---- cgroups (cgscan.c) ---- */

/* The init of the cgroup dir: its lowest process whose NSpid ends in 1
 * (PID 1 of its own namespace), or 0 when none. */
static pid_t
cgroup_init(const char *proc_root, const char *dir)
{
	char path[PATH_MAX], buf[65536], status[4096], *line, *save;
	pid_t best = 0;

	if ((size_t)snprintf(path, sizeof(path), "%s/cgroup.procs", dir) >= sizeof(path) ||
	    file_read(path, buf, sizeof(buf)) < 0)
		return 0;
	for (line = strtok_r(buf, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		pid_t pid = (pid_t)atoi(line);
		const char *ns, *last;

		if (pid <= 0 || (best > 0 && pid > best))
			continue;
		snprintf(path, sizeof(path), "%s/%d/status", proc_root, (int)pid);
		if (file_read(path, status, sizeof(status)) < 0 ||
		    (ns = strstr(status, "\nNSpid:")) == NULL)
			continue;
		ns += 7;
		last = ns + strcspn(ns, "\n");
		while (last > ns && (last[-1] == ' ' || last[-1] == '\t'))
			last--;
		if (last - ns >= 2 && last[-1] == '1' && (last[-2] == ' ' || last[-2] == '\t'))
			best = pid;
	}
	return best;
}

static void
cgroup_found(const char *rel, size_t index, void *arg)
{
	struct agent *a = arg;
	char dir[PATH_MAX], name[PATH_MAX], err[CONFIG_ERR_MAX];
	struct config *cfg = malloc(sizeof(*cfg));
	size_t pat = a->pattern_of[index];
	pid_t init = 0;

	if (cfg == NULL)
		return;
	*cfg = *a->cfg;
	if (pat != SIZE_MAX &&
	    labels_apply_pattern(a->cfg, &a->o->patterns[pat], cfg, err, sizeof(err)) < 0) {
		/* Checked at the start: only a limit-relative error is left. */
		log_error("cgroup %s: %s; left unguarded", rel, err);
		free(cfg);
		return;
	}
	if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", a->root, rel) >= sizeof(dir) ||
	    (size_t)snprintf(name, sizeof(name), "cgroup %s", rel) >= sizeof(name)) {
		free(cfg);
		return;
	}
	if (cfg->target == TARGET_MAIN && (init = cgroup_init(a->o->proc_root, dir)) == 0) {
		log_info(
		    "%s: no process is PID 1 of its namespace; every process is the target", name);
		cfg->target = TARGET_CGROUP;
	}
	/* The cgroup is watched by its directory; its init, in it, is the target. */
	if (entry_add(a, rel, name, cfg, dir, init) != NULL)
		log_info("%s: guarded%s", name, init > 0 ? "" : " (every process)");
	free(cfg);
}

static void
cgroup_lost(const char *rel, size_t index, void *arg)
{
	struct entry *e = entry_find(arg, rel);

	(void)index;
	if (e == NULL)
		return;
	log_info("cgroup %s: removed; no longer guarded", rel);
	entry_free(e);
}

/* ---- start-up ---- */

/* The globs of --cgroups, each a [pattern.NAME]'s match or a glob of its
 * own; the patterns' settings checked over the file's. Return 0, or
 * -EINVAL (logged). */
static int
globs_resolve(struct agent *a)
{
	const struct agent_opts *o = a->o;
	char err[CONFIG_ERR_MAX];
	struct config *tmp = malloc(sizeof(*tmp));
	int r = tmp == NULL ? -ENOMEM : 0;

	for (size_t i = 0; r == 0 && i < o->ncgroups; i++) {
		a->globs[i] = o->cgroups[i];
		a->pattern_of[i] = SIZE_MAX;
		for (size_t k = 0; k < o->npatterns; k++) {
			if (strcmp(o->patterns[k].name, o->cgroups[i]) == 0) {
				a->globs[i] = o->patterns[k].match;
				a->pattern_of[i] = k;
			}
		}
		if (a->pattern_of[i] != SIZE_MAX &&
		    labels_apply_pattern(
		        a->cfg, &o->patterns[a->pattern_of[i]], tmp, err, sizeof(err)) < 0) {
			log_error("%s", err);
			r = -EINVAL;
		} else if (a->pattern_of[i] == SIZE_MAX && strpbrk(o->cgroups[i], "*?[/") == NULL) {
			log_error(
			    "--cgroups %s: no [pattern.%s] in the configuration, and not a glob",
			    o->cgroups[i], o->cgroups[i]);
			r = -EINVAL;
		}
	}
	a->nglobs = o->ncgroups;
	free(tmp);
	return r;
}

/* The memory hierarchy's mount point: v1's memory controller, else v2. */
static int
root_find(struct agent *a)
{
	char path[PATH_MAX], *text = malloc(1 << 20);
	struct cgroup_mounts *m = malloc(sizeof(*m));
	int r = text != NULL && m != NULL ? 0 : -ENOMEM;

	snprintf(path, sizeof(path), "%s/self/mountinfo", a->o->proc_root);
	if (r == 0)
		r = file_read(path, text, 1 << 20);
	if (r >= 0)
		r = cgroup_parse_mounts(text, m);
	if (r >= 0)
		snprintf(a->root, sizeof(a->root), "%s%s", a->o->fs_root,
		    m->has_v1_memory ? m->v1_point : m->v2_point);
	if (r < 0)
		log_error("cannot find the memory cgroup hierarchy in %s: %s", path, strerror(-r));
	free(text);
	free(m);
	return r < 0 ? r : 0;
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct agent *a = arg;

	(void)what;
	if (sig == SIGHUP) {
		log_warn(
		    "SIGHUP: the agent does not reload; restart it to apply a new configuration");
		return;
	}
	log_info("%s: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	service_stopping();
	for (struct entry *e = a->entries; e != NULL; e = e->next)
		guard_quiesce(e->g);
	event_base_loopbreak(a->base);
}

static int
agent_start(struct agent *a)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	struct cgscan_callbacks ccb = { cgroup_found, cgroup_lost, a };
	struct timeval tick = { (time_t)(a->cfg->poll_max_usec / 1000000),
		(suseconds_t)(a->cfg->poll_max_usec % 1000000) };

	for (size_t i = 0; i < 3; i++) {
		a->sig_ev[i] = evsignal_new(a->base, sigs[i], signal_cb, a);
		if (a->sig_ev[i] == NULL || event_priority_set(a->sig_ev[i], 0) < 0 ||
		    event_add(a->sig_ev[i], NULL) < 0)
			return -ENOMEM;
	}
	a->idle_tick = event_new(a->base, -1, EV_PERSIST, idle_cb, a);
	if (a->idle_tick == NULL || event_add(a->idle_tick, &tick) < 0)
		return -ENOMEM;
	if (a->o->docker) {
#if OOMGUARD_DOCKER
		struct docker_callbacks dcb = { container_seen, container_gone, engine_changed, a };

		char err[256];

		a->docker = docker_new(a->base, a->cfg->docker_socket, &dcb, err, sizeof(err));
		if (a->docker == NULL) {
			log_error("docker: cannot start the Engine client: %s", err);
			return -errno;
		}
		log_info("docker: guarding the containers labelled %s=true (engine %s)",
		    LABELS_ENABLE, a->cfg->docker_socket);
		docker_start(a->docker);
#else
		log_error("--docker: this build has no Docker Engine client (make static leaves "
		          "it out)");
		return -ENOTSUP;
#endif
	}
	if (a->nglobs > 0) {
		a->scan =
		    cgscan_new(a->base, a->root, a->globs, a->nglobs, a->cfg->poll_max_usec, &ccb);
		if (a->scan == NULL) {
			log_error(
			    "cannot watch the cgroups under %s: %s", a->root, strerror(errno));
			return -errno;
		}
		log_info("cgroups: watching %zu pattern%s under %s (%s)", a->nglobs,
		    a->nglobs == 1 ? "" : "s", a->root,
		    cgscan_inotify(a->scan) ? "inotify" : "a rescan every poll_max");
	}
	return 0;
}

static struct event_base *
base_new(void)
{
	struct event_config *ec = event_config_new();
	struct event_base *base;

	if (ec == NULL)
		return NULL;
	event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
	base = event_base_new_with_config(ec);
	event_config_free(ec);
	if (base != NULL && event_base_priority_init(base, 2) < 0) {
		event_base_free(base);
		return NULL;
	}
	return base;
}

static void
agent_free(struct agent *a)
{
#if OOMGUARD_DOCKER
	docker_free(a->docker);
#endif
	cgscan_free(a->scan);
	for (struct entry *e = a->entries, *next; e != NULL; e = next) {
		next = e->next;
		entry_destroy(e);
	}
	a->entries = NULL;
	for (size_t i = 0; i < 3; i++) {
		if (a->sig_ev[i] != NULL)
			event_free(a->sig_ev[i]);
	}
	if (a->idle_tick != NULL)
		event_free(a->idle_tick);
	if (a->base != NULL)
		event_base_free(a->base);
}

int
agent_run(const struct config *cfg, const struct agent_opts *o)
{
	struct agent a = { .cfg = cfg, .o = o };
	int r;

	if (globs_resolve(&a) < 0)
		return 78;
	if ((a.nglobs > 0 && root_find(&a) < 0) || (a.base = base_new()) == NULL) {
		agent_free(&a);
		return 1;
	}
	if (rescue_lock_self(256 * 1024) < 0)
		log_info("cannot lock oomguard's memory; it may fault while a cgroup is frozen");
	r = agent_start(&a);
	if (r < 0) {
		log_error("the agent cannot start: %s", strerror(-r));
		agent_free(&a);
		return 1;
	}
	service_ready();
	event_base_dispatch(a.base);
	agent_free(&a);
	return 0;
}
