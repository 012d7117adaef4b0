/*
 * fuzz_unit.c: what unit.c takes from outside without a bus: the unit
 * name of --unit, checked and mapped to its interface, and the bytes of
 * an InvocationID as a D-Bus reply delivers them (any length). The other
 * properties are strings and a uint32 that sd-bus itself decodes on a
 * live connection; unit.c only copies them with a bound.
 */
#include <errno.h>
#include <stdio.h>

#include "fuzz.h"
#include "unit.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size);
	char id[33];
	const char *iface;
	int r;

	r = unit_name_check(s);
	iface = unit_name_interface(s);
	if ((r == 0) != (iface != NULL)) {
		fprintf(stderr, "fuzz_unit: unit_name_check and unit_name_interface disagree\n");
		abort();
	}
	r = unit_invocation_format(data, size, id);
	if (r == 0 && strlen(id) != 2 * size) {
		fprintf(
		    stderr, "fuzz_unit: an invocation ID of %zu bytes printed as '%s'\n", size, id);
		abort();
	}
	free(s);
	return 0;
}
