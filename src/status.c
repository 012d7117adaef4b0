/*
 * status.c: `oomguard status`: ask a running oomguard's endpoint and
 * show what it sees.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "status.h"
#include "units.h"

#define BAR_WIDTH 40

int
status_parse_response(const char *buf, size_t n, int *ret_code, size_t *ret_body)
{
	const char *end = memmem(buf, n, "\r\n\r\n", 4);
	int code;
	char sp;

	if (n < 12 || end == NULL ||
	    (memcmp(buf, "HTTP/1.0 ", 9) != 0 && memcmp(buf, "HTTP/1.1 ", 9) != 0))
		return -EPROTO;
	if (buf[9] < '1' || buf[9] > '5' || buf[10] < '0' || buf[10] > '9' || buf[11] < '0' ||
	    buf[11] > '9')
		return -EPROTO;
	code = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
	sp = n > 12 ? buf[12] : '\0';
	if (sp != ' ' && sp != '\r')
		return -EPROTO;
	*ret_code = code;
	*ret_body = (size_t)(end - buf) + 4;
	return 0;
}

static uint64_t
now_mono_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Wait for events on fd until the deadline. Return 0, or -ETIMEDOUT. */
static int
wait_fd(int fd, short events, uint64_t deadline_usec)
{
	struct pollfd p = { .fd = fd, .events = events };
	uint64_t now = now_mono_usec();
	int r;

	if (now >= deadline_usec)
		return -ETIMEDOUT;
	r = poll(&p, 1, (int)((deadline_usec - now + 999) / 1000));
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	return r == 0 ? -ETIMEDOUT : 0;
}

/* Connect fd to a and send the request, within the deadline. */
static int
send_request(int fd, const struct listen_address *a, const char *req, uint64_t deadline_usec)
{
	size_t sent = 0, len = strlen(req);
	int r, soerr = 0;
	socklen_t sl = sizeof(soerr);

	if (connect(fd, (const struct sockaddr *)&a->sa, a->len) < 0) {
		if (errno != EINPROGRESS && errno != EAGAIN)
			return -errno;
		r = wait_fd(fd, POLLOUT, deadline_usec);
		if (r < 0)
			return r;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr != 0)
			return soerr != 0 ? -soerr : -errno;
	}
	while (sent < len) {
		ssize_t w = send(fd, req + sent, len - sent, MSG_NOSIGNAL);

		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (w < 0 && (r = wait_fd(fd, POLLOUT, deadline_usec)) < 0)
			return r;
		if (w > 0)
			sent += (size_t)w;
	}
	return 0;
}

/* Read to the end of the answer into *buf (grown as needed). */
static int
read_all(int fd, char **buf, size_t *ret_n, uint64_t deadline_usec)
{
	size_t n = 0, cap = 0;
	int r;

	for (;;) {
		ssize_t got;

		if (cap - n < 4096) {
			char *p;

			if (cap >= STATUS_BODY_MAX + 4096)
				return -EFBIG;
			cap = cap == 0 ? 16384 : cap * 2;
			p = realloc(*buf, cap + 1);
			if (p == NULL)
				return -ENOMEM;
			*buf = p;
		}
		got = read(fd, *buf + n, cap - n);
		if (got == 0)
			break;
		if (got < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (got < 0 && (r = wait_fd(fd, POLLIN, deadline_usec)) < 0)
			return r;
		if (got > 0)
			n += (size_t)got;
	}
	(*buf)[n] = '\0';
	*ret_n = n;
	return 0;
}

int
status_fetch(
    const struct listen_address *a, const char *path, char **ret_body, char *err, size_t errlen)
{
	uint64_t deadline = now_mono_usec() + STATUS_TIMEOUT_USEC;
	char req[256], *buf = NULL, text[LISTEN_TEXT_MAX];
	size_t n = 0, body = 0;
	int fd, r, code;

	listen_format(a, text, sizeof(text));
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: oomguard\r\n\r\n", path);
	fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", text, strerror(-r));
		return r;
	}
	r = send_request(fd, a, req, deadline);
	if (r == 0)
		r = read_all(fd, &buf, &n, deadline);
	close(fd);
	if (r == 0 &&
	    (buf == NULL || status_parse_response(buf, n, &code, &body) < 0 || code != 200))
		r = -EPROTO;
	if (r != 0 || buf == NULL) {
		r = r < 0 ? r : -EPROTO;
		snprintf(err, errlen, "%s: %s", text,
		    r == -EPROTO ? "the answer is not oomguard's (no endpoint of its there?)"
		                 : strerror(-r));
		free(buf);
		return r;
	}
	memmove(buf, buf + body, n - body + 1);
	*ret_body = buf;
	return 0;
}

int
status_advice(uint64_t live_bytes, uint64_t limit_bytes, uint64_t gc_bytes, uint64_t rearm_bytes,
    char *buf, size_t len)
{
	char live[UNITS_BUF], limit[UNITS_BUF];

	if (live_bytes == 0)
		return 0;
	units_format_human(live_bytes, live);
	if (limit_bytes != 0)
		units_format_human(limit_bytes, limit);
	else
		snprintf(limit, sizeof(limit), "no limit");
	if (gc_bytes != UINT64_MAX && live_bytes >= gc_bytes) {
		snprintf(buf, len, "live set %s of %s: gc requests cannot help; raise the limit",
		    live, limit);
		return 1;
	}
	if (rearm_bytes != UINT64_MAX && live_bytes >= rearm_bytes) {
		snprintf(buf, len,
		    "live set %s of %s: above the rearm level, a gc episode cannot end and gc "
		    "requests will come again and again; raise the limit",
		    live, limit);
		return 1;
	}
	return 0;
}

static uint64_t
json_bytes(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_integer(v) && json_integer_value(v) >= 0 ? (uint64_t)json_integer_value(v)
	                                                        : UINT64_MAX;
}

/* "[#####.....g....r...k]": the metric's share of the limit, and where
 * each armed level lies. */
static void
print_bar(FILE *fp, const json_t *g, uint64_t metric, uint64_t limit)
{
	static const char marks[] = { 'g', 'r', 'k' };
	static const char *const names[] = { "gc", "restart", "kill" };
	const json_t *levels = json_object_get(g, "levels");
	char bar[BAR_WIDTH + 1];
	unsigned fill = (unsigned)(metric >= limit ? BAR_WIDTH : metric * BAR_WIDTH / limit);

	for (unsigned i = 0; i < BAR_WIDTH; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[BAR_WIDTH] = '\0';
	for (size_t k = 0; k < 3; k++) {
		uint64_t at = json_bytes(levels, names[k]);

		if (at != UINT64_MAX && at < limit)
			bar[at * BAR_WIDTH / limit] = marks[k];
	}
	fprintf(fp, "[%s] %.1f%%", bar, (double)metric * 100.0 / (double)limit);
}

static void
print_levels(FILE *fp, const json_t *g)
{
	static const char *const names[] = { "gc", "restart", "kill", "rearm" };
	const json_t *levels = json_object_get(g, "levels");
	char b[UNITS_BUF];

	fprintf(fp, "  %-11s", "levels");
	for (size_t k = 0; k < 4; k++) {
		uint64_t at = json_bytes(levels, names[k]);

		fprintf(fp, "%s%s %s", k ? ", " : "", names[k],
		    at == UINT64_MAX ? "off" : units_format_human(at, b));
	}
	fputc('\n', fp);
}

static void
print_ago(FILE *fp, const char *what, const json_t *t, uint64_t now_usec, bool first)
{
	double at = json_is_number(t) ? json_number_value(t) : 0;
	uint64_t s = at > 0 && now_usec / 1e6 > at ? (uint64_t)(now_usec / 1e6 - at) : 0;

	fprintf(fp, "%s%s ", first ? "" : "; ", what);
	if (at <= 0)
		fprintf(fp, "never");
	else if (s < 120)
		fprintf(fp, "%" PRIu64 "s ago", s);
	else if (s < 7200)
		fprintf(fp, "%" PRIu64 "m ago", s / 60);
	else if (s < 172800)
		fprintf(fp, "%" PRIu64 "h ago", s / 3600);
	else
		fprintf(fp, "%" PRIu64 "d ago", s / 86400);
}

static void
print_counts(FILE *fp, const json_t *g, uint64_t now_usec)
{
	const json_t *c = json_object_get(g, "counts"), *last = json_object_get(g, "last");
	static const char *const actions[] = { "gc", "restart", "kill", "rescue" };

	fprintf(fp,
	    "  %-11s%" PRIu64 " gc requests, %" PRIu64 " restarts, %" PRIu64 " kills, %" PRIu64
	    " rescues, %" PRIu64 " kernel OOM kills, %" PRIu64 " app starts\n",
	    "counts", json_bytes(c, "gc_requests"), json_bytes(c, "restarts"),
	    json_bytes(c, "kills"), json_bytes(c, "rescues"), json_bytes(c, "kernel_oom_kills"),
	    json_bytes(c, "app_starts"));
	fprintf(fp, "  %-11s", "last");
	for (size_t a = 0; a < 4; a++)
		print_ago(fp, actions[a], json_object_get(last, actions[a]), now_usec, a == 0);
	fputc('\n', fp);
}

static void
print_guard(FILE *fp, const json_t *g, uint64_t now_usec)
{
	const char *name = json_string_value(json_object_get(g, "name"));
	const char *metric = json_string_value(json_object_get(g, "metric"));
	const char *stage = json_string_value(json_object_get(g, "stage"));
	const json_t *levels = json_object_get(g, "levels");
	uint64_t limit = json_bytes(g, "limit_bytes"), value = json_bytes(g, "metric_bytes");
	uint64_t live = json_bytes(g, "live_bytes_estimate");
	char a[UNITS_BUF], b[UNITS_BUF], advice[256];

	fprintf(fp, "%s%s%s%s\n", json_string_value(json_object_get(g, "cgroup")),
	    name != NULL ? " (" : "", name != NULL ? name : "", name != NULL ? ")" : "");
	fprintf(fp, "  %-11s%s", metric != NULL ? metric : "memory", units_format_human(value, a));
	if (limit != 0 && limit != UINT64_MAX) {
		fprintf(fp, " of %s  ", units_format_human(limit, b));
		print_bar(fp, g, value, limit);
	} else {
		fprintf(fp, " (no limit)");
	}
	fprintf(fp, "\n");
	print_levels(fp, g);
	fprintf(fp, "  %-11s%s\n", "stage",
	    stage == NULL || strcmp(stage, "none") == 0 ? "quiet" : stage);
	if (live != 0 && live != UINT64_MAX)
		fprintf(fp, "  %-11s%s (the low point after gc requests that took effect)\n",
		    "live set", units_format_human(live, a));
	print_counts(fp, g, now_usec);
	if (live != UINT64_MAX &&
	    status_advice(live, limit == UINT64_MAX ? 0 : limit, json_bytes(levels, "gc"),
	        json_bytes(levels, "rearm"), advice, sizeof(advice)))
		fprintf(fp, "  %-11s%s\n", "note", advice);
}

int
status_print(FILE *fp, const char *json_text, uint64_t now_usec, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_loads(json_text, 0, &jerr), *guards;
	size_t i;
	json_t *g;

	guards = json_object_get(root, "guards");
	if (root == NULL || !json_is_array(guards)) {
		snprintf(err, errlen, "not the JSON of /status: %s",
		    root == NULL ? jerr.text : "no \"guards\"");
		json_decref(root);
		return -EINVAL;
	}
	json_array_foreach(guards, i, g)
	{
		if (!json_is_object(g) || !json_is_string(json_object_get(g, "cgroup"))) {
			snprintf(
			    err, errlen, "not the JSON of /status: guard %zu has no cgroup", i);
			json_decref(root);
			return -EINVAL;
		}
	}
	fprintf(fp, "oomguard %s, pid %" JSON_INTEGER_FORMAT "\n",
	    json_string_value(json_object_get(root, "version")) != NULL
	        ? json_string_value(json_object_get(root, "version"))
	        : "?",
	    json_integer_value(json_object_get(root, "pid")));
	json_array_foreach(guards, i, g)
	{
		fputc('\n', fp);
		print_guard(fp, g, now_usec);
	}
	json_decref(root);
	return 0;
}

int
status_run(const char *address, bool json)
{
	struct listen_address a;
	struct timespec ts;
	char err[512], *body = NULL;
	int r;

	if (listen_parse(address, &a, err, sizeof(err)) < 0) {
		fprintf(stderr, "oomguard: status: %s: %s\n", address, err);
		return STATUS_EXIT_NOREPLY;
	}
	if (a.family == AF_UNSPEC) {
		fprintf(stderr,
		    "oomguard: status: the metrics endpoint is off ([metrics] listen = "
		    "none): name its address with --metrics\n");
		return STATUS_EXIT_NOREPLY;
	}
	r = status_fetch(&a, "/status", &body, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "oomguard: status: %s\n", err);
		return STATUS_EXIT_NOREPLY;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	if (json)
		fputs(body, stdout);
	else if (status_print(stdout, body,
	             (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000, err,
	             sizeof(err)) < 0) {
		fprintf(stderr, "oomguard: status: %s\n", err);
		r = -EINVAL;
	}
	free(body);
	return r < 0 ? STATUS_EXIT_NOREPLY : STATUS_EXIT_OK;
}
