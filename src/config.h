/*
 * config.h: oomguard's configuration: the built-in defaults, the INI file
 * (parsed by inih), OOMGUARD_<SECTION>_<KEY> environment variables and
 * command-line flags, applied in that order so later sources win.
 * Everything is table-driven: one table names every key, its type, its
 * default and its help line, and serves parsing, validation and dumping.
 */
#ifndef OOMGUARD_CONFIG_H
#define OOMGUARD_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "log.h"
#include "units.h"

#define CONFIG_DIR          "/etc/oomguard"
#define CONFIG_DEFAULT_PATH CONFIG_DIR "/oomguard.ini"
#define CONFIG_ERR_MAX      512

enum metric { METRIC_USAGE, METRIC_WORKINGSET, METRIC_ANON };
enum restart_mode { RESTART_ON_WATCHDOG, RESTART_ALWAYS, RESTART_NEVER };
enum target_mode { TARGET_MAIN, TARGET_GROUP, TARGET_CGROUP };
enum reserve_mode { RESERVE_AUTO, RESERVE_MEMORY, RESERVE_LIMIT };
enum hints_mode { HINTS_AUTO, HINTS_NONE };
/* The events a hook runs on ([hook] on), as bits of hook_on. */
enum hook_event { HOOK_GC_EPISODE, HOOK_RESTART, HOOK_KILL, HOOK_RESCUE, HOOK_NEVENTS };

/* A PSI trigger: stall of stall_usec within window_usec. */
struct psi_trigger {
	bool enabled;
	bool full; /* "full" instead of "some" */
	uint64_t stall_usec;
	uint64_t window_usec;
};

enum origin_kind { ORIGIN_DEFAULT, ORIGIN_FILE, ORIGIN_ENV, ORIGIN_FLAG, ORIGIN_LABEL };

/* Where a key's value came from, for error messages. */
struct config_origin {
	enum origin_kind kind;
	const char *flag; /* ORIGIN_FLAG: the flag's name, a string literal */
	int line;         /* ORIGIN_FILE: the line in config.path */
};

/* A container label is named after its key: ORIGIN_LABEL reads
 * "label oomguard.SECTION.KEY" in errors. */

/* The number of keys in the table; config_origin slots are indexed by key. */
#define CONFIG_NKEYS 35

struct config {
	/* [watch] */
	char cgroup[PATH_MAX];
	enum metric metric;
	uint64_t poll_min_usec;
	uint64_t poll_max_usec;
	uint64_t max_growth_bytes; /* per second */
	struct psi_trigger psi;
	struct threshold watch_high;
	/* [gc] */
	struct threshold gc_at;
	int gc_signal;
	uint64_t gc_cooldown_usec;
	uint64_t gc_min_interval_usec;
	struct threshold gc_rearm_below;
	bool gc_require_handler;
	struct threshold gc_reclaim;
	/* [restart] */
	struct threshold restart_at;
	int restart_signal;
	uint64_t restart_grace_usec;
	uint64_t restart_startup_usec;
	/* [kill] */
	struct threshold kill_at;
	/* [reserve] */
	struct threshold reserve_size;
	enum reserve_mode reserve_mode;
	/* [action] */
	enum target_mode target;
	bool dry_run;
	/* [supervise] */
	enum restart_mode supervise_restart;
	uint64_t restart_delay_usec;
	uint64_t restart_delay_max_usec;
	uint64_t stable_usec;
	/* [log] */
	enum log_level log_level;
	enum log_format log_format;
	/* [runtime] */
	enum hints_mode runtime_hints;
	/* [metrics] */
	char metrics_listen[128]; /* as listen_parse() reads it; "none" */
	/* [hook] */
	char hook_exec[PATH_MAX]; /* an absolute path, or "" for none */
	unsigned hook_on;         /* bits 1 << enum hook_event */
	uint64_t hook_timeout_usec;
	/* [docker] */
	char docker_socket[108]; /* sizeof(sun_path) */
	/* the file read, if any, and where each key's value came from */
	char path[PATH_MAX];
	struct config_origin origin[CONFIG_NKEYS];
};

/* Fill c with the built-in defaults. */
void config_defaults(struct config *c);

/* Set [section] key = value, parsed and checked on its own; origin names
 * where it came from. Return 0, or
 * -ENOENT for an unknown section or key, -EINVAL for a bad value, with a
 * message (without the origin) in err. */
int config_set(struct config *c, const char *section, const char *key, const char *value,
    const struct config_origin *origin, char *err, size_t errlen);

/* Parse an INI file into c over what c holds. Return 0, or -errno when the
 * file cannot be read, or -EINVAL with "FILE:LINE: what" in err. */
int config_load_file(struct config *c, const char *path, char *err, size_t errlen);

/* Apply OOMGUARD_<SECTION>_<KEY> variables from envp (NULL-terminated).
 * Return 0, or -EINVAL with "NAME: what" in err (unknown OOMGUARD_
 * variables are errors). */
int config_load_env(struct config *c, char *const *envp, char *err, size_t errlen);

/* Fill the defaults that follow other keys (a [gc] rearm_below the user
 * did not set follows the lowest armed level), then check the relations
 * between keys (level order, reserve, poll bounds, ...). An error names
 * a key the user set. Return 0, or -EINVAL with "ORIGIN: what" in err. */
int config_validate(struct config *c, char *err, size_t errlen);

/* Check, for a cgroup limit (0 = none), the relations config_validate
 * cannot check before the limit is known: levels, rearm level and
 * reserve of different kinds (a percentage against a size). Pure. Return
 * 0, or -EINVAL with "ORIGIN: what" in err. */
int config_check_limit(const struct config *c, uint64_t limit_bytes, char *err, size_t errlen);

/* Where the value of [section] key came from, as errors name it:
 * "FILE:LINE", "OOMGUARD_GC_AT", "--gc-at" or "default [gc] at". */
void config_origin_name(
    const struct config *c, const char *section, const char *key, char *buf, size_t len);

/* A [pattern.NAME] section of the file: the cgroups that match a glob
 * (--cgroups NAME or --cgroups GLOB) and the keys their guards set over
 * the file's configuration, as SECTION.KEY = value, kept as text until a
 * guard's configuration is built from them (labels_apply_pattern()). */
#define CONFIG_PATTERN_NAME_MAX 64
#define CONFIG_PATTERN_SETS_MAX 32
struct config_pattern_set {
	char key[64]; /* SECTION.KEY */
	char value[256];
	int line;
};
struct config_pattern {
	char name[CONFIG_PATTERN_NAME_MAX];
	char match[PATH_MAX]; /* a glob under the cgroup root, "" when unset */
	int line;             /* of its first key */
	size_t nset;
	struct config_pattern_set set[CONFIG_PATTERN_SETS_MAX];
};

/* Read the [pattern.NAME] sections of the INI file at path into a
 * malloc'd array (*ret_v, NULL when none, freed by the caller) of *ret_n
 * patterns, each with its match = GLOB. The other sections are left to
 * config_load_file(), which skips these. Return 0, or -errno when the
 * file cannot be read, or -EINVAL with "FILE:LINE: what" in err (a
 * pattern without match, a name or key given twice, a key not of the
 * form SECTION.KEY). The keys' values are checked when applied. */
int config_load_patterns(
    const char *path, struct config_pattern **ret_v, size_t *ret_n, char *err, size_t errlen);

/* Write c as INI, every key with a help comment, to fp. */
void config_dump(const struct config *c, FILE *fp);

/* Write the n [pattern.NAME] sections of v as INI to fp, after
 * config_dump()'s: each with its match and its keys as read, so that
 * config_load_patterns() reads back the same. */
void config_dump_patterns(const struct config_pattern *v, size_t n, FILE *fp);

/* Names for enum values, as they appear in the file. */
const char *config_metric_name(enum metric m);
const char *config_target_name(enum target_mode t);
const char *config_restart_name(enum restart_mode m);
const char *config_reserve_mode_name(enum reserve_mode m);
/* The name of a hook event as [hook] on lists it ("gc-episode", ...). */
const char *config_hook_event_name(enum hook_event e);
/* Whether [hook] runs a hook on e: exec set and e among on. */
bool config_hook_wanted(const struct config *c, enum hook_event e);
/* Print a PSI trigger as "some 100ms 1s", or "" when disabled. */
char *config_psi_format(const struct psi_trigger *t, char *buf, size_t len);

#endif
