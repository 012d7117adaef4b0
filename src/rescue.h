/*
 * rescue.h: waking a frozen cgroup with an emergency reserve, and keeping
 * oomguard itself out of the freeze (memory locked, nothing left to fault
 * in). See rescue.c for the rule the rescue path keeps.
 */
#ifndef OOMGUARD_RESCUE_H
#define OOMGUARD_RESCUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* [reserve] size auto: this share of the limit (basis points), at most
 * RESCUE_AUTO_MAX_BYTES. */
#define RESCUE_AUTO_BPS       200
#define RESCUE_AUTO_MAX_BYTES (32ULL << 20)

struct rescue {
	enum reserve_mode mode; /* RESERVE_MEMORY or RESERVE_LIMIT once opened */
	uint64_t bytes;         /* the reserve's size; 0: none */
	bool held;              /* ready to be released */
	/* memory: the region (the reserve between two guard pages) and the
	 * reserve's own mapping in it */
	void *region;
	size_t region_bytes;
	void *addr;
	size_t mapped_bytes;
	/* locked, from its start: what RLIMIT_MEMLOCK allowed (all of it when
	 * it equals bytes) */
	size_t locked_bytes;
	/* limit: the limit file, open for reading and writing, and the limit
	 * to restore */
	int limit_fd;
	/* v1 with swap accounting: memory.memsw.limit_in_bytes, which must
	 * stay at or above the memory limit, so it is raised first and put
	 * back last (-1 without it; memsw_bytes 0 when it is left alone) */
	int memsw_fd;
	uint64_t memsw_bytes;
	uint64_t limit_bytes;
	bool raised;
	/* What the release left in the files, as the kernel took it: the
	 * limit (and memsw) is put back only while it still reads so. Any
	 * other value is the operator's, set since, and stays. */
	uint64_t raised_bytes;
	uint64_t memsw_raised_bytes;
};

/* Pure: the reserve's size for a [reserve] size and a limit (0: no
 * limit). auto is RESCUE_AUTO_BPS of the limit, capped; a percentage is
 * of the limit; none, or any share of no limit, is 0. */
uint64_t rescue_size(const struct threshold *size, uint64_t limit_bytes);

/* Lock all of oomguard's memory, now and to come (mlockall), and touch
 * stack_bytes of stack so that the rescue path never faults a page in.
 * Return 0, or -errno from mlockall (EPERM, ENOMEM over RLIMIT_MEMLOCK):
 * oomguard runs on unlocked then. */
int rescue_lock_self(size_t stack_bytes);

/* Prepare r for mode (resolved: memory or limit) on the cgroup directory
 * dir of the given version: limit mode opens the limit file for reading
 * and writing. Holds nothing yet. Return 0 or -errno. */
int rescue_open(struct rescue *r, enum reserve_mode mode, const char *dir, int version);

/* Hold a reserve of bytes for a cgroup whose limit is limit_bytes: memory
 * mode maps and touches it (and locks what RLIMIT_MEMLOCK allows: r->locked_bytes);
 * limit mode only records the limit to raise from. Return 0, or -errno
 * (-ENOMEM when it cannot be mapped). Not for the rescue path. */
int rescue_take(struct rescue *r, uint64_t bytes, uint64_t limit_bytes);

/*
 * Release the reserve: unmap it (memory), or raise the limit by it
 * (limit), so that the frozen cgroup's tasks wake. The limit is raised
 * from what the file reads now, never from the limit of rescue_take(),
 * which the operator may have changed since. On the rescue path:
 * allocates nothing, opens nothing. Return 0, -EALREADY when nothing is
 * held, -ERANGE when the file reads no limit (nothing written), or -errno
 * of the read or write (the reserve counts as released).
 */
int rescue_release(struct rescue *r);

/* Stop holding the reserve without a rescue (a new limit wants a new
 * size): memory mode unmaps it; limit mode writes nothing. Never fails. */
void rescue_drop(struct rescue *r);

/* Limit mode: put the limit back where it was before the release, if the
 * file still reads what the release wrote; a value the operator wrote
 * since is left as it is. Return 0 (put back, or nothing was raised), 1
 * when the operator's value was left, or -errno (the limit stays raised,
 * and the call may be repeated). */
int rescue_restore(struct rescue *r);

/* Release whatever is held or raised and close r. */
void rescue_close(struct rescue *r);

#endif
