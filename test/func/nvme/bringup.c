/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Suite "bring-up": attach/detach, controller facts, namespaces, and the
 * admin commands (identify, features, log pages, abort, passthrough, the
 * asynchronous admin path), on every target; on emulated controllers also
 * doorbell strides and queue limits (with and without shadow doorbells),
 * the limits of the small target, and the shutdown on detach.
 */
#include <errno.h>
#include <string.h>

#include "func_nvme.h"

static void check_info(struct vpio_nvme_ctrlr *c)
{
	const struct vpio_nvme_ctrlr_data *cd = vpio_nvme_ctrlr_get_data(c);
	struct vpio_nvme_ctrlr_info in;
	struct vpio_nvme_ns *ns;

	vpio_nvme_ctrlr_get_info(c, &in);
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_get_state(c), VPIO_NVME_CTRLR_READY);
	CU_ASSERT(in.vs >= 0x10000u);
	CU_ASSERT(in.page_size >= 4096 && (in.page_size & (in.page_size - 1)) == 0);
	CU_ASSERT(in.max_xfer_size >= in.page_size);
	CU_ASSERT(in.max_io_queues >= 1);
	CU_ASSERT(in.max_queue_size >= 2);
	CU_ASSERT(in.num_ns == cd->nn);
	CU_ASSERT(in.num_active_ns >= 1);
	CU_ASSERT(cd->sn[0] != 0 && cd->sn[0] != ' ');
	CU_ASSERT(cd->mn[0] != 0 && cd->mn[0] != ' ');
	CU_ASSERT((cd->sqes & 0xfu) <= 6 && (cd->cqes & 0xfu) <= 4);
	CU_ASSERT_PTR_NOT_NULL(vpio_nvme_ctrlr_get_pci_device(c));
	ns = fn_ns(c, vpio_nvme_ctrlr_first_active_ns(c));
	if (ns == NULL)
		return;
	CU_ASSERT(vpio_nvme_ns_get_sector_size(ns) == 512 || vpio_nvme_ns_get_sector_size(ns) == 4096);
	CU_ASSERT(vpio_nvme_ns_get_num_sectors(ns) > 0);
	CU_ASSERT_EQUAL(vpio_nvme_ns_get_size(ns), vpio_nvme_ns_get_num_sectors(ns) * vpio_nvme_ns_get_sector_size(ns));
	CU_ASSERT_EQUAL(vpio_nvme_ns_get_max_io_xfer_size(ns), in.max_xfer_size);
	CU_ASSERT_PTR_EQUAL(vpio_nvme_ns_get_ctrlr(ns), c);
}

static void test_attach_detach(void)
{
	struct vpio_nvme_ctrlr *c;
	unsigned t;
	int round;

	for (t = 0; t < g_fn_ntargets; t++) {
		for (round = 0; round < 2; round++) { /* detach + attach again */
			c = fn_attach(g_fn_targets[t], NULL);
			if (c == NULL)
				continue;
			check_info(c);
			CU_ASSERT_EQUAL(vpio_nvme_ctrlr_detach(c), 0);
		}
	}
}

static void test_identify_and_features(void)
{
	struct vpio_nvme_ctrlr_data *cd = fn_gbuf(sizeof(*cd));
	struct vpio_nvme_ns_data *nd = fn_gbuf(sizeof(*nd));
	struct vpio_nvme_ctrlr_info in;
	struct vpio_nvme_ctrlr *c;
	uint32_t cdw0 = 0, nsid;
	unsigned t;

	for (t = 0; t < g_fn_ntargets; t++) {
		c = fn_attach(g_fn_targets[t], NULL);
		if (c == NULL)
			continue;
		vpio_nvme_ctrlr_get_info(c, &in);
		CU_ASSERT_EQUAL(vpio_nvme_ctrlr_identify(c, VPIO_NVME_CNS_CTRLR, 0, cd, sizeof(*cd)), 0);
		CU_ASSERT_EQUAL(memcmp(cd->sn, vpio_nvme_ctrlr_get_data(c)->sn, sizeof(cd->sn)), 0);
		nsid = vpio_nvme_ctrlr_first_active_ns(c);
		CU_ASSERT_EQUAL(vpio_nvme_ctrlr_identify(c, VPIO_NVME_CNS_NS, nsid, nd, sizeof(*nd)), 0);
		CU_ASSERT_EQUAL(nd->nsze, vpio_nvme_ns_get_num_sectors(fn_ns(c, nsid)));
		/* Number of Queues: what was granted at bring-up */
		CU_ASSERT_EQUAL(vpio_nvme_ctrlr_get_feature(c, VPIO_NVME_FEAT_NUMBER_OF_QUEUES, 0, NULL, 0, &cdw0), 0);
		CU_ASSERT((cdw0 & 0xffffu) + 1u >= in.max_io_queues);
		if (cd->vwc & VPIO_NVME_VWC_PRESENT) {
			CU_ASSERT_EQUAL(vpio_nvme_ctrlr_set_feature(c, VPIO_NVME_FEAT_VOLATILE_WRITE_CACHE, 1, 0, NULL, 0,
								    NULL), 0);
			CU_ASSERT_EQUAL(vpio_nvme_ctrlr_get_feature(c, VPIO_NVME_FEAT_VOLATILE_WRITE_CACHE, 0, NULL, 0,
								    &cdw0), 0);
			CU_ASSERT_EQUAL(cdw0 & 1u, 1);
		}
		CU_ASSERT_EQUAL(vpio_nvme_ctrlr_get_feature(c, VPIO_NVME_FEAT_ARBITRATION, 0, NULL, 0, &cdw0), 0);
		CU_ASSERT_EQUAL(vpio_nvme_ctrlr_detach(c), 0);
	}
	fn_gbuf_free(cd);
	fn_gbuf_free(nd);
}

static void test_log_pages(void)
{
	struct vpio_nvme_error_log_entry *e = fn_gbuf(4 * sizeof(*e));
	struct vpio_nvme_health_log *h = fn_gbuf(sizeof(*h));
	uint8_t *part = fn_gbuf(64);
	struct vpio_nvme_ctrlr *c;
	unsigned t;

	for (t = 0; t < g_fn_ntargets; t++) {
		c = fn_attach(g_fn_targets[t], NULL);
		if (c == NULL)
			continue;
		memset(h, 0, sizeof(*h));
		CU_ASSERT_EQUAL(vpio_nvme_ctrlr_get_health_log(c, h), 0);
		CU_ASSERT(h->composite_temperature > 200); /* kelvin */
		CU_ASSERT(h->available_spare <= 100);
		if (!g_fn_real) /* the emulator counts opens as power cycles */
			CU_ASSERT(h->power_cycles[0] >= 1);
		CU_ASSERT_EQUAL(vpio_nvme_ctrlr_get_error_log(c, e, 4), 0);
		/* an offset into the health page reads the same bytes */
		if (vpio_nvme_ctrlr_get_data(c)->lpa & 0x4u) {
			CU_ASSERT_EQUAL(vpio_nvme_ctrlr_get_log_page(c, VPIO_NVME_LOG_HEALTH, 0xffffffffu, part, 64, 32),
					0);
			CU_ASSERT_EQUAL(memcmp(part, (uint8_t *)h + 32, 16), 0); /* data units read: stable */
		}
		CU_ASSERT_EQUAL(vpio_nvme_ctrlr_detach(c), 0);
	}
	fn_gbuf_free(e);
	fn_gbuf_free(h);
	fn_gbuf_free(part);
}

static void test_passthrough_and_abort(void)
{
	struct vpio_nvme_ctrlr_data *cd = fn_gbuf(sizeof(*cd));
	struct vpio_nvme_cmd cmd;
	struct vpio_nvme_cpl cpl;
	struct vpio_nvme_ctrlr *c;
	struct vpio_nvme_qpair *qp;
	struct fn_io w = { 0, 0, 0 };
	bool aborted = true;
	void *dma;
	int i;

	c = fn_attach(g_fn_targets[0], NULL);
	if (c == NULL) {
		fn_gbuf_free(cd);
		return;
	}
	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = VPIO_NVME_OPC_IDENTIFY;
	cmd.cdw10 = VPIO_NVME_CNS_CTRLR;
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_admin_passthru(c, &cmd, cd, sizeof(*cd), &cpl), 0);
	CU_ASSERT_FALSE(vpio_nvme_cpl_is_error(&cpl));
	CU_ASSERT_EQUAL(cd->vid, vpio_nvme_ctrlr_get_data(c)->vid);
	/* an unknown admin opcode: the status comes back, nothing breaks */
	cmd.opc = 0xc5;
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_admin_passthru(c, &cmd, NULL, 0, &cpl), 0);
	CU_ASSERT_EQUAL(VPIO_NVME_STATUS_SC(cpl.status), VPIO_NVME_SC_INVALID_OPCODE);
	/* asynchronous raw command with a DMA buffer */
	dma = fn_gbuf(4096);
	cmd.opc = VPIO_NVME_OPC_IDENTIFY;
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_cmd_admin_raw(c, &cmd, dma, 4096, fn_io_cb, &w), 0);
	for (i = 0; i < 100000 && !w.done; i++)
		vpio_nvme_ctrlr_process_admin_completions(c);
	CU_ASSERT_EQUAL(w.done, 1);
	CU_ASSERT_EQUAL(w.status, 0);
	CU_ASSERT_EQUAL(memcmp(dma, cd, 64), 0);
	fn_gbuf_free(dma);
	/* Abort of a command that does not exist, on a queue that does */
	qp = fn_qpair(c, 8, 0);
	if (qp != NULL) {
		CU_ASSERT_EQUAL(vpio_nvme_ctrlr_abort(c, vpio_nvme_qpair_get_id(qp), 0x1234, &aborted), 0);
		CU_ASSERT_FALSE(aborted);
		CU_ASSERT_EQUAL(vpio_nvme_ctrlr_free_io_qpair(qp), 0);
	}
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_detach(c), 0);
	fn_gbuf_free(cd);
}

/* Run an asynchronous admin command to its end (0), or its submission's
 * error. */
static int admin_raw(struct vpio_nvme_ctrlr *c, const struct vpio_nvme_cmd *cmd, void *buf, uint32_t len,
		     struct fn_io *w)
{
	int rc, i;

	memset(w, 0, sizeof(*w));
	rc = vpio_nvme_ctrlr_cmd_admin_raw(c, cmd, buf, len, fn_io_cb, w);
	for (i = 0; rc == 0 && i < 1000000 && !w->done; i++)
		vpio_nvme_ctrlr_process_admin_completions(c);
	return rc;
}

/* The asynchronous path hands the caller's DMA buffer to the device, which
 * writes its whole data structure: a buffer shorter than that is refused
 * (before the fix, Identify into 100 bytes returned 0 and wrote 4096). */
static void expect_short_refused(struct vpio_nvme_ctrlr *c, const struct vpio_nvme_cmd *cmd, uint32_t len,
				 const char *moves)
{
	uint8_t *dma = fn_gbuf(len);
	struct fn_io w;

	vpio_test_log_capture();
	CU_ASSERT_EQUAL(admin_raw(c, cmd, dma, len, &w), -EINVAL);
	CU_ASSERT(vpio_test_log_has(moves));
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 1);
	vpio_test_log_release();
	fn_gbuf_free(dma); /* guards intact: the device never had it */
}

/* Identify writes 4096 bytes whatever the caller asked for: the synchronous
 * helpers bounce through a buffer of that size and copy out exactly len
 * bytes (a guard catches one more); the asynchronous path refuses a buffer
 * shorter than what the command moves (Identify, a log page's NUMD). */
static void test_short_data_buffers(void)
{
	static const uint32_t lens[] = { 1, 4, 100, 1000, 3000, 4095 };
	struct vpio_nvme_cmd cmd;
	struct vpio_nvme_cpl cpl;
	struct vpio_nvme_ctrlr *c;
	uint8_t *full = fn_gbuf(4096), *part;
	unsigned t, i;

	for (t = 0; t < g_fn_ntargets; t++) {
		if ((c = fn_attach(g_fn_targets[t], NULL)) == NULL)
			continue;
		CU_ASSERT_EQUAL(vpio_nvme_ctrlr_identify(c, VPIO_NVME_CNS_CTRLR, 0, full, 4096), 0);
		memset(&cmd, 0, sizeof(cmd));
		cmd.opc = VPIO_NVME_OPC_IDENTIFY;
		cmd.cdw10 = VPIO_NVME_CNS_CTRLR;
		for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			part = fn_gbuf(lens[i]);
			CU_ASSERT_EQUAL(vpio_nvme_ctrlr_identify(c, VPIO_NVME_CNS_CTRLR, 0, part, lens[i]), 0);
			CU_ASSERT_EQUAL(memcmp(part, full, lens[i]), 0);
			memset(part, 0, lens[i]);
			CU_ASSERT_EQUAL(vpio_nvme_ctrlr_admin_passthru(c, &cmd, part, lens[i], &cpl), 0);
			CU_ASSERT_FALSE(vpio_nvme_cpl_is_error(&cpl));
			CU_ASSERT_EQUAL(memcmp(part, full, lens[i]), 0);
			fn_gbuf_free(part);
		}
		expect_short_refused(c, &cmd, 100, "moves 4096 bytes");
		expect_short_refused(c, &cmd, 4092, "moves 4096 bytes");
		memset(&cmd, 0, sizeof(cmd));
		cmd.opc = VPIO_NVME_OPC_GET_LOG_PAGE;
		cmd.nsid = 0xffffffffu;
		cmd.cdw10 = (512u / 4u - 1u) << 16 | VPIO_NVME_LOG_HEALTH; /* NUMD: 512 bytes */
		expect_short_refused(c, &cmd, 256, "moves 512 bytes");
		CU_ASSERT_EQUAL(vpio_nvme_ctrlr_detach(c), 0);
	}
	fn_gbuf_free(full);
}

/* Features with a data structure: Timestamp (8 bytes) through the helpers,
 * LBA Range Type (4096 bytes, per namespace) through the passthrough; the
 * device moves the whole structure, the caller gets its len bytes, guards
 * stay intact; a buffer for a feature without data, a longer one, or a
 * set without its structure are refused. */
static void test_feature_data(void)
{
	struct vpio_nvme_ctrlr *c;
	struct vpio_nvme_cmd cmd;
	struct vpio_nvme_cpl cpl;
	uint8_t *ts = fn_gbuf(8), *ts6 = fn_gbuf(6), *lr = fn_gbuf(64);
	struct vpio_nvme_lba_range_type *r = (struct vpio_nvme_lba_range_type *)lr;
	uint64_t ms = 1700000000000ull, got;
	unsigned t;

	for (t = 0; t < g_fn_ntargets; t++) {
		if ((c = fn_attach(g_fn_targets[t], NULL)) == NULL)
			continue;
		if (vpio_nvme_ctrlr_get_data(c)->oncs & VPIO_NVME_ONCS_TIMESTAMP) {
			memcpy(ts, &ms, 6);
			CU_ASSERT_EQUAL(vpio_nvme_ctrlr_set_feature(c, VPIO_NVME_FEAT_TIMESTAMP, 0, 0, ts, 8, NULL), 0);
			memset(ts, 0, 8);
			CU_ASSERT_EQUAL(vpio_nvme_ctrlr_get_feature(c, VPIO_NVME_FEAT_TIMESTAMP, 0, ts, 8, NULL), 0);
			got = 0;
			memcpy(&got, ts, 6);
			CU_ASSERT(got >= ms && got < ms + 600000u);
			CU_ASSERT_EQUAL(vpio_nvme_ctrlr_get_feature(c, VPIO_NVME_FEAT_TIMESTAMP, 0, ts6, 6, NULL), 0);
			got = 0;
			memcpy(&got, ts6, 6);
			CU_ASSERT(got >= ms && got < ms + 600000u);
			memset(&cmd, 0, sizeof(cmd));
			cmd.opc = VPIO_NVME_OPC_GET_FEATURES;
			cmd.cdw10 = VPIO_NVME_FEAT_TIMESTAMP;
			expect_short_refused(c, &cmd, 4, "moves 8 bytes");
		}
		memset(&cmd, 0, sizeof(cmd));
		cmd.opc = VPIO_NVME_OPC_GET_FEATURES;
		cmd.nsid = vpio_nvme_ctrlr_first_active_ns(c);
		cmd.cdw10 = VPIO_NVME_FEAT_LBA_RANGE_TYPE;
		CU_ASSERT_EQUAL(vpio_nvme_ctrlr_admin_passthru(c, &cmd, lr, 64, &cpl), 0);
		if (!g_fn_real) { /* optional: a real controller may not have it */
			CU_ASSERT_FALSE(vpio_nvme_cpl_is_error(&cpl));
			CU_ASSERT_EQUAL(r->nlb, vpio_nvme_ns_get_num_sectors(fn_ns(c, cmd.nsid)) - 1u);
			/* no buffer: the 4 KiB still goes somewhere (bounced, dropped) */
			CU_ASSERT_EQUAL(vpio_nvme_ctrlr_admin_passthru(c, &cmd, NULL, 0, &cpl), 0);
			CU_ASSERT_FALSE(vpio_nvme_cpl_is_error(&cpl));
		}
		expect_short_refused(c, &cmd, 64, "moves 4096 bytes");
		vpio_test_log_capture();
		CU_ASSERT_EQUAL(vpio_nvme_ctrlr_get_feature(c, VPIO_NVME_FEAT_TIMESTAMP, 0, lr, 16, NULL), -EINVAL);
		CU_ASSERT(vpio_test_log_has("moves 8 bytes"));
		CU_ASSERT_EQUAL(vpio_nvme_ctrlr_get_feature(c, VPIO_NVME_FEAT_ARBITRATION, 0, lr, 4, NULL), -EINVAL);
		CU_ASSERT(vpio_test_log_has("moves 0 bytes"));
		CU_ASSERT_EQUAL(vpio_nvme_ctrlr_set_feature(c, VPIO_NVME_FEAT_TIMESTAMP, 0, 0, NULL, 0, NULL), -EINVAL);
		CU_ASSERT(vpio_test_log_has("reads a 8-byte data structure"));
		CU_ASSERT_EQUAL(vpio_test_log_errors(), 3);
		vpio_test_log_release();
		CU_ASSERT_EQUAL(vpio_nvme_ctrlr_detach(c), 0);
	}
	fn_gbuf_free(ts);
	fn_gbuf_free(ts6);
	fn_gbuf_free(lr);
}

/* Several namespaces: iteration, and invalid namespace ids. */
static void test_namespaces(void)
{
	struct vpio_nvme_ctrlr *c;
	struct vpio_nvme_ns *ns;
	uint32_t nsid, n = 0;

	c = fn_attach(g_fn_real ? g_fn_targets[0] : FN_EMU_MULTINS, NULL);
	if (c == NULL)
		return;
	for (nsid = vpio_nvme_ctrlr_first_active_ns(c); nsid; nsid = vpio_nvme_ctrlr_next_active_ns(c, nsid)) {
		CU_ASSERT_EQUAL(vpio_nvme_ctrlr_get_ns(c, nsid, &ns), 0);
		CU_ASSERT_EQUAL(vpio_nvme_ns_get_id(ns), nsid);
		n++;
	}
	if (!g_fn_real)
		CU_ASSERT_EQUAL(n, 3);
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_get_ns(c, 0, &ns), -EINVAL);
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_get_ns(c, vpio_nvme_ctrlr_get_data(c)->nn + 1u, &ns), -EINVAL);
	CU_ASSERT(vpio_test_log_has("is invalid"));
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 2);
	vpio_test_log_release();
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_detach(c), 0);
}

/* Every queue's doorbells, around its ring: writes and reads that only
 * work if both sides agree where the doorbells are. */
static bool stride_io(struct vpio_nvme_ns *ns, struct vpio_nvme_qpair *qp, uint64_t lba, uint8_t *a, uint8_t *b)
{
	for (int k = 0; k < 70; k++) {
		fn_fill(a, 4096, lba * 100 + (uint64_t)k);
		if (fn_write(ns, qp, a, lba, 8) != 0 || fn_read(ns, qp, b, lba, 8) != 0 || memcmp(a, b, 4096) != 0)
			return false;
	}
	return true;
}

/* CAP.DSTRD spaces the doorbells, CAP.MQES caps queue sizes: without
 * shadow doorbells, and with more admin commands than the admin CQ holds,
 * I/O and admin only work if both are honoured.  With shadow doorbells the
 * buffer is one page: queues whose words do not fit use MMIO doorbells on
 * both sides. */
static void stride_round(const char *name, uint32_t nq, bool dbbuf)
{
	struct vpio_nvme_qpair_opts o;
	struct vpio_nvme_qpair_stats st;
	struct vpio_nvme_ctrlr_info in;
	struct vpio_nvme_qpair *qp[64], *extra;
	struct vpio_nvme_ctrlr *c;
	struct vpio_nvme_ns *ns;
	uint8_t *a = fn_gbuf(4096), *b = fn_gbuf(4096);
	uint32_t i, n = 0, shadowed = 0, mmio_only = 0;

	if ((c = fn_attach(name, NULL)) == NULL) {
		fn_gbuf_free(a);
		fn_gbuf_free(b);
		return;
	}
	vpio_nvme_ctrlr_get_info(c, &in);
	CU_ASSERT_EQUAL(in.doorbell_stride, 32);
	CU_ASSERT_EQUAL(in.max_queue_size, 64);
	CU_ASSERT_EQUAL(in.max_io_queues, nq);
	CU_ASSERT_EQUAL(in.shadow_doorbells, dbbuf);
	for (i = 0; i < 80; i++) /* wraps the 32-entry admin CQ twice */
		n += vpio_nvme_ctrlr_get_feature(c, VPIO_NVME_FEAT_ARBITRATION, 0, NULL, 0, NULL) == 0;
	CU_ASSERT_EQUAL(n, 80);
	n = 0;
	ns = fn_ns(c, 1);
	vpio_nvme_qpair_opts_init(&o);
	o.queue_size = 1024; /* cut to 64 */
	for (i = 0; i < nq; i++) {
		CU_ASSERT_EQUAL_FATAL(vpio_nvme_ctrlr_alloc_io_qpair(c, &o, &qp[i]), 0);
		CU_ASSERT_EQUAL(vpio_nvme_qpair_get_depth(qp[i]), 63);
		CU_ASSERT_EQUAL(vpio_nvme_qpair_get_id(qp[i]), i + 1);
		n += stride_io(ns, qp[i], (uint64_t)i * 8u, a, b);
		vpio_nvme_qpair_get_stats(qp[i], &st);
		if (st.mmio_doorbells == st.sq_doorbells + st.cq_doorbells)
			mmio_only++;
		else
			shadowed++;
	}
	CU_ASSERT_EQUAL(n, nq);
	/* 32-byte stride, 4 KiB page: qids up to 63 fit */
	CU_ASSERT_EQUAL(shadowed, dbbuf ? nq - 1 : 0);
	CU_ASSERT_EQUAL(mmio_only, dbbuf ? 1 : nq);
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_alloc_io_qpair(c, &o, &extra), -EBUSY); /* all in use */
	CU_ASSERT(vpio_test_log_has("in use"));
	vpio_test_log_release();
	for (i = 0; i < nq; i++)
		CU_ASSERT_EQUAL(vpio_nvme_ctrlr_free_io_qpair(qp[i]), 0);
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_detach(c), 0);
	fn_gbuf_free(a);
	fn_gbuf_free(b);
}

static void test_stride_and_mqes(void)
{
	stride_round(FN_EMU_STRIDE, 4, false);
	stride_round(FN_EMU_STRIDE_DBBUF, 64, true);
}

/* The small default target is as small as the data and queue tests are
 * meant to meet: 8 KiB per command, 2 I/O queue pairs of 8 entries, 4096-byte
 * blocks; a third qpair is refused. */
static void test_small_limits(void)
{
	struct vpio_nvme_ctrlr *c = fn_attach(FN_EMU_SMALL, NULL);
	struct vpio_nvme_qpair *qp[3] = { NULL, NULL, NULL };
	struct vpio_nvme_ctrlr_info in;
	int i;

	if (c == NULL)
		return;
	vpio_nvme_ctrlr_get_info(c, &in);
	CU_ASSERT_EQUAL(in.max_xfer_size, 8192);
	CU_ASSERT_EQUAL(in.max_io_queues, 2);
	CU_ASSERT_EQUAL(in.max_queue_size, 8);
	CU_ASSERT_EQUAL(vpio_nvme_ns_get_sector_size(fn_ns(c, 1)), 4096);
	for (i = 0; i < 2; i++)
		qp[i] = fn_qpair(c, 0, 0);
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_alloc_io_qpair(c, NULL, &qp[2]), -EBUSY);
	CU_ASSERT(vpio_test_log_has("in use"));
	vpio_test_log_release();
	for (i = 0; i < 2; i++) {
		if (qp[i] != NULL)
			CU_ASSERT_EQUAL(vpio_nvme_ctrlr_free_io_qpair(qp[i]), 0);
	}
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_detach(c), 0);
}

static uint64_t unsafe_shutdowns(struct vpio_nvme_ctrlr *c)
{
	struct vpio_nvme_health_log *h = fn_gbuf(sizeof(*h));
	uint64_t n;

	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_get_health_log(c, h), 0);
	n = h->unsafe_shutdowns[0];
	fn_gbuf_free(h);
	return n;
}

/* Detach shuts the controller down (CC.SHN, CSTS.SHST): detached and
 * attached again, the emulated controller has seen no unsafe shutdown.  A
 * failed controller cannot be shut down: stopping it and detaching counts
 * one. */
static void test_detach_shutdown(void)
{
	struct vpio_nvme_ctrlr *c;
	int round;

	for (round = 0; round < 3; round++) {
		if ((c = fn_attach(FN_EMU_SHUTDOWN, NULL)) == NULL)
			return;
		CU_ASSERT_EQUAL(unsafe_shutdowns(c), 0);
		CU_ASSERT_EQUAL(vpio_nvme_ctrlr_detach(c), 0);
	}
	if ((c = fn_attach(FN_EMU_SHUTDOWN, NULL)) == NULL)
		return;
	CU_ASSERT_EQUAL(vpio_emu_nvme_inject(fn_emu(c), VPIO_EMU_NVME_FAULT_FATAL, 0), 0);
	vpio_test_log_capture();
	CU_ASSERT_NOT_EQUAL(vpio_nvme_ctrlr_get_feature(c, VPIO_NVME_FEAT_ARBITRATION, 0, NULL, 0, NULL), 0);
	vpio_test_log_release();
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_get_state(c), VPIO_NVME_CTRLR_FAILED);
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_detach(c), 0);
	if ((c = fn_attach(FN_EMU_SHUTDOWN, NULL)) == NULL)
		return;
	CU_ASSERT_EQUAL(unsafe_shutdowns(c), 1);
	CU_ASSERT_EQUAL(vpio_nvme_ctrlr_detach(c), 0);
	CU_ASSERT_EQUAL(vpio_emu_destroy(FN_EMU_SHUTDOWN), 0);
}

int fn_register_bringup(void)
{
	VPIO_SUITE("bring-up", NULL, NULL);
	VPIO_TEST(test_attach_detach);
	VPIO_TEST(test_identify_and_features);
	VPIO_TEST(test_log_pages);
	VPIO_TEST(test_passthrough_and_abort);
	VPIO_TEST(test_short_data_buffers);
	VPIO_TEST(test_feature_data);
	VPIO_TEST(test_namespaces);
	if (!g_fn_real) { /* emulator options and counters */
		VPIO_TEST(test_stride_and_mqes);
		VPIO_TEST(test_small_limits);
		VPIO_TEST(test_detach_shutdown);
	}
	return 0;
}
