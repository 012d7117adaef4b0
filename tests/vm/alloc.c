/*
 * alloc - hold a given amount of anonymous memory, for the VM payloads.
 *
 * Usage: alloc MIB
 *
 * Maps MIB MiB of anonymous memory, writes to every page so that each one
 * is really charged to the caller's cgroup, prints one line, then sleeps
 * until killed. busybox has no tool that does this. Built static by
 * build.sh so the VM needs no libc for it.
 *
 * Exit status: 1 when the mapping fails, 64 on a usage error; otherwise it
 * does not exit on its own.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/*
 * Parses a non-negative decimal number. Returns 0 and sets *ret_value, or
 * -EINVAL.
 */
static int
alloc_parse(const char *s, unsigned long *ret_value)
{
	char *end;
	unsigned long value;

	errno = 0;
	value = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-')
		return -EINVAL;
	*ret_value = value;
	return 0;
}

/*
 * Maps size_bytes of anonymous memory and writes every page. Returns 0,
 * or -errno when the mapping fails.
 */
static int
alloc_touch(size_t size_bytes)
{
	long page_bytes = sysconf(_SC_PAGESIZE);
	unsigned char *p;
	size_t off;

	p = mmap(NULL, size_bytes, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	/* One write per page faults it in and charges it; a read would not. */
	for (off = 0; off < size_bytes; off += (size_t)page_bytes)
		p[off] = 1;
	return 0;
}

int
main(int argc, char *argv[])
{
	unsigned long size_mib;
	int r;

	if (argc != 2 || alloc_parse(argv[1], &size_mib) < 0) {
		fprintf(stderr, "usage: alloc MIB\n");
		return 64;
	}
	r = alloc_touch((size_t)size_mib << 20);
	if (r < 0) {
		fprintf(stderr, "alloc: mmap %lu MiB: %s\n", size_mib,
		    strerror(-r));
		return 1;
	}
	printf("alloc: pid %d holds %lu MiB\n", (int)getpid(), size_mib);
	fflush(stdout);
	for (;;)
		pause();
}
