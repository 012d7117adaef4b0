/*
 * check_cgroup.c: cgroup discovery on fixture trees copied from real
 * systems (tests/fixtures/: hybrid and legacy v1 from a 6.x host, nsv1 a
 * cgroup namespace with its own mount, v2 from Debian's kernel in a VM),
 * and the parsers on the edge cases those trees do not show.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"
#include "suite.h"

#define FX      "tests/fixtures/"
#define HOST_CG "/process_api/7855fb0c0c1de9d4b0337360aecab08e/oomguard-fixture"

START_TEST(test_hybrid_self)
{
	struct cgroup cg;

	ck_assert_int_eq(cgroup_find_pid(FX "hybrid/proc", FX "hybrid", 0, &cg), 0);
	ck_assert_int_eq(cg.version, 1);
	ck_assert_int_eq(cg.layout, CGROUP_HYBRID);
	ck_assert_str_eq(cg.path, HOST_CG);
	ck_assert_str_eq(cg.dir, FX "hybrid/sys/fs/cgroup/memory" HOST_CG);
	/* PSI comes from the unified tree's cgroup of the same process,
	 * here its root ("0::/"): the whole system's pressure. */
	ck_assert_str_eq(cg.psi_file, FX "hybrid/sys/fs/cgroup/unified/memory.pressure");
	ck_assert(cg.psi_system);
	cgroup_free(&cg);
}
END_TEST

START_TEST(test_legacy_self)
{
	struct cgroup cg;

	ck_assert_int_eq(cgroup_find_pid(FX "legacy/proc", FX "legacy", 0, &cg), 0);
	ck_assert_int_eq(cg.version, 1);
	ck_assert_int_eq(cg.layout, CGROUP_LEGACY);
	ck_assert_str_eq(cg.dir, FX "legacy/sys/fs/cgroup/memory" HOST_CG);
	ck_assert_str_eq(cg.psi_file, FX "legacy/proc/pressure/memory");
	ck_assert(cg.psi_system);
	cgroup_free(&cg);
}
END_TEST

/* In a cgroup namespace with its own mount stacked over the host's, the
 * later mount wins and "/" is the namespace's root. */
START_TEST(test_namespace_self)
{
	struct cgroup cg;

	ck_assert_int_eq(cgroup_find_pid(FX "nsv1/proc", FX "nsv1", 0, &cg), 0);
	ck_assert_int_eq(cg.version, 1);
	ck_assert_str_eq(cg.path, "/");
	ck_assert_str_eq(cg.dir, FX "nsv1/sys/fs/cgroup/memory");
	cgroup_free(&cg);
}
END_TEST

START_TEST(test_v2_self)
{
	struct cgroup cg;

	ck_assert_int_eq(cgroup_find_pid(FX "v2/proc", FX "v2", 0, &cg), 0);
	ck_assert_int_eq(cg.version, 2);
	ck_assert_int_eq(cg.layout, CGROUP_UNIFIED);
	ck_assert_str_eq(cg.path, "/test");
	ck_assert_str_eq(cg.dir, FX "v2/sys/fs/cgroup/test");
	ck_assert_str_eq(cg.psi_file, FX "v2/sys/fs/cgroup/test/memory.pressure");
	ck_assert(!cg.psi_system);
	cgroup_free(&cg);
	ck_assert_int_eq(cgroup_find_path(FX "v2/proc", FX "v2", "/nolimit", &cg), 0);
	ck_assert_int_eq(cg.version, 2);
	ck_assert_str_eq(cg.dir, FX "v2/sys/fs/cgroup/nolimit");
	cgroup_free(&cg);
	ck_assert_int_eq(cgroup_find_path(FX "v2/proc", FX "v2", "/sys/fs/cgroup/test", &cg), 0);
	ck_assert_str_eq(cg.path, "/test");
	cgroup_free(&cg);
}
END_TEST

START_TEST(test_find_path)
{
	struct cgroup cg, other;

	/* as a directory */
	ck_assert_int_eq(
	    cgroup_find_path(FX "hybrid/proc", FX "hybrid", "/sys/fs/cgroup/memory" HOST_CG, &cg),
	    0);
	ck_assert_int_eq(cg.version, 1);
	ck_assert_str_eq(cg.path, HOST_CG);
	/* as a name in the memory hierarchy: the same cgroup */
	ck_assert_int_eq(cgroup_find_path(FX "hybrid/proc", FX "hybrid", HOST_CG, &other), 0);
	ck_assert_str_eq(other.dir, FX "hybrid/sys/fs/cgroup/memory" HOST_CG);
	ck_assert(cgroup_same(&cg, &other));
	cgroup_free(&other);
	/* an error leaves *ret alone */
	ck_assert_int_eq(
	    cgroup_find_path(FX "hybrid/proc", FX "hybrid", "/no/such/cgroup", &cg), -ENOENT);
	ck_assert_str_eq(cg.path, HOST_CG);
	cgroup_free(&cg);
	ck_assert_ptr_null(cg.dir);
	ck_assert_int_eq(cgroup_find_path(FX "nsv1/proc", FX "nsv1", "/", &cg), 0);
	ck_assert_str_eq(cg.dir, FX "nsv1/sys/fs/cgroup/memory");
	cgroup_free(&cg);
}
END_TEST

START_TEST(test_missing_proc)
{
	struct cgroup cg;

	ck_assert_int_eq(cgroup_find_pid(FX "nonexistent/proc", "", 0, &cg), -ENOENT);
	ck_assert_int_eq(cgroup_find_pid(FX "hybrid/proc", FX "hybrid", 999999, &cg), -ENOENT);
}
END_TEST

START_TEST(test_parse_membership)
{
	struct cgroup_membership m;

	ck_assert_int_eq(cgroup_parse_membership("0::/user.slice/app.service\n", &m), 0);
	ck_assert_str_eq(m.v2, "/user.slice/app.service");
	ck_assert_str_eq(m.v1_memory, "");
	ck_assert_int_eq(cgroup_parse_membership("5:cpu,memory:/docker/abc\n0::/\n", &m), 0);
	ck_assert_str_eq(m.v1_memory, "/docker/abc");
	ck_assert_str_eq(m.v2, "/");
	/* "memoryx" is not "memory"; a path may hold colons */
	ck_assert_int_eq(cgroup_parse_membership("3:memoryx:/a\n4:memory:/b:c\n", &m), 0);
	ck_assert_str_eq(m.v1_memory, "/b:c");
	ck_assert_int_eq(cgroup_parse_membership("3:cpu:/a\n", &m), -ENOENT);
	ck_assert_int_eq(cgroup_parse_membership("", &m), -ENOENT);
}
END_TEST

START_TEST(test_parse_mounts)
{
	struct cgroup_mounts m;
	const char *v2 = "25 1 0:22 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";
	const char *escaped = "30 22 0:27 /a\\040b /mnt/cg\\040x rw shared:5 master:1 - cgroup "
	                      "cgroup rw,memory\n";

	ck_assert_int_eq(cgroup_parse_mounts(v2, &m), 0);
	ck_assert(m.has_v2 && !m.has_v1_memory);
	ck_assert_str_eq(m.v2_point, "/sys/fs/cgroup");
	ck_assert_int_eq(cgroup_parse_mounts(escaped, &m), 0);
	ck_assert(m.has_v1_memory);
	ck_assert_str_eq(m.v1_root, "/a b");
	ck_assert_str_eq(m.v1_point, "/mnt/cg x");
	ck_assert_int_eq(cgroup_parse_mounts("1 0 0:1 / / rw - ext4 /dev/vda rw\n", &m), -ENOENT);
	ck_assert_int_eq(cgroup_parse_mounts("garbage\n", &m), -ENOENT);
}
END_TEST

START_TEST(test_join)
{
	char out[256];

	ck_assert_int_eq(
	    cgroup_join("", "/", "/sys/fs/cgroup/memory", "/a/b", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/sys/fs/cgroup/memory/a/b");
	ck_assert_int_eq(cgroup_join("", "/", "/sys/fs/cgroup", "/", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/sys/fs/cgroup");
	/* Docker without a cgroup namespace: the mount's root is the container's cgroup. */
	ck_assert_int_eq(cgroup_join("", "/docker/abc", "/sys/fs/cgroup/memory", "/docker/abc", out,
	                     sizeof(out)),
	    0);
	ck_assert_str_eq(out, "/sys/fs/cgroup/memory");
	ck_assert_int_eq(cgroup_join("/fx", "/docker/abc", "/sys/fs/cgroup/memory",
	                     "/docker/abc/sub", out, sizeof(out)),
	    0);
	ck_assert_str_eq(out, "/fx/sys/fs/cgroup/memory/sub");
	ck_assert_int_eq(
	    cgroup_join("", "/docker/abc", "/m", "/docker/abcd", out, sizeof(out)), -EXDEV);
	ck_assert_int_eq(cgroup_join("", "/", "/m", "/../outside", out, sizeof(out)), -EXDEV);
	ck_assert_int_eq(cgroup_join("", "/", "/m", "/a", out, 4), -ENAMETOOLONG);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("cgroup");
	TCase *tc = tcase_create("cgroup");

	tcase_add_test(tc, test_hybrid_self);
	tcase_add_test(tc, test_legacy_self);
	tcase_add_test(tc, test_namespace_self);
	tcase_add_test(tc, test_v2_self);
	tcase_add_test(tc, test_find_path);
	tcase_add_test(tc, test_missing_proc);
	tcase_add_test(tc, test_parse_membership);
	tcase_add_test(tc, test_parse_mounts);
	tcase_add_test(tc, test_join);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
