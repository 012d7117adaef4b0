/*
 * rescue.c: the emergency reserve, and oomguard's own memory.
 *
 * A task frozen at its cgroup's limit (v1, OOM killer disabled) sleeps in
 * the memcg OOM wait until memory is uncharged in that cgroup, and then
 * runs the handlers of the signals pending for it. oomguard holds a
 * reserve in the cgroup (or the right to raise its limit) and, when the
 * cgroup freezes, first signals the target so that the signal is pending,
 * then releases the reserve: the target wakes into its handler.
 *
 * The rule of the rescue path. From the moment a freeze is seen to the
 * release of the reserve (the loop's wake-up, guard_sample(), memcg_read(),
 * respond.c's questions about the main target, policy_eval(), then
 * respond_rescue(): action_signal_target(), rescue_release()), oomguard
 * allocates no memory, forks nothing, executes nothing and opens no file.
 * Anything that page-faults a new page there would sleep in the same wait
 * as the app, and an allocation inside a system call fails with ENOMEM in
 * a frozen cgroup. So everything that path touches is opened and mapped
 * beforehand, its buffers live on a stack touched at start, and all of
 * oomguard's memory is locked (rescue_lock_self). Logging comes after the
 * release, when there is memory again.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "file.h"
#include "policy.h"
#include "rescue.h"

uint64_t
rescue_size(const struct threshold *size, uint64_t limit_bytes)
{
	uint64_t bytes;

	if (limit_bytes == 0)
		return 0;
	switch (size->kind) {
	case THRESHOLD_AUTO:
		bytes = limit_bytes / (100 * UNITS_PCT_SCALE) * RESCUE_AUTO_BPS;
		return bytes < RESCUE_AUTO_MAX_BYTES ? bytes : RESCUE_AUTO_MAX_BYTES;
	case THRESHOLD_NONE:
		return 0;
	default:
		bytes = units_threshold_bytes(size, limit_bytes);
		return bytes == POLICY_OFF ? 0 : bytes;
	}
}

/* Touch the stack to this depth, so that its pages are present (and,
 * once locked, stay). noinline: the frame must really be this deep. */
static __attribute__((noinline)) void
touch_stack(size_t bytes)
{
	char buf[bytes];

	memset(buf, 0, bytes);
	__asm__ volatile("" : : "r"(buf) : "memory");
}

int
rescue_lock_self(size_t stack_bytes)
{
	touch_stack(stack_bytes);
	if (mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
		return -errno;
	return 0;
}

int
rescue_open(struct rescue *r, enum reserve_mode mode, const char *dir, int version)
{
	char path[PATH_MAX];

	memset(r, 0, sizeof(*r));
	r->limit_fd = r->memsw_fd = -1;
	r->mode = mode == RESERVE_LIMIT ? RESERVE_LIMIT : RESERVE_MEMORY;
	if (r->mode != RESERVE_LIMIT)
		return 0;
	if (file_join(path, sizeof(path), dir,
	        version == 2 ? "/memory.max" : "/memory.limit_in_bytes") < 0)
		return -ENAMETOOLONG;
	r->limit_fd = open(path, O_RDWR | O_CLOEXEC);
	if (r->limit_fd < 0)
		return -errno;
	if (version == 1 && file_join(path, sizeof(path), dir, "/memory.memsw.limit_in_bytes") == 0)
		r->memsw_fd = open(path, O_RDWR | O_CLOEXEC);
	return 0;
}

static int read_limit(int fd, uint64_t *ret_bytes);

/*
 * The reserve is a mapping of its own between two PROT_NONE guard pages:
 * with different flags on both sides it never merges with a neighbour, so
 * unmapping it splits no VMA. A split allocates a VMA, which is charged
 * to the cgroup and fails with ENOMEM while it is frozen (seen here).
 */
static int
reserve_map(struct rescue *r, size_t bytes)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	char *mid;
	void *p;

	if (r->region == NULL) {
		p = mmap(NULL, bytes + 2 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return -errno;
		r->region = p;
		r->region_bytes = bytes + 2 * page;
	}
	mid = (char *)r->region + page;
	p = mmap(
	    mid, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	/* Every page written: the cgroup is charged for all of it now, and
	 * uncharged all at once by the release. */
	for (size_t off = 0; off < bytes; off += page)
		((volatile char *)p)[off] = 1;
	r->addr = p;
	r->mapped_bytes = bytes;
	return 0;
}

static void
reserve_unmap_region(struct rescue *r)
{
	if (r->region != NULL)
		munmap(r->region, r->region_bytes);
	r->region = NULL;
	r->region_bytes = 0;
	r->addr = NULL;
	r->mapped_bytes = 0;
}

/* Lock as much of the reserve as RLIMIT_MEMLOCK allows, halving until a
 * lock takes. Return the bytes locked (all of them when they were locked
 * already by MCL_FUTURE). */
static size_t
lock_what_fits(void *addr, size_t bytes)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	for (size_t n = bytes; n >= page; n = n / 2 / page * page)
		if (mlock(addr, n) == 0)
			return n;
	return 0;
}

/* The memory+swap limit when it binds (it is close to the memory limit,
 * as Docker and the tests set it), else 0: leave it alone. */
static uint64_t
memsw_limit(int fd, uint64_t limit_bytes)
{
	char text[32];
	uint64_t v;

	if (fd < 0 || file_pread(fd, text, sizeof(text)) < 0 || file_parse_u64(text, &v) < 0 ||
	    v < limit_bytes || v - limit_bytes > (1ULL << 40))
		return 0;
	return v;
}

int
rescue_take(struct rescue *r, uint64_t bytes, uint64_t limit_bytes)
{
	int ret;

	if (r->held)
		return 0;
	r->bytes = bytes;
	if (bytes == 0)
		return 0;
	if (r->mode == RESERVE_LIMIT) {
		uint64_t now;

		/* The release reads both files: read them once now, so that
		 * the kernel's buffer for them exists before the rescue
		 * (allocated at a file's first read, it is charged to
		 * oomguard's cgroup, which may be the frozen one). */
		(void)read_limit(r->limit_fd, &now);
		(void)memsw_limit(r->memsw_fd, limit_bytes);
		r->limit_bytes = limit_bytes;
		r->held = true;
		return 0;
	}
	/* A reserve of another size: a new region. */
	if (r->region != NULL && r->region_bytes != bytes + 2 * (size_t)sysconf(_SC_PAGESIZE))
		reserve_unmap_region(r);
	ret = reserve_map(r, bytes);
	/* Under mlockall(MCL_FUTURE) a mapping beyond RLIMIT_MEMLOCK fails
	 * with EAGAIN (8 MiB in Docker without CAP_IPC_LOCK): map it with
	 * MCL_FUTURE off (mlockall(MCL_CURRENT) keeps what is locked), then
	 * turn MCL_FUTURE back on for what comes (MCL_FUTURE alone leaves the
	 * current mappings as they are). */
	if (ret == -EAGAIN && mlockall(MCL_CURRENT) == 0) {
		ret = reserve_map(r, bytes);
		(void)mlockall(MCL_FUTURE);
	}
	if (ret < 0)
		return ret;
	r->locked_bytes = lock_what_fits(r->addr, bytes);
	r->held = true;
	return 0;
}

/* Write a number to a limit file: a stack buffer and pwrite. */
static int
write_limit(int fd, uint64_t bytes)
{
	char text[24];
	int n = snprintf(text, sizeof(text), "%llu", (unsigned long long)bytes);

	return pwrite(fd, text, (size_t)n, 0) < 0 ? -errno : 0;
}

/* Read a limit file through its descriptor: a stack buffer and pread.
 * Return 0 and set *ret_bytes, -ERANGE when it reads no number ("max"),
 * or -errno. */
static int
read_limit(int fd, uint64_t *ret_bytes)
{
	char text[32];
	int n = file_pread(fd, text, sizeof(text));

	if (n < 0)
		return n;
	return file_parse_u64(text, ret_bytes) < 0 ? -ERANGE : 0;
}

/* Raise a limit file from what it reads now by bytes, and return in
 * *ret_from what it read and in *ret_to what it reads after the write
 * (the kernel rounds to pages). Return 0 or -errno (nothing changed). */
static int
raise_limit(int fd, uint64_t bytes, uint64_t *ret_from, uint64_t *ret_to)
{
	uint64_t from, to;
	int ret = read_limit(fd, &from);

	if (ret < 0)
		return ret;
	ret = write_limit(fd, from + bytes);
	if (ret < 0)
		return ret;
	if (read_limit(fd, &to) < 0)
		to = from + bytes;
	*ret_from = from;
	*ret_to = to;
	return 0;
}

/* The memory+swap limit raised with the memory limit when it binds (it
 * is close to the memory limit, as Docker and the tests set it). */
static void
memsw_raise(struct rescue *r, uint64_t limit_bytes)
{
	uint64_t from, to;

	r->memsw_bytes = 0;
	if (memsw_limit(r->memsw_fd, limit_bytes) == 0)
		return;
	if (raise_limit(r->memsw_fd, r->bytes, &from, &to) == 0) {
		r->memsw_bytes = from;
		r->memsw_raised_bytes = to;
	}
}

int
rescue_release(struct rescue *r)
{
	uint64_t from, to;
	int ret = 0;

	if (!r->held)
		return -EALREADY;
	r->held = false;
	if (r->mode == RESERVE_LIMIT) {
		ret = read_limit(r->limit_fd, &from);
		if (ret < 0)
			return ret;
		memsw_raise(r, from);
		ret = raise_limit(r->limit_fd, r->bytes, &from, &to);
		if (ret < 0)
			return ret;
		r->limit_bytes = from;
		r->raised_bytes = to;
		r->raised = true;
		return 0;
	}
	/* Exactly the reserve's own VMA: no split, no allocation. */
	if (munmap(r->addr, r->mapped_bytes) < 0)
		ret = -errno;
	r->addr = NULL;
	r->mapped_bytes = 0;
	r->locked_bytes = 0;
	return ret;
}

void
rescue_drop(struct rescue *r)
{
	if (!r->held)
		return;
	if (r->mode == RESERVE_LIMIT) {
		r->held = false;
		return;
	}
	(void)rescue_release(r);
}

/* Put one limit file back from `to` (what the raise left) to `from`, if
 * it still reads `to`. Return 0, 1 when it reads another value (left
 * alone), or -errno. */
static int
restore_limit(int fd, uint64_t from, uint64_t to)
{
	uint64_t now;
	int ret = read_limit(fd, &now);

	if (ret == -ERANGE || (ret == 0 && now != to))
		return 1;
	if (ret < 0)
		return ret;
	return write_limit(fd, from);
}

int
rescue_restore(struct rescue *r)
{
	int ret, sw = 0;

	if (!r->raised)
		return 0;
	ret = restore_limit(r->limit_fd, r->limit_bytes, r->raised_bytes);
	if (ret < 0)
		return ret;
	/* memsw last: it must stay at or above the limit. Under a limit the
	 * operator changed, a refusal is theirs to settle. */
	if (r->memsw_bytes != 0) {
		sw = restore_limit(r->memsw_fd, r->memsw_bytes, r->memsw_raised_bytes);
		if (sw < 0 && ret == 0)
			return sw;
	}
	r->raised = false;
	return ret == 1 || sw == 1 ? 1 : 0;
}

void
rescue_close(struct rescue *r)
{
	reserve_unmap_region(r);
	(void)rescue_restore(r);
	if (r->limit_fd >= 0)
		close(r->limit_fd);
	if (r->memsw_fd >= 0)
		close(r->memsw_fd);
	r->limit_fd = r->memsw_fd = -1;
	r->held = false;
}
