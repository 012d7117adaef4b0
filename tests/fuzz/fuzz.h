/*
 * fuzz.h: what the libFuzzer harnesses share. The parsers take C strings,
 * so an input is copied into a NUL-terminated buffer first; an input of
 * several parts separates them with NUL bytes.
 */
#ifndef OOMGUARD_FUZZ_H
#define OOMGUARD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* libFuzzer's entry points: every harness defines LLVMFuzzerTestOneInput();
 * one that needs a set-up before the first input defines
 * LLVMFuzzerInitialize() too (argc and argv are libFuzzer's own). */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated copy of data (NULs inside end the string early, as a
 * file read into a buffer would), to be freed. Never NULL. */
static inline char *
fuzz_string(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Split the NUL-terminated copy s of size bytes into at most max parts at
 * its NUL bytes; parts missing at the end are "". Return how many parts
 * the input held. */
static inline int
fuzz_split(char *s, size_t size, char **parts, int max)
{
	int n = 0;
	size_t i = 0;

	while (n < max && i <= size) {
		parts[n++] = s + i;
		i += strlen(s + i) + 1;
	}
	for (int k = n; k < max; k++)
		parts[k] = s + size;
	return n;
}

#endif
