/*
 * log.c: one line per message on stderr, text or JSON. Lines are built in
 * a stack buffer and written with a single write(2) so that lines from
 * oomguard and its child never interleave mid-line, and so that logging
 * allocates nothing. Journal entries are built the same way, in stack
 * buffers and an iovec array (sd_journal_sendv() itself does not
 * allocate either).
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#if OOMGUARD_SYSTEMD
/* CODE_FILE= and its kin would always name journal_emit(). */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>
#endif

#include "log.h"

/* Where sd_journal_sendv() sends. */
#define LOG_JOURNAL_SOCKET "/run/systemd/journal/socket"

/* Fields past this many are left out of a journal entry. */
#define LOG_JOURNAL_FIELDS_MAX 16

static enum log_level log_level = LOG_LVL_INFO;
static enum log_format log_format = LOG_FMT_TEXT;
static bool log_journal;
static const char *log_scope_name;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void
log_init(enum log_level level, enum log_format format)
{
	log_level = level;
	log_format = format;
}

/* Parse an unsigned decimal number ending at stop. Return 0 and set
 * *ret and *ret_end, or -EINVAL. */
static int
parse_u64(const char *s, char stop, unsigned long long *ret, const char **ret_end)
{
	unsigned long long v;
	char *end;

	/* strtoull() would take spaces and a sign. */
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != stop)
		return -EINVAL;
	*ret = v;
	*ret_end = end;
	return 0;
}

int
log_journal_stream_match(const char *env, const struct stat *st)
{
	unsigned long long dev, ino;
	const char *p;

	if (env == NULL)
		return 0;
	if (parse_u64(env, ':', &dev, &p) < 0 || parse_u64(p + 1, '\0', &ino, &p) < 0)
		return -EINVAL;
	return dev == (unsigned long long)st->st_dev && ino == (unsigned long long)st->st_ino;
}

int
log_journal_field_name(const char *key, char *ret, size_t len)
{
	static const char prefix[] = "OOMGUARD_";
	size_t n = sizeof(prefix) - 1 + strlen(key);

	if (*key == '\0')
		return -EINVAL;
	if (n > LOG_JOURNAL_NAME_MAX || n >= len)
		return -ENAMETOOLONG;
	memcpy(ret, prefix, sizeof(prefix) - 1);
	for (size_t i = sizeof(prefix) - 1; *key != '\0'; i++, key++) {
		unsigned char c = (unsigned char)*key;

		ret[i] = isalnum(c) ? (char)toupper(c) : '_';
	}
	ret[n] = '\0';
	return 0;
}

int
log_init_journal(void)
{
#if OOMGUARD_SYSTEMD
	struct stat st, sock;

	/* JOURNAL_STREAM is inherited by whatever systemd's service runs:
	 * only when it still names our stderr is stderr the journal. And
	 * sd_journal_sendv() reports success when journald's socket is
	 * missing (as in a root directory of the service's own), so a
	 * missing socket keeps stderr. */
	log_journal = fstat(STDERR_FILENO, &st) == 0 &&
	    log_journal_stream_match(getenv("JOURNAL_STREAM"), &st) > 0 &&
	    stat(LOG_JOURNAL_SOCKET, &sock) == 0 && S_ISSOCK(sock.st_mode);
#endif
	return log_journal ? 1 : 0;
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
		if (strcasecmp(s, level_names[i]) == 0) {
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
	if (strcasecmp(s, "text") == 0)
		*ret_format = LOG_FMT_TEXT;
	else if (strcasecmp(s, "json") == 0)
		*ret_format = LOG_FMT_JSON;
	else
		return -EINVAL;
	return 0;
}

/* A bounded appender: once the buffer is full, further text is dropped
 * (and full says so) but the line still ends in a newline. */
struct line {
	char buf[2048];
	size_t len;
	bool full;
};

/* A JSON string stops this far from the end of the line, so that the
 * members after it and the closing brace still fit. */
#define LINE_JSON_TAIL 384

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
	if (n < 0 || (size_t)n > room)
		l->full = true;
}

/* The length of the valid UTF-8 sequence at s (1 to 4), or 0 when the
 * byte at s does not start one (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF). */
static size_t
utf8_len(const unsigned char *s)
{
	size_t n;
	unsigned lo = 0x80, hi = 0xbf;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	}
	return n;
}

/* Append s as a JSON string, cut (with "...") where it would come closer
 * than tail bytes to the end of the line. */
static void
line_add_json_string_tail(struct line *l, const char *s, size_t tail)
{
	const unsigned char *p = (const unsigned char *)s;

	line_add(l, "\"");
	while (*p != '\0') {
		size_t n = utf8_len(p);

		if (l->len + 8 + tail >= sizeof(l->buf)) {
			line_add(l, "...");
			break;
		}
		if (*p == '"' || *p == '\\')
			line_add(l, "\\%c", *p);
		else if (*p == '\n')
			line_add(l, "\\n");
		else if (*p < 0x20 || *p == 0x7f)
			line_add(l, "\\u%04x", *p);
		else if (n == 0)
			line_add(l, "\\ufffd");
		else
			line_add(l, "%.*s", (int)n, (const char *)p);
		p += n == 0 ? 1 : n;
	}
	line_add(l, "\"");
}

static void
line_add_json_string(struct line *l, const char *s)
{
	line_add_json_string_tail(l, s, LINE_JSON_TAIL);
}

const char log_hundredths[] = "(hundredths)";

/* A number field's value in buf (48 bytes): num, or for LOG_HUNDREDTHS
 * num / 100 with two decimals (7606: "76.06"). */
static const char *
number_format(const struct log_field *f, char *buf)
{
	if (f->str == LOG_HUNDREDTHS)
		snprintf(buf, 48, "%s%lld.%02lld", f->num < 0 ? "-" : "", llabs(f->num / 100),
		    llabs(f->num % 100));
	else
		snprintf(buf, 48, "%lld", f->num);
	return buf;
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

#if OOMGUARD_SYSTEMD
static int journal_add(char *buf, size_t len, size_t *off, struct iovec *iov, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Append a "NAME=value" formatted from fmt to buf (len bytes) at *off and
 * point iov at it. Return 0, or -ENOBUFS when it does not fit. */
static int
journal_add(char *buf, size_t len, size_t *off, struct iovec *iov, const char *fmt, ...)
{
	size_t room = len - *off;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *off, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room)
		return -ENOBUFS;
	iov->iov_base = buf + *off;
	iov->iov_len = (size_t)n;
	*off += (size_t)n + 1;
	return 0;
}

/* Send one journal entry: the message, its priority, our name, then the
 * fields that fit in the buffer. Return 0 or -errno. */
static int
journal_emit(enum log_level level, const char *msg, const struct log_field *fields, int nfields)
{
	static const int priorities[] = { 3, 4, 6, 7 }; /* syslog's err, warning, info, debug */
	char message[2048], buf[2048], name[LOG_JOURNAL_NAME_MAX + 1], num[48];
	struct iovec iov[3 + LOG_JOURNAL_FIELDS_MAX];
	size_t off = 0;
	int n = 0, len, r;

	/* A message too long for its buffer is cut, not dropped. */
	len = snprintf(message, sizeof(message), "MESSAGE=%s", msg);
	iov[n].iov_base = message;
	iov[n++].iov_len = len < (int)sizeof(message) ? (size_t)len : sizeof(message) - 1;
	if (journal_add(buf, sizeof(buf), &off, &iov[n], "PRIORITY=%d", priorities[level]) == 0)
		n++;
	if (journal_add(buf, sizeof(buf), &off, &iov[n], "SYSLOG_IDENTIFIER=oomguard") == 0)
		n++;
	for (int i = 0; i < nfields && n < (int)(sizeof(iov) / sizeof(iov[0])); i++) {
		const struct log_field *f = &fields[i];

		if (log_journal_field_name(f->key, name, sizeof(name)) < 0)
			continue;
		if (f->str != NULL && f->str != LOG_HUNDREDTHS)
			r = journal_add(buf, sizeof(buf), &off, &iov[n], "%s=%s", name, f->str);
		else
			r = journal_add(
			    buf, sizeof(buf), &off, &iov[n], "%s=%s", name, number_format(f, num));
		if (r == 0)
			n++;
	}
	return sd_journal_sendv(iov, n);
}
#endif

/* The JSON line of a message: when its fields do not fit, the message
 * alone (cut to fit) and "truncated":true, so that the line stays one
 * valid JSON object. */
static void
line_json(struct line *l, enum log_level level, const char *msg, const struct log_field *fields,
    int nfields)
{
	char num[48];

	for (int pass = 0; pass < 2; pass++) {
		*l = (struct line){ .len = 0 };
		line_add_time(l);
		line_add(l, ",\"severity\":\"%s\",\"msg\":", level_names[level]);
		line_add_json_string(l, msg);
		for (int i = 0; pass == 0 && i < nfields; i++) {
			line_add(l, ",\"%s\":", fields[i].key);
			if (fields[i].str != NULL && fields[i].str != LOG_HUNDREDTHS)
				line_add_json_string(l, fields[i].str);
			else
				line_add(l, "%s", number_format(&fields[i], num));
		}
		if (pass == 1)
			line_add(l, ",\"truncated\":true");
		line_add(l, "}");
		if (!l->full)
			return;
	}
}

void
log_scope(const char *name)
{
	log_scope_name = name;
}

static void
log_emit(enum log_level level, const char *msg, const struct log_field *fields, int nfields)
{
	struct line l = { .len = 0 };
	int saved_errno = errno;
	char scoped[1280];

	if (log_scope_name != NULL) {
		snprintf(scoped, sizeof(scoped), "%s: %s", log_scope_name, msg);
		msg = scoped;
	}

#if OOMGUARD_SYSTEMD
	if (log_journal && journal_emit(level, msg, fields, nfields) >= 0) {
		errno = saved_errno;
		return;
	}
#endif
	if (log_format == LOG_FMT_JSON) {
		line_json(&l, level, msg, fields, nfields);
	} else {
		/* In text the message carries what the fields hold. */
		line_add_time(&l);
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
