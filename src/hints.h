/*
 * hints.h: the runtime hints: the heap settings that tell the app's
 * runtime (Go, Node.js, the JVM, .NET) how much memory it may use, derived
 * from the cgroup's limit and oomguard's levels, so that the runtime's own
 * collector works below the level where oomguard would ask it to. Pure
 * code: the environment comes in as an array, the variables to set go out
 * in a struct; nothing here reads or changes oomguard's environment.
 */
#ifndef OOMGUARD_HINTS_H
#define OOMGUARD_HINTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"

/* GOMEMLIMIT, NODE_OPTIONS, JAVA_TOOL_OPTIONS, DOTNET_GCHeapHardLimit. */
#define HINTS_NVARS 4
/* The longest value set, NUL included: a user's NODE_OPTIONS or
 * JAVA_TOOL_OPTIONS with ours appended. A longer one is left alone. */
#define HINTS_VALUE_MAX 2048
/* No heap limit below this is set: the runtime's own default is better
 * than a heap too small to start in. */
#define HINTS_HEAP_MIN_BYTES (16ULL << 20)

enum hints_outcome {
	HINT_NONE,      /* nothing computed: hints = none, or no limit */
	HINT_SET,       /* value is to be set */
	HINT_KEPT,      /* the user set this limit already: left alone */
	HINT_TOO_SMALL, /* the heap would be under HINTS_HEAP_MIN_BYTES: left alone */
	HINT_TOO_LONG,  /* the user's value with ours would not fit: left alone */
};

struct hints_var {
	const char *name; /* the variable set: GOMEMLIMIT, NODE_OPTIONS, ... */
	enum hints_outcome outcome;
	/* SET: what oomguard adds ("172MiB", "--max-old-space-size=156");
	 * KEPT: the user's setting, as NAME=VALUE, cut to fit. */
	char part[80];
	char value[HINTS_VALUE_MAX]; /* SET: the variable's whole new value */
	bool had;                    /* the variable was in the environment before */
	size_t had_len;              /* SET and had: value[0..had_len) is its old value */
};

struct hints {
	uint64_t limit_bytes; /* the limit they were computed for; 0: none */
	uint64_t base_bytes;  /* the soft limit (Go) is fitted under this: see hints_compute() */
	uint64_t hard_base_bytes; /* the hard ones (Node, Java, .NET) under this */
	struct hints_var var[HINTS_NVARS];
};

/* Compute the hints for a cgroup limit (0: none) under configuration c,
 * for an app that gets the environment envp (NULL-terminated). The base
 * is the lowest of the limit and oomguard's armed levels (gc, restart,
 * kill), the hard base the same without the gc level; from them:
 *   GOMEMLIMIT             = 90% of the base, in MiB
 *   NODE_OPTIONS           += --max-old-space-size = 75% of the hard base - 16 MiB
 *   JAVA_TOOL_OPTIONS      += -Xmx = 75% of the hard base - 48 MiB
 *   DOTNET_GCHeapHardLimit = 75% of the hard base, in hex bytes
 * each unless the user set that limit already (docs/runtimes.md says why
 * and what counts). With [runtime] hints = none or no limit every
 * outcome is HINT_NONE. Return the number of variables to set. */
int hints_compute(
    const struct config *c, uint64_t limit_bytes, char *const *envp, struct hints *ret);

/* Whether a and b set the same variables to the same values. */
bool hints_same(const struct hints *a, const struct hints *b);

/* Describe the variables whose outcome is which, for a log line:
 * "GOMEMLIMIT=172MiB NODE_OPTIONS+=--max-old-space-size=156" for
 * HINT_SET (what oomguard adds), the user's settings for HINT_KEPT, the
 * names for the others. Return buf ("" when there are none). */
char *hints_describe(const struct hints *h, enum hints_outcome which, char *buf, size_t len);

/* Print h for `oomguard hints`: one NAME=VALUE line per variable to set,
 * or with shell an `export NAME='VALUE'` line that sh reads back as it
 * was; the rest as # comments. */
void hints_print(const struct hints *h, bool shell, FILE *fp);

#endif
