/*
 * service.h: telling the service manager how oomguard is doing
 * (sd_notify(3)): ready, reloading, stopping, a status line, and the
 * watchdog's keep-alive. Every call is a no-op when NOTIFY_SOCKET is not
 * set, and always in a build without libsystemd (OOMGUARD_SYSTEMD=0). A
 * notification that cannot be sent is dropped: none of them is worth
 * more than the watch.
 */
#ifndef OOMGUARD_SERVICE_H
#define OOMGUARD_SERVICE_H

#include <stdint.h>

/* The longest status text sent; a longer one is cut. */
#define SERVICE_STATUS_MAX 256

/* READY=1: start-up is done (Type=notify). Never fails. */
void service_ready(void);

/* STATUS=text, one line: newlines become spaces. Sent only when it
 * differs from the last status sent, so it may be called every poll.
 * Never fails. */
void service_status(const char *text);

/* RELOADING=1 with MONOTONIC_USEC=now, which Type=notify-reload (systemd
 * 253) requires and older versions ignore; send service_ready() when the
 * reload is done. Never fails. */
void service_reloading(void);

/* STOPPING=1: the shutdown has begun. Never fails. */
void service_stopping(void);

/* WATCHDOG=1: the keep-alive for WatchdogSec=. Never fails. */
void service_watchdog(void);

/* The watchdog timeout the manager set for this process: return it in
 * microseconds, or 0 when there is none (send service_watchdog() at
 * least twice per timeout). */
uint64_t service_watchdog_usec(void);

#endif
