/*
 * agent.h: the host agent: one process, one guard (guard.h) per container
 * of a Docker host that asks for it (--docker: labelled
 * oomguard.enable=true, its labels over the file's configuration) and per
 * cgroup matching a pattern (--cgroups NAME: a [pattern.NAME] section, or
 * a glob). Containers come from the engine (docker.c), cgroups from the
 * cgroup tree (cgscan.c); the guards' events, their samples and the
 * signals are this file's loop.
 *
 * Idle guards (next sample at poll_max or later) are sampled together by
 * one timer every poll_max; a guard near a level has a timer of its own.
 */
#ifndef OOMGUARD_AGENT_H
#define OOMGUARD_AGENT_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

#define AGENT_CGROUPS_MAX 16

struct agent_opts {
	const char *proc_root;
	const char *fs_root;
	bool docker;
	/* --cgroups: each the NAME of a [pattern.NAME] of patterns, or a glob */
	const char *cgroups[AGENT_CGROUPS_MAX];
	size_t ncgroups;
	const struct config_pattern *patterns; /* the file's [pattern.NAME] sections */
	size_t npatterns;
	/* SIGHUP: read the configuration again (defaults, file, environment,
	 * flags) into *c. Return 0, or -EINVAL with the error in err. */
	int (*reload)(struct config *c, char *err, size_t errlen);
};

/* Run until SIGTERM or SIGINT; SIGHUP reloads the configuration (its
 * file's [pattern.NAME] sections too) and rebuilds every guard's from
 * it. Return 0, or 1 when start-up failed (the reason logged), or 78 when
 * a pattern's settings are invalid. The engine going away, a bad label,
 * a reload that fails or a cgroup that cannot be watched never ends the
 * agent: they are logged and the others are guarded on. */
int agent_run(const struct config *cfg, const struct agent_opts *o);

#endif
