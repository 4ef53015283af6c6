/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpio-perf on NVMe targets (a PCI controller or emu:nvme): I/O through
 * lib/nvme's batch calls on the qpair under each lib/blk channel.  Each
 * context's buffer is translated once, here; an I/O is a 40-byte entry
 * appended to the channel's list, and a poll hands the whole list to the
 * driver (vpio_nvme_ns_submit_batch_iova: one SQ tail write for all) and
 * reaps completions as an array (vpio_nvme_qpair_poll_batch): no callback
 * through lib/blk, no translation per I/O.  --io-api blk keeps lib/blk's
 * per-request path for comparison.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vpio/env.h>
#include <vpio/nvme.h>

#include "perf.h"

struct perf_nvme_batch {
	struct vpio_nvme_ns *ns;
	struct vpio_nvme_qpair *qp;
	uint32_t qd, n_pend;
	struct vpio_nvme_io *pend;	/* [qd]: queued, not yet handed over */
	struct vpio_nvme_io_cpl *cpl;	/* [qd] */
	struct perf_io **failed;	/* [qd] */
	uint64_t *iova;			/* [qd]: of ch->ios[i].buf */
};

static int nb_submit(struct perf_channel *ch, struct perf_io *io, uint64_t lba)
{
	struct perf_nvme_batch *nb = ch->nb;
	struct vpio_nvme_io *e = &nb->pend[nb->n_pend++];

	e->opc = io->is_read ? VPIO_NVME_OPC_READ : VPIO_NVME_OPC_WRITE;
	e->lba = lba;
	e->lba_count = ch->tgt->io_blocks;
	e->iova = nb->iova[io - ch->ios];
	e->ctx = io;
	return 0;
}

/* Hand the queued entries to the driver.  What it refuses ends with its
 * error (a failed channel submits nothing more). */
static void nb_flush(struct perf_channel *ch)
{
	struct perf_nvme_batch *nb = ch->nb;
	uint32_t n, i;
	int rc;

	rc = vpio_nvme_ns_submit_batch_iova(nb->ns, nb->qp, nb->pend, nb->n_pend, 0);
	if (rc > 0) {
		nb->n_pend -= (uint32_t)rc;
		memmove(nb->pend, nb->pend + rc, nb->n_pend * sizeof(*nb->pend));
		return;
	}
	if (rc == -EAGAIN)
		return; /* after the next completions */
	n = nb->n_pend;
	for (i = 0; i < n; i++)
		nb->failed[i] = nb->pend[i].ctx;
	nb->n_pend = 0;
	for (i = 0; i < n; i++)
		perf_io_done(nb->failed[i], rc);
}

static int nb_poll(struct perf_channel *ch)
{
	struct perf_nvme_batch *nb = ch->nb;
	int n, i;

	if (nb->n_pend > 0)
		nb_flush(ch);
	n = vpio_nvme_qpair_poll_batch(nb->qp, nb->cpl, nb->qd);
	for (i = 0; i < n; i++)
		perf_io_done(nb->cpl[i].ctx, nb->cpl[i].status ? vpio_nvme_status_to_errno(nb->cpl[i].status) : 0);
	return n;
}

static uint32_t nb_outstanding(const struct perf_channel *ch)
{
	return vpio_nvme_qpair_get_outstanding(ch->nb->qp) + ch->nb->n_pend;
}

static void nb_free(struct perf_nvme_batch *nb)
{
	if (nb == NULL)
		return;
	free(nb->pend);
	free(nb->cpl);
	free(nb->failed);
	free(nb->iova);
	free(nb);
}

static void nb_destroy(struct perf_channel *ch)
{
	perf_blk_ops.destroy(ch);
	nb_free(ch->nb);
	ch->nb = NULL;
}

const struct perf_chan_ops perf_nvme_batch_ops = { nb_submit, nb_poll, nb_outstanding, nb_destroy };

int perf_nvme_batch_attach(struct perf_channel *ch, uint32_t qd, uint64_t io_bytes)
{
	struct perf_nvme_batch *nb = calloc(1, sizeof(*nb));
	uint64_t len;
	uint32_t i;

	if (nb == NULL)
		return -ENOMEM;
	nb->qd = qd;
	nb->pend = calloc(qd, sizeof(*nb->pend));
	nb->cpl = calloc(qd, sizeof(*nb->cpl));
	nb->failed = calloc(qd, sizeof(*nb->failed));
	nb->iova = calloc(qd, sizeof(*nb->iova));
	if (nb->pend == NULL || nb->cpl == NULL || nb->failed == NULL || nb->iova == NULL ||
	    vpio_blk_channel_get_nvme(ch->bch, &nb->ns, &nb->qp) != 0) {
		nb_free(nb);
		return -ENOMEM;
	}
	for (i = 0; i < qd; i++) {
		len = io_bytes;
		nb->iova[i] = vpio_vtophys(ch->ios[i].buf, &len);
		if (nb->iova[i] == VPIO_VTOPHYS_ERROR || len < io_bytes || io_bytes > vpio_nvme_ns_get_max_io_xfer_size(nb->ns)) {
			nb_free(nb); /* not one run or one command: lib/blk's path */
			return -ENOTSUP;
		}
	}
	ch->nb = nb;
	ch->ops = &perf_nvme_batch_ops;
	return 0;
}
