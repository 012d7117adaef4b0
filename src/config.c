/*
 * config.c: the key table, and the file, environment and flag loaders
 * that feed it. A value is parsed and range-checked when it is set;
 * relations between keys are checked once everything is loaded.
 */
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "config.h"
#include "listen.h"

enum key_type {
	KT_CGROUP,
	KT_METRIC,
	KT_DURATION,
	KT_SIZE,
	KT_THRESHOLD,
	KT_THRESHOLD_AUTO,
	KT_SIGNAL,
	KT_BOOL,
	KT_PSI,
	KT_TARGET,
	KT_RESERVE_MODE,
	KT_RESTART,
	KT_LEVEL,
	KT_FORMAT,
	KT_HINTS,
	KT_LISTEN,
	KT_PROGRAM,
	KT_HOOK_EVENTS,
	KT_SOCKET,
};

struct key {
	const char *section;
	const char *name;
	enum key_type type;
	size_t offset;
	uint64_t min; /* durations and sizes: the accepted range */
	uint64_t max;
	const char *help;
};

#define MS         1000ULL
#define SEC        1000000ULL
#define OFF(field) offsetof(struct config, field)

static const struct key keys[CONFIG_NKEYS] = {
	{ "watch", "cgroup", KT_CGROUP, OFF(cgroup), 0, 0,
	    "cgroup to watch: self (oomguard's own) or a path" },
	{ "watch", "metric", KT_METRIC, OFF(metric), 0, 0,
	    "what is compared with the thresholds: usage, workingset (usage minus inactive file "
	    "cache) or anon" },
	{ "watch", "poll_min", KT_DURATION, OFF(poll_min_usec), 100, 10 * SEC,
	    "shortest polling interval, used close to a threshold" },
	{ "watch", "poll_max", KT_DURATION, OFF(poll_max_usec), 1 * MS, 60 * SEC,
	    "longest polling interval, used far from every threshold" },
	{ "watch", "max_growth", KT_SIZE, OFF(max_growth_bytes), 1 << 20, 1ULL << 40,
	    "fastest memory growth per second to plan polling for" },
	{ "watch", "psi", KT_PSI, OFF(psi), 0, 0,
	    "PSI trigger such as \"some 100ms 1s\" (stall within window), or none" },
	{ "watch", "high", KT_THRESHOLD_AUTO, OFF(watch_high), 0, 0,
	    "cgroup v2: set memory.high to this (auto: the restart level) while watching, or "
	    "none" },
	{ "gc", "at", KT_THRESHOLD, OFF(gc_at), 0, 0,
	    "ask the app to free memory at this level (percent of the limit or a size, or none)" },
	{ "gc", "signal", KT_SIGNAL, OFF(gc_signal), 0, 0,
	    "signal that asks the app to free memory" },
	{ "gc", "cooldown", KT_DURATION, OFF(gc_cooldown_usec), 10 * MS, 3600 * SEC,
	    "how long a request gets to take effect: asked again after this, and the restart "
	    "level may fire" },
	{ "gc", "min_interval", KT_DURATION, OFF(gc_min_interval_usec), 1 * MS, 3600 * SEC,
	    "after a request that took effect, the next goes out when memory is back at gc.at, "
	    "but not sooner than this" },
	{ "gc", "rearm_below", KT_THRESHOLD, OFF(gc_rearm_below), 0, 0,
	    "an episode ends, and escalation starts again at gc, below this level (unset: a "
	    "fifteenth below the lowest armed level)" },
	{ "gc", "require_handler", KT_BOOL, OFF(gc_require_handler), 0, 0,
	    "send the gc signal only to a process that catches it (yes/no)" },
	{ "gc", "reclaim", KT_THRESHOLD, OFF(gc_reclaim), 0, 0,
	    "cgroup v2: with each gc request also reclaim this much through memory.reclaim, or "
	    "none" },
	{ "restart", "at", KT_THRESHOLD, OFF(restart_at), 0, 0,
	    "ask the app to restart gracefully at this level (or none)" },
	{ "restart", "signal", KT_SIGNAL, OFF(restart_signal), 0, 0,
	    "signal that asks the app to shut down" },
	{ "restart", "grace", KT_DURATION, OFF(restart_grace_usec), 0, 3600 * SEC,
	    "SIGKILL the app this long after the restart signal if it is still running" },
	{ "restart", "startup", KT_DURATION, OFF(restart_startup_usec), 0, 3600 * SEC,
	    "a freshly started app is not sent the restart signal during this" },
	{ "kill", "at", KT_THRESHOLD, OFF(kill_at), 0, 0,
	    "SIGKILL the app at once at this level (or none)" },
	{ "reserve", "size", KT_THRESHOLD_AUTO, OFF(reserve_size), 0, 0,
	    "emergency reserve held for rescuing a frozen cgroup: auto (2% of the limit, at "
	    "most 32M), a size, a percent, or none" },
	{ "reserve", "mode", KT_RESERVE_MODE, OFF(reserve_mode), 0, 0,
	    "how a rescue frees the reserve: memory (oomguard holds it in the cgroup), limit "
	    "(raise the limit by it for the rescue), or auto (memory when oomguard is in the "
	    "watched cgroup)" },
	{ "action", "target", KT_TARGET, OFF(target), 0, 0,
	    "who gets the signals: main (the app), group (its process group) or cgroup (every "
	    "process in it)" },
	{ "action", "dry_run", KT_BOOL, OFF(dry_run), 0, 0,
	    "log every decision but send nothing (yes/no)" },
	{ "supervise", "restart", KT_RESTART, OFF(supervise_restart), 0, 0,
	    "restart the app: on-watchdog (when oomguard ended it), always, or never" },
	{ "supervise", "restart_delay", KT_DURATION, OFF(restart_delay_usec), 0, 3600 * SEC,
	    "first delay before a restart; doubles on each quick failure" },
	{ "supervise", "restart_delay_max", KT_DURATION, OFF(restart_delay_max_usec), 0, 3600 * SEC,
	    "longest delay before a restart" },
	{ "supervise", "stable", KT_DURATION, OFF(stable_usec), 0, 24 * 3600 * SEC,
	    "a run this long resets the restart delay" },
	{ "log", "level", KT_LEVEL, OFF(log_level), 0, 0, "error, warn, info or debug" },
	{ "log", "format", KT_FORMAT, OFF(log_format), 0, 0, "text or json" },
	{ "runtime", "hints", KT_HINTS, OFF(runtime_hints), 0, 0,
	    "set the app's runtime heap limits (GOMEMLIMIT, NODE_OPTIONS, JAVA_TOOL_OPTIONS, "
	    "DOTNET_GCHeapHardLimit) from the limit at each start: auto or none" },
	{ "metrics", "listen", KT_LISTEN, OFF(metrics_listen), 0, 0,
	    "serve /metrics, /healthz and /status on IPV4:PORT, [IPV6]:PORT or unix:/PATH, or "
	    "none" },
	{ "hook", "exec", KT_PROGRAM, OFF(hook_exec), 0, 0,
	    "program run on the events of [hook] on, the event in its environment (an absolute "
	    "path, run without arguments), or none" },
	{ "hook", "on", KT_HOOK_EVENTS, OFF(hook_on), 0, 0,
	    "events the hook runs on: gc-episode, restart, kill and rescue, separated by commas, "
	    "or none" },
	{ "hook", "timeout", KT_DURATION, OFF(hook_timeout_usec), 10 * MS, 60 * SEC,
	    "the hook, with its process group, is killed this long after it started" },
	{ "docker", "socket", KT_SOCKET, OFF(docker_socket), 0, 0,
	    "the Docker Engine's unix socket, for --docker" },
};

static const char *const metric_names[] = { "usage", "workingset", "anon" };
static const char *const target_names[] = { "main", "group", "cgroup" };
static const char *const restart_names[] = { "on-watchdog", "always", "never" };
static const char *const reserve_mode_names[] = { "auto", "memory", "limit" };
static const char *const hints_names[] = { "auto", "none" };
static const char *const hook_event_names[HOOK_NEVENTS] = { "gc-episode", "restart", "kill",
	"rescue" };

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

const char *
config_metric_name(enum metric m)
{
	return metric_names[m];
}

const char *
config_target_name(enum target_mode t)
{
	return target_names[t];
}

const char *
config_restart_name(enum restart_mode m)
{
	return restart_names[m];
}

const char *
config_reserve_mode_name(enum reserve_mode m)
{
	return reserve_mode_names[m];
}

const char *
config_hook_event_name(enum hook_event e)
{
	return hook_event_names[e];
}

bool
config_hook_wanted(const struct config *c, enum hook_event e)
{
	return c->hook_exec[0] != '\0' && (c->hook_on & 1U << e);
}

void
config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->cgroup, sizeof(c->cgroup), "self");
	c->metric = METRIC_WORKINGSET;
	c->poll_min_usec = 2 * MS;
	c->poll_max_usec = 1 * SEC;
	c->max_growth_bytes = 1ULL << 30;
	c->gc_at = (struct threshold){ THRESHOLD_PERCENT, 75 * UNITS_PCT_SCALE };
	c->gc_signal = SIGUSR1;
	c->gc_cooldown_usec = 1 * SEC;
	c->gc_min_interval_usec = 25 * MS;
	c->gc_rearm_below = (struct threshold){ THRESHOLD_PERCENT, 70 * UNITS_PCT_SCALE };
	c->gc_require_handler = true;
	c->restart_at = (struct threshold){ THRESHOLD_PERCENT, 90 * UNITS_PCT_SCALE };
	c->restart_signal = SIGTERM;
	c->restart_grace_usec = 10 * SEC;
	c->restart_startup_usec = 10 * SEC;
	c->kill_at = (struct threshold){ THRESHOLD_PERCENT, 97 * UNITS_PCT_SCALE };
	c->reserve_size = (struct threshold){ THRESHOLD_AUTO, 0 };
	c->watch_high = (struct threshold){ THRESHOLD_NONE, 0 };
	c->gc_reclaim = (struct threshold){ THRESHOLD_NONE, 0 };
	c->target = TARGET_MAIN;
	c->supervise_restart = RESTART_ON_WATCHDOG;
	c->restart_delay_usec = 1 * SEC;
	c->restart_delay_max_usec = 60 * SEC;
	c->stable_usec = 60 * SEC;
	c->log_level = LOG_LVL_INFO;
	c->log_format = LOG_FMT_TEXT;
	c->runtime_hints = HINTS_AUTO;
	snprintf(c->metrics_listen, sizeof(c->metrics_listen), "none");
	c->hook_on = 1U << HOOK_RESTART | 1U << HOOK_KILL;
	c->hook_timeout_usec = 2 * SEC;
	snprintf(c->docker_socket, sizeof(c->docker_socket), "/var/run/docker.sock");
}

static int
parse_name(const char *s, const char *const *names, size_t n, int *ret)
{
	for (size_t i = 0; i < n; i++) {
		if (strcasecmp(s, names[i]) == 0) {
			*ret = (int)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* "some 100ms 1s": the kernel takes windows from 500ms to 10s and a stall
 * no longer than its window. */
static int
parse_psi(const char *s, struct psi_trigger *ret, char *err, size_t errlen)
{
	char kind[8], stall[UNITS_BUF], window[UNITS_BUF], extra[2];
	struct psi_trigger t = { .enabled = true };

	if (s[0] == '\0' || strcasecmp(s, "none") == 0) {
		*ret = (struct psi_trigger){ .enabled = false };
		return 0;
	}
	if (sscanf(s, "%7s %31s %31s %1s", kind, stall, window, extra) != 3 ||
	    (strcasecmp(kind, "some") != 0 && strcasecmp(kind, "full") != 0)) {
		snprintf(err, errlen, "expected \"some|full STALL WINDOW\" or none");
		return -EINVAL;
	}
	t.full = strcasecmp(kind, "full") == 0;
	if (units_parse_duration(stall, &t.stall_usec) < 0 ||
	    units_parse_duration(window, &t.window_usec) < 0) {
		snprintf(err, errlen, "stall and window are durations such as 100ms and 1s");
		return -EINVAL;
	}
	if (t.window_usec < 500 * MS || t.window_usec > 10 * SEC || t.stall_usec == 0 ||
	    t.stall_usec > t.window_usec) {
		snprintf(err, errlen, "window must be 500ms..10s and stall above 0 and within it");
		return -EINVAL;
	}
	*ret = t;
	return 0;
}

char *
config_psi_format(const struct psi_trigger *t, char *buf, size_t len)
{
	char stall[UNITS_BUF], window[UNITS_BUF];

	if (!t->enabled)
		snprintf(buf, len, "none");
	else
		snprintf(buf, len, "%s %s %s", t->full ? "full" : "some",
		    units_format_duration(t->stall_usec, stall),
		    units_format_duration(t->window_usec, window));
	return buf;
}

static int
set_ranged(const struct key *k, uint64_t v, uint64_t *field, char *err, size_t errlen)
{
	char lo[UNITS_BUF], hi[UNITS_BUF];

	if (v < k->min || v > k->max) {
		if (k->type == KT_SIZE)
			snprintf(err, errlen, "out of range (%s to %s)",
			    units_format_size(k->min, lo), units_format_size(k->max, hi));
		else
			snprintf(err, errlen, "out of range (%s to %s)",
			    units_format_duration(k->min, lo), units_format_duration(k->max, hi));
		return -EINVAL;
	}
	*field = v;
	return 0;
}

static int cgroup_unquote(const char *value, char *buf, size_t len);

static int
set_cgroup(char *field, const char *value, char *err, size_t errlen)
{
	char path[PATH_MAX];

	if (value[0] == '"' && cgroup_unquote(value, path, sizeof(path)) < 0) {
		snprintf(err, errlen,
		    "a path in quotes ends at its closing quote and takes only the escapes \\\\, "
		    "\\\", \\n, \\t and \\xHH (not \\x00)");
		return -EINVAL;
	}
	if (value[0] == '"')
		value = path;
	if (strcasecmp(value, "self") == 0)
		value = "self";
	if (strcmp(value, "self") != 0 && value[0] != '/') {
		snprintf(err, errlen, "expected self or an absolute path");
		return -EINVAL;
	}
	if (strlen(value) >= PATH_MAX) {
		snprintf(err, errlen, "path too long");
		return -EINVAL;
	}
	strcpy(field, value);
	return 0;
}

/* A unix socket's path: absolute, and short enough for sun_path. */
static int
set_socket(char *field, size_t size, const char *value, char *err, size_t errlen)
{
	if (value[0] != '/') {
		snprintf(err, errlen, "expected an absolute path");
		return -EINVAL;
	}

	if (strlen(value) >= size) {
		snprintf(err, errlen, "path longer than %zu characters", size - 1);
		return -EINVAL;
	}
	strcpy(field, value);
	return 0;
}

static int
set_signal(const char *value, int *field, char *err, size_t errlen)
{
	int signo;

	if (units_parse_signal(value, &signo) < 0) {
		snprintf(err, errlen, "unknown signal '%s'", value);
		return -EINVAL;
	}
	if (signo == SIGKILL || signo == SIGSTOP || signo == SIGCHLD) {
		snprintf(err, errlen, "%s cannot be used here (%s)", value,
		    signo == SIGKILL       ? "SIGKILL is [kill] at's job"
		        : signo == SIGSTOP ? "a stopped app can neither free memory nor shut down"
		                           : "SIGCHLD is ignored unless handled, and means a child "
		                             "ended");
		return -EINVAL;
	}
	*field = signo;
	return 0;
}

static int
set_threshold(
    const struct key *k, const char *value, struct threshold *field, char *err, size_t errlen)
{
	int r = units_parse_threshold(value, k->type == KT_THRESHOLD_AUTO, field);
	uint64_t bytes;

	if (r == -ERANGE && strchr(value, '%') != NULL)
		snprintf(err, errlen, "'%s' is out of range (above 0%%, at most 100%%)", value);
	else if (r == -ERANGE && units_parse_size(value, &bytes) == 0)
		snprintf(
		    err, errlen, "'%s' is out of range (a size above 0; none turns it off)", value);
	else if (r == -ERANGE)
		snprintf(err, errlen, "'%s' is out of range (at most 16777215T)", value);
	else if (r < 0)
		snprintf(err, errlen, "'%s' is not %s", value,
		    k->type == KT_THRESHOLD_AUTO
		        ? "auto, none, a percentage or a size (B, K, M, G)"
		        : "none, a percentage (75%) or a size (B, K, M, G)");
	return r < 0 ? -EINVAL : 0;
}

static int
set_enum(
    const char *value, const char *const *names, size_t n, int *field, char *err, size_t errlen)
{
	char list[128] = "";

	if (parse_name(value, names, n, field) == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
		    names[i]);
	snprintf(err, errlen, "unknown value '%s' (expected %s)", value, list);
	return -EINVAL;
}

static int
set_listen(char *field, const char *value, char *err, size_t errlen)
{
	struct listen_address a;
	char text[LISTEN_TEXT_MAX];

	if (listen_parse(value, &a, err, errlen) < 0)
		return -EINVAL;
	snprintf(field, sizeof(((struct config *)0)->metrics_listen), "%s",
	    listen_format(&a, text, sizeof(text)));
	return 0;
}

static int
set_program(char *field, const char *value, char *err, size_t errlen)
{
	if (value[0] == '\0' || strcasecmp(value, "none") == 0) {
		field[0] = '\0';
		return 0;
	}
	if (value[0] != '/') {
		snprintf(err, errlen, "expected an absolute path or none");
		return -EINVAL;
	}
	if (strlen(value) >= PATH_MAX) {
		snprintf(err, errlen, "path too long");
		return -EINVAL;
	}
	strcpy(field, value);
	return 0;
}

/* "restart,kill": names separated by commas (white space around them
 * allowed), or none. */
static int
set_hook_events(unsigned *field, const char *value, char *err, size_t errlen)
{
	char buf[128], *save = NULL;
	unsigned bits = 0;
	int e;

	if (strlen(value) >= sizeof(buf)) {
		snprintf(err, errlen, "too long");
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", value);
	if (strcasecmp(value, "none") == 0 || value[0] == '\0') {
		*field = 0;
		return 0;
	}
	for (char *t = strtok_r(buf, ", \t", &save); t != NULL; t = strtok_r(NULL, ", \t", &save)) {
		if (set_enum(t, hook_event_names, NELEM(hook_event_names), &e, err, errlen) < 0)
			return -EINVAL;
		bits |= 1U << e;
	}
	if (bits == 0) {
		snprintf(err, errlen, "expected gc-episode, restart, kill or rescue, or none");
		return -EINVAL;
	}
	*field = bits;
	return 0;
}

static bool ini_bare_ok(const char *text);

static int
set_value(struct config *c, const struct key *k, const char *value, char *err, size_t errlen)
{
	static const char *const levels[] = { "error", "warn", "info", "debug" };
	static const char *const formats[] = { "text", "json" };
	void *field = (char *)c + k->offset;
	uint64_t v;
	int r;

	/* These are dumped as they are (value_format()): a value the file
	 * cannot hold bare would not read back. */
	if ((k->type == KT_SOCKET || k->type == KT_LISTEN || k->type == KT_PROGRAM) &&
	    !ini_bare_ok(value)) {
		snprintf(err, errlen,
		    "'%s' has white space at its end, a control character, or "
		    "'#' or ';' after white space",
		    value);
		return -EINVAL;
	}
	switch (k->type) {
	case KT_CGROUP:
		return set_cgroup(field, value, err, errlen);
	case KT_METRIC:
		return set_enum(value, metric_names, NELEM(metric_names), field, err, errlen);
	case KT_TARGET:
		return set_enum(value, target_names, NELEM(target_names), field, err, errlen);
	case KT_RESTART:
		return set_enum(value, restart_names, NELEM(restart_names), field, err, errlen);
	case KT_RESERVE_MODE:
		return set_enum(
		    value, reserve_mode_names, NELEM(reserve_mode_names), field, err, errlen);
	case KT_LEVEL:
		return set_enum(value, levels, NELEM(levels), field, err, errlen);
	case KT_FORMAT:
		return set_enum(value, formats, NELEM(formats), field, err, errlen);
	case KT_HINTS:
		return set_enum(value, hints_names, NELEM(hints_names), field, err, errlen);
	case KT_DURATION:
		r = units_parse_duration(value, &v);
		if (r < 0) {
			snprintf(err, errlen,
			    "'%s' is not a duration (a number with us, ms, s, m or h)", value);
			return -EINVAL;
		}
		return set_ranged(k, v, field, err, errlen);
	case KT_SIZE:
		r = units_parse_size(value, &v);
		if (r < 0) {
			snprintf(err, errlen, "'%s' is not a size (a number with B, K, M, G or T)",
			    value);
			return -EINVAL;
		}
		return set_ranged(k, v, field, err, errlen);
	case KT_THRESHOLD:
	case KT_THRESHOLD_AUTO:
		return set_threshold(k, value, field, err, errlen);
	case KT_SIGNAL:
		return set_signal(value, field, err, errlen);
	case KT_BOOL:
		if (units_parse_bool(value, field) < 0) {
			snprintf(err, errlen, "'%s' is not yes or no", value);
			return -EINVAL;
		}
		return 0;
	case KT_PSI:
		return parse_psi(value, field, err, errlen);
	case KT_LISTEN:
		return set_listen(field, value, err, errlen);
	case KT_PROGRAM:
		return set_program(field, value, err, errlen);
	case KT_HOOK_EVENTS:
		return set_hook_events(field, value, err, errlen);
	case KT_SOCKET:
		return set_socket(field, sizeof(c->docker_socket), value, err, errlen);
	}
	return -EINVAL;
}

static int
key_find(const char *section, const char *name)
{
	for (int i = 0; i < CONFIG_NKEYS; i++) {
		if (strcasecmp(keys[i].section, section) == 0 &&
		    strcasecmp(keys[i].name, name) == 0)
			return i;
	}
	return -1;
}

static bool
section_known(const char *section)
{
	for (int i = 0; i < CONFIG_NKEYS; i++) {
		if (strcasecmp(keys[i].section, section) == 0)
			return true;
	}
	return false;
}

int
config_set(struct config *c, const char *section, const char *key, const char *value,
    const struct config_origin *origin, char *err, size_t errlen)
{
	int i = key_find(section, key);
	char msg[CONFIG_ERR_MAX];

	if (i < 0) {
		if (!section_known(section))
			snprintf(err, errlen, "unknown section [%s]", section);
		else
			snprintf(err, errlen, "unknown key '%s' in [%s]", key, section);
		return -ENOENT;
	}
	if (set_value(c, &keys[i], value, msg, sizeof(msg)) < 0) {
		snprintf(err, errlen, "[%s] %s: %s", section, key, msg);
		return -EINVAL;
	}
	c->origin[i] = *origin;
	return 0;
}

/* State for one parse of a file. inih reports the line of the first
 * handler failure, and the reader below counts lines so that each key's
 * origin, used by later errors, has its line too. */
struct file_ctx {
	struct config *c;
	FILE *fp;
	int line;
	bool seen[CONFIG_NKEYS];
	char msg[CONFIG_ERR_MAX];
	bool failed;
};

static char *
file_reader(char *str, int num, void *stream)
{
	struct file_ctx *ctx = stream;
	char *s = fgets(str, num, ctx->fp);
	size_t n = s != NULL ? strlen(s) : 0;
	int ch;

	if (s == NULL)
		return NULL;
	ctx->line++;
	/* inih would take the rest of a line longer than its buffer for a
	 * line of its own (text in a value read as a key): the rest is
	 * skipped and the line handed on as one inih refuses. */
	if (n > 0 && s[n - 1] != '\n' && (ch = getc(ctx->fp)) != EOF && ch != '\n') {
		while ((ch = getc(ctx->fp)) != EOF && ch != '\n')
			;
		snprintf(ctx->msg, sizeof(ctx->msg), "line longer than %d characters", num - 1);
		ctx->failed = true;
		snprintf(str, (size_t)num, "-\n");
	}
	return s;
}

/* Copy value to buf without a comment that follows it: a '#' or ';' after
 * white space to the end of the line (inih strips only ';'), and the
 * white space before it. */
static const char *
value_uncomment(const char *value, char *buf, size_t len)
{
	size_t n = 0;

	for (const char *p = value; *p != '\0'; p++) {
		if ((*p == '#' || *p == ';') && p > value && isspace((unsigned char)p[-1]))
			break;
		n++;
	}
	while (n > 0 && isspace((unsigned char)value[n - 1]))
		n--;
	snprintf(buf, len, "%.*s", (int)n, value);
	return buf;
}

static int
file_handler(void *user, const char *section, const char *name, const char *raw)
{
	struct file_ctx *ctx = user;
	struct config_origin origin = { ORIGIN_FILE, NULL, ctx->line };
	int i = key_find(section, name);
	char msg[CONFIG_ERR_MAX], value[PATH_MAX];

	/* config_load_patterns() reads those. */
	if (strncasecmp(section, "pattern.", 8) == 0)
		return 1;
	value_uncomment(raw, value, sizeof(value));
	if (i >= 0 && ctx->seen[i]) {
		snprintf(msg, sizeof(msg), "[%s] %s is set twice", section, name);
	} else if (config_set(ctx->c, section, name, value, &origin, msg, sizeof(msg)) == 0) {
		if (i >= 0)
			ctx->seen[i] = true;
		return 1;
	}
	snprintf(ctx->msg, sizeof(ctx->msg), "%s", msg);
	ctx->failed = true;
	return 0;
}

int
config_load_file(struct config *c, const char *path, char *err, size_t errlen)
{
	struct file_ctx ctx = { .c = c };
	struct stat st;
	int line;

	ctx.fp = fopen(path, "re");
	if (ctx.fp == NULL) {
		int r = -errno;

		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	/* fopen() opens a directory for reading; the parse would then see an
	 * empty file and the defaults would pass for the user's settings. */
	if (fstat(fileno(ctx.fp), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(ctx.fp);
		snprintf(
		    err, errlen, "%s: %s (expected a configuration file)", path, strerror(EISDIR));
		return -EISDIR;
	}
	snprintf(c->path, sizeof(c->path), "%s", path);
	/* Continuation lines would let a value run on unnoticed; and the
	 * message kept must belong to the line inih reports. */
	ini_allow_multiline = false;
	ini_stop_on_first_error = true;
	line = ini_parse_stream(file_reader, &ctx, file_handler, &ctx);
	/* A read error ends the parse as the end of
	 * the file would: it must not pass for an empty file. */
	if (line == 0 && ferror(ctx.fp)) {
		int r = errno != 0 ? -errno : -EIO;

		fclose(ctx.fp);
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	fclose(ctx.fp);
	if (line == 0)
		return 0;
	snprintf(err, errlen, "%s:%d: %s", path, line,
	    ctx.failed ? ctx.msg : "syntax error (expected [section] or key = value)");
	return -EINVAL;
}

/* OOMGUARD_GC_REARM_BELOW for [gc] rearm_below. */
static void
env_name(const struct key *k, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "OOMGUARD_%s_%s", k->section, k->name);

	for (size_t i = 0; i < n && i < len; i++)
		buf[i] = (char)toupper((unsigned char)buf[i]);
}

static int
env_apply(struct config *c, const char *entry, char *err, size_t errlen)
{
	const char *eq = strchr(entry, '=');
	struct config_origin origin = { ORIGIN_ENV, NULL, 0 };
	char name[64], msg[CONFIG_ERR_MAX];

	if (eq == NULL)
		return 0;
	for (int i = 0; i < CONFIG_NKEYS; i++) {
		env_name(&keys[i], name, sizeof(name));
		if (strlen(name) != (size_t)(eq - entry) || strncmp(entry, name, strlen(name)) != 0)
			continue;
		if (config_set(
		        c, keys[i].section, keys[i].name, eq + 1, &origin, msg, sizeof(msg)) < 0) {
			snprintf(err, errlen, "%s: %s", name, msg);
			return -EINVAL;
		}
		return 0;
	}
	snprintf(err, errlen, "%.*s: unknown variable (see oomguard --dump-config for the keys)",
	    (int)(eq - entry), entry);
	return -EINVAL;
}

/* The variables a hook is given (hook.c): an oomguard run from a hook
 * (oomguard status, say) finds them in its environment, and they are not
 * configuration. */
static bool
hook_variable(const char *entry)
{
	static const char *const names[] = { "OOMGUARD_EVENT=", "OOMGUARD_CGROUP=",
		"OOMGUARD_NAME=", "OOMGUARD_METRIC_BYTES=", "OOMGUARD_LIMIT_BYTES=",
		"OOMGUARD_LEVEL_BYTES=", "OOMGUARD_PID=", "OOMGUARD_SIGNAL=", "OOMGUARD_DRY_RUN=",
		"OOMGUARD_WHEN=" };

	for (size_t i = 0; i < NELEM(names); i++)
		if (strncmp(entry, names[i], strlen(names[i])) == 0)
			return true;
	return false;
}

int
config_load_env(struct config *c, char *const *envp, char *err, size_t errlen)
{
	for (; *envp != NULL; envp++) {
		if (strncmp(*envp, "OOMGUARD_", 9) != 0 ||
		    strncmp(*envp, "OOMGUARD_CONFIG=", 16) == 0 || hook_variable(*envp))
			continue;
		if (env_apply(c, *envp, err, errlen) < 0)
			return -EINVAL;
	}
	return 0;
}

static void
origin_format(const struct config *c, int i, char *buf, size_t len)
{
	const struct config_origin *o = &c->origin[i];

	switch (o->kind) {
	case ORIGIN_FILE:
		snprintf(buf, len, "%s:%d", c->path, o->line);
		break;
	case ORIGIN_ENV:
		env_name(&keys[i], buf, len);
		break;
	case ORIGIN_FLAG:
		snprintf(buf, len, "%s", o->flag);
		break;
	case ORIGIN_DEFAULT:
		snprintf(buf, len, "default [%s] %s", keys[i].section, keys[i].name);
		break;
	case ORIGIN_LABEL:
		snprintf(buf, len, "label oomguard.%s.%s", keys[i].section, keys[i].name);
		break;
	}
}

void
config_origin_name(
    const struct config *c, const char *section, const char *key, char *buf, size_t len)
{
	int i = key_find(section, key);

	if (i >= 0)
		origin_format(c, i, buf, len);
	else
		snprintf(buf, len, "[%s] %s", section, key);
}

static int
validation_error(const struct config *c, int i, char *err, size_t errlen, const char *what)
{
	char where[PATH_MAX + 32];

	origin_format(c, i, where, sizeof(where));
	snprintf(err, errlen, "%s: %s", where, what);
	return -EINVAL;
}

/* Two thresholds can be ordered here only when both are armed and of the
 * same kind; a percentage against a size is checked once the limit is
 * known (config_check_limit). */
static bool
threshold_misordered(const struct threshold *lo, const struct threshold *hi)
{
	return lo->kind == hi->kind &&
	    (lo->kind == THRESHOLD_PERCENT || lo->kind == THRESHOLD_BYTES) &&
	    lo->value >= hi->value;
}

static const struct threshold *
key_threshold(const struct config *c, int i)
{
	return (const void *)((const char *)c + keys[i].offset);
}

/* Report what against the key the user set among a and b (b when both or
 * neither were), naming the other's value when it is a default: a default
 * alone never makes a configuration invalid, but it can be what a user's
 * value conflicts with. */
static int
relation_error(const struct config *c, int a, int b, const char *what, char *err, size_t errlen)
{
	char msg[CONFIG_ERR_MAX], v[UNITS_BUF];
	int at = b, other = a;

	if (c->origin[b].kind == ORIGIN_DEFAULT && c->origin[a].kind != ORIGIN_DEFAULT) {
		at = a;
		other = b;
	}
	if (c->origin[other].kind == ORIGIN_DEFAULT && c->origin[at].kind != ORIGIN_DEFAULT)
		snprintf(msg, sizeof(msg), "%s ([%s] %s is %s by default)", what,
		    keys[other].section, keys[other].name,
		    units_format_threshold(key_threshold(c, other), v));
	else
		snprintf(msg, sizeof(msg), "%s", what);
	return validation_error(c, at, err, errlen, msg);
}

/* The pairs of levels that must rise in this order. */
static const struct {
	const char *lo_section, *hi_section;
	const char *what;
} level_order[] = {
	{ "gc", "restart", "[restart] at must be above [gc] at" },
	{ "restart", "kill", "[kill] at must be above [restart] at" },
	{ "gc", "kill", "[kill] at must be above [gc] at" },
};

static int
validate_levels(const struct config *c, char *err, size_t errlen)
{
	for (size_t p = 0; p < NELEM(level_order); p++) {
		int lo = key_find(level_order[p].lo_section, "at");
		int hi = key_find(level_order[p].hi_section, "at");

		if (threshold_misordered(key_threshold(c, lo), key_threshold(c, hi)))
			return relation_error(c, lo, hi, level_order[p].what, err, errlen);
	}
	return 0;
}

/* The lowest armed level: the first of gc, restart and kill that is not
 * none (they rise in that order when of one kind), or NULL. */
static const struct threshold *
lowest_level(const struct config *c, int *ret_key)
{
	static const char *const sections[] = { "gc", "restart", "kill" };

	for (size_t i = 0; i < NELEM(sections); i++) {
		int k = key_find(sections[i], "at");

		if (key_threshold(c, k)->kind != THRESHOLD_NONE) {
			*ret_key = k;
			return key_threshold(c, k);
		}
	}
	return NULL;
}

/* A rearm level the user did not set follows the lowest armed level: a
 * fifteenth below it, of its kind (70% below 75%, 56% below 60%). */
static void
derive_rearm(struct config *c)
{
	int k;
	const struct threshold *low = lowest_level(c, &k);

	if (c->origin[key_find("gc", "rearm_below")].kind != ORIGIN_DEFAULT || low == NULL)
		return;
	c->gc_rearm_below.kind = low->kind;
	c->gc_rearm_below.value = low->value - (low->value + 14) / 15;
	if (c->gc_rearm_below.value == 0)
		c->gc_rearm_below.value = 1;
}

/* The rearm level must lie below the lowest armed level. */
static int
validate_rearm(const struct config *c, char *err, size_t errlen)
{
	int rearm = key_find("gc", "rearm_below"), k;
	const struct threshold *low = lowest_level(c, &k);

	if (c->gc_rearm_below.kind == THRESHOLD_NONE)
		return validation_error(c, rearm, err, errlen, "[gc] rearm_below cannot be none");
	if (low != NULL && threshold_misordered(&c->gc_rearm_below, low))
		return relation_error(c, k, rearm,
		    "[gc] rearm_below must be below the lowest armed level", err, errlen);
	return 0;
}

/* A reserve is held in the cgroup and counts toward every level: at or
 * above the rearm level, no episode could ever end. */
static int
validate_reserve(const struct config *c, char *err, size_t errlen)
{
	if (!threshold_misordered(&c->reserve_size, &c->gc_rearm_below))
		return 0;
	return relation_error(c, key_find("gc", "rearm_below"), key_find("reserve", "size"),
	    "[reserve] size must be below [gc] rearm_below, to leave the app room below the "
	    "levels",
	    err, errlen);
}

int
config_validate(struct config *c, char *err, size_t errlen)
{
	int r;

	derive_rearm(c);
	r = validate_levels(c, err, errlen);
	if (r == 0)
		r = validate_rearm(c, err, errlen);
	if (r == 0)
		r = validate_reserve(c, err, errlen);
	if (r < 0)
		return r;
	if (c->poll_min_usec > c->poll_max_usec)
		return validation_error(c, key_find("watch", "poll_min"), err, errlen,
		    "[watch] poll_min must not exceed poll_max");
	if (c->restart_delay_usec > c->restart_delay_max_usec)
		return validation_error(c, key_find("supervise", "restart_delay"), err, errlen,
		    "[supervise] restart_delay must not exceed restart_delay_max");
	if (c->gc_at.kind == THRESHOLD_NONE && c->restart_at.kind == THRESHOLD_NONE &&
	    c->kill_at.kind == THRESHOLD_NONE)
		return validation_error(c, key_find("gc", "at"), err, errlen,
		    "every level is none: oomguard would do nothing");
	return 0;
}

/* The keys whose order config_check_limit checks in bytes, lowest first
 * within each pair. */
static const struct {
	const char *lo_section, *lo_key, *hi_section, *hi_key;
} limit_order[] = {
	{ "gc", "at", "restart", "at" },
	{ "restart", "at", "kill", "at" },
	{ "gc", "at", "kill", "at" },
	{ "gc", "rearm_below", "gc", "at" },
	{ "gc", "rearm_below", "restart", "at" },
	{ "gc", "rearm_below", "kill", "at" },
	{ "reserve", "size", "gc", "rearm_below" },
};

int
config_check_limit(const struct config *c, uint64_t limit_bytes, char *err, size_t errlen)
{
	for (size_t p = 0; p < NELEM(limit_order); p++) {
		int lo = key_find(limit_order[p].lo_section, limit_order[p].lo_key);
		int hi = key_find(limit_order[p].hi_section, limit_order[p].hi_key);
		const struct threshold *tlo = key_threshold(c, lo), *thi = key_threshold(c, hi);
		uint64_t blo = units_threshold_bytes(tlo, limit_bytes);
		uint64_t bhi = units_threshold_bytes(thi, limit_bytes);
		char what[CONFIG_ERR_MAX], a[UNITS_BUF], b[UNITS_BUF], l[UNITS_BUF];

		/* Same kinds were checked by config_validate; an off level
		 * (none, or a percentage without a limit) orders nothing. */
		if (tlo->kind == thi->kind || blo == UINT64_MAX || bhi == UINT64_MAX || blo < bhi)
			continue;
		snprintf(what, sizeof(what),
		    "with the limit %s, [%s] %s (%s) is not below [%s] %s (%s)",
		    limit_bytes ? units_format_human(limit_bytes, l) : "none",
		    limit_order[p].lo_section, limit_order[p].lo_key, units_format_human(blo, a),
		    limit_order[p].hi_section, limit_order[p].hi_key, units_format_human(bhi, b));
		return relation_error(c, lo, hi, what, err, errlen);
	}
	return 0;
}

/* The longest value a path of PATH_MAX - 1 bytes takes in quotes: each byte
 * as \xHH, the quotes and the NUL. */
#define QUOTED_MAX (4 * PATH_MAX + 3)

/* Whether text reads back as itself as a bare INI value: inih ends a
 * value at the end of its line and at a ';' after white space, strips the
 * white space around it, and the loader ends it at a '#' after white
 * space too. */
static bool
ini_bare_ok(const char *text)
{
	size_t n = strlen(text);

	if (n > 0 && (isspace((unsigned char)text[n - 1]) || text[0] == '"'))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)text[i];

		if (ch < 0x20 || ch == 0x7f ||
		    ((ch == ';' || ch == '#') && i > 0 && isspace((unsigned char)text[i - 1])))
			return false;
	}
	return true;
}

/* Write path to buf as the file is to hold it: bare when it reads back so,
 * else in double quotes with \\, \", \n, \t and \xHH escapes for
 * every byte that could end or cut the value (';' and '#' included), as
 * cgroup_unquote() reads it. buf holds QUOTED_MAX bytes. */
static void
cgroup_quote(const char *path, char *buf, size_t len)
{
	size_t n = 0;

	if (ini_bare_ok(path)) {
		snprintf(buf, len, "%s", path);
		return;
	}
	n += (size_t)snprintf(buf + n, len - n, "\"");
	for (const char *p = path; *p != '\0' && n + 5 < len; p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch == '\\' || ch == '"')
			n += (size_t)snprintf(buf + n, len - n, "\\%c", ch);
		else if (ch == '\n')
			n += (size_t)snprintf(buf + n, len - n, "\\n");
		else if (ch == '\t')
			n += (size_t)snprintf(buf + n, len - n, "\\t");
		else if (ch < 0x20 || ch == 0x7f || ch == ';' || ch == '#')
			n += (size_t)snprintf(buf + n, len - n, "\\x%02x", ch);
		else
			buf[n++] = (char)ch;
	}
	snprintf(buf + n, len - n, "\"");
}

/* The byte of the hex digit ch, or -1. */
static int
hex_digit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Decode value, a path in double quotes as cgroup_quote() writes it, into
 * buf. Return 0, or -EINVAL for a value without its closing quote, with
 * text after it, a bare quote, an unknown escape, a NUL byte or a path
 * too long for buf (then buf is undefined). */
static int
cgroup_unquote(const char *value, char *buf, size_t len)
{
	size_t n = 0;
	const char *p = value + 1;

	for (; *p != '"' && *p != '\0'; p++) {
		int ch = (unsigned char)*p;

		if (ch == '\\') {
			p++;
			if (*p == 'n' || *p == 't')
				ch = *p == 'n' ? '\n' : '\t';
			else if (*p == '\\' || *p == '"')
				ch = *p;
			else if (*p == 'x' && hex_digit(p[1]) >= 0 && hex_digit(p[2]) >= 0) {
				ch = hex_digit(p[1]) * 16 + hex_digit(p[2]);
				p += 2;
			} else
				return -EINVAL;
		}
		if (ch == 0 || n + 1 >= len)
			return -EINVAL;
		buf[n++] = (char)ch;
	}
	if (*p != '"' || p[1] != '\0')
		return -EINVAL;
	buf[n] = '\0';
	return 0;
}

static void
hook_events_format(unsigned bits, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int e = 0; e < HOOK_NEVENTS; e++)
		if (bits & 1U << e)
			n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? "," : "",
			    hook_event_names[e]);
	if (n == 0)
		snprintf(buf, len, "none");
}

static void
value_format(const struct config *c, const struct key *k, char *buf, size_t len)
{
	const void *field = (const char *)c + k->offset;
	char tmp[UNITS_BUF];

	switch (k->type) {
	case KT_CGROUP:
		cgroup_quote(field, buf, len);
		break;
	case KT_SOCKET:
		snprintf(buf, len, "%s", (const char *)field);
		break;
	case KT_METRIC:
		snprintf(buf, len, "%s", metric_names[*(const int *)field]);
		break;
	case KT_TARGET:
		snprintf(buf, len, "%s", target_names[*(const int *)field]);
		break;
	case KT_RESTART:
		snprintf(buf, len, "%s", restart_names[*(const int *)field]);
		break;
	case KT_RESERVE_MODE:
		snprintf(buf, len, "%s", reserve_mode_names[*(const int *)field]);
		break;
	case KT_HINTS:
		snprintf(buf, len, "%s", hints_names[*(const int *)field]);
		break;
	case KT_LEVEL:
		snprintf(buf, len, "%s", log_level_name(*(const enum log_level *)field));
		break;
	case KT_FORMAT:
		snprintf(buf, len, "%s", log_format_name(*(const enum log_format *)field));
		break;
	case KT_DURATION:
		snprintf(buf, len, "%s", units_format_duration(*(const uint64_t *)field, tmp));
		break;
	case KT_SIZE:
		snprintf(buf, len, "%s", units_format_size(*(const uint64_t *)field, tmp));
		break;
	case KT_THRESHOLD:
	case KT_THRESHOLD_AUTO:
		snprintf(buf, len, "%s", units_format_threshold(field, tmp));
		break;
	case KT_SIGNAL:
		snprintf(buf, len, "%s", units_format_signal(*(const int *)field, tmp));
		break;
	case KT_BOOL:
		snprintf(buf, len, "%s", *(const bool *)field ? "yes" : "no");
		break;
	case KT_PSI:
		config_psi_format(field, buf, len);
		break;
	case KT_LISTEN:
		snprintf(buf, len, "%s", (const char *)field);
		break;
	case KT_PROGRAM:
		snprintf(buf, len, "%s", *(const char *)field ? (const char *)field : "none");
		break;
	case KT_HOOK_EVENTS:
		hook_events_format(*(const unsigned *)field, buf, len);
		break;
	}
}

void
config_dump(const struct config *c, FILE *fp)
{
	char value[QUOTED_MAX];
	const char *section = "";

	fprintf(fp, "# oomguard configuration (oomguard.ini(5)).\n");
	fprintf(fp, "# Environment: OOMGUARD_<SECTION>_<KEY>; flags win over the environment,\n");
	fprintf(fp, "# the environment over this file, this file over the defaults.\n");
	for (int i = 0; i < CONFIG_NKEYS; i++) {
		if (strcmp(section, keys[i].section) != 0) {
			section = keys[i].section;
			fprintf(fp, "\n[%s]\n", section);
		}
		value_format(c, &keys[i], value, sizeof(value));
		/* A rearm level nobody set follows the levels (derive_rearm()):
		 * shown, but as a comment, so that the dump read back, or
		 * with a lower level set over it (a pattern, a variable),
		 * derives it again rather than holding it above them. */
		fprintf(fp, "# %s\n%s%s = %s\n", keys[i].help,
		    keys[i].offset == OFF(gc_rearm_below) && c->origin[i].kind == ORIGIN_DEFAULT
		        ? "# "
		        : "",
		    keys[i].name, value);
	}
}

/* A pattern's line as it was read: a value that starts with '#' or ';'
 * follows the '=' at once, where neither starts a comment. */
static void
pattern_line(FILE *fp, const char *key, const char *value)
{
	fprintf(fp, "%s =%s%s\n", key, value[0] == '#' || value[0] == ';' ? "" : " ", value);
}

void
config_dump_patterns(const struct config_pattern *v, size_t n, FILE *fp)
{
	for (size_t i = 0; i < n; i++) {
		fprintf(fp, "\n[pattern.%s]\n# the cgroups under the root it guards\n", v[i].name);
		pattern_line(fp, "match", v[i].match);
		for (size_t k = 0; k < v[i].nset; k++)
			pattern_line(fp, v[i].set[k].key, v[i].set[k].value);
	}
}

/* State for the parse of a file's [pattern.NAME] sections. */
struct pattern_ctx {
	struct file_ctx file; /* the reader's state: the stream, the line */
	struct config_pattern *v;
	size_t n;
};

static struct config_pattern *
pattern_get(struct pattern_ctx *ctx, const char *name)
{
	struct config_pattern *p;

	for (size_t i = 0; i < ctx->n; i++) {
		if (strcmp(ctx->v[i].name, name) == 0)
			return &ctx->v[i];
	}
	p = realloc(ctx->v, (ctx->n + 1) * sizeof(*p));
	if (p == NULL)
		return NULL;
	ctx->v = p;
	p = &ctx->v[ctx->n++];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->line = ctx->file.line;
	return p;
}

/* Check a pattern's name and one of its keys; "" when they are fine,
 * else what is wrong. */
static const char *
pattern_check(const struct config_pattern *p, const char *name, const char *key)
{
	const char *dot = strchr(key, '.');

	if (name[0] == '\0' || strlen(name) >= CONFIG_PATTERN_NAME_MAX ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
	        strlen(name))
		return "a pattern's name is 1 to 63 letters, digits, '-' or '_'";
	if (strcasecmp(key, "match") == 0)
		return p->match[0] != '\0' ? "match is set twice" : "";
	if (dot == NULL || dot == key || dot[1] == '\0' || strchr(dot + 1, '.') != NULL ||
	    strlen(key) >= sizeof(p->set[0].key))
		return "expected match = GLOB or SECTION.KEY = value";
	for (size_t i = 0; i < p->nset; i++) {
		if (strcasecmp(p->set[i].key, key) == 0)
			return "key is set twice";
	}
	if (p->nset == CONFIG_PATTERN_SETS_MAX)
		return "too many keys in one pattern";
	return "";
}

static int
pattern_handler(void *user, const char *section, const char *key, const char *raw)
{
	struct pattern_ctx *ctx = user;
	const char *name = section + 8, *what;
	struct config_pattern *p;
	char value[PATH_MAX];

	if (strncasecmp(section, "pattern.", 8) != 0)
		return 1;
	value_uncomment(raw, value, sizeof(value));
	p = pattern_get(ctx, name);
	if (p == NULL) {
		snprintf(ctx->file.msg, sizeof(ctx->file.msg), "%s", strerror(ENOMEM));
		ctx->file.failed = true;
		return 0;
	}
	what = pattern_check(p, name, key);
	if (what[0] == '\0' && strcasecmp(key, "match") != 0 &&
	    strlen(value) >= sizeof(p->set[0].value))
		what = "value longer than 255 characters";
	if (what[0] == '\0' && strcasecmp(key, "match") == 0 &&
	    (value[0] == '\0' || value[0] == '/' || strstr(value, "..") != NULL))
		what = "match is a glob relative to the cgroup root, without '..'";
	if (what[0] != '\0') {
		snprintf(ctx->file.msg, sizeof(ctx->file.msg), "[%s] %s: %s", section, key, what);
		ctx->file.failed = true;
		return 0;
	}
	if (strcasecmp(key, "match") == 0) {
		snprintf(p->match, sizeof(p->match), "%s", value);
		return 1;
	}
	/* Both lengths were checked by pattern_check() and above. */
	memcpy(p->set[p->nset].key, key, strlen(key) + 1);
	memcpy(p->set[p->nset].value, value, strlen(value) + 1);
	p->set[p->nset++].line = ctx->file.line;
	return 1;
}

static int
patterns_check_match(const char *path, struct pattern_ctx *ctx, char *err, size_t errlen)
{
	for (size_t i = 0; i < ctx->n; i++) {
		if (ctx->v[i].match[0] == '\0') {
			snprintf(err, errlen, "%s:%d: [pattern.%s] has no match = GLOB", path,
			    ctx->v[i].line, ctx->v[i].name);
			return -EINVAL;
		}
	}
	return 0;
}

int
config_load_patterns(
    const char *path, struct config_pattern **ret_v, size_t *ret_n, char *err, size_t errlen)
{
	struct pattern_ctx ctx = { 0 };
	int line, r;

	ctx.file.fp = fopen(path, "re");
	if (ctx.file.fp == NULL) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	ini_allow_multiline = false;
	ini_stop_on_first_error = true;
	line = ini_parse_stream(file_reader, &ctx.file, pattern_handler, &ctx);
	fclose(ctx.file.fp);
	r = line == 0 ? patterns_check_match(path, &ctx, err, errlen) : -EINVAL;
	if (line != 0)
		snprintf(err, errlen, "%s:%d: %s", path, line,
		    ctx.file.failed ? ctx.file.msg
		                    : "syntax error (expected [section] or key = value)");
	if (r < 0) {
		free(ctx.v);
		return r;
	}
	*ret_v = ctx.v;
	*ret_n = ctx.n;
	return 0;
}
