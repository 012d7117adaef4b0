/*
 * episode.h: gc requests summed up for the log, as pure code. A fast
 * collector can take dozens of gc requests a second; one line each would
 * drown the log. This module counts them per episode (for the log: from a
 * request until the policy's episode has closed and a second has passed
 * without a request), says which request is the first of its episode
 * (logged at info; the others at debug), and when a summary line is due:
 * at most one a second per episode, with the requests since the last
 * line, the metric's range and the memory freed per request. The caller
 * prints. No I/O, no clock, no globals.
 */
#ifndef OOMGUARD_EPISODE_H
#define OOMGUARD_EPISODE_H

#include <stdbool.h>
#include <stdint.h>

/* At most one summary line this often per episode; an episode with the
 * policy's closed ends after this long without a request. */
#define EPISODE_LINE_USEC 1000000

struct episode_summary {
	unsigned requests;  /* since the last line about this episode */
	uint64_t span_usec; /* the time since that line */
	uint64_t min_bytes; /* the metric's range over that time */
	uint64_t max_bytes;
	uint64_t freed_bytes; /* per request: the fall after it, on average */
};

/* Callers only initialise it with episode_init() and pass it back. */
struct episode {
	bool open;
	uint64_t last_request_usec;
	uint64_t line_usec; /* the last line about this episode */
	unsigned requests;  /* since that line */
	uint64_t min_bytes, max_bytes;
	uint64_t fall_sum_bytes; /* the falls after those requests */
	unsigned falls;          /* requests whose fall is summed */
	bool request_open;       /* the last request's fall still counts */
	uint64_t request_bytes;  /* the metric at it */
	uint64_t low_bytes;      /* and its lowest since */
};

/* episode.c */

/* Resets e to "no episode". Never fails. */
void episode_init(struct episode *e);

/*
 * Notes a gc request sent now, at metric_bytes. Returns true when it is
 * the first of its episode (log it at info), false for a repeat (debug).
 * Never fails.
 */
bool episode_request(struct episode *e, uint64_t now_usec, uint64_t metric_bytes);

/*
 * Feeds one sample (after any request it caused); in_episode is the
 * policy's episode. Returns true and fills *ret when a summary line is
 * due: repeats went out since the last line, a second or more ago.
 * Returns false otherwise, *ret untouched. Never fails; a clock that
 * steps back delays the next line, nothing more.
 */
bool episode_sample(struct episode *e, uint64_t now_usec, uint64_t metric_bytes, bool in_episode,
    struct episode_summary *ret);

#endif /* OOMGUARD_EPISODE_H */
