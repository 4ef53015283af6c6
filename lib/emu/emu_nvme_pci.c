/* SPDX-License-Identifier: BSD-3-Clause */
/* The PCI device handle of an emulated NVMe controller: identity, config
 * space (type 0 header, one 64-bit memory BAR), reset and detach. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu_internal.h"

#define EMU_PCI_VENDOR 0x1b36	/* as QEMU's emulated NVMe */
#define EMU_PCI_DEVICE 0x0010
#define EMU_PCI_SUBVENDOR 0x1af4
#define EMU_PCI_SUBDEVICE 0x1100
#define EMU_PCI_REVISION 0x02
#define EMU_PCI_DOMAIN 0xffff	/* no real device lives there */
#define EMU_BAR_BASE 0x8000000000ull

#define CFG_COMMAND 0x04
#define CFG_BAR0 0x10
#define CFG_INTLINE 0x3c

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

void emu_nvme_cfg_init(struct vpio_emu_nvme *c)
{
	uint8_t *cfg = c->cfg;
	uint64_t bar = EMU_BAR_BASE + (uint64_t)c->idx * EMU_NVME_MAX_BAR;

	memset(cfg, 0, sizeof(c->cfg));
	put16(cfg + 0x00, EMU_PCI_VENDOR);
	put16(cfg + 0x02, EMU_PCI_DEVICE);
	cfg[0x08] = EMU_PCI_REVISION;
	put32(cfg + 0x08, (VPIO_PCI_CLASS_NVME << 8) | EMU_PCI_REVISION);
	put32(cfg + CFG_BAR0, (uint32_t)bar | 0x4); /* 64-bit, non-prefetchable memory */
	put32(cfg + CFG_BAR0 + 4, (uint32_t)(bar >> 32));
	put16(cfg + 0x2c, EMU_PCI_SUBVENDOR);
	put16(cfg + 0x2e, EMU_PCI_SUBDEVICE);
	cfg[0x3d] = 1; /* INTA */
}

static struct vpio_emu_nvme *dev_ctrl(struct vpio_pci_device *dev)
{
	return dev->priv;
}

static int cfg_range_ok(struct vpio_pci_device *dev, size_t len, uint32_t off, const char *what)
{
	if (off > 4096 || len > 4096 - off) {
		VPIO_ERR(EMU_MOD, "%s: config %s of %zu bytes at 0x%x is outside the 4 KiB config space",
			 dev->name, what, len, off);
		return -EINVAL;
	}
	return 0;
}

static int cfg_read(struct vpio_pci_device *dev, void *buf, size_t len, uint32_t off)
{
	struct vpio_emu_nvme *c = dev_ctrl(dev);
	int rc = cfg_range_ok(dev, len, off, "read");

	if (rc != 0)
		return rc;
	pthread_mutex_lock(&c->lock);
	if (__atomic_load_n(&c->removed, __ATOMIC_ACQUIRE))
		memset(buf, 0xff, len);
	else
		memcpy(buf, c->cfg + off, len);
	pthread_mutex_unlock(&c->lock);
	return 0;
}

/* Bits a write may change, per byte: command register, BAR0 (64-bit,
 * sized by bar_len), interrupt line. */
static uint8_t cfg_wmask(const struct vpio_emu_nvme *c, uint32_t off)
{
	uint64_t mask = ~(c->bar_len - 1) & ~0xfull;

	if (off == CFG_COMMAND)
		return 0x46; /* memory space, bus master, parity error response */
	if (off == CFG_COMMAND + 1)
		return 0x05; /* SERR#, interrupt disable */
	if (off >= CFG_BAR0 && off < CFG_BAR0 + 8)
		return (uint8_t)(mask >> ((off - CFG_BAR0) * 8));
	if (off == CFG_INTLINE)
		return 0xff;
	return 0;
}

static int cfg_write(struct vpio_pci_device *dev, const void *buf, size_t len, uint32_t off)
{
	struct vpio_emu_nvme *c = dev_ctrl(dev);
	const uint8_t *p = buf;
	int rc = cfg_range_ok(dev, len, off, "write");

	if (rc != 0)
		return rc;
	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < len; i++) {
		uint8_t m = cfg_wmask(c, off + (uint32_t)i);

		c->cfg[off + i] = (uint8_t)((c->cfg[off + i] & ~m) | (p[i] & m));
	}
	pthread_mutex_unlock(&c->lock);
	return 0;
}

static int dev_reset(struct vpio_pci_device *dev)
{
	int rc = emu_nvme_request(dev_ctrl(dev), EMU_REQ_RESET);

	if (rc != 0)
		VPIO_ERR(EMU_MOD, "%s: function-level reset failed: the device was surprise-removed",
			 dev->name);
	return rc;
}

static void dev_detach(struct vpio_pci_device *dev)
{
	struct vpio_emu_nvme *c = dev_ctrl(dev);

	/* stop touching the host's memory, then forget the handle */
	emu_nvme_request(c, EMU_REQ_DETACH);
	pthread_mutex_lock(&c->lock);
	c->cfg[CFG_COMMAND] &= (uint8_t)~0x06;
	pthread_mutex_unlock(&c->lock);
	emu_nvme_closed(c);
	free(dev);
}

const struct vpio_pci_device_ops emu_nvme_pci_ops = {
	.cfg_read = cfg_read,
	.cfg_write = cfg_write,
	.reset = dev_reset,
	.detach = dev_detach,
};

int emu_nvme_pci_fill(struct vpio_emu_nvme *c, struct vpio_pci_device **out)
{
	struct vpio_pci_device *dev = calloc(1, sizeof(*dev));

	if (dev == NULL) {
		VPIO_ERR(EMU_MOD, "%s: out of memory for the device handle", c->name);
		return -ENOMEM;
	}
	snprintf(dev->name, sizeof(dev->name), "%s", c->name);
	dev->info.info_size = sizeof(dev->info);
	dev->info.addr.domain = EMU_PCI_DOMAIN;
	dev->info.addr.bus = (uint8_t)(c->idx >> 5);
	dev->info.addr.dev = (uint8_t)(c->idx & 0x1f);
	dev->info.addr.func = 0;
	dev->info.vendor_id = EMU_PCI_VENDOR;
	dev->info.device_id = EMU_PCI_DEVICE;
	dev->info.subvendor_id = EMU_PCI_SUBVENDOR;
	dev->info.subdevice_id = EMU_PCI_SUBDEVICE;
	dev->info.class_code = VPIO_PCI_CLASS_NVME;
	dev->info.numa_node = -1;
	dev->info.iommu_group = -1;
	snprintf(dev->info.driver, sizeof(dev->info.driver), "vpio-emu");
	dev->bar[0].addr = c->bar;
	dev->bar[0].len = c->bar_len;
	dev->emulated = true;
	dev->ops = &emu_nvme_pci_ops;
	dev->priv = c;
	/* as vpio_pci_device_open() leaves a VFIO device: memory space and
	 * bus mastering enabled (the controller is already in reset state) */
	pthread_mutex_lock(&c->lock);
	c->cfg[CFG_COMMAND] |= 0x06;
	pthread_mutex_unlock(&c->lock);
	*out = dev;
	return 0;
}
