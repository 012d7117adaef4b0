/*
 * log.h: oomguard's only logger. Messages go to stderr, one line each, as
 * text or as JSON lines. This is the one module that keeps global state.
 */
#ifndef OOMGUARD_LOG_H
#define OOMGUARD_LOG_H

#include <stdarg.h>
#include <stdio.h>

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };
enum log_format { LOG_FMT_TEXT, LOG_FMT_JSON };

/* A structured field attached to a log line: rendered as key=value in text
 * and as a JSON member in json. A NULL str means the number is used. */
struct log_field {
	const char *key;
	const char *str;
	long long num;
};

void log_init(enum log_level level, enum log_format format);
enum log_level log_get_level(void);

/* Return the level's name ("error", ...), or NULL for an unknown value. */
const char *log_level_name(enum log_level level);
/* Parse a level name; return 0 and set *ret_level, or -EINVAL. */
int log_level_parse(const char *s, enum log_level *ret_level);
const char *log_format_name(enum log_format format);
/* Parse a format name; return 0 and set *ret_format, or -EINVAL. */
int log_format_parse(const char *s, enum log_format *ret_format);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Log msg at level with nfields structured fields after it. */
void log_fields(enum log_level level, const char *msg, const struct log_field *fields, int nfields);

/* Write s to fp as a JSON string literal, quotes included. */
void log_json_string(FILE *fp, const char *s);

#endif
