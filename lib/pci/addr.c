/* SPDX-License-Identifier: BSD-3-Clause */
/* PCI addresses: "dddd:bb:dd.f". */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pci_internal.h"

int vpio_pci_addr_parse(struct vpio_pci_addr *addr, const char *str)
{
	unsigned dom = 0, bus, dev, func;
	int n = 0;

	if (str == NULL)
		return -EINVAL;
	if (sscanf(str, "%x:%x:%x.%x%n", &dom, &bus, &dev, &func, &n) == 4 && str[n] == '\0') {
		/* dddd:bb:dd.f */
	} else if (n = 0, dom = 0, sscanf(str, "%x:%x.%x%n", &bus, &dev, &func, &n) == 3 && str[n] == '\0') {
		/* bb:dd.f */
	} else {
		return -EINVAL;
	}
	if (strchr(str, ' ') || strchr(str, '-') || strchr(str, '+') || dom > 0xffff || bus > 0xff || dev > 0x1f || func > 7)
		return -EINVAL;
	addr->domain = dom;
	addr->bus = (uint8_t)bus;
	addr->dev = (uint8_t)dev;
	addr->func = (uint8_t)func;
	return 0;
}

void vpio_pci_addr_fmt(char *buf, size_t len, const struct vpio_pci_addr *addr)
{
	snprintf(buf, len, "%04x:%02x:%02x.%x", addr->domain, addr->bus, addr->dev, addr->func);
}

int vpio_pci_addr_cmp(const struct vpio_pci_addr *a, const struct vpio_pci_addr *b)
{
	uint64_t x = (uint64_t)a->domain << 24 | (uint32_t)a->bus << 16 | (uint32_t)a->dev << 8 | a->func;
	uint64_t y = (uint64_t)b->domain << 24 | (uint32_t)b->bus << 16 | (uint32_t)b->dev << 8 | b->func;

	return x < y ? -1 : x > y;
}

bool vpio_pci_name_is_emulated(const char *name)
{
	return name != NULL && strncmp(name, "emu:", 4) == 0;
}
