/*
 * status.h: `oomguard status [--json] [--metrics ADDRESS]`: what one
 * running oomguard sees, asked of its metrics endpoint (GET /status) and
 * shown to a person (levels, a usage bar, the last actions, the live
 * set and what it means), or the JSON as it came with --json.
 *
 * The client is a plain blocking socket with a deadline, not evhttp's:
 * libevent 2.1's evhttp client cannot reach a unix socket, and a command
 * that asks once and exits has no loop to run.
 */
#ifndef OOMGUARD_STATUS_H
#define OOMGUARD_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "listen.h"

/* Exit codes of `oomguard status` (oomguard(8)). */
#define STATUS_EXIT_OK      0 /* shown */
#define STATUS_EXIT_NOREPLY 1 /* no endpoint there, no answer in time, or not oomguard's */

/* The address status asks when neither --metrics nor [metrics] listen
 * names one. */
#define STATUS_DEFAULT_ADDRESS "127.0.0.1:9487"
/* How long status waits for the whole answer, and the most it reads. */
#define STATUS_TIMEOUT_USEC 2000000
#define STATUS_BODY_MAX     (1 << 20)

/* Split an HTTP/1.x response held in buf (n bytes): its status code and
 * where its body starts. Pure. Return 0, or -EPROTO when buf is not a
 * whole response's head. */
int status_parse_response(const char *buf, size_t n, int *ret_code, size_t *ret_body);

/* GET path from a, within STATUS_TIMEOUT_USEC. Return 0 and set
 * *ret_body (NUL-terminated, to be freed), or -errno with what failed in
 * err: -ECONNREFUSED, -ENOENT (no socket), -ETIMEDOUT, -EPROTO (not an
 * HTTP answer, or not 200), -EFBIG (over STATUS_BODY_MAX). */
int status_fetch(
    const struct listen_address *a, const char *path, char **ret_body, char *err, size_t errlen);

/* The sentence about a live set (0: unknown) for the limit and the gc
 * and rearm levels (UINT64_MAX: off), written into buf: the live set
 * above the gc level ("gc requests cannot help; raise the limit"), or
 * above the rearm level (episodes cannot end). Pure. Return 1 when there
 * is one, 0 when the live set leaves room. */
int status_advice(uint64_t live_bytes, uint64_t limit_bytes, uint64_t gc_bytes,
    uint64_t rearm_bytes, char *buf, size_t len);

/* Print /status's JSON text for a person to fp; now_usec is the wall
 * clock (CLOCK_REALTIME) the last actions are told from. Return 0, or
 * -EINVAL when the text is not /status's JSON (with why in err). */
int status_print(FILE *fp, const char *json_text, uint64_t now_usec, char *err, size_t errlen);

/* The command: ask address (as listen_parse() reads it) and print.
 * Return an exit code (STATUS_EXIT_*), errors said on stderr. */
int status_run(const char *address, bool json);

#endif
