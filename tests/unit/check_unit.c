/*
 * check_unit.c: unit names, and unit_query() against a fake systemd: a
 * thread serving org.freedesktop.systemd1 with sd-bus on a socket that
 * DBUS_SYSTEM_BUS_ADDRESS points at, so that the real calls, property
 * types and error paths are exercised without systemd or a bus daemon.
 */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if OOMGUARD_SYSTEMD
#include <systemd/sd-bus.h>
#endif

#include "suite.h"
#include "unit.h"

START_TEST(test_name_valid)
{
	static const char *const valid[] = {
		"myapp.service",
		"session-3.scope",
		"user-1000.slice",
		"-.slice",
		"getty@tty1.service",
		"a@b@c.service",
		"foo\\x2dbar.service",
		"a:b_c.socket",
		"home.mount",
		"dev-sda2.swap",
	};

	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
		ck_assert_msg(unit_name_check(valid[i]) == 0, "%s", valid[i]);
}
END_TEST

START_TEST(test_name_invalid)
{
	static const char *const invalid[] = {
		"", ".service", "myapp", "myapp.", "myapp.target", /* no cgroup */
		"myapp.timer",                                     /* no cgroup */
		"myapp.Service",                                   /* suffixes are lower case */
		"myapp.service.",                                  /* the suffix is the last one */
		"my app.service",                                  /* space */
		"myapp/x.service",                                 /* slash */
		"caf\xc3\xa9.service",                             /* beyond ASCII */
		"foo@.service",                                    /* a template runs nothing */
		"@foo.service",                                    /* no prefix */
	};

	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
		ck_assert_msg(unit_name_check(invalid[i]) == -EINVAL, "%s", invalid[i]);
	ck_assert_int_eq(unit_name_check(NULL), -EINVAL);
}
END_TEST

START_TEST(test_name_length)
{
	char name[UNIT_NAME_MAX + 8];

	/* 247 characters and ".service": 255, the longest systemd takes */
	memset(name, 'a', 247);
	strcpy(name + 247, ".service");
	ck_assert_int_eq(unit_name_check(name), 0);
	memset(name, 'a', 248);
	strcpy(name + 248, ".service");
	ck_assert_int_eq(unit_name_check(name), -EINVAL);
}
END_TEST

START_TEST(test_name_interface)
{
	ck_assert_str_eq(unit_name_interface("a.service"), "org.freedesktop.systemd1.Service");
	ck_assert_str_eq(unit_name_interface("a.scope"), "org.freedesktop.systemd1.Scope");
	ck_assert_str_eq(unit_name_interface("a-b.slice"), "org.freedesktop.systemd1.Slice");
	ck_assert_str_eq(unit_name_interface("a.socket"), "org.freedesktop.systemd1.Socket");
	ck_assert_str_eq(unit_name_interface("a.mount"), "org.freedesktop.systemd1.Mount");
	ck_assert_str_eq(unit_name_interface("a.swap"), "org.freedesktop.systemd1.Swap");
	ck_assert_ptr_null(unit_name_interface("a.target"));
	ck_assert_ptr_null(unit_name_interface("a@.service"));
}
END_TEST

START_TEST(test_invocation_format)
{
	static const unsigned char id[16] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xcd, 0xef, 0xff, 1, 2,
		3, 4, 5, 6, 7, 8 };
	char hex[33] = "untouched";

	ck_assert_int_eq(unit_invocation_format(id, 16, hex), 0);
	ck_assert_str_eq(hex, "00017f80abcdefff0102030405060708");
	ck_assert_int_eq(unit_invocation_format(id, 0, hex), 0);
	ck_assert_str_eq(hex, "");
	ck_assert_int_eq(unit_invocation_format(id, 8, hex), -EBADMSG);
	ck_assert_int_eq(unit_invocation_format(id, 17, hex), -EBADMSG);
}
END_TEST

#if OOMGUARD_SYSTEMD

/* A unit the fake systemd knows. */
struct fake_unit {
	const char *name;
	const char *path;
	const char *interface; /* of its type */
	const char *load_state;
	const char *active_state;
	const char *control_group;
	uint32_t main_pid;
	unsigned char invocation[16];
	size_t invocation_len;
	bool flap; /* a new invocation at every read of it */
};

static struct fake_unit units[] = {
	{ "app.service", "/org/freedesktop/systemd1/unit/app_2eservice",
	    "org.freedesktop.systemd1.Service", "loaded", "active", "/system.slice/app.service",
	    1234, { 0xaa, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0xbb }, 16, false },
	{ "stopped.service", "/org/freedesktop/systemd1/unit/stopped_2eservice",
	    "org.freedesktop.systemd1.Service", "loaded", "inactive", "", 0, { 0 }, 0, false },
	{ "gone.service", "/org/freedesktop/systemd1/unit/gone_2eservice",
	    "org.freedesktop.systemd1.Service", "not-found", "inactive", "", 0, { 0 }, 0, false },
	{ "orphan.service", "/org/freedesktop/systemd1/unit/orphan_2eservice",
	    "org.freedesktop.systemd1.Service", "not-found", "active",
	    "/system.slice/orphan.service", 77, { 1 }, 16, false },
	{ "box.scope", "/org/freedesktop/systemd1/unit/box_2escope",
	    "org.freedesktop.systemd1.Scope", "loaded", "active", "/user.slice/box.scope", 0, { 2 },
	    16, false },
	{ "flap.service", "/org/freedesktop/systemd1/unit/flap_2eservice",
	    "org.freedesktop.systemd1.Service", "loaded", "activating",
	    "/system.slice/flap.service", 5, { 3 }, 16, true },
	/* The cgroup of tests/fixtures/hybrid, for oomguard --unit itself. */
	{ "fixture.scope", "/org/freedesktop/systemd1/unit/fixture_2escope",
	    "org.freedesktop.systemd1.Scope", "loaded", "active",
	    "/process_api/7855fb0c0c1de9d4b0337360aecab08e/oomguard-fixture", 0, { 4 }, 16, false },
};

/* Its index in units[]. */
#define FIXTURE_UNIT 6

struct fake {
	int listen_fd;
	char dir[64];
	char sock[96];
	pthread_t thread;
	atomic_bool stop;
	atomic_bool drop;        /* close the connection being served */
	atomic_int connections;  /* accepted so far */
	sd_bus_message *held[8]; /* calls left unanswered */
	int nheld;
	atomic_int subscribed;  /* Subscribe calls so far */
	atomic_int signal_unit; /* 1 + the index of a unit to signal a change of */
	atomic_bool slow;       /* leave every LoadUnit unanswered, as slow.service */
};

static struct fake fake;

static struct fake_unit *
fake_find(const char *name)
{
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(units[i].name, name) == 0)
			return &units[i];
	}
	return NULL;
}

static int
fake_hello(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	(void)userdata;
	(void)error;
	return sd_bus_reply_method_return(m, "s", ":1.42");
}

static int
fake_empty_reply(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	(void)userdata;
	(void)error;
	return sd_bus_reply_method_return(m, "");
}

static int
fake_subscribe(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct fake *f = userdata;

	atomic_fetch_add(&f->subscribed, 1);
	return fake_empty_reply(m, NULL, error);
}

/* PropertiesChanged of a unit's Unit interface, as systemd sends it. */
static void
fake_signal(sd_bus *bus, const struct fake_unit *u)
{
	sd_bus_message *m = NULL;

	ck_assert_int_ge(sd_bus_message_new_signal(bus, &m, u->path,
	                     "org.freedesktop.DBus.Properties", "PropertiesChanged"),
	    0);
	ck_assert_int_ge(sd_bus_message_append(m, "sa{sv}as", "org.freedesktop.systemd1.Unit", 1,
	                     "ActiveState", "s", u->active_state, 0),
	    0);
	ck_assert_int_ge(sd_bus_send(bus, m, NULL), 0);
	sd_bus_message_unref(m);
}

static int
fake_load_unit(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct fake *f = userdata;
	const struct fake_unit *u;
	const char *name;
	int r;

	r = sd_bus_message_read(m, "s", &name);
	if (r < 0)
		return r;
	if ((strcmp(name, "slow.service") == 0 || atomic_load(&f->slow)) && f->nheld < 8) {
		/* Never answered: the caller's timeout must end the call. */
		f->held[f->nheld++] = sd_bus_message_ref(m);
		return 1;
	}
	u = fake_find(name);
	if (u == NULL)
		return sd_bus_error_setf(
		    error, "org.freedesktop.systemd1.NoSuchUnit", "Unit %s not loaded.", name);
	return sd_bus_reply_method_return(m, "o", u->path);
}

static int
fake_property(sd_bus *bus, const char *path, const char *interface, const char *property,
    sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct fake_unit *u = userdata;

	(void)bus;
	(void)path;
	(void)interface;
	(void)error;
	if (strcmp(property, "LoadState") == 0)
		return sd_bus_message_append(reply, "s", u->load_state);
	if (strcmp(property, "ActiveState") == 0)
		return sd_bus_message_append(reply, "s", u->active_state);
	if (strcmp(property, "ControlGroup") == 0)
		return sd_bus_message_append(reply, "s", u->control_group);
	if (strcmp(property, "MainPID") == 0)
		return sd_bus_message_append(reply, "u", u->main_pid);
	if (u->flap)
		u->invocation[15]++;
	return sd_bus_message_append_array(reply, 'y', u->invocation, u->invocation_len);
}

static const sd_bus_vtable bus_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("Hello", "", "s", fake_hello, 0),
	SD_BUS_METHOD("AddMatch", "s", "", fake_empty_reply, 0),
	SD_BUS_VTABLE_END,
};

static const sd_bus_vtable manager_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("LoadUnit", "s", "o", fake_load_unit, 0),
	SD_BUS_METHOD("Subscribe", "", "", fake_subscribe, 0),
	SD_BUS_VTABLE_END,
};

static const sd_bus_vtable unit_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("LoadState", "s", fake_property, 0, 0),
	SD_BUS_PROPERTY("ActiveState", "s", fake_property, 0, 0),
	SD_BUS_PROPERTY("InvocationID", "ay", fake_property, 0, 0),
	SD_BUS_VTABLE_END,
};

static const sd_bus_vtable service_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("ControlGroup", "s", fake_property, 0, 0),
	SD_BUS_PROPERTY("MainPID", "u", fake_property, 0, 0),
	SD_BUS_VTABLE_END,
};

/* Scopes, slices and the others have no MainPID. */
static const sd_bus_vtable cgroup_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("ControlGroup", "s", fake_property, 0, 0),
	SD_BUS_VTABLE_END,
};

static void
fake_objects(sd_bus *bus)
{
	ck_assert_int_ge(sd_bus_add_object_vtable(bus, NULL, "/org/freedesktop/DBus",
	                     "org.freedesktop.DBus", bus_vtable, NULL),
	    0);
	ck_assert_int_ge(sd_bus_add_object_vtable(bus, NULL, "/org/freedesktop/systemd1",
	                     "org.freedesktop.systemd1.Manager", manager_vtable, &fake),
	    0);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		struct fake_unit *u = &units[i];
		bool service = strcmp(u->interface, "org.freedesktop.systemd1.Service") == 0;

		ck_assert_int_ge(sd_bus_add_object_vtable(bus, NULL, u->path,
		                     "org.freedesktop.systemd1.Unit", unit_vtable, u),
		    0);
		ck_assert_int_ge(sd_bus_add_object_vtable(bus, NULL, u->path, u->interface,
		                     service ? service_vtable : cgroup_vtable, u),
		    0);
	}
}

/* Serve one connection until it ends, or until told to drop it or stop. */
static void
fake_serve(int fd)
{
	sd_bus *bus = NULL;
	sd_id128_t id;

	ck_assert_int_ge(sd_id128_randomize(&id), 0);
	ck_assert_int_ge(sd_bus_new(&bus), 0);
	ck_assert_int_ge(sd_bus_set_fd(bus, fd, fd), 0);
	ck_assert_int_ge(sd_bus_set_server(bus, 1, id), 0);
	/* On a direct connection the signals name their sender only so. */
	ck_assert_int_ge(sd_bus_set_sender(bus, "org.freedesktop.systemd1"), 0);
	ck_assert_int_ge(sd_bus_start(bus), 0);
	fake_objects(bus);
	while (!atomic_load(&fake.stop) && !atomic_load(&fake.drop)) {
		int r, u = atomic_exchange(&fake.signal_unit, 0);

		if (u > 0)
			fake_signal(bus, &units[u - 1]);
		r = sd_bus_process(bus, NULL);

		if (r < 0)
			break;
		if (r == 0)
			sd_bus_wait(bus, 20000);
	}
	for (; fake.nheld > 0; fake.nheld--)
		sd_bus_message_unref(fake.held[fake.nheld - 1]);
	sd_bus_flush_close_unref(bus);
	atomic_store(&fake.drop, false);
}

static void *
fake_run(void *arg)
{
	struct pollfd p = { .fd = fake.listen_fd, .events = POLLIN };

	(void)arg;
	while (!atomic_load(&fake.stop)) {
		int fd;

		if (poll(&p, 1, 20) <= 0)
			continue;
		fd = accept4(fake.listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		atomic_fetch_add(&fake.connections, 1);
		fake_serve(fd);
	}
	return NULL;
}

static void
fake_start(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char address[160];

	strcpy(fake.dir, "/tmp/check_unit.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(fake.dir));
	snprintf(fake.sock, sizeof(fake.sock), "%s/bus", fake.dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", fake.sock);
	fake.listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fake.listen_fd, 0);
	ck_assert_int_eq(bind(fake.listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fake.listen_fd, 4), 0);
	snprintf(address, sizeof(address), "unix:path=%s", fake.sock);
	setenv("DBUS_SYSTEM_BUS_ADDRESS", address, 1);
	ck_assert_int_eq(pthread_create(&fake.thread, NULL, fake_run, NULL), 0);
}

static void
fake_stop(void)
{
	atomic_store(&fake.stop, true);
	pthread_join(fake.thread, NULL);
	close(fake.listen_fd);
	unlink(fake.sock);
	rmdir(fake.dir);
}

static struct unit_bus *
open_bus(void)
{
	struct unit_bus *b = NULL;

	ck_assert_int_eq(unit_bus_open(&b), 0);
	ck_assert_ptr_nonnull(b);
	return b;
}

START_TEST(test_query_service)
{
	struct unit_bus *b = open_bus();
	struct unit_info info;

	ck_assert_int_ge(unit_bus_fd(b), 0);
	ck_assert_int_eq(unit_query(b, "app.service", &info), 0);
	ck_assert_str_eq(info.control_group, "/system.slice/app.service");
	ck_assert_int_eq(info.main_pid, 1234);
	ck_assert_str_eq(info.active_state, "active");
	ck_assert_str_eq(info.invocation_id, "aa0102030405060708090a0b0c0d0ebb");
	unit_bus_close(b);
}
END_TEST

START_TEST(test_query_stopped)
{
	struct unit_bus *b = open_bus();
	struct unit_info info;

	ck_assert_int_eq(unit_query(b, "stopped.service", &info), 0);
	ck_assert_str_eq(info.control_group, "");
	ck_assert_int_eq(info.main_pid, 0);
	ck_assert_str_eq(info.active_state, "inactive");
	ck_assert_str_eq(info.invocation_id, "");
	unit_bus_close(b);
}
END_TEST

START_TEST(test_query_scope)
{
	struct unit_bus *b = open_bus();
	struct unit_info info;

	/* A scope has no MainPID to ask for. */
	ck_assert_int_eq(unit_query(b, "box.scope", &info), 0);
	ck_assert_str_eq(info.control_group, "/user.slice/box.scope");
	ck_assert_int_eq(info.main_pid, 0);
	unit_bus_close(b);
}
END_TEST

START_TEST(test_query_absent)
{
	struct unit_bus *b = open_bus();
	struct unit_info info, before;

	memset(&info, 0x5a, sizeof(info));
	before = info;
	ck_assert_int_eq(unit_query(b, "gone.service", &info), -ENOENT);
	ck_assert_int_eq(unit_query(b, "nosuch.service", &info), -ENOENT);
	ck_assert_int_eq(unit_query(b, "bad name.service", &info), -EINVAL);
	ck_assert_int_eq(unit_query(b, "flap.service", &info), -EAGAIN);
	ck_assert_mem_eq(&info, &before, sizeof(info));
	/* Its unit file removed, a running unit is still followed. */
	ck_assert_int_eq(unit_query(b, "orphan.service", &info), 0);
	ck_assert_int_eq(info.main_pid, 77);
	unit_bus_close(b);
}
END_TEST

START_TEST(test_query_timeout)
{
	struct unit_bus *b = open_bus();
	struct unit_info info;
	struct timespec t0, t1;
	long long msec;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(unit_query(b, "slow.service", &info), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	msec = (t1.tv_sec - t0.tv_sec) * 1000LL + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	ck_assert_int_ge(msec, (long long)(UNIT_CALL_TIMEOUT_USEC / 1000) - 10);
	ck_assert_int_le(msec, (long long)(UNIT_CALL_TIMEOUT_USEC / 1000) + 1500);
	/* The connection is still good. */
	ck_assert_int_eq(unit_query(b, "app.service", &info), 0);
	unit_bus_close(b);
}
END_TEST

START_TEST(test_query_reconnects)
{
	struct unit_bus *b = open_bus();
	struct unit_info info;

	ck_assert_int_eq(unit_query(b, "app.service", &info), 0);
	atomic_store(&fake.drop, true);
	for (int i = 0; i < 500 && atomic_load(&fake.drop); i++)
		usleep(10000);
	ck_assert(!atomic_load(&fake.drop));
	/* The bus went away between two queries: the next one goes on a new
	 * connection. */
	ck_assert_int_eq(unit_query(b, "app.service", &info), 0);
	ck_assert_int_eq(info.main_pid, 1234);
	ck_assert_int_eq(atomic_load(&fake.connections), 2);
	unit_bus_close(b);
}
END_TEST

/* Run a caller's loop for up to msec: wait 10 ms for the bus, process
 * it, look for the answer of unit_query_start(). Return the answer (or
 * -EINPROGRESS when none came) and the turns taken in *ret_turns. */
static int
pump(struct unit_bus *b, struct unit_info *info, int msec, int *ret_turns)
{
	int r = -EINPROGRESS, turns = 0;

	for (; turns < msec / 10 && r == -EINPROGRESS; turns++) {
		struct pollfd p = { .fd = unit_bus_fd(b), .events = POLLIN };

		(void)poll(&p, 1, 10);
		ck_assert_int_ge(unit_bus_process(b), 0);
		r = unit_query_result(b, info);
	}
	*ret_turns = turns;
	return r;
}

static long long
msec_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000LL + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* unit_query_start() returns at once and the answer comes through the
 * caller's loop, which runs on meanwhile: also while systemd does not
 * answer (slow.service), until the call's timeout. */
START_TEST(test_query_async)
{
	struct unit_bus *b = open_bus();
	struct unit_info info;
	struct timespec t0;
	int turns;

	ck_assert_int_eq(unit_query_result(b, &info), -EINPROGRESS);
	ck_assert_int_eq(unit_query_start(b, "app.service"), 0);
	ck_assert_int_eq(unit_query_start(b, "app.service"), -EBUSY);
	ck_assert_int_eq(pump(b, &info, 2000, &turns), 0);
	ck_assert_str_eq(info.control_group, "/system.slice/app.service");
	ck_assert_int_eq(info.main_pid, 1234);
	ck_assert_str_eq(info.active_state, "active");
	ck_assert_str_eq(info.invocation_id, "aa0102030405060708090a0b0c0d0ebb");
	ck_assert_int_eq(unit_query_result(b, &info), -EINPROGRESS);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(unit_query_start(b, "slow.service"), 0);
	ck_assert_int_le(msec_since(&t0), 100);
	ck_assert_int_eq(pump(b, &info, 3000, &turns), -ETIMEDOUT);
	ck_assert_int_ge(msec_since(&t0), (long long)(UNIT_CALL_TIMEOUT_USEC / 1000) - 10);
	/* The loop went on: about a turn every 10 ms until the timeout. */
	ck_assert_int_ge(turns, 40);

	ck_assert_int_eq(unit_query_start(b, "box.scope"), 0);
	ck_assert_int_eq(pump(b, &info, 2000, &turns), 0);
	ck_assert_str_eq(info.control_group, "/user.slice/box.scope");
	ck_assert_int_eq(info.main_pid, 0);
	ck_assert_int_eq(unit_query_start(b, "nosuch.service"), 0);
	ck_assert_int_eq(pump(b, &info, 2000, &turns), -ENOENT);
	ck_assert_int_eq(unit_query_start(b, "gone.service"), 0);
	ck_assert_int_eq(pump(b, &info, 2000, &turns), -ENOENT);
	ck_assert_int_eq(unit_query_start(b, "flap.service"), 0);
	ck_assert_int_eq(pump(b, &info, 2000, &turns), -EAGAIN);
	ck_assert_int_eq(unit_query_start(b, "bad name.service"), -EINVAL);
	unit_bus_close(b);
}
END_TEST

/* The oomguard binary: $OOMGUARD, else the one beside this suite's
 * (build/oomguard for build/tests/check_unit). Into ret (PATH_MAX), or
 * "" when there is none. */
static void
oomguard_path(char *ret, size_t len)
{
	char self[PATH_MAX - 16];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	ret[0] = '\0';
	if (getenv("OOMGUARD") != NULL) {
		snprintf(ret, len, "%s", getenv("OOMGUARD"));
		return;
	}
	if (n <= 0)
		return;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (slash == NULL)
		return;
	*slash = '\0';
	snprintf(ret, len, "%s/../oomguard", self);
	if (access(ret, X_OK) < 0)
		ret[0] = '\0';
}

/* A datagram socket for NOTIFY_SOCKET in the fake's directory. */
static int
notify_socket(char path[108], size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	snprintf(path, len, "%s/notify", fake.dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Receive one notification within msec into buf. Return its length, or
 * 0 when none came. */
static int
notify_recv(int fd, char *buf, size_t len, int msec)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&p, 1, msec) != 1)
		return 0;
	n = recv(fd, buf, len - 1, 0);
	if (n < 0)
		return 0;
	buf[n] = '\0';
	return (int)n;
}

/* oomguard --unit unit on a copy of tests/fixtures/hybrid, WATCHDOG_USEC
 * 200 ms, its notifications to nfd's socket at npath, its log to the file
 * logpath (NULL: inherited). */
static pid_t
oomguard_unit(
    const char *bin, const char *npath, const char root[256], const char *unit, const char *logpath)
{
	char proc[300];
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		snprintf(proc, sizeof(proc), "%s/proc", root);
		setenv("NOTIFY_SOCKET", npath, 1);
		setenv("WATCHDOG_USEC", "200000", 1);
		unsetenv("WATCHDOG_PID");
		if (logpath != NULL && freopen(logpath, "w", stderr) == NULL)
			_exit(126);
		execl(bin, bin, "-c", "/dev/null", "--unit", unit, "--proc-root", proc, "--fs-root",
		    root, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* systemd slow to answer (every LoadUnit left unanswered, each call of
 * oomguard's timing out after a second): oomguard's loop goes on, its
 * WATCHDOG=1 every 100 ms (half of WatchdogSec=) like its sampling, on
 * the same loop. Asked synchronously, a question stalled the loop for a
 * second at a time, and the watchdog with it. */
START_TEST(test_loop_slow_systemd)
{
	char bin[PATH_MAX], npath[108], root[256], cmd[512], msg[512] = "";
	long long last = 0, gap = 0, now;
	int nfd, dogs = 0, status;
	struct timespec t0;
	pid_t og;

	oomguard_path(bin, sizeof(bin));
	if (bin[0] == '\0') {
		fprintf(stderr,
		    "test_loop_slow_systemd: no oomguard binary beside this suite; skipped\n");
		return;
	}
	snprintf(root, sizeof(root), "%s/hybrid", fake.dir);
	snprintf(cmd, sizeof(cmd), "cp -r tests/fixtures/hybrid %s", root);
	ck_assert_int_eq(system(cmd), 0);
	nfd = notify_socket(npath, sizeof(npath));
	og = oomguard_unit(bin, npath, root, "fixture.scope", NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (strstr(msg, "READY=1") == NULL && msec_since(&t0) < 5000)
		if (notify_recv(nfd, msg, sizeof(msg), 100) == 0)
			msg[0] = '\0';
	ck_assert_msg(strstr(msg, "READY=1") != NULL, "no READY=1 from oomguard --unit");
	/* Once it follows the unit by systemd's signals, a signal makes it
	 * ask at once. */
	for (int i = 0; i < 200 && atomic_load(&fake.subscribed) == 0; i++)
		usleep(10000);
	ck_assert_int_eq(atomic_load(&fake.subscribed), 1);
	usleep(200000);
	atomic_store(&fake.slow, true);
	atomic_store(&fake.signal_unit, FIXTURE_UNIT + 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	last = 0;
	while ((now = msec_since(&t0)) < 3000) {
		if (notify_recv(nfd, msg, sizeof(msg), 100) == 0)
			continue;
		now = msec_since(&t0);
		if (strstr(msg, "WATCHDOG=1") != NULL) {
			gap = now - last > gap ? now - last : gap;
			last = now;
			dogs++;
		}
	}
	gap = now - last > gap ? now - last : gap;
	kill(og, SIGTERM);
	ck_assert_int_eq(waitpid(og, &status, 0), og);
	atomic_store(&fake.slow, false);
	close(nfd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", root, npath);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_msg(dogs >= 15 && gap <= 500,
	    "WATCHDOG=1 %d times in 3 s, longest gap %lld ms (want >= 15, <= 500)", dogs, gap);
}
END_TEST

/* A unit whose cgroup cannot be located (app.service's is not in the
 * fixture): oomguard asks again every second, and says so once for the
 * run of failures, not once a second. */
START_TEST(test_loop_locate_failing)
{
	char bin[PATH_MAX], npath[108], root[256], logpath[300], cmd[700], line[512];
	int nfd, status, lines = 0;
	struct timespec t0;
	FILE *fp;
	pid_t og;

	oomguard_path(bin, sizeof(bin));
	if (bin[0] == '\0') {
		fprintf(stderr,
		    "test_loop_locate_failing: no oomguard binary beside this suite; skipped\n");
		return;
	}
	snprintf(root, sizeof(root), "%s/hybrid", fake.dir);
	snprintf(logpath, sizeof(logpath), "%s/locate.log", fake.dir);
	snprintf(cmd, sizeof(cmd), "cp -r tests/fixtures/hybrid %s", root);
	ck_assert_int_eq(system(cmd), 0);
	nfd = notify_socket(npath, sizeof(npath));
	og = oomguard_unit(bin, npath, root, "app.service", logpath);
	/* Read its notifications, as systemd would (a full socket blocks it). */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (msec_since(&t0) < 3500)
		(void)notify_recv(nfd, line, sizeof(line), 100);
	kill(og, SIGTERM);
	ck_assert_int_eq(waitpid(og, &status, 0), og);
	close(nfd);
	fp = fopen(logpath, "r");
	ck_assert_ptr_nonnull(fp);
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strstr(line, "/system.slice/app.service") != NULL &&
		    strstr(line, "cannot") != NULL)
			lines++;
	fclose(fp);
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s %s", root, npath, logpath);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_msg(lines == 1, "%d lines on the cgroup not located in 3.5 s (want 1)", lines);
}
END_TEST

/* Signal a change of units[i] from the fake systemd and return what
 * unit_bus_process() says once the connection has had it (or after 2 s). */
static int
signal_and_process(struct unit_bus *b, int i)
{
	struct pollfd p = { .fd = unit_bus_fd(b), .events = POLLIN };

	atomic_store(&fake.signal_unit, i + 1);
	ck_assert_int_eq(poll(&p, 1, 2000), 1);
	return unit_bus_process(b);
}

START_TEST(test_watch_signals)
{
	struct unit_bus *b = open_bus();
	struct unit_info info;

	ck_assert_int_eq(unit_query(b, "app.service", &info), 0);
	ck_assert_int_eq(unit_watch(b, "app.service"), 0);
	ck_assert_int_eq(atomic_load(&fake.subscribed), 1);
	ck_assert_int_eq(unit_bus_process(b), 0);
	/* units[0] is app.service: a change of it is seen, once. */
	ck_assert_int_eq(signal_and_process(b, 0), 1);
	ck_assert_int_eq(unit_bus_process(b), 0);
	/* units[1], another unit: nothing. */
	ck_assert_int_eq(signal_and_process(b, 1), 0);
	ck_assert_int_eq(unit_watch(b, "bad name.service"), -EINVAL);
	unit_bus_close(b);
}
END_TEST

START_TEST(test_watch_closed)
{
	struct unit_bus *b = open_bus();
	struct unit_info info;
	struct pollfd p;

	ck_assert_int_eq(unit_watch(b, "app.service"), 0);
	ck_assert_uint_eq(unit_bus_generation(b), 1);
	p = (struct pollfd){ .fd = unit_bus_fd(b), .events = POLLIN };
	atomic_store(&fake.drop, true);
	ck_assert_int_eq(poll(&p, 1, 2000), 1);
	ck_assert_int_lt(unit_bus_process(b), 0);
	/* A query reconnects; the watch is made again on the new connection. */
	ck_assert_int_eq(unit_query(b, "app.service", &info), 0);
	ck_assert_uint_eq(unit_bus_generation(b), 2);
	ck_assert_int_eq(unit_watch(b, "app.service"), 0);
	ck_assert_int_eq(atomic_load(&fake.subscribed), 2);
	ck_assert_int_eq(signal_and_process(b, 0), 1);
	unit_bus_close(b);
}
END_TEST

START_TEST(test_open_no_bus)
{
	struct unit_bus *b = (struct unit_bus *)&b;

	setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/oomguard-bus", 1);
	ck_assert_int_eq(unit_bus_open(&b), -ENOENT);
	ck_assert_ptr_eq(b, (struct unit_bus *)&b);
	unit_bus_close(NULL);
}
END_TEST

#else /* !OOMGUARD_SYSTEMD */

START_TEST(test_without_systemd)
{
	struct unit_bus *b = (struct unit_bus *)&b;
	struct unit_info info;

	ck_assert_int_eq(unit_bus_open(&b), -EOPNOTSUPP);
	ck_assert_ptr_eq(b, (struct unit_bus *)&b);
	ck_assert_int_eq(unit_query(b, "app.service", &info), -EOPNOTSUPP);
	ck_assert_int_eq(unit_query(b, "app", &info), -EINVAL);
	ck_assert_int_eq(unit_watch(b, "app.service"), -EOPNOTSUPP);
	ck_assert_uint_eq(unit_bus_generation(b), 0);
	ck_assert_int_eq(unit_bus_process(b), -EOPNOTSUPP);
	unit_bus_close(NULL);
}
END_TEST

#endif

int
main(void)
{
	Suite *s = suite_create("unit");
	TCase *tc = tcase_create("names");

	tcase_add_test(tc, test_name_valid);
	tcase_add_test(tc, test_name_invalid);
	tcase_add_test(tc, test_name_length);
	tcase_add_test(tc, test_name_interface);
	tcase_add_test(tc, test_invocation_format);
	suite_add_tcase(s, tc);
#if OOMGUARD_SYSTEMD
	tc = tcase_create("query");
	tcase_add_checked_fixture(tc, fake_start, fake_stop);
	tcase_add_test(tc, test_query_service);
	tcase_add_test(tc, test_query_stopped);
	tcase_add_test(tc, test_query_scope);
	tcase_add_test(tc, test_query_absent);
	tcase_add_test(tc, test_query_timeout);
	tcase_add_test(tc, test_query_reconnects);
	tcase_add_test(tc, test_watch_signals);
	tcase_add_test(tc, test_watch_closed);
	tcase_add_test(tc, test_query_async);
	suite_add_tcase(s, tc);
	tc = tcase_create("loop");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, fake_start, fake_stop);
	tcase_add_test(tc, test_loop_slow_systemd);
	tcase_add_test(tc, test_loop_locate_failing);
	suite_add_tcase(s, tc);
	tc = tcase_create("open");
	tcase_add_test(tc, test_open_no_bus);
	suite_add_tcase(s, tc);
#else
	tc = tcase_create("stubs");
	tcase_add_test(tc, test_without_systemd);
	suite_add_tcase(s, tc);
#endif
	return suite_run(s);
}
