/*
 * hints_cmd.h: the runtime hints (hints.c) put to use: `oomguard hints`,
 * which prints them for a cgroup, and the entrypoint, which sets them in
 * the app's environment at each start and tells when a new limit will
 * change them.
 */
#ifndef OOMGUARD_HINTS_CMD_H
#define OOMGUARD_HINTS_CMD_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "hints.h"

/* The entrypoint's hints: those its app's current run was started with. */
struct hints_app {
	struct hints given;
	bool started;               /* hints_cmd_start() was called */
	bool kept_logged;           /* the user's own settings were named */
	bool stale_logged;          /* a new limit was logged as for the next start */
	uint64_t stale_limit_bytes; /* that limit */
};

/* `oomguard hints`: locate c->cgroup (self or a path) under proc_root and
 * fs_root, read its limit and print the hints for it to stdout, as
 * shell commands with shell (hints_print()). Return 0, or -errno when
 * the cgroup cannot be located or its limit read (logged). */
int hints_cmd_print(const struct config *c, const char *proc_root, const char *fs_root, bool shell);

/* Just before the app is started for a limit (0: none): set the hints
 * in oomguard's own environment, which the app inherits, and log one line
 * saying what was set (the user's own settings named at the first start
 * only). hints_cmd_restore() must follow the spawn. Returns nothing: a
 * variable that cannot be set is logged and left out. */
void hints_cmd_start(struct hints_app *st, const struct config *c, uint64_t limit_bytes);

/* Right after the spawn: put oomguard's environment back as it was, so
 * that the next start computes from the user's environment again. */
void hints_cmd_restore(struct hints_app *st);

/* The cgroup's limit is now limit_bytes (0: none). When the app runs
 * with hints of another limit, log once per limit that the new ones
 * apply at its next start: a running process's environment cannot
 * change. Returns nothing. */
void hints_cmd_limit(struct hints_app *st, const struct config *c, uint64_t limit_bytes);

#endif
