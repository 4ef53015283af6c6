/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Suite "recovery" (emulated controllers only): a controller reset after a
 * timeout that Abort did not help, and the stop of a controller with a
 * fatal status, run off the I/O thread.  The controller is slow to follow
 * CC.EN (rdydelay: 500 ms each way), so a reset takes over a second and a
 * stop half a second; meanwhile the I/O thread keeps polling and
 * submitting.  Checked: no single call of the I/O thread (process
 * completions or submit) lasts long (RECOVERY_MAX_CALL_US, half of one
 * rdydelay: the old inline recovery spent 1 s in one call for the reset,
 * 0.5 s for the stop); the thread sees -EAGAIN while recovery runs; every
 * request ends exactly once, with its data exact (reads of a known
 * pattern) or ABORTED BY HOST; guards intact; the qpair works after.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "func_nvme.h"

#define HOST_ABORT VPIO_NVME_STATUS(VPIO_NVME_SCT_PATH, VPIO_NVME_SC_ABORTED_BY_HOST)
#define SLOTS 8
#define SLOT_BYTES 4096u
#define RECOVERY_MAX_CALL_US 250000u

struct rslot {
	struct rec *r;
	unsigned idx;
	bool busy;
	unsigned calls; /* callbacks of the current request */
	uint16_t status;
};

struct rec {
	struct vpio_nvme_ctrlr *c;
	struct vpio_nvme_ns *ns;
	struct vpio_nvme_qpair *qp;
	struct vpio_emu_nvme *emu;
	uint8_t *data, *want;
	struct rslot slot[SLOTS];
	uint64_t submitted, callbacks, ok, aborted, other, twice, bad_data;
	uint64_t max_call_us, eagain;
};

static void rec_cb(void *arg, const struct vpio_nvme_cpl *cpl)
{
	struct rslot *s = arg;
	struct rec *r = s->r;

	r->callbacks++;
	if (s->calls++ != 0 || !s->busy) {
		r->twice++;
		return;
	}
	s->busy = false;
	s->status = cpl->status & 0xfffeu;
	if (s->status == 0) {
		r->ok++;
		if (memcmp(r->data + s->idx * SLOT_BYTES, r->want + s->idx * SLOT_BYTES, SLOT_BYTES) != 0)
			r->bad_data++;
	} else if (s->status == HOST_ABORT) {
		r->aborted++;
	} else {
		r->other++;
	}
}

static bool rec_open(struct rec *r, const char *name)
{
	struct vpio_nvme_ctrlr_opts o;

	memset(r, 0, sizeof(*r));
	vpio_nvme_ctrlr_opts_init(&o);
	r->c = fn_attach(name, &o);
	if (r->c == NULL)
		return false;
	r->ns = fn_ns(r->c, 1);
	r->qp = fn_qpair(r->c, 64, 100);
	r->emu = fn_emu(r->c);
	r->data = fn_gbuf(SLOTS * SLOT_BYTES);
	r->want = fn_gbuf(SLOTS * SLOT_BYTES);
	if (!r->ns || !r->qp || !r->emu || !r->data || !r->want)
		return false;
	for (unsigned i = 0; i < SLOTS; i++) {
		r->slot[i].r = r;
		r->slot[i].idx = i;
		fn_fill(r->want + i * SLOT_BYTES, SLOT_BYTES, 0x7ec0 + i);
	}
	/* the pattern each slot reads back: blocks i * 8 .. i * 8 + 7 */
	return fn_write(r->ns, r->qp, r->want, 0, SLOTS * SLOT_BYTES / vpio_nvme_ns_get_sector_size(r->ns)) == 0;
}

static void rec_close(struct rec *r)
{
	fn_gbuf_free(r->data);
	fn_gbuf_free(r->want);
	if (r->qp)
		CU_ASSERT_EQUAL(vpio_nvme_ctrlr_free_io_qpair(r->qp), 0);
	if (r->c)
		CU_ASSERT_EQUAL(vpio_nvme_ctrlr_detach(r->c), 0);
}

static void timed(struct rec *r, uint64_t t0)
{
	uint64_t d = fn_now_us() - t0;

	if (d > r->max_call_us)
		r->max_call_us = d;
}

/* One round of the I/O thread: refill idle slots, poll once; every call
 * timed. */
static int rec_round(struct rec *r, bool submit)
{
	uint32_t spb = SLOT_BYTES / vpio_nvme_ns_get_sector_size(r->ns);
	uint64_t t0;
	int rc;

	for (unsigned i = 0; submit && i < SLOTS; i++) {
		struct rslot *s = &r->slot[i];

		if (s->busy)
			continue;
		memset(r->data + i * SLOT_BYTES, 0, SLOT_BYTES);
		s->busy = true;
		s->calls = 0;
		t0 = fn_now_us();
		rc = vpio_nvme_ns_cmd_read(r->ns, r->qp, r->data + i * SLOT_BYTES, (uint64_t)i * spb, spb, rec_cb, s, 0);
		timed(r, t0);
		if (rc == 0) {
			r->submitted++;
			continue;
		}
		s->busy = false;
		if (rc != -EAGAIN)
			return rc;
		r->eagain++;
	}
	t0 = fn_now_us();
	rc = vpio_nvme_qpair_process_completions(r->qp, 0);
	timed(r, t0);
	if (rc == -EAGAIN) {
		r->eagain++;
		rc = 0;
	}
	return rc < 0 ? rc : 0;
}

static bool rec_idle(const struct rec *r)
{
	for (unsigned i = 0; i < SLOTS; i++) {
		if (r->slot[i].busy)
			return false;
	}
	return true;
}

static void rec_report(const struct rec *r, const char *what)
{
	printf("\n    %s: longest I/O-thread call %llu us (bound %u); %llu requests: %llu ok, %llu aborted by host, "
	       "%llu -EAGAIN\n", what, (unsigned long long)r->max_call_us, RECOVERY_MAX_CALL_US,
	       (unsigned long long)r->submitted, (unsigned long long)r->ok, (unsigned long long)r->aborted,
	       (unsigned long long)r->eagain);
	CU_ASSERT(r->max_call_us < RECOVERY_MAX_CALL_US);
	CU_ASSERT(r->eagain > 0); /* recovery ran while this thread went on */
	CU_ASSERT_EQUAL(r->callbacks, r->submitted); /* each ended once */
	CU_ASSERT_EQUAL(r->twice, 0);
	CU_ASSERT_EQUAL(r->other, 0);
	CU_ASSERT_EQUAL(r->bad_data, 0);
	CU_ASSERT(r->aborted >= 1);
	fn_gbuf_check();
}

/* A lost completion: Abort finds nothing, one timeout later the controller
 * is reset on its recovery thread while this thread keeps going. */
static void test_reset_off_io_thread(void)
{
	struct vpio_nvme_ctrlr_stats cs;
	struct vpio_nvme_qpair_stats qs;
	uint64_t end, after = 0;
	struct rec r;
	int rc = 0;

	if (rec_open(&r, FN_EMU_SLOW_RESET)) {
		CU_ASSERT_EQUAL(vpio_emu_nvme_inject(r.emu, VPIO_EMU_NVME_FAULT_DROP_CPL, 1), 0);
		vpio_test_log_capture();
		end = fn_now_us() + 10000000u;
		while (rc == 0 && fn_now_us() < end) {
			vpio_nvme_ctrlr_get_stats(r.c, &cs);
			/* after the reset: some more I/O on the new queues */
			if (cs.resets > 0 && vpio_nvme_ctrlr_get_state(r.c) == VPIO_NVME_CTRLR_READY && after++ > 200)
				break;
			rc = rec_round(&r, true);
		}
		while (rc == 0 && !rec_idle(&r) && fn_now_us() < end)
			rc = rec_round(&r, false);
		CU_ASSERT_EQUAL(rc, 0);
		CU_ASSERT(rec_idle(&r));
		CU_ASSERT(vpio_test_log_has("still outstanding after Abort"));
		vpio_test_log_release();
		vpio_nvme_ctrlr_get_stats(r.c, &cs);
		vpio_nvme_qpair_get_stats(r.qp, &qs);
		CU_ASSERT(cs.timeouts == 1 && cs.resets == 1);
		CU_ASSERT_EQUAL(qs.reconnects, 1);
		CU_ASSERT(r.ok > 200);
		rec_report(&r, "reset");
	}
	rec_close(&r);
}

/* A fatal status: the controller is stopped (500 ms for CSTS.RDY to go
 * low) on its recovery thread; then FAILED, every request ended; a reset
 * brings it back with its data. */
static void test_fail_off_io_thread(void)
{
	uint64_t end;
	struct rec r;
	int rc = 0;

	if (rec_open(&r, FN_EMU_SLOW_RESET)) {
		for (int i = 0; i < 50 && rc == 0; i++)
			rc = rec_round(&r, true);
		CU_ASSERT_EQUAL(vpio_emu_nvme_inject(r.emu, VPIO_EMU_NVME_FAULT_FATAL, 0), 0);
		vpio_test_log_capture();
		end = fn_now_us() + 10000000u;
		while (rc == 0 && fn_now_us() < end)
			rc = rec_round(&r, vpio_nvme_ctrlr_get_state(r.c) == VPIO_NVME_CTRLR_READY);
		CU_ASSERT_EQUAL(rc, -ENXIO);
		CU_ASSERT(vpio_test_log_has("controller fatal status"));
		vpio_test_log_release();
		CU_ASSERT_EQUAL(vpio_nvme_ctrlr_get_state(r.c), VPIO_NVME_CTRLR_FAILED);
		CU_ASSERT(rec_idle(&r));
		rec_report(&r, "fatal status");
		CU_ASSERT_EQUAL(vpio_nvme_ctrlr_reset(r.c), 0);
		rc = 0;
		for (int i = 0; i < 100 && rc == 0; i++)
			rc = rec_round(&r, true);
		while (rc == 0 && !rec_idle(&r))
			rc = rec_round(&r, false);
		CU_ASSERT_EQUAL(rc, 0);
		CU_ASSERT_EQUAL(r.bad_data, 0);
		CU_ASSERT_EQUAL(r.callbacks, r.submitted);
	}
	rec_close(&r);
}

int fn_register_recovery(void)
{
	VPIO_SUITE("recovery", NULL, NULL);
	VPIO_TEST(test_reset_off_io_thread);
	VPIO_TEST(test_fail_off_io_thread);
	return 0;
}
