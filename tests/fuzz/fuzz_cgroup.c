/*
 * fuzz_cgroup.c: /proc/PID/cgroup and /proc/self/mountinfo (cgroup.c).
 * The input is the text of both files, separated by a NUL byte; what the
 * parsers find is joined into a path as cgroup_find_pid() does.
 */
#include <limits.h>

#include "cgroup.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size), *part[2];
	struct cgroup_membership m;
	struct cgroup_mounts mounts;
	char dir[PATH_MAX];
	int rm, rt;

	fuzz_split(s, size, part, 2);
	rm = cgroup_parse_membership(part[0], &m);
	rt = cgroup_parse_mounts(part[1], &mounts);
	/* Each text is tried as the other as well: a fixture mix-up, or a
	 * file that is not what its name says. */
	(void)cgroup_parse_membership(part[1], &m);
	(void)cgroup_parse_mounts(part[0], &mounts);
	if (rm == 0 && rt == 0) {
		rm = cgroup_parse_membership(part[0], &m);
		rt = cgroup_parse_mounts(part[1], &mounts);
	}
	if (rm == 0 && rt == 0) {
		if (mounts.has_v1_memory)
			(void)cgroup_join(
			    "/fs", mounts.v1_root, mounts.v1_point, m.v1_memory, dir, sizeof(dir));
		if (mounts.has_v2)
			(void)cgroup_join(
			    "/fs", mounts.v2_root, mounts.v2_point, m.v2, dir, sizeof(dir));
	}
	free(s);
	return 0;
}
