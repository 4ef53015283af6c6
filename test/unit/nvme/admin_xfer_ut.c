/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/nvme/nvme_admin_cmds.c: the bytes an admin command
 * moves by the specification, which size the driver's data buffers
 * (Identify 4 KiB whatever the caller's length, a log page NUMD dwords,
 * a feature its data structure), and the check that refuses a shorter
 * buffer for the asynchronous path.
 */
#include <errno.h>
#include <string.h>

#include "common/vpio_test.h"
#include "nvme/nvme_internal.h"

static struct vpio_nvme_cmd cmd(uint8_t opc, uint32_t cdw10, uint32_t cdw11)
{
	struct vpio_nvme_cmd c;

	memset(&c, 0, sizeof(c));
	c.opc = opc;
	c.cdw10 = cdw10;
	c.cdw11 = cdw11;
	return c;
}

static uint64_t xfer(uint8_t opc, uint32_t cdw10, uint32_t cdw11)
{
	struct vpio_nvme_cmd c = cmd(opc, cdw10, cdw11);

	return nvme_admin_xfer_len(&c);
}

static void test_sizes(void)
{
	/* Identify: always 4 KiB, whatever the CNS */
	CU_ASSERT_EQUAL(xfer(VPIO_NVME_OPC_IDENTIFY, VPIO_NVME_CNS_CTRLR, 0), 4096);
	CU_ASSERT_EQUAL(xfer(VPIO_NVME_OPC_IDENTIFY, VPIO_NVME_CNS_ACTIVE_NS_LIST, 0), 4096);
	/* Get Log Page: NUMDL (cdw10[31:16]) and NUMDU (cdw11[15:0]), 0-based */
	CU_ASSERT_EQUAL(xfer(VPIO_NVME_OPC_GET_LOG_PAGE, 127u << 16 | 2u, 0), 512);
	CU_ASSERT_EQUAL(xfer(VPIO_NVME_OPC_GET_LOG_PAGE, 0xffffu << 16, 1), 0x20000ull * 4u);
	CU_ASSERT_EQUAL(xfer(VPIO_NVME_OPC_GET_LOG_PAGE, 0, 0), 4);
	/* Features: the data structure of each FID, get and set */
	CU_ASSERT_EQUAL(xfer(VPIO_NVME_OPC_GET_FEATURES, VPIO_NVME_FEAT_LBA_RANGE_TYPE, 0), 4096);
	CU_ASSERT_EQUAL(xfer(VPIO_NVME_OPC_SET_FEATURES, VPIO_NVME_FEAT_LBA_RANGE_TYPE, 3), 4096);
	CU_ASSERT_EQUAL(xfer(VPIO_NVME_OPC_GET_FEATURES, VPIO_NVME_FEAT_AUTONOMOUS_POWER_STATE, 0), 256);
	CU_ASSERT_EQUAL(xfer(VPIO_NVME_OPC_GET_FEATURES, VPIO_NVME_FEAT_HOST_MEM_BUFFER, 0), 4096);
	CU_ASSERT_EQUAL(xfer(VPIO_NVME_OPC_SET_FEATURES, VPIO_NVME_FEAT_HOST_MEM_BUFFER, 1), 0);
	CU_ASSERT_EQUAL(xfer(VPIO_NVME_OPC_GET_FEATURES, VPIO_NVME_FEAT_TIMESTAMP, 0), 8);
	CU_ASSERT_EQUAL(xfer(VPIO_NVME_OPC_GET_FEATURES, VPIO_NVME_FEAT_HOST_BEHAVIOR_SUPPORT, 0), 512);
	CU_ASSERT_EQUAL(xfer(VPIO_NVME_OPC_GET_FEATURES, VPIO_NVME_FEAT_HOST_IDENTIFIER, 0), 8);
	CU_ASSERT_EQUAL(xfer(VPIO_NVME_OPC_GET_FEATURES, VPIO_NVME_FEAT_HOST_IDENTIFIER, 1), 16);
	CU_ASSERT_EQUAL(xfer(VPIO_NVME_OPC_GET_FEATURES, VPIO_NVME_FEAT_NUMBER_OF_QUEUES, 0), 0);
	CU_ASSERT_EQUAL(xfer(VPIO_NVME_OPC_SET_FEATURES, VPIO_NVME_FEAT_ARBITRATION, 0), 0);
	/* the FID is cdw10[7:0]; SEL (get) and SV (set) are above it */
	CU_ASSERT_EQUAL(xfer(VPIO_NVME_OPC_GET_FEATURES, 3u << 8 | VPIO_NVME_FEAT_TIMESTAMP, 0), 8);
	CU_ASSERT_EQUAL(xfer(VPIO_NVME_OPC_SET_FEATURES, 1u << 31 | VPIO_NVME_FEAT_TIMESTAMP, 0), 8);
	/* vendor specific and reserved FIDs: not known */
	CU_ASSERT_EQUAL(xfer(VPIO_NVME_OPC_GET_FEATURES, 0xc0, 0), NVME_XFER_UNKNOWN);
	CU_ASSERT_EQUAL(xfer(VPIO_NVME_OPC_GET_FEATURES, 0x00, 0), NVME_XFER_UNKNOWN);
	/* other commands with sizes in their dwords */
	CU_ASSERT_EQUAL(xfer(VPIO_NVME_OPC_FIRMWARE_IMAGE_DOWNLOAD, 1023, 0), 4096);
	CU_ASSERT_EQUAL(xfer(VPIO_NVME_OPC_SECURITY_RECEIVE, 0, 2048), 2048);
	CU_ASSERT_EQUAL(xfer(VPIO_NVME_OPC_NS_MANAGEMENT, 0, 0), 4096);
	CU_ASSERT_EQUAL(xfer(VPIO_NVME_OPC_NS_MANAGEMENT, 1, 0), 0);
	CU_ASSERT_EQUAL(xfer(VPIO_NVME_OPC_ABORT, 0, 0), 0);
	/* queues and doorbell buffer carry their own addresses; vendor: unknown */
	CU_ASSERT_EQUAL(xfer(VPIO_NVME_OPC_CREATE_IO_SQ, 0, 0), NVME_XFER_UNKNOWN);
	CU_ASSERT_EQUAL(xfer(VPIO_NVME_OPC_DOORBELL_BUFFER_CONFIG, 0, 0), NVME_XFER_UNKNOWN);
	CU_ASSERT_EQUAL(xfer(0xc5, 0, 0), NVME_XFER_UNKNOWN);
}

static void test_check_buf(void)
{
	struct vpio_nvme_ctrlr c;
	struct vpio_nvme_cmd id = cmd(VPIO_NVME_OPC_IDENTIFY, VPIO_NVME_CNS_CTRLR, 0);
	struct vpio_nvme_cmd vendor = cmd(0xc1, 0, 0);

	memset(&c, 0, sizeof(c));
	strcpy(c.name, "ut:nvme");
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(nvme_admin_check_buf(&c, &id, 4096), 0);
	CU_ASSERT_EQUAL(nvme_admin_check_buf(&c, &id, 8192), 0);
	CU_ASSERT_EQUAL(nvme_admin_check_buf(&c, &vendor, 1), 0);
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 0);
	CU_ASSERT_EQUAL(nvme_admin_check_buf(&c, &id, 100), -EINVAL);
	CU_ASSERT(vpio_test_log_has("moves 4096 bytes, but its buffer has 100"));
	/* no buffer: the device would write to address 0 */
	CU_ASSERT_EQUAL(nvme_admin_check_buf(&c, &id, 0), -EINVAL);
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 2);
	/* no buffer, but the caller's own data pointer: not ours to check */
	id.dptr.prp.prp1 = 0x10000;
	CU_ASSERT_EQUAL(nvme_admin_check_buf(&c, &id, 0), 0);
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 2);
	vpio_test_log_release();
}

static int reg(void)
{
	VPIO_SUITE("nvme_admin_xfer", NULL, NULL);
	VPIO_TEST(test_sizes);
	VPIO_TEST(test_check_buf);
	return 0;
}

int main(void)
{
	return vpio_test_run(reg);
}
