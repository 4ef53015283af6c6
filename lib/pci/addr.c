/* SPDX-License-Identifier: BSD-3-Clause */
/* PCI addresses: "dddd:bb:dd.f". */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pci_internal.h"

/* n hex digits (1 <= n <= max) at *p, advancing *p; -1 if none. */
static long hex_field(const char **p, int max)
{
	long v = 0;
	int n = 0;

	while (isxdigit((unsigned char)**p) && n < max) {
		char c = (char)tolower((unsigned char)**p);

		v = v * 16 + (c <= '9' ? c - '0' : c - 'a' + 10);
		(*p)++;
		n++;
	}
	return n > 0 ? v : -1;
}

int vpio_pci_addr_parse(const char *str, struct vpio_pci_addr *addr)
{
	long f[4] = { 0, -1, -1, -1 };
	const char *p = str;
	int colons = 0;

	if (str == NULL || addr == NULL)
		return -EINVAL;
	for (const char *q = str; *q; q++)
		colons += *q == ':';
	if (colons == 2) { /* dddd:bb:dd.f */
		f[0] = hex_field(&p, 4);
		if (*p++ != ':')
			return -EINVAL;
	} else if (colons != 1) {
		return -EINVAL;
	}
	f[1] = hex_field(&p, 2);
	if (*p++ != ':')
		return -EINVAL;
	f[2] = hex_field(&p, 2);
	if (*p++ != '.')
		return -EINVAL;
	f[3] = hex_field(&p, 1);
	if (*p != '\0' || f[0] < 0 || f[1] < 0 || f[2] < 0 || f[2] > 0x1f || f[3] < 0 || f[3] > 7)
		return -EINVAL;
	addr->domain = (uint32_t)f[0];
	addr->bus = (uint8_t)f[1];
	addr->dev = (uint8_t)f[2];
	addr->func = (uint8_t)f[3];
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
