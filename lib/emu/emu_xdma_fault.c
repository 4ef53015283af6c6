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

int vpio_emu_xdma_get_info(struct vpio_emu_xdma *emu, struct vpio_emu_xdma_info *info)
{
	struct vpio_emu_xdma_info i;
	size_t n;

	if (emu == NULL || info == NULL ||
	    info->info_size < offsetof(struct vpio_emu_xdma_info, mem_size) + sizeof(info->mem_size)) {
		VPIO_ERR(EMU_MOD, "vpio_emu_xdma_get_info: %s", emu == NULL || info == NULL ? "NULL argument"
							: "info_size too small (set it to sizeof(struct vpio_emu_xdma_info))");
		return -EINVAL;
	}
	memset(&i, 0, sizeof(i));
	i.info_size = VPIO_MIN(info->info_size, sizeof(i));
	i.h2c = emu->opts.h2c;
	i.c2h = emu->opts.c2h;
	i.stream = emu->opts.stream;
	i.mem_size = emu->opts.mem;
	i.mem = emu->mem.mem;
	i.cfg_bar = emu->cfg_bar;
	i.user_bar = emu->user_bar;
	i.bypass_bar = emu->bypass_bar;
	n = i.info_size;
	memcpy(info, &i, n);
	return 0;
}

void vpio_emu_xdma_get_stats(struct vpio_emu_xdma *emu, struct vpio_emu_xdma_stats *st)
{
	const uint64_t *src = (const uint64_t *)&emu->stats;
	uint64_t *dst = (uint64_t *)st;

	if (emu == NULL) {
		memset(st, 0, sizeof(*st));
		return;
	}
	for (size_t i = 0; i < sizeof(*st) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
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
