/* SPDX-License-Identifier: BSD-3-Clause */
/* Synchronous helpers: one transfer, polled until it ends.  A full
 * channel is polled until it takes the transfer. */
#include <errno.h>

#include "xdma_internal.h"

struct waiter {
	bool done;
	struct vpio_xdma_cpl cpl;
};

static void wake(void *arg, const struct vpio_xdma_cpl *cpl)
{
	struct waiter *w = arg;

	w->cpl = *cpl;
	w->done = true;
}

static int run(struct vpio_xdma_chan *ch, enum vpio_xdma_dir dir, uint64_t card, void *buf, size_t len,
	       struct vpio_xdma_cpl *cpl)
{
	struct waiter w = { 0 };
	int rc;

	if (ch != NULL && ch->in_cb) {
		VPIO_ERR(XDMA_MOD, "%s: a synchronous transfer from one of the channel's callbacks would never end; submit it asynchronously",
			 ch->label);
		return -EBUSY;
	}
	do {
		rc = dir == VPIO_XDMA_H2C ? vpio_xdma_h2c(ch, card, buf, len, wake, &w)
					  : vpio_xdma_c2h(ch, card, buf, len, wake, &w);
		if (rc == -EAGAIN)
			rc = vpio_xdma_poll(ch, 0) < 0 ? -EIO : -EAGAIN;
	} while (rc == -EAGAIN);
	while (rc == 0 && !w.done)
		rc = vpio_xdma_poll(ch, 0) < 0 ? -EIO : 0;
	if (rc != 0)
		return rc;
	if (cpl != NULL)
		*cpl = w.cpl;
	return w.cpl.status;
}

int vpio_xdma_h2c_sync(struct vpio_xdma_chan *ch, uint64_t card_addr, const void *buf, size_t len)
{
	return run(ch, VPIO_XDMA_H2C, card_addr, (void *)(uintptr_t)buf, len, NULL);
}

int vpio_xdma_c2h_sync(struct vpio_xdma_chan *ch, uint64_t card_addr, void *buf, size_t len, struct vpio_xdma_cpl *cpl)
{
	return run(ch, VPIO_XDMA_C2H, card_addr, buf, len, cpl);
}
