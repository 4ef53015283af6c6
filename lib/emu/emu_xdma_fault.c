/* SPDX-License-Identifier: BSD-3-Clause */
/* The test-facing API of the emulated XDMA device: fault injection,
 * facts, counters and the last host error. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "emu_xdma_internal.h"

struct vpio_emu_xdma *vpio_emu_xdma_get(struct vpio_pci_device *dev)
{
	if (dev == NULL || !dev->emulated || dev->ops != &emu_xdma_pci_ops)
		return NULL;
	return dev->priv;
}

int vpio_emu_xdma_inject(struct vpio_emu_xdma *emu, bool c2h, unsigned channel, enum vpio_emu_xdma_fault fault,
			 uint64_t param)
{
	struct emu_xdma_engine *e;
	uint32_t bit = fault > VPIO_EMU_XDMA_FAULT_NONE && fault <= VPIO_EMU_XDMA_FAULT_MAGIC ? 1u << fault : 0;

	if (emu == NULL) {
		VPIO_ERR(EMU_MOD, "fault injection: no emulated XDMA device (NULL)");
		return -EINVAL;
	}
	if (channel >= VPIO_XDMA_MAX_CHANNELS || !emu_xdma_present(emu, c2h, channel)) {
		VPIO_ERR(EMU_MOD, "%s: cannot inject a fault into %s %u: the device has %u %s channels",
			 emu->name, c2h ? "C2H" : "H2C", channel, c2h ? emu->opts.c2h : emu->opts.h2c, c2h ? "C2H" : "H2C");
		return -EINVAL;
	}
	if (bit == 0 && fault != VPIO_EMU_XDMA_FAULT_NONE) {
		VPIO_ERR(EMU_MOD, "%s: unknown fault %d (see enum vpio_emu_xdma_fault)", emu->name, (int)fault);
		return -EINVAL;
	}
	if (fault == VPIO_EMU_XDMA_FAULT_CORRUPT_WB && param > UINT32_MAX) {
		VPIO_ERR(EMU_MOD, "%s: CORRUPT_WB param 0x%llx is not a 32-bit writeback word", emu->name,
			 (unsigned long long)param);
		return -EINVAL;
	}
	e = emu_xdma_eng(emu, c2h, channel);
	pthread_mutex_lock(&emu->lock);
	if (fault == VPIO_EMU_XDMA_FAULT_NONE) {
		e->drop_wb_left = 0;
		__atomic_store_n(&e->fault_bits, 0, __ATOMIC_RELEASE);
	} else {
		if (fault == VPIO_EMU_XDMA_FAULT_DROP_WB)
			e->drop_wb_left += param ? param : 1;
		if (fault == VPIO_EMU_XDMA_FAULT_CORRUPT_WB)
			e->corrupt_word = (uint32_t)param;
		__atomic_fetch_or(&e->fault_bits, bit, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&emu->lock);
	return 0;
}

VPIO_ABI_SIZE(struct vpio_emu_xdma_info, 56);
VPIO_ABI_FIELD(struct vpio_emu_xdma_info, info_size, 0);
VPIO_ABI_FIELD(struct vpio_emu_xdma_info, h2c, 8);
VPIO_ABI_FIELD(struct vpio_emu_xdma_info, c2h, 12);
VPIO_ABI_FIELD(struct vpio_emu_xdma_info, stream, 16);
VPIO_ABI_FIELD(struct vpio_emu_xdma_info, mem_size, 24);
VPIO_ABI_FIELD(struct vpio_emu_xdma_info, mem, 32);
VPIO_ABI_FIELD(struct vpio_emu_xdma_info, cfg_bar, 40);
VPIO_ABI_FIELD(struct vpio_emu_xdma_info, user_bar, 44);
VPIO_ABI_FIELD(struct vpio_emu_xdma_info, bypass_bar, 48);

int vpio_emu_xdma_get_info_sized(struct vpio_emu_xdma *emu, struct vpio_emu_xdma_info *info, size_t info_size)
{
	struct vpio_emu_xdma_info i;

	if (emu == NULL) {
		VPIO_ERR(EMU_MOD, "vpio_emu_xdma_get_info: emu is NULL");
		return -EINVAL;
	}
	memset(&i, 0, sizeof(i));
	i.h2c = emu->opts.h2c;
	i.c2h = emu->opts.c2h;
	i.stream = emu->opts.stream;
	i.mem_size = emu->opts.mem;
	i.mem = emu->mem.mem;
	i.cfg_bar = emu->cfg_bar;
	i.user_bar = emu->user_bar;
	i.bypass_bar = emu->bypass_bar;
	return vpio_struct_export(EMU_MOD, "vpio_emu_xdma_get_info", info, info_size, &i, sizeof(i));
}

VPIO_ABI_SIZE(struct vpio_emu_xdma_stats, 80);
VPIO_ABI_FIELD(struct vpio_emu_xdma_stats, stats_size, 0);
VPIO_ABI_FIELD(struct vpio_emu_xdma_stats, runs, 8);
VPIO_ABI_FIELD(struct vpio_emu_xdma_stats, descriptors, 16);
VPIO_ABI_FIELD(struct vpio_emu_xdma_stats, bytes_h2c, 24);
VPIO_ABI_FIELD(struct vpio_emu_xdma_stats, bytes_c2h, 32);
VPIO_ABI_FIELD(struct vpio_emu_xdma_stats, writebacks, 40);
VPIO_ABI_FIELD(struct vpio_emu_xdma_stats, engine_errors, 48);
VPIO_ABI_FIELD(struct vpio_emu_xdma_stats, iommu_faults, 56);
VPIO_ABI_FIELD(struct vpio_emu_xdma_stats, host_errors, 64);
VPIO_ABI_FIELD(struct vpio_emu_xdma_stats, interrupts, 72);

int vpio_emu_xdma_get_stats_sized(struct vpio_emu_xdma *emu, struct vpio_emu_xdma_stats *st, size_t stats_size)
{
	struct vpio_emu_xdma_stats all = { 0 };
	/* every counter is a uint64_t, from runs on */
	const uint64_t *src = emu != NULL ? &emu->stats.runs : NULL;
	uint64_t *dst = &all.runs;

	for (size_t i = 0; src != NULL && i < (sizeof(all) - offsetof(struct vpio_emu_xdma_stats, runs)) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
	return vpio_struct_export(EMU_MOD, "vpio_emu_xdma_get_stats", st, stats_size, &all, sizeof(all));
}

uint64_t vpio_emu_xdma_last_host_error(struct vpio_emu_xdma *emu, char *buf, size_t len)
{
	uint64_t n;

	if (emu == NULL) {
		if (len > 0)
			buf[0] = '\0';
		return 0;
	}
	pthread_mutex_lock(&emu->lock);
	n = emu->stats.host_errors;
	if (len > 0)
		snprintf(buf, len, "%s", n ? emu->host_err : "");
	pthread_mutex_unlock(&emu->lock);
	return n;
}
