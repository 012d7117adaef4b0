/*
 * agent.c: the host agent's loop. It owns the libevent base, one entry
 * per guarded container or cgroup (its configuration, its guard, the
 * events of the guard's descriptors and its own timer), the shared idle
 * timer, the signals, and the Engine client and the cgroup watch that
 * tell it which entries to make and drop. Every guard call is made with
 * the entry's name as the log's scope, so that each line says whose it
 * is. SIGHUP reads the configuration again and rebuilds every entry's
 * from it (agent_reload()); the metrics endpoint shows every guard,
 * labelled with its container and pod.
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
#include "observe.h"
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
	/* What its configuration is built from again on a reload: a
	 * container's oomguard.* labels (NULL for a cgroup), or the index
	 * of the --cgroups it matched. */
	struct dockerjson_container *ct;
	size_t index;
	bool stale; /* a cgroup not yet found again by a reload's rescan */
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

/* The configuration the entries are built from: the file's (with the
 * environment and flags) and its [pattern.NAME] sections, and each
 * --cgroups resolved to its glob. */
struct agent_conf {
	const struct config *cfg;
	const struct config_pattern *patterns;
	size_t npatterns;
	const char *globs[AGENT_CGROUPS_MAX]; /* the --cgroups, each its glob */
	size_t pattern_of[AGENT_CGROUPS_MAX]; /* the [pattern.NAME] of each glob, or SIZE_MAX */
	size_t nglobs;
	struct config *cfg_owned; /* read by a reload, else NULL */
	struct config_pattern *patterns_owned;
};

struct agent {
	const struct agent_opts *o;
	struct agent_conf conf;
	const struct config *cfg; /* conf.cfg */
	struct event_base *base;
	struct entry *entries;
	struct event *idle_tick;
	struct event *sig_ev[3];
	struct docker *docker;
	struct cgscan *scan;
	struct observe *obs; /* the metrics endpoint */
	char root[PATH_MAX]; /* the memory hierarchy's mount point, for --cgroups */
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
	if (e->a->obs != NULL)
		observe_guard_remove(e->a->obs, e->g);
	log_scope(e->name);
	guard_free(e->g);
	log_scope(NULL);
	config_unshare(e->cfg);
	free(e->ct);
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
	if (e->a->obs != NULL)
		observe_sampled(e->a->obs, e->g, &res);
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

/* An entry's configuration: the file's with the container's labels (ct)
 * or else the [pattern.NAME] of --cgroups index over it. Return 0, or
 * -EINVAL (or -ENOMEM) with the reason in err. */
static int
entry_config(const struct agent *a, const struct dockerjson_container *ct, size_t index,
    struct config *ret, char *err, size_t errlen)
{
	size_t pat = ct == NULL ? a->conf.pattern_of[index] : SIZE_MAX;

	if (ct != NULL)
		return labels_apply(a->cfg, ct, ret, err, errlen);
	if (pat != SIZE_MAX)
		return labels_apply_pattern(a->cfg, &a->conf.patterns[pat], ret, err, errlen);
	*ret = *a->cfg;
	return 0;
}

/* What an entry is made from. */
struct entry_source {
	const char *key;   /* a container's id, or a cgroup's path under the root */
	const char *name;  /* what the log calls it */
	const char *label; /* its series' name label (a container's name), or NULL */
	const char *dir;   /* the cgroup directory watched, or "" for pid's */
	pid_t pid;         /* a container's PID 1 or a cgroup's init, or 0 */
	const struct dockerjson_container *ct; /* its labels, or NULL for a cgroup */
	size_t index;                          /* a cgroup's --cgroups */
};

/* e's guard, watching, its target attached, shown by the endpoint
 * labelled with its name and pod. Return 0 or -errno. */
static int
entry_open(struct entry *e, const struct entry_source *src)
{
	struct agent *a = e->a;
	struct guard_params p = { a->o->proc_root, a->o->fs_root,
		src->pid > 0 && e->cfg->target == TARGET_MAIN ? GUARD_MAIN_PID : GUARD_MAIN_NONE };
	char pod[64];
	int r;

	e->g = guard_new(e->cfg, &p);
	if (e->g == NULL)
		return -ENOMEM;
	log_scope(e->name);
	r = guard_watch(e->g, src->dir, src->pid, false);
	if (r == 0 && p.main == GUARD_MAIN_PID)
		r = guard_target_attach(e->g, src->pid);
	log_scope(NULL);
	if (r == 0 && a->obs != NULL) {
		(void)labels_pod_uid(guard_dir(e->g), pod, sizeof(pod));
		r = observe_guard_add_labelled(a->obs, e->g, src->label, pod[0] ? pod : NULL);
	}
	return r;
}

/* Make an entry for src with cfg. Return it (sampled once), or NULL
 * (logged). */
static struct entry *
entry_add(struct agent *a, const struct entry_source *src, const struct config *cfg)
{
	size_t klen = strlen(src->key) + 1, nlen = strlen(src->name) + 1;
	struct entry *e = calloc(1, sizeof(*e) + klen + nlen);
	int r = -ENOMEM;

	if (e == NULL || (e->cfg = config_share(a, cfg)) == NULL) {
		log_error("%s: cannot guard it: %s", src->name, strerror(ENOMEM));
		free(e);
		return NULL;
	}
	e->a = a;
	e->key = memcpy(e->text, src->key, klen);
	e->name = memcpy(e->text + klen, src->name, nlen);
	e->pid = src->pid;
	e->index = src->index;
	if (src->ct != NULL && (e->ct = malloc(sizeof(*e->ct))) != NULL)
		*e->ct = *src->ct;
	e->timer = evtimer_new(a->base, timer_cb, e);
	if (e->timer != NULL && (src->ct == NULL || e->ct != NULL))
		r = entry_open(e, src);
	if (r < 0) {
		log_error("%s: cannot guard it (%s); left unguarded", src->name, strerror(-r));
		entry_destroy(e);
		return NULL;
	}
	guard_events_init(&e->events, a->base, e->g, fd_cb, e);
	e->next = a->entries;
	a->entries = e;
	return entry_sample(e, "start") ? e : NULL;
}

/* Build e's configuration again from the agent's (a reload) and hand it
 * to its guard. Return false when its labels or pattern no longer hold
 * over the new file: e is then freed, left unguarded (logged). */
static bool
entry_reconfigure(struct entry *e)
{
	char err[CONFIG_ERR_MAX];
	struct config *next = calloc(1, sizeof(*next)), *shared;
	int r =
	    next != NULL ? entry_config(e->a, e->ct, e->index, next, err, sizeof(err)) : -ENOMEM;

	if (r == -ENOMEM) {
		log_error("%s: cannot rebuild its configuration: %s; keeping the old one", e->name,
		    strerror(ENOMEM));
	} else if (r < 0) {
		log_error("%s: %s; no longer guarded", e->name, err);
		free(next);
		entry_free(e);
		return false;
	} else {
		/* A cgroup without an init keeps every process its target. */
		if (e->ct == NULL && e->pid == 0 && next->target == TARGET_MAIN)
			next->target = TARGET_CGROUP;
		if (next->target != e->cfg->target) {
			log_warn("%s: [action] target is now %s: that takes effect when it is "
			         "guarded anew",
			    e->name, config_target_name(next->target));
			next->target = e->cfg->target;
		}
		shared = config_share(e->a, next);
		if (shared == NULL) {
			log_error("%s: cannot rebuild its configuration: %s; keeping the old one",
			    e->name, strerror(ENOMEM));
		} else {
			/* The guard tells the new configuration from the one
			 * it holds (still e->cfg), then holds the shared one. */
			log_scope(e->name);
			guard_reconfigure(e->g, shared);
			config_unshare(e->cfg);
			e->cfg = shared;
			guard_events_sync(&e->events);
			log_scope(NULL);
		}
	}
	free(next);
	return true;
}

/* ---- containers (docker.c) ---- */
#if OOMGUARD_DOCKER

static void
container_seen(const struct dockerjson_container *c, void *arg)
{
	struct agent *a = arg;
	struct entry *e = entry_find(a, c->id);
	char err[CONFIG_ERR_MAX], name[DOCKERJSON_NAME_MAX + 16];
	struct entry_source src;
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
	if (entry_config(a, c, 0, cfg, err, sizeof(err)) < 0) {
		log_error("container %s: %s; left unguarded", c->name, err);
		free(cfg);
		return;
	}
	snprintf(name, sizeof(name), "container %s", c->name);
	src = (struct entry_source){ c->id, name, c->name, "", c->pid, c, 0 };
	if (entry_add(a, &src, cfg) != NULL)
		log_info("container %s: guarded (pid %d, limit %llu bytes)", c->name, c->pid,
		    (unsigned long long)c->memory_bytes);
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
	struct entry *e = entry_find(a, rel);
	char dir[PATH_MAX], name[PATH_MAX], err[CONFIG_ERR_MAX];
	struct entry_source src = { rel, name, NULL, dir, 0, NULL, index };
	struct config *cfg;

	if (e != NULL) {
		/* Known, found again by a reload's rescan. */
		e->stale = false;
		if (e->index != index) {
			e->index = index;
			(void)entry_reconfigure(e);
		}
		return;
	}
	if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", a->root, rel) >= sizeof(dir) ||
	    (size_t)snprintf(name, sizeof(name), "cgroup %s", rel) >= sizeof(name) ||
	    (cfg = malloc(sizeof(*cfg))) == NULL)
		return;
	if (entry_config(a, NULL, index, cfg, err, sizeof(err)) < 0) {
		/* Checked at the start: only a limit-relative error is left. */
		log_error("%s: %s; left unguarded", name, err);
		free(cfg);
		return;
	}
	if (cfg->target == TARGET_MAIN && (src.pid = cgroup_init(a->o->proc_root, dir)) == 0) {
		log_info(
		    "%s: no process is PID 1 of its namespace; every process is the target", name);
		cfg->target = TARGET_CGROUP;
	}
	/* The cgroup is watched by its directory; its init, in it, is the target. */
	if (entry_add(a, &src, cfg) != NULL)
		log_info("%s: guarded%s", name, src.pid > 0 ? "" : " (every process)");
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

/* The globs of --cgroups in c, each a [pattern.NAME]'s match or a glob
 * of its own; the patterns' settings checked over c's configuration.
 * Return 0, or -EINVAL (or -ENOMEM) with the first error in err. */
static int
globs_resolve(const struct agent_opts *o, struct agent_conf *c, char *err, size_t errlen)
{
	struct config *tmp = malloc(sizeof(*tmp));
	int r = tmp == NULL ? -ENOMEM : 0;

	if (tmp == NULL)
		snprintf(err, errlen, "%s", strerror(ENOMEM));
	for (size_t i = 0; r == 0 && i < o->ncgroups; i++) {
		c->globs[i] = o->cgroups[i];
		c->pattern_of[i] = SIZE_MAX;
		for (size_t k = 0; k < c->npatterns; k++) {
			if (strcmp(c->patterns[k].name, o->cgroups[i]) == 0) {
				c->globs[i] = c->patterns[k].match;
				c->pattern_of[i] = k;
			}
		}
		if (c->pattern_of[i] != SIZE_MAX)
			r = labels_apply_pattern(
			    c->cfg, &c->patterns[c->pattern_of[i]], tmp, err, errlen);
		else if (strpbrk(o->cgroups[i], "*?[/") == NULL) {
			snprintf(err, errlen,
			    "--cgroups %s: no [pattern.%s] in the configuration, and not a glob",
			    o->cgroups[i], o->cgroups[i]);
			r = -EINVAL;
		}
	}
	c->nglobs = o->ncgroups;
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

/* ---- reload (SIGHUP) ---- */

static void
conf_free(struct agent_conf *c)
{
	free(c->cfg_owned);
	free(c->patterns_owned);
	c->cfg_owned = NULL;
	c->patterns_owned = NULL;
}

/* Read the configuration and its [pattern.NAME] sections again into
 * *ret, the --cgroups resolved. Return 0, or -EINVAL (or -ENOMEM) with
 * why in err; *ret is then to be freed with conf_free(). */
static int
conf_read(const struct agent *a, struct agent_conf *ret, char *err, size_t errlen)
{
	struct config *cfg = malloc(sizeof(*cfg));

	memset(ret, 0, sizeof(*ret));
	if (cfg == NULL) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	ret->cfg = ret->cfg_owned = cfg;
	if (a->o->reload == NULL) {
		snprintf(err, errlen, "no configuration to read again");
		return -EINVAL;
	}
	if (a->o->reload(cfg, err, errlen) < 0)
		return -EINVAL;
	if (cfg->path[0] != '\0' &&
	    config_load_patterns(cfg->path, &ret->patterns_owned, &ret->npatterns, err, errlen) < 0)
		return -EINVAL;
	ret->patterns = ret->patterns_owned;
	return globs_resolve(a->o, ret, err, errlen) < 0 ? -EINVAL : 0;
}

static int
idle_tick_add(struct agent *a)
{
	struct timeval tick = { (time_t)(a->cfg->poll_max_usec / 1000000),
		(suseconds_t)(a->cfg->poll_max_usec % 1000000) };

	return event_add(a->idle_tick, &tick);
}

/* The --cgroups' globs changed: a new watch reports what they match now
 * (the cgroups known are found again, new ones guarded) and the cgroups
 * it does not find are no longer guarded. When it cannot start, the old
 * watch goes on. */
static void
cgroups_rescan(struct agent *a)
{
	struct cgscan_callbacks ccb = { cgroup_found, cgroup_lost, a };
	struct cgscan *scan;
	struct entry *e, *next;

	log_info("cgroups: the patterns changed; scanning under %s again", a->root);
	for (e = a->entries; e != NULL; e = e->next)
		e->stale = e->ct == NULL;
	scan = cgscan_new(
	    a->base, a->root, a->conf.globs, a->conf.nglobs, a->cfg->poll_max_usec, &ccb);
	if (scan == NULL) {
		log_error("cannot watch the cgroups under %s anew: %s; the old patterns find them",
		    a->root, strerror(errno));
		for (e = a->entries; e != NULL; e = e->next)
			e->stale = false;
		return;
	}
	cgscan_free(a->scan);
	a->scan = scan;
	for (e = a->entries; e != NULL; e = next) {
		next = e->next;
		if (!e->stale)
			continue;
		log_info("%s: no longer matches --cgroups; no longer guarded", e->name);
		entry_free(e);
	}
}

/* The configuration next takes over: logging, the idle tick, the
 * endpoint and the hooks, then every entry's (sampled at once), then the
 * cgroups the patterns now match. */
static void
conf_apply(struct agent *a, struct agent_conf *next)
{
	struct agent_conf old = a->conf;
	bool rescan = false;

	if (a->o->docker && strcmp(old.cfg->docker_socket, next->cfg->docker_socket) != 0)
		log_warn("[docker] socket is now %s: that takes effect when oomguard restarts",
		    next->cfg->docker_socket);
	for (size_t i = 0; i < next->nglobs; i++)
		rescan |= strcmp(old.globs[i], next->globs[i]) != 0;
	a->conf = *next;
	a->cfg = next->cfg;
	log_init(a->cfg->log_level, a->cfg->log_format);
	log_init_journal();
	if (a->obs != NULL)
		observe_reconfigure(a->obs, a->cfg);
	(void)idle_tick_add(a);
	log_info(
	    "configuration reloaded%s%s", a->cfg->path[0] != '\0' ? " from " : "", a->cfg->path);
	for (struct entry *e = a->entries, *n; e != NULL; e = n) {
		n = e->next;
		if (entry_reconfigure(e))
			(void)entry_sample(e, "reload");
	}
	if (rescan)
		cgroups_rescan(a);
	conf_free(&old);
}

/* SIGHUP: read the configuration again and take it only when it is
 * valid, labels and patterns over it; otherwise say why and keep the old
 * one. */
static void
agent_reload(struct agent *a)
{
	char err[CONFIG_ERR_MAX + PATH_MAX];
	struct agent_conf next;

	service_reloading();
	if (conf_read(a, &next, err, sizeof(err)) < 0) {
		log_error("cannot reload the configuration: %s; keeping the old one", err);
		conf_free(&next);
	} else {
		conf_apply(a, &next);
	}
	service_ready();
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct agent *a = arg;

	(void)what;
	if (sig == SIGHUP) {
		agent_reload(a);
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

	for (size_t i = 0; i < 3; i++) {
		a->sig_ev[i] = evsignal_new(a->base, sigs[i], signal_cb, a);
		if (a->sig_ev[i] == NULL || event_priority_set(a->sig_ev[i], 0) < 0 ||
		    event_add(a->sig_ev[i], NULL) < 0)
			return -ENOMEM;
	}
	a->idle_tick = event_new(a->base, -1, EV_PERSIST, idle_cb, a);
	if (a->idle_tick == NULL || idle_tick_add(a) < 0)
		return -ENOMEM;
	/* Before the first entry: each is shown from its start. */
	a->obs = observe_new(a->base, a->cfg, NULL);
	if (a->obs == NULL)
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
	if (a->conf.nglobs > 0) {
		a->scan = cgscan_new(
		    a->base, a->root, a->conf.globs, a->conf.nglobs, a->cfg->poll_max_usec, &ccb);
		if (a->scan == NULL) {
			log_error(
			    "cannot watch the cgroups under %s: %s", a->root, strerror(errno));
			return -errno;
		}
		log_info("cgroups: watching %zu pattern%s under %s (%s)", a->conf.nglobs,
		    a->conf.nglobs == 1 ? "" : "s", a->root,
		    cgscan_inotify(a->scan) ? "inotify" : "a rescan every poll_max");
	}
	return 0;
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
	observe_free(a->obs);
	for (size_t i = 0; i < 3; i++) {
		if (a->sig_ev[i] != NULL)
			event_free(a->sig_ev[i]);
	}
	if (a->idle_tick != NULL)
		event_free(a->idle_tick);
	if (a->base != NULL)
		event_base_free(a->base);
	conf_free(&a->conf);
}

int
agent_run(const struct config *cfg, const struct agent_opts *o)
{
	struct agent a = { .cfg = cfg, .o = o };
	char err[CONFIG_ERR_MAX + PATH_MAX];
	int r;

	a.conf =
	    (struct agent_conf){ .cfg = cfg, .patterns = o->patterns, .npatterns = o->npatterns };
	if (globs_resolve(o, &a.conf, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return 78;
	}
	if ((a.conf.nglobs > 0 && root_find(&a) < 0) ||
	    (a.base = guard_events_base_new()) == NULL) {
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
