/*
 * check_config.c: every key, the file, environment and flag sources and
 * their precedence, the corpus of bad files in tests/config/bad (each
 * with its exact expected error), and dump/parse round trips.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "suite.h"

#define CORPUS "tests/config/bad"

static const struct config_origin flag_origin = { ORIGIN_FLAG, "--test", 0 };

/* Every key with a value that differs from its default, and the fields
 * that value must produce. */
START_TEST(test_every_key)
{
	static const char *const kv[][3] = {
		{ "watch", "cgroup", "/sys/fs/cgroup/memory/app" },
		{ "watch", "metric", "anon" },
		{ "watch", "poll_min", "500us" },
		{ "watch", "poll_max", "2s" },
		{ "watch", "max_growth", "512M" },
		{ "watch", "psi", "full 150ms 2s" },
		{ "watch", "high", "auto" },
		{ "gc", "at", "60%" },
		{ "gc", "signal", "USR2" },
		{ "gc", "cooldown", "500ms" },
		{ "gc", "min_interval", "40ms" },
		{ "gc", "rearm_below", "50%" },
		{ "gc", "require_handler", "no" },
		{ "gc", "reclaim", "64M" },
		{ "restart", "at", "85.5%" },
		{ "restart", "signal", "SIGINT" },
		{ "restart", "grace", "30s" },
		{ "restart", "startup", "1m" },
		{ "kill", "at", "none" },
		{ "reserve", "size", "16MiB" },
		{ "reserve", "mode", "limit" },
		{ "action", "target", "cgroup" },
		{ "action", "dry_run", "yes" },
		{ "supervise", "restart", "always" },
		{ "supervise", "restart_delay", "250ms" },
		{ "supervise", "restart_delay_max", "5m" },
		{ "supervise", "stable", "2m" },
		{ "log", "level", "debug" },
		{ "log", "format", "json" },
		{ "runtime", "hints", "none" },
		{ "metrics", "listen", "[::1]:9487" },
		{ "hook", "exec", "/usr/local/bin/page-me" },
		{ "hook", "on", "gc-episode, rescue" },
		{ "hook", "timeout", "500ms" },
		{ "docker", "socket", "/run/docker.sock" },
	};
	struct config c;
	char err[CONFIG_ERR_MAX];

	ck_assert_int_eq(sizeof(kv) / sizeof(kv[0]), CONFIG_NKEYS);
	config_defaults(&c);
	for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++)
		ck_assert_msg(config_set(&c, kv[i][0], kv[i][1], kv[i][2], &flag_origin, err,
		                  sizeof(err)) == 0,
		    "[%s] %s = %s: %s", kv[i][0], kv[i][1], kv[i][2], err);
	ck_assert_int_eq(config_validate(&c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.cgroup, "/sys/fs/cgroup/memory/app");
	ck_assert_str_eq(c.docker_socket, "/run/docker.sock");
	ck_assert_int_eq(c.metric, METRIC_ANON);
	ck_assert_uint_eq(c.poll_min_usec, 500);
	ck_assert_uint_eq(c.poll_max_usec, 2000000);
	ck_assert_uint_eq(c.max_growth_bytes, 512ULL << 20);
	ck_assert(c.psi.enabled && c.psi.full);
	ck_assert_uint_eq(c.psi.stall_usec, 150000);
	ck_assert_uint_eq(c.psi.window_usec, 2000000);
	ck_assert_int_eq(c.gc_at.kind, THRESHOLD_PERCENT);
	ck_assert_uint_eq(c.gc_at.value, 6000);
	ck_assert_int_eq(c.gc_signal, SIGUSR2);
	ck_assert_int_eq(c.reserve_mode, RESERVE_LIMIT);
	ck_assert_uint_eq(c.gc_cooldown_usec, 500000);
	ck_assert_uint_eq(c.gc_min_interval_usec, 40000);
	ck_assert_uint_eq(c.gc_rearm_below.value, 5000);
	ck_assert(!c.gc_require_handler);
	ck_assert_int_eq(c.watch_high.kind, THRESHOLD_AUTO);
	ck_assert_int_eq(c.gc_reclaim.kind, THRESHOLD_BYTES);
	ck_assert_uint_eq(c.gc_reclaim.value, 64ULL << 20);
	ck_assert_uint_eq(c.restart_at.value, 8550);
	ck_assert_int_eq(c.restart_signal, SIGINT);
	ck_assert_uint_eq(c.restart_grace_usec, 30000000);
	ck_assert_uint_eq(c.restart_startup_usec, 60000000);
	ck_assert_int_eq(c.kill_at.kind, THRESHOLD_NONE);
	ck_assert_int_eq(c.reserve_size.kind, THRESHOLD_BYTES);
	ck_assert_uint_eq(c.reserve_size.value, 16ULL << 20);
	ck_assert_int_eq(c.target, TARGET_CGROUP);
	ck_assert(c.dry_run);
	ck_assert_int_eq(c.supervise_restart, RESTART_ALWAYS);
	ck_assert_uint_eq(c.restart_delay_usec, 250000);
	ck_assert_uint_eq(c.restart_delay_max_usec, 300000000);
	ck_assert_uint_eq(c.stable_usec, 120000000);
	ck_assert_int_eq(c.log_level, LOG_LVL_DEBUG);
	ck_assert_int_eq(c.log_format, LOG_FMT_JSON);
	ck_assert_int_eq(c.runtime_hints, HINTS_NONE);
	ck_assert_str_eq(c.metrics_listen, "[::1]:9487");
	ck_assert_str_eq(c.hook_exec, "/usr/local/bin/page-me");
	ck_assert_uint_eq(c.hook_on, 1U << HOOK_GC_EPISODE | 1U << HOOK_RESCUE);
	ck_assert_uint_eq(c.hook_timeout_usec, 500000);
}
END_TEST

START_TEST(test_defaults_valid)
{
	struct config c;
	char err[CONFIG_ERR_MAX];

	config_defaults(&c);
	ck_assert_int_eq(config_validate(&c, err, sizeof(err)), 0);
	ck_assert_int_eq(c.gc_signal, SIGUSR1);
	ck_assert_int_eq(c.restart_signal, SIGTERM);
	ck_assert_str_eq(c.cgroup, "self");
}
END_TEST

static char *
slurp(const char *path)
{
	static char buf[4096];
	FILE *fp = fopen(path, "r");
	size_t n;

	ck_assert_msg(fp != NULL, "cannot open %s", path);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return buf;
}

/* Each bad file fails with exactly the message in its .err file. */
START_TEST(test_bad_corpus)
{
	DIR *d = opendir(CORPUS);
	struct dirent *de;
	int n = 0;

	ck_assert_msg(d != NULL, "run from the repository root");
	while ((de = readdir(d)) != NULL) {
		char ini[512], errpath[512], err[CONFIG_ERR_MAX + 600];
		size_t len = strlen(de->d_name);
		struct config c;
		int r;

		if (len < 5 || strcmp(de->d_name + len - 4, ".ini") != 0)
			continue;
		snprintf(ini, sizeof(ini), "%s/%s", CORPUS, de->d_name);
		snprintf(
		    errpath, sizeof(errpath), "%s/%.*s.err", CORPUS, (int)(len - 4), de->d_name);
		config_defaults(&c);
		err[0] = '\0';
		r = config_load_file(&c, ini, err, sizeof(err));
		if (r == 0)
			r = config_validate(&c, err, sizeof(err));
		ck_assert_msg(r < 0, "%s was accepted", ini);
		ck_assert_str_eq(err, slurp(errpath));
		n++;
	}
	closedir(d);
	ck_assert_int_ge(n, 30);
}
END_TEST

START_TEST(test_missing_file)
{
	struct config c;
	char err[CONFIG_ERR_MAX];

	config_defaults(&c);
	ck_assert_int_eq(config_load_file(&c, "tests/config/none.ini", err, sizeof(err)), -ENOENT);
	ck_assert_str_eq(err, "tests/config/none.ini: No such file or directory");
}
END_TEST

START_TEST(test_env)
{
	char *env[] = { "PATH=/bin", "OOMGUARD_GC_AT=65%", "OOMGUARD_GC_REARM_BELOW=60%",
		"OOMGUARD_CONFIG=/x.ini", "OOMGUARD_SUPERVISE_RESTART_DELAY_MAX=2m", NULL };
	char *bad[] = { "OOMGUARD_GC_ATT=65%", NULL };
	char *badval[] = { "OOMGUARD_KILL_AT=200%", NULL };
	struct config c;
	char err[CONFIG_ERR_MAX];

	config_defaults(&c);
	ck_assert_int_eq(config_load_env(&c, env, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.gc_at.value, 6500);
	ck_assert_uint_eq(c.gc_rearm_below.value, 6000);
	ck_assert_uint_eq(c.restart_delay_max_usec, 120000000);
	ck_assert_int_eq(config_load_env(&c, bad, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(
	    err, "OOMGUARD_GC_ATT: unknown variable (see oomguard --dump-config for the keys)");
	ck_assert_int_eq(config_load_env(&c, badval, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(
	    err, "OOMGUARD_KILL_AT: [kill] at: '200%' is out of range (above 0%, at most 100%)");
}
END_TEST

/* Flags over environment over file: each later source wins, and a
 * validation error names the source of the offending value. */
START_TEST(test_precedence)
{
	char *env[] = { "OOMGUARD_GC_AT=70%", "OOMGUARD_RESTART_AT=72%", NULL };
	char *env_bad[] = { "OOMGUARD_RESTART_AT=50%", NULL };
	struct config c;
	char err[CONFIG_ERR_MAX];

	config_defaults(&c);
	ck_assert_int_eq(config_load_file(&c, "tests/config/good/mixed.ini", err, sizeof(err)), 0);
	ck_assert_int_eq(c.gc_at.kind, THRESHOLD_BYTES);
	ck_assert_int_eq(config_load_env(&c, env, err, sizeof(err)), 0);
	ck_assert_int_eq(c.gc_at.kind, THRESHOLD_PERCENT);
	ck_assert_uint_eq(c.gc_at.value, 7000);
	ck_assert_int_eq(config_set(&c, "gc", "at", "71%", &flag_origin, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.gc_at.value, 7100);
	/* rearm_below 500M against gc at 71%: kinds differ, checked at run time. */
	ck_assert_int_eq(config_validate(&c, err, sizeof(err)), 0);
	ck_assert_int_eq(
	    config_set(&c, "gc", "rearm_below", "75%", &flag_origin, err, sizeof(err)), 0);
	ck_assert_int_eq(config_validate(&c, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "--test: [gc] rearm_below must be below the lowest armed level");

	config_defaults(&c);
	ck_assert_int_eq(config_load_env(&c, env_bad, err, sizeof(err)), 0);
	ck_assert_int_eq(config_validate(&c, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err,
	    "OOMGUARD_RESTART_AT: [restart] at must be above [gc] at ([gc] at is 75% by "
	    "default)");
	ck_assert_int_eq(config_set(&c, "gc", "at", "40%", &flag_origin, err, sizeof(err)), 0);
	ck_assert_int_eq(
	    config_set(&c, "gc", "rearm_below", "30%", &flag_origin, err, sizeof(err)), 0);
	ck_assert_int_eq(config_validate(&c, err, sizeof(err)), 0);
	ck_assert_int_eq(config_set(&c, "kill", "at", "45%", &flag_origin, err, sizeof(err)), 0);
	ck_assert_int_eq(config_validate(&c, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "--test: [kill] at must be above [restart] at");
}
END_TEST

START_TEST(test_unknown_via_set)
{
	struct config c;
	char err[CONFIG_ERR_MAX];

	config_defaults(&c);
	ck_assert_int_eq(
	    config_set(&c, "gc", "nope", "1", &flag_origin, err, sizeof(err)), -ENOENT);
	ck_assert_str_eq(err, "unknown key 'nope' in [gc]");
	ck_assert_int_eq(
	    config_set(&c, "nope", "at", "1", &flag_origin, err, sizeof(err)), -ENOENT);
	ck_assert_str_eq(err, "unknown section [nope]");
}
END_TEST

static void
dump_to(const struct config *c, char *buf, size_t len)
{
	FILE *fp = fmemopen(buf, len, "w");

	ck_assert(fp != NULL);
	config_dump(c, fp);
	fclose(fp);
}

/* A dump parses back to a configuration whose dump is the same text. */
static void
check_roundtrip(const char *path)
{
	static char first[16384], second[16384];
	char tmp[] = "/tmp/check_config_XXXXXX";
	struct config c, back;
	char err[CONFIG_ERR_MAX];
	int fd;

	config_defaults(&c);
	if (path != NULL)
		ck_assert_int_eq(config_load_file(&c, path, err, sizeof(err)), 0);
	/* As --dump-config: the levels that follow others derived. */
	ck_assert_int_eq(config_validate(&c, err, sizeof(err)), 0);
	dump_to(&c, first, sizeof(first));
	fd = mkstemp(tmp);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, first, strlen(first)), (ssize_t)strlen(first));
	close(fd);
	config_defaults(&back);
	ck_assert_msg(config_load_file(&back, tmp, err, sizeof(err)) == 0, "%s", err);
	unlink(tmp);
	ck_assert_int_eq(config_validate(&back, err, sizeof(err)), 0);
	dump_to(&back, second, sizeof(second));
	ck_assert_msg(
	    strcmp(first, second) == 0, "dump of %s does not round-trip", path ? path : "defaults");
	ck_assert_uint_eq(back.gc_at.value, c.gc_at.value);
	ck_assert_int_eq(back.psi.enabled, c.psi.enabled);
}

START_TEST(test_roundtrip)
{
	check_roundtrip(NULL);
	check_roundtrip("tests/config/good/mixed.ini");
	check_roundtrip("tests/config/good/gc-off.ini");
	check_roundtrip("conf/oomguard.ini");
}
END_TEST

/* The dump of path's configuration and its [pattern.NAME] sections, into
 * buf. */
static void
dump_with_patterns(const char *path, char *buf, size_t len)
{
	char err[CONFIG_ERR_MAX + PATH_MAX];
	struct config_pattern *v = NULL;
	size_t n = 0;
	struct config c;
	FILE *fp = fmemopen(buf, len, "w");

	ck_assert(fp != NULL);
	config_defaults(&c);
	ck_assert_msg(config_load_file(&c, path, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(config_validate(&c, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(config_load_patterns(path, &v, &n, err, sizeof(err)) == 0, "%s", err);
	config_dump(&c, fp);
	config_dump_patterns(v, n, fp);
	fclose(fp);
	free(v);
}

/* --dump-config shows the [pattern.NAME] sections, their keys as
 * written (comments dropped), and the whole reads back to the same dump. */
START_TEST(test_roundtrip_patterns)
{
	static char first[32768], second[32768];
	char path[] = "/tmp/check_config_XXXXXX";
	int fd = mkstemp(path);
	FILE *fp = fdopen(fd, "w");

	ck_assert(fp != NULL);
	fputs("[gc]\nat = 70%  # a comment\n"
	      "[pattern.web]\nmatch = system.slice/docker-*.scope\ngc.at = 60% ; why\n"
	      "restart.signal = SIGINT\n"
	      "[pattern.k8s-pods]\nmatch = kubepods.slice/*/*/*.scope\n",
	    fp);
	fclose(fp);
	dump_with_patterns(path, first, sizeof(first));
	ck_assert_ptr_nonnull(strstr(first, "\n[pattern.web]\n"));
	ck_assert_ptr_nonnull(strstr(first,
	    "\nmatch = system.slice/docker-*.scope\n"
	    "gc.at = 60%\nrestart.signal = SIGINT\n"));
	ck_assert_ptr_nonnull(strstr(first,
	    "\n[pattern.k8s-pods]\n# the cgroups under the root it guards\n"
	    "match = kubepods.slice/*/*/*.scope\n"));
	fp = fopen(path, "w");
	ck_assert(fp != NULL);
	fputs(first, fp);
	fclose(fp);
	dump_with_patterns(path, second, sizeof(second));
	unlink(path);
	ck_assert_str_eq(first, second);
}
END_TEST

/* A rearm level nobody set is dumped as a comment: the dump read back
 * with a lower gc level over it (a pattern, a variable, an edit of the
 * example file) still validates, its rearm level following. */
START_TEST(test_dump_rearm_derived)
{
	static char text[16384];
	char path[] = "/tmp/check_config_XXXXXX", err[CONFIG_ERR_MAX + PATH_MAX];
	static const struct config_origin flag = { ORIGIN_FLAG, "--gc-at", 0 };
	struct config c;
	int fd;

	config_defaults(&c);
	ck_assert_int_eq(config_validate(&c, err, sizeof(err)), 0);
	dump_to(&c, text, sizeof(text));
	ck_assert_ptr_nonnull(strstr(text, "\n# rearm_below = 70%\n"));
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	config_defaults(&c);
	ck_assert_int_eq(config_load_file(&c, path, err, sizeof(err)), 0);
	unlink(path);
	ck_assert_int_eq(config_set(&c, "gc", "at", "60%", &flag, err, sizeof(err)), 0);
	ck_assert_msg(config_validate(&c, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_lt(c.gc_rearm_below.value, c.gc_at.value);
	/* Set, it is dumped as set. */
	ck_assert_int_eq(config_set(&c, "gc", "rearm_below", "50%", &flag, err, sizeof(err)), 0);
	ck_assert_int_eq(config_validate(&c, err, sizeof(err)), 0);
	dump_to(&c, text, sizeof(text));
	ck_assert_ptr_nonnull(strstr(text, "\nrearm_below = 50%\n"));
}
END_TEST

/* The example configuration is the defaults, every key in it. */
START_TEST(test_example_is_defaults)
{
	static char dumped[16384];
	struct config c;

	config_defaults(&c);
	dump_to(&c, dumped, sizeof(dumped));
	/* The file ends in a newline that slurp() drops. */
	dumped[strlen(dumped) - 1] = '\0';
	ck_assert_msg(strcmp(slurp("conf/oomguard.ini"), dumped) == 0,
	    "conf/oomguard.ini differs from oomguard --dump-config");
}
END_TEST

/* Every good file loads and validates. */
START_TEST(test_good_files)
{
	static const char *const files[] = { "tests/config/good/mixed.ini",
		"tests/config/good/gc-off.ini", "tests/config/good/comments-case.ini",
		"tests/config/good/level-alone.ini", "tests/config/good/restart-alone.ini" };
	struct config c;
	char err[CONFIG_ERR_MAX + 600];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		config_defaults(&c);
		ck_assert_msg(config_load_file(&c, files[i], err, sizeof(err)) == 0, "%s", err);
		ck_assert_msg(config_validate(&c, err, sizeof(err)) == 0, "%s", err);
	}
}
END_TEST

/* Comments after a value with '#' or ';'; section, key and keyword names
 * in any case. */
START_TEST(test_comments_and_case)
{
	struct config c;
	char err[CONFIG_ERR_MAX + 600];

	config_defaults(&c);
	ck_assert_msg(
	    config_load_file(&c, "tests/config/good/comments-case.ini", err, sizeof(err)) == 0,
	    "%s", err);
	ck_assert_int_eq(c.gc_at.kind, THRESHOLD_PERCENT);
	ck_assert_uint_eq(c.gc_at.value, 7000);
	ck_assert_int_eq(c.gc_signal, SIGUSR2);
	ck_assert_uint_eq(c.gc_cooldown_usec, 2000000);
	ck_assert_uint_eq(c.restart_at.value, 512ULL << 20);
	ck_assert_int_eq(c.kill_at.kind, THRESHOLD_NONE);
	ck_assert_int_eq(c.log_level, LOG_LVL_DEBUG);
	ck_assert_int_eq(c.log_format, LOG_FMT_JSON);
	ck_assert_str_eq(c.cgroup, "self");
	ck_assert(c.psi.enabled && !c.psi.full);
	ck_assert_int_eq(c.metric, METRIC_WORKINGSET);
	ck_assert(c.dry_run);
	/* The comment's line is the value's: an error names it. */
	config_defaults(&c);
	ck_assert_int_eq(config_set(&c, "GC", "AT", "80%", &flag_origin, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.gc_at.value, 8000);
}
END_TEST

/* A directory is not a configuration file. */
START_TEST(test_directory)
{
	struct config c;
	char err[CONFIG_ERR_MAX];

	config_defaults(&c);
	ck_assert_int_eq(config_load_file(&c, "tests/config", err, sizeof(err)), -EISDIR);
	ck_assert_str_eq(err, "tests/config: Is a directory (expected a configuration file)");
}
END_TEST

/* A level set alone is valid: the rearm level the user did not set
 * follows the lowest armed level. */
START_TEST(test_rearm_follows)
{
	static const struct {
		const char *section, *value;
		enum threshold_kind kind;
		uint64_t rearm;
	} cases[] = {
		{ "gc", "60%", THRESHOLD_PERCENT, 5600 },
		{ "gc", "70%", THRESHOLD_PERCENT, 6533 },
		{ "gc", "75%", THRESHOLD_PERCENT, 7000 },
		{ "gc", "1.5G", THRESHOLD_BYTES, 1503238553 },
		{ "restart", "50%", THRESHOLD_PERCENT, 4666 },
	};
	struct config c;
	char err[CONFIG_ERR_MAX];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		config_defaults(&c);
		if (strcmp(cases[i].section, "restart") == 0)
			ck_assert_int_eq(
			    config_set(&c, "gc", "at", "none", &flag_origin, err, sizeof(err)), 0);
		ck_assert_int_eq(config_set(&c, cases[i].section, "at", cases[i].value,
		                     &flag_origin, err, sizeof(err)),
		    0);
		ck_assert_msg(
		    config_validate(&c, err, sizeof(err)) == 0, "%s: %s", cases[i].value, err);
		ck_assert_int_eq(c.gc_rearm_below.kind, cases[i].kind);
		ck_assert_uint_eq(c.gc_rearm_below.value, cases[i].rearm);
	}
	/* A rearm level the user set is theirs, and can be wrong. */
	config_defaults(&c);
	ck_assert_int_eq(config_set(&c, "gc", "at", "60%", &flag_origin, err, sizeof(err)), 0);
	ck_assert_int_eq(
	    config_set(&c, "gc", "rearm_below", "65%", &flag_origin, err, sizeof(err)), 0);
	ck_assert_int_eq(config_validate(&c, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "--test: [gc] rearm_below must be below the lowest armed level");
}
END_TEST

/* Relations between a percentage and a size, once the limit is known. */
START_TEST(test_check_limit)
{
	struct config c;
	char err[CONFIG_ERR_MAX];

	config_defaults(&c);
	ck_assert_int_eq(config_validate(&c, err, sizeof(err)), 0);
	ck_assert_int_eq(config_check_limit(&c, 128ULL << 20, err, sizeof(err)), 0);
	ck_assert_int_eq(config_check_limit(&c, 0, err, sizeof(err)), 0);
	ck_assert_int_eq(
	    config_set(&c, "gc", "rearm_below", "900M", &flag_origin, err, sizeof(err)), 0);
	ck_assert_int_eq(config_validate(&c, err, sizeof(err)), 0);
	ck_assert_int_eq(config_check_limit(&c, 2ULL << 30, err, sizeof(err)), 0);
	ck_assert_int_eq(config_check_limit(&c, 1ULL << 30, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err,
	    "--test: with the limit 1.0GiB, [gc] rearm_below (900.0MiB) is not "
	    "below [gc] at (768.0MiB) ([gc] at is 75% by default)");
	/* No limit: percentages are off, sizes alone are compared. */
	ck_assert_int_eq(config_check_limit(&c, 0, err, sizeof(err)), 0);
	config_defaults(&c);
	ck_assert_int_eq(
	    config_set(&c, "reserve", "size", "64M", &flag_origin, err, sizeof(err)), 0);
	ck_assert_int_eq(config_validate(&c, err, sizeof(err)), 0);
	ck_assert_int_eq(config_check_limit(&c, 64ULL << 20, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err,
	    "--test: with the limit 64.0MiB, [reserve] size (64.0MiB) is not "
	    "below [gc] rearm_below (44.8MiB) ([gc] rearm_below is 70% by "
	    "default)");
}
END_TEST

/* A cgroup path that the bare INI value cannot hold (an inline comment
 * after white space, a newline, white space at its end) is dumped in
 * quotes and reads back the same; one that can stays bare. */
START_TEST(test_cgroup_quoted)
{
	static const struct {
		const char *path, *line;
	} cases[] = {
		{ "/a ;b", "cgroup = \"/a \\x3bb\"\n" },
		{ "/a\nb", "cgroup = \"/a\\nb\"\n" },
		{ "/x #y", "cgroup = \"/x \\x23y\"\n" },
		{ "/t\t", "cgroup = \"/t\\t\"\n" },
		{ "/e ", "cgroup = \"/e \"\n" },
		{ "/q \"\\ ;\r\x7f", "cgroup = \"/q \\\"\\\\ \\x3b\\x0d\\x7f\"\n" },
		{ "/s.slice/a\\x2db.service;x#y \"z",
		    "cgroup = /s.slice/a\\x2db.service;x#y \"z\n" },
	};
	static char text[16384], again[16384];
	char tmp[] = "/tmp/check_config_XXXXXX";
	char err[CONFIG_ERR_MAX];
	struct config c, back;
	int fd;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		config_defaults(&c);
		ck_assert_int_eq(config_set(&c, "watch", "cgroup", cases[i].path, &flag_origin, err,
		                     sizeof(err)),
		    0);
		dump_to(&c, text, sizeof(text));
		ck_assert_msg(strstr(text, cases[i].line) != NULL, "case %zu: no line %s in\n%s", i,
		    cases[i].line, text);
		fd = mkstemp(tmp);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
		close(fd);
		config_defaults(&back);
		ck_assert_msg(config_load_file(&back, tmp, err, sizeof(err)) == 0, "%s", err);
		unlink(tmp);
		strcpy(tmp, "/tmp/check_config_XXXXXX");
		ck_assert_str_eq(back.cgroup, cases[i].path);
		dump_to(&back, again, sizeof(again));
		ck_assert_str_eq(again, text);
	}
	/* The environment and flags read the quoted form too. */
	config_defaults(&c);
	ck_assert_int_eq(config_set(&c, "watch", "cgroup", "\"/a\\x3b\\\"\\\\\\n\"", &flag_origin,
	                     err, sizeof(err)),
	    0);
	ck_assert_str_eq(c.cgroup, "/a;\"\\\n");
	ck_assert_int_eq(
	    config_set(&c, "watch", "cgroup", "\"self\"", &flag_origin, err, sizeof(err)), 0);
	ck_assert_str_eq(c.cgroup, "self");
	static const char *const bad[] = { "\"/a", "\"/a\"b", "\"/a\"\"", "\"/a\\q\"", "\"/a\\x0\"",
		"\"/a\\x00b\"", "\"/a\\\"", "\"rel\"" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		config_defaults(&c);
		ck_assert_msg(config_set(&c, "watch", "cgroup", bad[i], &flag_origin, err,
		                  sizeof(err)) == -EINVAL,
		    "%s was taken", bad[i]);
		ck_assert_str_eq(c.cgroup, "self");
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");

	tcase_add_test(tc, test_every_key);
	tcase_add_test(tc, test_defaults_valid);
	tcase_add_test(tc, test_bad_corpus);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_env);
	tcase_add_test(tc, test_precedence);
	tcase_add_test(tc, test_unknown_via_set);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_example_is_defaults);
	tcase_add_test(tc, test_roundtrip_patterns);
	tcase_add_test(tc, test_dump_rearm_derived);
	tcase_add_test(tc, test_good_files);
	tcase_add_test(tc, test_comments_and_case);
	tcase_add_test(tc, test_directory);
	tcase_add_test(tc, test_rearm_follows);
	tcase_add_test(tc, test_check_limit);
	tcase_add_test(tc, test_cgroup_quoted);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
