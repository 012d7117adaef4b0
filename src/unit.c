/*
 * unit.c: systemd units over D-Bus. Low-level: no logging, the caller
 * decides what a failure means. Every call is bounded by
 * UNIT_CALL_TIMEOUT_USEC; a query costs six round trips (LoadUnit and a
 * property each). unit_query() waits for them (start-up);
 * unit_query_start() sends them one after the other from
 * unit_bus_process() and never waits (the loop).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if OOMGUARD_SYSTEMD
#include <systemd/sd-bus.h>
#endif

#include "unit.h"

/* systemd's VALID_CHARS_WITH_AT: what a unit name may hold. */
#define UNIT_NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-_.\\@"

/* The unit types that have a cgroup, and where their ControlGroup lives. */
static const struct unit_type {
	const char *suffix;
	const char *interface;
} unit_types[] = {
	{ ".service", "org.freedesktop.systemd1.Service" },
	{ ".scope", "org.freedesktop.systemd1.Scope" },
	{ ".slice", "org.freedesktop.systemd1.Slice" },
	{ ".socket", "org.freedesktop.systemd1.Socket" },
	{ ".mount", "org.freedesktop.systemd1.Mount" },
	{ ".swap", "org.freedesktop.systemd1.Swap" },
};

/* The type of name, or NULL when name is not a valid unit name with a
 * cgroup. */
static const struct unit_type *
unit_type_of(const char *name)
{
	const char *dot, *at;
	size_t len;

	if (name == NULL)
		return NULL;
	len = strnlen(name, UNIT_NAME_MAX);
	if (len == 0 || len >= UNIT_NAME_MAX || strspn(name, UNIT_NAME_CHARS) != len)
		return NULL;
	dot = strrchr(name, '.');
	if (dot == NULL || dot == name)
		return NULL;
	/* The first '@' ends the prefix; a template has nothing after it. */
	at = strchr(name, '@');
	if (at != NULL && (at == name || at + 1 == dot))
		return NULL;
	for (size_t i = 0; i < sizeof(unit_types) / sizeof(unit_types[0]); i++) {
		if (strcmp(dot, unit_types[i].suffix) == 0)
			return &unit_types[i];
	}
	return NULL;
}

int
unit_name_check(const char *name)
{
	return unit_type_of(name) != NULL ? 0 : -EINVAL;
}

const char *
unit_name_interface(const char *name)
{
	const struct unit_type *t = unit_type_of(name);

	return t != NULL ? t->interface : NULL;
}

int
unit_invocation_format(const unsigned char *id, size_t len, char ret[33])
{
	if (len != 0 && len != 16)
		return -EBADMSG;
	for (size_t i = 0; i < len; i++)
		snprintf(ret + 2 * i, 3, "%02x", id[i]);
	ret[2 * len] = '\0';
	return 0;
}

#if OOMGUARD_SYSTEMD

#define SYSTEMD_DEST    "org.freedesktop.systemd1"
#define SYSTEMD_PATH    "/org/freedesktop/systemd1"
#define SYSTEMD_MANAGER "org.freedesktop.systemd1.Manager"
#define SYSTEMD_UNIT    "org.freedesktop.systemd1.Unit"

/* A unit's object path: "/org/freedesktop/systemd1/unit/" and the name
 * escaped, three bytes at most for each of its characters. */
#define UNIT_PATH_MAX (sizeof(SYSTEMD_PATH "/unit/") + 3 * UNIT_NAME_MAX)

/* A unit that restarts under every attempt is reported, not chased. */
#define UNIT_QUERY_ATTEMPTS 3

/* The steps of a query made without waiting, in the order they go. */
enum ask_step {
	ASK_LOAD,       /* LoadUnit: the object path */
	ASK_ID,         /* InvocationID, before the properties */
	ASK_LOAD_STATE, /* LoadState */
	ASK_ACTIVE,     /* ActiveState */
	ASK_CGROUP,     /* ControlGroup */
	ASK_PID,        /* MainPID (services only) */
	ASK_ID_AFTER,   /* InvocationID again: the same run? */
};

/* One query made without waiting (unit_query_start()). */
struct unit_ask {
	bool busy;          /* calls are on their way */
	bool done;          /* result (and info) await unit_query_result() */
	int result;         /* 0 or -errno */
	enum ask_step step; /* the call on its way */
	int attempt;
	const char *interface;
	char name[UNIT_NAME_MAX];
	char path[UNIT_PATH_MAX];
	char load_state[32];
	char after[33];
	struct unit_info info;
	sd_bus_slot *slot; /* the call on its way */
};

struct unit_bus {
	sd_bus *bus;         /* NULL after a reconnection failed */
	sd_bus_slot *match;  /* the watched unit's PropertiesChanged, on bus */
	bool changed;        /* one came since unit_bus_process() last said so */
	unsigned generation; /* connections made so far */
	struct unit_ask ask;
};

static void ask_finish(struct unit_bus *b, int result);

static int
bus_connect(sd_bus **ret)
{
	sd_bus *bus = NULL;
	int r;

	r = sd_bus_open_system(&bus);
	if (r < 0)
		return r;
	r = sd_bus_set_method_call_timeout(bus, UNIT_CALL_TIMEOUT_USEC);
	if (r < 0) {
		sd_bus_flush_close_unref(bus);
		return r;
	}
	*ret = bus;
	return 0;
}

int
unit_bus_open(struct unit_bus **ret)
{
	struct unit_bus *b = calloc(1, sizeof(*b));
	int r;

	if (b == NULL)
		return -ENOMEM;
	r = bus_connect(&b->bus);
	if (r < 0) {
		free(b);
		return r;
	}
	b->generation = 1;
	*ret = b;
	return 0;
}

void
unit_bus_close(struct unit_bus *b)
{
	if (b == NULL)
		return;
	sd_bus_slot_unref(b->ask.slot);
	sd_bus_slot_unref(b->match);
	sd_bus_flush_close_unref(b->bus);
	free(b);
}

int
unit_bus_fd(struct unit_bus *b)
{
	return b->bus != NULL ? sd_bus_get_fd(b->bus) : -ENOTCONN;
}

/* The system bus restarts seldom, but a sidecar outlives it: a closed
 * connection is replaced before it is used. */
static int
bus_reopen(struct unit_bus *b)
{
	sd_bus *bus;
	int r;

	if (b->bus != NULL && sd_bus_is_open(b->bus) > 0)
		return 0;
	r = bus_connect(&bus);
	if (r < 0)
		return r;
	/* A query on its way went with the old connection. */
	if (b->ask.busy)
		ask_finish(b, -ECONNRESET);
	b->match = sd_bus_slot_unref(b->match);
	sd_bus_flush_close_unref(b->bus);
	b->bus = bus;
	b->generation++;
	return 0;
}

/* The start of a query of the unit name: its type's D-Bus interface in
 * *ret_interface, and a connection open (a closed one replaced, which ends
 * the query that went with it). Return 0, -EINVAL for a name of no known
 * type, or bus_reopen()'s error. */
static int
query_begin(struct unit_bus *b, const char *name, const char **ret_interface)
{
	*ret_interface = unit_name_interface(name);
	if (*ret_interface == NULL)
		return -EINVAL;
	return bus_reopen(b);
}

unsigned
unit_bus_generation(const struct unit_bus *b)
{
	return b->generation;
}

/* Copy a string into a buffer of len bytes. Return 0 or -ENAMETOOLONG. */
static int
copy_string(char *dst, size_t len, const char *src)
{
	if (strlen(src) >= len)
		return -ENAMETOOLONG;
	strcpy(dst, src);
	return 0;
}

/* The object path of the unit name into ret (UNIT_PATH_MAX bytes), the
 * unit loaded if need be. Return 0, -ENOENT, or -errno. */
static int
load_unit(sd_bus *bus, const char *name, char *ret)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *path;
	int r;

	/* libsystemd maps systemd's NoSuchUnit error to -ENOENT. */
	r = sd_bus_call_method(bus, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER, "LoadUnit", &error,
	    &reply, "s", name);
	if (r >= 0)
		r = sd_bus_message_read(reply, "o", &path);
	if (r >= 0)
		r = copy_string(ret, UNIT_PATH_MAX, path);
	sd_bus_message_unref(reply);
	sd_bus_error_free(&error);
	return r < 0 ? r : 0;
}

/* Read a string property into a buffer of len bytes. Return 0 or -errno. */
static int
get_string(
    sd_bus *bus, const char *path, const char *interface, const char *member, char *ret, size_t len)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	char *s = NULL;
	int r;

	r = sd_bus_get_property_string(bus, SYSTEMD_DEST, path, interface, member, &error, &s);
	if (r >= 0)
		r = copy_string(ret, len, s);
	free(s);
	sd_bus_error_free(&error);
	return r < 0 ? r : 0;
}

/* Read InvocationID (ay) as hex. Return 0 or -errno. */
static int
get_invocation(sd_bus *bus, const char *path, char ret[33])
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const void *id;
	size_t len;
	int r;

	r = sd_bus_get_property(
	    bus, SYSTEMD_DEST, path, SYSTEMD_UNIT, "InvocationID", &error, &reply, "ay");
	if (r >= 0)
		r = sd_bus_message_read_array(reply, 'y', &id, &len);
	if (r >= 0)
		r = unit_invocation_format(id, len, ret);
	sd_bus_message_unref(reply);
	sd_bus_error_free(&error);
	return r < 0 ? r : 0;
}

/* Read what unit_info holds but the invocation ID. Return 0, -ENOENT for
 * a unit without a unit file that does not run, or -errno. */
static int
get_info(sd_bus *bus, const char *path, const char *interface, struct unit_info *info)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	char load_state[32];
	uint32_t pid = 0;
	int r;

	r = get_string(bus, path, SYSTEMD_UNIT, "LoadState", load_state, sizeof(load_state));
	if (r < 0)
		return r;
	r = get_string(
	    bus, path, SYSTEMD_UNIT, "ActiveState", info->active_state, sizeof(info->active_state));
	if (r < 0)
		return r;
	/* A unit file removed under a running unit leaves it "not-found" yet
	 * running: only a stopped one is absent. */
	if (strcmp(load_state, "not-found") == 0 &&
	    (strcmp(info->active_state, "inactive") == 0 ||
	        strcmp(info->active_state, "failed") == 0))
		return -ENOENT;
	r = get_string(
	    bus, path, interface, "ControlGroup", info->control_group, sizeof(info->control_group));
	if (r < 0)
		return r;
	if (strcmp(interface, "org.freedesktop.systemd1.Service") == 0) {
		r = sd_bus_get_property_trivial(
		    bus, SYSTEMD_DEST, path, interface, "MainPID", &error, 'u', &pid);
		sd_bus_error_free(&error);
		if (r < 0)
			return r;
	}
	info->main_pid = (pid_t)pid;
	return 0;
}

/* One query, on a connection that is open. Return as unit_query(). */
static int
query(sd_bus *bus, const char *name, const char *interface, struct unit_info *ret)
{
	char path[UNIT_PATH_MAX], after[33];
	struct unit_info info;
	int r;

	r = load_unit(bus, name, path);
	if (r < 0)
		return r;
	/* The properties come one call each: an invocation ID unchanged
	 * around them shows they belong to one run of the unit. */
	for (int i = 0; i < UNIT_QUERY_ATTEMPTS; i++) {
		r = get_invocation(bus, path, info.invocation_id);
		if (r >= 0)
			r = get_info(bus, path, interface, &info);
		if (r >= 0)
			r = get_invocation(bus, path, after);
		if (r < 0)
			return r;
		if (strcmp(info.invocation_id, after) == 0) {
			*ret = info;
			return 0;
		}
	}
	return -EAGAIN;
}

int
unit_query(struct unit_bus *b, const char *name, struct unit_info *ret)
{
	const char *interface;
	int r;

	r = query_begin(b, name, &interface);
	if (r < 0)
		return r;
	r = query(b->bus, name, interface, ret);
	/* A connection that broke under the query (the bus went away and
	 * came back) is given one more chance on a new one. */
	if (r < 0 && sd_bus_is_open(b->bus) <= 0 && bus_reopen(b) >= 0)
		r = query(b->bus, name, interface, ret);
	return r;
}

/* ---- a query without waiting ---- */

static void
ask_finish(struct unit_bus *b, int result)
{
	b->ask.slot = sd_bus_slot_unref(b->ask.slot);
	b->ask.busy = false;
	b->ask.done = true;
	b->ask.result = result;
}

static int ask_reply(sd_bus_message *m, void *userdata, sd_bus_error *error);

/* Send the call of the current step. Return 0 or -errno. */
static int
ask_send(struct unit_bus *b)
{
	static const char *const member[] = {
		[ASK_ID] = "InvocationID",
		[ASK_LOAD_STATE] = "LoadState",
		[ASK_ACTIVE] = "ActiveState",
		[ASK_CGROUP] = "ControlGroup",
		[ASK_PID] = "MainPID",
		[ASK_ID_AFTER] = "InvocationID",
	};
	struct unit_ask *a = &b->ask;
	const char *interface =
	    a->step == ASK_CGROUP || a->step == ASK_PID ? a->interface : SYSTEMD_UNIT;

	if (a->step == ASK_LOAD)
		return sd_bus_call_method_async(b->bus, &a->slot, SYSTEMD_DEST, SYSTEMD_PATH,
		    SYSTEMD_MANAGER, "LoadUnit", ask_reply, b, "s", a->name);
	return sd_bus_call_method_async(b->bus, &a->slot, SYSTEMD_DEST, a->path,
	    "org.freedesktop.DBus.Properties", "Get", ask_reply, b, "ss", interface,
	    member[a->step]);
}

/* Read a string property's answer into a buffer of len bytes. */
static int
read_string(sd_bus_message *m, char *ret, size_t len)
{
	const char *v;
	int r = sd_bus_message_read(m, "v", "s", &v);

	return r < 0 ? r : copy_string(ret, len, v);
}

static int
read_invocation(sd_bus_message *m, char ret[33])
{
	const void *id;
	size_t len;
	int r = sd_bus_message_enter_container(m, 'v', "ay");

	if (r >= 0)
		r = sd_bus_message_read_array(m, 'y', &id, &len);
	return r < 0 ? r : unit_invocation_format(id, len, ret);
}

/* Take the answer of the current step. Return the next step, or -errno. */
static int
ask_take(struct unit_ask *a, sd_bus_message *m)
{
	const char *path;
	uint32_t pid;
	int r;

	switch (a->step) {
	case ASK_LOAD:
		r = sd_bus_message_read(m, "o", &path);
		return r < 0                                          ? r
		    : copy_string(a->path, sizeof(a->path), path) < 0 ? -ENAMETOOLONG
		                                                      : ASK_ID;
	case ASK_ID:
		r = read_invocation(m, a->info.invocation_id);
		return r < 0 ? r : ASK_LOAD_STATE;
	case ASK_LOAD_STATE:
		r = read_string(m, a->load_state, sizeof(a->load_state));
		return r < 0 ? r : ASK_ACTIVE;
	case ASK_ACTIVE:
		r = read_string(m, a->info.active_state, sizeof(a->info.active_state));
		if (r < 0)
			return r;
		/* As get_info(): only a stopped unit without a unit file is absent. */
		if (strcmp(a->load_state, "not-found") == 0 &&
		    (strcmp(a->info.active_state, "inactive") == 0 ||
		        strcmp(a->info.active_state, "failed") == 0))
			return -ENOENT;
		return ASK_CGROUP;
	case ASK_CGROUP:
		r = read_string(m, a->info.control_group, sizeof(a->info.control_group));
		if (r < 0)
			return r;
		return strcmp(a->interface, "org.freedesktop.systemd1.Service") == 0 ? ASK_PID
		                                                                     : ASK_ID_AFTER;
	case ASK_PID:
		r = sd_bus_message_read(m, "v", "u", &pid);
		a->info.main_pid = (pid_t)pid;
		return r < 0 ? r : ASK_ID_AFTER;
	default:
		r = read_invocation(m, a->after);
		return r < 0 ? r : ASK_ID_AFTER + 1;
	}
}

/* An answer of systemd (or the error the bus made of a timeout or a
 * closed connection): take it and send the next call, or finish. */
static int
ask_reply(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct unit_bus *b = userdata;
	struct unit_ask *a = &b->ask;
	int r =
	    sd_bus_message_is_method_error(m, NULL) ? -sd_bus_message_get_errno(m) : ask_take(a, m);

	(void)error;
	a->slot = sd_bus_slot_unref(a->slot);
	if (r == 0) /* an error without an errno */
		r = -EIO;
	if (r < 0) {
		ask_finish(b, r);
		return 0;
	}
	if (r > ASK_ID_AFTER) {
		/* The invocation ID unchanged around the properties: one run. */
		if (strcmp(a->info.invocation_id, a->after) == 0) {
			ask_finish(b, 0);
			return 0;
		}
		if (++a->attempt == UNIT_QUERY_ATTEMPTS) {
			ask_finish(b, -EAGAIN);
			return 0;
		}
		r = ASK_ID;
	}
	a->step = (enum ask_step)r;
	if (a->step == ASK_ID)
		a->info.main_pid = 0;
	r = ask_send(b);
	if (r < 0)
		ask_finish(b, r);
	return 0;
}

int
unit_query_start(struct unit_bus *b, const char *name)
{
	struct unit_ask *a = &b->ask;
	const char *interface;
	int r;

	/* First: a closed connection ends the query that went with it. */
	r = query_begin(b, name, &interface);
	if (r < 0)
		return r;
	if (a->busy)
		return -EBUSY;
	*a = (struct unit_ask){ .busy = true, .interface = interface, .step = ASK_LOAD };
	snprintf(a->name, sizeof(a->name), "%s", name);
	r = ask_send(b);
	if (r < 0) {
		a->busy = false;
		return r;
	}
	return 0;
}

int
unit_query_result(struct unit_bus *b, struct unit_info *ret)
{
	if (!b->ask.done)
		return -EINPROGRESS;
	b->ask.done = false;
	if (b->ask.result == 0)
		*ret = b->ask.info;
	return b->ask.result;
}

static int
on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct unit_bus *b = userdata;

	(void)m;
	(void)error;
	b->changed = true;
	return 0;
}

int
unit_watch(struct unit_bus *b, const char *name)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	char *path = NULL;
	int r;

	if (unit_name_check(name) < 0)
		return -EINVAL;
	r = bus_reopen(b);
	if (r < 0)
		return r;
	b->match = sd_bus_slot_unref(b->match);
	/* systemd sends unit signals only while a client is subscribed. */
	r = sd_bus_call_method(
	    b->bus, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER, "Subscribe", &error, NULL, NULL);
	sd_bus_error_free(&error);
	if (r >= 0)
		r = sd_bus_path_encode(SYSTEMD_PATH "/unit", name, &path);
	if (r >= 0)
		r = sd_bus_match_signal(b->bus, &b->match, SYSTEMD_DEST, path,
		    "org.freedesktop.DBus.Properties", "PropertiesChanged", on_properties_changed,
		    b);
	free(path);
	return r < 0 ? r : 0;
}

int
unit_bus_process(struct unit_bus *b)
{
	int r;

	if (b->bus == NULL)
		return -ENOTCONN;
	do
		r = sd_bus_process(b->bus, NULL);
	while (r > 0);
	if (r < 0 || sd_bus_is_open(b->bus) <= 0) {
		b->match = sd_bus_slot_unref(b->match);
		return r < 0 ? r : -ECONNRESET;
	}
	r = b->changed;
	b->changed = false;
	return r;
}

#else /* !OOMGUARD_SYSTEMD */

int
unit_bus_open(struct unit_bus **ret)
{
	(void)ret;
	return -EOPNOTSUPP;
}

void
unit_bus_close(struct unit_bus *b)
{
	(void)b;
}

int
unit_bus_fd(struct unit_bus *b)
{
	(void)b;
	return -EOPNOTSUPP;
}

unsigned
unit_bus_generation(const struct unit_bus *b)
{
	(void)b;
	return 0;
}

int
unit_query(struct unit_bus *b, const char *name, struct unit_info *ret)
{
	(void)b;
	(void)ret;
	return unit_name_check(name) < 0 ? -EINVAL : -EOPNOTSUPP;
}

int
unit_query_start(struct unit_bus *b, const char *name)
{
	(void)b;
	return unit_name_check(name) < 0 ? -EINVAL : -EOPNOTSUPP;
}

int
unit_query_result(struct unit_bus *b, struct unit_info *ret)
{
	(void)b;
	(void)ret;
	return -EINPROGRESS;
}

int
unit_watch(struct unit_bus *b, const char *name)
{
	(void)b;
	return unit_name_check(name) < 0 ? -EINVAL : -EOPNOTSUPP;
}

int
unit_bus_process(struct unit_bus *b)
{
	(void)b;
	return -EOPNOTSUPP;
}

#endif
