/* SPDX-License-Identifier: BSD-3-Clause */
/* func_nvme: helpers shared by the suites. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define DMA_GUARD_IMPLEMENTATION /* the guarded-buffer table of func_nvme */
#include "func_nvme.h"

static uint64_t g_rng = 0x2545f4914f6cdd1dull;

void fn_seed(uint64_t seed)
{
	g_rng = seed ? seed : 1;
}

uint64_t fn_rand(void)
{
	g_rng ^= g_rng << 13;
	g_rng ^= g_rng >> 7;
	g_rng ^= g_rng << 17;
	return g_rng;
}

void fn_fill(void *buf, size_t len, uint64_t seed)
{
	uint8_t *p = buf;
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;

	for (size_t i = 0; i < len; i++) {
		if ((i & 7) == 0) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
		}
		p[i] = (uint8_t)(x >> ((i & 7) * 8));
	}
}

unsigned fn_iters(unsigned n)
{
	if (!g_fn_real)
		return n;
	return n / 5u > 2u ? n / 5u : 2u;
}

uint64_t fn_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

struct vpio_nvme_ctrlr *fn_attach(const char *name, const struct vpio_nvme_ctrlr_opts *opts)
{
	struct vpio_nvme_ctrlr *c = NULL;
	int rc = vpio_nvme_ctrlr_attach(name, opts, &c);

	CU_ASSERT_EQUAL(rc, 0);
	if (rc != 0) {
		fprintf(stderr, "\n  attach %s failed: %d\n", name, rc);
		return NULL;
	}
	return c;
}

struct vpio_nvme_qpair *fn_qpair(struct vpio_nvme_ctrlr *c, uint32_t queue_size, uint32_t timeout_ms)
{
	struct vpio_nvme_qpair_opts o;
	struct vpio_nvme_ctrlr_info in;
	struct vpio_nvme_qpair *qp = NULL;
	int rc;

	vpio_nvme_qpair_opts_init(&o);
	vpio_nvme_ctrlr_get_info(c, &in);
	if (queue_size)
		o.queue_size = queue_size < in.max_queue_size ? queue_size : in.max_queue_size; /* MQES */
	if (timeout_ms)
		o.timeout_ms = timeout_ms;
	rc = vpio_nvme_ctrlr_alloc_io_qpair(c, &o, &qp);
	CU_ASSERT_EQUAL(rc, 0);
	return rc == 0 ? qp : NULL;
}

struct vpio_nvme_ns *fn_ns(struct vpio_nvme_ctrlr *c, uint32_t nsid)
{
	struct vpio_nvme_ns *ns = NULL;

	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_get_ns(c, nsid, &ns), 0);
	return ns;
}

struct vpio_emu_nvme *fn_emu(struct vpio_nvme_ctrlr *c)
{
	return vpio_emu_nvme_get(vpio_nvme_ctrlr_get_pci_device(c));
}

void fn_io_cb(void *arg, const struct vpio_nvme_cpl *cpl)
{
	struct fn_io *w = arg;

	w->done++;
	w->status = cpl->status & 0xfffeu;
	w->cdw0 = cpl->cdw0;
}

void *fn_gbuf(size_t len)
{
	void *p = dma_guard_alloc(len);

	CU_ASSERT_PTR_NOT_NULL(p);
	return p;
}

void fn_gbuf_free(void *buf)
{
	CU_ASSERT_TRUE(dma_guard_free(buf));
}

void fn_gbuf_check(void)
{
	CU_ASSERT_EQUAL(dma_guard_check_all(), 0);
}

/* Poll qp until *done is set (done != NULL) or nothing is outstanding;
 * then the guards of every guarded buffer. */
static int poll_until(struct vpio_nvme_qpair *qp, const unsigned *done, unsigned timeout_ms)
{
	uint64_t end = fn_now_us() + (uint64_t)timeout_ms * 1000u;
	int rc;

	while (done != NULL ? *done == 0 : vpio_nvme_qpair_get_outstanding(qp) > 0) {
		rc = vpio_nvme_qpair_process_completions(qp, 0);
		if (rc < 0 && rc != -EAGAIN)
			return dma_guard_check_all() == 0 ? rc : FN_EGUARD;
		if (fn_now_us() > end)
			return -ETIMEDOUT;
	}
	return dma_guard_check_all() == 0 ? 0 : FN_EGUARD;
}

int fn_wait(struct vpio_nvme_qpair *qp, struct fn_io *w, unsigned timeout_ms)
{
	return poll_until(qp, &w->done, timeout_ms);
}

int fn_drain(struct vpio_nvme_qpair *qp, unsigned timeout_ms)
{
	return poll_until(qp, NULL, timeout_ms);
}

static int sync_io(int rc, struct vpio_nvme_qpair *qp, struct fn_io *w)
{
	if (rc != 0)
		return rc;
	rc = fn_wait(qp, w, 10000);
	if (rc != 0)
		return rc;
	return w->status;
}

int fn_write(struct vpio_nvme_ns *ns, struct vpio_nvme_qpair *qp, const void *buf, uint64_t lba, uint32_t n)
{
	struct fn_io w = { 0, 0, 0 };

	return sync_io(vpio_nvme_ns_cmd_write(ns, qp, buf, lba, n, fn_io_cb, &w, 0), qp, &w);
}

int fn_read(struct vpio_nvme_ns *ns, struct vpio_nvme_qpair *qp, void *buf, uint64_t lba, uint32_t n)
{
	struct fn_io w = { 0, 0, 0 };

	return sync_io(vpio_nvme_ns_cmd_read(ns, qp, buf, lba, n, fn_io_cb, &w, 0), qp, &w);
}
