/*
 * cgroup.c: locating memory cgroups. The parsers are pure; the finders
 * read /proc/PID/cgroup and /proc/self/mountinfo under proc_root, and look
 * at directories under fs_root.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"
#include "file.h"

#define PROC_TEXT_MAX 65536

const char *
cgroup_layout_name(enum cgroup_layout layout)
{
	static const char *const names[] = { "legacy", "hybrid", "unified" };

	return names[layout];
}

/* Does a comma-separated controller list name "memory"? */
static bool
list_has_memory(const char *list, size_t len)
{
	const char *p = list, *end = list + len;

	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		size_t n = comma != NULL ? (size_t)(comma - p) : (size_t)(end - p);

		if (n == 6 && strncmp(p, "memory", 6) == 0)
			return true;
		p += n + 1;
	}
	return false;
}

static void
copy_field(char *dst, size_t dstlen, const char *src, size_t n)
{
	if (n >= dstlen)
		n = dstlen - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* One line "ID:CONTROLLERS:PATH" of /proc/PID/cgroup. */
static void
membership_line(const char *line, size_t len, struct cgroup_membership *m)
{
	const char *c1 = memchr(line, ':', len);
	const char *c2 = c1 != NULL ? memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - line)) : NULL;
	size_t plen;

	if (c2 == NULL)
		return;
	plen = len - (size_t)(c2 + 1 - line);
	if (c1 - line == 1 && line[0] == '0' && c2 == c1 + 1)
		copy_field(m->v2, sizeof(m->v2), c2 + 1, plen);
	else if (list_has_memory(c1 + 1, (size_t)(c2 - c1 - 1)))
		copy_field(m->v1_memory, sizeof(m->v1_memory), c2 + 1, plen);
}

int
cgroup_parse_membership(const char *text, struct cgroup_membership *ret)
{
	struct cgroup_membership m = { "", "" };
	const char *p = text;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);

		membership_line(p, len, &m);
		p += len + (nl != NULL);
	}
	if (m.v1_memory[0] == '\0' && m.v2[0] == '\0')
		return -ENOENT;
	*ret = m;
	return 0;
}

/* Copy a mountinfo field, decoding the octal escapes (\040 for a space)
 * the kernel writes for whitespace and backslashes. */
static void
unescape_field(char *dst, size_t dstlen, const char *src, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 1 < dstlen; i++) {
		if (src[i] == '\\' && i + 3 < n && src[i + 1] >= '0' && src[i + 1] <= '3') {
			dst[o++] = (char)((src[i + 1] - '0') * 64 + (src[i + 2] - '0') * 8 +
			    (src[i + 3] - '0'));
			i += 3;
		} else {
			dst[o++] = src[i];
		}
	}
	dst[o] = '\0';
}

/* Split a line into space-separated fields; return how many (at most max). */
static int
split_fields(const char *line, size_t len, const char **f, size_t *flen, int max)
{
	int n = 0;
	size_t i = 0;

	while (i < len && n < max) {
		while (i < len && line[i] == ' ')
			i++;
		if (i == len)
			break;
		f[n] = line + i;
		while (i < len && line[i] != ' ')
			i++;
		flen[n] = (size_t)(line + i - f[n]);
		n++;
	}
	return n;
}

/* One mountinfo line: "ID PARENT MAJ:MIN ROOT POINT OPTS [OPTIONAL...] -
 * FSTYPE SOURCE SUPEROPTS". */
static void
mounts_line(const char *line, size_t len, struct cgroup_mounts *m)
{
	const char *f[32];
	size_t fl[32];
	int n = split_fields(line, len, f, fl, 32), sep;

	for (sep = 6; sep < n && !(fl[sep] == 1 && f[sep][0] == '-'); sep++)
		;
	if (sep + 1 >= n)
		return;
	/* A later mount at the same point hides an earlier one (a container
	 * mounting its own cgroupfs over the host's), so the last one wins. */
	if (fl[sep + 1] == 7 && strncmp(f[sep + 1], "cgroup2", 7) == 0) {
		m->has_v2 = true;
		unescape_field(m->v2_root, sizeof(m->v2_root), f[3], fl[3]);
		unescape_field(m->v2_point, sizeof(m->v2_point), f[4], fl[4]);
	} else if (fl[sep + 1] == 6 && strncmp(f[sep + 1], "cgroup", 6) == 0 && sep + 3 < n &&
	    list_has_memory(f[sep + 3], fl[sep + 3])) {
		m->has_v1_memory = true;
		unescape_field(m->v1_root, sizeof(m->v1_root), f[3], fl[3]);
		unescape_field(m->v1_point, sizeof(m->v1_point), f[4], fl[4]);
	}
}

int
cgroup_parse_mounts(const char *text, struct cgroup_mounts *ret)
{
	struct cgroup_mounts m;
	const char *p = text;

	memset(&m, 0, sizeof(m));
	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);

		mounts_line(p, len, &m);
		p += len + (nl != NULL);
	}
	if (!m.has_v1_memory && !m.has_v2)
		return -ENOENT;
	*ret = m;
	return 0;
}

int
cgroup_join(const char *fs_root, const char *mount_root, const char *mount_point, const char *path,
    char *ret, size_t len)
{
	size_t rlen = strlen(mount_root);
	const char *rel;
	int n;

	if (strcmp(mount_root, "/") == 0)
		rlen = 0;
	if (strncmp(path, mount_root, rlen) != 0 || (path[rlen] != '/' && path[rlen] != '\0'))
		return -EXDEV;
	rel = path + rlen;
	if (strcmp(rel, "/") == 0)
		rel = "";
	if (strncmp(rel, "/..", 3) == 0 && (rel[3] == '/' || rel[3] == '\0'))
		return -EXDEV;
	n = snprintf(ret, len, "%s%s%s", fs_root, mount_point, rel);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static bool
is_file(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	if (file_join(path, sizeof(path), dir, name) < 0)
		return false;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int
read_mounts(const char *proc_root, struct cgroup_mounts *ret)
{
	char path[PATH_MAX], text[PROC_TEXT_MAX];
	int r;

	r = file_join(path, sizeof(path), proc_root, "/self/mountinfo");
	if (r < 0)
		return r;
	r = file_read(path, text, sizeof(text));
	if (r < 0)
		return r;
	return cgroup_parse_mounts(text, ret);
}

/* A cgroup as it is being located, in buffers of the largest size. */
struct found {
	int version;
	enum cgroup_layout layout;
	char path[PATH_MAX];
	char dir[PATH_MAX];
	char psi_file[PATH_MAX];
	bool psi_system;
};

/* Copy f into *ret, its strings in one allocation of their sizes.
 * Return 0 or -ENOMEM. */
static int
found_take(const struct found *f, struct cgroup *ret)
{
	size_t np = strlen(f->path) + 1, nd = strlen(f->dir) + 1, ns = strlen(f->psi_file) + 1;
	char *text = malloc(np + nd + ns);

	if (text == NULL)
		return -ENOMEM;
	memcpy(text, f->path, np);
	memcpy(text + np, f->dir, nd);
	memcpy(text + np + nd, f->psi_file, ns);
	ret->version = f->version;
	ret->layout = f->layout;
	ret->path = text; /* the allocation's start, which cgroup_free() frees */
	ret->dir = text + np;
	ret->psi_file = text + np + nd;
	ret->psi_system = f->psi_system;
	return 0;
}

void
cgroup_free(struct cgroup *cg)
{
	if (cg == NULL)
		return;
	free(cg->path); /* the start of the one allocation */
	*cg = (struct cgroup){ 0 };
}

static bool
str_same(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

bool
cgroup_same(const struct cgroup *a, const struct cgroup *b)
{
	return a->version == b->version && a->layout == b->layout &&
	    a->psi_system == b->psi_system && str_same(a->path, b->path) &&
	    str_same(a->dir, b->dir) && str_same(a->psi_file, b->psi_file);
}

/* The pressure file for a cgroup: its own on v2; on a hybrid host the
 * unified tree's file of the same process, when that cgroup has one;
 * else the whole system's. */
static void
locate_psi(const char *proc_root, const char *unified_dir, struct found *cg)
{
	cg->psi_system = false;
	if (unified_dir != NULL && is_file(unified_dir, "/memory.pressure") &&
	    file_join(cg->psi_file, sizeof(cg->psi_file), unified_dir, "/memory.pressure") == 0)
		return;
	cg->psi_system = true;
	if (file_join(cg->psi_file, sizeof(cg->psi_file), proc_root, "/pressure/memory") < 0 ||
	    access(cg->psi_file, R_OK) < 0)
		cg->psi_file[0] = '\0';
}

static enum cgroup_layout
layout_of(const struct cgroup_mounts *m)
{
	if (!m->has_v1_memory)
		return CGROUP_UNIFIED;
	return m->has_v2 ? CGROUP_HYBRID : CGROUP_LEGACY;
}

int
cgroup_find_pid(const char *proc_root, const char *fs_root, pid_t pid, struct cgroup *ret)
{
	struct cgroup_membership mb;
	struct cgroup_mounts m;
	struct found cg;
	char path[PATH_MAX], text[PROC_TEXT_MAX], unified[PATH_MAX];
	const char *udir = NULL;
	int r;

	if (pid > 0)
		snprintf(path, sizeof(path), "%s/%d/cgroup", proc_root, (int)pid);
	else
		snprintf(path, sizeof(path), "%s/self/cgroup", proc_root);
	r = file_read(path, text, sizeof(text));
	if (r < 0)
		return r;
	r = cgroup_parse_membership(text, &mb);
	if (r < 0)
		return r;
	r = read_mounts(proc_root, &m);
	if (r < 0)
		return r;
	memset(&cg, 0, sizeof(cg));
	cg.layout = layout_of(&m);
	if (m.has_v2 && mb.v2[0] != '\0' &&
	    cgroup_join(fs_root, m.v2_root, m.v2_point, mb.v2, unified, sizeof(unified)) == 0)
		udir = unified;
	if (m.has_v1_memory) {
		if (mb.v1_memory[0] == '\0')
			return -ENOENT;
		cg.version = 1;
		snprintf(cg.path, sizeof(cg.path), "%s", mb.v1_memory);
		r = cgroup_join(
		    fs_root, m.v1_root, m.v1_point, mb.v1_memory, cg.dir, sizeof(cg.dir));
	} else {
		if (udir == NULL)
			return mb.v2[0] == '\0' ? -ENOENT : -EXDEV;
		cg.version = 2;
		snprintf(cg.path, sizeof(cg.path), "%s", mb.v2);
		r = file_join(cg.dir, sizeof(cg.dir), udir, "");
	}
	if (r < 0)
		return r;
	locate_psi(proc_root, udir, &cg);
	/* The unified tree's root: its pressure is the whole system's. */
	if (udir != NULL && strcmp(mb.v2, "/") == 0)
		cg.psi_system = true;
	return found_take(&cg, ret);
}

/* Which memory controller a directory belongs to, from the files in it. */
static int
version_of_dir(const char *dir)
{
	if (is_file(dir, "/memory.usage_in_bytes"))
		return 1;
	if (is_file(dir, "/memory.current"))
		return 2;
	return 0;
}

/* A path given as the cgroup's name in its hierarchy, as /proc/PID/cgroup
 * prints it: look it up under the memory controller's mount. */
static int
find_by_name(const struct cgroup_mounts *m, const char *fs_root, const char *path, struct found *cg)
{
	int r;

	if (m->has_v1_memory)
		r = cgroup_join(fs_root, m->v1_root, m->v1_point, path, cg->dir, sizeof(cg->dir));
	else
		r = cgroup_join(fs_root, m->v2_root, m->v2_point, path, cg->dir, sizeof(cg->dir));
	if (r < 0)
		return r;
	cg->version = version_of_dir(cg->dir);
	if (cg->version == 0)
		return -ENOENT;
	snprintf(cg->path, sizeof(cg->path), "%s", path);
	return 0;
}

/* The cgroup's name from its directory: the directory with the mount point
 * taken off and the mount's root put in front. */
static void
name_from_dir(const char *root, const char *point, const char *fs_root, const char *dir, char *ret,
    size_t len)
{
	size_t flen = strlen(fs_root), plen = strlen(point);
	const char *rel = dir + flen;

	if (strncmp(dir, fs_root, flen) != 0 || strncmp(rel, point, plen) != 0) {
		snprintf(ret, len, "%s", dir);
		return;
	}
	rel += plen;
	if (strcmp(root, "/") == 0)
		root = "";
	snprintf(ret, len, "%s%s", root, rel);
	if (ret[0] == '\0')
		snprintf(ret, len, "/");
}

int
cgroup_find_path(const char *proc_root, const char *fs_root, const char *path, struct cgroup *ret)
{
	struct cgroup_mounts m;
	struct found cg;
	int r;

	r = read_mounts(proc_root, &m);
	if (r < 0)
		return r;
	memset(&cg, 0, sizeof(cg));
	cg.layout = layout_of(&m);
	if (file_join(cg.dir, sizeof(cg.dir), fs_root, path) == 0 &&
	    (cg.version = version_of_dir(cg.dir)) != 0) {
		if (cg.version == 1)
			name_from_dir(
			    m.v1_root, m.v1_point, fs_root, cg.dir, cg.path, sizeof(cg.path));
		else
			name_from_dir(
			    m.v2_root, m.v2_point, fs_root, cg.dir, cg.path, sizeof(cg.path));
	} else {
		r = find_by_name(&m, fs_root, path, &cg);
		if (r < 0)
			return r;
	}
	locate_psi(proc_root, cg.version == 2 ? cg.dir : NULL, &cg);
	return found_take(&cg, ret);
}
