/* SPDX-License-Identifier: BSD-3-Clause */
/* vpio-identify: the printing parts. */
#ifndef VPIO_IDENTIFY_H
#define VPIO_IDENTIFY_H

#include <stddef.h>
#include <stdint.h>

#include <vpio/nvme.h>

/* Controller summary (like "nvme id-ctrl"). */
void identify_print_ctrlr(struct vpio_nvme_ctrlr *ctrlr);
/* One namespace (like "nvme id-ns"). */
void identify_print_ns(struct vpio_nvme_ns *ns);
/* SMART / health log and the error log; 0 or a negative errno. */
int identify_print_health(struct vpio_nvme_ctrlr *ctrlr);

/* Helpers */
/* A fixed-width, space-padded identify string without the padding. */
const char *identify_str(char *out, size_t outlen, const char *in, size_t inlen);
/* "1.50 GiB" */
const char *identify_size(char *out, size_t outlen, uint64_t bytes);

#endif
