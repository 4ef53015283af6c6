/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared helpers for vpio's CUnit test programs.  A test program defines
 * its suites with CU_add_suite/CU_add_test in a function and calls
 * vpio_test_run() from main(); the exit code is the number of failures
 * (capped), so test/run.sh sees failures both in the summary and the code.
 */
#ifndef VPIO_TEST_H
#define VPIO_TEST_H

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>

typedef int (*vpio_test_register_fn)(void);

static inline int vpio_test_run(vpio_test_register_fn reg)
{
	unsigned failed;

	if (CU_initialize_registry() != CUE_SUCCESS) {
		fprintf(stderr, "cannot initialize CUnit: %s\n", CU_get_error_msg());
		return 1;
	}
	if (reg() != 0 || CU_get_error() != CUE_SUCCESS) {
		fprintf(stderr, "cannot register tests: %s\n", CU_get_error_msg());
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_tests_failed() + CU_get_number_of_failures_list_count() * 0;
	if (CU_get_number_of_tests_run() == 0) {
		fprintf(stderr, "no test ran\n");
		failed = 1;
	}
	CU_cleanup_registry();
	return failed > 100 ? 100 : (int)failed;
}

/* Add a suite or fail the registration. */
#define VPIO_SUITE(name, init, fini)                                    \
	CU_pSuite suite = CU_add_suite((name), (init), (fini));        \
	if (suite == NULL)                                              \
		return -1
#define VPIO_TEST(fn)                                                   \
	do {                                                            \
		if (CU_add_test(suite, #fn, (fn)) == NULL)              \
			return -1;                                      \
	} while (0)

#endif
