/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the I/O commands (lib/nvme/nvme_ns_cmd.c) on a
 * fake qpair: splitting at the transfer size (commands, LBAs, block counts,
 * data pointers), completing once with the first error, all-or-nothing when
 * the qpair is short of slots, write zeroes split at 65536 blocks, and
 * every bad argument (one error line each, nothing submitted).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/vpio_test.h"
#include "nvme_ut_fake.h"

static uint8_t *g_buf;
#define BUF_LEN (4u << 20)

static int setup(void)
{
	g_buf = aligned_alloc(4096, BUF_LEN);
	return g_buf == NULL;
}

static int teardown(void)
{
	free(g_buf);
	return 0;
}

static uint64_t cmd_lba(const struct vpio_nvme_cmd *c)
{
	return c->cdw10 | (uint64_t)c->cdw11 << 32;
}

/* Complete every submitted command in order, the k-th with status st[k]. */
static void complete_all(struct ut_qpair *u, uint16_t *tail, uint8_t *phase, uint16_t first, uint16_t n,
			 const uint16_t *st)
{
	uint16_t i;

	for (i = 0; i < n; i++)
		ut_post(u, tail, phase, u->sq[(first + i) % u->qp.num_entries].cid, u->qp.sq_rung, st ? st[i] : 0);
	nvme_cq_drain(&u->qp, 0);
}

static void test_split_read(void)
{
	struct ut_qpair *u = ut_qpair_new(64, 128u << 10, 9, 1u << 20);
	struct ut_done d = { 0, 0 };
	uint16_t tail = 0, st[8] = { 0 };
	uint8_t phase = 1;
	uint32_t i;

	/* 1 MiB at 512-byte offset: 8 commands of 256 blocks */
	CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_read(&u->ns, &u->qp, g_buf + 512, 1000, 2048, ut_done_cb, &d, 0), 0);
	CU_ASSERT_EQUAL(u->qp.sq_tail, 8);
	CU_ASSERT_EQUAL(u->qp.outstanding, 8);
	CU_ASSERT_EQUAL(u->qp.stats.sq_doorbells, 1); /* one per request, not per part */
	for (i = 0; i < 8; i++) {
		CU_ASSERT_EQUAL(u->sq[i].opc, VPIO_NVME_OPC_READ);
		CU_ASSERT_EQUAL(u->sq[i].nsid, 1);
		CU_ASSERT_EQUAL(cmd_lba(&u->sq[i]), 1000 + 256 * i);
		CU_ASSERT_EQUAL(u->sq[i].cdw12 & 0xffffu, 255);
		CU_ASSERT_EQUAL(u->sq[i].dptr.prp.prp1, (uintptr_t)g_buf + 512 + i * (128u << 10));
	}
	st[5] = VPIO_NVME_STATUS(2, VPIO_NVME_SC_UNRECOVERED_READ_ERROR);
	st[6] = VPIO_NVME_STATUS(0, VPIO_NVME_SC_DATA_TRANSFER_ERROR);
	complete_all(u, &tail, &phase, 0, 8, st);
	CU_ASSERT_EQUAL(d.calls, 1);
	CU_ASSERT_EQUAL(d.status, st[5]);
	CU_ASSERT_EQUAL(u->qp.outstanding, 0);
	/* unsplit requests report their own status */
	CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_write(&u->ns, &u->qp, g_buf, 7, 8, ut_done_cb, &d, VPIO_NVME_IO_FUA), 0);
	CU_ASSERT_EQUAL(u->sq[8].cdw12, 7u | VPIO_NVME_RW_FUA);
	complete_all(u, &tail, &phase, 8, 1, NULL);
	CU_ASSERT_EQUAL(d.calls, 2);
	CU_ASSERT_EQUAL(d.status, 0);
	ut_qpair_free(u);
}

static void test_split_vector(void)
{
	struct ut_qpair *u = ut_qpair_new(64, 64u << 10, 12, 1u << 20);
	struct ut_done d = { 0, 0 };
	struct iovec v[3] = { { g_buf, 100u << 10 }, { g_buf + (1u << 20), 20u << 10 }, { g_buf + (2u << 20), 8192 } };
	uint16_t tail = 0;
	uint8_t phase = 1;

	/* 128 KiB of 4 KiB blocks in 64 KiB commands: cuts inside elements */
	CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_writev(&u->ns, &u->qp, v, 3, 10, ut_done_cb, &d, 0), 0);
	CU_ASSERT_EQUAL(u->qp.sq_tail, 2);
	CU_ASSERT_EQUAL(cmd_lba(&u->sq[0]), 10);
	CU_ASSERT_EQUAL(cmd_lba(&u->sq[1]), 26);
	CU_ASSERT_EQUAL(u->sq[1].cdw12 & 0xffffu, 15);
	CU_ASSERT_EQUAL(u->sq[1].dptr.prp.prp1, (uintptr_t)g_buf + (64u << 10));
	CU_ASSERT_EQUAL(u->sq[1].dptr.prp.prp2, u->reqs[u->sq[1].cid & u->qp.cid_mask].list_iova);
	complete_all(u, &tail, &phase, 0, 2, NULL);
	CU_ASSERT_EQUAL(d.calls, 1);
	ut_qpair_free(u);
}

static unsigned free_count(const struct vpio_nvme_qpair *qp)
{
	const struct nvme_req *r;
	unsigned n = 0;

	for (r = qp->free_reqs; r != NULL; r = r->next)
		n++;
	return n;
}

static void test_split_all_or_nothing(void)
{
	struct ut_qpair *u = ut_qpair_new(8, 64u << 10, 9, 1u << 20);
	struct ut_done d = { 0, 0 };
	uint16_t tail = 0;
	uint8_t phase = 1;
	int i;

	for (i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_read(&u->ns, &u->qp, g_buf, 0, 8, ut_done_cb, &d, 0), 0);
	/* 5 parts needed, 4 requests left: nothing is submitted, no log */
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_read(&u->ns, &u->qp, g_buf, 0, 640, ut_done_cb, &d, 0), -EAGAIN);
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 0);
	vpio_test_log_release();
	CU_ASSERT_EQUAL(u->qp.sq_tail, 3);
	CU_ASSERT_EQUAL(u->qp.outstanding, 3);
	CU_ASSERT_EQUAL(free_count(&u->qp), 4);
	CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_read(&u->ns, &u->qp, g_buf, 0, 512, ut_done_cb, &d, 0), 0); /* 4 fit */
	CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_read(&u->ns, &u->qp, g_buf, 0, 1, ut_done_cb, &d, 0), -EAGAIN);
	complete_all(u, &tail, &phase, 0, 7, NULL);
	CU_ASSERT_EQUAL(d.calls, 4);
	CU_ASSERT_EQUAL(u->qp.outstanding, 0);
	ut_qpair_free(u);
}

/* A request that needs more commands than the qpair has requests can never
 * fit: -E2BIG and one line at once, not -EAGAIN for ever; the largest one
 * that fits is taken; -EAGAIN stays for what fits once the qpair drains. */
static void test_too_big(void)
{
	struct ut_qpair *u = ut_qpair_new(2, 128u << 10, 9, 1ull << 32); /* depth 1 */
	struct ut_done d = { 0, 0 };
	uint16_t tail = 0;
	uint8_t phase = 1;

	CU_ASSERT_EQUAL(vpio_nvme_qpair_get_max_io_bytes(&u->qp, &u->ns), 128u << 10);
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_read(&u->ns, &u->qp, g_buf, 0, 512, ut_done_cb, &d, 0), -E2BIG);
	CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_read(&u->ns, &u->qp, g_buf, 0, 257, ut_done_cb, &d, 0), -E2BIG);
	CU_ASSERT(vpio_test_log_has("more commands than the 1 this qpair holds"));
	CU_ASSERT(vpio_test_log_has("at most 256 blocks per call"));
	CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_write_zeroes(&u->ns, &u->qp, 0, 65537, ut_done_cb, &d, 0), -E2BIG);
	CU_ASSERT(vpio_test_log_has("at most 65536 blocks per call"));
	CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_write_zeroes(&u->ns, &u->qp, 0, 1u << 31, ut_done_cb, &d, 0), -E2BIG);
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 4);
	vpio_test_log_release();
	CU_ASSERT_EQUAL(u->qp.sq_tail, 0);
	CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_read(&u->ns, &u->qp, g_buf, 0, 256, ut_done_cb, &d, 0), 0);
	vpio_test_log_capture(); /* full now, fits later: -EAGAIN, not logged */
	CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_read(&u->ns, &u->qp, g_buf, 0, 256, ut_done_cb, &d, 0), -EAGAIN);
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 0);
	vpio_test_log_release();
	complete_all(u, &tail, &phase, 0, 1, NULL);
	CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_write_zeroes(&u->ns, &u->qp, 0, 65536, ut_done_cb, &d, 0), 0);
	complete_all(u, &tail, &phase, 1, 1, NULL);
	CU_ASSERT_EQUAL(d.calls, 2);
	ut_qpair_free(u);
}

/* With SGLs a part also ends when its descriptor list is full, so a vector
 * may need more commands than its size says: found while building (the
 * whole pool used and still not done), -E2BIG too. */
static void test_too_big_sgl(void)
{
	struct ut_qpair *u = ut_qpair_new(4, 1u << 20, 9, 1u << 20); /* depth 3 */
	static struct iovec v[1024];
	struct ut_done d = { 0, 0 };
	int i;

	u->qp.dptr.sgl_supported = true;
	for (i = 0; i < 1024; i++) /* 512 KiB in pieces no PRP can describe, never merged */
		v[i] = (struct iovec){ g_buf + (size_t)i * 1024u, 512 };
	CU_ASSERT(vpio_nvme_qpair_get_max_io_bytes(&u->qp, &u->ns) >= 512u << 10);
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_readv(&u->ns, &u->qp, v, 1024, 0, ut_done_cb, &d, 0), -E2BIG);
	CU_ASSERT(vpio_test_log_has("more commands than the 3 this qpair holds"));
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 1);
	vpio_test_log_release();
	CU_ASSERT_EQUAL(u->qp.sq_tail, 0);
	CU_ASSERT_EQUAL(free_count(&u->qp), 3);
	CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_readv(&u->ns, &u->qp, v, 768, 0, ut_done_cb, &d, 0), 0); /* 3 parts */
	CU_ASSERT_EQUAL(u->qp.sq_tail, 3);
	ut_qpair_free(u);
}

static void test_write_zeroes_split(void)
{
	struct ut_qpair *u = ut_qpair_new(16, 64u << 10, 9, 1u << 30);
	struct ut_done d = { 0, 0 };
	uint16_t tail = 0;
	uint8_t phase = 1;

	CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_write_zeroes(&u->ns, &u->qp, 5, 200000, ut_done_cb, &d, 0), 0);
	CU_ASSERT_EQUAL(u->qp.sq_tail, 4);
	CU_ASSERT_EQUAL(u->sq[0].opc, VPIO_NVME_OPC_WRITE_ZEROES);
	CU_ASSERT_EQUAL(u->sq[0].cdw12, 65535);
	CU_ASSERT_EQUAL(cmd_lba(&u->sq[3]), 5 + 3 * 65536);
	CU_ASSERT_EQUAL(u->sq[3].cdw12, 200000 - 3 * 65536 - 1);
	CU_ASSERT_EQUAL(u->sq[3].dptr.prp.prp1, 0);
	complete_all(u, &tail, &phase, 0, 4, NULL);
	CU_ASSERT_EQUAL(d.calls, 1);
	ut_qpair_free(u);
}

static void test_deallocate_flush_raw(void)
{
	struct ut_qpair *u = ut_qpair_new(16, 64u << 10, 9, 1000);
	struct vpio_nvme_dsm_range r[2] = { { 0, 8, 0 }, { 0, 16, 100 } };
	struct vpio_nvme_cmd raw;
	struct ut_done d = { 0, 0 };
	struct nvme_req *req;

	CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_deallocate(&u->ns, &u->qp, r, 2, ut_done_cb, &d), 0);
	req = &u->reqs[u->sq[0].cid & u->qp.cid_mask];
	CU_ASSERT_EQUAL(u->sq[0].opc, VPIO_NVME_OPC_DATASET_MANAGEMENT);
	CU_ASSERT_EQUAL(u->sq[0].cdw10, 1);
	CU_ASSERT_EQUAL(u->sq[0].cdw11, VPIO_NVME_DSM_ATTR_DEALLOCATE);
	CU_ASSERT_EQUAL(u->sq[0].dptr.prp.prp1, req->list_iova);
	CU_ASSERT_EQUAL(memcmp(req->list, r, sizeof(r)), 0);
	CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_flush(&u->ns, &u->qp, ut_done_cb, &d), 0);
	CU_ASSERT_EQUAL(u->sq[1].opc, VPIO_NVME_OPC_FLUSH);
	memset(&raw, 0, sizeof(raw));
	raw.opc = VPIO_NVME_OPC_READ;
	raw.nsid = 1;
	raw.cid = 0x7777;
	raw.cdw12 = 7;
	CU_ASSERT_EQUAL(vpio_nvme_qpair_cmd_raw(&u->qp, &raw, g_buf, 4096, ut_done_cb, &d), 0);
	CU_ASSERT_EQUAL(u->sq[2].cdw12, 7);
	CU_ASSERT_NOT_EQUAL(u->sq[2].cid, 0x7777);
	CU_ASSERT_EQUAL(u->sq[2].dptr.prp.prp1, (uintptr_t)g_buf);
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_nvme_qpair_cmd_raw(&u->qp, &raw, g_buf, 128u << 10, ut_done_cb, &d), -EINVAL);
	r[1].length = 901; /* 100 + 901 > 1000 */
	CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_deallocate(&u->ns, &u->qp, r, 2, ut_done_cb, &d), -ERANGE);
	CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_deallocate(&u->ns, &u->qp, r, 0, ut_done_cb, &d), -EINVAL);
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 3);
	vpio_test_log_release();
	CU_ASSERT_EQUAL(u->qp.sq_tail, 3);
	ut_qpair_free(u);
}

/* Each bad call: the errno, exactly one error line naming the problem,
 * nothing submitted. */
static void expect_bad(struct ut_qpair *u, int rc, int want, const char *text)
{
	CU_ASSERT_EQUAL(rc, want);
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 1);
	CU_ASSERT(vpio_test_log_has(text));
	if (rc != want || !vpio_test_log_has(text))
		fprintf(stderr, "\n  got %d, log: %s", rc, vpio_test_log_buf.text);
	CU_ASSERT_EQUAL(u->qp.sq_tail, 0);
	CU_ASSERT_EQUAL(u->qp.outstanding, 0);
	vpio_test_log_capture();
}

static void test_bad_input(void)
{
	struct ut_qpair *u = ut_qpair_new(16, 64u << 10, 9, 1000);
	struct ut_qpair *other = ut_qpair_new(16, 64u << 10, 9, 1000);
	struct vpio_nvme_ns *ns = &u->ns;
	struct vpio_nvme_qpair *qp = &u->qp;
	struct iovec v[2] = { { g_buf, 4096 }, { g_buf + 8192, 100 } };
	struct iovec wrap[2] = { { g_buf, SIZE_MAX - 511u }, { g_buf, 1024 } }; /* 2^64 + 512 */
	struct vpio_nvme_dsm_range r = { 0, 8, 0 };
	struct vpio_nvme_cmd raw;
	struct ut_done d = { 0, 0 };

	vpio_test_log_capture();
	expect_bad(u, vpio_nvme_ns_cmd_read(ns, qp, g_buf, 999, 2, ut_done_cb, &d, 0), -ERANGE, "beyond namespace");
	expect_bad(u, vpio_nvme_ns_cmd_read(ns, qp, g_buf, 1000, 1, ut_done_cb, &d, 0), -ERANGE, "beyond namespace");
	expect_bad(u, vpio_nvme_ns_cmd_read(ns, qp, g_buf, UINT64_MAX, 2, ut_done_cb, &d, 0), -ERANGE, "beyond");
	expect_bad(u, vpio_nvme_ns_cmd_read(ns, qp, g_buf, 0, 0, ut_done_cb, &d, 0), -EINVAL, "zero length");
	expect_bad(u, vpio_nvme_ns_cmd_readv(ns, qp, v, 2, 0, ut_done_cb, &d, 0), -EINVAL, "not a multiple");
	expect_bad(u, vpio_nvme_ns_cmd_readv(ns, qp, v, 0, 0, ut_done_cb, &d, 0), -EINVAL, "iovcnt");
	expect_bad(u, vpio_nvme_ns_cmd_readv(ns, qp, wrap, 2, 0, ut_done_cb, &d, 0), -EINVAL, "more than 2^64");
	memset(&raw, 0, sizeof(raw));
	raw.opc = VPIO_NVME_OPC_DATASET_MANAGEMENT;
	raw.nsid = 1;
	raw.cdw10 = 1; /* two ranges: the device reads 32 bytes */
	expect_bad(u, vpio_nvme_qpair_cmd_raw(qp, &raw, g_buf, 16, ut_done_cb, &d), -EINVAL, "moves 32 bytes");
	expect_bad(u, vpio_nvme_ns_cmd_read(ns, qp, NULL, 0, 1, ut_done_cb, &d, 0), -EINVAL, "NULL");
	expect_bad(u, vpio_nvme_ns_cmd_read(ns, qp, g_buf + 1, 0, 1, ut_done_cb, &d, 0), -EINVAL, "aligned");
	u->xlate.mode = UT_XLATE_NONE;
	expect_bad(u, vpio_nvme_ns_cmd_write(ns, qp, g_buf, 0, 1, ut_done_cb, &d, 0), -EFAULT, "not registered");
	u->xlate.mode = UT_XLATE_IDENTITY;
	expect_bad(u, vpio_nvme_ns_cmd_read(ns, qp, g_buf, 0, 1, ut_done_cb, &d, 0x1234), -EINVAL, "io_flags");
	expect_bad(u, vpio_nvme_ns_cmd_read(&other->ns, qp, g_buf, 0, 1, ut_done_cb, &d, 0), -EINVAL,
		   "another controller");
	expect_bad(u, vpio_nvme_ns_cmd_read(NULL, qp, g_buf, 0, 1, ut_done_cb, &d, 0), -EINVAL, "NULL");
	nvme_ns_set_active(ns, false);
	expect_bad(u, vpio_nvme_ns_cmd_read(ns, qp, g_buf, 0, 1, ut_done_cb, &d, 0), -ENXIO, "not active");
	expect_bad(u, vpio_nvme_ns_cmd_writev(ns, qp, v, 1, 0, ut_done_cb, &d, 0), -ENXIO, "not active");
	expect_bad(u, vpio_nvme_ns_cmd_compare(ns, qp, g_buf, 0, 1, ut_done_cb, &d, 0), -ENXIO, "not active");
	expect_bad(u, vpio_nvme_ns_cmd_write_zeroes(ns, qp, 0, 1, ut_done_cb, &d, 0), -ENXIO, "not active");
	expect_bad(u, vpio_nvme_ns_cmd_flush(ns, qp, ut_done_cb, &d), -ENXIO, "not active");
	expect_bad(u, vpio_nvme_ns_cmd_deallocate(ns, qp, &r, 1, ut_done_cb, &d), -ENXIO, "not active");
	nvme_ns_set_active(ns, true);
	expect_bad(u, vpio_nvme_ns_cmd_flush(&other->ns, qp, ut_done_cb, &d), -EINVAL, "another controller");
	expect_bad(u, vpio_nvme_ns_cmd_deallocate(&other->ns, qp, &r, 1, ut_done_cb, &d), -EINVAL,
		   "another controller");
	expect_bad(u, vpio_nvme_ns_cmd_writev(&other->ns, qp, v, 1, 0, ut_done_cb, &d, 0), -EINVAL,
		   "another controller");
	ns->md_size = 8;
	nvme_ns_set_active(ns, true);
	expect_bad(u, vpio_nvme_ns_cmd_read(ns, qp, g_buf, 0, 1, ut_done_cb, &d, 0), -ENOTSUP, "metadata");
	ns->md_size = 0;
	nvme_ns_set_active(ns, true);
	u->ctrlr->cdata.oncs = 0;
	expect_bad(u, vpio_nvme_ns_cmd_compare(ns, qp, g_buf, 0, 1, ut_done_cb, &d, 0), -ENOTSUP, "not support");
	expect_bad(u, vpio_nvme_ns_cmd_write_zeroes(ns, qp, 0, 1, ut_done_cb, &d, 0), -ENOTSUP, "not support");
	vpio_test_log_release();
	ut_qpair_free(other);
	ut_qpair_free(u);
}

/* NULL handles at every public entry point: -EINVAL and one line, never a
 * crash; nothing submitted on the qpair. */
static void test_null_handles(void)
{
	struct ut_qpair *u = ut_qpair_new(16, 64u << 10, 9, 1000);
	struct vpio_nvme_ns *ns = &u->ns;
	struct vpio_nvme_qpair *qp = &u->qp;
	struct iovec v = { g_buf, 512 };
	struct vpio_nvme_dsm_range r = { 0, 8, 0 };
	struct vpio_nvme_cmd raw;

	memset(&raw, 0, sizeof(raw));
	raw.opc = VPIO_NVME_OPC_FLUSH;
	vpio_test_log_capture();
	/* NULL qpair */
	expect_bad(u, vpio_nvme_ns_cmd_read(ns, NULL, g_buf, 0, 1, NULL, NULL, 0), -EINVAL, "qpair is NULL");
	expect_bad(u, vpio_nvme_ns_cmd_write(ns, NULL, g_buf, 0, 1, NULL, NULL, 0), -EINVAL, "qpair is NULL");
	expect_bad(u, vpio_nvme_ns_cmd_compare(ns, NULL, g_buf, 0, 1, NULL, NULL, 0), -EINVAL, "qpair is NULL");
	expect_bad(u, vpio_nvme_ns_cmd_readv(ns, NULL, &v, 1, 0, NULL, NULL, 0), -EINVAL, "qpair is NULL");
	expect_bad(u, vpio_nvme_ns_cmd_writev(ns, NULL, &v, 1, 0, NULL, NULL, 0), -EINVAL, "qpair is NULL");
	expect_bad(u, vpio_nvme_ns_cmd_comparev(ns, NULL, &v, 1, 0, NULL, NULL, 0), -EINVAL, "qpair is NULL");
	expect_bad(u, vpio_nvme_ns_cmd_write_zeroes(ns, NULL, 0, 1, NULL, NULL, 0), -EINVAL, "qpair is NULL");
	expect_bad(u, vpio_nvme_ns_cmd_flush(ns, NULL, NULL, NULL), -EINVAL, "qpair is NULL");
	expect_bad(u, vpio_nvme_ns_cmd_deallocate(ns, NULL, &r, 1, NULL, NULL), -EINVAL, "qpair is NULL");
	expect_bad(u, vpio_nvme_qpair_cmd_raw(NULL, &raw, NULL, 0, NULL, NULL), -EINVAL, "qpair is NULL");
	expect_bad(u, vpio_nvme_qpair_process_completions(NULL, 0), -EINVAL, "qpair is NULL");
	expect_bad(u, vpio_nvme_qpair_flush(NULL), -EINVAL, "qpair is NULL");
	expect_bad(u, vpio_nvme_ctrlr_free_io_qpair(NULL), -EINVAL, "qpair is NULL");
	/* NULL namespace, NULL everything */
	expect_bad(u, vpio_nvme_ns_cmd_write(NULL, qp, g_buf, 0, 1, NULL, NULL, 0), -EINVAL, "namespace is NULL");
	expect_bad(u, vpio_nvme_ns_cmd_compare(NULL, qp, g_buf, 0, 1, NULL, NULL, 0), -EINVAL, "namespace is NULL");
	expect_bad(u, vpio_nvme_ns_cmd_readv(NULL, qp, &v, 1, 0, NULL, NULL, 0), -EINVAL, "namespace is NULL");
	expect_bad(u, vpio_nvme_ns_cmd_writev(NULL, qp, &v, 1, 0, NULL, NULL, 0), -EINVAL, "namespace is NULL");
	expect_bad(u, vpio_nvme_ns_cmd_comparev(NULL, qp, &v, 1, 0, NULL, NULL, 0), -EINVAL, "namespace is NULL");
	expect_bad(u, vpio_nvme_ns_cmd_write_zeroes(NULL, qp, 0, 1, NULL, NULL, 0), -EINVAL, "namespace is NULL");
	expect_bad(u, vpio_nvme_ns_cmd_flush(NULL, qp, NULL, NULL), -EINVAL, "namespace is NULL");
	expect_bad(u, vpio_nvme_ns_cmd_deallocate(NULL, qp, &r, 1, NULL, NULL), -EINVAL, "namespace is NULL");
	expect_bad(u, vpio_nvme_ns_cmd_read(NULL, NULL, NULL, 0, 1, NULL, NULL, 0), -EINVAL, "NULL");
	expect_bad(u, vpio_nvme_ctrlr_process_admin_completions(NULL), -EINVAL, "controller is NULL");
	vpio_test_log_release();
	ut_qpair_free(u);
}

static void test_failed_and_detached(void)
{
	struct ut_qpair *u = ut_qpair_new(16, 64u << 10, 9, 1000);
	struct ut_done d = { 0, 0 };

	CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_read(&u->ns, &u->qp, g_buf, 0, 1, ut_done_cb, &d, 0), 0);
	/* the controller fails: the outstanding request ends, then -ENXIO */
	nvme_ctrlr_set_state(u->ctrlr, VPIO_NVME_CTRLR_FAILED);
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_read(&u->ns, &u->qp, g_buf, 0, 1, ut_done_cb, &d, 0), -ENXIO);
	CU_ASSERT_EQUAL(d.calls, 1);
	CU_ASSERT_EQUAL(d.status, nvme_host_abort_status());
	CU_ASSERT(vpio_test_log_has("vpio_nvme_ctrlr_reset"));
	/* detached: -ENODEV, one line each time */
	nvme_ctrlr_set_state(u->ctrlr, VPIO_NVME_CTRLR_DETACHED);
	CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_write(&u->ns, &u->qp, g_buf, 0, 1, ut_done_cb, &d, 0), -ENODEV);
	CU_ASSERT_EQUAL(vpio_nvme_qpair_flush(&u->qp), -ENODEV);
	CU_ASSERT(vpio_test_log_has("detached"));
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 3);
	vpio_test_log_release();
	CU_ASSERT_EQUAL(d.calls, 1);
	ut_qpair_free(u);
}

struct thread_arg {
	struct ut_qpair *u;
	int rc;
};

static void *other_thread(void *p)
{
	struct thread_arg *a = p;

	a->rc = vpio_nvme_ns_cmd_read(&a->u->ns, &a->u->qp, g_buf, 0, 1, NULL, NULL, 0);
	return NULL;
}

static void test_second_thread(void)
{
	struct ut_qpair *u = ut_qpair_new(16, 64u << 10, 9, 1000);
	struct thread_arg a = { u, 0 };
	pthread_t t;

	u->qp.check_thread = true;
	CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_read(&u->ns, &u->qp, g_buf, 0, 1, NULL, NULL, 0), 0);
	vpio_test_log_capture();
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, other_thread, &a), 0);
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(a.rc, -EPERM);
	CU_ASSERT(vpio_test_log_has("second thread"));
	vpio_test_log_release();
	CU_ASSERT_EQUAL(u->qp.sq_tail, 1);
	ut_qpair_free(u);
}

static int reg(void)
{
	VPIO_SUITE("nvme_io", setup, teardown);
	VPIO_TEST(test_split_read);
	VPIO_TEST(test_split_vector);
	VPIO_TEST(test_split_all_or_nothing);
	VPIO_TEST(test_too_big);
	VPIO_TEST(test_too_big_sgl);
	VPIO_TEST(test_write_zeroes_split);
	VPIO_TEST(test_deallocate_flush_raw);
	VPIO_TEST(test_bad_input);
	VPIO_TEST(test_null_handles);
	VPIO_TEST(test_failed_and_detached);
	VPIO_TEST(test_second_thread);
	return 0;
}

int main(void)
{
	return vpio_test_run(reg);
}
