/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the data-pointer builders (lib/nvme/nvme_dptr.c): PRPs
 * across page boundaries, PRP lists up to their limit, vectors PRPs can and
 * cannot describe, SGLs (single descriptor, segment lists, merging, a full
 * list cut at a block boundary), translation failures and alignment.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/vpio_test.h"
#include "nvme_ut_fake.h"

static struct ut_xlate g_x;
static struct nvme_dptr_env g_env;
static uint64_t g_list[NVME_PRP_LIST_MAX];
static const uint64_t LIST_IOVA = 0xabc000;
static uint8_t *g_buf; /* 4 MiB, 4 KiB aligned */
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

static void env_reset(enum ut_xlate_mode mode, bool sgl, uint8_t sgl_mode)
{
	memset(&g_x, 0, sizeof(g_x));
	g_x.mode = mode;
	memset(&g_env, 0, sizeof(g_env));
	g_env.xlate = ut_xlate_fn;
	g_env.xlate_ctx = &g_x;
	g_env.page_shift = 12;
	g_env.sgl_supported = sgl;
	g_env.sgl_mode = sgl_mode;
	memset(g_list, 0xee, sizeof(g_list));
}

/* PRP for one contiguous buffer. */
static int64_t prp1buf(void *p, uint64_t len, struct vpio_nvme_cmd *cmd)
{
	struct iovec iov = { p, len };
	struct nvme_iov_cur cur = { &iov, 1, 0, 0 };

	memset(cmd, 0xff, sizeof(*cmd));
	return nvme_build_prp(&g_env, &cur, len, g_list, LIST_IOVA, cmd);
}

static void test_prp_one_page(void)
{
	struct vpio_nvme_cmd cmd;

	env_reset(UT_XLATE_IDENTITY, false, 0);
	CU_ASSERT_EQUAL(prp1buf(g_buf, 4096, &cmd), 4096);
	CU_ASSERT_EQUAL(cmd.flags, VPIO_NVME_PSDT_PRP);
	CU_ASSERT_EQUAL(cmd.dptr.prp.prp1, (uintptr_t)g_buf);
	CU_ASSERT_EQUAL(cmd.dptr.prp.prp2, 0);
	/* 512 bytes inside a page */
	CU_ASSERT_EQUAL(prp1buf(g_buf + 1024, 512, &cmd), 512);
	CU_ASSERT_EQUAL(cmd.dptr.prp.prp1, (uintptr_t)g_buf + 1024);
	CU_ASSERT_EQUAL(cmd.dptr.prp.prp2, 0);
}

static void test_prp_page_crossing(void)
{
	struct vpio_nvme_cmd cmd;

	env_reset(UT_XLATE_IDENTITY, false, 0);
	/* 4 KiB starting at 512: two pages, PRP2 = second page */
	CU_ASSERT_EQUAL(prp1buf(g_buf + 512, 4096, &cmd), 4096);
	CU_ASSERT_EQUAL(cmd.dptr.prp.prp1, (uintptr_t)g_buf + 512);
	CU_ASSERT_EQUAL(cmd.dptr.prp.prp2, (uintptr_t)g_buf + 4096);
	/* 8 KiB aligned: two pages */
	CU_ASSERT_EQUAL(prp1buf(g_buf, 8192, &cmd), 8192);
	CU_ASSERT_EQUAL(cmd.dptr.prp.prp2, (uintptr_t)g_buf + 4096);
	/* 8 KiB at 4 bytes: three pages -> list */
	CU_ASSERT_EQUAL(prp1buf(g_buf + 4, 8192, &cmd), 8192);
	CU_ASSERT_EQUAL(cmd.dptr.prp.prp1, (uintptr_t)g_buf + 4);
	CU_ASSERT_EQUAL(cmd.dptr.prp.prp2, LIST_IOVA);
	CU_ASSERT_EQUAL(g_list[0], (uintptr_t)g_buf + 4096);
	CU_ASSERT_EQUAL(g_list[1], (uintptr_t)g_buf + 8192);
	CU_ASSERT_EQUAL(g_list[2], 0xeeeeeeeeeeeeeeeeull); /* nothing more written */
}

static void test_prp_list_limits(void)
{
	struct vpio_nvme_cmd cmd;
	uint32_t i;

	env_reset(UT_XLATE_IDENTITY, false, 0);
	/* 2 MiB aligned: 512 pages, 511 in the list */
	CU_ASSERT_EQUAL(prp1buf(g_buf, 2u << 20, &cmd), 2u << 20);
	CU_ASSERT_EQUAL(cmd.dptr.prp.prp2, LIST_IOVA);
	for (i = 0; i < 511; i++)
		CU_ASSERT_EQUAL(g_list[i], (uintptr_t)g_buf + (i + 1u) * 4096u);
	/* 2 MiB at an offset: 513 pages, a full list of 512 and no chaining */
	CU_ASSERT_EQUAL(prp1buf(g_buf + 2048, 2u << 20, &cmd), 2u << 20);
	CU_ASSERT_EQUAL(g_list[511], (uintptr_t)g_buf + 512u * 4096u);
	/* one page more does not fit in one list */
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(prp1buf(g_buf + 2048, (2u << 20) + 4096, &cmd), -E2BIG);
	CU_ASSERT(vpio_test_log_has("PRP entries"));
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 1);
	vpio_test_log_release();
}

static void test_prp_scattered_iova(void)
{
	struct vpio_nvme_cmd cmd;

	env_reset(UT_XLATE_SCATTER, false, 0);
	CU_ASSERT_EQUAL(prp1buf(g_buf + 100 * 4, 3 * 4096, &cmd), 3 * 4096);
	CU_ASSERT_EQUAL(cmd.dptr.prp.prp1, ut_iova(&g_x, g_buf + 400));
	CU_ASSERT_EQUAL(cmd.dptr.prp.prp2, LIST_IOVA);
	CU_ASSERT_EQUAL(g_list[0], ut_iova(&g_x, g_buf + 4096));
	CU_ASSERT_EQUAL(g_list[1], ut_iova(&g_x, g_buf + 8192));
	CU_ASSERT_EQUAL(g_list[2], ut_iova(&g_x, g_buf + 12288));
	CU_ASSERT_NOT_EQUAL(g_list[1], g_list[0] + 4096); /* really scattered */
}

static void test_prp_bad_buffers(void)
{
	struct vpio_nvme_cmd cmd;

	env_reset(UT_XLATE_IDENTITY, false, 0);
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(prp1buf(g_buf + 2, 4096, &cmd), -EINVAL);
	CU_ASSERT(vpio_test_log_has("4-byte aligned"));
	/* third page not registered */
	g_x.bad_lo = (uintptr_t)g_buf + 8192;
	g_x.bad_hi = (uintptr_t)g_buf + 12288;
	CU_ASSERT_EQUAL(prp1buf(g_buf, 16384, &cmd), -EFAULT);
	CU_ASSERT(vpio_test_log_has("not registered for DMA"));
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 2);
	vpio_test_log_release();
}

static int64_t prpv(struct iovec *iov, uint32_t cnt, uint64_t len, struct nvme_iov_cur *cur,
		    struct vpio_nvme_cmd *cmd)
{
	cur->iov = iov;
	cur->cnt = cnt;
	cur->idx = 0;
	cur->off = 0;
	return nvme_build_prp(&g_env, cur, len, g_list, LIST_IOVA, cmd);
}

static void test_prp_vectors(void)
{
	struct nvme_iov_cur cur;
	struct vpio_nvme_cmd cmd;
	struct iovec ok[4] = {
		{ g_buf + 4096 - 512, 512 },  /* ends on a page boundary */
		{ g_buf + 65536, 0 },         /* empty: skipped */
		{ g_buf + 65536, 8192 },      /* whole pages */
		{ g_buf + 131072, 1000 },     /* last may end anywhere */
	};
	struct iovec bad_end[2] = { { g_buf, 2048 }, { g_buf + 8192, 2048 } };
	struct iovec bad_start[2] = { { g_buf, 4096 }, { g_buf + 8192 + 512, 2048 } };

	env_reset(UT_XLATE_IDENTITY, false, 0);
	CU_ASSERT_EQUAL(prpv(ok, 4, 512 + 8192 + 1000, &cur, &cmd), 512 + 8192 + 1000);
	CU_ASSERT_EQUAL(cmd.dptr.prp.prp1, (uintptr_t)g_buf + 4096 - 512);
	CU_ASSERT_EQUAL(cmd.dptr.prp.prp2, LIST_IOVA);
	CU_ASSERT_EQUAL(g_list[0], (uintptr_t)g_buf + 65536);
	CU_ASSERT_EQUAL(g_list[1], (uintptr_t)g_buf + 65536 + 4096);
	CU_ASSERT_EQUAL(g_list[2], (uintptr_t)g_buf + 131072);
	CU_ASSERT_EQUAL(cur.idx, 3);
	CU_ASSERT_EQUAL(cur.off, 1000);
	/* part of a vector: the cursor stops inside an element */
	CU_ASSERT_EQUAL(prpv(ok, 4, 512 + 4096, &cur, &cmd), 512 + 4096);
	CU_ASSERT_EQUAL(cur.idx, 2);
	CU_ASSERT_EQUAL(cur.off, 4096);
	CU_ASSERT_EQUAL(cmd.dptr.prp.prp2, (uintptr_t)g_buf + 65536);
	/* PRPs cannot describe these: no log line, the caller decides */
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(prpv(bad_end, 2, 4096, &cur, &cmd), NVME_EPRPLAYOUT);
	CU_ASSERT_EQUAL(prpv(bad_start, 2, 4096 + 2048, &cur, &cmd), NVME_EPRPLAYOUT);
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 0);
	/* pieces that continue each other in device memory are one range:
	 * two halves of a page, then a page split in three */
	{
		struct iovec halves[5] = {
			{ g_buf + 8192 + 100, 1948 }, { g_buf + 10240, 2048 }, /* one page from offset 100 */
			{ g_buf + 12288, 1000 }, { g_buf + 13288, 96 }, { g_buf + 13384, 3000 },
		};
		struct iovec gap[2] = { { g_buf + 8192, 2048 }, { g_buf + 10240 + 4, 2044 } };

		CU_ASSERT_EQUAL(prpv(halves, 5, 1948 + 2048 + 1000 + 96 + 3000, &cur, &cmd),
				1948 + 2048 + 1000 + 96 + 3000);
		CU_ASSERT_EQUAL(cmd.dptr.prp.prp1, (uintptr_t)g_buf + 8192 + 100);
		CU_ASSERT_EQUAL(cmd.dptr.prp.prp2, (uintptr_t)g_buf + 12288); /* two entries: no list */
		CU_ASSERT_EQUAL(prpv(halves, 2, 1948 + 2048, &cur, &cmd), 1948 + 2048);
		CU_ASSERT_EQUAL(cmd.dptr.prp.prp2, 0);
		CU_ASSERT_EQUAL(prpv(gap, 2, 4092, &cur, &cmd), NVME_EPRPLAYOUT); /* a real gap */
	}
	/* the vector is shorter than the transfer */
	CU_ASSERT_EQUAL(prpv(ok, 3, 512 + 8192 + 4096, &cur, &cmd), -EINVAL);
	CU_ASSERT(vpio_test_log_has("ends"));
	vpio_test_log_release();
}

static int64_t sglv(struct iovec *iov, uint32_t cnt, uint64_t len, uint32_t gran, struct nvme_iov_cur *cur,
		    struct vpio_nvme_cmd *cmd)
{
	cur->iov = iov;
	cur->cnt = cnt;
	cur->idx = 0;
	cur->off = 0;
	memset(cmd, 0xff, sizeof(*cmd));
	return nvme_build_sgl(&g_env, cur, len, gran, (struct vpio_nvme_sgl_desc *)g_list, LIST_IOVA, cmd);
}

static void test_sgl_single_and_segment(void)
{
	struct vpio_nvme_sgl_desc *d = (struct vpio_nvme_sgl_desc *)g_list;
	struct nvme_iov_cur cur;
	struct vpio_nvme_cmd cmd;
	struct iovec one = { g_buf + 12, 8192 };
	struct iovec three[3] = { { g_buf, 2048 }, { g_buf + 2048, 1024 }, { g_buf + 65536 + 4, 1024 } };

	env_reset(UT_XLATE_IDENTITY, true, 0);
	CU_ASSERT_EQUAL(sglv(&one, 1, 8192, 512, &cur, &cmd), 8192);
	CU_ASSERT_EQUAL(cmd.flags & VPIO_NVME_PSDT_MASK, VPIO_NVME_PSDT_SGL_MPTR_CONTIG);
	CU_ASSERT_EQUAL(cmd.dptr.sgl1.address, (uintptr_t)g_buf + 12);
	CU_ASSERT_EQUAL(cmd.dptr.sgl1.length, 8192);
	CU_ASSERT_EQUAL(cmd.dptr.sgl1.type, VPIO_NVME_SGL_TYPE_DATA_BLOCK << 4);
	/* first two elements are contiguous: merged; third separate */
	CU_ASSERT_EQUAL(sglv(three, 3, 4096, 512, &cur, &cmd), 4096);
	CU_ASSERT_EQUAL(cmd.dptr.sgl1.type, VPIO_NVME_SGL_TYPE_LAST_SEGMENT << 4);
	CU_ASSERT_EQUAL(cmd.dptr.sgl1.address, LIST_IOVA);
	CU_ASSERT_EQUAL(cmd.dptr.sgl1.length, 2 * 16);
	CU_ASSERT_EQUAL(d[0].address, (uintptr_t)g_buf);
	CU_ASSERT_EQUAL(d[0].length, 3072);
	CU_ASSERT_EQUAL(d[1].address, (uintptr_t)g_buf + 65536 + 4);
	CU_ASSERT_EQUAL(d[1].length, 1024);
	CU_ASSERT_EQUAL(d[1].type, 0);
	/* scattered pages: one descriptor per page */
	env_reset(UT_XLATE_SCATTER, true, 0);
	CU_ASSERT_EQUAL(sglv(&one, 1, 8192, 512, &cur, &cmd), 8192);
	CU_ASSERT_EQUAL(cmd.dptr.sgl1.length, 3 * 16);
	CU_ASSERT_EQUAL(d[0].length, 4096 - 12);
	CU_ASSERT_EQUAL(d[2].length, 12);
}

/* 300 scattered 301-byte pieces: the list holds 256, cut to 512-byte
 * blocks the command takes 150 blocks and the cursor stops mid-piece. */
static void test_sgl_list_full(void)
{
	struct vpio_nvme_sgl_desc *d = (struct vpio_nvme_sgl_desc *)g_list;
	static struct iovec v[300];
	struct nvme_iov_cur cur;
	struct vpio_nvme_cmd cmd;
	uint32_t i;

	for (i = 0; i < 300; i++) {
		v[i].iov_base = g_buf + (size_t)i * 1024u;
		v[i].iov_len = 301;
	}
	env_reset(UT_XLATE_IDENTITY, true, 0);
	CU_ASSERT_EQUAL(sglv(v, 300, 300 * 301 - 300 * 301 % 512, 512, &cur, &cmd), 76800);
	CU_ASSERT_EQUAL(cmd.dptr.sgl1.length, 256 * 16);
	CU_ASSERT_EQUAL(d[255].length, 301 - 256);
	CU_ASSERT_EQUAL(cur.idx, 255);
	CU_ASSERT_EQUAL(cur.off, 45);
	/* the rest continues from there */
	CU_ASSERT_EQUAL(nvme_build_sgl(&g_env, &cur, 512, 512, d, LIST_IOVA, &cmd), 512);
	CU_ASSERT_EQUAL(d[0].address, (uintptr_t)g_buf + 255u * 1024u + 45u);
	CU_ASSERT_EQUAL(d[0].length, 256);
	/* dword-aligned SGLs refuse 301-byte pieces */
	g_env.sgl_dword = true;
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(sglv(v, 300, 1024, 512, &cur, &cmd), -EINVAL);
	CU_ASSERT(vpio_test_log_has("dword"));
	/* one 4 KiB block in more than 256 pieces cannot be described */
	g_env.sgl_dword = false;
	for (i = 0; i < 300; i++)
		v[i].iov_len = 8;
	CU_ASSERT_EQUAL(sglv(v, 300, 2400 - 2400 % 8, 4096, &cur, &cmd), -E2BIG);
	CU_ASSERT(vpio_test_log_has("spans more than"));
	vpio_test_log_release();
}

static void test_dptr_modes(void)
{
	struct nvme_iov_cur cur;
	struct vpio_nvme_cmd cmd;
	struct iovec odd[2] = { { g_buf, 2048 }, { g_buf + 8192, 2048 } };
	struct iovec one = { g_buf, 4096 };

	/* AUTO: PRPs when they can, SGLs when they must */
	env_reset(UT_XLATE_IDENTITY, true, VPIO_NVME_SGL_AUTO);
	cur = (struct nvme_iov_cur){ &one, 1, 0, 0 };
	CU_ASSERT_EQUAL(nvme_build_dptr(&g_env, &cur, 4096, 512, g_list, LIST_IOVA, &cmd), 4096);
	CU_ASSERT_EQUAL(cmd.flags & VPIO_NVME_PSDT_MASK, VPIO_NVME_PSDT_PRP);
	cur = (struct nvme_iov_cur){ odd, 2, 0, 0 };
	CU_ASSERT_EQUAL(nvme_build_dptr(&g_env, &cur, 4096, 512, g_list, LIST_IOVA, &cmd), 4096);
	CU_ASSERT_EQUAL(cmd.flags & VPIO_NVME_PSDT_MASK, VPIO_NVME_PSDT_SGL_MPTR_CONTIG);
	CU_ASSERT_EQUAL(cur.idx, 1);
	CU_ASSERT_EQUAL(cur.off, 2048);
	/* ALWAYS: SGLs even for a page */
	g_env.sgl_mode = VPIO_NVME_SGL_ALWAYS;
	cur = (struct nvme_iov_cur){ &one, 1, 0, 0 };
	CU_ASSERT_EQUAL(nvme_build_dptr(&g_env, &cur, 4096, 512, g_list, LIST_IOVA, &cmd), 4096);
	CU_ASSERT_EQUAL(cmd.flags & VPIO_NVME_PSDT_MASK, VPIO_NVME_PSDT_SGL_MPTR_CONTIG);
	/* NEVER, or no controller support: a clear error */
	vpio_test_log_capture();
	g_env.sgl_mode = VPIO_NVME_SGL_NEVER;
	cur = (struct nvme_iov_cur){ odd, 2, 0, 0 };
	CU_ASSERT_EQUAL(nvme_build_dptr(&g_env, &cur, 4096, 512, g_list, LIST_IOVA, &cmd), -EINVAL);
	CU_ASSERT(vpio_test_log_has("sgl_mode NEVER"));
	env_reset(UT_XLATE_IDENTITY, false, VPIO_NVME_SGL_AUTO);
	cur = (struct nvme_iov_cur){ odd, 2, 0, 0 };
	CU_ASSERT_EQUAL(nvme_build_dptr(&g_env, &cur, 4096, 512, g_list, LIST_IOVA, &cmd), -EINVAL);
	CU_ASSERT(vpio_test_log_has("no SGL support"));
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 2);
	vpio_test_log_release();
}

static void test_cursor_rewind(void)
{
	struct iovec v[3] = { { g_buf, 100 }, { g_buf, 0 }, { g_buf, 50 } };
	struct nvme_iov_cur cur = { v, 3, 2, 20 };

	nvme_iov_cur_rewind(&cur, 10);
	CU_ASSERT(cur.idx == 2 && cur.off == 10);
	nvme_iov_cur_rewind(&cur, 40);
	CU_ASSERT(cur.idx == 0 && cur.off == 70);
	nvme_iov_cur_rewind(&cur, 1000);
	CU_ASSERT(cur.idx == 0 && cur.off == 0);
}

/* The direct path's PRPs (nvme_prp_contig: one IOVA-contiguous run) are
 * the same as the general builder's, for every start offset class and
 * length up to a full list, at 4 and 8 KiB controller pages. */
static void test_prp_contig_matches(void)
{
	static uint64_t list2[NVME_PRP_LIST_MAX];
	static const uint64_t offs[] = { 0, 4, 512, 4092, 4096, 6000, 8188 };
	struct nvme_req req = { .list = list2, .list_iova = LIST_IOVA };
	struct vpio_nvme_cmd a, b;
	uint32_t shift, o, i, n;
	uint64_t len;

	for (shift = 12; shift <= 13; shift++) {
		for (o = 0; o < sizeof(offs) / sizeof(offs[0]); o++) {
			for (len = 4; len <= (uint64_t)(NVME_PRP_LIST_MAX - 1u) << shift; len = len * 3 + 4) {
				env_reset(UT_XLATE_IDENTITY, false, VPIO_NVME_SGL_NEVER);
				g_env.page_shift = shift;
				if (offs[o] + len > BUF_LEN)
					break;
				CU_ASSERT_EQUAL_FATAL(prp1buf(g_buf + offs[o], len, &a), (int64_t)len);
				memset(&b, 0xff, sizeof(b));
				memset(list2, 0xee, sizeof(list2));
				nvme_prp_contig(&b, &req, shift, (uint64_t)(uintptr_t)(g_buf + offs[o]), len);
				CU_ASSERT_EQUAL(b.flags, a.flags);
				CU_ASSERT_EQUAL(b.dptr.prp.prp1, a.dptr.prp.prp1);
				CU_ASSERT_EQUAL(b.dptr.prp.prp2, a.dptr.prp.prp2);
				n = (uint32_t)(((uint64_t)(uintptr_t)(g_buf + offs[o]) + len - 1u) >> shift) -
				    (uint32_t)((uint64_t)(uintptr_t)(g_buf + offs[o]) >> shift); /* pages after the first */
				if (n >= 2) {
					for (i = 0; i < n; i++)
						CU_ASSERT_EQUAL(list2[i], g_list[i]);
					CU_ASSERT_EQUAL(list2[n], 0xeeeeeeeeeeeeeeeeull); /* nothing beyond */
				}
			}
		}
	}
}

static int reg(void)
{
	VPIO_SUITE("nvme_dptr", setup, teardown);
	VPIO_TEST(test_prp_one_page);
	VPIO_TEST(test_prp_page_crossing);
	VPIO_TEST(test_prp_list_limits);
	VPIO_TEST(test_prp_scattered_iova);
	VPIO_TEST(test_prp_bad_buffers);
	VPIO_TEST(test_prp_vectors);
	VPIO_TEST(test_sgl_single_and_segment);
	VPIO_TEST(test_sgl_list_full);
	VPIO_TEST(test_dptr_modes);
	VPIO_TEST(test_cursor_rewind);
	VPIO_TEST(test_prp_contig_matches);
	return 0;
}

int main(void)
{
	return vpio_test_run(reg);
}
