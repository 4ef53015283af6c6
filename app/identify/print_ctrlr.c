/* SPDX-License-Identifier: BSD-3-Clause */
/* vpio-identify: the controller summary (registers and Identify
 * Controller), in the spirit of "nvme id-ctrl". */
#include <stdio.h>

#include "identify.h"

struct bit_name {
	uint32_t bit;
	const char *name;
};

static void print_bits(const char *label, uint32_t val, const struct bit_name *names)
{
	int any = 0;

	printf("  %-18s: 0x%04x", label, val);
	for (; names->name != NULL; names++) {
		if (val & names->bit) {
			printf("%s%s", any ? ", " : " (", names->name);
			any = 1;
		}
	}
	printf("%s\n", any ? ")" : "");
}

static const struct bit_name g_oacs[] = {
	{ VPIO_NVME_OACS_SECURITY, "Security Send/Receive" },
	{ VPIO_NVME_OACS_FORMAT, "Format NVM" },
	{ VPIO_NVME_OACS_FIRMWARE, "Firmware Download/Commit" },
	{ VPIO_NVME_OACS_NS_MANAGE, "Namespace Management" },
	{ 1u << 4, "Device Self-test" },
	{ 1u << 5, "Directives" },
	{ 1u << 6, "NVMe-MI" },
	{ 1u << 7, "Virtualization Management" },
	{ VPIO_NVME_OACS_DOORBELL_BUFFER_CONFIG, "Doorbell Buffer Config" },
	{ 1u << 9, "Get LBA Status" },
	{ 0, NULL },
};

static const struct bit_name g_oncs[] = {
	{ VPIO_NVME_ONCS_COMPARE, "Compare" },
	{ VPIO_NVME_ONCS_WRITE_UNCORRECTABLE, "Write Uncorrectable" },
	{ VPIO_NVME_ONCS_DSM, "Dataset Management" },
	{ VPIO_NVME_ONCS_WRITE_ZEROES, "Write Zeroes" },
	{ 1u << 4, "Save/Select in Features" },
	{ 1u << 5, "Reservations" },
	{ 1u << 6, "Timestamp" },
	{ 1u << 7, "Verify" },
	{ 1u << 8, "Copy" },
	{ 0, NULL },
};

static void print_regs(const struct vpio_nvme_ctrlr_info *in)
{
	uint64_t cap = in->cap;

	printf("  %-18s: %u.%u.%u\n", "NVMe version", in->vs >> 16, (in->vs >> 8) & 0xffu, in->vs & 0xffu);
	printf("  %-18s: 0x%016llx (queues up to %u entries%s, ready timeout %u ms, doorbell stride %u bytes,\n"
	       "  %-18s  pages %u..%u KiB, command sets 0x%02x%s)\n",
	       "CAP", (unsigned long long)cap, VPIO_NVME_CAP_MQES(cap) + 1u,
	       VPIO_NVME_CAP_CQR(cap) ? " contiguous" : "", VPIO_NVME_CAP_TO(cap) * 500u, in->doorbell_stride, "",
	       4u << VPIO_NVME_CAP_MPSMIN(cap), 4u << VPIO_NVME_CAP_MPSMAX(cap), VPIO_NVME_CAP_CSS(cap),
	       VPIO_NVME_CAP_NSSRS(cap) ? ", NVM subsystem reset" : "");
}

static void print_limits(const struct vpio_nvme_ctrlr_data *cd, const struct vpio_nvme_ctrlr_info *in)
{
	char sz[32];

	if (cd->mdts)
		printf("  %-18s: %u (2^%u pages: %s per command)\n", "MDTS", cd->mdts, cd->mdts,
		       identify_size(sz, sizeof(sz), (uint64_t)in->page_size << cd->mdts));
	else
		printf("  %-18s: 0 (no limit)\n", "MDTS");
	printf("  %-18s: %s (vpio splits larger requests)\n", "Max transfer (vpio)",
	       identify_size(sz, sizeof(sz), in->max_xfer_size));
	printf("  %-18s: %u I/O queue pairs granted, up to %u entries each\n", "Queues", in->max_io_queues,
	       in->max_queue_size);
	printf("  %-18s: SQ %u..%u bytes, CQ %u..%u bytes\n", "Queue entry sizes", 1u << (cd->sqes & 0xfu),
	       1u << (cd->sqes >> 4), 1u << (cd->cqes & 0xfu), 1u << (cd->cqes >> 4));
	if (cd->maxcmd)
		printf("  %-18s: %u\n", "Max commands", cd->maxcmd);
	printf("  %-18s: %u ids (NN), %u active\n", "Namespaces", cd->nn, in->num_active_ns);
}

static void print_features(const struct vpio_nvme_ctrlr_data *cd, const struct vpio_nvme_ctrlr_info *in)
{
	print_bits("OACS", cd->oacs, g_oacs);
	print_bits("ONCS", cd->oncs, g_oncs);
	printf("  %-18s: %s\n", "Volatile cache", (cd->vwc & VPIO_NVME_VWC_PRESENT) ? "present" : "none");
	if (VPIO_NVME_SGLS_SUPPORTED(cd->sgls))
		printf("  %-18s: 0x%08x (supported, %s)\n", "SGLs", cd->sgls,
		       VPIO_NVME_SGLS_DWORD_ALIGNED(cd->sgls) ? "dword aligned" : "byte aligned");
	else
		printf("  %-18s: 0x%08x (not supported: PRPs only)\n", "SGLs", cd->sgls);
	printf("  %-18s: %s\n", "Shadow doorbells", in->shadow_doorbells ? "in use" : "not in use");
	printf("  %-18s: %u (0-based), error log: %u entries\n", "Power states", cd->npss, cd->elpe + 1u);
}

void identify_print_ctrlr(struct vpio_nvme_ctrlr *ctrlr)
{
	const struct vpio_nvme_ctrlr_data *cd = vpio_nvme_ctrlr_get_data(ctrlr);
	const struct vpio_pci_device *dev = vpio_nvme_ctrlr_get_pci_device(ctrlr);
	struct vpio_nvme_ctrlr_info in;
	char s[48];

	vpio_nvme_ctrlr_get_info(ctrlr, &in);
	printf("NVMe controller %s\n", in.name);
	printf("  %-18s: vendor 0x%04x device 0x%04x, subsystem 0x%04x:0x%04x\n", "PCI ids",
	       dev->info.vendor_id, dev->info.device_id, dev->info.subvendor_id, dev->info.subdevice_id);
	printf("  %-18s: 0x%04x, subsystem vendor 0x%04x\n", "Vendor (VID)", cd->vid, cd->ssvid);
	printf("  %-18s: %s\n", "Serial number", identify_str(s, sizeof(s), cd->sn, sizeof(cd->sn)));
	printf("  %-18s: %s\n", "Model number", identify_str(s, sizeof(s), cd->mn, sizeof(cd->mn)));
	printf("  %-18s: %s\n", "Firmware revision", identify_str(s, sizeof(s), cd->fr, sizeof(cd->fr)));
	printf("  %-18s: %u\n", "Controller id", cd->cntlid);
	print_regs(&in);
	print_limits(cd, &in);
	print_features(cd, &in);
}
