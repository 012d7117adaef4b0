/*
 * unit.h: what systemd knows of a unit, asked over D-Bus (sd-bus): its
 * cgroup, its main process and its state, so that oomguard beside a
 * service can follow it across restarts. The connection is opaque so
 * that callers compile without libsystemd; a build without it
 * (OOMGUARD_SYSTEMD=0) keeps the pure parts and fails the rest with
 * -EOPNOTSUPP.
 */
#ifndef OOMGUARD_UNIT_H
#define OOMGUARD_UNIT_H

#include <limits.h>
#include <sys/types.h>

/* systemd's limit on a unit name, its NUL included. */
#define UNIT_NAME_MAX 256

/* Every method call gives up after this long: systemd busy with a
 * daemon-reload must not stall the watch for systemd's default 25 s. */
#define UNIT_CALL_TIMEOUT_USEC 1000000ULL

struct unit_bus;

/* A unit, as systemd saw it at one query. */
struct unit_info {
	char control_group[PATH_MAX]; /* "/system.slice/x.service", "" while not running */
	pid_t main_pid;               /* 0 when none, and always for units other than services */
	char active_state[32];        /* "active", "activating", "deactivating", "inactive", ... */
	char invocation_id[33];       /* 32 hex digits, new at every start; "" when none */
};

/* Check that name is a unit name systemd accepts and of a type that has
 * a cgroup: .service, .scope, .slice, .socket, .mount or .swap; a
 * template ("x@.service") has no cgroup either. Pure. Return 0 or
 * -EINVAL. */
int unit_name_check(const char *name);

/* The D-Bus interface that holds the ControlGroup property of a unit of
 * this name ("org.freedesktop.systemd1.Service", ...), from its suffix.
 * Pure. Return it, or NULL for a name unit_name_check() rejects. */
const char *unit_name_interface(const char *name);

/* Write the invocation ID of len bytes (16, or 0 for none) as hex into
 * ret. Pure. Return 0, or -EBADMSG for another length. */
int unit_invocation_format(const unsigned char *id, size_t len, char ret[33]);

/* Connect to the system bus ($DBUS_SYSTEM_BUS_ADDRESS, else systemd's
 * default). Return 0 and set *ret, or -errno (-ENOENT without a system
 * bus, -EOPNOTSUPP when built without libsystemd). */
int unit_bus_open(struct unit_bus **ret);

/* Which connection b is on: 1 for the first, one more at each
 * reconnection (unit_query() makes them). A watch (unit_watch()) is good
 * for one connection only. */
unsigned unit_bus_generation(const struct unit_bus *b);

/* Close b; NULL is allowed. */
void unit_bus_close(struct unit_bus *b);

/* The connection's descriptor, for a caller that wants to see it close.
 * Return it, or -errno. */
int unit_bus_fd(struct unit_bus *b);

/* Ask systemd about the unit name, loading it if it is not loaded (a
 * stopped unit is unloaded when nothing refers to it). Synchronous: each
 * of its few calls waits at most UNIT_CALL_TIMEOUT_USEC. The fields come
 * from one invocation of the unit: if it restarted in between, the query
 * is repeated. A connection found closed, or that breaks under the query
 * (the bus restarted), is reopened and the query made again. Return 0 and fill *ret, or -errno:
 * -EINVAL for a bad name, -ENOENT when no such unit exists (and none by that name runs),
 * -ETIMEDOUT, -EAGAIN when it kept restarting under the query,
 * -EOPNOTSUPP without libsystemd, or the error systemd answered. */
int unit_query(struct unit_bus *b, const char *name, struct unit_info *ret);

/* Ask systemd about the unit name as unit_query() does, without waiting:
 * the calls go one after the other as unit_bus_process() reads their
 * answers (each bounded by UNIT_CALL_TIMEOUT_USEC, which only a call of
 * unit_bus_process() after it can notice), and the answer is taken with
 * unit_query_result(). One query at a time. Reconnects a closed
 * connection first. Return 0 (on its way), -EBUSY while one is, -EINVAL
 * for a bad name, or -errno. */
int unit_query_start(struct unit_bus *b, const char *name);

/* The answer of unit_query_start(): return 0 and fill *ret, -EINPROGRESS
 * while none has come (or none was asked), or the query's -errno, as
 * unit_query() returns them (-ECONNRESET when the connection was replaced
 * under it). Taking it ends the query. */
int unit_query_result(struct unit_bus *b, struct unit_info *ret);

/*
 * Ask systemd to say when the unit name changes (the manager's Subscribe,
 * and a match on the PropertiesChanged signals of the unit's object),
 * so that the caller need not ask every second. Signals are read by
 * unit_bus_process() when the descriptor of unit_bus_fd() is readable.
 * A connection that unit_query() had to reopen has lost the watch (and
 * may have another descriptor): unit_bus_generation() tells, and the
 * caller calls this again. Return 0, or
 * -errno (-EINVAL for a bad name, -EOPNOTSUPP without libsystemd).
 */
int unit_watch(struct unit_bus *b, const char *name);

/* Process what the connection has received, without waiting. Return 1
 * when a change of the watched unit was signalled since the last call, 0
 * when none, or -errno when the connection is closed (the watch is gone
 * with it). */
int unit_bus_process(struct unit_bus *b);

#endif
