/*
 * episode.c: gc requests summed up for the log (episode.h), pure code.
 */
#include <stdbool.h>
#include <stdint.h>

#include "episode.h"

void
episode_init(struct episode *e)
{
	*e = (struct episode){ 0 };
}

static void
episode_range(struct episode *e, uint64_t metric_bytes)
{
	if (metric_bytes < e->min_bytes)
		e->min_bytes = metric_bytes;
	if (metric_bytes > e->max_bytes)
		e->max_bytes = metric_bytes;
	if (e->request_open && metric_bytes < e->low_bytes)
		e->low_bytes = metric_bytes;
}

/* The last request's fall joins the sum: at the next request, or when
 * the episode ends. */
static void
episode_close_fall(struct episode *e)
{
	if (!e->request_open)
		return;
	e->fall_sum_bytes += e->request_bytes - e->low_bytes;
	e->falls++;
	e->request_open = false;
}

/* A new window for the next line, starting at now. */
static void
episode_window(struct episode *e, uint64_t now_usec, uint64_t metric_bytes)
{
	e->line_usec = now_usec;
	e->requests = 0;
	e->falls = 0;
	e->fall_sum_bytes = 0;
	e->min_bytes = e->max_bytes = metric_bytes;
}

bool
episode_request(struct episode *e, uint64_t now_usec, uint64_t metric_bytes)
{
	bool first = !e->open;

	if (first) {
		*e = (struct episode){ .open = true };
		episode_window(e, now_usec, metric_bytes);
	} else {
		episode_close_fall(e);
		episode_range(e, metric_bytes);
		e->requests++;
	}
	e->last_request_usec = now_usec;
	e->request_open = true;
	e->request_bytes = e->low_bytes = metric_bytes;
	return first;
}

bool
episode_sample(struct episode *e, uint64_t now_usec, uint64_t metric_bytes, bool in_episode,
    struct episode_summary *ret)
{
	bool ending, due;

	if (!e->open)
		return false;
	episode_range(e, metric_bytes);
	ending = !in_episode && now_usec >= e->last_request_usec &&
	    now_usec - e->last_request_usec >= EPISODE_LINE_USEC;
	/* The last request's fall is complete only at the episode's end (or
	 * the next request): until then it belongs to the next line. */
	if (ending)
		episode_close_fall(e);
	due = e->requests > 0 && now_usec >= e->line_usec &&
	    now_usec - e->line_usec >= EPISODE_LINE_USEC;
	if (due) {
		*ret = (struct episode_summary){
			.requests = e->requests,
			.span_usec = now_usec - e->line_usec,
			.min_bytes = e->min_bytes,
			.max_bytes = e->max_bytes,
			.freed_bytes = e->falls > 0 ? e->fall_sum_bytes / e->falls : 0,
		};
		episode_window(e, now_usec, metric_bytes);
	}
	if (ending && e->requests == 0)
		e->open = false;
	return due;
}
