/*
 * log.h: oomguard's only logger. Messages go to stderr, one line each, as
 * text or as JSON lines, or, when stderr is connected to journald, to the
 * journal with their fields as OOMGUARD_* fields. This is the one module
 * that keeps global state.
 */
#ifndef OOMGUARD_LOG_H
#define OOMGUARD_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };
enum log_format { LOG_FMT_TEXT, LOG_FMT_JSON };

/* A structured field attached to a log line: rendered as a JSON member in
 * json and as an OOMGUARD_* field in the journal (in text the message
 * carries it). A NULL str means the number num is used; str ==
 * LOG_HUNDREDTHS means num is in hundredths, written with two decimals
 * (7606 as 76.06, a JSON number). */
struct log_field {
	const char *key;
	const char *str;
	long long num;
};

extern const char log_hundredths[];
#define LOG_HUNDREDTHS log_hundredths

/* The journal limits a field name to this many characters. */
#define LOG_JOURNAL_NAME_MAX 64

void log_init(enum log_level level, enum log_format format);

/* Send messages to the journal from now on when stderr is connected to
 * journald, as $JOURNAL_STREAM says (systemd.exec(5)), and journald's
 * socket is there; the text or JSON format applies again when not.
 * Unsetting JOURNAL_STREAM keeps stderr. A message the journal refuses
 * goes to stderr. Return 1 when the journal is used, 0 when not (always
 * without libsystemd). */
int log_init_journal(void);

/* Whether the JOURNAL_STREAM value env ("DEV:INODE") names the file st
 * describes. Pure. Return 1 or 0 (0 for a NULL env), -EINVAL when env is
 * malformed. */
int log_journal_stream_match(const char *env, const struct stat *st);

/* The journal field name of a log field key: "OOMGUARD_" and the key in
 * upper case, any character but a letter, a digit or '_' replaced by
 * '_' (metric_bytes: OOMGUARD_METRIC_BYTES). Pure. Return 0, -EINVAL for
 * an empty key, -ENAMETOOLONG when it is over LOG_JOURNAL_NAME_MAX
 * characters or does not fit in len bytes. */
int log_journal_field_name(const char *key, char *ret, size_t len);
enum log_level log_get_level(void);

/* Return the level's name ("error", ...), or NULL for an unknown value. */
const char *log_level_name(enum log_level level);
/* Parse a level name; return 0 and set *ret_level, or -EINVAL. */
int log_level_parse(const char *s, enum log_level *ret_level);
const char *log_format_name(enum log_format format);
/* Parse a format name; return 0 and set *ret_format, or -EINVAL. */
int log_format_parse(const char *s, enum log_format *ret_format);

/* Begin every message with "name: " from now on (the host agent names
 * the container or cgroup a guard's messages are about), or no more with
 * NULL. name must stay valid until the next call. */
void log_scope(const char *name);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Log msg at level with nfields structured fields after it. */
void log_fields(enum log_level level, const char *msg, const struct log_field *fields, int nfields);

/* Write s to fp as a JSON string literal, quotes included: any byte
 * that is not part of valid UTF-8 becomes U+FFFD, so that the output is
 * valid JSON whatever s holds. */
void log_json_string(FILE *fp, const char *s);

#endif
