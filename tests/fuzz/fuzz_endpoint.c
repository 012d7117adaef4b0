/*
 * fuzz_endpoint.c: what the metrics endpoint and `oomguard status` read
 * from outside, and what the endpoint writes of outside strings. The
 * input is three NUL-separated parts:
 *   1. an address for listen_parse(): one it takes formats to text it
 *      reads back to the same address;
 *   2. an HTTP answer for status_parse_response(), its body (when the
 *      head parses) for status_print();
 *   3. a label value (a cgroup's path, a unit's name) for expo_escape():
 *      the output is valid UTF-8, holds no raw newline, and its quoted
 *      string ends exactly at its end.
 */
#include <event2/buffer.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "expo.h"
#include "fuzz.h"
#include "listen.h"
#include "status.h"

static void
check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_endpoint: %s\n", what);
		abort();
	}
}

static void
fuzz_address(const char *s)
{
	struct listen_address a, back;
	char err[128], text[LISTEN_TEXT_MAX];

	if (listen_parse(s, &a, err, sizeof(err)) < 0)
		return;
	listen_format(&a, text, sizeof(text));
	check(listen_parse(text, &back, err, sizeof(err)) == 0 && back.family == a.family &&
	        back.len == a.len && memcmp(&back.sa, &a.sa, a.len) == 0,
	    "an address does not read back");
}

static void
fuzz_answer(const char *s, size_t n)
{
	char err[256];
	int code;
	size_t body;
	FILE *null;

	if (status_parse_response(s, n, &code, &body) < 0)
		return;
	check(body <= n && code >= 100 && code <= 599, "a head out of bounds");
	null = fopen("/dev/null", "w");
	if (null != NULL) {
		(void)status_print(null, s + body, 1764600000000000ULL, err, sizeof(err));
		fclose(null);
	}
}

/* The length of the UTF-8 sequence at p, 0 when invalid (as expo.c
 * decides, written again here to check it). */
static size_t
utf8_ok(const unsigned char *p, size_t left)
{
	size_t n = p[0] < 0x80             ? 1
	    : p[0] >= 0xC2 && p[0] <= 0xDF ? 2
	    : p[0] >= 0xE0 && p[0] <= 0xEF ? 3
	    : p[0] >= 0xF0 && p[0] <= 0xF4 ? 4
	                                   : 0;

	if (n == 0 || n > left)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xC0) != 0x80)
			return 0;
	return n;
}

static void
fuzz_label(const char *s)
{
	struct evbuffer *b = evbuffer_new();
	unsigned char *out;
	size_t n, i = 0;

	if (b == NULL)
		return;
	check(expo_escape(b, s) == 0, "expo_escape failed");
	n = evbuffer_get_length(b);
	out = evbuffer_pullup(b, -1);
	while (i < n) {
		size_t k = utf8_ok(out + i, n - i);

		check(k != 0, "invalid UTF-8 written");
		check(out[i] != '\n', "a raw newline written");
		check(out[i] != '"', "an unescaped quote written");
		if (out[i] == '\\') {
			check(i + 1 < n &&
			        (out[i + 1] == '\\' || out[i + 1] == '"' || out[i + 1] == 'n'),
			    "a lone backslash written");
			i++;
		}
		i += k;
	}
	evbuffer_free(b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size), *part[3];

	fuzz_split(s, size, part, 3);
	fuzz_address(part[0]);
	fuzz_answer(part[1], strlen(part[1]));
	fuzz_label(part[2]);
	free(s);
	return 0;
}
