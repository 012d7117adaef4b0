/*
 * action.h: signalling the targets of an action. Every signal goes
 * through a pidfd, and only to a process that is, after its pidfd was
 * opened, still in the watched cgroup: a PID reused by a process elsewhere
 * is never signalled.
 */
#ifndef OOMGUARD_ACTION_H
#define OOMGUARD_ACTION_H

#include <stdbool.h>
#include <sys/types.h>

#include "config.h"

struct action_ctx {
	const char *proc_root;
	const char *cgroup_dir;  /* the watched cgroup's directory */
	const char *cgroup_path; /* its path in the hierarchy, as /proc/PID/cgroup prints it */
	int cgroup_version;
};

/* What one action did. */
struct action_result {
	int sent;      /* processes signalled */
	int skipped;   /* processes left alone (outside the cgroup, gone, no handler) */
	int first_err; /* the first error, 0 if none */
	pid_t pid;     /* the main target's PID, or the first signalled */
};

/*
 * The main target, held open: its pidfd and its /proc/PID/status and
 * /proc/PID/cgroup descriptors. Checking and signalling it then reads with
 * pread and opens nothing, allocates nothing: it is the rescue path's
 * target (rescue.c). Once the process ends the descriptors read ESRCH,
 * whoever takes its PID.
 */
struct action_target {
	pid_t pid;
	int pidfd;
	int status_fd;
	int cgroup_fd;
	bool own_pidfd; /* opened here, closed with the target */
};

/* An empty target (every descriptor -1), safe to close. */
void action_target_init(struct action_target *t);

/* Open the target pid: pidfd is the caller's (the main child's), or -1 to
 * open one. The /proc files are opened after the pidfd and checked to
 * belong to the same process. Return 0 and fill *ret, or -errno (-ESRCH
 * when it is gone). */
int action_target_open(const char *proc_root, pid_t pid, int pidfd, struct action_target *ret);

/* Close what action_target_open() opened and make t empty. */
void action_target_close(struct action_target *t);

/* Whether the target catches sig. Return 1, 0, or -errno (-ESRCH gone). */
int action_target_caught(const struct action_target *t, int sig);

/* Send sig to the target if it is in the watched cgroup and, with
 * need_handler, catches sig. Return 0 and fill *ret, or -errno: -ESRCH
 * gone (or never opened), -EXDEV outside the cgroup, -ENOTSUP no handler. */
int action_signal_target(const struct action_ctx *ctx, const struct action_target *t, int sig,
    bool need_handler, struct action_result *ret);

/* Parse the SigCgt line of a /proc/PID/status text. Return 1 if sig is
 * caught, 0 if not, -EINVAL without such a line. */
int action_parse_caught(const char *status_text, int sig);

/* Whether process pid catches sig. Return 1, 0, or -errno. */
int action_caught(const char *proc_root, pid_t pid, int sig);

/* Whether pid lives in the watched cgroup, from /proc/PID/cgroup. Return
 * 1, 0, or -errno (-ENOENT when the process is gone). */
int action_in_cgroup(const struct action_ctx *ctx, pid_t pid);

/* Send sig to the main target: pidfd is the main child's (or -1 to open
 * one for pid). With need_handler, only if it catches sig. Return 0 and
 * fill *ret, or -errno: -ESRCH gone, -EXDEV outside the cgroup, -ENOTSUP
 * no handler. */
int action_signal_main(const struct action_ctx *ctx, pid_t pid, int pidfd, int sig,
    bool need_handler, struct action_result *ret);

/* Send sig to every process in the watched cgroup but oomguard itself;
 * with pgid > 0, only to members of that process group. With
 * need_handler, only to those that catch sig. Return 0 and fill *ret
 * (sent may be 0), or -errno when cgroup.procs cannot be read. */
int action_signal_cgroup(const struct action_ctx *ctx, pid_t pgid, int sig, bool need_handler,
    struct action_result *ret);

#endif
