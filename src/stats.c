/*
 * stats.c: counters and duration histograms of one guard.
 */
#include "stats.h"

/* 100 us to 5 s: a sample takes tens of microseconds, a reaction up to
 * the grace of a slow system. */
const uint64_t stats_bucket_usec[STATS_BUCKETS] = {
	100,
	250,
	500,
	1000,
	2500,
	5000,
	10000,
	25000,
	50000,
	100000,
	1000000,
	5000000,
};

void
stats_observe(struct stats_hist *h, uint64_t usec)
{
	unsigned i;

	for (i = 0; i < STATS_BUCKETS; i++)
		if (usec <= stats_bucket_usec[i])
			break;
	if (i < STATS_BUCKETS)
		h->bucket[i]++;
	else
		h->over++;
	h->count++;
	h->sum_usec += usec;
}

uint64_t
stats_cumulative(const struct stats_hist *h, unsigned i)
{
	uint64_t n = 0;

	if (i >= STATS_BUCKETS)
		return h->count;
	for (unsigned j = 0; j <= i; j++)
		n += h->bucket[j];
	return n;
}
