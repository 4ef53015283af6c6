/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Suite "data": write -> read -> byte compare over random LBAs, sizes,
 * buffer offsets and vectors (PRP-shaped and SGL-only), queue depth > 1,
 * transfers split at MDTS (device-enforced and driver-capped), SGL modes,
 * write zeroes, deallocate, compare (contiguous and vectored, with a
 * miscompare) and flush on every target, and plain heap memory registered
 * with vpio_mem_register().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "func_nvme.h"

#define BUF_LEN (4u << 20)

struct fn_ctx {
	struct vpio_nvme_ctrlr *c;
	struct vpio_nvme_ns *ns;
	struct vpio_nvme_qpair *qp;
	uint8_t *wbuf, *rbuf;
	uint32_t bs;
	uint64_t nblocks; /* LBAs the test may use */
	struct fn_limits lim;
};

static bool ctx_open(struct fn_ctx *x, const char *name, const struct vpio_nvme_ctrlr_opts *o, uint32_t qsize)
{
	memset(x, 0, sizeof(*x));
	x->c = fn_attach(name, o);
	if (x->c == NULL)
		return false;
	x->ns = fn_ns(x->c, vpio_nvme_ctrlr_first_active_ns(x->c));
	x->qp = fn_qpair(x->c, qsize, 0);
	x->wbuf = fn_gbuf(BUF_LEN);
	x->rbuf = fn_gbuf(BUF_LEN);
	CU_ASSERT_PTR_NOT_NULL(x->wbuf);
	CU_ASSERT_PTR_NOT_NULL(x->rbuf);
	if (x->ns == NULL || x->qp == NULL || x->wbuf == NULL || x->rbuf == NULL)
		return false;
	x->bs = vpio_nvme_ns_get_sector_size(x->ns);
	fn_limits_get(x->ns, x->qp, &x->lim);
	x->nblocks = vpio_nvme_ns_get_num_sectors(x->ns);
	if (x->nblocks > (256u << 20) / x->bs)
		x->nblocks = (256u << 20) / x->bs; /* stay in the first 256 MiB */
	return true;
}

static void ctx_close(struct fn_ctx *x)
{
	fn_gbuf_free(x->wbuf);
	fn_gbuf_free(x->rbuf);
	if (x->qp != NULL)
		CU_ASSERT_EQUAL(vpio_nvme_ctrlr_free_io_qpair(x->qp), 0);
	if (x->c != NULL)
		CU_ASSERT_EQUAL(vpio_nvme_ctrlr_detach(x->c), 0);
}

/* Write n random blocks at a random LBA from a random offset, read back
 * into another offset, compare.  false on a failure (reported). */
static bool rw_once(struct fn_ctx *x, uint32_t max_blocks)
{
	uint32_t n = 1u + (uint32_t)(fn_rand() % max_blocks);
	uint64_t lba = fn_rand() % (x->nblocks - n + 1u);
	size_t len = (size_t)n * x->bs, woff = (fn_rand() % 1024u) * 4u, roff = (fn_rand() % 1024u) * 4u;
	int wrc, rrc;

	fn_fill(x->wbuf + woff, len, fn_rand());
	memset(x->rbuf + roff, 0xa5, len);
	wrc = fn_write(x->ns, x->qp, x->wbuf + woff, lba, n);
	rrc = wrc == 0 ? fn_read(x->ns, x->qp, x->rbuf + roff, lba, n) : -1;
	CU_ASSERT_EQUAL(wrc, 0);
	CU_ASSERT_EQUAL(rrc, 0);
	if (wrc != 0 || rrc != 0)
		return false;
	CU_ASSERT_EQUAL(memcmp(x->wbuf + woff, x->rbuf + roff, len), 0);
	return memcmp(x->wbuf + woff, x->rbuf + roff, len) == 0;
}

static void test_random_rw(void)
{
	struct fn_ctx x;
	unsigned t, i;

	for (t = 0; t < g_fn_ntargets; t++) {
		if (ctx_open(&x, g_fn_targets[t], NULL, 64)) {
			/* the largest request the qpair takes: depth commands */
			uint32_t max = fn_fit((uint32_t)((BUF_LEN - 8192u) / x.bs), x.lim.req_blocks,
					      "%s: blocks per request (the qpair holds %u commands of %u blocks)",
					      fn_name(x.c), x.lim.depth, x.lim.cmd_blocks);
			uint32_t small = 64u < max ? 64u : max;

			CU_ASSERT(x.lim.depth < 2 || fn_cmds(&x.lim, max) >= 2); /* some requests are split */
			for (i = 0; i < fn_iters(200) && rw_once(&x, i % 4 ? small : max); i++)
				; /* mostly small, some split */
		}
		ctx_close(&x);
	}
}

/* Many writes in flight, then many reads in flight; disjoint LBAs.  64
 * requests of 16 KiB; when the qpair holds fewer, requests of one command
 * each, as many as it holds. */
static void test_queue_depth(void)
{
	struct fn_io w[64];
	struct fn_ctx x;
	uint32_t per, k, i;
	unsigned t;

	for (t = 0; t < g_fn_ntargets; t++) {
		if (!ctx_open(&x, g_fn_targets[t], NULL, 128)) {
			ctx_close(&x);
			continue;
		}
		per = 16384u / x.bs ? 16384u / x.bs : 1u;
		if (x.lim.depth / fn_cmds(&x.lim, per) < 64)
			per = fn_fit(per, x.lim.cmd_blocks, "%s: blocks per request (one command each)", fn_name(x.c));
		k = fn_fit(64, x.lim.depth / fn_cmds(&x.lim, per), "%s: requests in flight (the qpair's depth)",
			   fn_name(x.c));
		CU_ASSERT(k >= 2 || x.lim.depth < 2);
		fn_fill(x.wbuf, k * per * x.bs, fn_rand());
		memset(w, 0, sizeof(w));
		for (i = 0; i < k; i++)
			CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_write(x.ns, x.qp, x.wbuf + i * per * x.bs, 1000u + i * per, per,
							       fn_io_cb, &w[i], 0), 0);
		CU_ASSERT_EQUAL(vpio_nvme_qpair_get_outstanding(x.qp), k * fn_cmds(&x.lim, per)); /* all at once */
		CU_ASSERT_EQUAL(fn_drain(x.qp, 10000), 0);
		for (i = 0; i < k; i++)
			CU_ASSERT(w[i].done == 1 && w[i].status == 0);
		memset(w, 0, sizeof(w));
		for (i = 0; i < k; i++)
			CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_read(x.ns, x.qp, x.rbuf + i * per * x.bs, 1000u + i * per, per,
							      fn_io_cb, &w[i], 0), 0);
		CU_ASSERT_EQUAL(vpio_nvme_qpair_get_outstanding(x.qp), k * fn_cmds(&x.lim, per));
		CU_ASSERT_EQUAL(fn_drain(x.qp, 10000), 0);
		for (i = 0; i < k; i++)
			CU_ASSERT(w[i].done == 1 && w[i].status == 0);
		CU_ASSERT_EQUAL(memcmp(x.wbuf, x.rbuf, k * per * x.bs), 0);
		ctx_close(&x);
	}
}

/* A random vector over buf of total bytes; prp_shaped: interior element
 * boundaries on 4 KiB pages (PRPs can describe it), else anywhere
 * dword-aligned (needs SGLs). */
static int make_vec(struct iovec *v, int max, uint8_t *buf, size_t total, bool prp_shaped)
{
	size_t pos = prp_shaped ? 4096u - 4u * (fn_rand() % 8u + 1u) : 4u * (fn_rand() % 64u), left = total, n;
	int cnt = 0;

	while (left > 0 && cnt < max) {
		if (prp_shaped)
			n = cnt == 0 ? 4096u - (pos & 4095u) : 4096u * (1u + fn_rand() % 4u);
		else
			n = 4u * (1u + fn_rand() % 600u);
		if (n > left || cnt == max - 1)
			n = left;
		v[cnt].iov_base = buf + pos;
		v[cnt].iov_len = n;
		cnt++;
		left -= n;
		pos += n + (prp_shaped ? 4096u * (fn_rand() % 2u) : 4u * (fn_rand() % 32u));
	}
	return cnt;
}

/* Concatenate a vector's pieces into out. */
static void gather(uint8_t *out, const struct iovec *v, int cnt)
{
	for (int i = 0; i < cnt; i++) {
		memcpy(out, v[i].iov_base, v[i].iov_len);
		out += v[i].iov_len;
	}
}

/* writev from a random vector of up to max_blocks, read back contiguous
 * and through another random vector; false on a failure (reported). */
static bool vec_round(struct fn_ctx *x, bool prp_shaped, uint32_t max_blocks)
{
	uint8_t *expect = x->rbuf + BUF_LEN / 2, *got = expect + BUF_LEN / 4;
	uint32_t n = 1u + (uint32_t)(fn_rand() % max_blocks);
	uint64_t lba = fn_rand() % (x->nblocks - n + 1u);
	size_t len = (size_t)n * x->bs;
	struct fn_io w = { 0, 0, 0 };
	struct iovec v[64];
	int cnt = make_vec(v, 64, x->wbuf, len, prp_shaped);

	fn_fill(x->wbuf, BUF_LEN / 2, fn_rand());
	gather(expect, v, cnt);
	CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_writev(x->ns, x->qp, v, cnt, lba, fn_io_cb, &w, 0), 0);
	CU_ASSERT_EQUAL(fn_wait(x->qp, &w, 10000), 0);
	CU_ASSERT_EQUAL(w.status, 0);
	CU_ASSERT_EQUAL(fn_read(x->ns, x->qp, x->rbuf, lba, n), 0);
	CU_ASSERT_EQUAL(memcmp(expect, x->rbuf, len), 0);
	cnt = make_vec(v, 64, x->wbuf + BUF_LEN / 2, len, prp_shaped);
	memset(x->wbuf + BUF_LEN / 2, 0x5a, BUF_LEN / 2);
	w.done = 0;
	CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_readv(x->ns, x->qp, v, cnt, lba, fn_io_cb, &w, 0), 0);
	CU_ASSERT_EQUAL(fn_wait(x->qp, &w, 10000), 0);
	CU_ASSERT_EQUAL(w.status, 0);
	gather(got, v, cnt);
	CU_ASSERT_EQUAL(memcmp(expect, got, len), 0);
	return w.done == 1 && w.status == 0 && memcmp(expect, got, len) == 0 && memcmp(expect, x->rbuf, len) == 0;
}

static void test_vectors(void)
{
	struct fn_ctx x;
	unsigned t, i;
	bool sgl;

	for (t = 0; t < g_fn_ntargets; t++) {
		if (ctx_open(&x, g_fn_targets[t], NULL, 64)) {
			struct vpio_nvme_ctrlr_info in;

			uint32_t max = fn_fit(65536u / x.bs, x.lim.req_blocks, "%s: blocks per vector (the qpair holds %u commands)",
					      fn_name(x.c), x.lim.depth);

			vpio_nvme_ctrlr_get_info(x.c, &in);
			sgl = in.sgl_supported;
			for (i = 0; i < fn_iters(100) && vec_round(&x, !sgl || i % 2 == 0, max); i++)
				;
		}
		ctx_close(&x);
	}
}

/* Transfers larger than MDTS: device-enforced (emulator mdts=2: 16 KiB)
 * and driver-capped (max_xfer_size 8 KiB), counted on the device.  1 MiB
 * in one call, or what fills the qpair when that is less. */
static void split_round(const char *name, const struct vpio_nvme_ctrlr_opts *o, uint32_t expect_max)
{
	struct vpio_emu_nvme_stats s0, s1;
	struct vpio_nvme_ctrlr_info in;
	struct vpio_emu_nvme *emu;
	struct fn_ctx x;
	uint32_t n, len, cmds;

	if (ctx_open(&x, name, o, 160)) {
		vpio_nvme_ctrlr_get_info(x.c, &in);
		CU_ASSERT_EQUAL(in.max_xfer_size, expect_max);
		n = fn_fit((uint32_t)((1u << 20) / x.bs), x.lim.req_blocks,
			   "%s: blocks split at %u bytes (the qpair holds %u commands)", fn_name(x.c), expect_max, x.lim.depth);
		len = n * x.bs;
		cmds = len / expect_max; /* len is a multiple of the transfer size */
		CU_ASSERT(cmds >= 2 || x.lim.depth < 2);
		emu = fn_emu(x.c);
		if (emu)
			vpio_emu_nvme_get_stats(emu, &s0);
		fn_fill(x.wbuf + 512, len, fn_rand());
		CU_ASSERT_EQUAL(fn_write(x.ns, x.qp, x.wbuf + 512, 77, n), 0);
		CU_ASSERT_EQUAL(fn_read(x.ns, x.qp, x.rbuf + 4, 77, n), 0);
		CU_ASSERT_EQUAL(memcmp(x.wbuf + 512, x.rbuf + 4, len), 0);
		if (emu) {
			vpio_emu_nvme_get_stats(emu, &s1);
			/* from an unaligned buffer: one command per max transfer */
			CU_ASSERT_EQUAL(s1.write_cmds - s0.write_cmds, cmds);
			CU_ASSERT_EQUAL(s1.read_cmds - s0.read_cmds, cmds);
			CU_ASSERT_EQUAL(s1.invalid_cmds, s0.invalid_cmds);
		}
	}
	ctx_close(&x);
}

static void test_mdts_split(void)
{
	struct vpio_nvme_ctrlr_opts o;
	unsigned t;

	vpio_nvme_ctrlr_opts_init(&o);
	o.max_xfer_size = 8192;
	for (t = 0; t < g_fn_ntargets; t++)
		split_round(g_fn_targets[t], &o, 8192);
	if (!g_fn_real)
		split_round(FN_EMU_MDTS, NULL, 16384);
}

/* SGLs for every transfer, split like PRPs: up to 300 blocks, or what
 * fills the qpair. */
static void sgl_always_round(const char *name, const struct vpio_nvme_qpair_opts *qo)
{
	struct vpio_nvme_ctrlr_info in;
	struct fn_ctx x;

	if (ctx_open(&x, name, NULL, 32)) {
		vpio_nvme_ctrlr_get_info(x.c, &in);
		if (in.sgl_supported) {
			CU_ASSERT_EQUAL(vpio_nvme_ctrlr_free_io_qpair(x.qp), 0);
			x.qp = NULL;
			CU_ASSERT_EQUAL(vpio_nvme_ctrlr_alloc_io_qpair(x.c, qo, &x.qp), 0);
			if (x.qp != NULL) {
				fn_limits_get(x.ns, x.qp, &x.lim);
				rw_once(&x, fn_fit(300, x.lim.req_blocks, "%s: blocks per SGL request", fn_name(x.c)));
				rw_once(&x, 1);
			}
		}
	}
	ctx_close(&x);
}

static void test_sgl_modes(void)
{
	struct vpio_nvme_qpair_opts qo;
	struct vpio_nvme_qpair *qp = NULL;
	struct iovec v[2];
	struct fn_ctx x;
	unsigned t;

	vpio_nvme_qpair_opts_init(&qo);
	qo.sgl_mode = VPIO_NVME_SGL_ALWAYS;
	for (t = 0; t < g_fn_ntargets; t++)
		sgl_always_round(g_fn_targets[t], &qo);
	if (g_fn_real)
		return;
	/* a controller without SGLs: ALWAYS refused, SGL-only vectors refused */
	if (ctx_open(&x, FN_EMU_NOSGL, NULL, 32)) {
		vpio_test_log_capture();
		CU_ASSERT_EQUAL(vpio_nvme_ctrlr_alloc_io_qpair(x.c, &qo, &qp), -ENOTSUP);
		v[0] = (struct iovec){ x.wbuf, 256 };
		v[1] = (struct iovec){ x.wbuf + 8192, 256 };
		CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_writev(x.ns, x.qp, v, 2, 0, fn_io_cb, NULL, 0), -EINVAL);
		CU_ASSERT(vpio_test_log_has("no SGL support"));
		CU_ASSERT_EQUAL(vpio_test_log_errors(), 2);
		vpio_test_log_release();
		rw_once(&x, 64);
		/* pieces that continue each other in device memory are one
		 * range: one block in three pieces (two inside a page), PRPs */
		if (x.bs <= 2048) {
			struct fn_io w = { 0, 0, 0 };
			struct iovec p3[3] = { { x.wbuf + 4096 + 100, 1000 }, { x.wbuf + 5196, 24 },
					       { x.wbuf + 5220, 2u * x.bs - 1024u } };

			memset(x.rbuf, 0, 4u * x.bs);
			for (size_t k = 0; k < 2u * x.bs; k++)
				x.wbuf[4096 + 100 + k] = (uint8_t)(k * 13u + 5u);
			CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_writev(x.ns, x.qp, p3, 3, 40, fn_io_cb, &w, 0), 0);
			CU_ASSERT(fn_wait(x.qp, &w, 5000) == 0 && w.done == 1 && w.status == 0);
			CU_ASSERT_EQUAL(fn_read(x.ns, x.qp, x.rbuf, 40, 2), 0);
			CU_ASSERT_EQUAL(memcmp(x.rbuf, x.wbuf + 4096 + 100, 2u * x.bs), 0);
		}
	}
	ctx_close(&x);
}

#define COMPARE_FAILURE VPIO_NVME_STATUS(VPIO_NVME_SCT_MEDIA_ERROR, VPIO_NVME_SC_COMPARE_FAILURE)

/* Compare n blocks at lba against x->wbuf, contiguous and as a vector of
 * two PRP-shaped pieces (a page end, a page start), then each with one
 * byte changed: COMPARE FAILURE. */
static void compare_round(struct fn_ctx *x, uint64_t lba, uint32_t n)
{
	size_t len = (size_t)n * x->bs, half = len / 2;
	struct iovec v[2] = { { x->rbuf + 65536 - half, half }, { x->rbuf + 131072, len - half } };
	struct fn_io w = { 0, 0, 0 };

	CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_compare(x->ns, x->qp, x->wbuf, lba, n, fn_io_cb, &w, 0), 0);
	CU_ASSERT(fn_wait(x->qp, &w, 5000) == 0 && w.status == 0);
	memcpy(v[0].iov_base, x->wbuf, half);
	memcpy(v[1].iov_base, x->wbuf + half, len - half);
	w.done = 0;
	CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_comparev(x->ns, x->qp, v, 2, lba, fn_io_cb, &w, 0), 0);
	CU_ASSERT(fn_wait(x->qp, &w, 5000) == 0 && w.done == 1);
	CU_ASSERT_EQUAL(w.status, 0);
	((uint8_t *)v[1].iov_base)[len - half - 5] ^= 0x40;
	w.done = 0;
	CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_comparev(x->ns, x->qp, v, 2, lba, fn_io_cb, &w, 0), 0);
	CU_ASSERT(fn_wait(x->qp, &w, 5000) == 0 && w.done == 1);
	CU_ASSERT_EQUAL(w.status, COMPARE_FAILURE);
	x->wbuf[x->bs * (n - 1u) + 17u] ^= 1;
	w.done = 0;
	CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_compare(x->ns, x->qp, x->wbuf, lba, n, fn_io_cb, &w, 0), 0);
	CU_ASSERT(fn_wait(x->qp, &w, 5000) == 0);
	CU_ASSERT_EQUAL(w.status, COMPARE_FAILURE);
	x->wbuf[x->bs * (n - 1u) + 17u] ^= 1;
}

/* Write zeroes, deallocate, compare and flush on one target (every block
 * size): 8 blocks, or what fills the qpair (at least 2). */
static void zeroes_dsm_compare_flush(const char *name)
{
	const struct vpio_nvme_ctrlr_data *cd;
	struct vpio_nvme_dsm_range r = { 0, 8, 300 };
	struct fn_io w = { 0, 0, 0 };
	struct fn_ctx x;
	uint32_t n, z;

	if (!ctx_open(&x, name, NULL, 32)) {
		ctx_close(&x);
		return;
	}
	n = fn_fit(8, x.lim.req_blocks, "%s: blocks compared, zeroed and deallocated", fn_name(x.c));
	z = n / 2u; /* zeroed; the rest stays */
	r.length = n;
	CU_ASSERT(n >= 2);
	if (n < 2) {
		ctx_close(&x);
		return;
	}
	cd = vpio_nvme_ctrlr_get_data(x.c);
	fn_fill(x.wbuf, n * x.bs, 42);
	CU_ASSERT_EQUAL(fn_write(x.ns, x.qp, x.wbuf, 300, n), 0);
	if (cd->oncs & VPIO_NVME_ONCS_COMPARE)
		compare_round(&x, 300, n);
	if (cd->oncs & VPIO_NVME_ONCS_WRITE_ZEROES) {
		w.done = 0;
		CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_write_zeroes(x.ns, x.qp, 300, z, fn_io_cb, &w, 0), 0);
		CU_ASSERT(fn_wait(x.qp, &w, 5000) == 0 && w.status == 0);
		memset(x.rbuf, 0xff, n * x.bs);
		CU_ASSERT_EQUAL(fn_read(x.ns, x.qp, x.rbuf, 300, n), 0);
		memset(x.wbuf, 0, z * x.bs);
		CU_ASSERT_EQUAL(memcmp(x.rbuf, x.wbuf, n * x.bs), 0); /* z zeroed, the rest intact */
	}
	if (cd->oncs & VPIO_NVME_ONCS_DSM) {
		w.done = 0;
		CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_deallocate(x.ns, x.qp, &r, 1, fn_io_cb, &w), 0);
		CU_ASSERT(fn_wait(x.qp, &w, 5000) == 0 && w.status == 0);
		/* Deallocate is advisory (a device may keep some blocks, e.g. below
		 * its discard granularity); the emulator documents that it frees
		 * them all and reads them back as zeroes (DLFEAT 1). */
		if (!g_fn_real && (vpio_nvme_ns_get_data(x.ns)->dlfeat & 7u) == 1u) {
			CU_ASSERT_EQUAL(fn_read(x.ns, x.qp, x.rbuf, 300, n), 0);
			memset(x.wbuf, 0, n * x.bs);
			CU_ASSERT_EQUAL(memcmp(x.rbuf, x.wbuf, n * x.bs), 0);
		}
	}
	w.done = 0;
	CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_flush(x.ns, x.qp, fn_io_cb, &w), 0);
	CU_ASSERT(fn_wait(x.qp, &w, 10000) == 0 && w.status == 0);
	ctx_close(&x);
}

static void test_zeroes_dsm_compare_flush(void)
{
	unsigned t;

	for (t = 0; t < g_fn_ntargets; t++)
		zeroes_dsm_compare_flush(g_fn_targets[t]);
}

/* Plain heap memory registered with vpio: I/O works; unregistered, the
 * driver refuses it before the device sees it. */
static void test_registered_heap(void)
{
	struct fn_ctx x;
	uint8_t *heap = dma_guard_alloc_heap(65536), *heap2 = dma_guard_alloc_heap(65536);
	uint32_t n;

	if (ctx_open(&x, g_fn_targets[0], NULL, 32) && heap && heap2) {
		CU_ASSERT_EQUAL_FATAL(dma_guard_register(heap), 0); /* with its guards */
		CU_ASSERT_EQUAL_FATAL(dma_guard_register(heap2), 0);
		n = fn_fit(65536 / x.bs, x.lim.req_blocks, "%s: blocks from heap memory", fn_name(x.c));
		fn_fill(heap, 65536, 7);
		memset(heap2, 0, 65536);
		CU_ASSERT_EQUAL(fn_write(x.ns, x.qp, heap, 4000, n), 0);
		CU_ASSERT_EQUAL(fn_read(x.ns, x.qp, heap2, 4000, n), 0);
		CU_ASSERT_EQUAL(memcmp(heap, heap2, (size_t)n * x.bs), 0);
		CU_ASSERT_EQUAL(dma_guard_unregister(heap2), 0);
		vpio_test_log_capture();
		CU_ASSERT_EQUAL(fn_read(x.ns, x.qp, heap2, 4000, 1), -EFAULT);
		CU_ASSERT(vpio_test_log_has("not registered for DMA"));
		vpio_test_log_release();
		CU_ASSERT_EQUAL(dma_guard_unregister(heap), 0);
	}
	ctx_close(&x);
	CU_ASSERT_TRUE(dma_guard_free(heap));
	CU_ASSERT_TRUE(dma_guard_free(heap2));
}

/* A request that needs more commands than its qpair can ever hold: -E2BIG
 * with one line naming the limit, nothing submitted (before: -EAGAIN on an
 * idle qpair, for ever). */
static void expect_e2big(int rc, const struct fn_ctx *x, const char *what)
{
	CU_ASSERT_EQUAL(rc, -E2BIG);
	CU_ASSERT(vpio_test_log_has("more commands than the"));
	CU_ASSERT(vpio_test_log_has("blocks per call on it"));
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 1);
	CU_ASSERT_EQUAL(vpio_nvme_qpair_get_outstanding(x->qp), 0);
	if (rc != -E2BIG || vpio_test_log_errors() != 1)
		fprintf(stderr, "\n  %s: got %d; log:\n%s", what, rc, vpio_test_log_buf.text);
	vpio_test_log_capture(); /* clear */
}

/* The largest request per call: depth commands of the transfer size. */
static uint64_t max_io_bytes(const struct fn_ctx *x)
{
	struct vpio_nvme_ctrlr_info in;
	uint64_t max;

	vpio_nvme_ctrlr_get_info(x->c, &in);
	max = (uint64_t)(in.max_xfer_size & ~(x->bs - 1u)) * vpio_nvme_qpair_get_depth(x->qp);
	CU_ASSERT_EQUAL(vpio_nvme_qpair_get_max_io_bytes(x->qp, x->ns), max);
	return max;
}

/* A depth-1 qpair with a 128 KiB transfer size (or the device's, if
 * smaller): a read of twice that, and write zeroes of 65537 blocks. */
static void too_big_depth1(const char *name)
{
	struct vpio_nvme_ctrlr_opts co;
	struct fn_ctx x;
	uint64_t max;

	vpio_nvme_ctrlr_opts_init(&co);
	co.max_xfer_size = 128u << 10;
	if (ctx_open(&x, name, &co, 2)) {
		CU_ASSERT_EQUAL(vpio_nvme_qpair_get_depth(x.qp), 1);
		max = max_io_bytes(&x);
		/* depth 1: one command of the transfer size (128 KiB, or less
		 * on a controller with a smaller MDTS) */
		CU_ASSERT_EQUAL(max, (uint64_t)x.lim.cmd_blocks * x.bs);
		if (!g_fn_real && x.lim.cmd_blocks * x.bs >= (128u << 10))
			CU_ASSERT_EQUAL(max, 128u << 10);
		vpio_test_log_capture();
		expect_e2big(vpio_nvme_ns_cmd_read(x.ns, x.qp, x.wbuf, 0, (uint32_t)(2u * max / x.bs), NULL, NULL, 0), &x,
			     "read of twice the transfer size on a depth-1 qpair");
		expect_e2big(vpio_nvme_ns_cmd_read(x.ns, x.qp, x.wbuf, 0, (uint32_t)(max / x.bs + 1u), NULL, NULL, 0), &x,
			     "one block more than the largest");
		if ((vpio_nvme_ctrlr_get_data(x.c)->oncs & VPIO_NVME_ONCS_WRITE_ZEROES) && x.nblocks > 65536u)
			expect_e2big(vpio_nvme_ns_cmd_write_zeroes(x.ns, x.qp, 0, 65537, NULL, NULL, 0), &x,
				     "write zeroes of 65537 blocks on a depth-1 qpair");
		vpio_test_log_release();
		CU_ASSERT_EQUAL(fn_read(x.ns, x.qp, x.rbuf, 0, (uint32_t)(max / x.bs)), 0); /* the largest fits */
	}
	ctx_close(&x);
}

/* Poll a batch qpair until n batch completions arrived; statuses must be 0
 * and every ctx (0..63) seen once. */
static uint32_t batch_reap(struct fn_ctx *x, uint32_t n, uint8_t *seen)
{
	struct vpio_nvme_io_cpl cpl[16];
	uint64_t polls = 0;
	uint32_t got = 0;
	int rc, i;

	while (got < n && polls++ < 100000000u) {
		rc = vpio_nvme_qpair_poll_batch(x->qp, cpl, 16);
		CU_ASSERT_FATAL(rc >= 0);
		for (i = 0; i < rc; i++) {
			uintptr_t k = (uintptr_t)cpl[i].ctx;

			CU_ASSERT_EQUAL(cpl[i].status, 0);
			CU_ASSERT(k < 64 && seen[k] == 0);
			if (k < 64)
				seen[k]++;
		}
		got += (uint32_t)(rc > 0 ? rc : 0);
	}
	CU_ASSERT_EQUAL(got, n);
	return got;
}

/* Write through the batch API (translated by the driver), read back
 * through the batch API with IOVAs the test translated: byte-exact, every
 * completion once, partial submission when the qpair is full; a bad entry
 * refuses the whole call; process_completions refuses while batch
 * commands are outstanding. */
static void batch_target(struct fn_ctx *x)
{
	struct vpio_nvme_io ios[64];
	uint32_t blocks = 4096u / x->bs ? 4096u / x->bs : 1u, n = 64, i, sent;
	uint32_t step = x->lim.depth >= 8 ? 8 : x->lim.depth >= 4 ? 4 : x->lim.depth >= 2 ? 2 : 1;
	uint8_t seen[64];
	int rc;

	if (x->bs > 4096u)
		return;
	for (i = 0; i < BUF_LEN / 2; i++)
		x->wbuf[i] = (uint8_t)(i * 7u + 3u + (i >> 12));
	memset(ios, 0, sizeof(ios));
	for (i = 0; i < n; i++) {
		ios[i].opc = VPIO_NVME_OPC_WRITE;
		ios[i].lba = (uint64_t)i * blocks * 3u % (x->nblocks - blocks);
		ios[i].lba -= ios[i].lba % blocks;
		ios[i].lba_count = blocks;
		ios[i].buf = x->wbuf + (size_t)i * 4096u;
		ios[i].ctx = (void *)(uintptr_t)i;
	}
	/* distinct LBAs: i * 3 * blocks modulo a range >= 64 * blocks * 3 */
	if (x->nblocks < (uint64_t)n * blocks * 3u + blocks)
		return;
	memset(seen, 0, sizeof(seen));
	for (sent = 0; sent < n; sent += (uint32_t)rc) {
		rc = vpio_nvme_ns_submit_batch(x->ns, x->qp, ios + sent, n - sent, 0);
		if (rc == -EAGAIN) {
			struct vpio_nvme_io_cpl one;

			rc = vpio_nvme_qpair_poll_batch(x->qp, &one, 1);
			CU_ASSERT_FATAL(rc >= 0);
			if (rc == 1) {
				CU_ASSERT_EQUAL(one.status, 0);
				seen[(uintptr_t)one.ctx]++;
			}
			rc = 0;
			continue;
		}
		CU_ASSERT_FATAL(rc > 0 && (uint32_t)rc <= n - sent);
	}
	{
		uint32_t already = 0;

		for (i = 0; i < n; i++)
			already += seen[i];
		batch_reap(x, n - already, seen);
	}
	for (i = 0; i < n; i++)
		CU_ASSERT_EQUAL(seen[i], 1);
	/* read back with pre-translated IOVAs, in batches of 8 */
	memset(x->rbuf, 0, (size_t)n * 4096u);
	for (i = 0; i < n; i++) {
		uint64_t len = 4096;

		ios[i].opc = VPIO_NVME_OPC_READ;
		ios[i].buf = NULL;
		ios[i].iova = vpio_vtophys(x->rbuf + (size_t)i * 4096u, &len);
		CU_ASSERT_FATAL(ios[i].iova != VPIO_VTOPHYS_ERROR && len == 4096u);
	}
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < n; i += step) {
		rc = vpio_nvme_ns_submit_batch_iova(x->ns, x->qp, ios + i, step, 0);
		CU_ASSERT_EQUAL_FATAL(rc, (int)step);
		vpio_test_log_capture();
		CU_ASSERT_EQUAL(vpio_nvme_qpair_process_completions(x->qp, 0), -EBUSY);
		vpio_test_log_release();
		batch_reap(x, step, seen);
	}
	for (i = 0; i < n; i++)
		CU_ASSERT_EQUAL(memcmp(x->wbuf + (size_t)i * 4096u, x->rbuf + (size_t)i * 4096u, blocks * x->bs), 0);
	fn_gbuf_check();
	/* bad entries: nothing is submitted */
	{
		uint32_t before = vpio_nvme_qpair_get_outstanding(x->qp);

		for (i = 0; i < 8; i++)
			ios[i].buf = x->rbuf + (size_t)i * 4096u;
		ios[3].opc = 0x7f;
		vpio_test_log_capture();
		CU_ASSERT_EQUAL(vpio_nvme_ns_submit_batch(x->ns, x->qp, ios, 8, 0), -EINVAL);
		ios[3].opc = VPIO_NVME_OPC_READ;
		ios[3].rsvd[1] = 1;
		CU_ASSERT_EQUAL(vpio_nvme_ns_submit_batch(x->ns, x->qp, ios, 8, 0), -EINVAL);
		CU_ASSERT(vpio_test_log_has("rsvd must be zero"));
		ios[3].rsvd[1] = 0;
		ios[3].lba = x->nblocks * 1000u;
		CU_ASSERT_EQUAL(vpio_nvme_ns_submit_batch(x->ns, x->qp, ios, 8, 0), -ERANGE);
		ios[3].lba = 0;
		ios[4].lba_count = 0;
		CU_ASSERT_EQUAL(vpio_nvme_ns_submit_batch(x->ns, x->qp, ios, 8, 0), -EINVAL);
		ios[4].lba_count = blocks;
		ios[4].iova = 2; /* not dword aligned */
		CU_ASSERT_EQUAL(vpio_nvme_ns_submit_batch_iova(x->ns, x->qp, ios, 8, 0), -EINVAL);
		CU_ASSERT_EQUAL(vpio_nvme_ns_submit_batch(x->ns, x->qp, NULL, 8, 0), -EINVAL);
		CU_ASSERT_EQUAL(vpio_nvme_ns_submit_batch(x->ns, x->qp, ios, 0, 0), -EINVAL);
		CU_ASSERT_EQUAL(vpio_nvme_ns_submit_batch(x->ns, x->qp, ios, 8, 0x1u), -EINVAL);
		CU_ASSERT_EQUAL(vpio_nvme_qpair_poll_batch(x->qp, NULL, 8), -EINVAL);
		vpio_test_log_release();
		CU_ASSERT_EQUAL(vpio_nvme_qpair_get_outstanding(x->qp), before);
	}
}

static void test_batch(void)
{
	struct fn_ctx x;
	unsigned t;

	for (t = 0; t < g_fn_ntargets; t++) {
		if (ctx_open(&x, g_fn_targets[t], NULL, 32))
			batch_target(&x);
		ctx_close(&x);
	}
}

static void test_too_big(void)
{
	uint8_t *big;
	struct fn_ctx x;
	unsigned t;

	for (t = 0; t < g_fn_ntargets; t++)
		too_big_depth1(g_fn_targets[t]);
	if (g_fn_real)
		return;
	/* write zeroes of 2^31 blocks on a default qpair (16711680 fit) */
	if (ctx_open(&x, FN_EMU_HUGE, NULL, 0)) {
		vpio_test_log_capture();
		CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_write_zeroes(x.ns, x.qp, 0, 1u << 31, NULL, NULL, 0), -E2BIG);
		CU_ASSERT(vpio_test_log_has("at most 16711680 blocks per call"));
		CU_ASSERT_EQUAL(vpio_test_log_errors(), 1);
		vpio_test_log_release();
		vpio_test_log_capture();
		expect_e2big(vpio_nvme_ns_cmd_write_zeroes(x.ns, x.qp, 0, 65536u * 255u + 1u, NULL, NULL, 0), &x,
			     "write zeroes of one block more than the largest");
		vpio_test_log_release();
		CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_write_zeroes(x.ns, x.qp, 0, 65536u * 255u, NULL, NULL, 0), 0);
		CU_ASSERT_EQUAL(fn_drain(x.qp, 10000), 0);
	}
	ctx_close(&x);
	/* a 64 MiB read on a default qpair (255 commands of 128 KiB) */
	big = fn_gbuf(64u << 20);
	if (ctx_open(&x, FN_EMU_512, NULL, 0) && big != NULL) {
		CU_ASSERT_EQUAL(max_io_bytes(&x), 255u * (128u << 10));
		vpio_test_log_capture();
		expect_e2big(vpio_nvme_ns_cmd_read(x.ns, x.qp, big, 0, (64u << 20) / x.bs, NULL, NULL, 0), &x,
			     "64 MiB read");
		vpio_test_log_release();
		CU_ASSERT_EQUAL(fn_read(x.ns, x.qp, big, 0, 255u * (128u << 10) / x.bs), 0);
	}
	ctx_close(&x);
	fn_gbuf_free(big);
}

int fn_register_data(void)
{
	VPIO_SUITE("data", NULL, NULL);
	VPIO_TEST(test_random_rw);
	VPIO_TEST(test_queue_depth);
	VPIO_TEST(test_vectors);
	VPIO_TEST(test_mdts_split);
	VPIO_TEST(test_sgl_modes);
	VPIO_TEST(test_zeroes_dsm_compare_flush);
	VPIO_TEST(test_registered_heap);
	VPIO_TEST(test_too_big);
	VPIO_TEST(test_batch);
	return 0;
}
