/*
 * fuzz_psi.c: pressure files (psi.c), parsed and held against a trigger
 * as the fallback without kernel triggers does.
 */
#include <stdbool.h>

#include "fuzz.h"
#include "psi.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct psi_trigger triggers[] = {
		{ true, false, 150000, 2000000 },
		{ true, true, 1, 500000 },
		{ true, true, 10000000, 10000000 },
	};
	char *s = fuzz_string(data, size);
	struct psi_stats st;

	if (psi_parse(s, &st) == 0) {
		for (size_t i = 0; i < sizeof(triggers) / sizeof(triggers[0]); i++)
			(void)psi_over(&st, &triggers[i]);
	}
	free(s);
	return 0;
}
