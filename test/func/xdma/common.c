/* SPDX-License-Identifier: BSD-3-Clause */
/* func_xdma helpers: guarded buffers, attach, waits, random data. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "func_xdma.h"

static uint64_t g_rng = 0x5eed;

uint64_t fx_rand(void)
{
	g_rng ^= g_rng << 13;
	g_rng ^= g_rng >> 7;
	g_rng ^= g_rng << 17;
	return g_rng;
}

void fx_seed(uint64_t seed)
{
	g_rng = seed ? seed : 1;
}

void fx_fill(void *buf, size_t len, uint64_t seed)
{
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)((seed >> (8 * (i % 7))) + i * 13 + (i >> 8));
}

uint64_t fx_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint8_t guard_byte(size_t i)
{
	return (uint8_t)(0xa5 ^ (i * 131));
}

static void guard_fill(struct fx_buf *b)
{
	for (size_t i = 0; i < b->total; i++) {
		if (b->mem + i < b->p || b->mem + i >= b->p + b->len)
			b->mem[i] = guard_byte(i);
	}
}

static bool setup(struct fx_buf *b, uint8_t *mem, size_t total, size_t len, size_t off)
{
	if (mem == NULL)
		return false;
	b->mem = mem;
	b->total = total;
	b->p = mem + FX_GUARD + off;
	b->len = len;
	guard_fill(b);
	return true;
}

static size_t total_for(size_t len, size_t off)
{
	return (FX_GUARD + off + len + FX_GUARD + 4095) & ~(size_t)4095;
}

bool fx_buf_alloc(struct fx_buf *b, size_t len, size_t off)
{
	size_t total = total_for(len, off);

	memset(b, 0, sizeof(*b));
	return setup(b, vpio_dma_malloc(total, 4096), total, len, off);
}

bool fx_buf_alloc_heap(struct fx_buf *b, size_t len, size_t off)
{
	size_t total = total_for(len, off);
	uint8_t *m = aligned_alloc(4096, total);

	memset(b, 0, sizeof(*b));
	if (m == NULL || vpio_mem_register(m, total) != 0) {
		free(m);
		return false;
	}
	b->heap = true;
	return setup(b, m, total, len, off);
}

bool fx_guard_ok(const struct fx_buf *b)
{
	for (size_t i = 0; i < b->total; i++) {
		if ((b->mem + i < b->p || b->mem + i >= b->p + b->len) && b->mem[i] != guard_byte(i))
			return false;
	}
	return true;
}

void fx_buf_free(struct fx_buf *b)
{
	if (b->mem == NULL)
		return;
	if (b->heap) {
		vpio_mem_unregister(b->mem, b->total);
		free(b->mem);
	} else {
		vpio_dma_free(b->mem);
	}
	b->mem = NULL;
}

void fx_buf_done(struct fx_buf *b)
{
	CU_ASSERT(fx_guard_ok(b)); /* a guard byte around a DMA buffer changed */
	fx_buf_free(b);
}

struct vpio_xdma_chan_opts fx_opts(uint32_t timeout_ms)
{
	struct vpio_xdma_chan_opts o;

	vpio_xdma_chan_opts_init(&o);
	if (timeout_ms != 0)
		o.timeout_ms = timeout_ms;
	return o;
}

bool fx_pair_open(struct fx_pair *p, const char *name, unsigned idx, const struct vpio_xdma_chan_opts *opts,
		  bool h2c_only)
{
	memset(p, 0, sizeof(*p));
	p->d = fx_attach(name);
	if (p->d == NULL)
		return false;
	p->h = fx_open(p->d, VPIO_XDMA_H2C, idx, opts);
	if (!h2c_only)
		p->c = fx_open(p->d, VPIO_XDMA_C2H, idx, opts);
	return p->h != NULL && (h2c_only || p->c != NULL);
}

void fx_pair_close(struct fx_pair *p)
{
	CU_ASSERT_EQUAL(vpio_xdma_chan_close(p->h), 0);
	CU_ASSERT_EQUAL(vpio_xdma_chan_close(p->c), 0);
	if (p->d == NULL)
		return;
	CU_ASSERT_EQUAL(fx_host_errors(p->d), 0);
	CU_ASSERT_EQUAL(vpio_xdma_detach(p->d), 0);
}

struct vpio_xdma_dev *fx_attach(const char *name)
{
	struct vpio_xdma_dev *d = NULL;

	CU_ASSERT_EQUAL(vpio_xdma_attach(name, NULL, &d), 0);
	return d;
}

struct vpio_xdma_chan *fx_open(struct vpio_xdma_dev *d, enum vpio_xdma_dir dir, unsigned idx,
			       const struct vpio_xdma_chan_opts *opts)
{
	struct vpio_xdma_chan *ch = NULL;

	CU_ASSERT_EQUAL(vpio_xdma_chan_open(d, dir, idx, opts, &ch), 0);
	return ch;
}

struct vpio_emu_xdma *fx_emu(struct vpio_xdma_dev *d)
{
	return vpio_emu_xdma_get(vpio_xdma_get_pci_device(d));
}

uint8_t *fx_card(struct vpio_xdma_dev *d, uint64_t *size)
{
	struct vpio_emu_xdma_info i;

	if (vpio_emu_xdma_get_info(fx_emu(d), &i) != 0)
		return NULL;
	if (size != NULL)
		*size = i.mem_size;
	return i.mem;
}

uint64_t fx_host_errors(struct vpio_xdma_dev *d)
{
	char buf[256];
	uint64_t n = vpio_emu_xdma_last_host_error(fx_emu(d), buf, sizeof(buf));

	if (n != 0)
		printf("\n    last host error: %s\n", buf);
	return n;
}

void fx_c2h_expect(struct vpio_xdma_chan *c, void *buf, size_t len, uint64_t want_len, bool want_eop)
{
	struct vpio_xdma_cpl cpl = { -1, 0, false };

	CU_ASSERT_EQUAL(vpio_xdma_c2h_sync(c, 0, buf, len, &cpl), 0);
	CU_ASSERT_EQUAL(cpl.len, want_len);
	CU_ASSERT_EQUAL(cpl.eop, want_eop);
}

void fx_cb(void *arg, const struct vpio_xdma_cpl *cpl)
{
	struct fx_cpl *w = arg;

	w->done++;
	w->last = *cpl;
	w->errors += cpl->status != 0;
}

int fx_wait(struct vpio_xdma_chan *ch, struct fx_cpl *w, unsigned n, unsigned ms)
{
	uint64_t end = fx_now_ms() + ms;

	while (w->done < n) {
		int rc = vpio_xdma_poll(ch, 0);

		if (rc < 0)
			return rc;
		if (fx_now_ms() > end)
			return -ETIMEDOUT;
	}
	return 0;
}
