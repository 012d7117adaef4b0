/*
 * stats.h: what one guard has seen and done, counted for its metrics.
 * Pure code: counters and histograms of durations that a guard updates
 * and the metrics endpoint reads. No allocation, so that the rescue path
 * may count too.
 */
#ifndef OOMGUARD_STATS_H
#define OOMGUARD_STATS_H

#include <stdint.h>

/* The upper bounds of a duration histogram's buckets, in microseconds
 * (the last bucket, +Inf, is implicit). */
#define STATS_BUCKETS 12
extern const uint64_t stats_bucket_usec[STATS_BUCKETS];

/* A histogram of durations: bucket[i] counts the observations at most
 * stats_bucket_usec[i] (not cumulative; the exposition sums them), over
 * those above the last bound. */
struct stats_hist {
	uint64_t bucket[STATS_BUCKETS];
	uint64_t over;
	uint64_t count;
	uint64_t sum_usec;
};

struct stats {
	uint64_t gc_requests;      /* gc signals sent (or logged in a dry run) */
	uint64_t restarts;         /* restart signals sent */
	uint64_t kills;            /* SIGKILLs sent by the kill level or a rescue */
	uint64_t rescues;          /* frozen cgroups rescued */
	uint64_t kernel_oom_kills; /* the kernel's OOM kills counted in the cgroup */
	uint64_t app_starts;       /* the app started (entrypoint), or a new target seen */
	/* The app's live set: the metric's low point after the last gc
	 * request that took effect; 0 while there is none. */
	uint64_t live_bytes_estimate;
	struct stats_hist sample_usec;   /* how long a sample took */
	struct stats_hist reaction_usec; /* from the sample that found a level to the signal */
};

/* Count one observation of usec in h. Never fails. */
void stats_observe(struct stats_hist *h, uint64_t usec);

/* Return the number of observations at most stats_bucket_usec[i], the
 * cumulative count Prometheus's le="..." bucket shows; i = STATS_BUCKETS
 * is +Inf (every observation). */
uint64_t stats_cumulative(const struct stats_hist *h, unsigned i);

#endif
