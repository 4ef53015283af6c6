/* SPDX-License-Identifier: BSD-3-Clause */
/* The NVMe backend of lib/blk (PCI addresses and emu:), over lib/nvme's
 * public API. */
#ifndef VPIO_BLK_NVME_H
#define VPIO_BLK_NVME_H

#include <vpio/nvme.h>

#include "blk_internal.h"

/* Most NVMe commands one blk request may become (lib/nvme splits requests
 * larger than the controller's transfer size); every channel's qpair holds
 * at least this many, so a request of max_transfer_bytes always fits once
 * the qpair drains. */
#define BLK_NVME_MAX_PARTS 8u
/* Blocks per Write Zeroes command (NLB is 16 bits). */
#define BLK_NVME_ZEROES_PER_CMD 65536u

/* An attached controller, shared by the targets of its namespaces. */
struct blk_nvme_ctrlr {
	struct blk_nvme_ctrlr *next;
	char key[64];		/* "0000:00:04.0", "emu:nvme0" */
	char emu_opts[448];	/* the emulator options it was attached with */
	struct vpio_nvme_ctrlr *ctrlr;
	unsigned refs;		/* targets */
};

struct blk_nvme_target {
	struct vpio_blk_target base;
	struct blk_nvme_ctrlr *c;
	struct vpio_nvme_ns *ns;
	uint32_t max_parts;	 /* commands per request, <= qpair depth */
	uint32_t max_queue_size; /* the controller's (CAP.MQES + 1) */
};

extern const struct blk_ops blk_nvme_ops;
void blk_nvme_close(struct vpio_blk_target *t); /* blk_nvme_ops.close */

#endif
