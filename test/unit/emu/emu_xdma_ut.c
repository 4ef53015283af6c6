/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The emulated XDMA device driven register by register (not lib/xdma):
 * options and BAR layouts, identifier registers, the register kinds (RW,
 * W1S, W1C, RW1C Status and its clear-on-read twin, credits), descriptor
 * runs (blocks of adjacent descriptors, COMPLETED writebacks, STOP),
 * everything the engine validates, the stream loopback with early packet
 * ends, and every injected fault.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <vpio/emu.h>
#include <vpio/env.h>
#include <vpio/xdma_spec.h>

#include "common/vpio_test.h"

/* How long a wait for something that must happen may take: generous, so
 * that a loaded machine (sanitizers, other jobs) cannot fail a test that
 * works; the waits end as soon as it happens. */
#define WAIT_MS 10000u

#define CTRL_START (VPIO_XDMA_CTRL_RUN | VPIO_XDMA_CTRL_POLLMODE_WB | VPIO_XDMA_CTRL_IE_DESC_ERROR | \
		    VPIO_XDMA_CTRL_IE_READ_ERROR | VPIO_XDMA_CTRL_IE_WRITE_ERROR | VPIO_XDMA_CTRL_IE_MAGIC_STOPPED | \
		    VPIO_XDMA_CTRL_IE_ALIGN_MISMATCH | VPIO_XDMA_CTRL_IE_INVALID_LENGTH)
#define DESC_UR (1u << (VPIO_XDMA_ST_DESC_ERROR_SHIFT + VPIO_XDMA_PCIE_UR))
#define H2C0 0x0000u /* channel blocks */
#define C2H0 0x1000u

/* A tiny host: one device, a page of descriptors, a writeback word. */
struct xh {
	struct vpio_pci_device *dev;
	struct vpio_emu_xdma *x;
	unsigned cfg;
	struct vpio_xdma_desc *ring; /* 2 pages */
	uint32_t *wb;		     /* 4 KiB, [0] is the word, results after 64 */
	uint8_t *buf;		     /* 64 KiB */
	uint8_t *card;
	uint64_t card_size;
};

/* Registered, zeroed pages (an anonymous mapping). */
static void *mini_dma_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (vpio_mem_register(p, len) == 0)
		return p;
	munmap(p, len);
	return NULL;
}

static void mini_dma_free(void *p, size_t len)
{
	if (p != NULL && vpio_mem_unregister(p, len) == 0)
		munmap(p, len);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint32_t rd(struct xh *h, uint32_t off)
{
	return vpio_pci_bar_read32(h->dev, h->cfg, off);
}

static void wr(struct xh *h, uint32_t off, uint32_t v)
{
	vpio_pci_bar_write32(h->dev, h->cfg, off, v);
}

static uint32_t chan_base(bool c2h, unsigned ch)
{
	return VPIO_XDMA_BLOCK(c2h ? 1 : 0, ch);
}

static bool xh_open(struct xh *h, const char *name)
{
	struct vpio_emu_xdma_info info;

	memset(h, 0, sizeof(*h));
	if (vpio_pci_device_open(name, &h->dev) != 0)
		return false;
	h->x = vpio_emu_xdma_get(h->dev);
	if (h->x == NULL || vpio_emu_xdma_get_info(h->x, &info) != 0)
		return false;
	h->cfg = (unsigned)info.cfg_bar;
	h->card = info.mem;
	h->card_size = info.mem_size;
	h->ring = mini_dma_alloc(8192);
	h->wb = mini_dma_alloc(4096);
	h->buf = mini_dma_alloc(65536);
	return h->ring && h->wb && h->buf;
}

/* Close and destroy the device, which must have seen host_errs host errors. */
static void xh_close(struct xh *h, const char *name, uint64_t host_errs)
{
	char buf[256];

	uint64_t n = vpio_emu_xdma_last_host_error(h->x, buf, sizeof(buf));

	CU_ASSERT_EQUAL(n, host_errs);
	if (n != host_errs)
		printf("\n    %s: %llu host errors\n", name, (unsigned long long)n);
	mini_dma_free(h->ring, 8192);
	mini_dma_free(h->wb, 4096);
	mini_dma_free(h->buf, 65536);
	vpio_pci_device_close(h->dev);
	CU_ASSERT_EQUAL(vpio_emu_destroy(name), 0);
}

static uint64_t iova(const void *p)
{
	return vpio_vtophys(p, NULL);
}

/* Descriptor i of the ring: len bytes src -> dst, flags, linked to i+1
 * with adj adjacent ones. */
static void desc(struct xh *h, unsigned i, uint64_t src, uint64_t dst, uint32_t len, uint32_t flags, uint32_t adj)
{
	struct vpio_xdma_desc *d = &h->ring[i];
	uint64_t nxt = iova(&h->ring[i + 1]);

	d->control = vpio_xdma_desc_control(adj, flags);
	d->len = len;
	d->src_lo = (uint32_t)src;
	d->src_hi = (uint32_t)(src >> 32);
	d->dst_lo = (uint32_t)dst;
	d->dst_hi = (uint32_t)(dst >> 32);
	d->nxt_lo = (uint32_t)nxt;
	d->nxt_hi = (uint32_t)(nxt >> 32);
}

/* Program the writeback and the first descriptor (ring index first, adj
 * adjacent), clear Run, then start with ctrl. */
static void start(struct xh *h, bool c2h, unsigned ch, unsigned first, uint32_t adj, uint32_t ctrl)
{
	uint32_t b = chan_base(c2h, ch), sg = b + VPIO_XDMA_SGDMA_OFFSET;
	uint64_t d = iova(&h->ring[first]), w = iova(h->wb);

	__atomic_store_n(&h->wb[0], 0, __ATOMIC_RELEASE);
	wr(h, b + VPIO_XDMA_CH_CONTROL_W1C, VPIO_XDMA_CTRL_RUN);
	wr(h, b + VPIO_XDMA_CH_WB_LO, (uint32_t)w);
	wr(h, b + VPIO_XDMA_CH_WB_HI, (uint32_t)(w >> 32));
	wr(h, sg + VPIO_XDMA_SG_DESC_LO, (uint32_t)d);
	wr(h, sg + VPIO_XDMA_SG_DESC_HI, (uint32_t)(d >> 32));
	wr(h, sg + VPIO_XDMA_SG_DESC_ADJ, adj);
	wr(h, b + VPIO_XDMA_CH_CONTROL, ctrl);
}

/* Wait until the writeback word is non-zero and then (or when expecting
 * nothing) Status busy is 0; returns the word. */
static uint32_t wait_done(struct xh *h, bool c2h, unsigned ch, unsigned ms)
{
	uint64_t end = now_ms() + ms;
	uint32_t w;

	while ((w = __atomic_load_n(&h->wb[0], __ATOMIC_ACQUIRE)) == 0 && now_ms() < end)
		sched_yield();
	while ((rd(h, chan_base(c2h, ch) + VPIO_XDMA_CH_STATUS) & VPIO_XDMA_ST_BUSY) && now_ms() < end)
		sched_yield();
	return __atomic_load_n(&h->wb[0], __ATOMIC_ACQUIRE);
}

static uint64_t host_errors(struct xh *h)
{
	char buf[256];

	return vpio_emu_xdma_last_host_error(h->x, buf, sizeof(buf));
}

/* ------------------------------------------------------------ tests */

static void test_options(void)
{
	static const char *const bad[] = {
		"emu:xdma9?h2c=5",	     "emu:xdma9?c2h=x",	       "emu:xdma9?mem=1000",  "emu:xdma9?mem=0",
		"emu:xdma9?bars=user",	     "emu:xdma9?bars=cfg,cfg", "emu:xdma9?bars=cfg,foo", "emu:xdma9?align=3",
		"emu:xdma9?gran=256",	     "emu:xdma9?addrbits=31",  "emu:xdma9?h2c=1&h2c=2", "emu:xdma9?nope=1",
		"emu:xdma9?h2c",	     "emu:xdma9?addrbits=32&mem=8G", "emu:xdma9?corrupt=x", "emu:xdma9?corrupt=-1",
	};
	struct vpio_pci_device *dev;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		vpio_test_log_capture();
		CU_ASSERT_EQUAL(vpio_pci_device_open(bad[i], &dev), -EINVAL);
		CU_ASSERT_EQUAL(vpio_test_log_errors(), 1);
		vpio_test_log_release();
	}
	CU_ASSERT_EQUAL(vpio_pci_device_open("emu:xdma9?h2c=2&c2h=3&mem=1M&bars=user,cfg,bypass&bar64=1", &dev), 0);
	CU_ASSERT_EQUAL(dev->info.vendor_id, VPIO_XDMA_VENDOR_ID);
	/* 64-bit BARs: user on 0, config on 2, bypass (card memory) on 4 */
	CU_ASSERT_EQUAL(dev->bar[0].len, 0x10000);
	CU_ASSERT_EQUAL(dev->bar[1].len, 0);
	CU_ASSERT_EQUAL(dev->bar[2].len, 0x10000);
	CU_ASSERT_EQUAL(dev->bar[4].len, 1u << 20);
	vpio_pci_device_close(dev);
	/* reopen: same or no options are fine, others conflict */
	CU_ASSERT_EQUAL(vpio_pci_device_open("emu:xdma9", &dev), 0);
	vpio_pci_device_close(dev);
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_pci_device_open("emu:xdma9?h2c=1", &dev), -EEXIST);
	CU_ASSERT(vpio_test_log_has("'h2c'"));
	vpio_test_log_release();
	CU_ASSERT_EQUAL(vpio_emu_destroy("emu:xdma9"), 0);
	CU_ASSERT_EQUAL(vpio_emu_destroy("emu:xdma9"), -ENOENT);
}

static void test_identifiers(void)
{
	struct xh h;

	CU_ASSERT_FATAL(xh_open(&h, "emu:xdma1?h2c=2&c2h=1&stream=1&bars=user,cfg&align=64&gran=4&addrbits=48"));
	CU_ASSERT_EQUAL(h.cfg, 1);
	CU_ASSERT_EQUAL(rd(&h, 0x0000) & 0xffff8f00u, 0x1fc08000u); /* H2C 0, stream */
	CU_ASSERT_EQUAL(rd(&h, 0x0100) & 0xffff0f00u, 0x1fc00100u);
	CU_ASSERT_EQUAL(rd(&h, 0x0200), 0);			  /* H2C 2 absent */
	CU_ASSERT_EQUAL(rd(&h, 0x1000) & 0xffff0000u, 0x1fc10000u);
	CU_ASSERT_EQUAL(rd(&h, 0x1100), 0);
	CU_ASSERT_EQUAL(rd(&h, 0x2000) & 0xffff0000u, 0x1fc20000u);
	CU_ASSERT_EQUAL(rd(&h, 0x3000) & 0xffff0000u, 0x1fc30000u);
	CU_ASSERT_EQUAL(rd(&h, 0x4000) & 0xffff0000u, 0x1fc40000u);
	CU_ASSERT_EQUAL(rd(&h, 0x5000) & 0xffff0000u, 0x1fc50000u);
	CU_ASSERT_EQUAL(rd(&h, 0x6000) & 0xffff0000u, 0x1fc60000u);
	CU_ASSERT_EQUAL(VPIO_XDMA_ID_VERSION(rd(&h, 0)), 6);
	CU_ASSERT_EQUAL(rd(&h, 0x004c), (64u << 16) | (4u << 8) | 48u);
	/* the user BAR is a plain register file */
	vpio_pci_bar_write32(h.dev, 0, 0x100, 0xdeadbeef);
	CU_ASSERT_EQUAL(vpio_pci_bar_read32(h.dev, 0, 0x100), 0xdeadbeef);
	xh_close(&h, "emu:xdma1", 0);
}

static void test_register_kinds(void)
{
	struct xh h;

	CU_ASSERT_FATAL(xh_open(&h, "emu:xdma2"));
	/* Control: RW, W1S, W1C (reads of the W1S/W1C forms give Control) */
	wr(&h, H2C0 + VPIO_XDMA_CH_CONTROL, VPIO_XDMA_CTRL_NON_INC | VPIO_XDMA_CTRL_IE_MAGIC_STOPPED);
	wr(&h, H2C0 + VPIO_XDMA_CH_CONTROL_W1S, VPIO_XDMA_CTRL_POLLMODE_WB);
	wr(&h, H2C0 + VPIO_XDMA_CH_CONTROL_W1C, VPIO_XDMA_CTRL_NON_INC);
	CU_ASSERT_EQUAL(rd(&h, H2C0 + VPIO_XDMA_CH_CONTROL), VPIO_XDMA_CTRL_POLLMODE_WB | VPIO_XDMA_CTRL_IE_MAGIC_STOPPED);
	CU_ASSERT_EQUAL(rd(&h, H2C0 + VPIO_XDMA_CH_CONTROL_W1S), rd(&h, H2C0 + VPIO_XDMA_CH_CONTROL));
	/* interrupt mask RW/W1S/W1C */
	wr(&h, H2C0 + VPIO_XDMA_CH_IRQ_MASK, 0x6);
	wr(&h, H2C0 + VPIO_XDMA_CH_IRQ_MASK_W1S, 0x10);
	wr(&h, H2C0 + VPIO_XDMA_CH_IRQ_MASK_W1C, 0x2);
	CU_ASSERT_EQUAL(rd(&h, H2C0 + VPIO_XDMA_CH_IRQ_MASK), 0x14);
	/* IRQ block and SGDMA common: the same three forms */
	wr(&h, 0x2000 + VPIO_XDMA_IRQ_CHAN_EN_W1S, 0x3);
	wr(&h, 0x2000 + VPIO_XDMA_IRQ_CHAN_EN_W1C, 0x1);
	CU_ASSERT_EQUAL(rd(&h, 0x2000 + VPIO_XDMA_IRQ_CHAN_EN), 0x2);
	wr(&h, 0x6000 + VPIO_XDMA_COMMON_HALT, 0x10001);
	wr(&h, 0x6000 + VPIO_XDMA_COMMON_HALT_W1C, 0x1);
	CU_ASSERT_EQUAL(rd(&h, 0x6000 + VPIO_XDMA_COMMON_HALT), 0x10000);
	wr(&h, 0x6000 + VPIO_XDMA_COMMON_HALT, 0);
	/* credits add up */
	wr(&h, H2C0 + 0x4000 + VPIO_XDMA_SG_CREDITS, 5);
	wr(&h, H2C0 + 0x4000 + VPIO_XDMA_SG_CREDITS, 7);
	CU_ASSERT_EQUAL(rd(&h, H2C0 + 0x4000 + VPIO_XDMA_SG_CREDITS), 12);
	CU_ASSERT_EQUAL(host_errors(&h), 0);
	/* a read-only register and an absent engine: host errors */
	wr(&h, H2C0 + VPIO_XDMA_CH_ALIGNMENTS, 0);
	CU_ASSERT_EQUAL(host_errors(&h), 1);
	wr(&h, chan_base(false, 3) + VPIO_XDMA_CH_CONTROL, 1);
	CU_ASSERT_EQUAL(host_errors(&h), 2);
	CU_ASSERT_EQUAL(rd(&h, 0x3), UINT32_MAX); /* unaligned */
	xh_close(&h, "emu:xdma2", 3);
}

/* Two adjacent descriptors host -> card, then card -> host. */
static void test_mm_run(void)
{
	uint32_t b = chan_base(false, 0), w;
	struct vpio_emu_xdma_stats st;
	struct xh h;

	CU_ASSERT_FATAL(xh_open(&h, "emu:xdma3?mem=1M"));
	for (unsigned i = 0; i < 8192; i++)
		h.buf[i] = (uint8_t)(i * 7 + 1);
	desc(&h, 0, iova(h.buf), 0x1000, 4096, VPIO_XDMA_DESC_COMPLETED, 1);
	desc(&h, 1, iova(h.buf + 4096), 0x2000, 4096, VPIO_XDMA_DESC_COMPLETED | VPIO_XDMA_DESC_STOP, 0);
	start(&h, false, 0, 0, 1, CTRL_START);
	w = wait_done(&h, false, 0, WAIT_MS);
	CU_ASSERT_EQUAL(w, 2);
	CU_ASSERT_EQUAL(rd(&h, b + VPIO_XDMA_CH_COMPLETED), 2);
	CU_ASSERT_EQUAL(rd(&h, b + VPIO_XDMA_CH_STATUS) & VPIO_XDMA_ST_BUSY, 0);
	CU_ASSERT(rd(&h, b + VPIO_XDMA_CH_CONTROL) & VPIO_XDMA_CTRL_RUN); /* STOP leaves Run set */
	CU_ASSERT_EQUAL(memcmp(h.card + 0x1000, h.buf, 8192), 0);
	/* back: only the last descriptor has COMPLETED, one writeback */
	memset(h.buf + 16384, 0, 8192);
	desc(&h, 0, 0x1000, iova(h.buf + 16384), 8192, VPIO_XDMA_DESC_COMPLETED | VPIO_XDMA_DESC_STOP, 0);
	start(&h, true, 0, 0, 0, CTRL_START);
	CU_ASSERT_EQUAL(wait_done(&h, true, 0, WAIT_MS), 1);
	CU_ASSERT_EQUAL(memcmp(h.buf + 16384, h.buf, 8192), 0);
	vpio_emu_xdma_get_stats(h.x, &st);
	CU_ASSERT_EQUAL(st.runs, 2);
	CU_ASSERT_EQUAL(st.descriptors, 3);
	CU_ASSERT_EQUAL(st.bytes_h2c, 8192);
	CU_ASSERT_EQUAL(st.bytes_c2h, 8192);
	CU_ASSERT_EQUAL(st.writebacks, 3);
	xh_close(&h, "emu:xdma3", 0);
}

/* corrupt=2: the second memory-mapped C2H descriptor finds the first byte
 * of its card range flipped; the first and third read what was written. */
static void test_corrupt_option(void)
{
	struct xh h;

	CU_ASSERT_FATAL(xh_open(&h, "emu:xdma11?mem=1M&corrupt=2"));
	for (unsigned i = 0; i < 4096; i++)
		h.buf[i] = (uint8_t)(i * 5 + 3);
	desc(&h, 0, iova(h.buf), 0x1000, 4096, VPIO_XDMA_DESC_COMPLETED | VPIO_XDMA_DESC_STOP, 0);
	start(&h, false, 0, 0, 0, CTRL_START);
	CU_ASSERT_EQUAL(wait_done(&h, false, 0, WAIT_MS), 1);
	for (unsigned n = 1; n <= 3; n++) {
		memset(h.buf + 8192, 0, 4096);
		desc(&h, 0, 0x1000, iova(h.buf + 8192), 4096, VPIO_XDMA_DESC_COMPLETED | VPIO_XDMA_DESC_STOP, 0);
		start(&h, true, 0, 0, 0, CTRL_START);
		CU_ASSERT_EQUAL(wait_done(&h, true, 0, WAIT_MS), 1);
		CU_ASSERT_EQUAL(h.buf[8192], (uint8_t)(n == 1 ? 3 : 3 ^ 0xff)); /* card memory stays flipped */
		CU_ASSERT_EQUAL(memcmp(h.buf + 8193, h.buf + 1, 4095), 0);
	}
	xh_close(&h, "emu:xdma11", 0);
}

/* Status: errors set on a failed run, 0x44 clears 23:1 on read, 0x40 is
 * RW1C, a rising edge of Run clears them too. */
static void test_status_clear(void)
{
	struct xh h;

	CU_ASSERT_FATAL(xh_open(&h, "emu:xdma4?mem=1M"));
	desc(&h, 0, iova(h.buf), 0, 4096, VPIO_XDMA_DESC_COMPLETED | VPIO_XDMA_DESC_STOP, 0);
	h.ring[0].control ^= 0x10000; /* bad magic */
	start(&h, false, 0, 0, 0, CTRL_START);
	CU_ASSERT_EQUAL(wait_done(&h, false, 0, WAIT_MS), VPIO_XDMA_WB_ERR); /* errwb=1 by default */
	CU_ASSERT_EQUAL(rd(&h, H2C0 + VPIO_XDMA_CH_STATUS), VPIO_XDMA_ST_MAGIC_STOPPED);
	CU_ASSERT_EQUAL(rd(&h, H2C0 + VPIO_XDMA_CH_STATUS_RC), VPIO_XDMA_ST_MAGIC_STOPPED);
	CU_ASSERT_EQUAL(rd(&h, H2C0 + VPIO_XDMA_CH_STATUS_RC), 0);
	CU_ASSERT_EQUAL(host_errors(&h), 1); /* the bad magic */
	/* RW1C */
	start(&h, false, 0, 0, 0, CTRL_START);
	wait_done(&h, false, 0, WAIT_MS);
	wr(&h, H2C0 + VPIO_XDMA_CH_STATUS, VPIO_XDMA_ST_MAGIC_STOPPED | VPIO_XDMA_ST_BUSY);
	CU_ASSERT_EQUAL(rd(&h, H2C0 + VPIO_XDMA_CH_STATUS), 0);
	/* a rising edge clears them */
	start(&h, false, 0, 0, 0, CTRL_START);
	wait_done(&h, false, 0, WAIT_MS);
	CU_ASSERT_EQUAL(rd(&h, H2C0 + VPIO_XDMA_CH_STATUS), VPIO_XDMA_ST_MAGIC_STOPPED);
	h.ring[0].control ^= 0x10000;
	start(&h, false, 0, 0, 0, CTRL_START);
	CU_ASSERT_EQUAL(wait_done(&h, false, 0, WAIT_MS), 1);
	CU_ASSERT_EQUAL(rd(&h, H2C0 + VPIO_XDMA_CH_STATUS), 0);
	xh_close(&h, "emu:xdma4", 3);
}

struct vcase {
	bool c2h;
	unsigned first, adj;
	uint64_t src, dst;
	uint32_t len;
	uint32_t status;
};

/* Each invalid descriptor stops the engine with its Status bits. */
static void test_validation(void)
{
	struct vcase cases[8];
	struct xh h;
	unsigned n = 0;

	CU_ASSERT_FATAL(xh_open(&h, "emu:xdma5?mem=1M&align=64&gran=4"));
	/* length 0, bits 31:28 set, not a multiple of gran */
	cases[n++] = (struct vcase){ false, 0, 0, iova(h.buf), 0, 0, DESC_UR };
	cases[n++] = (struct vcase){ false, 0, 0, iova(h.buf), 0, 0x10000040, DESC_UR };
	cases[n++] = (struct vcase){ false, 0, 0, iova(h.buf), 0, 66, VPIO_XDMA_ST_ALIGN_MISMATCH };
	/* host and card misaligned to each other */
	cases[n++] = (struct vcase){ false, 0, 0, iova(h.buf) + 4, 8, 64, VPIO_XDMA_ST_ALIGN_MISMATCH };
	/* card range beyond memory: H2C write error, C2H read error (decode) */
	cases[n++] = (struct vcase){ false, 0, 0, iova(h.buf), (1u << 20) - 64, 128, 1u << 14 };
	cases[n++] = (struct vcase){ true, 0, 0, (1u << 20), iova(h.buf), 64, 1u << 9 };
	/* a block that crosses 4 KiB: descriptor 127 with one adjacent */
	cases[n++] = (struct vcase){ false, 127, 1, iova(h.buf), 0, 64, DESC_UR };
	for (unsigned i = 0; i < n; i++) {
		uint32_t b = chan_base(cases[i].c2h, 0);

		desc(&h, cases[i].first, cases[i].src, cases[i].dst, cases[i].len,
		     VPIO_XDMA_DESC_COMPLETED | VPIO_XDMA_DESC_STOP, 0);
		start(&h, cases[i].c2h, 0, cases[i].first, cases[i].adj, CTRL_START);
		CU_ASSERT_EQUAL(wait_done(&h, cases[i].c2h, 0, WAIT_MS), VPIO_XDMA_WB_ERR);
		CU_ASSERT_EQUAL(rd(&h, b + VPIO_XDMA_CH_STATUS_RC), cases[i].status);
		CU_ASSERT_EQUAL(host_errors(&h), i + 1);
		if (rd(&h, b + VPIO_XDMA_CH_STATUS) != 0 || host_errors(&h) != i + 1)
			printf("\n    case %u failed\n", i);
	}
	xh_close(&h, "emu:xdma5", 7);
}

/* Unregistered host memory: descriptor fetch, H2C source, C2H destination
 * (dropped, completes), the writeback address. */
static void test_iommu(void)
{
	uint8_t *plain = aligned_alloc(4096, 8192);
	struct vpio_emu_xdma_stats st;
	uint64_t unreg = (uint64_t)(uintptr_t)plain;
	struct xh h;

	CU_ASSERT_FATAL(plain != NULL);
	CU_ASSERT_FATAL(xh_open(&h, "emu:xdma6?mem=1M&errwb=0"));
	/* descriptor fetch from unregistered memory: UR + magic stopped, no writeback (errwb=0) */
	wr(&h, H2C0 + 0x4000 + VPIO_XDMA_SG_DESC_LO, (uint32_t)unreg);
	wr(&h, H2C0 + 0x4000 + VPIO_XDMA_SG_DESC_HI, (uint32_t)(unreg >> 32));
	wr(&h, H2C0 + 0x4000 + VPIO_XDMA_SG_DESC_ADJ, 0);
	wr(&h, H2C0 + VPIO_XDMA_CH_WB_LO, (uint32_t)iova(h.wb));
	wr(&h, H2C0 + VPIO_XDMA_CH_WB_HI, (uint32_t)(iova(h.wb) >> 32));
	h.wb[0] = 0;
	wr(&h, H2C0 + VPIO_XDMA_CH_CONTROL, CTRL_START);
	CU_ASSERT_EQUAL(wait_done(&h, false, 0, 300), 0);
	CU_ASSERT_EQUAL(rd(&h, H2C0 + VPIO_XDMA_CH_STATUS_RC), VPIO_XDMA_ST_MAGIC_STOPPED | DESC_UR);
	/* H2C source: read error UR */
	desc(&h, 0, unreg, 0, 4096, VPIO_XDMA_DESC_COMPLETED | VPIO_XDMA_DESC_STOP, 0);
	start(&h, false, 0, 0, 0, CTRL_START);
	CU_ASSERT_EQUAL(wait_done(&h, false, 0, 300), 0);
	CU_ASSERT_EQUAL(rd(&h, H2C0 + VPIO_XDMA_CH_STATUS_RC), 1u << 9);
	/* C2H destination: a posted write, dropped; the descriptor completes */
	desc(&h, 0, 0, unreg, 4096, VPIO_XDMA_DESC_COMPLETED | VPIO_XDMA_DESC_STOP, 0);
	start(&h, true, 0, 0, 0, CTRL_START);
	CU_ASSERT_EQUAL(wait_done(&h, true, 0, WAIT_MS), 1);
	CU_ASSERT_EQUAL(rd(&h, chan_base(true, 0) + VPIO_XDMA_CH_STATUS_RC), 0);
	vpio_emu_xdma_get_stats(h.x, &st);
	CU_ASSERT_EQUAL(st.iommu_faults, 3);
	CU_ASSERT_EQUAL(st.host_errors, 3);
	xh_close(&h, "emu:xdma6", 3);
	free(plain);
}

/* Run set again while busy, a stuck engine, halt: host error, busy, Run
 * cleared stops it. */
static void test_stuck_and_busy(void)
{
	uint64_t t0;
	struct xh h;

	CU_ASSERT_FATAL(xh_open(&h, "emu:xdma7?mem=1M"));
	CU_ASSERT_EQUAL(vpio_emu_xdma_inject(h.x, false, 0, VPIO_EMU_XDMA_FAULT_STUCK, 0), 0);
	desc(&h, 0, iova(h.buf), 0, 4096, VPIO_XDMA_DESC_COMPLETED | VPIO_XDMA_DESC_STOP, 0);
	start(&h, false, 0, 0, 0, CTRL_START);
	t0 = now_ms();
	while (!(rd(&h, H2C0 + VPIO_XDMA_CH_STATUS) & VPIO_XDMA_ST_BUSY) && now_ms() - t0 < WAIT_MS)
		sched_yield();
	CU_ASSERT(rd(&h, H2C0 + VPIO_XDMA_CH_STATUS) & VPIO_XDMA_ST_BUSY);
	usleep(20000);
	CU_ASSERT_EQUAL(h.wb[0], 0);
	CU_ASSERT(rd(&h, H2C0 + VPIO_XDMA_CH_STATUS) & VPIO_XDMA_ST_BUSY);
	/* Run cleared: idle, the fault is spent, the next run works */
	wr(&h, H2C0 + VPIO_XDMA_CH_CONTROL_W1C, VPIO_XDMA_CTRL_RUN);
	t0 = now_ms();
	while ((rd(&h, H2C0 + VPIO_XDMA_CH_STATUS) & VPIO_XDMA_ST_BUSY) && now_ms() - t0 < WAIT_MS)
		sched_yield();
	CU_ASSERT_EQUAL(rd(&h, H2C0 + VPIO_XDMA_CH_STATUS) & VPIO_XDMA_ST_BUSY, 0);
	CU_ASSERT_EQUAL(host_errors(&h), 0);
	start(&h, false, 0, 0, 0, CTRL_START);
	CU_ASSERT_EQUAL(wait_done(&h, false, 0, WAIT_MS), 1);
	/* halted descriptor fetch waits; Run set twice while busy is a host
	 * error.  The engine stops as soon as it sees Run cleared: when it
	 * ran between the two writes (a loaded machine), try again */
	wr(&h, 0x6000 + VPIO_XDMA_COMMON_HALT_W1S, 1);
	start(&h, false, 0, 0, 0, CTRL_START);
	for (unsigned i = 0; i < 1000 && host_errors(&h) == 0; i++) {
		t0 = now_ms();
		while (!(rd(&h, H2C0 + VPIO_XDMA_CH_STATUS) & VPIO_XDMA_ST_BUSY) && now_ms() - t0 < WAIT_MS)
			sched_yield();
		wr(&h, H2C0 + VPIO_XDMA_CH_CONTROL_W1C, VPIO_XDMA_CTRL_RUN);
		wr(&h, H2C0 + VPIO_XDMA_CH_CONTROL, CTRL_START);
	}
	CU_ASSERT_EQUAL(host_errors(&h), 1);
	wr(&h, 0x6000 + VPIO_XDMA_COMMON_HALT_W1C, 1);
	CU_ASSERT_EQUAL(wait_done(&h, false, 0, WAIT_MS), 1);
	xh_close(&h, "emu:xdma7", 1);
}

static void test_faults(void)
{
	uint32_t b = chan_base(true, 0);
	struct xh h;

	CU_ASSERT_FATAL(xh_open(&h, "emu:xdma8?mem=1M"));
	desc(&h, 0, 0, iova(h.buf), 4096, VPIO_XDMA_DESC_COMPLETED | VPIO_XDMA_DESC_STOP, 0);
	/* DROP_WB: nothing written, yet the engine went idle with its count */
	CU_ASSERT_EQUAL(vpio_emu_xdma_inject(h.x, true, 0, VPIO_EMU_XDMA_FAULT_DROP_WB, 0), 0);
	start(&h, true, 0, 0, 0, CTRL_START);
	CU_ASSERT_EQUAL(wait_done(&h, true, 0, 200), 0);
	CU_ASSERT_EQUAL(rd(&h, b + VPIO_XDMA_CH_COMPLETED), 1);
	/* CORRUPT_WB: reserved bits, or the given word */
	CU_ASSERT_EQUAL(vpio_emu_xdma_inject(h.x, true, 0, VPIO_EMU_XDMA_FAULT_CORRUPT_WB, 0), 0);
	start(&h, true, 0, 0, 0, CTRL_START);
	CU_ASSERT_EQUAL(wait_done(&h, true, 0, WAIT_MS), VPIO_XDMA_WB_RESERVED | 1);
	CU_ASSERT_EQUAL(vpio_emu_xdma_inject(h.x, true, 0, VPIO_EMU_XDMA_FAULT_CORRUPT_WB, 0x00ffffff), 0);
	start(&h, true, 0, 0, 0, CTRL_START);
	CU_ASSERT_EQUAL(wait_done(&h, true, 0, WAIT_MS), 0x00ffffff);
	/* DMA: C2H read error (slave error) */
	CU_ASSERT_EQUAL(vpio_emu_xdma_inject(h.x, true, 0, VPIO_EMU_XDMA_FAULT_DMA, 0), 0);
	start(&h, true, 0, 0, 0, CTRL_START);
	CU_ASSERT_EQUAL(wait_done(&h, true, 0, WAIT_MS), VPIO_XDMA_WB_ERR);
	CU_ASSERT_EQUAL(rd(&h, b + VPIO_XDMA_CH_STATUS_RC), 1u << 10);
	/* DESC: fetch error (UR + magic stopped); MAGIC */
	CU_ASSERT_EQUAL(vpio_emu_xdma_inject(h.x, true, 0, VPIO_EMU_XDMA_FAULT_DESC, 0), 0);
	start(&h, true, 0, 0, 0, CTRL_START);
	CU_ASSERT_EQUAL(wait_done(&h, true, 0, WAIT_MS), VPIO_XDMA_WB_ERR);
	CU_ASSERT_EQUAL(rd(&h, b + VPIO_XDMA_CH_STATUS_RC), DESC_UR | VPIO_XDMA_ST_MAGIC_STOPPED);
	CU_ASSERT_EQUAL(vpio_emu_xdma_inject(h.x, true, 0, VPIO_EMU_XDMA_FAULT_MAGIC, 0), 0);
	start(&h, true, 0, 0, 0, CTRL_START);
	CU_ASSERT_EQUAL(wait_done(&h, true, 0, WAIT_MS), VPIO_XDMA_WB_ERR);
	CU_ASSERT_EQUAL(rd(&h, b + VPIO_XDMA_CH_STATUS_RC), VPIO_XDMA_ST_MAGIC_STOPPED);
	/* spent: the next run is clean; injected faults are no host errors */
	start(&h, true, 0, 0, 0, CTRL_START);
	CU_ASSERT_EQUAL(wait_done(&h, true, 0, WAIT_MS), 1);
	CU_ASSERT_EQUAL(host_errors(&h), 0);
	/* bad injections */
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_emu_xdma_inject(h.x, true, 1, VPIO_EMU_XDMA_FAULT_DMA, 0), -EINVAL);
	CU_ASSERT_EQUAL(vpio_emu_xdma_inject(h.x, true, 0, (enum vpio_emu_xdma_fault)99, 0), -EINVAL);
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 2);
	vpio_test_log_release();
	xh_close(&h, "emu:xdma8", 0);
}

/* Stream loopback: a 100-byte packet into a 4096-byte descriptor ends it
 * early (EOP, length 100); a 6000-byte packet spans two descriptors. */
static void test_stream(void)
{
	struct vpio_xdma_c2h_result *res;
	uint8_t *rx;
	struct xh h;

	CU_ASSERT_FATAL(xh_open(&h, "emu:xdma10?stream=1"));
	res = (struct vpio_xdma_c2h_result *)(void *)(h.wb + 64);
	rx = h.buf + 32768;
	for (unsigned i = 0; i < 8192; i++)
		h.buf[i] = (uint8_t)(i ^ 0x5a);
	/* C2H first: three descriptors waiting for data */
	desc(&h, 8, iova(&res[0]), iova(rx), 4096, VPIO_XDMA_DESC_COMPLETED, 2);
	desc(&h, 9, iova(&res[1]), iova(rx + 4096), 4096, VPIO_XDMA_DESC_COMPLETED, 0);
	desc(&h, 10, iova(&res[2]), iova(rx + 8192), 4096, VPIO_XDMA_DESC_COMPLETED | VPIO_XDMA_DESC_STOP, 0);
	{
		uint32_t b = chan_base(true, 0), sg = b + 0x4000;
		uint64_t d = iova(&h.ring[8]), w = iova(&h.wb[1]);

		wr(&h, b + VPIO_XDMA_CH_WB_LO, (uint32_t)w);
		wr(&h, b + VPIO_XDMA_CH_WB_HI, (uint32_t)(w >> 32));
		wr(&h, sg + VPIO_XDMA_SG_DESC_LO, (uint32_t)d);
		wr(&h, sg + VPIO_XDMA_SG_DESC_HI, (uint32_t)(d >> 32));
		wr(&h, sg + VPIO_XDMA_SG_DESC_ADJ, 2);
		wr(&h, b + VPIO_XDMA_CH_CONTROL, CTRL_START);
	}
	usleep(10000);
	CU_ASSERT_EQUAL(h.wb[1], 0); /* nothing sent yet */
	/* H2C: packet of 100 bytes (EOP), then one of 6000 (two descriptors) */
	desc(&h, 0, iova(h.buf), 0, 100, VPIO_XDMA_DESC_COMPLETED | VPIO_XDMA_DESC_EOP, 0);
	desc(&h, 1, iova(h.buf + 100), 0, 4000, VPIO_XDMA_DESC_COMPLETED, 0);
	desc(&h, 2, iova(h.buf + 4100), 0, 2000, VPIO_XDMA_DESC_COMPLETED | VPIO_XDMA_DESC_EOP | VPIO_XDMA_DESC_STOP, 0);
	start(&h, false, 0, 0, 2, CTRL_START);
	CU_ASSERT_EQUAL(wait_done(&h, false, 0, WAIT_MS), 3);
	{
		uint64_t t0 = now_ms();

		while (__atomic_load_n(&h.wb[1], __ATOMIC_ACQUIRE) != 3 && now_ms() - t0 < WAIT_MS)
			sched_yield();
	}
	CU_ASSERT_EQUAL(h.wb[1], 3);
	CU_ASSERT_EQUAL(res[0].status, (VPIO_XDMA_RESULT_MAGIC << 16) | VPIO_XDMA_RESULT_EOP);
	CU_ASSERT_EQUAL(res[0].len, 100);
	CU_ASSERT_EQUAL(res[1].status, VPIO_XDMA_RESULT_MAGIC << 16);
	CU_ASSERT_EQUAL(res[1].len, 4096);
	CU_ASSERT_EQUAL(res[2].status, (VPIO_XDMA_RESULT_MAGIC << 16) | VPIO_XDMA_RESULT_EOP);
	CU_ASSERT_EQUAL(res[2].len, 6000 - 4096);
	CU_ASSERT_EQUAL(memcmp(rx, h.buf, 100), 0);
	CU_ASSERT_EQUAL(memcmp(rx + 4096, h.buf + 100, 6000), 0);
	CU_ASSERT_EQUAL(host_errors(&h), 0);
	/* a C2H engine waiting for data stops when Run is cleared */
	desc(&h, 8, iova(&res[0]), iova(rx), 4096, VPIO_XDMA_DESC_COMPLETED | VPIO_XDMA_DESC_STOP, 0);
	start(&h, true, 0, 8, 0, CTRL_START);
	usleep(5000);
	wr(&h, chan_base(true, 0) + VPIO_XDMA_CH_CONTROL_W1C, VPIO_XDMA_CTRL_RUN);
	CU_ASSERT_EQUAL(wait_done(&h, true, 0, 1000), 0);
	CU_ASSERT_EQUAL(rd(&h, chan_base(true, 0) + VPIO_XDMA_CH_STATUS) & VPIO_XDMA_ST_BUSY, 0);
	xh_close(&h, "emu:xdma10", 0);
}

/* A run that ends at a STOP descriptor writes its last writeback word
 * before Status busy goes to 0: a driver that cleared Run and read busy
 * = 0 takes the word as final (and reuses it for the next run), so
 * nothing of the run may come after.  Many short runs, Status read as fast
 * as it goes; each also restarted as soon as its final word is seen, which
 * must not count as "Run set while busy". */
static void test_idle_after_writeback(void)
{
	uint32_t b = chan_base(false, 0);
	unsigned late = 0, stuck = 0;
	struct xh h;

	CU_ASSERT_FATAL(xh_open(&h, "emu:xdma12?mem=1M"));
	desc(&h, 0, iova(h.buf), 0x1000, 4096, VPIO_XDMA_DESC_COMPLETED | VPIO_XDMA_DESC_STOP, 0);
	for (unsigned i = 0; i < 400; i++) {
		uint64_t end = now_ms() + WAIT_MS;

		start(&h, false, 0, 0, 0, CTRL_START);
		/* the count register moves with the descriptor, before busy goes */
		while (rd(&h, b + VPIO_XDMA_CH_COMPLETED) != 1 && now_ms() < end)
			;
		while ((rd(&h, b + VPIO_XDMA_CH_STATUS) & VPIO_XDMA_ST_BUSY) && now_ms() < end)
			;
		stuck += now_ms() >= end;
		late += __atomic_load_n(&h.wb[0], __ATOMIC_ACQUIRE) != 1;
	}
	CU_ASSERT_EQUAL(stuck, 0);
	CU_ASSERT_EQUAL(late, 0);
	if (late != 0)
		printf("\n    busy was 0 before the final writeback in %u of 400 runs\n", late);
	for (unsigned i = 0; i < 400; i++) {
		start(&h, false, 0, 0, 0, CTRL_START);
		CU_ASSERT_EQUAL(wait_done(&h, false, 0, WAIT_MS), 1);
	}
	for (unsigned i = 0; i < 400; i++) { /* restart at the final word, no wait for busy */
		uint64_t end = now_ms() + WAIT_MS;

		__atomic_store_n(&h.wb[0], 0, __ATOMIC_RELEASE);
		wr(&h, b + VPIO_XDMA_CH_CONTROL_W1C, VPIO_XDMA_CTRL_RUN);
		wr(&h, b + VPIO_XDMA_CH_CONTROL, CTRL_START);
		while (__atomic_load_n(&h.wb[0], __ATOMIC_ACQUIRE) != 1 && now_ms() < end)
			sched_yield();
		CU_ASSERT_EQUAL(__atomic_load_n(&h.wb[0], __ATOMIC_ACQUIRE), 1);
	}
	CU_ASSERT_EQUAL(wait_done(&h, false, 0, WAIT_MS), 1);
	xh_close(&h, "emu:xdma12", 0);
}

static int register_tests(void)
{
	static CU_TestInfo tests[] = { { "test_options", test_options }, { "test_identifiers", test_identifiers },
		{ "test_register_kinds", test_register_kinds }, { "test_mm_run", test_mm_run },
		{ "test_corrupt_option", test_corrupt_option },
		{ "test_status_clear", test_status_clear }, { "test_validation", test_validation },
		{ "test_iommu", test_iommu }, { "test_stuck_and_busy", test_stuck_and_busy }, { "test_faults", test_faults },
		{ "test_stream", test_stream },
		{ "test_idle_after_writeback", test_idle_after_writeback }, CU_TEST_INFO_NULL };
	CU_SuiteInfo suites[] = { { .pName = "emu_xdma", .pTests = tests }, CU_SUITE_INFO_NULL };

	return CU_register_suites(suites) == CUE_SUCCESS ? 0 : -1;
}

int main(void)
{
	return vpio_test_run_quiet(register_tests);
}
