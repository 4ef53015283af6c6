/* SPDX-License-Identifier: BSD-3-Clause */
/* func_blk: helpers shared by the suites. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "func_blk.h"
#include "vm_tools/pattern.h"

static uint64_t g_seed = 1, g_draws;

void fb_seed(uint64_t seed)
{
	g_seed = seed;
	g_draws = 0;
}

uint64_t fb_rand(void)
{
	return pattern_word(g_seed, g_draws++);
}

void fb_fill(void *buf, size_t len, uint64_t seed)
{
	pattern_fill(buf, len, seed, 0);
}

uint64_t fb_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int fb_make_file(char *path, size_t path_len, const char *name, uint64_t len)
{
	int fd;

	snprintf(path, path_len, "%s/%s", g_fb_dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)len) != 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	close(fd);
	return 0;
}

struct vpio_blk_target *fb_open1(const char *address)
{
	struct vpio_blk_target *t[2] = { NULL, NULL };
	unsigned n = 0;
	int rc = vpio_blk_open(address, NULL, t, 2, &n);

	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(n, 1);
	if (rc != 0 || n != 1) {
		fprintf(stderr, "\n  cannot open %s as one target (%d, %u targets)\n", address, rc, n);
		for (unsigned i = 0; i < n; i++)
			vpio_blk_close(t[i]);
		return NULL;
	}
	return t[0];
}

struct vpio_blk_info fb_info(const struct vpio_blk_target *t)
{
	struct vpio_blk_info info;

	memset(&info, 0, sizeof(info));
	CU_ASSERT_EQUAL(vpio_blk_get_info(t, &info), 0);
	return info;
}

void fb_cb(void *arg, int status)
{
	struct fb_io *io = arg;

	io->done++;
	if (io->status == 0)
		io->status = status;
}

int fb_wait(struct vpio_blk_channel *ch, struct fb_io *io, unsigned n)
{
	uint64_t end = fb_now_us() + 10u * 1000000u;

	while (io->done < n) {
		int rc = vpio_blk_poll(ch, 0);

		if (rc < 0) {
			CU_FAIL("vpio_blk_poll failed");
			return rc;
		}
		if (fb_now_us() > end) {
			CU_FAIL("requests did not complete within 10 s");
			return -ETIMEDOUT;
		}
	}
	return io->status;
}

#define GUARD_SEED 0x6a09e667u

int fb_buf_alloc(struct fb_buf *b, size_t len, bool heap)
{
	size_t all = FB_GUARD + ((len + 4095) & ~(size_t)4095) + FB_GUARD;

	b->len = len;
	b->heap = heap;
	b->base = heap ? aligned_alloc(4096, all) : vpio_blk_buf_alloc(all);
	CU_ASSERT_PTR_NOT_NULL(b->base);
	if (b->base == NULL)
		return -ENOMEM;
	b->data = b->base + FB_GUARD;
	fb_fill(b->base, FB_GUARD, GUARD_SEED);
	fb_fill(b->data + len, FB_GUARD, GUARD_SEED + 1);
	return 0;
}

void fb_buf_free(struct fb_buf *b)
{
	if (b->heap)
		free(b->base);
	else
		vpio_blk_buf_free(b->base);
	b->base = b->data = NULL;
}

bool fb_guards_ok(const struct fb_buf *b)
{
	uint8_t want[FB_GUARD];
	bool ok;

	fb_fill(want, FB_GUARD, GUARD_SEED);
	ok = memcmp(b->base, want, FB_GUARD) == 0;
	fb_fill(want, FB_GUARD, GUARD_SEED + 1);
	ok = ok && memcmp(b->data + b->len, want, FB_GUARD) == 0;
	CU_ASSERT(ok);
	return ok;
}

int fb_read(struct vpio_blk_channel *ch, void *buf, uint64_t lba, uint32_t n)
{
	struct fb_io io = { 0, 0 };
	int rc = vpio_blk_read(ch, buf, lba, n, fb_cb, &io);

	return rc != 0 ? rc : fb_wait(ch, &io, 1);
}

int fb_write(struct vpio_blk_channel *ch, const void *buf, uint64_t lba, uint32_t n)
{
	struct fb_io io = { 0, 0 };
	int rc = vpio_blk_write(ch, buf, lba, n, fb_cb, &io);

	return rc != 0 ? rc : fb_wait(ch, &io, 1);
}

static uint64_t lba_of(struct vpio_blk_channel *ch, uint64_t off, uint32_t *n, size_t len)
{
	struct vpio_blk_info info = fb_info(vpio_blk_channel_get_target(ch));

	*n = (uint32_t)(len / info.block_size);
	return off / info.block_size;
}

void fb_roundtrip(struct vpio_blk_channel *wch, struct vpio_blk_channel *rch, uint64_t off, size_t len,
		  uint64_t seed, bool heap)
{
	struct fb_buf w, r;
	uint64_t wlba, rlba;
	uint32_t wn, rn;

	if (fb_buf_alloc(&w, len, heap) != 0)
		return;
	if (fb_buf_alloc(&r, len, heap) == 0) {
		wlba = lba_of(wch, off, &wn, len);
		rlba = lba_of(rch, off, &rn, len);
		fb_fill(w.data, len, seed);
		fb_fill(r.data, len, ~seed); /* stale bytes the read must replace */
		CU_ASSERT_EQUAL(fb_write(wch, w.data, wlba, wn), 0);
		CU_ASSERT_EQUAL(fb_read(rch, r.data, rlba, rn), 0);
		CU_ASSERT_EQUAL(memcmp(w.data, r.data, len), 0);
		fb_guards_ok(&r);
		fb_buf_free(&r);
	}
	fb_guards_ok(&w);
	fb_buf_free(&w);
}
