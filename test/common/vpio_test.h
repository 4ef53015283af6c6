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
#include <string.h>

#include <vpio/log.h>

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
	failed = CU_get_number_of_tests_failed();
	if (CU_get_number_of_tests_run() == 0) {
		fprintf(stderr, "no test ran\n");
		failed = 1;
	}
	CU_cleanup_registry();
	return failed > 100 ? 100 : (int)failed;
}

/* The same, with the library's log at error level unless VPIO_LOG_LEVEL
 * asks otherwise: for suites whose expected failures would fill the log. */
static inline int vpio_test_run_quiet(vpio_test_register_fn reg)
{
	if (getenv("VPIO_LOG_LEVEL") == NULL)
		vpio_log_set_level(VPIO_LOG_ERROR);
	return vpio_test_run(reg);
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

/* Log capture: tests assert that an error path logged the line that
 * names the problem and the fix. */
struct vpio_test_log {
	char text[8192];
	size_t len;
	unsigned errors;
};
static struct vpio_test_log vpio_test_log_buf;

static inline void vpio_test_log_cb(enum vpio_log_level level, const char *module, const char *msg, void *ctx)
{
	struct vpio_test_log *l = ctx;
	int n;

	if (level == VPIO_LOG_ERROR)
		l->errors++;
	n = snprintf(l->text + l->len, sizeof(l->text) - l->len, "%s: %s\n", module, msg);
	if (n > 0 && l->len + (size_t)n < sizeof(l->text))
		l->len += (size_t)n;
}

/* Start capturing (clears what was captured). */
static inline void vpio_test_log_capture(void)
{
	memset(&vpio_test_log_buf, 0, sizeof(vpio_test_log_buf));
	vpio_log_set_callback(vpio_test_log_cb, &vpio_test_log_buf);
}

/* Stop capturing; log lines go to stderr again. */
static inline void vpio_test_log_release(void)
{
	vpio_log_set_callback(NULL, NULL);
}

/* true when a captured line contains s. */
static inline int vpio_test_log_has(const char *s)
{
	return strstr(vpio_test_log_buf.text, s) != NULL;
}

static inline unsigned vpio_test_log_errors(void)
{
	return vpio_test_log_buf.errors;
}

#endif
