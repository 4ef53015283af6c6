/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Suite "faults" (emulated controllers only): every injected fault ends in
 * a clean error (each request completes exactly once, one log line says
 * what happened), then vpio_nvme_ctrlr_reset() brings the controller back
 * with its data and the same qpair handles:
 *   FATAL (CSTS.CFS), DROP_CPL (timeout -> Abort -> reset), BOGUS_CID,
 *   DUP_CPL, BAD_SQHD, DELAY_CPL (short: completes; long: aborted),
 *   REMOVE (registers all ones: -ENODEV until the device is re-created),
 *   and a reset with a full queue in flight; DROP_ADMIN_CPL (admin
 *   timeout -> reset, or not with no_reset_on_timeout); callbacks of host-ended
 *   requests that try to free or poll their qpair; and, on a controller
 *   slow to follow CC.EN, a disable that finds an enable in progress and a
 *   failed controller stopped before its requests end.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "func_nvme.h"

#define HOST_ABORT VPIO_NVME_STATUS(VPIO_NVME_SCT_PATH, VPIO_NVME_SC_ABORTED_BY_HOST)

struct ft {
	struct vpio_nvme_ctrlr *c;
	struct vpio_nvme_ns *ns;
	struct vpio_nvme_qpair *qp;
	struct vpio_emu_nvme *emu;
	uint8_t *a, *b;
};

static bool ft_open(struct ft *f, const char *name, uint32_t timeout_ms)
{
	memset(f, 0, sizeof(*f));
	f->c = fn_attach(name, NULL);
	if (f->c == NULL)
		return false;
	f->ns = fn_ns(f->c, 1);
	f->qp = fn_qpair(f->c, 64, timeout_ms);
	f->emu = fn_emu(f->c);
	f->a = fn_gbuf(65536);
	f->b = fn_gbuf(65536);
	CU_ASSERT_PTR_NOT_NULL(f->emu);
	return f->ns && f->qp && f->emu && f->a && f->b;
}

static void ft_close(struct ft *f)
{
	fn_gbuf_free(f->a);
	fn_gbuf_free(f->b);
	if (f->qp)
		CU_ASSERT_EQUAL(vpio_nvme_ctrlr_free_io_qpair(f->qp), 0);
	if (f->c)
		CU_ASSERT_EQUAL(vpio_nvme_ctrlr_detach(f->c), 0);
}

/* Write a pattern at lba, read it back, compare. */
static void check_io(struct ft *f, uint64_t lba, uint64_t seed)
{
	fn_fill(f->a, 4096, seed);
	memset(f->b, 0, 4096);
	CU_ASSERT_EQUAL(fn_write(f->ns, f->qp, f->a, lba, 8), 0);
	CU_ASSERT_EQUAL(fn_read(f->ns, f->qp, f->b, lba, 8), 0);
	CU_ASSERT_EQUAL(memcmp(f->a, f->b, 4096), 0);
}

/* Data written before the fault is still there. */
static void check_kept(struct ft *f, uint64_t lba, uint64_t seed)
{
	fn_fill(f->a, 4096, seed);
	memset(f->b, 0, 4096);
	CU_ASSERT_EQUAL(fn_read(f->ns, f->qp, f->b, lba, 8), 0);
	CU_ASSERT_EQUAL(memcmp(f->a, f->b, 4096), 0);
}

static void test_fatal(void)
{
	struct vpio_nvme_ctrlr_data cd;
	struct fn_io w = { 0, 0, 0 };
	struct ft f;

	if (ft_open(&f, FN_EMU_FAULT, 0)) {
		check_io(&f, 10, 1);
		CU_ASSERT_EQUAL(vpio_emu_nvme_inject(f.emu, VPIO_EMU_NVME_FAULT_FATAL, 0), 0);
		CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_read(f.ns, f.qp, f.b, 10, 8, fn_io_cb, &w, 0), 0);
		vpio_test_log_capture();
		CU_ASSERT_EQUAL(fn_wait(f.qp, &w, 5000), -ENXIO);
		CU_ASSERT(w.done == 1 && w.status == HOST_ABORT);
		CU_ASSERT(vpio_test_log_has("controller fatal status"));
		CU_ASSERT_EQUAL(vpio_nvme_ctrlr_get_state(f.c), VPIO_NVME_CTRLR_FAILED);
		CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_read(f.ns, f.qp, f.b, 10, 8, fn_io_cb, &w, 0), -ENXIO);
		CU_ASSERT(vpio_test_log_has("reset it with vpio_nvme_ctrlr_reset()"));
		CU_ASSERT_EQUAL(vpio_nvme_ctrlr_identify(f.c, 1, 0, &cd, sizeof(cd)), -ENXIO);
		vpio_test_log_release();
		CU_ASSERT_EQUAL(vpio_nvme_ctrlr_reset(f.c), 0);
		check_kept(&f, 10, 1);
		check_io(&f, 20, 2);
	}
	ft_close(&f);
}

/* A lost completion: the command times out, Abort finds nothing (the
 * device thinks it is done), one timeout later the controller is reset
 * and the command ends with ABORTED BY HOST. */
static void test_drop_timeout(void)
{
	struct vpio_nvme_ctrlr_stats cs;
	struct vpio_nvme_qpair_stats qs;
	struct fn_io w = { 0, 0, 0 };
	struct ft f;
	uint64_t t0;

	if (ft_open(&f, FN_EMU_FAULT, 100)) {
		check_io(&f, 30, 3);
		CU_ASSERT_EQUAL(vpio_emu_nvme_inject(f.emu, VPIO_EMU_NVME_FAULT_DROP_CPL, 1), 0);
		t0 = fn_now_us();
		CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_read(f.ns, f.qp, f.b, 30, 8, fn_io_cb, &w, 0), 0);
		vpio_test_log_capture();
		CU_ASSERT_EQUAL(fn_wait(f.qp, &w, 5000), 0);
		CU_ASSERT(w.done == 1 && w.status == HOST_ABORT);
		CU_ASSERT(fn_now_us() - t0 >= 200000u); /* two timeouts: never early */
		CU_ASSERT(vpio_test_log_has("timed out after 100 ms; sending Abort"));
		CU_ASSERT(vpio_test_log_has("still outstanding after Abort"));
		vpio_test_log_release();
		vpio_nvme_ctrlr_get_stats(f.c, &cs);
		vpio_nvme_qpair_get_stats(f.qp, &qs);
		CU_ASSERT(cs.timeouts == 1 && cs.aborts_sent == 1 && cs.resets == 1);
		CU_ASSERT(qs.timeouts == 1 && qs.reconnects == 1 && qs.host_aborted == 1);
		check_kept(&f, 30, 3);
		check_io(&f, 40, 4);
	}
	ft_close(&f);
}

/* A completion with a cid that is not outstanding: dropped and counted;
 * the command it belonged to times out and is ended by the reset; the
 * others complete normally, each once. */
static void test_bogus_cid(void)
{
	struct vpio_nvme_qpair_stats qs;
	struct fn_io w[3];
	struct ft f;
	int i;

	if (ft_open(&f, FN_EMU_FAULT, 100)) {
		memset(w, 0, sizeof(w));
		CU_ASSERT_EQUAL(vpio_emu_nvme_inject(f.emu, VPIO_EMU_NVME_FAULT_BOGUS_CID, 0), 0);
		for (i = 0; i < 3; i++)
			CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_read(f.ns, f.qp, f.b + i * 4096, (uint64_t)i * 8, 8, fn_io_cb,
							      &w[i], 0), 0);
		vpio_test_log_capture();
		CU_ASSERT_EQUAL(fn_drain(f.qp, 5000), 0);
		CU_ASSERT(vpio_test_log_has("not outstanding") || vpio_test_log_has("out of range"));
		vpio_test_log_release();
		vpio_nvme_qpair_get_stats(f.qp, &qs);
		CU_ASSERT_EQUAL(qs.bogus_cpls, 1);
		CU_ASSERT_EQUAL(qs.host_aborted, 1);
		for (i = 0; i < 3; i++)
			CU_ASSERT(w[i].done == 1 && (w[i].status == 0 || w[i].status == HOST_ABORT));
		CU_ASSERT_EQUAL((w[0].status == HOST_ABORT) + (w[1].status == HOST_ABORT) + (w[2].status == HOST_ABORT),
				1);
		check_io(&f, 50, 5);
	}
	ft_close(&f);
}

static void test_dup_cpl(void)
{
	struct vpio_nvme_qpair_stats qs;
	struct fn_io w = { 0, 0, 0 }, w2 = { 0, 0, 0 };
	struct ft f;
	uint64_t end;

	if (ft_open(&f, FN_EMU_FAULT, 0)) {
		CU_ASSERT_EQUAL(vpio_emu_nvme_inject(f.emu, VPIO_EMU_NVME_FAULT_DUP_CPL, 0), 0);
		vpio_test_log_capture();
		CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_read(f.ns, f.qp, f.b, 0, 8, fn_io_cb, &w, 0), 0);
		CU_ASSERT_EQUAL(fn_wait(f.qp, &w, 5000), 0);
		/* the same slot goes to the next command, with a new generation */
		CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_read(f.ns, f.qp, f.b, 0, 8, fn_io_cb, &w2, 0), 0);
		end = fn_now_us() + 50000u;
		while (fn_now_us() < end)
			vpio_nvme_qpair_process_completions(f.qp, 0);
		vpio_test_log_release();
		fn_gbuf_check();
		vpio_nvme_qpair_get_stats(f.qp, &qs);
		CU_ASSERT(w.done == 1 && w.status == 0);
		CU_ASSERT(w2.done == 1 && w2.status == 0);
		CU_ASSERT_EQUAL(qs.bogus_cpls, 1);
		check_io(&f, 60, 6);
	}
	ft_close(&f);
}

static void test_bad_sqhd(void)
{
	struct vpio_nvme_qpair_stats qs;
	struct ft f;

	if (ft_open(&f, FN_EMU_FAULT, 0)) {
		CU_ASSERT_EQUAL(vpio_emu_nvme_inject(f.emu, VPIO_EMU_NVME_FAULT_BAD_SQHD, 0), 0);
		vpio_test_log_capture();
		check_io(&f, 70, 7);
		CU_ASSERT(vpio_test_log_has("SQ head"));
		vpio_test_log_release();
		vpio_nvme_qpair_get_stats(f.qp, &qs);
		CU_ASSERT_EQUAL(qs.bad_sqhd, 1);
		CU_ASSERT_EQUAL(qs.bogus_cpls, 0);
		check_io(&f, 80, 8);
	}
	ft_close(&f);
}

static void test_delay(void)
{
	struct vpio_nvme_ctrlr_stats cs;
	struct fn_io w = { 0, 0, 0 };
	struct ft f;
	uint64_t t0;

	if (ft_open(&f, FN_EMU_FAULT, 100)) {
		/* shorter than the timeout: just late */
		CU_ASSERT_EQUAL(vpio_emu_nvme_inject(f.emu, VPIO_EMU_NVME_FAULT_DELAY_CPL, 40000), 0);
		t0 = fn_now_us();
		CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_read(f.ns, f.qp, f.b, 0, 8, fn_io_cb, &w, 0), 0);
		CU_ASSERT_EQUAL(fn_wait(f.qp, &w, 5000), 0);
		CU_ASSERT(w.done == 1 && w.status == 0);
		CU_ASSERT(fn_now_us() - t0 >= 40000u);
		/* far longer: the Abort finds it and the device ends it */
		CU_ASSERT_EQUAL(vpio_emu_nvme_inject(f.emu, VPIO_EMU_NVME_FAULT_DELAY_CPL, 10000000), 0);
		w.done = 0;
		t0 = fn_now_us();
		CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_read(f.ns, f.qp, f.b, 0, 8, fn_io_cb, &w, 0), 0);
		vpio_test_log_capture();
		CU_ASSERT_EQUAL(fn_wait(f.qp, &w, 5000), 0);
		vpio_test_log_release();
		CU_ASSERT(w.done == 1 && w.status == VPIO_NVME_STATUS(0, VPIO_NVME_SC_ABORTED_BY_REQUEST));
		CU_ASSERT(fn_now_us() - t0 < 2000000u);
		vpio_nvme_ctrlr_get_stats(f.c, &cs);
		CU_ASSERT(cs.aborts_sent == 1 && cs.resets == 0);
		check_io(&f, 90, 9);
	}
	ft_close(&f);
}

static void test_remove(void)
{
	struct vpio_nvme_ctrlr *c;
	struct fn_io w = { 0, 0, 0 };
	struct ft f;

	if (ft_open(&f, FN_EMU_REMOVE, 0)) {
		check_io(&f, 0, 10);
		CU_ASSERT_EQUAL(vpio_emu_nvme_inject(f.emu, VPIO_EMU_NVME_FAULT_REMOVE, 0), 0);
		CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_read(f.ns, f.qp, f.b, 0, 8, fn_io_cb, &w, 0), 0);
		vpio_test_log_capture();
		CU_ASSERT_EQUAL(fn_wait(f.qp, &w, 5000), -ENODEV);
		CU_ASSERT(w.done == 1 && w.status == HOST_ABORT);
		CU_ASSERT(vpio_test_log_has("read all ones"));
		CU_ASSERT_EQUAL(vpio_nvme_ctrlr_get_state(f.c), VPIO_NVME_CTRLR_REMOVED);
		CU_ASSERT_EQUAL(vpio_nvme_ctrlr_reset(f.c), -ENODEV);
		CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_read(f.ns, f.qp, f.b, 0, 8, fn_io_cb, &w, 0), -ENODEV);
		vpio_test_log_release();
	}
	ft_close(&f); /* detach of a removed controller does not hang */
	vpio_test_log_capture();
	CU_ASSERT_NOT_EQUAL(vpio_nvme_ctrlr_attach(FN_EMU_REMOVE, NULL, &c), 0);
	vpio_test_log_release();
	CU_ASSERT_EQUAL(vpio_emu_destroy(FN_EMU_REMOVE), 0);
	c = fn_attach(FN_EMU_REMOVE, NULL); /* a new device */
	if (c != NULL)
		CU_ASSERT_EQUAL(vpio_nvme_ctrlr_detach(c), 0);
	CU_ASSERT_EQUAL(vpio_emu_destroy(FN_EMU_REMOVE), 0);
}

/* Reset with a full queue in flight: every request completes once. */
static void test_reset_in_flight(void)
{
	struct fn_io w[63];
	struct ft f;
	int i, ok = 0, aborted = 0;

	if (ft_open(&f, FN_EMU_FAULT, 0)) {
		memset(w, 0, sizeof(w));
		for (i = 0; i < 63; i++)
			CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_read(f.ns, f.qp, f.b, (uint64_t)i, 1, fn_io_cb, &w[i], 0), 0);
		vpio_nvme_qpair_flush(f.qp);
		CU_ASSERT_EQUAL(vpio_nvme_ctrlr_reset(f.c), 0);
		CU_ASSERT_EQUAL(fn_drain(f.qp, 5000), 0);
		for (i = 0; i < 63; i++) {
			CU_ASSERT_EQUAL(w[i].done, 1);
			ok += w[i].status == 0;
			aborted += w[i].status == HOST_ABORT;
		}
		CU_ASSERT_EQUAL(ok + aborted, 63);
		check_io(&f, 100, 11);
	}
	ft_close(&f);
}

/* A callback that tries to free its qpair (and to poll it) when the host
 * ends its request: both refused with -EBUSY and one line, wherever the
 * host ends requests, and the qpair stays usable. */
struct self_free {
	struct vpio_nvme_qpair *qp;
	unsigned calls;
	uint16_t status;
	int free_rc, poll_rc;
};

static void self_free_cb(void *arg, const struct vpio_nvme_cpl *cpl)
{
	struct self_free *s = arg;

	s->calls++;
	s->status = cpl->status & 0xfffeu;
	if (s->status != HOST_ABORT)
		return;
	s->free_rc = vpio_nvme_ctrlr_free_io_qpair(s->qp);
	if (s->free_rc == 0) { /* the bug: freed under the caller's feet */
		s->qp = NULL;
		return;
	}
	s->poll_rc = vpio_nvme_qpair_process_completions(s->qp, 0);
}

/* Submit a read that the device never sees (delayed doorbell, not rung). */
static void self_free_submit(struct ft *f, struct self_free *s)
{
	memset(s, 0, sizeof(*s));
	s->qp = f->qp;
	CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_read(f->ns, f->qp, f->b, 0, 8, self_free_cb, s, 0), 0);
}

/* Poll until the callback ran; the last poll's result. */
static int self_free_poll(struct self_free *s)
{
	uint64_t end = fn_now_us() + 5000000u;
	int rc = 0;

	while (s->calls == 0 && fn_now_us() < end)
		rc = vpio_nvme_qpair_process_completions(s->qp, 0);
	fn_gbuf_check();
	return rc;
}

/* Both refusals happened, each with its line; false if the qpair is gone. */
static bool self_free_check(struct ft *f, const struct self_free *s)
{
	CU_ASSERT(s->calls == 1 && s->status == HOST_ABORT);
	CU_ASSERT_EQUAL(s->free_rc, -EBUSY);
	CU_ASSERT_EQUAL(s->poll_rc, -EBUSY);
	CU_ASSERT(vpio_test_log_has("freed from its own completion callback"));
	CU_ASSERT(vpio_test_log_has("polled from its own completion callback"));
	if (s->qp == NULL)
		f->qp = NULL;
	return s->qp != NULL;
}

static void test_free_from_callback(void)
{
	struct self_free s;
	struct ft f;

	if (!ft_open(&f, FN_EMU_FAULT, 0)) {
		ft_close(&f);
		return;
	}
	/* ended by the reconnect after a reset */
	self_free_submit(&f, &s);
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_reset(f.c), 0);
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_nvme_qpair_process_completions(f.qp, 0), 0);
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 2);
	vpio_test_log_release();
	if (!self_free_check(&f, &s))
		goto out;
	check_io(&f, 110, 12);
	/* ended because the controller failed */
	CU_ASSERT_EQUAL(vpio_emu_nvme_inject(f.emu, VPIO_EMU_NVME_FAULT_FATAL, 0), 0);
	self_free_submit(&f, &s);
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(self_free_poll(&s), -ENXIO);
	vpio_test_log_release();
	if (!self_free_check(&f, &s))
		goto out;
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_reset(f.c), 0);
	check_io(&f, 120, 13);
	/* ended by free_io_qpair itself */
	self_free_submit(&f, &s);
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_free_io_qpair(f.qp), 0);
	vpio_test_log_release();
	CU_ASSERT_EQUAL(s.free_rc, -EBUSY);
	CU_ASSERT_EQUAL(s.poll_rc, -EBUSY);
	f.qp = fn_qpair(f.c, 64, 0);
	if (f.qp == NULL)
		goto out;
	/* ended after detach */
	self_free_submit(&f, &s);
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_detach(f.c), 0);
	f.c = NULL;
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_nvme_qpair_process_completions(f.qp, 0), -ENODEV);
	vpio_test_log_release();
	self_free_check(&f, &s);
out:
	ft_close(&f);
}

/* One admin command whose completion the device loses: -ETIMEDOUT with one
 * line, and the reset that follows (unless no_reset_on_timeout) ends it. */
static void admin_drop_once(struct vpio_nvme_ctrlr *c, const char *text)
{
	uint32_t cdw0;

	CU_ASSERT_EQUAL(vpio_emu_nvme_inject(fn_emu(c), VPIO_EMU_NVME_FAULT_DROP_ADMIN_CPL, 1), 0);
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_get_feature(c, VPIO_NVME_FEAT_ARBITRATION, 0, NULL, 0, &cdw0), -ETIMEDOUT);
	CU_ASSERT(vpio_test_log_has(text));
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 1);
	if (!vpio_test_log_has(text) || vpio_test_log_errors() != 1)
		fprintf(stderr, "\n  log:\n%s", vpio_test_log_buf.text);
	vpio_test_log_release();
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_get_state(c), VPIO_NVME_CTRLR_READY);
}

/* Lost admin completions: each timed-out command is ended by a controller
 * reset, so more of them than the admin queue has slots leave it usable
 * (I/O qpairs reconnect); with no_reset_on_timeout the slot stays taken. */
static void test_admin_timeout(void)
{
	struct vpio_nvme_ctrlr_opts o;
	struct vpio_nvme_ctrlr_stats cs;
	struct vpio_nvme_qpair *qp2 = NULL;
	struct ft f;
	int i;

	vpio_nvme_ctrlr_opts_init(&o);
	o.admin_queue_size = 4; /* 3 commands outstanding at most */
	o.admin_timeout_ms = 50;
	memset(&f, 0, sizeof(f));
	f.c = fn_attach(FN_EMU_FAULT, &o);
	if (f.c == NULL)
		return;
	f.ns = fn_ns(f.c, 1);
	f.qp = fn_qpair(f.c, 64, 0);
	f.emu = fn_emu(f.c);
	f.a = fn_gbuf(65536);
	f.b = fn_gbuf(65536);
	check_io(&f, 130, 16);
	for (i = 0; i < 5; i++)
		admin_drop_once(f.c, "timed out after 50 ms; resetting the controller");
	vpio_nvme_ctrlr_get_stats(f.c, &cs);
	CU_ASSERT_EQUAL(cs.resets, 5);
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_get_feature(f.c, VPIO_NVME_FEAT_ARBITRATION, 0, NULL, 0, NULL), 0);
	check_kept(&f, 130, 16);
	/* the same under the controller lock: queue creation and deletion */
	CU_ASSERT_EQUAL(vpio_emu_nvme_inject(f.emu, VPIO_EMU_NVME_FAULT_DROP_ADMIN_CPL, 1), 0);
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_alloc_io_qpair(f.c, NULL, &qp2), -ETIMEDOUT);
	CU_ASSERT(vpio_test_log_has("create I/O completion queue timed out after 50 ms; resetting"));
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 1);
	vpio_test_log_release();
	qp2 = fn_qpair(f.c, 16, 0);
	CU_ASSERT_EQUAL(vpio_emu_nvme_inject(f.emu, VPIO_EMU_NVME_FAULT_DROP_ADMIN_CPL, 1), 0);
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_free_io_qpair(qp2), 0);
	CU_ASSERT(vpio_test_log_has("delete I/O submission queue timed out after 50 ms; resetting"));
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 1);
	vpio_test_log_release();
	check_kept(&f, 130, 16);
	vpio_nvme_ctrlr_get_stats(f.c, &cs);
	CU_ASSERT_EQUAL(cs.resets, 7);
	/* and in detach, which then shuts the controller down */
	CU_ASSERT_EQUAL(vpio_emu_nvme_inject(f.emu, VPIO_EMU_NVME_FAULT_DROP_ADMIN_CPL, 1), 0);
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_detach(f.c), 0);
	CU_ASSERT(vpio_test_log_has("delete I/O submission queue timed out after 50 ms; resetting"));
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 1);
	vpio_test_log_release();
	f.c = NULL;
	ft_close(&f);

	o.no_reset_on_timeout = true;
	memset(&f, 0, sizeof(f));
	f.c = fn_attach(FN_EMU_FAULT, &o);
	if (f.c == NULL)
		return;
	admin_drop_once(f.c, "not resetting (no_reset_on_timeout)");
	vpio_nvme_ctrlr_get_stats(f.c, &cs);
	CU_ASSERT_EQUAL(cs.resets, 0);
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_get_feature(f.c, VPIO_NVME_FEAT_ARBITRATION, 0, NULL, 0, NULL), 0);
	ft_close(&f);
}

static volatile uint32_t *reg32(struct vpio_nvme_ctrlr *c, uint32_t off)
{
	return (volatile uint32_t *)((uint8_t *)vpio_nvme_ctrlr_get_pci_device(c)->bar[0].addr + off);
}

static bool wait_rdy(struct vpio_nvme_ctrlr *c, uint32_t want, unsigned ms)
{
	uint64_t end = fn_now_us() + ms * 1000u;

	while ((*reg32(c, VPIO_NVME_REG_CSTS) & VPIO_NVME_CSTS_RDY) != want) {
		if (fn_now_us() > end)
			return false;
	}
	return true;
}

/* A reset that finds an enable in progress (CC.EN = 1, CSTS.RDY = 0), as
 * another host could leave it (here with 8 KiB pages), lets it finish
 * before it clears CC.EN: the specification leaves clearing it earlier
 * undefined.  The emulator logs that, or the page size changing under
 * CC.EN = 1 when the 1 -> 0 -> 1 toggle is too quick for it to see, as a
 * host error. */
static void test_disable_during_enable(void)
{
	volatile uint32_t *cc;
	struct ft f;
	uint64_t t0;

	if (ft_open(&f, FN_EMU_SLOW, 0)) {
		check_io(&f, 0, 14);
		cc = reg32(f.c, VPIO_NVME_REG_CC);
		*cc &= ~VPIO_NVME_CC_EN;
		CU_ASSERT(wait_rdy(f.c, 0, 2000));
		/* ready 200 ms from now */
		*cc = (*cc & ~(0xfu << VPIO_NVME_CC_MPS_SHIFT)) | 1u << VPIO_NVME_CC_MPS_SHIFT | VPIO_NVME_CC_EN;
		usleep(20000);		/* the controller has seen it */
		CU_ASSERT(wait_rdy(f.c, 0, 0));
		vpio_test_log_capture();
		t0 = fn_now_us();
		CU_ASSERT_EQUAL(vpio_nvme_ctrlr_reset(f.c), 0);
		CU_ASSERT(fn_now_us() - t0 >= 150000u); /* waited for RDY = 1 */
		CU_ASSERT_FALSE(vpio_test_log_has("host error"));
		CU_ASSERT_EQUAL(vpio_test_log_errors(), 0);
		vpio_test_log_release();
		check_kept(&f, 0, 14);
	}
	ft_close(&f);
}

struct csts_seen {
	volatile uint32_t *csts;
	unsigned calls;
	uint16_t status;
	uint32_t seen;
};

static void csts_cb(void *arg, const struct vpio_nvme_cpl *cpl)
{
	struct csts_seen *s = arg;

	s->calls++;
	s->status = cpl->status & 0xfffeu;
	s->seen = *s->csts;
}

/* A failed controller is stopped (CC.EN = 0, CSTS.RDY = 0) before its
 * requests end: here RDY takes 200 ms to go low. */
static void test_fail_stops_first(void)
{
	struct csts_seen s;
	struct ft f;
	uint64_t end;
	int rc = 0;

	if (ft_open(&f, FN_EMU_SLOW, 0)) {
		memset(&s, 0, sizeof(s));
		s.csts = reg32(f.c, VPIO_NVME_REG_CSTS);
		CU_ASSERT_EQUAL(vpio_emu_nvme_inject(f.emu, VPIO_EMU_NVME_FAULT_FATAL, 0), 0);
		CU_ASSERT_EQUAL(vpio_nvme_ns_cmd_read(f.ns, f.qp, f.b, 0, 8, csts_cb, &s, 0), 0);
		vpio_test_log_capture();
		end = fn_now_us() + 5000000u;
		while (s.calls == 0 && fn_now_us() < end)
			rc = vpio_nvme_qpair_process_completions(f.qp, 0);
		fn_gbuf_check();
		CU_ASSERT_EQUAL(rc, -ENXIO);
		CU_ASSERT(vpio_test_log_has("controller fatal status"));
		vpio_test_log_release();
		CU_ASSERT(s.calls == 1 && s.status == HOST_ABORT);
		CU_ASSERT_EQUAL(s.seen & VPIO_NVME_CSTS_RDY, 0);
		CU_ASSERT_EQUAL(vpio_nvme_ctrlr_get_state(f.c), VPIO_NVME_CTRLR_FAILED);
		CU_ASSERT_EQUAL(vpio_nvme_ctrlr_reset(f.c), 0);
		check_io(&f, 10, 15);
	}
	ft_close(&f);
}

int fn_register_faults(void)
{
	VPIO_SUITE("faults", NULL, NULL);
	VPIO_TEST(test_fatal);
	VPIO_TEST(test_drop_timeout);
	VPIO_TEST(test_bogus_cid);
	VPIO_TEST(test_dup_cpl);
	VPIO_TEST(test_bad_sqhd);
	VPIO_TEST(test_delay);
	VPIO_TEST(test_remove);
	VPIO_TEST(test_reset_in_flight);
	VPIO_TEST(test_free_from_callback);
	VPIO_TEST(test_admin_timeout);
	VPIO_TEST(test_disable_during_enable);
	VPIO_TEST(test_fail_stops_first);
	return 0;
}
