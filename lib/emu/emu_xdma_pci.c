/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The PCI device handle of an emulated XDMA device: identity (vendor
 * 0x10ee), config space with its BARs in the order of the bars= option,
 * and the BAR accessors: the config BAR through the register model, the
 * user BAR as a plain register file, the bypass BAR onto card memory.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu_xdma_internal.h"

#define XDMA_PCI_DEVICE 0x9038u	   /* UltraScale+, Gen3 x8 */
#define XDMA_PCI_SUBDEVICE 0x0007u
#define XDMA_PCI_CLASS 0x058000u   /* memory controller, other */
#define XDMA_PCI_DOMAIN 0xfffeu	   /* no real device lives there (emu:nvme uses 0xffff) */
#define CFG_SPACE 4096u
#define CFG_COMMAND 0x04u
#define CFG_BAR0 0x10u

static uint64_t pow2_up(uint64_t v)
{
	uint64_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

static void put_le(uint8_t *p, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void emu_xdma_cfg_init(struct vpio_emu_xdma *x)
{
	uint8_t *cfg = x->cfg;

	memset(cfg, 0, sizeof(x->cfg));
	put_le(cfg + 0x00, VPIO_XDMA_VENDOR_ID, 2);
	put_le(cfg + 0x02, XDMA_PCI_DEVICE, 2);
	put_le(cfg + 0x08, XDMA_PCI_CLASS << 8, 4);
	put_le(cfg + 0x2c, VPIO_XDMA_VENDOR_ID, 2);
	put_le(cfg + 0x2e, XDMA_PCI_SUBDEVICE, 2);
	cfg[0x3d] = 1; /* INTA */
	for (unsigned b = 0; b < VPIO_PCI_BAR_MAX; b++) {
		uint64_t size = pow2_up(x->bar_len[b]), base = size * (b + 1);

		if (x->bar_len[b] == 0)
			continue;
		if (x->opts.bar64) {
			put_le(cfg + CFG_BAR0 + 4 * b, base | 0x4, 8); /* 64-bit memory */
			x->bar_mask_lo[b] = (uint32_t)~(size - 1) & ~0xfu;
			x->bar_mask_lo[b + 1] = (uint32_t)(~(size - 1) >> 32);
		} else {
			put_le(cfg + CFG_BAR0 + 4 * b, (uint32_t)base, 4);
			x->bar_mask_lo[b] = (uint32_t)~(size - 1) & ~0xfu;
		}
	}
}

/* Bits a config write may change at byte off. */
static uint8_t wmask(const struct vpio_emu_xdma *x, uint32_t off)
{
	if (off == CFG_COMMAND)
		return 0x46;
	if (off == CFG_COMMAND + 1)
		return 0x05;
	if (off >= CFG_BAR0 && off < CFG_BAR0 + 4 * VPIO_PCI_BAR_MAX)
		return (uint8_t)(x->bar_mask_lo[(off - CFG_BAR0) / 4] >> (8 * (off % 4)));
	return off == 0x3c ? 0xff : 0;
}

static int cfg_access(struct vpio_pci_device *dev, uint8_t *buf, size_t len, uint32_t off, bool write)
{
	struct vpio_emu_xdma *x = dev->priv;

	if (off > CFG_SPACE || len > CFG_SPACE - off) {
		VPIO_ERR(EMU_MOD, "%s: config %s of %zu bytes at 0x%x is outside the 4 KiB config space",
			 dev->name, write ? "write" : "read", len, off);
		return -EINVAL;
	}
	pthread_mutex_lock(&x->lock);
	for (size_t i = 0; i < len; i++) {
		uint8_t *c = &x->cfg[off + i], m = wmask(x, off + (uint32_t)i);

		if (write)
			*c = (uint8_t)((*c & ~m) | (buf[i] & m));
		else
			buf[i] = *c;
	}
	pthread_mutex_unlock(&x->lock);
	return 0;
}

static int cfg_read(struct vpio_pci_device *dev, void *buf, size_t len, uint32_t off)
{
	return cfg_access(dev, buf, len, off, false);
}

static int cfg_write(struct vpio_pci_device *dev, const void *buf, size_t len, uint32_t off)
{
	return cfg_access(dev, (uint8_t *)(uintptr_t)buf, len, off, true);
}

static int dev_reset(struct vpio_pci_device *dev)
{
	emu_xdma_reset(dev->priv);
	return 0;
}

static void dev_detach(struct vpio_pci_device *dev)
{
	struct vpio_emu_xdma *x = dev->priv;

	emu_xdma_closed(x);
	pthread_mutex_lock(&x->lock);
	x->cfg[CFG_COMMAND] &= (uint8_t)~0x06;
	pthread_mutex_unlock(&x->lock);
	free(dev);
}

/* The word at off of a plain-memory BAR, or NULL (a host error). */
static uint32_t *plain_word(struct vpio_pci_device *dev, unsigned bar, uint64_t off, const char *what)
{
	struct vpio_emu_xdma *x = dev->priv;

	if (bar < VPIO_PCI_BAR_MAX && dev->bar[bar].addr != NULL && off % 4 == 0 && off + 4 <= dev->bar[bar].len &&
	    (int)bar != x->cfg_bar)
		return (uint32_t *)(void *)((uint8_t *)(uintptr_t)dev->bar[bar].addr + off);
	emu_xdma_host_error(x, "%s: %s of BAR %u offset 0x%llx: %s", x->name, what, bar, (unsigned long long)off,
			    bar >= VPIO_PCI_BAR_MAX || dev->bar[bar].addr == NULL ? "no such BAR"
										   : "unaligned or beyond the BAR");
	return NULL;
}

static uint32_t bar_read32(struct vpio_pci_device *dev, unsigned bar, uint64_t off)
{
	struct vpio_emu_xdma *x = dev->priv;
	uint32_t *w;

	if ((int)bar == x->cfg_bar)
		return emu_xdma_reg_read(x, (uint32_t)VPIO_MIN(off, (uint64_t)UINT32_MAX));
	w = plain_word(dev, bar, off, "read");
	return w != NULL ? __atomic_load_n(w, __ATOMIC_ACQUIRE) : UINT32_MAX;
}

static void bar_write32(struct vpio_pci_device *dev, unsigned bar, uint64_t off, uint32_t val)
{
	struct vpio_emu_xdma *x = dev->priv;
	uint32_t *w;

	if ((int)bar == x->cfg_bar) {
		emu_xdma_reg_write(x, (uint32_t)VPIO_MIN(off, (uint64_t)UINT32_MAX), val);
		return;
	}
	w = plain_word(dev, bar, off, "write");
	if (w != NULL)
		__atomic_store_n(w, val, __ATOMIC_RELEASE);
}

/* The card memory size, for lib/xdma when its opts leave it 0. */
static uint64_t card_mem_size(struct vpio_pci_device *dev)
{
	const struct vpio_emu_xdma *x = dev->priv;

	return x->opts.mem;
}

const struct vpio_pci_device_ops emu_xdma_pci_ops = {
	.cfg_read = cfg_read,
	.cfg_write = cfg_write,
	.reset = dev_reset,
	.detach = dev_detach,
	.bar_read32 = bar_read32,
	.bar_write32 = bar_write32,
	.card_mem_size = card_mem_size,
};

int emu_xdma_pci_fill(struct vpio_emu_xdma *x, struct vpio_pci_device **out)
{
	struct vpio_pci_device *dev = malloc(sizeof(*dev));

	if (dev == NULL) {
		VPIO_ERR(EMU_MOD, "%s: out of memory for the device handle", x->name);
		return -ENOMEM;
	}
	*dev = (struct vpio_pci_device){
		.info = { .info_size = sizeof(struct vpio_pci_info),
			  .addr = { XDMA_PCI_DOMAIN, (uint8_t)(x->idx >> 5), (uint8_t)(x->idx & 0x1f), 0 },
			  .vendor_id = VPIO_XDMA_VENDOR_ID, .device_id = XDMA_PCI_DEVICE,
			  .subvendor_id = VPIO_XDMA_VENDOR_ID, .subdevice_id = XDMA_PCI_SUBDEVICE,
			  .class_code = XDMA_PCI_CLASS, .numa_node = -1, .iommu_group = -1, .driver = "vpio-emu" },
		.emulated = true, .ops = &emu_xdma_pci_ops, .priv = x,
	};
	snprintf(dev->name, sizeof(dev->name), "%s", x->name);
	for (unsigned b = 0; b < VPIO_PCI_BAR_MAX; b++) {
		dev->bar[b].len = x->bar_len[b];
		if ((int)b == x->cfg_bar)
			dev->bar[b].addr = x->regs;
		else if ((int)b == x->user_bar)
			dev->bar[b].addr = x->user;
		else if ((int)b == x->bypass_bar)
			dev->bar[b].addr = x->mem.mem;
	}
	pthread_mutex_lock(&x->lock);
	x->cfg[CFG_COMMAND] |= 0x06; /* memory space and bus mastering, as after vpio_pci_device_open() */
	pthread_mutex_unlock(&x->lock);
	*out = dev;
	return 0;
}
