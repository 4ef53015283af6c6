/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * func_nvme: sizes derived from what a controller allows.  A legal
 * controller may have a small MDTS, few I/O queues, few queue entries and
 * 4096-byte blocks; the tests ask these helpers instead of assuming a roomy
 * device, and say so when they have to do less than they would like.
 */
#include <stdarg.h>
#include <stdio.h>

#include "func_nvme.h"

void fn_limits_get(struct vpio_nvme_ns *ns, struct vpio_nvme_qpair *qp, struct fn_limits *l)
{
	uint32_t xfer = vpio_nvme_ns_get_max_io_xfer_size(ns);

	l->bs = vpio_nvme_ns_get_sector_size(ns);
	/* the driver cuts commands at whole blocks of the transfer size */
	l->cmd_blocks = xfer / l->bs ? xfer / l->bs : 1u;
	l->depth = vpio_nvme_qpair_get_depth(qp);
	l->req_blocks = l->depth * l->cmd_blocks;
}

uint32_t fn_cmds(const struct fn_limits *l, uint32_t nblocks)
{
	return (nblocks + l->cmd_blocks - 1u) / l->cmd_blocks;
}

uint32_t fn_fit(uint32_t want, uint32_t have, const char *fmt, ...)
{
	va_list ap;

	if (want <= have)
		return want;
	printf("\n    adapted: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(": %u instead of %u\n", have, want);
	fflush(stdout);
	return have;
}

const char *fn_name(const struct vpio_nvme_ctrlr *c)
{
	static __thread struct vpio_nvme_ctrlr_info in;

	vpio_nvme_ctrlr_get_info(c, &in);
	return in.name;
}
