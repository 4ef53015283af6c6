/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/blk's generic layer (blk_io.c, blk_channel.c,
 * blk_target.c) on a fake backend: every bad argument refused with its
 * errno and one line before anything reaches the backend, -EAGAIN (not
 * logged) exactly when every request context is taken and success once
 * polling frees one, contexts given back when the backend refuses,
 * callbacks that submit again, poll and destroy refused from a callback,
 * read-only targets, limits, info and stats.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "blk/blk_internal.h"
#include "common/vpio_test.h"

#define BS 512u
#define NUM_BLOCKS 1000u

static struct {
	unsigned rw_calls, misc_calls, submits, closes;
	int next_rc;		   /* what the backend answers */
	struct blk_req *queued[64]; /* accepted, not completed */
	unsigned n_queued;
	uint64_t last_lba;
	uint32_t last_nblocks;
	int last_iovcnt;
} f;

static int fake_create(struct vpio_blk_target *t, uint32_t depth, struct vpio_blk_channel **ch)
{
	struct vpio_blk_channel *c = malloc(sizeof(*c));
	int rc = c != NULL ? blk_channel_init(c, t, depth, 0) : -ENOMEM;

	if (rc != 0) {
		free(c);
		return rc;
	}
	*ch = c;
	return 0;
}

static int fake_poll(struct vpio_blk_channel *ch, uint32_t max)
{
	uint32_t n = 0;

	while (f.n_queued > 0 && n < max) {
		struct blk_req *req = f.queued[0];

		memmove(f.queued, f.queued + 1, --f.n_queued * sizeof(f.queued[0]));
		blk_req_done(ch, req, req->op == BLK_OP_WRITE_ZEROES ? -EIO : 0);
		n++;
	}
	return (int)n;
}

static void fake_destroy(struct vpio_blk_channel *ch)
{
	fake_poll(ch, UINT32_MAX);
	blk_channel_fini(ch);
	free(ch);
}

static int accept_req(struct blk_req *req)
{
	if (f.next_rc == 0)
		f.queued[f.n_queued++] = req;
	return f.next_rc;
}

static int fake_rw(struct vpio_blk_channel *ch, struct blk_req *req, const struct iovec *iov, int iovcnt,
		   uint64_t lba, uint32_t nblocks)
{
	(void)ch;
	(void)iov;
	f.rw_calls++;
	f.last_lba = lba;
	f.last_nblocks = nblocks;
	f.last_iovcnt = iovcnt;
	return accept_req(req);
}

static int fake_misc(struct vpio_blk_channel *ch, struct blk_req *req, uint64_t lba, uint32_t nblocks)
{
	(void)ch;
	f.misc_calls++;
	f.last_lba = lba;
	f.last_nblocks = nblocks;
	return accept_req(req);
}

static int fake_submit(struct vpio_blk_channel *ch)
{
	(void)ch;
	f.submits++;
	return (int)f.n_queued;
}

static void fake_close(struct vpio_blk_target *t)
{
	(void)t;
	f.closes++;
}

static const struct blk_ops fake_ops = {
	.name = "fake",
	.channel_create = fake_create,
	.channel_destroy = fake_destroy,
	.submit_rw = fake_rw,
	.submit_misc = fake_misc,
	.submit = fake_submit,
	.poll = fake_poll,
	.close = fake_close,
};

static struct vpio_blk_target g_t;
static struct vpio_blk_channel *g_ch;
static uint8_t *g_buf;
static unsigned g_done;
static int g_status;

static void cb(void *arg, int status)
{
	(void)arg;
	g_done++;
	g_status = status;
}

static int setup(void)
{
	memset(&f, 0, sizeof(f));
	memset(&g_t, 0, sizeof(g_t));
	g_t.ops = &fake_ops;
	snprintf(g_t.name, sizeof(g_t.name), "fake0");
	g_t.info = (struct vpio_blk_info){
		.info_size = sizeof(struct vpio_blk_info),
		.name = g_t.name,
		.backend = "fake",
		.block_size = BS,
		.num_blocks = NUM_BLOCKS,
		.max_transfer_bytes = 16 * BS,
		.max_iovcnt = 4,
		.max_write_zeroes_blocks = 100,
		.max_deallocate_blocks = 0,
		.max_queue_depth = 8,
		.buf_align = BS,
	};
	g_t.default_depth = 4;
	g_t.iov_len_align = BS;
	g_done = 0;
	g_buf = aligned_alloc(4096, 64 * BS);
	return g_buf == NULL || vpio_blk_channel_create(&g_t, 0, &g_ch) != 0;
}

static int teardown(void)
{
	vpio_blk_channel_destroy(g_ch);
	free(g_buf);
	return 0;
}

/* One call refused: its errno, one error line containing what, and
 * nothing reached the backend or took a context. */
#define REFUSED(call, err, what)                                                                   \
	do {                                                                                       \
		unsigned rw0 = f.rw_calls, misc0 = f.misc_calls;                                   \
		vpio_test_log_capture();                                                           \
		CU_ASSERT_EQUAL(call, err);                                                        \
		CU_ASSERT_EQUAL(vpio_test_log_errors(), 1);                                        \
		if (!vpio_test_log_has(what))                                                      \
			fprintf(stderr, "\n  expected '%s' in: %s", what, vpio_test_log_buf.text); \
		CU_ASSERT(vpio_test_log_has(what));                                                \
		vpio_test_log_release();                                                           \
		CU_ASSERT_EQUAL(f.rw_calls, rw0);                                                  \
		CU_ASSERT_EQUAL(f.misc_calls, misc0);                                              \
		CU_ASSERT_EQUAL(vpio_blk_channel_get_outstanding(g_ch), 0);                        \
	} while (0)

static void test_bad_args(void)
{
	struct iovec iov[5] = { { g_buf, BS }, { g_buf + BS, BS }, { g_buf + 2 * BS, BS }, { g_buf + 3 * BS, BS },
				{ g_buf + 4 * BS, BS } };
	struct iovec odd[2] = { { g_buf, BS + 100 }, { g_buf + 2 * BS, BS - 100 } };

	REFUSED(vpio_blk_read(NULL, g_buf, 0, 1, cb, NULL), -EINVAL, "the channel is NULL");
	REFUSED(vpio_blk_read(g_ch, g_buf, 0, 1, NULL, NULL), -EINVAL, "the callback is NULL");
	REFUSED(vpio_blk_read(g_ch, NULL, 0, 1, cb, NULL), -EINVAL, "is NULL");
	REFUSED(vpio_blk_read(g_ch, g_buf, 0, 0, cb, NULL), -EINVAL, "zero blocks");
	REFUSED(vpio_blk_write(g_ch, g_buf, NUM_BLOCKS, 1, cb, NULL), -ERANGE, "beyond the end (1000 blocks)");
	REFUSED(vpio_blk_write(g_ch, g_buf, NUM_BLOCKS - 1, 2, cb, NULL), -ERANGE, "blocks 999..1000");
	REFUSED(vpio_blk_read(g_ch, g_buf, UINT64_MAX, 2, cb, NULL), -ERANGE, "beyond the end");
	REFUSED(vpio_blk_read(g_ch, g_buf, 0, 17, cb, NULL), -E2BIG, "17 blocks is more than the 16");
	REFUSED(vpio_blk_read(g_ch, g_buf + 8, 0, 1, cb, NULL), -EINVAL, "not aligned to buf_align");
	REFUSED(vpio_blk_readv(g_ch, iov, 0, 0, 1, cb, NULL), -EINVAL, "iovcnt 0");
	REFUSED(vpio_blk_readv(g_ch, NULL, 1, 0, 1, cb, NULL), -EINVAL, "must be 1..4");
	REFUSED(vpio_blk_writev(g_ch, iov, 5, 0, 5, cb, NULL), -EINVAL, "iovcnt 5");
	REFUSED(vpio_blk_writev(g_ch, iov, 2, 0, 3, cb, NULL), -EINVAL, "the buffers hold 1024 bytes, 3 blocks are 1536");
	REFUSED(vpio_blk_readv(g_ch, odd, 2, 0, 2, cb, NULL), -EINVAL, "not a multiple of the block size long");
	REFUSED(vpio_blk_write_zeroes(g_ch, 0, 101, cb, NULL), -E2BIG, "101 blocks is more than the 100");
	REFUSED(vpio_blk_write_zeroes(g_ch, 990, 11, cb, NULL), -ERANGE, "beyond the end");
	REFUSED(vpio_blk_write_zeroes(g_ch, 0, 0, cb, NULL), -EINVAL, "zero blocks");
	REFUSED(vpio_blk_deallocate(g_ch, 0, 1, cb, NULL), -ENOTSUP, "does not support it");
	REFUSED(vpio_blk_flush(g_ch, NULL, NULL), -EINVAL, "the callback is NULL");
	REFUSED(vpio_blk_flush(NULL, cb, NULL), -EINVAL, "the channel is NULL");
	REFUSED(vpio_blk_submit(NULL), -EINVAL, "the channel is NULL");
	REFUSED(vpio_blk_poll(NULL, 0), -EINVAL, "the channel is NULL");
	CU_ASSERT_EQUAL(g_done, 0);

	/* the edges are fine */
	CU_ASSERT_EQUAL(vpio_blk_read(g_ch, g_buf, NUM_BLOCKS - 16, 16, cb, NULL), 0);
	CU_ASSERT_EQUAL(vpio_blk_writev(g_ch, iov, 4, 3, 4, cb, NULL), 0);
	CU_ASSERT_EQUAL(f.last_iovcnt, 4);
	CU_ASSERT_EQUAL(f.last_lba, 3);
	CU_ASSERT_EQUAL(vpio_blk_write_zeroes(g_ch, NUM_BLOCKS - 100, 100, cb, NULL), 0);
	CU_ASSERT_EQUAL(f.last_nblocks, 100);
	CU_ASSERT_EQUAL(vpio_blk_poll(g_ch, 0), 3);
	CU_ASSERT_EQUAL(g_done, 3);
	CU_ASSERT_EQUAL(g_status, -EIO); /* the fake fails write zeroes */
}

static void test_eagain(void)
{
	struct vpio_blk_channel_stats st, st0;
	uint32_t depth = vpio_blk_channel_get_depth(g_ch);

	g_done = 0;
	vpio_blk_channel_get_stats(g_ch, &st0); /* test_bad_args left 3 requests, one of them failed, and a poll */
	CU_ASSERT_EQUAL(st0.submitted, 3);
	CU_ASSERT_EQUAL(st0.errors, 1);
	CU_ASSERT_EQUAL(st0.polls, 1);
	CU_ASSERT_EQUAL(depth, 4); /* the target's default */
	for (uint32_t i = 0; i < depth; i++)
		CU_ASSERT_EQUAL(vpio_blk_read(g_ch, g_buf, i, 1, cb, NULL), 0);
	CU_ASSERT_EQUAL(vpio_blk_channel_get_outstanding(g_ch), depth);
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_blk_read(g_ch, g_buf, 0, 1, cb, NULL), -EAGAIN);
	CU_ASSERT_EQUAL(vpio_blk_flush(g_ch, cb, NULL), -EAGAIN);
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 0); /* flow control is not logged */
	/* bad input is still bad input when the channel is full */
	CU_ASSERT_EQUAL(vpio_blk_read(g_ch, g_buf, 0, 0, cb, NULL), -EINVAL);
	vpio_test_log_release();
	CU_ASSERT_EQUAL(vpio_blk_submit(g_ch), 4);
	CU_ASSERT_EQUAL(vpio_blk_poll(g_ch, 1), 1);
	CU_ASSERT_EQUAL(vpio_blk_read(g_ch, g_buf, 0, 1, cb, NULL), 0);
	CU_ASSERT_EQUAL(vpio_blk_poll(g_ch, 0), 4);
	CU_ASSERT_EQUAL(g_done, 5);
	CU_ASSERT_EQUAL(vpio_blk_channel_get_outstanding(g_ch), 0);
	vpio_blk_channel_get_stats(g_ch, &st);
	CU_ASSERT_EQUAL(st.submitted - st0.submitted, 5);
	CU_ASSERT_EQUAL(st.completed - st0.completed, 5);
	CU_ASSERT_EQUAL(st.errors - st0.errors, 0);
	CU_ASSERT_EQUAL(st.polls - st0.polls, 2);
}

/* A backend that refuses gives the context back: depth requests still fit. */
static void test_backend_refuses(void)
{
	g_done = 0;
	f.next_rc = -EAGAIN;
	for (int i = 0; i < 10; i++)
		CU_ASSERT_EQUAL(vpio_blk_read(g_ch, g_buf, 0, 1, cb, NULL), -EAGAIN);
	f.next_rc = -EFAULT;
	CU_ASSERT_EQUAL(vpio_blk_write(g_ch, g_buf, 0, 1, cb, NULL), -EFAULT);
	f.next_rc = 0;
	CU_ASSERT_EQUAL(vpio_blk_channel_get_outstanding(g_ch), 0);
	for (int i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(vpio_blk_read(g_ch, g_buf, 0, 1, cb, NULL), 0);
	CU_ASSERT_EQUAL(vpio_blk_poll(g_ch, 0), 4);
	CU_ASSERT_EQUAL(g_done, 4);
}

static int g_resubmits, g_poll_rc, g_destroy_rc;

static void cb_resubmit(void *arg, int status)
{
	(void)status;
	g_done++;
	g_poll_rc = vpio_blk_poll(g_ch, 0);
	g_destroy_rc = vpio_blk_channel_destroy(g_ch);
	if (g_resubmits-- > 0)
		CU_ASSERT_EQUAL(vpio_blk_read(g_ch, g_buf, 0, 1, cb_resubmit, arg), 0);
}

static void test_callbacks(void)
{
	g_done = 0;
	g_resubmits = 3;
	CU_ASSERT_EQUAL(vpio_blk_read(g_ch, g_buf, 0, 1, cb_resubmit, NULL), 0);
	vpio_test_log_capture();
	for (int i = 0; i < 10 && vpio_blk_channel_get_outstanding(g_ch) > 0; i++)
		CU_ASSERT(vpio_blk_poll(g_ch, 0) >= 1);
	CU_ASSERT_EQUAL(vpio_blk_channel_get_outstanding(g_ch), 0);
	CU_ASSERT(vpio_test_log_has("from one of the channel's own callbacks"));
	vpio_test_log_release();
	CU_ASSERT_EQUAL(g_done, 4);
	CU_ASSERT_EQUAL(g_poll_rc, -EBUSY);
	CU_ASSERT_EQUAL(g_destroy_rc, -EBUSY);
}

static void test_read_only(void)
{
	g_t.info.read_only = true;
	REFUSED(vpio_blk_write(g_ch, g_buf, 0, 1, cb, NULL), -EROFS, "fake0 is read-only");
	REFUSED(vpio_blk_writev(g_ch, &(struct iovec){ g_buf, BS }, 1, 0, 1, cb, NULL), -EROFS, "read-only");
	REFUSED(vpio_blk_write_zeroes(g_ch, 0, 1, cb, NULL), -EROFS, "read-only");
	REFUSED(vpio_blk_deallocate(g_ch, 0, 1, cb, NULL), -EROFS, "read-only");
	CU_ASSERT_EQUAL(vpio_blk_read(g_ch, g_buf, 0, 1, cb, NULL), 0);
	CU_ASSERT_EQUAL(vpio_blk_flush(g_ch, cb, NULL), 0);
	CU_ASSERT_EQUAL(vpio_blk_poll(g_ch, 0), 2);
	g_t.info.read_only = false;
}

static void test_target(void)
{
	struct vpio_blk_channel *ch2;
	struct vpio_blk_info info;
	struct {
		size_t info_size;
		const char *name;
		const char *backend;
		uint32_t block_size;
	} small = { sizeof(small), NULL, NULL, 0 };

	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_blk_channel_create(&g_t, 9, &ch2), -EINVAL);
	CU_ASSERT(vpio_test_log_has("queue depth 9 is above the 8"));
	CU_ASSERT_EQUAL(vpio_blk_channel_create(NULL, 1, &ch2), -EINVAL);
	CU_ASSERT_EQUAL(vpio_blk_close(&g_t), -EBUSY);
	CU_ASSERT(vpio_test_log_has("1 channel(s) still exist"));
	CU_ASSERT_EQUAL(f.closes, 0);
	CU_ASSERT_EQUAL(vpio_blk_get_info_sized(&g_t, &info, 4), -EINVAL);
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 4);
	vpio_test_log_release();

	CU_ASSERT_EQUAL(vpio_blk_channel_create(&g_t, 8, &ch2), 0);
	CU_ASSERT_EQUAL(vpio_blk_channel_get_depth(ch2), 8);
	CU_ASSERT_PTR_EQUAL(vpio_blk_channel_get_target(ch2), &g_t);
	CU_ASSERT_EQUAL(vpio_blk_channel_destroy(ch2), 0);

	/* a smaller (older) info struct gets only its fields */
	CU_ASSERT_EQUAL(vpio_blk_get_info_sized(&g_t, (struct vpio_blk_info *)&small, sizeof(small)), 0);
	CU_ASSERT_EQUAL(small.info_size, sizeof(small));
	CU_ASSERT_STRING_EQUAL(small.name, "fake0");
	CU_ASSERT_STRING_EQUAL(small.backend, "fake");
	CU_ASSERT_EQUAL(small.block_size, BS);
	memset(&info, 0, sizeof(info));
	info.info_size = sizeof(info);
	CU_ASSERT_EQUAL(vpio_blk_get_info(&g_t, &info), 0);
	CU_ASSERT_EQUAL(info.num_blocks, NUM_BLOCKS);
	CU_ASSERT_EQUAL(info.max_queue_depth, 8);
	CU_ASSERT_EQUAL(info.info_size, sizeof(info));

	CU_ASSERT_EQUAL(vpio_blk_channel_destroy(g_ch), 0);
	CU_ASSERT_EQUAL(vpio_blk_close(&g_t), 0);
	CU_ASSERT_EQUAL(f.closes, 1);
	CU_ASSERT_EQUAL(vpio_blk_channel_create(&g_t, 0, &g_ch), 0); /* for teardown */
	CU_ASSERT_EQUAL(vpio_blk_close(NULL), 0);
	CU_ASSERT_EQUAL(vpio_blk_channel_destroy(NULL), 0);
}

static int reg(void)
{
	VPIO_SUITE("blk_io", setup, teardown);
	VPIO_TEST(test_bad_args);
	VPIO_TEST(test_eagain);
	VPIO_TEST(test_backend_refuses);
	VPIO_TEST(test_callbacks);
	VPIO_TEST(test_read_only);
	VPIO_TEST(test_target);
	return 0;
}

int main(void)
{
	return vpio_test_run(reg);
}
