/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * func_blk cross suite: data written through one backend read back through
 * the other (an emulated controller whose namespace is a file, and that
 * file through io_uring); every namespace of a controller as a target, one
 * namespace, the controller shared across opens and detached with its last
 * target; a block device (a loop device made here, with 4096-byte blocks,
 * and a read-only one) when the machine allows.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <vpio/emu.h>

#include <vpio/nvme.h>

#include "func_blk.h"

#define CROSS_SIZE (16u << 20)
#define CHUNK (1u << 20)

/* Random extents written through addr, mirrored in shadow. */
static void write_extents(const char *addr, uint8_t *shadow, uint64_t seed)
{
	struct vpio_blk_target *t = fb_open1(addr);
	struct vpio_blk_channel *ch = NULL;
	struct vpio_blk_info info;
	struct fb_buf b;

	if (t == NULL)
		return;
	info = fb_info(t);
	CU_ASSERT_EQUAL(info.num_blocks * info.block_size, CROSS_SIZE);
	if (vpio_blk_channel_create(t, 8, &ch) == 0 && fb_buf_alloc(&b, 64 * (size_t)info.block_size, false) == 0) {
		for (unsigned i = 0; i < 50; i++) {
			uint32_t n = 1 + (uint32_t)(fb_rand() % 64);
			uint64_t lba = fb_rand() % (info.num_blocks - n + 1);
			size_t len = (size_t)n * info.block_size;

			fb_fill(b.data, len, seed + i);
			CU_ASSERT_EQUAL(fb_write(ch, b.data, lba, n), 0);
			memcpy(shadow + lba * info.block_size, b.data, len);
		}
		fb_guards_ok(&b);
		fb_buf_free(&b);
	}
	CU_ASSERT_EQUAL(vpio_blk_channel_destroy(ch), 0);
	CU_ASSERT_EQUAL(vpio_blk_close(t), 0);
}

/* Everything read through addr equals shadow. */
static void check_all(const char *addr, const uint8_t *shadow)
{
	struct vpio_blk_target *t = fb_open1(addr);
	struct vpio_blk_channel *ch = NULL;
	struct vpio_blk_info info;
	unsigned bad = 0;
	struct fb_buf b;

	if (t == NULL)
		return;
	info = fb_info(t);
	if (vpio_blk_channel_create(t, 2, &ch) == 0 && fb_buf_alloc(&b, CHUNK, false) == 0) {
		for (uint64_t off = 0; off < CROSS_SIZE; off += CHUNK) {
			CU_ASSERT_EQUAL(fb_read(ch, b.data, off / info.block_size, CHUNK / info.block_size), 0);
			bad += memcmp(b.data, shadow + off, CHUNK) != 0;
		}
		CU_ASSERT_EQUAL(bad, 0);
		fb_guards_ok(&b);
		fb_buf_free(&b);
	}
	CU_ASSERT_EQUAL(vpio_blk_channel_destroy(ch), 0);
	CU_ASSERT_EQUAL(vpio_blk_close(t), 0);
}

/* Both open at once: what one writes, the other reads at once. */
/* The NVMe qpair under an NVMe channel serves the driver's batch calls
 * (as vpio-perf --io-api nvme-batch uses it); a uring channel has none. */
static void nvme_under(struct vpio_blk_channel *ce, struct vpio_blk_channel *cu)
{
	struct vpio_nvme_ns *ns = NULL;
	struct vpio_nvme_qpair *qp = NULL;
	struct vpio_nvme_io io = { .opc = VPIO_NVME_OPC_READ, .lba = 8, .lba_count = 1 };
	struct vpio_nvme_io_cpl cpl;
	struct fb_buf b; /* one block between guards */
	int rc = 0;

	CU_ASSERT_EQUAL_FATAL(vpio_blk_channel_get_nvme(ce, &ns, &qp), 0);
	CU_ASSERT_FATAL(ns != NULL && qp != NULL);
	CU_ASSERT_EQUAL_FATAL(fb_buf_alloc(&b, vpio_nvme_ns_get_sector_size(ns), false), 0);
	io.buf = b.data;
	io.ctx = b.data;
	CU_ASSERT_EQUAL(vpio_nvme_ns_submit_batch(ns, qp, &io, 1, 0), 1);
	for (unsigned i = 0; i < 10000000 && rc == 0; i++)
		rc = vpio_nvme_qpair_poll_batch(qp, &cpl, 1);
	CU_ASSERT_EQUAL(rc, 1);
	CU_ASSERT(cpl.ctx == b.data && cpl.status == 0);
	CU_ASSERT(fb_guards_ok(&b));
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_blk_channel_get_nvme(cu, &ns, &qp), -ENOTSUP);
	CU_ASSERT(vpio_test_log_has("no NVMe qpair"));
	CU_ASSERT_EQUAL(vpio_blk_channel_get_nvme(NULL, &ns, &qp), -EINVAL);
	CU_ASSERT_EQUAL(vpio_blk_channel_get_nvme(ce, NULL, &qp), -EINVAL);
	vpio_test_log_release();
	fb_buf_free(&b);
}

static void both_open(const char *emu, const char *uring)
{
	struct vpio_blk_target *te = fb_open1(emu), *tu = fb_open1(uring);
	struct vpio_blk_channel *ce = NULL, *cu = NULL;

	if (te != NULL && tu != NULL) {
		CU_ASSERT_EQUAL(vpio_blk_channel_create(te, 2, &ce), 0);
		CU_ASSERT_EQUAL(vpio_blk_channel_create(tu, 2, &cu), 0);
	}
	if (ce != NULL && cu != NULL)
		nvme_under(ce, cu);
	for (unsigned i = 0; ce != NULL && cu != NULL && i < 4; i++) {
		uint64_t off = (uint64_t)(fb_rand() % (CROSS_SIZE / CHUNK)) * CHUNK;

		if (i % 2 == 0)
			fb_roundtrip(ce, cu, off, CHUNK, 900 + i, false);
		else
			fb_roundtrip(cu, ce, off, CHUNK, 900 + i, false);
	}
	CU_ASSERT_EQUAL(vpio_blk_channel_destroy(ce), 0);
	CU_ASSERT_EQUAL(vpio_blk_channel_destroy(cu), 0);
	CU_ASSERT_EQUAL(vpio_blk_close(te), 0);
	CU_ASSERT_EQUAL(vpio_blk_close(tu), 0);
}

static void test_nvme_then_uring(void)
{
	char file[4200], emu[4400], uring[4400];
	uint8_t *shadow = calloc(1, CROSS_SIZE);

	if (!g_fb_uring_ok || shadow == NULL) {
		printf("\n  SKIPPED: io_uring is not available here ");
		free(shadow);
		return;
	}
	CU_ASSERT_EQUAL_FATAL(fb_make_file(file, sizeof(file), "func_blk_cross.img", CROSS_SIZE), 0);
	snprintf(emu, sizeof(emu), "emu:nvme7?backing=%s&size=16M", file);
	snprintf(uring, sizeof(uring), "uring:%s", file);
	write_extents(emu, shadow, 1);	 /* 512-byte blocks through the NVMe emulator */
	check_all(uring, shadow);	 /* 4096-byte blocks through the kernel */
	write_extents(uring, shadow, 100);
	check_all(emu, shadow);		 /* the same controller, opened again */
	both_open(emu, uring);
	CU_ASSERT_EQUAL(vpio_emu_destroy("emu:nvme7"), 0); /* blk detached it: not open any more */
	unlink(file);
	free(shadow);
}

static void test_namespaces(void)
{
	struct vpio_blk_target *t[4], *one;
	struct vpio_blk_channel *ch[3];
	struct vpio_blk_info info;
	uint8_t *buf = vpio_blk_buf_alloc(4096), *want = malloc(512);
	unsigned n = 0;

	CU_ASSERT_EQUAL_FATAL(vpio_blk_open("emu:nvme3?ns=3&size=16M", NULL, t, 4, &n), 0);
	CU_ASSERT_EQUAL_FATAL(n, 3);
	for (unsigned i = 0; i < 3; i++) {
		char name[32];

		info = fb_info(t[i]);
		snprintf(name, sizeof(name), "emu:nvme3/ns%u", i + 1);
		CU_ASSERT_STRING_EQUAL(info.name, name);
		CU_ASSERT_EQUAL(info.nsid, i + 1);
		CU_ASSERT_TRUE(info.emulated);
		CU_ASSERT_EQUAL(vpio_blk_channel_create(t[i], 4, &ch[i]), 0);
		fb_fill(buf, 512, 300 + i);
		CU_ASSERT_EQUAL(fb_write(ch[i], buf, 0, 1), 0);
	}
	/* each namespace kept its own block 0 */
	for (unsigned i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(fb_read(ch[i], buf, 0, 1), 0);
		fb_fill(want, 512, 300 + i);
		CU_ASSERT_EQUAL(memcmp(buf, want, 512), 0);
	}
	/* one namespace, the controller shared: same data, no second attach */
	one = fb_open1("emu:nvme3/ns2");
	if (one != NULL) {
		struct vpio_blk_channel *c2;

		CU_ASSERT_STRING_EQUAL(fb_info(one).name, "emu:nvme3/ns2");
		CU_ASSERT_EQUAL(vpio_blk_channel_create(one, 2, &c2), 0);
		CU_ASSERT_EQUAL(fb_read(c2, buf, 0, 1), 0);
		fb_fill(want, 512, 301);
		CU_ASSERT_EQUAL(memcmp(buf, want, 512), 0);
		CU_ASSERT_EQUAL(vpio_blk_channel_destroy(c2), 0);
	}
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_blk_open("emu:nvme3/ns1?ns=2", NULL, t + 3, 1, &n), -EEXIST);
	CU_ASSERT(vpio_test_log_has("already open with options 'ns=3&size=16M'"));
	CU_ASSERT_EQUAL(vpio_blk_open("emu:nvme3/ns4", NULL, t + 3, 1, &n), -EINVAL);
	CU_ASSERT(vpio_test_log_has("namespace id 4 is invalid"));
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 2);
	vpio_test_log_release();
	for (unsigned i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(vpio_blk_channel_destroy(ch[i]), 0);
		CU_ASSERT_EQUAL(vpio_blk_close(t[i]), 0);
	}
	/* still open through `one` */
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_emu_destroy("emu:nvme3"), -EBUSY);
	vpio_test_log_release();
	CU_ASSERT_EQUAL(vpio_blk_close(one), 0);
	/* room for 2 of 3 namespaces: refused, nothing left open */
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_blk_open("emu:nvme3", NULL, t, 2, &n), -ENOSPC);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT(vpio_test_log_has("has 3 active namespaces, room was given for 2"));
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 1);
	vpio_test_log_release();
	CU_ASSERT_EQUAL(vpio_emu_destroy("emu:nvme3"), 0); /* detached with its last target */
	vpio_blk_buf_free(buf);
	free(want);
}

/* A loop device on a file: a block device we may make and drop.  -errno
 * when this machine does not let us (no loop driver, a container). */
static int loop_attach(const char *file, uint32_t bs, bool ro, char *dev, size_t len, int *loop_fd)
{
	struct loop_config cfg;
	int ctl, nr, ffd, lfd = -1, rc = 0;

	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return -errno;
	ffd = open(file, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	for (int tries = 0; ffd >= 0 && tries < 5; tries++) {
		nr = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (nr < 0) {
			rc = -errno;
			break;
		}
		snprintf(dev, len, "/dev/loop%d", nr);
		lfd = open(dev, O_RDWR | O_CLOEXEC);
		if (lfd < 0) {
			rc = -errno;
			break;
		}
		memset(&cfg, 0, sizeof(cfg));
		cfg.fd = (uint32_t)ffd;
		cfg.block_size = bs;
		cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR | (ro ? LO_FLAGS_READ_ONLY : 0);
		if (ioctl(lfd, LOOP_CONFIGURE, &cfg) == 0) {
			rc = 0;
			break;
		}
		rc = -errno;
		close(lfd);
		lfd = -1;
		if (rc != -EBUSY) /* EBUSY: someone took it first */
			break;
	}
	if (ffd < 0)
		rc = -errno;
	else
		close(ffd);
	close(ctl);
	*loop_fd = lfd;
	return lfd >= 0 ? 0 : rc != 0 ? rc : -EBUSY;
}

static void test_block_device(void)
{
	char file[4200], dev[64], addr[128];
	struct vpio_blk_target *t;
	struct vpio_blk_channel *ch = NULL;
	struct vpio_blk_info info;
	struct fb_buf r;
	unsigned n;
	int lfd, rc;

	if (!g_fb_uring_ok) {
		printf("\n  SKIPPED: io_uring is not available here ");
		return;
	}
	CU_ASSERT_EQUAL_FATAL(fb_make_file(file, sizeof(file), "func_blk_loop.img", 8u << 20), 0);
	rc = loop_attach(file, 4096, false, dev, sizeof(dev), &lfd);
	if (rc != 0) {
		printf("\n  SKIPPED: cannot make a loop device here (%s) ", strerror(-rc));
		unlink(file);
		return;
	}
	snprintf(addr, sizeof(addr), "uring:%s", dev);
	t = fb_open1(addr);
	if (t != NULL) {
		info = fb_info(t);
		CU_ASSERT_EQUAL(info.block_size, 4096); /* BLKSSZGET, not the 512 of a file with bs=512 */
		CU_ASSERT_EQUAL(info.num_blocks, 2048);	/* BLKGETSIZE64 */
		CU_ASSERT_FALSE(info.read_only);
		CU_ASSERT_EQUAL(vpio_blk_channel_create(t, 4, &ch), 0);
		if (ch != NULL)
			fb_roundtrip(ch, ch, 2040 * 4096ull, 8 * 4096, 555, false); /* the last 8 blocks */
		CU_ASSERT_EQUAL(vpio_blk_channel_destroy(ch), 0);
		CU_ASSERT_EQUAL(vpio_blk_close(t), 0);
	}
	vpio_test_log_capture();
	snprintf(addr, sizeof(addr), "uring:%s?bs=512", dev);
	CU_ASSERT_EQUAL(vpio_blk_open(addr, NULL, &t, 1, &n), -EINVAL);
	CU_ASSERT(vpio_test_log_has("bs= is for regular files"));
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 1);
	vpio_test_log_release();
	close(lfd); /* autoclear: the loop device goes with its last user */

	/* read-only: opened for reading, writes refused before the kernel sees them */
	rc = loop_attach(file, 512, true, dev, sizeof(dev), &lfd);
	CU_ASSERT_EQUAL(rc, 0);
	snprintf(addr, sizeof(addr), "uring:%s", dev);
	t = rc == 0 ? fb_open1(addr) : NULL;
	if (t != NULL) {
		info = fb_info(t);
		CU_ASSERT_TRUE(info.read_only);
		CU_ASSERT_EQUAL(info.block_size, 512);
		CU_ASSERT_EQUAL(vpio_blk_channel_create(t, 4, &ch), 0);
		if (fb_buf_alloc(&r, 4096, false) == 0) {
			CU_ASSERT_EQUAL(fb_read(ch, r.data, 0, 8), 0);
			struct fb_io io = { 0, 0 };

			vpio_test_log_capture();
			CU_ASSERT_EQUAL(vpio_blk_write(ch, r.data, 0, 8, fb_cb, &io), -EROFS);
			CU_ASSERT_EQUAL(vpio_blk_write_zeroes(ch, 0, 8, fb_cb, &io), -EROFS);
			CU_ASSERT(vpio_test_log_has("is read-only"));
			CU_ASSERT_EQUAL(vpio_test_log_errors(), 2);
			vpio_test_log_release();
			fb_buf_free(&r);
		}
		CU_ASSERT_EQUAL(vpio_blk_channel_destroy(ch), 0);
		CU_ASSERT_EQUAL(vpio_blk_close(t), 0);
	}
	if (rc == 0)
		close(lfd);
	unlink(file);
}

int fb_register_cross(void)
{
	VPIO_SUITE("blk_cross", NULL, NULL);
	VPIO_TEST(test_nvme_then_uring);
	VPIO_TEST(test_namespaces);
	VPIO_TEST(test_block_device);
	return 0;
}
