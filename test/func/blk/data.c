/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * func_blk data suite, on every target (emulated controllers and files
 * through io_uring by default, or the -a addresses): info, random writes
 * and reads (contiguous and scattered vectors) checked byte for byte with
 * guard regions around every buffer, batched submission (one hand-over per
 * batch), flush, write zeroes, deallocate, -EAGAIN when the channel is
 * full and success after polling, the largest transfer on a channel of
 * depth 1, destroy with requests in flight, two threads with a channel
 * each, and heap memory on io_uring targets.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "func_blk.h"

#define MAX_IO (256u << 10) /* largest random I/O */
#define SPAN (64ull << 20)  /* LBAs used: the first 64 MiB */

#define NO_CHANNEL UINT32_MAX

struct tgt {
	struct vpio_blk_target *t;
	struct vpio_blk_channel *ch;
	struct vpio_blk_info info;
	uint64_t span; /* blocks used */
};

/* Open a target with a channel of depth (0: the default; NO_CHANNEL: none);
 * false, with nothing left open, when that fails. */
static bool tgt_open(struct tgt *x, const char *address, uint32_t depth)
{
	x->ch = NULL;
	x->t = fb_open1(address);
	if (x->t == NULL)
		return false;
	x->info = fb_info(x->t);
	x->span = VPIO_TEST_MIN(x->info.num_blocks, SPAN / x->info.block_size);
	if (depth == NO_CHANNEL)
		return true;
	CU_ASSERT_EQUAL(vpio_blk_channel_create(x->t, depth, &x->ch), 0);
	if (x->ch == NULL)
		vpio_blk_close(x->t);
	return x->ch != NULL;
}

static void tgt_close(struct tgt *x)
{
	CU_ASSERT_EQUAL(vpio_blk_channel_destroy(x->ch), 0);
	CU_ASSERT_EQUAL(vpio_blk_close(x->t), 0);
}

/* Guarded buffers a (and b, unless NULL) of len bytes; on failure the
 * target is closed. */
static bool tgt_bufs(struct tgt *x, struct fb_buf *a, struct fb_buf *b, size_t len)
{
	if (fb_buf_alloc(a, len, false) != 0) {
		tgt_close(x);
		return false;
	}
	if (b != NULL && fb_buf_alloc(b, len, false) != 0) {
		fb_buf_free(a);
		tgt_close(x);
		return false;
	}
	return true;
}

/* Check the guards, free the buffers, close the target. */
static void tgt_done(struct tgt *x, struct fb_buf *a, struct fb_buf *b)
{
	fb_guards_ok(a);
	fb_buf_free(a);
	if (b != NULL) {
		fb_guards_ok(b);
		fb_buf_free(b);
	}
	tgt_close(x);
}

static bool is_uring(const struct tgt *x)
{
	return strcmp(x->info.backend, "uring") == 0;
}

static void test_info(void)
{
	for (unsigned i = 0; i < g_fb_ntargets; i++) {
		struct tgt x;

		if (!tgt_open(&x, g_fb_targets[i], NO_CHANNEL))
			continue;
		CU_ASSERT(x.info.block_size >= 512 && (x.info.block_size & (x.info.block_size - 1)) == 0);
		CU_ASSERT(x.info.num_blocks > 0);
		CU_ASSERT(x.info.max_transfer_bytes >= x.info.block_size);
		CU_ASSERT_EQUAL(x.info.max_transfer_bytes % x.info.block_size, 0);
		CU_ASSERT(x.info.max_iovcnt >= 1);
		CU_ASSERT(x.info.max_queue_depth >= 1 && x.info.max_queue_depth <= VPIO_BLK_MAX_QUEUE_DEPTH);
		CU_ASSERT(x.info.buf_align >= 1 && (x.info.buf_align & (x.info.buf_align - 1)) == 0);
		CU_ASSERT(x.info.buf_align <= 4096); /* vpio_blk_buf_alloc's alignment serves every target */
		CU_ASSERT(strcmp(x.info.backend, "nvme") == 0 || is_uring(&x));
		CU_ASSERT_EQUAL(x.info.nsid != 0, !is_uring(&x));
		if (is_uring(&x)) {
			CU_ASSERT_EQUAL(strncmp(x.info.name, "uring:", 6), 0);
			CU_ASSERT_EQUAL(x.info.buf_align, x.info.block_size);
		} else {
			CU_ASSERT_PTR_NOT_NULL(strstr(x.info.name, "/ns"));
		}
		if (!g_fb_given)
			CU_ASSERT_EQUAL(x.info.num_blocks * x.info.block_size, is_uring(&x) ? FB_FILE_SIZE : 64ull << 20);
		tgt_close(&x);
	}
}

/* Cut [data, data + len) into up to 4 pieces spread over buf with a page
 * between them; each piece but the last a multiple of `unit` (so that the
 * vector is PRP-friendly on NVMe).  Returns the count. */
static int scatter(uint8_t *buf, size_t len, size_t unit, struct iovec *iov)
{
	size_t pos = 0, left = len;
	int n = 0;

	while (left > 0) {
		size_t want = unit * (1 + fb_rand() % 3), piece = n == 3 ? left : VPIO_TEST_MIN(left, want);

		iov[n].iov_base = buf + pos;
		iov[n].iov_len = piece;
		pos += piece + 4096;
		left -= piece;
		n++;
	}
	return n;
}

/* Copy a scattered vector's bytes to/from a contiguous buffer. */
static void gather(const struct iovec *iov, int n, uint8_t *out)
{
	for (int i = 0; i < n; i++) {
		memcpy(out, iov[i].iov_base, iov[i].iov_len);
		out += iov[i].iov_len;
	}
}

static unsigned g_failures;

static void rw_iteration(struct tgt *x, struct fb_buf *w, struct fb_buf *r, uint8_t *tmp, unsigned it)
{
	struct vpio_blk_channel *ch = x->ch;
	uint32_t bs = x->info.block_size, max_n = VPIO_TEST_MIN(x->info.max_transfer_bytes, MAX_IO) / bs;
	uint32_t n = 1 + (uint32_t)(fb_rand() % max_n);
	uint64_t lba = fb_rand() % (x->span - n + 1);
	size_t len = (size_t)n * bs, unit = VPIO_TEST_MAX(bs, 4096u);
	bool vec = it % 2 == 1 && x->info.max_iovcnt >= 4;
	struct iovec iov[4];
	struct fb_io io = { 0, 0 };
	int cnt = 0;

	fb_fill(w->data, w->len, it);
	fb_fill(r->data, r->len, ~(uint64_t)it); /* stale bytes the read must replace */
	if (vec) {
		cnt = scatter(w->data, len, unit, iov);
		CU_ASSERT_EQUAL(vpio_blk_writev(ch, iov, cnt, lba, n, fb_cb, &io), 0);
		gather(iov, cnt, tmp); /* what the device got */
	} else {
		CU_ASSERT_EQUAL(vpio_blk_write(ch, w->data, lba, n, fb_cb, &io), 0);
		memcpy(tmp, w->data, len);
	}
	CU_ASSERT_EQUAL(fb_wait(ch, &io, 1), 0);
	fb_guards_ok(w);
	if (vec) { /* read back contiguous, then scattered */
		CU_ASSERT_EQUAL(fb_read(ch, r->data, lba, n), 0);
		CU_ASSERT_EQUAL(memcmp(r->data, tmp, len), 0);
		cnt = scatter(r->data, len, unit, iov);
		io = (struct fb_io){ 0, 0 };
		CU_ASSERT_EQUAL(vpio_blk_readv(ch, iov, cnt, lba, n, fb_cb, &io), 0);
		CU_ASSERT_EQUAL(fb_wait(ch, &io, 1), 0);
		gather(iov, cnt, r->data + MAX_IO + 5 * 4096); /* past the pieces */
		CU_ASSERT_EQUAL(memcmp(r->data + MAX_IO + 5 * 4096, tmp, len), 0);
	} else {
		CU_ASSERT_EQUAL(fb_read(ch, r->data, lba, n), 0);
		CU_ASSERT_EQUAL(memcmp(r->data, tmp, len), 0);
	}
	fb_guards_ok(r);
	if (CU_get_number_of_failures() != g_failures) {
		fprintf(stderr, "\n  %s: iteration %u (%s, %u blocks at %llu) failed\n", x->info.name, it,
			vec ? "vector" : "contiguous", n, (unsigned long long)lba);
		g_failures = CU_get_number_of_failures();
	}
}

/* Random sizes, places and vectors; one buffer registered before the
 * channel existed, one after. */
static void test_rw_random(void)
{
	size_t blen = 2 * (MAX_IO + 5 * 4096);
	uint8_t *tmp = malloc(MAX_IO);

	for (unsigned i = 0; i < g_fb_ntargets && tmp != NULL; i++) {
		struct fb_buf w, r;
		struct tgt x;

		if (fb_buf_alloc(&w, blen, false) != 0)
			continue;
		if (tgt_open(&x, g_fb_targets[i], 0) && tgt_bufs(&x, &r, NULL, blen)) {
			for (unsigned it = 0; it < 60; it++)
				rw_iteration(&x, &w, &r, tmp, it);
			tgt_done(&x, &r, NULL);
		}
		fb_buf_free(&w);
	}
	free(tmp);
}

/* depth one-block writes in one batch: one hand-over to the device. */
static void test_batch(void)
{
	for (unsigned i = 0; i < g_fb_ntargets; i++) {
		struct vpio_blk_channel_stats s0, s1;
		struct fb_io io = { 0, 0 };
		struct fb_buf b;
		struct tgt x;
		uint32_t bs;

		if (!tgt_open(&x, g_fb_targets[i], 32) || !tgt_bufs(&x, &b, NULL, 64 * (size_t)x.info.block_size))
			continue;
		bs = x.info.block_size;
		fb_fill(b.data, 32 * (size_t)bs, 1000 + i);
		vpio_blk_channel_get_stats(x.ch, &s0);
		for (uint32_t k = 0; k < 32; k++)
			CU_ASSERT_EQUAL(vpio_blk_write(x.ch, b.data + k * bs, 3 * k, 1, fb_cb, &io), 0);
		CU_ASSERT_EQUAL(vpio_blk_channel_get_outstanding(x.ch), 32);
		CU_ASSERT_EQUAL(vpio_blk_submit(x.ch), 32);
		vpio_blk_channel_get_stats(x.ch, &s1);
		CU_ASSERT_EQUAL(s1.batches - s0.batches, 1);
		CU_ASSERT_EQUAL(s1.submitted - s0.submitted, 32);
		if (is_uring(&x) && !x.info.sqpoll)
			CU_ASSERT_EQUAL(s1.syscalls - s0.syscalls, 1);
		if (!is_uring(&x))
			CU_ASSERT_EQUAL(s1.syscalls, 0);
		CU_ASSERT_EQUAL(vpio_blk_submit(x.ch), 0); /* nothing left to hand over */
		CU_ASSERT_EQUAL(fb_wait(x.ch, &io, 32), 0);
		/* read them back in one batch (handed over by the poll) */
		io = (struct fb_io){ 0, 0 };
		for (uint32_t k = 0; k < 32; k++)
			CU_ASSERT_EQUAL(vpio_blk_read(x.ch, b.data + (32 + k) * bs, 3 * k, 1, fb_cb, &io), 0);
		CU_ASSERT_EQUAL(fb_wait(x.ch, &io, 32), 0);
		CU_ASSERT_EQUAL(memcmp(b.data, b.data + 32 * bs, 32 * (size_t)bs), 0);
		vpio_blk_channel_get_stats(x.ch, &s1);
		CU_ASSERT_EQUAL(s1.completed - s0.completed, 64);
		CU_ASSERT_EQUAL(s1.errors - s0.errors, 0);
		tgt_done(&x, &b, NULL);
	}
}

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != 0)
			return false;
	return true;
}

static int misc_sync(struct vpio_blk_channel *ch, int op, uint64_t lba, uint32_t n)
{
	struct fb_io io = { 0, 0 };
	int rc = op == 0 ? vpio_blk_flush(ch, fb_cb, &io)
		 : op == 1 ? vpio_blk_write_zeroes(ch, lba, n, fb_cb, &io)
			   : vpio_blk_deallocate(ch, lba, n, fb_cb, &io);

	CU_ASSERT_EQUAL(rc, 0);
	return rc != 0 ? rc : fb_wait(ch, &io, 1);
}

static void test_zeroes_flush_deallocate(void)
{
	for (unsigned i = 0; i < g_fb_ntargets; i++) {
		struct fb_buf w, r;
		struct tgt x;
		uint64_t lba;
		size_t bs;
		uint32_t n;

		if (!tgt_open(&x, g_fb_targets[i], 4))
			continue;
		bs = x.info.block_size;
		n = (uint32_t)VPIO_TEST_MIN(64u, x.info.max_transfer_bytes / bs); /* 32 on emu:nvme1 (small MDTS) */
		lba = x.span - n - 8;
		if (!tgt_bufs(&x, &w, &r, n * bs))
			continue;
		fb_fill(w.data, n * bs, 77 + i);
		CU_ASSERT_EQUAL(fb_write(x.ch, w.data, lba, n), 0);
		CU_ASSERT_EQUAL(misc_sync(x.ch, 0, 0, 0), 0);
		if (x.info.max_write_zeroes_blocks >= n / 4) { /* zero the second quarter */
			CU_ASSERT_EQUAL(misc_sync(x.ch, 1, lba + n / 4, n / 4), 0);
			CU_ASSERT_EQUAL(fb_read(x.ch, r.data, lba, n), 0);
			CU_ASSERT_EQUAL(memcmp(r.data, w.data, n / 4 * bs), 0);
			CU_ASSERT(all_zero(r.data + n / 4 * bs, n / 4 * bs));
			CU_ASSERT_EQUAL(memcmp(r.data + n / 2 * bs, w.data + n / 2 * bs, n / 2 * bs), 0);
		}
		if (x.info.max_deallocate_blocks >= n) {
			CU_ASSERT_EQUAL(misc_sync(x.ch, 2, lba, n), 0);
			if (!g_fb_given) { /* the emulator and files read deallocated blocks as zeroes */
				CU_ASSERT_EQUAL(fb_read(x.ch, r.data, lba, n), 0);
				CU_ASSERT(all_zero(r.data, n * bs));
			}
		}
		tgt_done(&x, &w, &r);
	}
}

/* A full channel says -EAGAIN (and logs nothing); polling frees a slot. */
static void test_flow_control(void)
{
	for (unsigned i = 0; i < g_fb_ntargets; i++) {
		struct fb_io io = { 0, 0 };
		struct fb_buf b;
		struct tgt x;
		size_t bs;
		int rc;

		if (!tgt_open(&x, g_fb_targets[i], 4) || !tgt_bufs(&x, &b, NULL, 5 * (size_t)x.info.block_size))
			continue;
		bs = x.info.block_size;
		CU_ASSERT_EQUAL(vpio_blk_channel_get_depth(x.ch), 4);
		for (uint32_t k = 0; k < 4; k++)
			CU_ASSERT_EQUAL(vpio_blk_read(x.ch, b.data + k * bs, k, 1, fb_cb, &io), 0);
		vpio_test_log_capture();
		CU_ASSERT_EQUAL(vpio_blk_read(x.ch, b.data + 4 * bs, 4, 1, fb_cb, &io), -EAGAIN);
		CU_ASSERT_EQUAL(vpio_blk_flush(x.ch, fb_cb, &io), -EAGAIN);
		CU_ASSERT_EQUAL(vpio_test_log_errors(), 0);
		vpio_test_log_release();
		CU_ASSERT_EQUAL(io.done, 0); /* nothing completes outside vpio_blk_poll() */
		CU_ASSERT_EQUAL(fb_wait(x.ch, &io, 1), 0);
		do
			rc = vpio_blk_read(x.ch, b.data + 4 * bs, 4, 1, fb_cb, &io);
		while (rc == -EAGAIN && vpio_blk_poll(x.ch, 0) >= 0);
		CU_ASSERT_EQUAL(rc, 0);
		CU_ASSERT_EQUAL(fb_wait(x.ch, &io, 5), 0);
		CU_ASSERT_EQUAL(vpio_blk_channel_get_outstanding(x.ch), 0);
		tgt_done(&x, &b, NULL);
	}
}

/* The largest request the target announces goes through a channel of
 * depth 1 (NVMe: split into commands that the qpair holds). */
static void test_max_transfer(void)
{
	for (unsigned i = 0; i < g_fb_ntargets; i++) {
		struct tgt x;
		uint32_t too_many;

		if (!tgt_open(&x, g_fb_targets[i], 1))
			continue;
		fb_roundtrip(x.ch, x.ch, x.info.block_size, VPIO_TEST_MIN(x.info.max_transfer_bytes, 8u << 20), 4242,
			     false);
		too_many = x.info.max_transfer_bytes / x.info.block_size + 1;
		vpio_test_log_capture();
		CU_ASSERT_EQUAL(vpio_blk_read(x.ch, (void *)(uintptr_t)4096, 0, too_many, fb_cb, NULL), -E2BIG);
		CU_ASSERT(vpio_test_log_has("is more than the"));
		vpio_test_log_release();
		tgt_close(&x);
	}
}

/* Destroy with requests in flight: every callback has run when it returns. */
static void test_destroy_in_flight(void)
{
	for (unsigned i = 0; i < g_fb_ntargets; i++) {
		struct fb_io io[16];
		struct fb_buf b;
		struct tgt x;
		size_t bs;

		if (!tgt_open(&x, g_fb_targets[i], 16) || !tgt_bufs(&x, &b, NULL, 16 * (size_t)x.info.block_size))
			continue;
		bs = x.info.block_size;
		for (int k = 0; k < 16; k++) { /* one block each: one NVMe command each */
			io[k] = (struct fb_io){ 0, 0 };
			CU_ASSERT_EQUAL(vpio_blk_read(x.ch, b.data + k * bs, (uint64_t)k * 8, 1, fb_cb, &io[k]), 0);
			if (k == 7)
				CU_ASSERT_EQUAL(vpio_blk_submit(x.ch), 8); /* some on the device, some only queued */
		}
		CU_ASSERT_EQUAL(vpio_blk_channel_destroy(x.ch), 0);
		x.ch = NULL;
		for (int k = 0; k < 16; k++) {
			CU_ASSERT_EQUAL(io[k].done, 1);
			CU_ASSERT(io[k].status == 0 || io[k].status == -ECANCELED);
		}
		tgt_done(&x, &b, NULL);
	}
}

struct worker {
	struct tgt *x;
	unsigned id;
	unsigned failures;
	struct vpio_blk_channel *ch; /* made by the main thread, or NULL */
};

/* A thread with its own channel and buffers, on its own half of the LBAs;
 * the channel made there or handed over by the main thread. */
static void *worker_main(void *arg)
{
	struct worker *wk = arg;
	uint32_t bs = wk->x->info.block_size;
	uint64_t base = wk->id * (wk->x->span / 2);
	struct vpio_blk_channel *ch = wk->ch;
	uint8_t *w = vpio_blk_buf_alloc(16 * (size_t)bs), *r = vpio_blk_buf_alloc(16 * (size_t)bs);

	if (w == NULL || r == NULL || (ch == NULL && vpio_blk_channel_create(wk->x->t, 8, &ch) != 0))
		wk->failures++;
	for (unsigned it = 0; ch != NULL && it < 100; it++) {
		uint32_t n = 1 + it % 16;
		uint64_t lba = base + (it * 37u) % (wk->x->span / 2 - 16);
		struct fb_io io = { 0, 0 };

		fb_fill(w, (size_t)n * bs, wk->id * 1000 + it);
		if (vpio_blk_write(ch, w, lba, n, fb_cb, &io) != 0 || vpio_blk_read(ch, r, lba, n, fb_cb, &io) != 0) {
			wk->failures++;
			break;
		}
		/* the write and the read may be reordered: wait for the write first */
		while (io.done < 2)
			if (vpio_blk_poll(ch, 0) < 0)
				break;
		io = (struct fb_io){ 0, 0 };
		if (vpio_blk_read(ch, r, lba, n, fb_cb, &io) != 0)
			wk->failures++;
		while (io.done < 1)
			if (vpio_blk_poll(ch, 0) < 0)
				break;
		if (io.status != 0 || memcmp(w, r, (size_t)n * bs) != 0)
			wk->failures++;
	}
	if (ch != NULL && vpio_blk_channel_destroy(ch) != 0)
		wk->failures++;
	vpio_blk_buf_free(w);
	vpio_blk_buf_free(r);
	return NULL;
}

static void test_threads(void)
{
	for (unsigned i = 0; i < g_fb_ntargets; i++) {
		struct worker wk[2];
		pthread_t th[2];
		struct tgt x;

		if (!tgt_open(&x, g_fb_targets[i], NO_CHANNEL))
			continue;
		for (unsigned k = 0; k < 2; k++) {
			wk[k] = (struct worker){ &x, k, 0, NULL };
			if (k == 1)
				CU_ASSERT_EQUAL(vpio_blk_channel_create(x.t, 8, &wk[k].ch), 0);
			CU_ASSERT_EQUAL(pthread_create(&th[k], NULL, worker_main, &wk[k]), 0);
		}
		for (unsigned k = 0; k < 2; k++) {
			pthread_join(th[k], NULL);
			CU_ASSERT_EQUAL(wk[k].failures, 0);
		}
		tgt_close(&x);
	}
}

/* io_uring targets take any memory (not a fixed buffer: the kernel pins
 * it per I/O); the data must be the same. */
static void test_uring_heap_memory(void)
{
	for (unsigned i = 0; i < g_fb_ntargets; i++) {
		struct tgt x;

		if (!tgt_open(&x, g_fb_targets[i], 2))
			continue;
		if (is_uring(&x))
			fb_roundtrip(x.ch, x.ch, 5 * (uint64_t)x.info.block_size, 16 * (size_t)x.info.block_size, 99,
				     true);
		tgt_close(&x);
	}
}

int fb_register_data(void)
{
	VPIO_SUITE("blk_data", NULL, NULL);
	VPIO_TEST(test_info);
	VPIO_TEST(test_rw_random);
	VPIO_TEST(test_batch);
	VPIO_TEST(test_zeroes_flush_deallocate);
	VPIO_TEST(test_flow_control);
	VPIO_TEST(test_max_transfer);
	VPIO_TEST(test_destroy_in_flight);
	VPIO_TEST(test_threads);
	VPIO_TEST(test_uring_heap_memory);
	return 0;
}
