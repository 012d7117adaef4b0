/*
 * check_labels.c: a guard's configuration from container labels and from
 * [pattern.NAME] sections: what applies, what is refused and how the
 * error names the label.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "labels.h"
#include "suite.h"

static struct config base;

static void
setup(void)
{
	char err[CONFIG_ERR_MAX];

	config_defaults(&base);
	ck_assert_int_eq(config_validate(&base, err, sizeof(err)), 0);
}

static void
label(struct dockerjson_container *c, const char *key, const char *value)
{
	struct dockerjson_label *l = &c->labels[c->nlabels++];

	snprintf(l->key, sizeof(l->key), "%s", key);
	snprintf(l->value, sizeof(l->value), "%s", value);
}

START_TEST(test_enabled)
{
	struct dockerjson_container c = { 0 };
	char err[CONFIG_ERR_MAX] = "";

	ck_assert_int_eq(labels_enabled(&c, err, sizeof(err)), 0);
	label(&c, "oomguard.enable", "true");
	ck_assert_int_eq(labels_enabled(&c, err, sizeof(err)), 1);
	snprintf(c.labels[0].value, sizeof(c.labels[0].value), "no");
	ck_assert_int_eq(labels_enabled(&c, err, sizeof(err)), 0);
	snprintf(c.labels[0].value, sizeof(c.labels[0].value), "ture");
	ck_assert_int_eq(labels_enabled(&c, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "label oomguard.enable: 'ture' is not true or false");
}
END_TEST

START_TEST(test_apply)
{
	struct dockerjson_container c = { 0 };
	struct config out;
	char err[CONFIG_ERR_MAX] = "";

	label(&c, "oomguard.enable", "true");
	label(&c, "oomguard.gc.at", "80%");
	label(&c, "oomguard.restart.signal", "SIGINT");
	label(&c, "oomguard.action.target", "cgroup");
	ck_assert_msg(labels_apply(&base, &c, &out, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(out.gc_at.value, 80 * UNITS_PCT_SCALE);
	ck_assert_int_eq(out.restart_signal, SIGINT);
	ck_assert_int_eq(out.target, TARGET_CGROUP);
	/* the rearm level follows the label's gc level, as in the file */
	ck_assert_uint_eq(
	    out.gc_rearm_below.value, 80 * UNITS_PCT_SCALE - (80 * UNITS_PCT_SCALE + 14) / 15);
	/* the base is the file's, untouched */
	ck_assert_uint_eq(base.gc_at.value, 75 * UNITS_PCT_SCALE);
	ck_assert_int_eq(base.restart_signal, SIGTERM);
}
END_TEST

/* Each bad label: the error names it and says why; the output is left
 * as it was. */
static const struct {
	const char *key, *value, *err;
} bad[] = {
	{ "oomguard.gc.at", "80", "label oomguard.gc.at: [gc] at: '80' is not none, a percentage" },
	{ "oomguard.gc.att", "80%", "label oomguard.gc.att: unknown key 'att' in [gc]" },
	{ "oomguard.foo.at", "80%", "label oomguard.foo.at: unknown section [foo]" },
	{ "oomguard.gc", "80%", "label oomguard.gc: expected SECTION.KEY" },
	{ "oomguard.gc.at.x", "80%", "label oomguard.gc.at.x: expected SECTION.KEY" },
	{ "oomguard.restart.signal", "SIGKILL",
	    "label oomguard.restart.signal: [restart] signal: SIGKILL cannot be used" },
	{ "oomguard.log.level", "debug", "label oomguard.log.level: set for the whole daemon" },
	{ "oomguard.docker.socket", "/x",
	    "label oomguard.docker.socket: set for the whole daemon" },
	{ "oomguard.supervise.restart", "always",
	    "label oomguard.supervise.restart: set for the whole daemon" },
	{ "oomguard.watch.cgroup", "/x", "label oomguard.watch.cgroup: the agent watches" },
	/* a relation: the restart level below the default gc level */
	{ "oomguard.restart.at", "60%",
	    "label oomguard.restart.at: [restart] at must be above [gc] at ([gc] at is 75% by "
	    "default)" },
};

START_TEST(test_bad)
{
	struct dockerjson_container c = { 0 };
	struct config out;
	char err[CONFIG_ERR_MAX] = "";

	memset(&out, 0x5a, sizeof(out));
	label(&c, "oomguard.enable", "true");
	label(&c, bad[_i].key, bad[_i].value);
	ck_assert_int_eq(labels_apply(&base, &c, &out, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strncmp(err, bad[_i].err, strlen(bad[_i].err)) == 0, "'%s' is not '%s...'",
	    err, bad[_i].err);
	ck_assert_uint_eq(((unsigned char *)&out)[0], 0x5a);
}
END_TEST

START_TEST(test_too_many_too_long)
{
	struct dockerjson_container c = { 0 };
	struct config out;
	char err[CONFIG_ERR_MAX] = "";

	label(&c, "oomguard.gc.at", "80%");
	c.labels[0].too_long = true;
	ck_assert_int_eq(labels_apply(&base, &c, &out, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "label oomguard.gc.at: longer than 255 characters");
	c.labels[0].too_long = false;
	c.labels_dropped = 1;
	ck_assert_int_eq(labels_apply(&base, &c, &out, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "more than 32 oomguard.* labels");
}
END_TEST

static const char patterns_ini[] = "[gc]\n"
                                   "at = 70%\n"
                                   "[pattern.kube]\n"
                                   "match = kubepods.slice/*/*/*.scope\n"
                                   "gc.at = 60%\n"
                                   "action.target = cgroup\n"
                                   "[pattern.docker]\n"
                                   "match = system.slice/docker-*.scope   # systemd driver\n";

static void
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	fclose(fp);
}

START_TEST(test_patterns)
{
	char path[] = "/tmp/check_labels.XXXXXX", err[CONFIG_ERR_MAX] = "";
	struct config_pattern *v = NULL;
	struct config file, out;
	size_t n = 0;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	close(fd);
	write_file(path, patterns_ini);
	config_defaults(&file);
	ck_assert_msg(config_load_file(&file, path, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(config_validate(&file, err, sizeof(err)), 0);
	ck_assert_uint_eq(file.gc_at.value, 70 * UNITS_PCT_SCALE);
	ck_assert_msg(config_load_patterns(path, &v, &n, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(v[0].name, "kube");
	ck_assert_str_eq(v[0].match, "kubepods.slice/*/*/*.scope");
	ck_assert_uint_eq(v[0].nset, 2);
	ck_assert_str_eq(v[1].match, "system.slice/docker-*.scope");
	ck_assert_int_eq(labels_apply_pattern(&file, &v[0], &out, err, sizeof(err)), 0);
	ck_assert_uint_eq(out.gc_at.value, 60 * UNITS_PCT_SCALE);
	ck_assert_int_eq(out.target, TARGET_CGROUP);
	snprintf(v[0].set[0].value, sizeof(v[0].set[0].value), "95%%");
	ck_assert_int_eq(labels_apply_pattern(&file, &v[0], &out, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, ":5: [restart] at must be above [gc] at") != NULL, "%s", err);
	free(v);
	unlink(path);
}
END_TEST

static const struct {
	const char *ini, *err;
} bad_patterns[] = {
	{ "[pattern.a]\ngc.at = 60%\n", ":2: [pattern.a] has no match" },
	{ "[pattern.a]\nmatch = a/*\nmatch = b/*\n", ":3: [pattern.a] match: match is set twice" },
	{ "[pattern.a]\nmatch = /abs/*\n", ":2: [pattern.a] match: match is a glob relative" },
	{ "[pattern.a]\nmatch = a/../b\n", ":2: [pattern.a] match: match is a glob relative" },
	{ "[pattern.a]\nmatch = a\ngcat = 1\n",
	    ":3: [pattern.a] gcat: expected match = GLOB or SECTION.KEY" },
	{ "[pattern.a b]\nmatch = a\n", ":2: [pattern.a b] match: a pattern's name" },
	{ "[pattern.a]\nmatch = a\ngc.at = 1%\ngc.at = 2%\n",
	    ":4: [pattern.a] gc.at: key is set twice" },
};

START_TEST(test_patterns_bad)
{
	char path[] = "/tmp/check_labels.XXXXXX", err[CONFIG_ERR_MAX] = "";
	struct config_pattern *v = NULL;
	size_t n = 0;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	close(fd);
	write_file(path, bad_patterns[_i].ini);
	ck_assert_int_eq(config_load_patterns(path, &v, &n, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, bad_patterns[_i].err) != NULL, "'%s' lacks '%s'", err,
	    bad_patterns[_i].err);
	ck_assert_ptr_null(v);
	unlink(path);
}
END_TEST

/* The pod's UID from both drivers' paths; no pod outside kubepods, nor
 * in a name that only looks like one. */
static const struct {
	const char *path, *uid;
} pods[] = {
	{ "/sys/fs/cgroup/memory/kubepods/burstable/pod0b5c9a4e-1f2d-4c3b-9a8e-7d6f5e4c3b2a/"
	  "4f1e2d3c",
	    "0b5c9a4e-1f2d-4c3b-9a8e-7d6f5e4c3b2a" },
	{ "kubepods/pod0b5c9a4e-1f2d-4c3b-9a8e-7d6f5e4c3b2a",
	    "0b5c9a4e-1f2d-4c3b-9a8e-7d6f5e4c3b2a" },
	{ "/kubepods.slice/kubepods-burstable.slice/"
	  "kubepods-burstable-pod0b5c9a4e_1f2d_4c3b_9a8e_7d6f5e4c3b2a.slice/"
	  "cri-containerd-4f1e.scope",
	    "0b5c9a4e-1f2d-4c3b-9a8e-7d6f5e4c3b2a" },
	{ "/kubepods.slice/kubepods-pod9f8e7d6c5b4a39281706f5e4d3c2b1a0.slice/docker-1.scope",
	    "9f8e7d6c5b4a39281706f5e4d3c2b1a0" },
	{ "/kubepods.slice/kubepods-besteffort.slice", "" },
	{ "/system.slice/pod1234.scope", "" },
	{ "/kubepods/burstable/podzz-not-hex/abc", "" },
	{ "/docker/0123abcd", "" },
	{ "", "" },
};

START_TEST(test_pod_uid)
{
	char buf[64] = "x";

	ck_assert_int_eq(labels_pod_uid(pods[_i].path, buf, sizeof(buf)), pods[_i].uid[0] != '\0');
	ck_assert_str_eq(buf, pods[_i].uid);
}
END_TEST

START_TEST(test_pod_uid_short_buffer)
{
	char buf[8] = "x";

	ck_assert_int_eq(labels_pod_uid(pods[0].path, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("labels");
	TCase *tc = tcase_create("labels");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_enabled);
	tcase_add_test(tc, test_apply);
	tcase_add_loop_test(tc, test_bad, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, test_too_many_too_long);
	tcase_add_test(tc, test_patterns);
	tcase_add_loop_test(
	    tc, test_patterns_bad, 0, sizeof(bad_patterns) / sizeof(bad_patterns[0]));
	tcase_add_loop_test(tc, test_pod_uid, 0, sizeof(pods) / sizeof(pods[0]));
	tcase_add_test(tc, test_pod_uid_short_buffer);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
