/*
 * log.c: one line per message on stderr, text or JSON. Lines are built in
 * a stack buffer and written with a single write(2) so that lines from
 * oomguard and its child never interleave mid-line, and so that logging
 * allocates nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static enum log_level log_level = LOG_LVL_INFO;
static enum log_format log_format = LOG_FMT_TEXT;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void
log_init(enum log_level level, enum log_format format)
{
	log_level = level;
	log_format = format;
}

enum log_level
log_get_level(void)
{
	return log_level;
}

const char *
log_level_name(enum log_level level)
{
	if ((unsigned)level > LOG_LVL_DEBUG)
		return NULL;
	return level_names[level];
}

int
log_level_parse(const char *s, enum log_level *ret_level)
{
	for (int i = 0; i <= LOG_LVL_DEBUG; i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*ret_level = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *
log_format_name(enum log_format format)
{
	return format == LOG_FMT_JSON ? "json" : "text";
}

int
log_format_parse(const char *s, enum log_format *ret_format)
{
	if (strcmp(s, "text") == 0)
		*ret_format = LOG_FMT_TEXT;
	else if (strcmp(s, "json") == 0)
		*ret_format = LOG_FMT_JSON;
	else
		return -EINVAL;
	return 0;
}

/* A bounded appender: once the buffer is full, further text is dropped but
 * the line still ends in a newline. */
struct line {
	char buf[2048];
	size_t len;
};

static void line_add(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
line_add(struct line *l, const char *fmt, ...)
{
	va_list ap;
	size_t room = sizeof(l->buf) - 1 - l->len;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(l->buf + l->len, room + 1, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->len += (size_t)n < room ? (size_t)n : room;
}

static void
line_add_json_string(struct line *l, const char *s)
{
	line_add(l, "\"");
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			line_add(l, "\\%c", c);
		else if (c == '\n')
			line_add(l, "\\n");
		else if (c < 0x20)
			line_add(l, "\\u%04x", c);
		else
			line_add(l, "%c", c);
	}
	line_add(l, "\"");
}

static void
line_add_time(struct line *l)
{
	struct timespec ts;
	struct tm tm;
	char stamp[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	if (log_format == LOG_FMT_JSON)
		line_add(l, "{\"time\":\"%s.%03ldZ\"", stamp, ts.tv_nsec / 1000000);
	else
		line_add(l, "%s.%03ldZ ", stamp, ts.tv_nsec / 1000000);
}

static void
line_write(struct line *l)
{
	ssize_t n;
	size_t off = 0;

	l->buf[l->len++] = '\n';
	while (off < l->len) {
		n = write(STDERR_FILENO, l->buf + off, l->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		off += (size_t)n;
	}
}

static void
log_emit(enum log_level level, const char *msg, const struct log_field *fields, int nfields)
{
	struct line l = { .len = 0 };
	int saved_errno = errno;

	line_add_time(&l);
	if (log_format == LOG_FMT_JSON) {
		line_add(&l, ",\"level\":\"%s\",\"msg\":", level_names[level]);
		line_add_json_string(&l, msg);
		for (int i = 0; i < nfields; i++) {
			line_add(&l, ",\"%s\":", fields[i].key);
			if (fields[i].str != NULL)
				line_add_json_string(&l, fields[i].str);
			else
				line_add(&l, "%lld", fields[i].num);
		}
		line_add(&l, "}");
	} else {
		/* In text the message carries what the fields hold. */
		line_add(&l, "%-5s %s", level_names[level], msg);
	}
	line_write(&l);
	errno = saved_errno;
}

void
log_fields(enum log_level level, const char *msg, const struct log_field *fields, int nfields)
{
	if (level > log_level)
		return;
	log_emit(level, msg, fields, nfields);
}

static void
log_vemit(enum log_level level, const char *fmt, va_list ap)
{
	char msg[1024];

	if (level > log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_emit(level, msg, NULL, 0);
}

#define LOG_DEFINE(name, level)                                                                    \
	void name(const char *fmt, ...)                                                            \
	{                                                                                          \
		va_list ap;                                                                        \
		va_start(ap, fmt);                                                                 \
		log_vemit(level, fmt, ap);                                                         \
		va_end(ap);                                                                        \
	}

LOG_DEFINE(log_error, LOG_LVL_ERROR)
LOG_DEFINE(log_warn, LOG_LVL_WARN)
LOG_DEFINE(log_info, LOG_LVL_INFO)
LOG_DEFINE(log_debug, LOG_LVL_DEBUG)

void
log_json_string(FILE *fp, const char *s)
{
	struct line l = { .len = 0 };

	line_add_json_string(&l, s);
	fwrite(l.buf, 1, l.len, fp);
}
