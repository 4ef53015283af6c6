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

static uint64_t g_rng = 0x2545f4914f6cdd1dull;

void fb_seed(uint64_t seed)
{
	g_rng = seed ? seed : 1;
}

uint64_t fb_rand(void)
{
	g_rng ^= g_rng << 13;
	g_rng ^= g_rng >> 7;
	g_rng ^= g_rng << 17;
	return g_rng;
}

void fb_fill(void *buf, size_t len, uint64_t seed)
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
	info.info_size = sizeof(info);
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
