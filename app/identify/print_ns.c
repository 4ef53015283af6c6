/* SPDX-License-Identifier: BSD-3-Clause */
/* vpio-identify: one namespace, in the spirit of "nvme id-ns". */
#include <stdio.h>
#include <string.h>

#include "identify.h"

static const char *rel_perf(uint8_t rp)
{
	static const char *const names[] = { "best", "better", "good", "degraded" };

	return names[rp & 3u];
}

static void print_id(const char *label, const uint8_t *b, size_t n)
{
	static const uint8_t zero[16];

	if (memcmp(b, zero, n) == 0)
		return;
	printf("  %-18s: ", label);
	for (size_t i = 0; i < n; i++)
		printf("%02x", b[i]);
	printf("\n");
}

void identify_print_ns(struct vpio_nvme_ns *ns)
{
	const struct vpio_nvme_ns_data *d = vpio_nvme_ns_get_data(ns);
	unsigned cur = VPIO_NVME_FLBAS_INDEX(d->flbas);
	uint32_t bs = vpio_nvme_ns_get_sector_size(ns);
	char s1[32], s2[32], s3[32];

	printf("Namespace %u\n", vpio_nvme_ns_get_id(ns));
	printf("  %-18s: %llu blocks of %u bytes (%s)\n", "Size (NSZE)", (unsigned long long)d->nsze, bs,
	       identify_size(s1, sizeof(s1), d->nsze * bs));
	printf("  %-18s: %s capacity, %s in use\n", "Capacity / use", identify_size(s2, sizeof(s2), d->ncap * bs),
	       identify_size(s3, sizeof(s3), d->nuse * bs));
	printf("  %-18s: 0x%02x%s%s\n", "Features (NSFEAT)", d->nsfeat, (d->nsfeat & 1u) ? " (thin provisioned)" : "",
	       (d->nsfeat & 4u) ? " (deallocated or unwritten error)" : "");
	printf("  %-18s: %u bytes%s\n", "Metadata", vpio_nvme_ns_get_md_size(ns),
	       vpio_nvme_ns_get_md_size(ns) ? ((d->flbas & 0x10u) ? " per block, extended LBA" : " per block, separate")
					  : "");
	if (d->dps & 7u)
		printf("  %-18s: type %u\n", "Protection info", d->dps & 7u);
	print_id("NGUID", d->nguid, sizeof(d->nguid));
	print_id("EUI64", d->eui64, sizeof(d->eui64));
	printf("  %-18s:\n", "LBA formats");
	for (unsigned i = 0; i <= d->nlbaf && i < 64; i++) {
		const struct vpio_nvme_lbaf *f = &d->lbaf[i];

		printf("    #%-2u %6u bytes data, %3u bytes metadata, performance %-8s%s\n", i, 1u << f->lbads, f->ms,
		       rel_perf(f->rp), i == cur ? " (in use)" : "");
	}
}
