/*
 * suite.h: the end of every unit suite's main(): run the suite, print
 * Check's summary, and turn failures into the exit status.
 */
#ifndef OOMGUARD_TEST_SUITE_H
#define OOMGUARD_TEST_SUITE_H

#include <check.h>
#include <stdlib.h>

static inline int
suite_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
