/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The coalesced CQ head doorbell (nvme_cq_ack in nvme_internal.h): a
 * qpair never stalls and its CQ never fills, at any queue size and depth
 * (up to size - 1), and the doorbell is rung rarely.
 *
 * The device here is strict: it fetches what the SQ doorbell gave it, and
 * posts a completion only when its view of the CQ (the last CQ head
 * doorbell value) has a free slot; when it has completions to post and no
 * room, that is a full CQ (counted), and if the host then finds nothing to
 * reap, the qpair has stalled.
 */
#include <stdlib.h>
#include <string.h>

#include "common/vpio_test.h"
#include "nvme_ut_fake.h"

struct dev {
	struct ut_qpair *u;
	uint16_t sq_head, cq_tail;
	uint8_t phase;
	uint32_t fetched; /* fetched, not yet posted */
	uint16_t cids[4096];
	uint32_t first;
	uint64_t fulls;
};

static void dev_fetch(struct dev *d)
{
	struct vpio_nvme_qpair *qp = &d->u->qp;

	while (d->sq_head != d->u->sq_db) {
		d->cids[(d->first + d->fetched++) % 4096u] = qp->sq[d->sq_head].cid;
		d->sq_head = (uint16_t)((d->sq_head + 1u) % qp->num_entries);
	}
}

/* Post up to max completions; false when one had to wait for room. */
static bool dev_post(struct dev *d, uint32_t max)
{
	struct vpio_nvme_qpair *qp = &d->u->qp;
	uint32_t n = qp->num_entries;

	while (d->fetched > 0 && max-- > 0) {
		if ((d->cq_tail + 1u) % n == d->u->cq_db) { /* full as the device sees it */
			d->fulls++;
			return false;
		}
		ut_post(d->u, &d->cq_tail, &d->phase, d->cids[d->first], d->sq_head, 0);
		d->first = (d->first + 1u) % 4096u;
		d->fetched--;
	}
	return true;
}

static void cb(void *arg, const struct vpio_nvme_cpl *cpl)
{
	(*(uint64_t *)arg)++;
	CU_ASSERT_EQUAL(cpl->status & 0xfffeu, 0);
}

/* depth commands kept in flight for ios completions; the device posts in
 * bursts of a varying size.  Returns the CQ doorbells rung. */
static uint64_t run(uint16_t size, uint32_t depth, uint64_t ios, bool delay, struct dev *d)
{
	struct ut_qpair *u = ut_qpair_new(size, 1u << 17, 9, 1u << 20);
	struct vpio_nvme_qpair *qp = &u->qp;
	static uint8_t buf[4096] __attribute__((aligned(4096)));
	uint64_t done = 0, submitted = 0, stuck = 0, rung;
	uint32_t burst = 1;
	int rc;

	memset(d, 0, sizeof(*d));
	d->u = u;
	d->phase = 1;
	qp->delay_doorbell = delay;
	qp->owner = nvme_thread_id();
	while (done < ios && stuck < 1000) {
		while (submitted < ios && vpio_nvme_qpair_get_outstanding(qp) < depth) {
			rc = vpio_nvme_ns_cmd_read(&u->ns, qp, buf, submitted % 1000u, 1, cb, &done, 0);
			CU_ASSERT_EQUAL_FATAL(rc, 0);
			submitted++;
		}
		if (delay)
			vpio_nvme_qpair_flush(qp);
		dev_fetch(d);
		dev_post(d, burst);
		burst = burst % 7u + 1u;
		rc = vpio_nvme_qpair_process_completions(qp, 0);
		CU_ASSERT_FATAL(rc >= 0);
		stuck = rc == 0 ? stuck + 1 : 0;
	}
	CU_ASSERT_EQUAL(done, ios); /* else stalled: completions wait for a doorbell that never comes */
	rung = qp->stats.cq_doorbells;
	CU_ASSERT_EQUAL(qp->stats.mmio_doorbells, qp->stats.sq_doorbells + qp->stats.cq_doorbells);
	ut_qpair_free(u);
	return rung;
}

static void test_never_stalls(void)
{
	static const uint16_t sizes[] = { 2, 3, 4, 5, 8, 17, 64, 255 };
	struct dev d;
	unsigned i, j;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint32_t n = sizes[i], depths[] = { 1, (n - 1u + 1u) / 2u, n - 1u };

		for (j = 0; j < 3; j++) {
			run(sizes[i], depths[j], 3000, false, &d);
			CU_ASSERT_EQUAL(d.fulls, 0); /* rung before the CQ could fill */
			run(sizes[i], depths[j], 3000, true, &d);
			CU_ASSERT_EQUAL(d.fulls, 0);
		}
	}
}

/* At QD 1 on a 256-entry queue the CQ head is rung about once per 255
 * completions, not once per poll. */
static void test_rare_at_qd1(void)
{
	struct dev d;
	uint64_t rung = run(256, 1, 10000, false, &d);

	CU_ASSERT(rung >= 10000 / 255 && rung <= 10000 / 255 + 2);
	rung = run(256, 32, 10000, true, &d);
	CU_ASSERT(rung <= 10000 / (255 - 32) + 2);
}

static int reg(void)
{
	VPIO_SUITE("nvme_cq_ack", NULL, NULL);
	VPIO_TEST(test_never_stalls);
	VPIO_TEST(test_rare_at_qd1);
	return 0;
}

int main(void)
{
	return vpio_test_run(reg);
}
