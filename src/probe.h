/*
 * probe.h: "oomguard probe": what oomguard sees of a cgroup, with every
 * notification mechanism tried for real.
 */
#ifndef OOMGUARD_PROBE_H
#define OOMGUARD_PROBE_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "cgroup.h"
#include "config.h"
#include "memcg.h"
#include "psi.h"

/* A mechanism's outcome: 0 available, PROBE_NA not applicable to this
 * cgroup version, else -errno of the refusal. */
#define PROBE_NA 1

struct probe_request {
	const char *proc_root;
	const char *fs_root;
	const char *cgroup; /* "self" or a path; ignored when pid > 0 */
	pid_t pid;
	struct psi_trigger psi; /* the trigger to try */
};

struct probe_report {
	struct cgroup cg;
	uint64_t host_ram_bytes;
	int sample_err;
	struct memcg_sample sample;
	int psi_err;
	struct psi_stats psi;
	int threshold_err;
	int oom_err;
	int inotify_err;
	int trigger_err;
	struct psi_trigger trigger;
};

/* Locate the cgroup, read it and try each mechanism. Return 0, or -errno
 * when the cgroup cannot be found (the report is then unset). The report's
 * cg is the caller's to cgroup_free(). */
int probe_run(const struct probe_request *req, struct probe_report *ret);

void probe_print_text(const struct probe_report *r, FILE *fp);
void probe_print_json(const struct probe_report *r, FILE *fp);

#endif
