/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * func_blk bad-input suite: every bad address, option, file, request and
 * buffer is refused with its errno and one line naming it, nothing is left
 * open or outstanding, and the data on the target is unchanged.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blk/blk_internal.h" /* blk_buf_slot() */
#include "func_blk.h"

/* Check a refused call: rc, at least one error line (exactly one when
 * `one`), and the line contains what. */
static void refused_line(int rc, int want, const char *what, bool one)
{
	CU_ASSERT_EQUAL(rc, want);
	if (one)
		CU_ASSERT_EQUAL(vpio_test_log_errors(), 1);
	CU_ASSERT(vpio_test_log_errors() >= 1);
	if (!vpio_test_log_has(what))
		fprintf(stderr, "\n  expected '%s' (rc %d, want %d) in: %s", what, rc, want, vpio_test_log_buf.text);
	CU_ASSERT(vpio_test_log_has(what));
}

static void open_refused(const char *address, int want, const char *what, bool one)
{
	struct vpio_blk_target *t[4] = { NULL };
	unsigned n = 77;
	int rc;

	vpio_test_log_capture();
	rc = vpio_blk_open(address, NULL, t, 4, &n);
	refused_line(rc, want, what, one);
	vpio_test_log_release();
	CU_ASSERT_EQUAL(n, 0);
	if (rc == 0)
		for (unsigned i = 0; i < n; i++)
			vpio_blk_close(t[i]);
}

static void test_bad_targets(void)
{
	char path[4200], addr[4400];

	open_refused("nvme0", -EINVAL, "is not valid", true);
	open_refused("emu:nvme8?bogus=1", -EINVAL, "bogus", false);
	open_refused("emu:frob", -ENODEV, "frob", false);
	open_refused("emu:nvme8/ns0", -EINVAL, "is not a namespace", true);
	open_refused("0000:00:1f.7/ns1", -ENODEV, "0000:00:1f.7", false);
	if (!g_fb_uring_ok) {
		printf("\n  SKIPPED: the uring: cases (io_uring is not available here) ");
		return;
	}
	snprintf(addr, sizeof(addr), "uring:%s/no/such/file", g_fb_dir);
	open_refused(addr, -ENOENT, "no such file or block device", true);
	snprintf(addr, sizeof(addr), "uring:%s", g_fb_dir);
	open_refused(addr, -EINVAL, "neither a block device nor a regular file", true);
	snprintf(addr, sizeof(addr), "uring:%s?direct=1", g_fb_file);
	open_refused(addr, -EINVAL, "unknown option 'direct=1'", true);
	snprintf(addr, sizeof(addr), "uring:%s?bs=2048", g_fb_file);
	open_refused(addr, -EINVAL, "bs=2048", true);

	CU_ASSERT_EQUAL_FATAL(fb_make_file(path, sizeof(path), "func_blk_odd.img", (1u << 20) + 512), 0);
	snprintf(addr, sizeof(addr), "uring:%s", path);
	open_refused(addr, -EINVAL, "1049088 bytes is not a whole number of blocks; make its size a multiple of 4096",
		     true);
	snprintf(addr, sizeof(addr), "uring:%s?bs=512", path); /* a whole number of 512-byte blocks */
	{
		struct vpio_blk_target *t = fb_open1(addr);

		CU_ASSERT_EQUAL(t != NULL ? fb_info(t).num_blocks : 0, 2049);
		vpio_blk_close(t);
	}
	CU_ASSERT_EQUAL_FATAL(fb_make_file(path, sizeof(path), "func_blk_odd.img", 0), 0);
	snprintf(addr, sizeof(addr), "uring:%s", path);
	open_refused(addr, -EINVAL, "is empty", true);
	unlink(path);

	/* iopoll on a file: refused unless the device under it has poll queues */
	{
		struct vpio_blk_target *t;
		unsigned n;
		int rc;

		snprintf(addr, sizeof(addr), "uring:%s?iopoll=1", g_fb_file);
		vpio_test_log_capture();
		rc = vpio_blk_open(addr, NULL, &t, 1, &n);
		vpio_test_log_release();
		if (rc == 0)
			vpio_blk_close(t);
		else
			printf("\n  (iopoll refused here: %s) ", vpio_test_log_buf.text);
		CU_ASSERT(rc == 0 || (rc == -ENOTSUP && vpio_test_log_errors() == 1 &&
				      (vpio_test_log_has("needs poll queues") ||
				       vpio_test_log_has("refuses polled I/O"))));
	}
}

/* ------------------------------------------------------------- requests */

struct bad_env {
	struct vpio_blk_target *t;
	struct vpio_blk_channel *ch;
	struct vpio_blk_info info;
	struct fb_buf b, r;
};

static bool env_open(struct bad_env *e, const char *addr)
{
	memset(e, 0, sizeof(*e));
	e->t = fb_open1(addr);
	if (e->t == NULL)
		return false;
	e->info = fb_info(e->t);
	CU_ASSERT_EQUAL(vpio_blk_channel_create(e->t, 4, &e->ch), 0);
	if (e->ch == NULL || fb_buf_alloc(&e->b, 16 * (size_t)e->info.block_size, false) != 0 ||
	    fb_buf_alloc(&e->r, 16 * (size_t)e->info.block_size, false) != 0) {
		vpio_blk_channel_destroy(e->ch);
		vpio_blk_close(e->t);
		return false;
	}
	/* known data at the end of the target, to check nothing changes */
	fb_fill(e->b.data, e->b.len, 31337);
	CU_ASSERT_EQUAL(fb_write(e->ch, e->b.data, e->info.num_blocks - 16, 16), 0);
	return true;
}

static void env_close(struct bad_env *e)
{
	CU_ASSERT_EQUAL(vpio_blk_channel_get_outstanding(e->ch), 0);
	CU_ASSERT_EQUAL(fb_read(e->ch, e->r.data, e->info.num_blocks - 16, 16), 0);
	CU_ASSERT_EQUAL(memcmp(e->r.data, e->b.data, e->b.len), 0); /* untouched */
	fb_guards_ok(&e->b);
	fb_guards_ok(&e->r);
	fb_buf_free(&e->b);
	fb_buf_free(&e->r);
	CU_ASSERT_EQUAL(vpio_blk_channel_destroy(e->ch), 0);
	CU_ASSERT_EQUAL(vpio_blk_close(e->t), 0);
}

#define IO_REFUSED(call, want, what)                          \
	do {                                                  \
		vpio_test_log_capture();                      \
		refused_line((call), (want), (what), true);   \
		vpio_test_log_release();                      \
	} while (0)

/* Refused the same way on every backend. */
static void common_cases(struct bad_env *e)
{
	uint64_t end = e->info.num_blocks;
	uint8_t *d = e->b.data;
	struct iovec iov[2] = { { d, e->info.block_size }, { d + 4096, e->info.block_size } };
	uint32_t too_many = e->info.max_transfer_bytes / e->info.block_size + 1;

	IO_REFUSED(vpio_blk_write(e->ch, d, end, 1, fb_cb, NULL), -ERANGE, "beyond the end");
	IO_REFUSED(vpio_blk_write(e->ch, d, end - 15, 16, fb_cb, NULL), -ERANGE, "beyond the end");
	IO_REFUSED(vpio_blk_write_zeroes(e->ch, end - 1, 2, fb_cb, NULL), -ERANGE, "beyond the end");
	IO_REFUSED(vpio_blk_deallocate(e->ch, UINT64_MAX, 1, fb_cb, NULL), -ERANGE, "beyond the end");
	IO_REFUSED(vpio_blk_write(e->ch, d, end - 16, 0, fb_cb, NULL), -EINVAL, "zero blocks");
	IO_REFUSED(vpio_blk_write_zeroes(e->ch, end - 16, 0, fb_cb, NULL), -EINVAL, "zero blocks");
	IO_REFUSED(vpio_blk_write(e->ch, d, 0, too_many, fb_cb, NULL), -E2BIG, "is more than the");
	IO_REFUSED(vpio_blk_write(e->ch, d + 2, end - 16, 1, fb_cb, NULL), -EINVAL, "not aligned to buf_align");
	IO_REFUSED(vpio_blk_write(e->ch, NULL, end - 16, 1, fb_cb, NULL), -EINVAL, "is NULL");
	IO_REFUSED(vpio_blk_write(e->ch, d, end - 16, 1, NULL, NULL), -EINVAL, "the callback is NULL");
	IO_REFUSED(vpio_blk_writev(e->ch, iov, 2, end - 16, 3, fb_cb, NULL), -EINVAL, "blocks are");
	IO_REFUSED(vpio_blk_writev(e->ch, iov, 0, end - 16, 2, fb_cb, NULL), -EINVAL, "iovcnt 0");
	IO_REFUSED(vpio_blk_writev(e->ch, iov, (int)e->info.max_iovcnt + 1, end - 16, 2, fb_cb, NULL), -EINVAL,
		   "must be 1..");
}

static void test_bad_requests_nvme(void)
{
	struct bad_env e;
	uint8_t *heap = aligned_alloc(4096, 8192);

	if (heap == NULL || !env_open(&e, "emu:nvme4?size=16M")) {
		free(heap);
		return;
	}
	CU_ASSERT_EQUAL(e.info.buf_align, 4);
	common_cases(&e);
	/* memory vpio does not know: the device could not reach it */
	IO_REFUSED(vpio_blk_write(e.ch, heap, e.info.num_blocks - 16, 1, fb_cb, NULL), -EFAULT, "not registered");
	IO_REFUSED(vpio_blk_read(e.ch, heap, e.info.num_blocks - 16, 1, fb_cb, NULL), -EFAULT, "not registered");
	env_close(&e);
	free(heap);
}

static void test_bad_requests_uring(void)
{
	char addr[4400];
	struct bad_env e;

	if (!g_fb_uring_ok) {
		printf("\n  SKIPPED: io_uring is not available here ");
		return;
	}
	snprintf(addr, sizeof(addr), "uring:%s", g_fb_file);
	if (!env_open(&e, addr))
		return;
	CU_ASSERT_EQUAL(e.info.buf_align, 4096);
	common_cases(&e);
	/* O_DIRECT: buffers and vector pieces aligned to the block size */
	IO_REFUSED(vpio_blk_write(e.ch, e.b.data + 512, e.info.num_blocks - 16, 1, fb_cb, NULL), -EINVAL,
		   "not aligned to buf_align");
	{
		struct iovec iov[2] = { { e.b.data, 2048 }, { e.b.data + 8192, 2048 } };

		IO_REFUSED(vpio_blk_writev(e.ch, iov, 2, e.info.num_blocks - 16, 1, fb_cb, NULL), -EINVAL,
			   "not a multiple of the block size long");
	}
	env_close(&e);
}

/* ------------------------------------------------- channels and targets */

static struct vpio_blk_channel *g_cb_ch;
static int g_cb_poll_rc, g_cb_destroy_rc;

static void cb_misbehaves(void *arg, int status)
{
	(void)status;
	(*(unsigned *)arg)++;
	g_cb_poll_rc = vpio_blk_poll(g_cb_ch, 0);
	g_cb_destroy_rc = vpio_blk_channel_destroy(g_cb_ch);
}

static void test_bad_channel_use(void)
{
	struct vpio_blk_target *t = fb_open1("emu:nvme4?size=16M");
	struct vpio_blk_channel *ch = NULL;
	struct vpio_blk_info info;
	uint8_t *buf = vpio_blk_buf_alloc(4096);
	unsigned done = 0;

	if (t == NULL || buf == NULL) {
		vpio_blk_close(t);
		vpio_blk_buf_free(buf);
		return;
	}
	info = fb_info(t);
	vpio_test_log_capture();
	refused_line(vpio_blk_channel_create(t, info.max_queue_depth + 1, &ch), -EINVAL, "is above the", true);
	vpio_test_log_release();
	CU_ASSERT_EQUAL_FATAL(vpio_blk_channel_create(t, 2, &ch), 0);
	vpio_test_log_capture();
	refused_line(vpio_blk_close(t), -EBUSY, "destroy them first", true);
	vpio_test_log_release();
	/* a callback may neither poll nor destroy its own channel */
	g_cb_ch = ch;
	CU_ASSERT_EQUAL(vpio_blk_read(ch, buf, 0, 1, cb_misbehaves, &done), 0);
	vpio_test_log_capture();
	while (done == 0) {
		if (vpio_blk_poll(ch, 0) < 0) {
			CU_FAIL("vpio_blk_poll failed");
			break;
		}
	}
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 2);
	vpio_test_log_release();
	CU_ASSERT_EQUAL(g_cb_poll_rc, -EBUSY);
	CU_ASSERT_EQUAL(g_cb_destroy_rc, -EBUSY);
	/* still usable after all that */
	CU_ASSERT_EQUAL(fb_read(ch, buf, 0, 1), 0);
	CU_ASSERT_EQUAL(vpio_blk_channel_destroy(ch), 0);
	CU_ASSERT_EQUAL(vpio_blk_close(t), 0);
	vpio_blk_buf_free(buf);
}

static void test_bad_buffers(void)
{
	uint8_t *p, *q, local[64];

	vpio_test_log_capture();
	CU_ASSERT_PTR_NULL(vpio_blk_buf_alloc(0));
	CU_ASSERT(vpio_test_log_has("0 bytes"));
	CU_ASSERT_PTR_NULL(vpio_blk_buf_alloc(VPIO_BLK_BUF_MAX + 1));
	CU_ASSERT(vpio_test_log_has("the io_uring fixed-buffer limit"));
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 2);
	vpio_test_log_release();

	/* the slot lookup the io_uring path uses: a whole range in one buffer */
	p = vpio_blk_buf_alloc(3 * 4096 + 100); /* rounded up to 16 KiB */
	q = vpio_blk_buf_alloc(4096);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(q);
	CU_ASSERT(blk_buf_slot(p, 1) >= 0);
	CU_ASSERT_EQUAL(blk_buf_slot(p + 16383, 1), blk_buf_slot(p, 1));
	CU_ASSERT_EQUAL(blk_buf_slot(p, 16384), blk_buf_slot(p, 1));
	CU_ASSERT_EQUAL(blk_buf_slot(p + 100, 8000), blk_buf_slot(p, 1));
	CU_ASSERT(blk_buf_slot(q, 4096) >= 0);
	CU_ASSERT_NOT_EQUAL(blk_buf_slot(q, 4096), blk_buf_slot(p, 1));
	CU_ASSERT_EQUAL(blk_buf_slot(p, 16385), -1); /* runs past the end */
	CU_ASSERT_EQUAL(blk_buf_slot(p - 1, 2), -1);
	CU_ASSERT_EQUAL(blk_buf_slot(local, sizeof(local)), -1);

	vpio_test_log_capture();
	vpio_blk_buf_free(p + 4096); /* not the start */
	vpio_blk_buf_free(local);
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 2);
	CU_ASSERT(vpio_test_log_has("not a buffer from vpio_blk_buf_alloc()"));
	vpio_test_log_release();
	CU_ASSERT(blk_buf_slot(p, 1) >= 0); /* still there */
	vpio_blk_buf_free(p);
	CU_ASSERT_EQUAL(blk_buf_slot(p, 1), -1);
	vpio_blk_buf_free(q);
	vpio_blk_buf_free(NULL);
}

int fb_register_bad_input(void)
{
	VPIO_SUITE("blk_bad_input", NULL, NULL);
	VPIO_TEST(test_bad_targets);
	VPIO_TEST(test_bad_requests_nvme);
	VPIO_TEST(test_bad_requests_uring);
	VPIO_TEST(test_bad_channel_use);
	VPIO_TEST(test_bad_buffers);
	return 0;
}
