/*
 * check_cgscan.c: glob patterns over a cgroup tree: the match, the walk of
 * a tree of plain directories, and the watch (inotify, then a rescan) on
 * that tree and, run by tests/integration/test_cgscan.sh, on real v1
 * memory cgroups made under the test's own.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"
#include "cgscan.h"
#include "suite.h"

START_TEST(test_match)
{
	ck_assert_int_eq(cgscan_match("kubepods.slice/*/*/*.scope",
	                     "kubepods.slice/kubepods-pod1.slice/x/cri-containerd-ab.scope"),
	    1);
	ck_assert_int_eq(cgscan_match("kubepods.slice/*/*/*.scope", "kubepods.slice/a/b"), 0);
	ck_assert_int_eq(cgscan_match("kubepods.slice/*/*.scope", "kubepods.slice/a/b/c.scope"), 0);
	ck_assert_int_eq(
	    cgscan_match("system.slice/docker-*.scope", "system.slice/docker-ab12.scope"), 1);
	ck_assert_int_eq(
	    cgscan_match("system.slice/docker-*.scope", "system.slice/cron.service"), 0);
	/* '*' never crosses a '/' */
	ck_assert_int_eq(cgscan_match("docker/*", "docker/a/b"), 0);
	ck_assert_int_eq(cgscan_match("docker/[0-9a-f]*", "docker/ab"), 1);
	ck_assert_int_eq(cgscan_match("docker/[0-9a-f]*", "docker/xb"), 0);
}
END_TEST

static char tmp[PATH_MAX];

static void
mk(const char *rel)
{
	char path[PATH_MAX];

	ck_assert_int_lt(snprintf(path, sizeof(path), "%s/%s", tmp, rel), sizeof(path));
	ck_assert_msg(mkdir(path, 0755) == 0, "mkdir %s: %s", path, strerror(errno));
}

static void
rm(const char *rel)
{
	char path[PATH_MAX];

	ck_assert_int_lt(snprintf(path, sizeof(path), "%s/%s", tmp, rel), sizeof(path));
	ck_assert_msg(rmdir(path) == 0, "rmdir %s: %s", path, strerror(errno));
}

static void
tree(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/check_cgscan.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	mk("system.slice");
	mk("system.slice/docker-a1.scope");
	mk("system.slice/docker-b2.scope");
	mk("system.slice/docker-b2.scope/inner.scope");
	mk("system.slice/cron.service");
	mk("user.slice");
}

static void
tree_rm(void)
{
	char cmd[PATH_MAX + 16];

	ck_assert_int_lt(snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp), sizeof(cmd));
	ck_assert_int_eq(system(cmd), 0);
}

static char walked[1024];

static void
on_walk(const char *rel, void *arg)
{
	(void)arg;
	snprintf(walked + strlen(walked), sizeof(walked) - strlen(walked), "%s;", rel);
}

START_TEST(test_walk)
{
	char path[PATH_MAX];

	tree();
	walked[0] = '\0';
	ck_assert_int_eq(cgscan_walk(tmp, "system.slice/docker-*.scope", on_walk, NULL, NULL), 2);
	ck_assert_msg(strstr(walked, "system.slice/docker-a1.scope;") != NULL, "%s", walked);
	ck_assert_msg(strstr(walked, "system.slice/docker-b2.scope;") != NULL, "%s", walked);
	walked[0] = '\0';
	ck_assert_int_eq(cgscan_walk(tmp, "*/*/*", on_walk, NULL, NULL), 1);
	ck_assert_str_eq(walked, "system.slice/docker-b2.scope/inner.scope;");
	/* a file is never a cgroup */
	ck_assert_int_lt(snprintf(path, sizeof(path), "%s/user.slice/x.scope", tmp), sizeof(path));
	fclose(fopen(path, "w"));
	ck_assert_int_eq(cgscan_walk(tmp, "user.slice/*", on_walk, NULL, NULL), 0);
	ck_assert_int_eq(cgscan_walk("/nonexistent", "*", on_walk, NULL, NULL), -ENOENT);
	tree_rm();
}
END_TEST

struct seen {
	struct event_base *base;
	int found, lost;
	char last[PATH_MAX];
};

static void
on_found(const char *rel, size_t index, void *arg)
{
	struct seen *s = arg;

	ck_assert_uint_eq(index, 0);
	s->found++;
	snprintf(s->last, sizeof(s->last), "+%s", rel);
	event_base_loopbreak(s->base);
}

static void
on_lost(const char *rel, size_t index, void *arg)
{
	struct seen *s = arg;

	(void)index;
	s->lost++;
	snprintf(s->last, sizeof(s->last), "-%s", rel);
	event_base_loopbreak(s->base);
}

/* Run the loop until a callback or a second passes. */
static void
loop_once(struct seen *s)
{
	struct timeval tv = { 1, 0 };

	event_base_loopexit(s->base, &tv);
	event_base_dispatch(s->base);
}

/* The watch on root (made of dirs by make and removed by remove): the
 * start's matches, one made (found by inotify, with the fallback rescan
 * an hour away), one removed. */
static void
check_watch(const char *root, const char *pattern, void (*make)(const char *),
    void (*remove)(const char *), const char *parent, const char *child)
{
	struct seen s = { .base = event_base_new() };
	struct cgscan_callbacks cb = { on_found, on_lost, &s };
	const char *pats[] = { pattern };
	char rel[PATH_MAX];
	struct cgscan *scan;

	make(parent);
	scan = cgscan_new(s.base, root, pats, 1, 3600ULL * 1000000, &cb);
	ck_assert_ptr_nonnull(scan);
	ck_assert_int_eq(cgscan_inotify(scan), 1);
	ck_assert_int_eq(s.found, 0);
	snprintf(rel, sizeof(rel), "%s/%s", parent, child);
	make(rel);
	loop_once(&s);
	ck_assert_int_eq(s.found, 1);
	ck_assert_msg(strcmp(s.last + 1, rel) == 0 && s.last[0] == '+', "%s", s.last);
	remove(rel);
	loop_once(&s);
	ck_assert_int_eq(s.lost, 1);
	ck_assert_msg(s.last[0] == '-', "%s", s.last);
	remove(parent);
	cgscan_free(scan);
	event_base_free(s.base);
}

START_TEST(test_watch_tmp)
{
	tree();
	check_watch(tmp, "pods/*.scope", mk, rm, "pods", "c1.scope");
	tree_rm();
}
END_TEST

/* Real v1 memory cgroups: cgroupfs gives inotify events for mkdir and
 * rmdir of child cgroups. Cgroups are made only under the test lock, so
 * this case runs when CGSCAN_CGROUPS=1, as tests/integration/test_cgscan.sh
 * sets it. */
START_TEST(test_watch_v1)
{
	struct cgroup cg = { 0 };

	if (getenv("CGSCAN_CGROUPS") == NULL || strcmp(getenv("CGSCAN_CGROUPS"), "1") != 0) {
		fprintf(stderr,
		    "check_cgscan: test_watch_v1 left to test_cgscan.sh (make "
		    "check-integration)\n");
		return;
	}
	if (cgroup_find_pid("/proc", "", 0, &cg) < 0 || cg.version != 1) {
		cgroup_free(&cg);
		fprintf(
		    stderr, "check_cgscan: skipped test_watch_v1: the memory cgroup is not v1\n");
		return;
	}
	ck_assert_int_lt(
	    snprintf(tmp, sizeof(tmp), "%s/check_cgscan-%d", cg.dir, (int)getpid()), sizeof(tmp));
	cgroup_free(&cg);
	if (mkdir(tmp, 0755) < 0) {
		fprintf(stderr, "check_cgscan: skipped test_watch_v1: mkdir %s: %s\n", tmp,
		    strerror(errno));
		return;
	}
	check_watch(tmp, "*.slice/*.scope", mk, rm, "a.slice", "x.scope");
	ck_assert_int_eq(rmdir(tmp), 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("cgscan");
	TCase *tc = tcase_create("cgscan");

	tcase_add_test(tc, test_match);
	tcase_add_test(tc, test_walk);
	tcase_add_test(tc, test_watch_tmp);
	tcase_add_test(tc, test_watch_v1);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
