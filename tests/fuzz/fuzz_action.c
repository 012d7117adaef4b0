/*
 * fuzz_action.c: the SigCgt line of /proc/PID/status (action.c), which
 * decides whether a signal would be handled or kill. The first byte picks
 * the signal, out of range ones included; the rest is the file.
 */
#include <errno.h>
#include <stdio.h>

#include "action.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	int sig, r;

	if (size < 1)
		return 0;
	sig = (int)(int8_t)data[0];
	s = fuzz_string(data + 1, size - 1);
	r = action_parse_caught(s, sig);
	if (r != 0 && r != 1 && r != -EINVAL) {
		fprintf(stderr, "fuzz_action: action_parse_caught returned %d\n", r);
		abort();
	}
	free(s);
	return 0;
}
