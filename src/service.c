/*
 * service.c: sd_notify(3) messages. sd_notify() itself returns 0 without
 * NOTIFY_SOCKET, which makes each call a no-op outside a service; the
 * environment is kept so that every later call finds the socket too.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#if OOMGUARD_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "service.h"

#if OOMGUARD_SYSTEMD

static void
notify(const char *state)
{
	(void)sd_notify(0, state);
}

void
service_status(const char *text)
{
	/* The last status the manager has, to spare it repeats. */
	static char last[sizeof("STATUS=") + SERVICE_STATUS_MAX];
	char msg[sizeof(last)];

	snprintf(msg, sizeof(msg), "STATUS=%s", text);
	/* A newline would start another assignment ("READY=1"). */
	for (char *p = msg; *p != '\0'; p++) {
		if (*p == '\n')
			*p = ' ';
	}
	if (strcmp(msg, last) == 0)
		return;
	if (sd_notify(0, msg) > 0)
		memcpy(last, msg, sizeof(last));
}

void
service_reloading(void)
{
	struct timespec ts;
	char msg[64];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000);
	notify(msg);
}

uint64_t
service_watchdog_usec(void)
{
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) <= 0)
		return 0;
	return usec;
}

#else /* !OOMGUARD_SYSTEMD */

static void
notify(const char *state)
{
	(void)state;
}

void
service_status(const char *text)
{
	(void)text;
}

void
service_reloading(void)
{
}

uint64_t
service_watchdog_usec(void)
{
	return 0;
}

#endif

void
service_ready(void)
{
	notify("READY=1");
}

void
service_stopping(void)
{
	notify("STOPPING=1");
}

void
service_watchdog(void)
{
	notify("WATCHDOG=1");
}
