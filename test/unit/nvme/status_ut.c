/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of status decoding (lib/nvme/nvme_status.c): names per status
 * code type, unknown codes, the formatted line, errno mapping, and the
 * error test ignoring the phase tag.
 */
#include <errno.h>
#include <string.h>

#include "common/vpio_test.h"
#include "nvme_ut_fake.h"

static void test_names(void)
{
	CU_ASSERT_STRING_EQUAL(vpio_nvme_sct_str(VPIO_NVME_SCT_GENERIC), "GENERIC");
	CU_ASSERT_STRING_EQUAL(vpio_nvme_sct_str(VPIO_NVME_SCT_MEDIA_ERROR), "MEDIA ERROR");
	CU_ASSERT_STRING_EQUAL(vpio_nvme_sct_str(5), "RESERVED");
	CU_ASSERT_STRING_EQUAL(vpio_nvme_sc_str(0, VPIO_NVME_SC_LBA_OUT_OF_RANGE), "LBA OUT OF RANGE");
	CU_ASSERT_STRING_EQUAL(vpio_nvme_sc_str(0, VPIO_NVME_SC_INVALID_FIELD), "INVALID FIELD");
	CU_ASSERT_STRING_EQUAL(vpio_nvme_sc_str(1, VPIO_NVME_SC_INVALID_QUEUE_IDENTIFIER), "INVALID QUEUE IDENTIFIER");
	CU_ASSERT_STRING_EQUAL(vpio_nvme_sc_str(2, VPIO_NVME_SC_COMPARE_FAILURE), "COMPARE FAILURE");
	CU_ASSERT_STRING_EQUAL(vpio_nvme_sc_str(3, VPIO_NVME_SC_ABORTED_BY_HOST), "ABORTED BY HOST");
	/* the same code means different things under different types */
	CU_ASSERT_STRING_EQUAL(vpio_nvme_sc_str(1, 0x80), "CONFLICTING ATTRIBUTES");
	CU_ASSERT_STRING_EQUAL(vpio_nvme_sc_str(2, 0x80), "WRITE FAULT");
	CU_ASSERT_STRING_EQUAL(vpio_nvme_sc_str(0, 0x7f), "UNKNOWN");
	CU_ASSERT_STRING_EQUAL(vpio_nvme_sc_str(7, 0x01), "VENDOR SPECIFIC");
	CU_ASSERT_STRING_EQUAL(vpio_nvme_sc_str(6, 0x00), "UNKNOWN");
}

static void test_fmt(void)
{
	char buf[VPIO_NVME_STATUS_STRLEN], tiny[8];
	uint16_t st = VPIO_NVME_STATUS(0, VPIO_NVME_SC_LBA_OUT_OF_RANGE) | 0x8000u | 1u; /* DNR, phase */

	CU_ASSERT_PTR_EQUAL(vpio_nvme_status_fmt(buf, sizeof(buf), st), buf);
	CU_ASSERT_STRING_EQUAL(buf, "LBA OUT OF RANGE (sct 0x0 GENERIC, sc 0x80, do not retry)");
	vpio_nvme_status_fmt(buf, sizeof(buf), VPIO_NVME_STATUS(2, VPIO_NVME_SC_UNRECOVERED_READ_ERROR));
	CU_ASSERT_STRING_EQUAL(buf, "UNRECOVERED READ ERROR (sct 0x2 MEDIA ERROR, sc 0x81)");
	vpio_nvme_status_fmt(tiny, sizeof(tiny), st); /* truncated, terminated */
	CU_ASSERT_EQUAL(strlen(tiny), sizeof(tiny) - 1);
}

static void test_errno(void)
{
	CU_ASSERT_EQUAL(vpio_nvme_status_to_errno(0), 0);
	CU_ASSERT_EQUAL(vpio_nvme_status_to_errno(1), 0); /* phase only */
	CU_ASSERT_EQUAL(vpio_nvme_status_to_errno(VPIO_NVME_STATUS(0, VPIO_NVME_SC_INVALID_OPCODE)), -EOPNOTSUPP);
	CU_ASSERT_EQUAL(vpio_nvme_status_to_errno(VPIO_NVME_STATUS(0, VPIO_NVME_SC_INVALID_FIELD)), -EINVAL);
	CU_ASSERT_EQUAL(vpio_nvme_status_to_errno(VPIO_NVME_STATUS(0, VPIO_NVME_SC_LBA_OUT_OF_RANGE)), -ERANGE);
	CU_ASSERT_EQUAL(vpio_nvme_status_to_errno(VPIO_NVME_STATUS(0, VPIO_NVME_SC_DATA_TRANSFER_ERROR)), -EIO);
	CU_ASSERT_EQUAL(vpio_nvme_status_to_errno(VPIO_NVME_STATUS(2, VPIO_NVME_SC_COMPARE_FAILURE)), -EILSEQ);
	CU_ASSERT_EQUAL(vpio_nvme_status_to_errno(VPIO_NVME_STATUS(1, VPIO_NVME_SC_INVALID_LOG_PAGE)), -ENOENT);
	CU_ASSERT_EQUAL(vpio_nvme_status_to_errno(VPIO_NVME_STATUS(3, VPIO_NVME_SC_ABORTED_BY_HOST)), -ECANCELED);
	CU_ASSERT_EQUAL(vpio_nvme_status_to_errno(VPIO_NVME_STATUS(7, 0x42)), -EIO);
}

static void test_is_error(void)
{
	struct vpio_nvme_cpl c;

	memset(&c, 0, sizeof(c));
	c.status = 1; /* phase tag only */
	CU_ASSERT_FALSE(vpio_nvme_cpl_is_error(&c));
	c.status = 0x8000u | 1u; /* DNR without a code is not an error */
	CU_ASSERT_FALSE(vpio_nvme_cpl_is_error(&c));
	c.status = VPIO_NVME_STATUS(0, 1);
	CU_ASSERT_TRUE(vpio_nvme_cpl_is_error(&c));
	c.status = VPIO_NVME_STATUS(7, 0);
	CU_ASSERT_TRUE(vpio_nvme_cpl_is_error(&c));
	CU_ASSERT_TRUE(nvme_host_abort_status() != 0);
}

static int reg(void)
{
	VPIO_SUITE("nvme_status", NULL, NULL);
	VPIO_TEST(test_names);
	VPIO_TEST(test_fmt);
	VPIO_TEST(test_errno);
	VPIO_TEST(test_is_error);
	return 0;
}

int main(void)
{
	return vpio_test_run(reg);
}
