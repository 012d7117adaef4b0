/*
 * hostile: clients of the metrics endpoint, polite and not, for the tests
 * and the benchmark. For the tests, not for use.
 *
 * usage: hostile MODE HOST:PORT N SECS
 *
 * Keeps N connections to HOST:PORT (IPv4) for SECS seconds, each made
 * again when the server closes it:
 *   slowloris  sends a request's first line, then one header line a
 *              second, never ending its headers
 *   headers    sends headers of 64 KiB and reads what comes back
 *   flood      connects and sends nothing
 *   scrape     GET /metrics, reads the whole answer, again
 * Then prints one line: connections made, closed by the server, answers
 * (200 and other), connect errors, and the longest a connection lived.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "workload.h"

#define MAX_CONN 4096

enum mode { SLOWLORIS, HEADERS, FLOOD, SCRAPE };

struct conn {
	int fd;
	uint64_t opened_usec, next_usec;
	size_t sent;
	int status; /* the answer's code once read, 0 before */
};

static struct sockaddr_in addr;
static enum mode mode;
static char big[65536 + 64];
static unsigned long connects, closed, ok, other, errors;
static uint64_t longest_usec;

static void
conn_open(struct conn *c, uint64_t now)
{
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	c->sent = 0;
	c->status = 0;
	c->opened_usec = c->next_usec = now;
	if (c->fd < 0 ||
	    (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 && errno != EINPROGRESS)) {
		errors++;
		if (c->fd >= 0)
			close(c->fd);
		c->fd = -1;
		c->next_usec = now + 100000;
		return;
	}
	connects++;
}

static void
conn_close(struct conn *c, uint64_t now, int by_server)
{
	if (by_server)
		closed++;
	if (c->status == 200)
		ok++;
	else if (c->status != 0)
		other++;
	if (now - c->opened_usec > longest_usec)
		longest_usec = now - c->opened_usec;
	close(c->fd);
	c->fd = -1;
}

/* What to send now, or NULL. */
static const char *
next_chunk(struct conn *c, uint64_t now, size_t *len)
{
	static const char first[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n";
	static const char scrape[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";

	switch (mode) {
	case SLOWLORIS:
		if (now < c->next_usec)
			return NULL;
		c->next_usec = now + 1000000;
		*len = c->sent == 0 ? strlen(first) : 8;
		return c->sent == 0 ? first : "X-a: b\r\n";
	case HEADERS:
		*len = strlen(big) - c->sent;
		return *len > 0 ? big + c->sent : NULL;
	case SCRAPE:
		*len = strlen(scrape) - c->sent;
		return *len > 0 ? scrape + c->sent : NULL;
	case FLOOD:
		break;
	}
	return NULL;
}

static void
conn_io(struct conn *c, short revents, uint64_t now)
{
	char buf[16384];
	const char *chunk;
	size_t len = 0;
	ssize_t r;

	if (revents & POLLIN) {
		r = read(c->fd, buf, sizeof(buf));
		if (r > 12 && c->status == 0 && strncmp(buf, "HTTP/1.", 7) == 0)
			c->status = atoi(buf + 9);
		if (r == 0 || (r < 0 && errno != EAGAIN)) {
			conn_close(c, now, 1);
			return;
		}
	}
	chunk = next_chunk(c, now, &len);
	if (chunk != NULL && len > 0) {
		r = send(c->fd, chunk, len, MSG_NOSIGNAL);
		if (r > 0)
			c->sent += (size_t)r;
		else if (r < 0 && errno != EAGAIN && errno != ENOTCONN)
			conn_close(c, now, 1);
	}
}

int
main(int argc, char **argv)
{
	static struct conn conns[MAX_CONN];
	static struct pollfd pfd[MAX_CONN];
	struct rlimit rl;
	char host[64], *port;
	uint64_t end;
	int n;

	if (argc != 5 || (n = atoi(argv[3])) < 1 || n > MAX_CONN) {
		fprintf(stderr, "usage: hostile slowloris|headers|flood|scrape HOST:PORT N SECS\n");
		return 2;
	}
	mode = strcmp(argv[1], "slowloris") == 0 ? SLOWLORIS
	    : strcmp(argv[1], "headers") == 0    ? HEADERS
	    : strcmp(argv[1], "flood") == 0      ? FLOOD
	                                         : SCRAPE;
	snprintf(host, sizeof(host), "%s", argv[2]);
	port = strrchr(host, ':');
	if (port == NULL)
		return 2;
	*port++ = '\0';
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)atoi(port));
	inet_pton(AF_INET, host, &addr.sin_addr);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	strcpy(big, "GET /metrics HTTP/1.1\r\nX-Big: ");
	memset(big + strlen(big), 'a', 65536);
	end = clock_usec(CLOCK_MONOTONIC) + (uint64_t)atoi(argv[4]) * 1000000;
	for (int i = 0; i < n; i++)
		conn_open(&conns[i], clock_usec(CLOCK_MONOTONIC));
	for (uint64_t now; (now = clock_usec(CLOCK_MONOTONIC)) < end;) {
		for (int i = 0; i < n; i++) {
			if (conns[i].fd < 0 && now >= conns[i].next_usec)
				conn_open(&conns[i], now);
			pfd[i].fd = conns[i].fd;
			pfd[i].events = POLLIN | (mode == FLOOD ? 0 : POLLOUT);
		}
		poll(pfd, (nfds_t)n, mode == SLOWLORIS || mode == FLOOD ? 100 : 10);
		now = clock_usec(CLOCK_MONOTONIC);
		for (int i = 0; i < n; i++)
			if (conns[i].fd >= 0 && pfd[i].revents != 0)
				conn_io(&conns[i], pfd[i].revents, now);
	}
	for (int i = 0; i < n; i++)
		if (conns[i].fd >= 0)
			conn_close(&conns[i], clock_usec(CLOCK_MONOTONIC), 0);
	printf("%s %d: connections %lu, closed by the server %lu, answers 200 %lu, other %lu, "
	       "connect errors %lu, longest %llu ms\n",
	    argv[1], n, connects, closed, ok, other, errors,
	    (unsigned long long)(longest_usec / 1000));
	return 0;
}
