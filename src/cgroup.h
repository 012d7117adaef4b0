/*
 * cgroup.h: finding the memory cgroup of a process or of a path, on cgroup
 * v1, v2 and hybrid hosts, from /proc/PID/cgroup and /proc/self/mountinfo.
 * Both roots are parameters: proc_root replaces "/proc", and fs_root is
 * put in front of every mount point, so tests point them at fixture trees.
 */
#ifndef OOMGUARD_CGROUP_H
#define OOMGUARD_CGROUP_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

enum cgroup_layout { CGROUP_LEGACY, CGROUP_HYBRID, CGROUP_UNIFIED };

/* Where the cgroup hierarchies are mounted, from mountinfo. */
struct cgroup_mounts {
	bool has_v1_memory;
	char v1_root[PATH_MAX]; /* the mount's root within the hierarchy */
	char v1_point[PATH_MAX];
	bool has_v2;
	char v2_root[PATH_MAX];
	char v2_point[PATH_MAX];
};

/* A process's cgroup paths, from /proc/PID/cgroup ("" when absent). */
struct cgroup_membership {
	char v1_memory[PATH_MAX];
	char v2[PATH_MAX];
};

/* A memory cgroup, located. Its three strings are sized to their
 * contents and share one allocation, which the struct owns: release it
 * with cgroup_free(). A zeroed struct holds none (the strings are NULL). */
struct cgroup {
	int version; /* of the memory controller: 1 or 2 */
	enum cgroup_layout layout;
	char *path;      /* within the hierarchy, "/" for its root */
	char *dir;       /* its directory, fs_root included */
	char *psi_file;  /* the memory pressure file that applies, or "" */
	bool psi_system; /* psi_file is the whole system's */
};

/* Parse the text of /proc/PID/cgroup. Return 0, or -ENOENT when it names
 * neither a v1 memory cgroup nor a v2 one. */
int cgroup_parse_membership(const char *text, struct cgroup_membership *ret);

/* Parse the text of /proc/self/mountinfo. Return 0, or -ENOENT when no
 * cgroup v1 memory or cgroup2 mount is found. */
int cgroup_parse_mounts(const char *text, struct cgroup_mounts *ret);

/* Join a mount point and a cgroup path taken relative to the mount's
 * root. A path outside the mount's root (as "/.." in a cgroup namespace)
 * cannot be reached. Return 0, -EXDEV when unreachable, -ENAMETOOLONG. */
int cgroup_join(const char *fs_root, const char *mount_root, const char *mount_point,
    const char *path, char *ret, size_t len);

/* Locate the memory cgroup of pid (0: the caller). On success *ret is
 * overwritten without being read: cgroup_free() what it held before.
 * Return 0, or -errno: -ENOENT without a memory cgroup, -EXDEV when it
 * lies outside what this mount namespace can see, -ENOMEM, or the error
 * of reading the proc files (*ret untouched on error). */
int cgroup_find_pid(const char *proc_root, const char *fs_root, pid_t pid, struct cgroup *ret);

/* Locate a memory cgroup given as a directory, or as a path within the
 * memory hierarchy (as /proc/PID/cgroup prints it), into *ret as
 * cgroup_find_pid() does. Return 0, or -ENOENT when it is neither, or
 * -errno. */
int cgroup_find_path(
    const char *proc_root, const char *fs_root, const char *path, struct cgroup *ret);

/* Free what cg holds and zero it. NULL or a zeroed struct: nothing. */
void cgroup_free(struct cgroup *cg);

/* Whether a and b are the same cgroup: version, layout and strings. */
bool cgroup_same(const struct cgroup *a, const struct cgroup *b);

const char *cgroup_layout_name(enum cgroup_layout layout);

#endif
