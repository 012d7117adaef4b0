/*
 * psi.h: pressure stall information: parsing the averages, and PSI
 * triggers wrapped so that an event loop without POLLPRI can wait on them.
 */
#ifndef OOMGUARD_PSI_H
#define OOMGUARD_PSI_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

struct psi_line {
	/* averages in hundredths of a percent: 12.34% is 1234 */
	unsigned avg10, avg60, avg300;
	uint64_t total_usec;
};

struct psi_stats {
	struct psi_line some;
	bool has_full;
	struct psi_line full;
};

/* Parse a pressure file's text. Return 0, or -EINVAL without a some line. */
int psi_parse(const char *text, struct psi_stats *ret);

/* Read and parse the pressure file at path. Return 0 or -errno. */
int psi_read(const char *path, struct psi_stats *ret);

/* Parse the text read from an open pressure file. Return 0 or -errno. */
int psi_pread(int fd, struct psi_stats *ret);

/* Whether the averages show at least the stall rate of trigger t: the
 * 10-second average of its line (some or full) at or above stall/window.
 * This stands in for a trigger where the kernel refuses them; it reacts
 * more slowly, as the average spans 10 seconds. */
bool psi_over(const struct psi_stats *s, const struct psi_trigger *t);

/* Register trigger t on the pressure file at path. The kernel signals a
 * trigger with POLLPRI, which libevent cannot wait for, so the trigger's
 * descriptor is put in an epoll set of its own (EPOLLPRI); the epoll
 * descriptor turns readable when the trigger fires and is what the
 * caller's loop watches. Return 0 and set *ret_epfd and *ret_psifd, or
 * -errno (EINVAL where the kernel refuses triggers). */
int psi_trigger_open(const char *path, const struct psi_trigger *t, int *ret_epfd, int *ret_psifd);

/* After the epoll descriptor turned readable: collect the event. Return 1
 * when the trigger fired, 0 when nothing was pending, -ENODEV when the
 * file is gone (POLLERR: the cgroup was removed), or -errno. */
int psi_trigger_consume(int epfd);

#endif
