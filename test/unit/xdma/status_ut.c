/* SPDX-License-Identifier: BSD-3-Clause */
/* Status decoding: every bit by name, per direction (bits 9-15 differ). */
#include <string.h>

#include "xdma_ut.h"

struct scase {
	uint32_t st;
	enum vpio_xdma_dir dir;
	const char *text;
};

static void test_decode(void)
{
	/* bit 14 means nothing for C2H (no write errors) */
	static const struct scase cases[] = {
		{ 0, VPIO_XDMA_H2C, "no error bits" }, { VPIO_XDMA_ST_BUSY, VPIO_XDMA_C2H, "busy, no error bits" },
		{ 0x00000006, VPIO_XDMA_H2C, "descriptor stopped, descriptor completed, no error bits" }, { 0x00000008, VPIO_XDMA_H2C, "alignment mismatch" },
		{ 0x00000010, VPIO_XDMA_C2H, "magic stopped (bad descriptor)" }, { 0x00000020, VPIO_XDMA_C2H, "invalid length" },
		{ 0x00000040, VPIO_XDMA_H2C, "idle stopped, no error bits" }, { 0x00080010, VPIO_XDMA_H2C, "magic stopped (bad descriptor), descriptor error: unsupported request" },
		{ 0x00000200, VPIO_XDMA_H2C, "read error (host): unsupported request" }, { 0x00002000, VPIO_XDMA_H2C, "read error (host): unexpected completion" },
		{ 0x00000200, VPIO_XDMA_C2H, "read error (card): decode error" }, { 0x00000400, VPIO_XDMA_C2H, "read error (card): slave error" },
		{ 0x00004000, VPIO_XDMA_H2C, "write error (card): decode error" }, { 0x00008000, VPIO_XDMA_H2C, "write error (card): slave error" },
		{ 0x00004000, VPIO_XDMA_C2H, "no error bits" }, { 0x00100000, VPIO_XDMA_C2H, "descriptor error: completer abort" },
		{ 0x00800000, VPIO_XDMA_H2C, "descriptor error: unexpected completion" }, { 0x00400000, VPIO_XDMA_H2C, "descriptor error: poisoned (EP)" },
		{ 0x00200000, VPIO_XDMA_H2C, "descriptor error: parity error" },
	};
	char buf[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		vpio_xdma_status_str(cases[i].st, cases[i].dir, buf, sizeof(buf));
		CU_ASSERT_STRING_EQUAL(buf, cases[i].text);
		if (strcmp(buf, cases[i].text) != 0)
			printf("\n    0x%08x: '%s'", cases[i].st, buf);
	}
	/* a small buffer is cut, NUL terminated */
	vpio_xdma_status_str(0x00f8fe38, VPIO_XDMA_H2C, buf, 16);
	CU_ASSERT_EQUAL(strlen(buf), 15);
	CU_ASSERT_PTR_NULL(vpio_xdma_status_str(1, VPIO_XDMA_H2C, NULL, 0));
}

static void test_error_masks(void)
{
	/* every error bit of a direction is named, and none of the others */
	char buf[512];

	vpio_xdma_status_str(VPIO_XDMA_ST_H2C_ERRORS, VPIO_XDMA_H2C, buf, sizeof(buf));
	CU_ASSERT(strstr(buf, "write error (card): slave error") != NULL);
	CU_ASSERT(strstr(buf, "read error (host): unexpected completion") != NULL);
	CU_ASSERT(strstr(buf, "no error bits") == NULL);
	vpio_xdma_status_str(VPIO_XDMA_ST_C2H_ERRORS, VPIO_XDMA_C2H, buf, sizeof(buf));
	CU_ASSERT(strstr(buf, "read error (card): slave error") != NULL);
	CU_ASSERT(strstr(buf, "write error") == NULL);
	CU_ASSERT_EQUAL(xdma_error_mask(false) & VPIO_XDMA_ST_WRITE_ERROR, VPIO_XDMA_ST_WRITE_ERROR);
	CU_ASSERT_EQUAL(xdma_error_mask(true) & VPIO_XDMA_ST_WRITE_ERROR, 0);
}

CU_TestInfo ut_status_tests[] = { UT_T(test_decode), UT_T(test_error_masks), CU_TEST_INFO_NULL };
