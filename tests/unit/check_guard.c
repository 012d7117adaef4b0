/*
 * check_guard.c: a guard (guard.h) against copies of the v2 and v1
 * fixture trees (proc and cgroupfs as plain files), sampled as the loop
 * samples it but without one: the levels from the limit, a sample above
 * gc that returns a gc action, counts it and reaches a real process, a
 * the exec gate of a child, a limit changed by the operator, a cgroup frozen at the first sample,
 * and two guards on two trees that share nothing.
 */
#include <check.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "guard.h"
#include "policy.h"
#include "respond.h"
#include "units.h"
#include "fixture.h"
#include "suite.h"

#define MiB (1ULL << 20)

/* A copy of a fixture tree: its proc root, its fs root and the cgroup. */
struct fx {
	char root[64];
	char proc[96];
	char dir[224];
	const char *path; /* the cgroup as guard_watch() is given it */
};

#define V2_PATH "/sys/fs/cgroup/test"
#define V1_PATH                                                                                    \
	"/sys/fs/cgroup/memory/process_api/7855fb0c0c1de9d4b0337360aecab08e/oomguard-fixture"

static void
fx_make(struct fx *f, const char *tree, const char *path)
{
	char cmd[256];

	strcpy(f->root, "/tmp/check_guard_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(f->root));
	snprintf(cmd, sizeof(cmd), "cp -r tests/fixtures/%s/. %s/", tree, f->root);
	ck_assert_int_eq(system(cmd), 0);
	snprintf(f->proc, sizeof(f->proc), "%s/proc", f->root);
	snprintf(f->dir, sizeof(f->dir), "%s%s", f->root, path);
	f->path = path;
	/* No process of the fixture's is ever signalled. */
	fixture_put(f->dir, "cgroup.procs", "");
}

/* The v2 tree with memory.max and memory.current set (bytes). */
static void
fx_v2(struct fx *f, uint64_t max_bytes, uint64_t current_bytes)
{
	char text[32];

	fx_make(f, "v2", V2_PATH);
	snprintf(text, sizeof(text), "%llu\n", (unsigned long long)max_bytes);
	fixture_put(f->dir, "memory.max", text);
	snprintf(text, sizeof(text), "%llu\n", (unsigned long long)current_bytes);
	fixture_put(f->dir, "memory.current", text);
	fixture_put(f->dir, "memory.high", "max\n");
}

/* The defaults (gc 75%, restart 90%, kill 97%), no reserve, no PSI, the
 * usage as the metric. */
static void
cfg_make(struct config *c)
{
	config_defaults(c);
	c->reserve_size = (struct threshold){ THRESHOLD_NONE, 0 };
	c->psi.enabled = false;
	c->metric = METRIC_USAGE;
}

static struct guard *
guard_on(const struct config *c, const struct fx *f)
{
	struct guard_params p = { f->proc, f->root, GUARD_MAIN_NONE };
	struct guard *g = guard_new(c, &p);

	ck_assert_ptr_nonnull(g);
	ck_assert_int_eq(guard_watch(g, f->path, 0, false), 0);
	ck_assert(guard_watching(g));
	return g;
}

/* A guard of f's cgroup with the app pid as its main target, exec'd or
 * not yet (the exec gate). */
static struct guard *
guard_on_app(const struct config *c, const struct fx *f, pid_t pid, bool execed)
{
	struct guard_params p = { f->proc, f->root, GUARD_MAIN_APP };
	struct guard *g = guard_new(c, &p);

	ck_assert_ptr_nonnull(g);
	ck_assert_int_eq(guard_watch(g, f->path, 0, false), 0);
	guard_target_set(g, &(struct guard_target){ pid, -1, guard_now_usec(), execed });
	return g;
}

/* The first sample takes the levels of the limit and announces them. */
START_TEST(test_levels_from_limit)
{
	struct config c;
	struct fx f;
	struct guard *g;
	struct guard_result r;
	struct guard_status st;

	cfg_make(&c);
	fx_v2(&f, 256 * MiB, 100 * MiB);
	g = guard_on(&c, &f);
	r = guard_sample(g, guard_now_usec(), "test");
	ck_assert(r.sampled);
	ck_assert(r.limit_changed);
	ck_assert_uint_eq(r.limit_bytes, 256 * MiB);
	ck_assert_int_eq(r.action, POLICY_NONE);
	ck_assert_uint_gt(r.next_usec, 0);
	st = guard_status(g);
	ck_assert_uint_eq(st.metric_bytes, 100 * MiB);
	ck_assert_uint_eq(st.levels.gc_bytes, 192 * MiB);
	ck_assert_uint_eq(st.levels.restart_bytes, 256 * MiB * 90 / 100);
	ck_assert_uint_eq(st.levels.kill_bytes, 256 * MiB * 97 / 100);
	/* the same limit again: nothing new */
	r = guard_sample(g, guard_now_usec(), "test");
	ck_assert(!r.limit_changed);
	ck_assert_uint_eq(guard_stats(g)->sample_usec.count, 2);
	guard_free(g);
	fixture_remove(f.root);
}
END_TEST

static int usr1_pipe[2];

static void
on_usr1(int sig)
{
	(void)sig;
	(void)!write(usr1_pipe[1], "g", 1);
}

/* A process that catches SIGUSR1 (and says so on usr1_pipe), put into
 * the fixture's cgroup as far as the guard can tell: cgroup.procs and its
 * /proc files there. Return its pid. */
static pid_t
child_in(const struct fx *f)
{
	char name[160], text[64], c;
	int ready[2];
	pid_t pid;

	ck_assert_int_eq(pipe(usr1_pipe), 0);
	ck_assert_int_eq(pipe(ready), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		signal(SIGUSR1, on_usr1);
		(void)!write(ready[1], "r", 1);
		for (;;)
			pause();
	}
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	close(ready[0]);
	close(ready[1]);
	snprintf(text, sizeof(text), "%d\n", (int)pid);
	fixture_put(f->dir, "cgroup.procs", text);
	snprintf(name, sizeof(name), "%s/%d", f->proc, (int)pid);
	ck_assert_int_eq(mkdir(name, 0755), 0);
	snprintf(name, sizeof(name), "%d/cgroup", (int)pid);
	fixture_put(f->proc, name, "0::/test\n");
	snprintf(name, sizeof(name), "%d/status", (int)pid);
	/* SIGUSR1 is signal 10: bit 9 of SigCgt. */
	fixture_put(f->proc, name, "Name:\tchild\nSigCgt:\t0000000000000200\n");
	return pid;
}

/* Whether the child's handler ran within a second. */
static bool
child_caught(void)
{
	struct pollfd p = { usr1_pipe[0], POLLIN, 0 };
	char c;

	return poll(&p, 1, 1000) == 1 && read(usr1_pipe[0], &c, 1) == 1 && c == 'g';
}

/* Above the gc level: the sample returns the gc action, the signal
 * reaches the cgroup's process, and it is counted. */
START_TEST(test_gc_counted)
{
	struct config c;
	struct fx f;
	struct guard *g;
	struct guard_result r;
	const struct stats *s;
	pid_t pid;
	int status;

	cfg_make(&c);
	fx_v2(&f, 256 * MiB, 200 * MiB);
	pid = child_in(&f);
	g = guard_on(&c, &f);
	r = guard_sample(g, guard_now_usec(), "test");
	ck_assert_int_eq(r.action, POLICY_GC);
	ck_assert(!r.rescue);
	ck_assert_ptr_null(r.ending_why);
	ck_assert(child_caught());
	s = guard_stats(g);
	ck_assert_uint_eq(s->gc_requests, 1);
	ck_assert_uint_eq(s->restarts + s->kills + s->rescues, 0);
	ck_assert_uint_eq(s->reaction_usec.count, 1);
	/* The request took effect (the metric fell a sixteenth): the live
	 * set's estimate is the low point after it. */
	fixture_put(f.dir, "memory.current", "125829120\n");
	r = guard_sample(g, guard_now_usec(), "test");
	ck_assert_int_eq(r.action, POLICY_NONE);
	ck_assert_uint_eq(guard_stats(g)->live_bytes_estimate, 120 * MiB);
	guard_free(g);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	close(usr1_pipe[0]);
	close(usr1_pipe[1]);
	fixture_remove(f.root);
}
END_TEST

/* The exec gate: a child not yet exec'd shows the handlers of the
 * process that forked it, so no gc signal goes to it whatever its SigCgt
 * says; once exec'd, the same child gets it. */
START_TEST(test_exec_gate)
{
	struct config c;
	struct fx f;
	struct guard *g;
	struct guard_result r;
	pid_t pid;
	int status;

	cfg_make(&c);
	c.target = TARGET_MAIN;
	fx_v2(&f, 256 * MiB, 200 * MiB);
	pid = child_in(&f);
	g = guard_on_app(&c, &f, pid, false);
	r = guard_sample(g, guard_now_usec(), "test");
	ck_assert_int_eq(r.action, POLICY_NONE);
	ck_assert(!child_caught());
	ck_assert_uint_eq(guard_stats(g)->gc_requests, 0);
	guard_target_set(g, &(struct guard_target){ pid, -1, guard_now_usec(), true });
	r = guard_sample(g, guard_now_usec(), "test");
	ck_assert_int_eq(r.action, POLICY_GC);
	ck_assert(child_caught());
	ck_assert_uint_eq(guard_stats(g)->gc_requests, 1);
	ck_assert_uint_eq(guard_stats(g)->app_starts, 2);
	guard_free(g);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	close(usr1_pipe[0]);
	close(usr1_pipe[1]);
	fixture_remove(f.root);
}
END_TEST

/* The operator changes the limit: the next sample takes the levels of the
 * new one, and oomguard writes nothing to the limit. */
START_TEST(test_limit_change)
{
	struct config c;
	struct fx f;
	struct guard *g;
	struct guard_result r;

	cfg_make(&c);
	fx_v2(&f, 256 * MiB, 100 * MiB);
	g = guard_on(&c, &f);
	(void)guard_sample(g, guard_now_usec(), "test");
	fixture_put(f.dir, "memory.max", "536870912\n");
	r = guard_sample(g, guard_now_usec(), "test");
	ck_assert(r.limit_changed);
	ck_assert_uint_eq(r.limit_bytes, 512 * MiB);
	ck_assert_uint_eq(guard_status(g).levels.gc_bytes, 384 * MiB);
	ck_assert_uint_eq(fixture_get(f.dir, "memory.max"), 512 * MiB);
	/* lowered under the usage's gc level: the gc level of the new limit */
	fixture_put(f.dir, "memory.max", "125829120\n");
	r = guard_sample(g, guard_now_usec(), "test");
	ck_assert(r.limit_changed);
	ck_assert_uint_eq(guard_status(g).levels.gc_bytes, 90 * MiB);
	ck_assert_int_eq(r.action, POLICY_GC);
	ck_assert_uint_eq(fixture_get(f.dir, "memory.max"), 120 * MiB);
	guard_free(g);
	fixture_remove(f.root);
}
END_TEST

/* A v1 cgroup frozen (under_oom 1) at the very first sample, with restart
 * and kill off: its levels are the limit's from the first decision, so
 * nothing is due but what the gc level allows; never SIGKILL. */
START_TEST(test_frozen_first_sample)
{
	struct config c;
	struct fx f;
	struct guard *g;
	struct guard_result r;

	cfg_make(&c);
	c.restart_at = (struct threshold){ THRESHOLD_NONE, 0 };
	c.kill_at = (struct threshold){ THRESHOLD_NONE, 0 };
	fx_make(&f, "legacy", V1_PATH);
	fixture_put(f.dir, "memory.usage_in_bytes", "268435456\n");
	fixture_put(f.dir, "memory.oom_control", "oom_kill_disable 1\nunder_oom 1\noom_kill 0\n");
	g = guard_on(&c, &f);
	r = guard_sample(g, guard_now_usec(), "test");
	ck_assert(r.sampled);
	ck_assert(r.limit_changed);
	ck_assert_uint_eq(guard_status(g).levels.kill_bytes, POLICY_OFF);
	ck_assert_int_ne(r.action, POLICY_KILL);
	ck_assert_uint_eq(guard_stats(g)->kills, 0);
	guard_free(g);
	fixture_remove(f.root);
}
END_TEST

/* Two guards on two trees: each has its own limit, levels, policy and
 * counters; sampling or freeing one leaves the other as it was. */
START_TEST(test_two_guards)
{
	struct config c;
	struct fx fa, fb;
	struct guard *a, *b;
	struct guard_result r;

	cfg_make(&c);
	c.dry_run = true;
	fx_v2(&fa, 256 * MiB, 200 * MiB);
	fx_v2(&fb, 512 * MiB, 100 * MiB);
	a = guard_on(&c, &fa);
	b = guard_on(&c, &fb);
	ck_assert_str_ne(guard_dir(a), guard_dir(b));
	r = guard_sample(a, guard_now_usec(), "test");
	ck_assert_int_eq(r.action, POLICY_GC);
	r = guard_sample(b, guard_now_usec(), "test");
	ck_assert_int_eq(r.action, POLICY_NONE);
	/* a again: its limit and levels are as it left them */
	r = guard_sample(a, guard_now_usec(), "test");
	ck_assert(!r.limit_changed);
	ck_assert_uint_eq(guard_stats(a)->gc_requests, 1);
	ck_assert_uint_eq(guard_stats(b)->gc_requests, 0);
	ck_assert_uint_eq(guard_status(a).levels.gc_bytes, 192 * MiB);
	ck_assert_uint_eq(guard_status(b).levels.gc_bytes, 384 * MiB);
	ck_assert_uint_eq(guard_status(b).metric_bytes, 100 * MiB);
	/* b over its gc level now: its first request, a's episode apart */
	fixture_put(fb.dir, "memory.current", "429496729\n");
	r = guard_sample(b, guard_now_usec(), "test");
	ck_assert_int_eq(r.action, POLICY_GC);
	ck_assert_uint_eq(guard_stats(b)->gc_requests, 1);
	ck_assert_uint_eq(guard_stats(a)->gc_requests, 1);
	guard_free(a);
	fixture_remove(fa.root);
	r = guard_sample(b, guard_now_usec(), "test");
	ck_assert(r.sampled);
	ck_assert_uint_eq(guard_status(b).limit_bytes, 512 * MiB);
	guard_free(b);
	fixture_remove(fb.root);
}
END_TEST

/* The defaults with gc off and the restart signal SIGUSR1 (so that the
 * fixture's child shows it arrived), a hook on restart and kill, and a
 * caller that runs hooks before. */
static struct guard *
guard_hooked(struct config *c, const struct fx *f)
{
	struct guard *g;

	cfg_make(c);
	c->gc_at = (struct threshold){ THRESHOLD_NONE, 0 };
	c->restart_signal = SIGUSR1;
	snprintf(c->hook_exec, sizeof(c->hook_exec), "/bin/true");
	c->hook_on = 1U << HOOK_RESTART | 1U << HOOK_KILL;
	c->hook_timeout_usec = 2000000;
	g = guard_on(c, f);
	guard_hooks_before(g, true);
	return g;
}

static void
child_end(pid_t pid)
{
	int status;

	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	close(usr1_pipe[0]);
	close(usr1_pipe[1]);
}

/* At the restart level with room under the limit: the restart is held
 * for its hook (not sent, not counted), samples meanwhile send nothing,
 * and guard_release() with its id lets the next sample send it, counted
 * from the sample that decided it. A stale id releases nothing. */
START_TEST(test_hold_release)
{
	struct config c;
	struct fx f;
	struct guard *g;
	struct guard_result r;
	unsigned id;
	pid_t pid;

	fx_v2(&f, 256 * MiB, 240 * MiB);
	pid = child_in(&f);
	g = guard_hooked(&c, &f);
	r = guard_sample(g, guard_now_usec(), "test");
	ck_assert(r.hook_safe);
	ck_assert_int_eq(r.held, POLICY_RESTART);
	ck_assert_int_eq(r.action, POLICY_NONE);
	ck_assert_uint_le(r.next_usec, c.hook_timeout_usec);
	id = r.hold_id;
	ck_assert(!child_caught());
	r = guard_sample(g, guard_now_usec(), "test");
	ck_assert_int_eq(r.held, POLICY_NONE);
	ck_assert_int_eq(r.action, POLICY_NONE);
	ck_assert(!child_caught());
	ck_assert_uint_eq(guard_stats(g)->restarts, 0);
	ck_assert(!guard_release(g, id + 1));
	ck_assert(guard_release(g, id));
	r = guard_sample(g, guard_now_usec(), "test");
	ck_assert_int_eq(r.action, POLICY_RESTART);
	ck_assert(r.after_hold);
	ck_assert_int_eq(r.held, POLICY_NONE);
	ck_assert(child_caught());
	ck_assert_uint_eq(guard_stats(g)->restarts, 1);
	ck_assert(!guard_release(g, id));
	guard_free(g);
	child_end(pid);
	fixture_remove(f.root);
}
END_TEST

/* The grace period of a held restart counts from its signal, not from
 * the sample that held it: a hook as long as the grace does not make the
 * SIGKILL follow the restart signal at once. */
START_TEST(test_hold_grace)
{
	struct config c;
	struct fx f;
	struct guard *g;
	struct guard_result r;
	pid_t pid;

	fx_v2(&f, 256 * MiB, 240 * MiB);
	pid = child_in(&f);
	g = guard_hooked(&c, &f);
	c.restart_grace_usec = 300000;
	guard_reconfigure(g, &c);
	r = guard_sample(g, guard_now_usec(), "test");
	ck_assert_int_eq(r.held, POLICY_RESTART);
	usleep(400000);
	ck_assert(guard_release(g, r.hold_id));
	r = guard_sample(g, guard_now_usec(), "test");
	ck_assert_int_eq(r.action, POLICY_RESTART);
	ck_assert(child_caught());
	r = guard_sample(g, guard_now_usec(), "test");
	ck_assert_int_eq(r.action, POLICY_NONE);
	ck_assert_uint_eq(guard_stats(g)->kills, 0);
	guard_free(g);
	child_end(pid);
	fixture_remove(f.root);
}
END_TEST

/* Where it is not safe nothing is held: at the kill level of the cgroup
 * oomguard runs in (the fixture's /proc/self is in it) the SIGKILL goes
 * at once; without a hook for the event, or a caller that runs hooks
 * before, the restart goes at once. */
START_TEST(test_hold_unsafe)
{
	struct config c;
	struct fx f;
	struct guard *g;
	struct guard_result r;
	pid_t pid;

	fx_v2(&f, 256 * MiB, 250 * MiB);
	pid = child_in(&f);
	g = guard_hooked(&c, &f);
	c.kill_at = (struct threshold){ THRESHOLD_BYTES, 245 * MiB };
	guard_reconfigure(g, &c);
	r = guard_sample(g, guard_now_usec(), "test");
	ck_assert(!r.hook_safe);
	ck_assert_int_eq(r.held, POLICY_NONE);
	ck_assert_int_eq(r.action, POLICY_KILL);
	ck_assert_uint_eq(guard_stats(g)->kills, 1);
	guard_free(g);
	child_end(pid);
	fixture_remove(f.root);

	fx_v2(&f, 256 * MiB, 240 * MiB);
	pid = child_in(&f);
	g = guard_hooked(&c, &f);
	c.hook_on = 1U << HOOK_KILL;
	r = guard_sample(g, guard_now_usec(), "test");
	ck_assert_int_eq(r.held, POLICY_NONE);
	ck_assert_int_eq(r.action, POLICY_RESTART);
	ck_assert(child_caught());
	guard_free(g);
	child_end(pid);
	fixture_remove(f.root);
}
END_TEST

/* A held restart and the cgroup freezes (v1 under_oom) before its hook
 * ends: the next sample sends it at once, no release needed. */
START_TEST(test_hold_frozen)
{
	struct config c;
	struct fx f;
	struct guard *g;
	struct guard_result r;
	char name[64];
	pid_t pid;

	fx_make(&f, "legacy", V1_PATH);
	fixture_put(f.dir, "memory.limit_in_bytes", "268435456\n");
	fixture_put(f.dir, "memory.usage_in_bytes", "251658240\n");
	fixture_put(f.dir, "memory.oom_control", "oom_kill_disable 1\nunder_oom 0\noom_kill 0\n");
	pid = child_in(&f);
	snprintf(name, sizeof(name), "%d/cgroup", (int)pid);
	fixture_put(f.proc, name,
	    "4:memory:/process_api/7855fb0c0c1de9d4b0337360aecab08e/oomguard-fixture\n");
	g = guard_hooked(&c, &f);
	c.kill_at = (struct threshold){ THRESHOLD_NONE, 0 };
	guard_reconfigure(g, &c);
	r = guard_sample(g, guard_now_usec(), "test");
	ck_assert_int_eq(r.held, POLICY_RESTART);
	ck_assert(!child_caught());
	fixture_put(f.dir, "memory.oom_control", "oom_kill_disable 1\nunder_oom 1\noom_kill 0\n");
	r = guard_sample(g, guard_now_usec(), "test");
	ck_assert(!r.hook_safe);
	ck_assert_int_eq(r.action, POLICY_RESTART);
	ck_assert(r.after_hold);
	ck_assert(child_caught());
	ck_assert_uint_eq(guard_stats(g)->restarts, 1);
	guard_free(g);
	child_end(pid);
	fixture_remove(f.root);
}
END_TEST

/* Whether a hook may be forked: the rule on plain values. */
START_TEST(test_hook_safe)
{
	struct respond_hook_room r = { false, true, 200 * MiB, 200 * MiB, 256 * MiB, 248 * MiB,
		8 * MiB };

	ck_assert(respond_hook_safe(&r));
	r.frozen = true;
	ck_assert(!respond_hook_safe(&r));
	r.frozen = false;
	r.usage_bytes = 249 * MiB; /* less than 8M to spare */
	ck_assert(!respond_hook_safe(&r));
	r.usage_bytes = 200 * MiB;
	r.metric_bytes = 248 * MiB; /* at the kill level */
	ck_assert(!respond_hook_safe(&r));
	r.inside = false; /* the hook is not charged there */
	ck_assert(respond_hook_safe(&r));
	r.inside = true;
	r.limit_bytes = 0;
	r.kill_bytes = POLICY_OFF;
	ck_assert(respond_hook_safe(&r));
}
END_TEST

/* The live set's estimate is the app's: it stays when the app ends (the
 * empty cgroup is not its live set) and when a new one starts, until the
 * new one's own gc request has taken effect. */
START_TEST(test_live_estimate_kept)
{
	struct config c;
	struct fx f;
	struct guard *g;
	pid_t pid;

	cfg_make(&c);
	c.target = TARGET_MAIN;
	fx_v2(&f, 256 * MiB, 200 * MiB);
	pid = child_in(&f);
	g = guard_on_app(&c, &f, pid, true);
	ck_assert_int_eq(guard_sample(g, guard_now_usec(), "test").action, POLICY_GC);
	fixture_put(f.dir, "memory.current", "125829120\n");
	(void)guard_sample(g, guard_now_usec(), "test");
	ck_assert_uint_eq(guard_stats(g)->live_bytes_estimate, 120 * MiB);
	/* the app ends: its cgroup empties */
	guard_target_clear(g);
	fixture_put(f.dir, "memory.current", "1048576\n");
	(void)guard_sample(g, guard_now_usec(), "test");
	ck_assert_uint_eq(guard_stats(g)->live_bytes_estimate, 120 * MiB);
	/* a new app, low and then high without a request of its own yet */
	guard_target_set(g, &(struct guard_target){ pid, -1, guard_now_usec(), true });
	(void)guard_sample(g, guard_now_usec(), "test");
	ck_assert_uint_eq(guard_stats(g)->live_bytes_estimate, 120 * MiB);
	guard_free(g);
	child_end(pid);
	fixture_remove(f.root);
}
END_TEST

/* Set the fixture's usage to mib MiB and sample at t: the result. */
static struct guard_result
sample_at(struct guard *g, const struct fx *f, unsigned mib, uint64_t t)
{
	char text[32];

	snprintf(text, sizeof(text), "%llu\n", (unsigned long long)mib * MiB);
	fixture_put(f->dir, "memory.current", text);
	return guard_sample(g, t, "test");
}

/* The live set's estimate is a gc request's low point: looked for every
 * poll_min until the metric rises again, and kept while the next
 * request's fall has not gone under it. */
START_TEST(test_live_estimate_low_point)
{
	struct config c;
	struct fx f;
	struct guard *g;
	struct guard_result r;
	uint64_t t = guard_now_usec();
	pid_t pid;
	int status;

	cfg_make(&c);
	fx_v2(&f, 256 * MiB, 200 * MiB);
	pid = child_in(&f);
	g = guard_on(&c, &f);
	r = guard_sample(g, t, "test");
	ck_assert_int_eq(r.action, POLICY_GC);
	ck_assert_uint_eq(r.next_usec, c.poll_min_usec);
	ck_assert_uint_eq(sample_at(g, &f, 150, t + 2000).next_usec, c.poll_min_usec);
	ck_assert_uint_eq(guard_stats(g)->live_bytes_estimate, 150 * MiB);
	(void)sample_at(g, &f, 120, t + 4000);
	ck_assert_uint_eq(guard_stats(g)->live_bytes_estimate, 120 * MiB);
	/* it rose: 120 MiB was the low point, no longer looked for */
	r = sample_at(g, &f, 130, t + 6000);
	ck_assert_uint_gt(r.next_usec, c.poll_min_usec);
	ck_assert_uint_eq(guard_stats(g)->live_bytes_estimate, 120 * MiB);
	/* the next request: its fall shows once under the last low point,
	 * and its own low point once found */
	t += 10 * 1000000ULL;
	ck_assert_int_eq(sample_at(g, &f, 200, t).action, POLICY_GC);
	(void)sample_at(g, &f, 170, t + 2000);
	ck_assert_uint_eq(guard_stats(g)->live_bytes_estimate, 120 * MiB);
	(void)sample_at(g, &f, 140, t + 4000);
	(void)sample_at(g, &f, 145, t + 6000);
	ck_assert_uint_eq(guard_stats(g)->live_bytes_estimate, 140 * MiB);
	/* a request that frees nothing: looked for 100 ms, not longer */
	t += 10 * 1000000ULL;
	ck_assert_int_eq(sample_at(g, &f, 200, t).action, POLICY_GC);
	ck_assert_uint_eq(sample_at(g, &f, 200, t + 50000).next_usec, c.poll_min_usec);
	ck_assert_uint_gt(sample_at(g, &f, 200, t + 100000).next_usec, c.poll_min_usec);
	ck_assert_uint_eq(guard_stats(g)->live_bytes_estimate, 140 * MiB);
	guard_free(g);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	fixture_remove(f.root);
}
END_TEST

static Suite *
guard_suite(void)
{
	Suite *s = suite_create("guard");
	TCase *tc = tcase_create("guard");

	tcase_add_test(tc, test_levels_from_limit);
	tcase_add_test(tc, test_gc_counted);
	tcase_add_test(tc, test_exec_gate);
	tcase_add_test(tc, test_limit_change);
	tcase_add_test(tc, test_frozen_first_sample);
	tcase_add_test(tc, test_two_guards);
	tcase_add_test(tc, test_hold_release);
	tcase_add_test(tc, test_hold_grace);
	tcase_add_test(tc, test_hold_unsafe);
	tcase_add_test(tc, test_hold_frozen);
	tcase_add_test(tc, test_hook_safe);
	tcase_add_test(tc, test_live_estimate_kept);
	tcase_add_test(tc, test_live_estimate_low_point);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return suite_run(guard_suite());
}
