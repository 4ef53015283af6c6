/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Finding PCI devices (sysfs) and opening them into a device handle that
 * drivers use: BAR pointers, config space, reset, detach.  The same handle
 * stands for a real device opened through VFIO ("0000:00:03.0") and for a
 * software-emulated one ("emu:nvme0"): drivers cannot tell them apart.
 */
#ifndef VPIO_PCI_H
#define VPIO_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vpio_pci_addr {
	uint32_t domain;
	uint8_t bus;
	uint8_t dev;
	uint8_t func;
};
#define VPIO_PCI_ADDR_STRLEN 16 /* "dddd:bb:dd.f" + NUL */

/* "0000:00:03.0" or "00:03.0" (domain 0).  -EINVAL on anything else.
 * Thread: any (these three touch only their arguments). */
int vpio_pci_addr_parse(const char *str, struct vpio_pci_addr *addr);
/* vpio_pci_addr_fmt() writes "dddd:bb:dd.f" (buf needs
 * VPIO_PCI_ADDR_STRLEN bytes); vpio_pci_addr_cmp() orders two addresses
 * (domain, bus, device, function).  Thread: any. */
void vpio_pci_addr_fmt(char *buf, size_t len, const struct vpio_pci_addr *addr);
int vpio_pci_addr_cmp(const struct vpio_pci_addr *a, const struct vpio_pci_addr *b);

#define VPIO_PCI_CLASS_NVME 0x010802u /* mass storage, NVM, NVMe I/O */
#define VPIO_PCI_ANY_ID 0xffffu

struct vpio_pci_info {
	size_t info_size;    /* out: the bytes the library filled (doc/api.md);
			      * sizeof(struct vpio_pci_info) of the library in
			      * the structs it hands to callbacks and in
			      * struct vpio_pci_device */
	struct vpio_pci_addr addr;
	uint16_t vendor_id;
	uint16_t device_id;
	uint16_t subvendor_id;
	uint16_t subdevice_id;
	uint32_t class_code; /* base << 16 | sub << 8 | prog-if */
	int numa_node;	     /* -1 when unknown */
	int iommu_group;     /* -1 when the device has none */
	char driver[64];     /* bound driver, "" when none */
};

/* Root of sysfs (default "/sys"; NULL restores it).  Tests point it at a
 * fake tree.  Thread: set it before other threads use vpio (a plain global
 * that every sysfs read and VFIO open uses); reading it: any. */
void vpio_pci_set_sysfs_root(const char *root);
const char *vpio_pci_sysfs_root(void);

/* Read one device's facts from sysfs into info_size bytes of *info (the
 * caller's sizeof: nothing past it is written; fields this library does not
 * know read 0).  -ENODEV when it does not exist, -EINVAL for NULL or a bad
 * size.  Call the macro.  Thread: any. */
int vpio_pci_get_info_sized(const struct vpio_pci_addr *addr, struct vpio_pci_info *info, size_t info_size);
#define vpio_pci_get_info(addr, info) vpio_pci_get_info_sized((addr), (info), sizeof(*(info)))

/* Calls cb for every device, in address order; a non-zero return from cb
 * stops the walk and is returned.  Thread: any; cb runs on the calling
 * thread. */
typedef int (*vpio_pci_enum_cb)(void *ctx, const struct vpio_pci_info *info);
int vpio_pci_enumerate(vpio_pci_enum_cb cb, void *ctx);

/* A match: VPIO_PCI_ANY_ID / class_mask 0 / addr NULL accept anything.
 * vpio_pci_match(): Thread: any. */
struct vpio_pci_match {
	uint16_t vendor_id;
	uint16_t device_id;
	uint32_t class_code;
	uint32_t class_mask;
	const struct vpio_pci_addr *addr;
};
bool vpio_pci_match(const struct vpio_pci_match *m, const struct vpio_pci_info *info);

/* ------------------------------------------------------- device handle */

#define VPIO_PCI_BAR_MAX 6

struct vpio_pci_bar {
	volatile void *addr; /* mapped registers, NULL when not mapped */
	uint64_t len;
};

struct vpio_pci_device;

/* What stands behind a handle: VFIO, or an emulator. */
struct vpio_pci_device_ops {
	int (*cfg_read)(struct vpio_pci_device *dev, void *buf, size_t len, uint32_t off);
	int (*cfg_write)(struct vpio_pci_device *dev, const void *buf, size_t len, uint32_t off);
	/* Function-level reset (or what the device supports); -ENOTSUP if none. */
	int (*reset)(struct vpio_pci_device *dev);
	/* Unmap BARs, release the device, free dev. */
	void (*detach)(struct vpio_pci_device *dev);
	/* 32-bit register access for a device whose registers act on the
	 * access itself (clear-on-read, write-1-to-set/clear): an emulated
	 * device sees each access through these.  NULL (VFIO, emu:nvme): a
	 * plain load or store on bar[].addr.  Use vpio_pci_bar_read32() and
	 * vpio_pci_bar_write32(), which pick the right one. */
	uint32_t (*bar_read32)(struct vpio_pci_device *dev, unsigned bar, uint64_t off);
	void (*bar_write32)(struct vpio_pci_device *dev, unsigned bar, uint64_t off, uint32_t val);
	/* Bytes of memory the device's DMA engine reaches on the card side,
	 * when the device itself can say (an emulated XDMA card: its mem=).
	 * NULL: unknown (VFIO; a real XDMA card does not say).  Any thread. */
	uint64_t (*card_mem_size)(struct vpio_pci_device *dev);
};

struct vpio_pci_device {
	char name[64];		/* "0000:00:03.0" or "emu:nvme0" */
	struct vpio_pci_info info;
	struct vpio_pci_bar bar[VPIO_PCI_BAR_MAX];
	bool emulated;
	const struct vpio_pci_device_ops *ops;
	void *priv;		/* the backend's state */
};

/*
 * Open a device by name: a PCI address goes through VFIO (the device must
 * be bound to vfio-pci); "emu:KIND[N][?opts]" creates or opens an emulated
 * device (see doc/emu.md).  BARs are mapped, memory space and bus
 * mastering are enabled, and the device is reset when it supports it.
 * Thread: any: "emu:" names go through the emulator's registry (a lock),
 * a PCI address joins the process-wide VFIO container under lib/vfio's
 * lock (include/vpio/vfio.h).
 */
int vpio_pci_device_open(const char *name, struct vpio_pci_device **dev);
/* Reset (if supported) and release the device; frees dev.  Thread: one
 * thread, once no other call on dev runs; for a VFIO device also the rule
 * of vpio_pci_device_open(). */
void vpio_pci_device_close(struct vpio_pci_device *dev);
/* Function-level reset; -ENOTSUP when the device has none.  Thread: any,
 * while no other thread uses the device's registers. */
int vpio_pci_device_reset(struct vpio_pci_device *dev);

/* Config space access (bounds checked).  Thread: any (VFIO: one pread or
 * pwrite; emulated: under the emulator's lock). */
int vpio_pci_cfg_read(struct vpio_pci_device *dev, void *buf, size_t len, uint32_t off);
int vpio_pci_cfg_write(struct vpio_pci_device *dev, const void *buf, size_t len, uint32_t off);

/*
 * One aligned 32-bit register access to a mapped BAR: a volatile load or
 * store on a real device, the emulator's register model on an emulated one
 * (so clear-on-read and write-1-to-set registers behave as on hardware).
 * No bounds check: off + 4 <= dev->bar[bar].len and off % 4 == 0 are the
 * caller's.  The write is ordered after the caller's earlier stores to
 * memory (descriptors before the register that starts the device).  No
 * system call.  Thread: any (what a register access means when several
 * threads race on one register is the device's business).
 */
static inline uint32_t vpio_pci_bar_read32(struct vpio_pci_device *dev, unsigned bar, uint64_t off)
{
	if (dev->ops->bar_read32 != NULL)
		return dev->ops->bar_read32(dev, bar, off);
	return *(volatile const uint32_t *)((volatile const uint8_t *)dev->bar[bar].addr + off);
}

/* Thread: any (as vpio_pci_bar_read32()). */
static inline void vpio_pci_bar_write32(struct vpio_pci_device *dev, unsigned bar, uint64_t off, uint32_t val)
{
#if defined(__aarch64__)
	__asm__ volatile("dmb oshst" ::: "memory");
#else
	__atomic_thread_fence(__ATOMIC_RELEASE); /* x86: a compiler barrier; stores stay in order */
#endif
	if (dev->ops->bar_write32 != NULL) {
		dev->ops->bar_write32(dev, bar, off, val);
		return;
	}
	*(volatile uint32_t *)((volatile uint8_t *)dev->bar[bar].addr + off) = val;
}

/* true for "emu:..." names.  Thread: any. */
bool vpio_pci_name_is_emulated(const char *name);

#ifdef __cplusplus
}
#endif
#endif
