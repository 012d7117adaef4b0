/*
 * listen.c: the metrics endpoint's address, parsed and formatted.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "listen.h"

#define ADDRESS_FORMS "expected IPV4:PORT, [IPV6]:PORT, unix:/PATH or none"

static int
parse_port(const char *s, in_port_t *ret)
{
	char *end;
	unsigned long v;

	if (s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0 || v > 65535)
		return -EINVAL;
	*ret = htons((in_port_t)v);
	return 0;
}

static int
parse_unix(const char *path, struct listen_address *a, char *err, size_t errlen)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)&a->sa;

	if (path[0] != '/') {
		snprintf(err, errlen, "a unix socket's path must be absolute");
		return -EINVAL;
	}
	if (strlen(path) >= sizeof(sun->sun_path)) {
		snprintf(err, errlen, "a unix socket's path is at most %zu characters",
		    sizeof(sun->sun_path) - 1);
		return -EINVAL;
	}
	sun->sun_family = AF_UNIX;
	strcpy(sun->sun_path, path);
	a->family = AF_UNIX;
	a->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
	return 0;
}

/* [IPV6]:PORT or IPV4:PORT; host is a copy of s that may be cut. */
static int
parse_inet(char *host, struct listen_address *a)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&a->sa;
	char *port;
	in_port_t p;

	if (host[0] == '[') {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a->sa;
		char *close = strchr(host, ']');

		if (close == NULL || close[1] != ':')
			return -EINVAL;
		*close = '\0';
		if (inet_pton(AF_INET6, host + 1, &sin6->sin6_addr) != 1 ||
		    parse_port(close + 2, &p) < 0)
			return -EINVAL;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = p;
		a->family = AF_INET6;
		a->len = sizeof(*sin6);
		return 0;
	}
	port = strrchr(host, ':');
	if (port == NULL)
		return -EINVAL;
	*port++ = '\0';
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1 || parse_port(port, &p) < 0)
		return -EINVAL;
	sin->sin_family = AF_INET;
	sin->sin_port = p;
	a->family = AF_INET;
	a->len = sizeof(*sin);
	return 0;
}

int
listen_parse(const char *s, struct listen_address *ret, char *err, size_t errlen)
{
	struct listen_address a;
	char host[LISTEN_TEXT_MAX];
	int r;

	memset(&a, 0, sizeof(a));
	a.family = AF_UNSPEC;
	if (s[0] == '\0' || strcasecmp(s, "none") == 0) {
		*ret = a;
		return 0;
	}
	if (strncmp(s, "unix:", 5) == 0) {
		r = parse_unix(s + 5, &a, err, errlen);
		if (r == 0)
			*ret = a;
		return r;
	}
	r = strlen(s) < sizeof(host) ? 0 : -EINVAL;
	if (r == 0) {
		snprintf(host, sizeof(host), "%s", s);
		r = parse_inet(host, &a);
	}
	if (r < 0) {
		snprintf(err, errlen, ADDRESS_FORMS);
		return -EINVAL;
	}
	*ret = a;
	return 0;
}

char *
listen_format(const struct listen_address *a, char *buf, size_t len)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&a->sa;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a->sa;
	char ip[INET6_ADDRSTRLEN];

	switch (a->family) {
	case AF_INET:
		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, ntohs(sin->sin_port));
		break;
	case AF_INET6:
		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, ntohs(sin6->sin6_port));
		break;
	case AF_UNIX:
		snprintf(buf, len, "unix:%s", ((const struct sockaddr_un *)&a->sa)->sun_path);
		break;
	default:
		snprintf(buf, len, "none");
		break;
	}
	return buf;
}
