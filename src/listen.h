/*
 * listen.h: the address the metrics endpoint listens on, as the
 * configuration and the command line give it: "127.0.0.1:9487",
 * "[::1]:9487", "unix:/run/oomguard/metrics.sock" or "none". Pure: no
 * name is resolved (oomguard never resolves a name), only numeric
 * addresses are read.
 */
#ifndef OOMGUARD_LISTEN_H
#define OOMGUARD_LISTEN_H

#include <sys/socket.h>
#include <sys/un.h>

/* Room for an address as text, the longest being a unix socket's path. */
#define LISTEN_TEXT_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) + 8)

struct listen_address {
	int family; /* AF_INET, AF_INET6, AF_UNIX, or AF_UNSPEC for none */
	struct sockaddr_storage sa;
	socklen_t len;
};

/* Parse s: IPV4:PORT, [IPV6]:PORT, unix:ABSOLUTE_PATH, or none (or the
 * empty string) for no endpoint. The port is 1 to 65535; the path fits
 * in sockaddr_un. Return 0 and fill *ret, or -EINVAL with what is wrong
 * in err (a message without the value). */
int listen_parse(const char *s, struct listen_address *ret, char *err, size_t errlen);

/* Write a as listen_parse() reads it into buf; return buf. */
char *listen_format(const struct listen_address *a, char *buf, size_t len);

#endif
