/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Suite "bad input": every misuse gets a negative errno and exactly one
 * error line naming the problem, nothing reaches the device, and the qpair
 * still works afterwards.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "func_nvme.h"

struct bad {
	struct vpio_nvme_ctrlr *c;
	struct vpio_nvme_ns *ns;
	struct vpio_nvme_qpair *qp;
	uint8_t *buf;
	uint8_t *small; /* one block */
	uint64_t nblocks;
	uint64_t cmds0; /* emulator I/O commands before */
};

static uint64_t emu_cmds(struct vpio_nvme_ctrlr *c)
{
	struct vpio_emu_nvme_stats st;
	struct vpio_emu_nvme *emu = fn_emu(c);

	if (emu == NULL)
		return 0;
	vpio_emu_nvme_get_stats(emu, &st);
	return st.io_cmds;
}

/* One misuse: the errno, one error line containing text. */
static void expect(int rc, int want, const char *text, const char *what)
{
	CU_ASSERT_EQUAL(rc, want);
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 1);
	CU_ASSERT(vpio_test_log_has(text));
	if (rc != want || vpio_test_log_errors() != 1 || !vpio_test_log_has(text))
		fprintf(stderr, "\n  %s: got %d, want %d with \"%s\"; log:\n%s", what, rc, want, text,
			vpio_test_log_buf.text);
	vpio_test_log_capture(); /* clear */
}

static void io_misuse(struct bad *b)
{
	uint8_t *heap = aligned_alloc(4096, 8192);
	uint32_t bs = vpio_nvme_ns_get_sector_size(b->ns);
	struct iovec v[2] = { { b->buf, bs }, { b->buf + 8192, 100 } };
	/* lengths that add up to 2^64 + bs: one block once wrapped */
	struct iovec wrap[2] = { { b->buf, SIZE_MAX - bs + 1u }, { b->buf, 2u * bs } };
	struct vpio_nvme_cmd raw;

	expect(vpio_nvme_ns_cmd_read(b->ns, b->qp, b->buf, b->nblocks, 1, NULL, NULL, 0), -ERANGE, "beyond namespace",
	       "LBA past the end");
	expect(vpio_nvme_ns_cmd_write(b->ns, b->qp, b->buf, b->nblocks - 1, 2, NULL, NULL, 0), -ERANGE,
	       "beyond namespace", "range crossing the end");
	expect(vpio_nvme_ns_cmd_write_zeroes(b->ns, b->qp, UINT64_MAX - 1, 4, NULL, NULL, 0), -ERANGE, "beyond",
	       "wrapping range");
	expect(vpio_nvme_ns_cmd_read(b->ns, b->qp, b->buf, 0, 0, NULL, NULL, 0), -EINVAL, "zero length",
	       "zero blocks");
	expect(vpio_nvme_ns_cmd_writev(b->ns, b->qp, v, 2, 0, NULL, NULL, 0), -EINVAL, "not a multiple",
	       "vector not a multiple of the block size");
	expect(vpio_nvme_ns_cmd_readv(b->ns, b->qp, v, 0, 0, NULL, NULL, 0), -EINVAL, "iovcnt", "empty vector");
	expect(vpio_nvme_ns_cmd_read(b->ns, b->qp, b->buf + 2, 0, 1, NULL, NULL, 0), -EINVAL, "4-byte aligned",
	       "unaligned buffer");
	expect(vpio_nvme_ns_cmd_read(b->ns, b->qp, NULL, 0, 1, NULL, NULL, 0), -EINVAL, "NULL", "NULL buffer");
	expect(vpio_nvme_ns_cmd_write(b->ns, b->qp, heap, 0, 1, NULL, NULL, 0), -EFAULT, "not registered",
	       "unregistered heap buffer");
	expect(vpio_nvme_ns_cmd_read(b->ns, b->qp, b->buf, 0, 1, NULL, NULL, 0x55), -EINVAL, "io_flags",
	       "unknown flags");
	expect(vpio_nvme_qpair_cmd_raw(b->qp, NULL, NULL, 0, NULL, NULL), -EINVAL, "raw", "raw NULL command");
	expect(vpio_nvme_ns_cmd_readv(b->ns, b->qp, wrap, 2, 0, NULL, NULL, 0), -EINVAL, "more than 2^64",
	       "vector whose lengths wrap");
	/* a raw read of 8 blocks into a one-block buffer: the device would
	 * write past it */
	memset(&raw, 0, sizeof(raw));
	raw.opc = VPIO_NVME_OPC_READ;
	raw.nsid = vpio_nvme_ns_get_id(b->ns);
	raw.cdw12 = 7;
	expect(vpio_nvme_qpair_cmd_raw(b->qp, &raw, b->small, bs, NULL, NULL), -EINVAL, "would go past its end",
	       "raw read longer than its buffer");
	raw.opc = VPIO_NVME_OPC_DATASET_MANAGEMENT;
	raw.cdw10 = 1; /* two ranges: 32 bytes */
	expect(vpio_nvme_qpair_cmd_raw(b->qp, &raw, b->small, 16, NULL, NULL), -EINVAL, "moves 32 bytes",
	       "raw DSM with one range of room for two");
	free(heap);
}

static void test_io_misuse(void)
{
	struct bad b;
	unsigned t;

	for (t = 0; t < g_fn_ntargets; t++) {
		memset(&b, 0, sizeof(b));
		b.c = fn_attach(g_fn_targets[t], NULL);
		if (b.c == NULL)
			continue;
		b.ns = fn_ns(b.c, vpio_nvme_ctrlr_first_active_ns(b.c));
		b.qp = fn_qpair(b.c, 16, 0);
		b.buf = fn_gbuf(65536);
		b.small = fn_gbuf(vpio_nvme_ns_get_sector_size(b.ns));
		b.nblocks = vpio_nvme_ns_get_num_sectors(b.ns);
		b.cmds0 = emu_cmds(b.c);
		vpio_test_log_capture();
		io_misuse(&b);
		vpio_test_log_release();
		CU_ASSERT_EQUAL(emu_cmds(b.c), b.cmds0); /* nothing reached the device */
		CU_ASSERT_EQUAL(vpio_nvme_qpair_get_outstanding(b.qp), 0);
		CU_ASSERT_EQUAL(fn_read(b.ns, b.qp, b.buf, 0, 1), 0); /* still works */
		fn_gbuf_free(b.buf);
		fn_gbuf_free(b.small);
		CU_ASSERT_EQUAL(vpio_nvme_ctrlr_free_io_qpair(b.qp), 0);
		CU_ASSERT_EQUAL(vpio_nvme_ctrlr_detach(b.c), 0);
	}
}

static void test_ctrlr_misuse(void)
{
	struct vpio_nvme_qpair_opts o;
	struct vpio_nvme_ctrlr *c = fn_attach(g_fn_targets[0], NULL), *c2;
	struct vpio_nvme_qpair *qp;
	struct vpio_nvme_ns *ns;

	if (c == NULL)
		return;
	vpio_test_log_capture();
	expect(vpio_nvme_ctrlr_get_ns(c, 0, &ns), -EINVAL, "is invalid", "namespace id 0");
	expect(vpio_nvme_ctrlr_get_ns(c, 0xfffffff0u, &ns), -EINVAL, "is invalid", "namespace id past NN");
	vpio_nvme_qpair_opts_init(&o);
	o.queue_size = 1;
	qp = (struct vpio_nvme_qpair *)&o; /* stale: must not survive a failure */
	expect(vpio_nvme_ctrlr_alloc_io_qpair(c, &o, &qp), -EINVAL, "too small", "queue of one entry");
	CU_ASSERT_PTR_NULL(qp);
	expect(vpio_nvme_ctrlr_attach("emu:nvme0?bogus=1", NULL, &c2), -EINVAL, "unknown option",
	       "bad emulator option");
	expect(vpio_nvme_ctrlr_attach(NULL, NULL, &c2), -EINVAL, "NULL", "no name");
	expect(vpio_nvme_ctrlr_identify(c, 1, 0, NULL, 0), -EINVAL, "identify", "identify without a buffer");
	expect(vpio_nvme_ctrlr_get_log_page(c, 2, 0, &o, 3, 0), -EINVAL, "dword", "log page of 3 bytes");
	expect(vpio_nvme_ctrlr_get_feature(c, VPIO_NVME_FEAT_ARBITRATION, 0, &o, 4, NULL), -EINVAL, "moves 0 bytes",
	       "a buffer for a feature without data");
	expect(vpio_nvme_ctrlr_get_feature(c, VPIO_NVME_FEAT_TIMESTAMP, 0, &o, sizeof(o), NULL), -EINVAL,
	       "moves 8 bytes", "a buffer longer than the feature's data");
	expect(vpio_nvme_ctrlr_set_feature(c, VPIO_NVME_FEAT_LBA_RANGE_TYPE, 0, 0, NULL, 0, NULL), -EINVAL,
	       "reads a 4096-byte data structure", "a set without its data structure");
	vpio_test_log_release();
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_detach(c), 0);
}

/* A qpair handle kept across detach: -ENODEV, one line; its outstanding
 * requests ended with ABORTED BY HOST. */
static void test_detached_controller(void)
{
	struct vpio_nvme_ctrlr *c = fn_attach(g_fn_targets[0], NULL);
	struct vpio_nvme_qpair *qp, *qp2;
	struct vpio_nvme_ns *ns;
	struct fn_io w = { 0, 0, 0 };
	uint8_t *buf = fn_gbuf(4096);

	if (c == NULL) {
		fn_gbuf_free(buf);
		return;
	}
	ns = fn_ns(c, vpio_nvme_ctrlr_first_active_ns(c));
	qp = fn_qpair(c, 16, 0);
	CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_read(ns, qp, buf, 0, 1, fn_io_cb, &w, 0), 0);
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_detach(c), 0);
	vpio_test_log_capture();
	expect(vpio_nvme_qpair_process_completions(qp, 0), -ENODEV, "detached", "poll after detach");
	CU_ASSERT_EQUAL(w.done, 1); /* ended by the host (or completed before detach) */
	expect(vpio_nvme_ns_cmd_read(ns, qp, buf, 0, 1, fn_io_cb, &w, 0), -ENODEV, "detached", "read after detach");
	expect(vpio_nvme_ctrlr_alloc_io_qpair(c, NULL, &qp2), -ENODEV, "detached", "qpair after detach");
	expect(vpio_nvme_ctrlr_identify(c, VPIO_NVME_CNS_CTRLR, 0, buf, 4096), -ENODEV, "detached",
	       "admin command after detach");
	expect(vpio_nvme_ctrlr_reset(c), -ENODEV, "detached", "reset after detach");
	vpio_test_log_release();
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_free_io_qpair(qp), 0); /* frees the controller's last memory */
	fn_gbuf_free(buf);
}

struct thread_arg {
	struct vpio_nvme_ns *ns;
	struct vpio_nvme_qpair *qp;
	void *buf;
	int rc_io, rc_poll;
};

static void *second_thread(void *p)
{
	struct thread_arg *a = p;

	a->rc_io = vpio_nvme_ns_cmd_read(a->ns, a->qp, a->buf, 0, 1, NULL, NULL, 0);
	a->rc_poll = vpio_nvme_qpair_process_completions(a->qp, 0);
	return NULL;
}

/* A second thread is refused by default (check_thread is on in every
 * build); with it off, the qpair follows the thread that calls. */
static void test_second_thread(void)
{
	struct vpio_nvme_ctrlr *c = fn_attach(g_fn_targets[0], NULL);
	struct vpio_nvme_qpair_opts o;
	struct thread_arg a;
	pthread_t t;

	memset(&a, 0, sizeof(a));
	a.buf = fn_gbuf(4096);
	if (c == NULL) {
		fn_gbuf_free(a.buf);
		return;
	}
	a.ns = fn_ns(c, vpio_nvme_ctrlr_first_active_ns(c));
	CU_ASSERT_EQUAL_FATAL(vpio_nvme_ctrlr_alloc_io_qpair(c, NULL, &a.qp), 0);
	CU_ASSERT_EQUAL(fn_read(a.ns, a.qp, a.buf, 0, 1), 0); /* this thread owns it now */
	vpio_test_log_capture();
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, second_thread, &a), 0);
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(a.rc_io, -EPERM);
	CU_ASSERT_EQUAL(a.rc_poll, -EPERM);
	CU_ASSERT(vpio_test_log_has("second thread"));
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 2);
	vpio_test_log_release();
	CU_ASSERT_EQUAL(fn_read(a.ns, a.qp, a.buf, 0, 1), 0);
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_free_io_qpair(a.qp), 0);
	/* check_thread off: handed over to a thread that uses it alone */
	vpio_nvme_qpair_opts_init(&o);
	o.check_thread = false;
	CU_ASSERT_EQUAL_FATAL(vpio_nvme_ctrlr_alloc_io_qpair(c, &o, &a.qp), 0);
	CU_ASSERT_EQUAL(fn_read(a.ns, a.qp, a.buf, 0, 1), 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, second_thread, &a), 0);
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(a.rc_io, 0);
	CU_ASSERT(a.rc_poll >= 0);
	CU_ASSERT_EQUAL(fn_drain(a.qp, 5000), 0); /* and back */
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_free_io_qpair(a.qp), 0);
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_detach(c), 0);
	fn_gbuf_free(a.buf);
}

/* A second thread while the owner is inside a completion callback. */
struct in_cb {
	struct thread_arg a;
	_Atomic int in_cb, probed;
	unsigned calls;
};

static void wait_flag(_Atomic int *flag)
{
	uint64_t end = fn_now_us() + 5000000u;

	while (!atomic_load(flag) && fn_now_us() < end)
		;
}

static void owner_cb(void *arg, const struct vpio_nvme_cpl *cpl)
{
	struct in_cb *x = arg;

	(void)cpl;
	x->calls++;
	atomic_store(&x->in_cb, 1);
	wait_flag(&x->probed); /* stay inside while the other thread tries */
}

static void *prober(void *p)
{
	struct in_cb *x = p;

	wait_flag(&x->in_cb);
	x->a.rc_poll = vpio_nvme_qpair_process_completions(x->a.qp, 0);
	x->a.rc_io = vpio_nvme_ns_cmd_read(x->a.ns, x->a.qp, x->a.buf, 0, 1, NULL, NULL, 0);
	atomic_store(&x->probed, 1);
	return NULL;
}

/* The second thread gets -EPERM and the line that says what happened
 * (before: -EBUSY "polled from its own completion callback", or, without
 * the check, completions taken from under the owner), with check_thread
 * on and off; the owner carries on. */
static void in_cb_round(struct vpio_nvme_ctrlr *c, bool check)
{
	struct vpio_nvme_qpair_opts o;
	struct in_cb x;
	pthread_t t;

	memset(&x, 0, sizeof(x));
	x.a.ns = fn_ns(c, vpio_nvme_ctrlr_first_active_ns(c));
	x.a.buf = fn_gbuf(4096);
	vpio_nvme_qpair_opts_init(&o);
	o.check_thread = check;
	CU_ASSERT_EQUAL_FATAL(vpio_nvme_ctrlr_alloc_io_qpair(c, &o, &x.a.qp), 0);
	CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_read(x.a.ns, x.a.qp, x.a.buf, 0, 1, owner_cb, &x, 0), 0);
	vpio_test_log_capture();
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, prober, &x), 0);
	CU_ASSERT_EQUAL(fn_drain(x.a.qp, 10000), 0);
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(x.calls, 1);
	CU_ASSERT_EQUAL(x.a.rc_poll, -EPERM);
	CU_ASSERT_EQUAL(x.a.rc_io, -EPERM);
	CU_ASSERT(vpio_test_log_has("second thread while its owner is inside a completion callback"));
	CU_ASSERT_FALSE(vpio_test_log_has("own completion callback"));
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 2);
	if (x.a.rc_poll != -EPERM || vpio_test_log_errors() != 2)
		fprintf(stderr, "\n  check_thread %d: poll %d, read %d; log:\n%s", check, x.a.rc_poll, x.a.rc_io,
			vpio_test_log_buf.text);
	vpio_test_log_release();
	CU_ASSERT_EQUAL(fn_read(x.a.ns, x.a.qp, x.a.buf, 0, 1), 0);
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_free_io_qpair(x.a.qp), 0);
	fn_gbuf_free(x.a.buf);
}

static void test_second_thread_in_callback(void)
{
	struct vpio_nvme_ctrlr *c = fn_attach(g_fn_targets[0], NULL);

	if (c == NULL)
		return;
	in_cb_round(c, true);
	in_cb_round(c, false);
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_detach(c), 0);
}

static struct vpio_nvme_qpair *g_cb_qp;
static int g_cb_rc;

static void poll_from_cb(void *arg, const struct vpio_nvme_cpl *cpl)
{
	(void)arg;
	(void)cpl;
	g_cb_rc = vpio_nvme_qpair_process_completions(g_cb_qp, 0);
}

static void test_poll_from_callback(void)
{
	struct vpio_nvme_ctrlr *c = fn_attach(g_fn_targets[0], NULL);
	struct vpio_nvme_ns *ns;
	uint8_t *buf = fn_gbuf(4096);

	if (c == NULL) {
		fn_gbuf_free(buf);
		return;
	}
	ns = fn_ns(c, vpio_nvme_ctrlr_first_active_ns(c));
	g_cb_qp = fn_qpair(c, 16, 0);
	g_cb_rc = 1;
	CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_read(ns, g_cb_qp, buf, 0, 1, poll_from_cb, NULL, 0), 0);
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(fn_drain(g_cb_qp, 5000), 0);
	CU_ASSERT_EQUAL(g_cb_rc, -EBUSY);
	CU_ASSERT(vpio_test_log_has("own completion callback"));
	vpio_test_log_release();
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_free_io_qpair(g_cb_qp), 0);
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_detach(c), 0);
	fn_gbuf_free(buf);
}

static struct vpio_nvme_ctrlr *g_admin_c;

static void sync_admin_cb(void *arg, const struct vpio_nvme_cpl *cpl)
{
	(void)cpl;
	*(int *)arg = vpio_nvme_ctrlr_get_feature(g_admin_c, VPIO_NVME_FEAT_ARBITRATION, 0, NULL, 0, NULL);
}

/* A synchronous admin command from an admin completion callback could
 * never complete (this thread reaps the admin queue): refused. */
static void test_sync_admin_from_callback(void)
{
	struct vpio_nvme_cmd cmd;
	int rc = 1, i;

	g_admin_c = fn_attach(g_fn_targets[0], NULL);
	if (g_admin_c == NULL)
		return;
	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = VPIO_NVME_OPC_GET_FEATURES;
	cmd.cdw10 = VPIO_NVME_FEAT_ARBITRATION;
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_cmd_admin_raw(g_admin_c, &cmd, NULL, 0, sync_admin_cb, &rc), 0);
	vpio_test_log_capture();
	for (i = 0; i < 1000000 && rc == 1; i++)
		vpio_nvme_ctrlr_process_admin_completions(g_admin_c);
	expect(rc, -EBUSY, "from an admin completion callback", "synchronous admin command from an admin callback");
	vpio_test_log_release();
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_get_feature(g_admin_c, VPIO_NVME_FEAT_ARBITRATION, 0, NULL, 0, NULL), 0);
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_detach(g_admin_c), 0);
}

int fn_register_bad_input(void)
{
	VPIO_SUITE("bad input", NULL, NULL);
	VPIO_TEST(test_io_misuse);
	VPIO_TEST(test_ctrlr_misuse);
	VPIO_TEST(test_detached_controller);
	VPIO_TEST(test_second_thread);
	VPIO_TEST(test_second_thread_in_callback);
	VPIO_TEST(test_poll_from_callback);
	VPIO_TEST(test_sync_admin_from_callback);
	return 0;
}
