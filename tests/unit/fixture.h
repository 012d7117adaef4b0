/*
 * fixture.h: the files of a test cgroup directory of plain files (a copy in
 * /tmp), for the suites whose module writes a limit or a knob there
 * (check_knob.c, check_rescue.c). Each helper fails the running test when a
 * file cannot be read or written.
 */
#ifndef OOMGUARD_TEST_FIXTURE_H
#define OOMGUARD_TEST_FIXTURE_H

#include <check.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Write text to dir/name as the operator does (truncating). */
static inline void
fixture_put(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* Read the first line of dir/name into text (size bytes, NUL-terminated). */
static inline void
fixture_read(const char *dir, const char *name, char *text, size_t size)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(text, (int)size, f));
	fclose(f);
}

/* The number dir/name starts with. */
static inline uint64_t
fixture_get(const char *dir, const char *name)
{
	char text[64] = "";

	fixture_read(dir, name, text, sizeof(text));
	return strtoull(text, NULL, 10);
}

/* Remove dir and everything in it. */
static inline void
fixture_remove(const char *dir)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

#endif
