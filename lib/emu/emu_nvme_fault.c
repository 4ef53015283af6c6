/* SPDX-License-Identifier: BSD-3-Clause */
/* The test-facing API of the emulated NVMe controller: fault injection
 * and counters. */
#include <errno.h>

#include "emu_internal.h"

struct vpio_emu_nvme *vpio_emu_nvme_get(struct vpio_pci_device *dev)
{
	if (dev == NULL || !dev->emulated || dev->ops != &emu_nvme_pci_ops)
		return NULL;
	return dev->priv;
}

static void arm(struct vpio_emu_nvme *emu, uint32_t bit)
{
	__atomic_or_fetch(&emu->fault_bits, bit, __ATOMIC_RELEASE);
}

int vpio_emu_nvme_inject(struct vpio_emu_nvme *emu, enum vpio_emu_nvme_fault fault, uint64_t param)
{
	int rc = 0;

	if (emu == NULL) {
		VPIO_ERR(EMU_MOD, "fault injection: no emulated NVMe controller (NULL)");
		return -EINVAL;
	}
	if (__atomic_load_n(&emu->removed, __ATOMIC_ACQUIRE)) {
		VPIO_ERR(EMU_MOD, "%s: cannot inject fault %d: the device was surprise-removed", emu->name,
			 (int)fault);
		return -ENODEV;
	}
	switch (fault) {
	case VPIO_EMU_NVME_FAULT_FATAL:
		return emu_nvme_request(emu, EMU_REQ_FATAL);
	case VPIO_EMU_NVME_FAULT_REMOVE:
		return emu_nvme_request(emu, EMU_REQ_REMOVE);
	case VPIO_EMU_NVME_FAULT_BOGUS_CID:
		if (param > 0xffff) {
			VPIO_ERR(EMU_MOD, "%s: BOGUS_CID param %llu is not a command id (0..65535, 0 = random)",
				 emu->name, (unsigned long long)param);
			return -EINVAL;
		}
		break;
	case VPIO_EMU_NVME_FAULT_NONE:
	case VPIO_EMU_NVME_FAULT_DROP_CPL:
	case VPIO_EMU_NVME_FAULT_DROP_ADMIN_CPL:
	case VPIO_EMU_NVME_FAULT_DUP_CPL:
	case VPIO_EMU_NVME_FAULT_BAD_SQHD:
	case VPIO_EMU_NVME_FAULT_DELAY_CPL:
		break;
	default:
		VPIO_ERR(EMU_MOD, "%s: unknown fault %d (see enum vpio_emu_nvme_fault)", emu->name, (int)fault);
		return -EINVAL;
	}
	pthread_mutex_lock(&emu->lock);
	switch (fault) {
	case VPIO_EMU_NVME_FAULT_NONE:
		emu->drop_left = 0;
		emu->drop_admin_left = 0;
		__atomic_store_n(&emu->fault_bits, 0, __ATOMIC_RELEASE);
		break;
	case VPIO_EMU_NVME_FAULT_DROP_CPL:
		emu->drop_left += param ? param : 1;
		arm(emu, EMU_FAULT_DROP);
		break;
	case VPIO_EMU_NVME_FAULT_DROP_ADMIN_CPL:
		emu->drop_admin_left += param ? param : 1;
		arm(emu, EMU_FAULT_DROP_ADMIN);
		break;
	case VPIO_EMU_NVME_FAULT_BOGUS_CID:
		emu->bogus_cid = (uint16_t)param;
		arm(emu, EMU_FAULT_BOGUS);
		break;
	case VPIO_EMU_NVME_FAULT_DUP_CPL:
		arm(emu, EMU_FAULT_DUP);
		break;
	case VPIO_EMU_NVME_FAULT_BAD_SQHD:
		arm(emu, EMU_FAULT_SQHD);
		break;
	case VPIO_EMU_NVME_FAULT_DELAY_CPL:
		emu->delay_us = param;
		arm(emu, EMU_FAULT_DELAY);
		break;
	default:
		rc = -EINVAL;
		break;
	}
	pthread_mutex_unlock(&emu->lock);
	return rc;
}

VPIO_ABI_SIZE(struct vpio_emu_nvme_stats, 88);
VPIO_ABI_FIELD(struct vpio_emu_nvme_stats, stats_size, 0);
VPIO_ABI_FIELD(struct vpio_emu_nvme_stats, admin_cmds, 8);
VPIO_ABI_FIELD(struct vpio_emu_nvme_stats, io_cmds, 16);
VPIO_ABI_FIELD(struct vpio_emu_nvme_stats, read_cmds, 24);
VPIO_ABI_FIELD(struct vpio_emu_nvme_stats, write_cmds, 32);
VPIO_ABI_FIELD(struct vpio_emu_nvme_stats, bytes_read, 40);
VPIO_ABI_FIELD(struct vpio_emu_nvme_stats, bytes_written, 48);
VPIO_ABI_FIELD(struct vpio_emu_nvme_stats, iommu_faults, 56);
VPIO_ABI_FIELD(struct vpio_emu_nvme_stats, invalid_cmds, 64);
VPIO_ABI_FIELD(struct vpio_emu_nvme_stats, mmio_doorbells, 72);
VPIO_ABI_FIELD(struct vpio_emu_nvme_stats, shadow_doorbells, 80);

int vpio_emu_nvme_get_stats_sized(struct vpio_emu_nvme *emu, struct vpio_emu_nvme_stats *out, size_t out_size)
{
	struct vpio_emu_nvme_stats all = { 0 }, *st = &all;
	const struct vpio_emu_nvme_stats *s;

	if (emu == NULL) {
		VPIO_ERR(EMU_MOD, "vpio_emu_nvme_get_stats: emu is NULL");
		return -EINVAL;
	}
	s = &emu->stats;

	st->admin_cmds = emu_read_count(&s->admin_cmds);
	st->io_cmds = emu_read_count(&s->io_cmds);
	st->read_cmds = emu_read_count(&s->read_cmds);
	st->write_cmds = emu_read_count(&s->write_cmds);
	st->bytes_read = emu_read_count(&s->bytes_read);
	st->bytes_written = emu_read_count(&s->bytes_written);
	st->iommu_faults = emu_read_count(&s->iommu_faults);
	st->invalid_cmds = emu_read_count(&s->invalid_cmds);
	st->mmio_doorbells = emu_read_count(&s->mmio_doorbells);
	st->shadow_doorbells = emu_read_count(&s->shadow_doorbells);
	return vpio_struct_export(EMU_MOD, "vpio_emu_nvme_get_stats", out, out_size, &all, sizeof(all));
}
