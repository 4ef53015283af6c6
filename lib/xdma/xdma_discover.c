/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What an XDMA card has: the DMA config BAR (the BAR, at least 32 KiB,
 * whose IRQ block at 0x2000 and config block at 0x3000 carry their
 * identifiers), the user (AXI-Lite) and bypass BARs from the config BAR's
 * position among the mapped BARs (as the IP lays them out: config alone;
 * config, bypass; user, config; user, config, bypass), and the engines:
 * H2C/C2H channel n is there when its identifier names that target and
 * channel, counting from 0 and stopping at the first that does not.  Only
 * reads: unit tests run it on fake BAR images.
 */
#include <errno.h>
#include <string.h>

#include "xdma_internal.h"

#define IRQ_ID_OFF (VPIO_XDMA_TGT_IRQ << VPIO_XDMA_TARGET_SHIFT)
#define CONFIG_ID_OFF (VPIO_XDMA_TGT_CONFIG << VPIO_XDMA_TARGET_SHIFT)

void xdma_engine_fill(struct vpio_xdma_engine_info *e, uint32_t id, uint32_t align_reg)
{
	uint32_t a = VPIO_XDMA_ALIGN_ADDR(align_reg), g = VPIO_XDMA_ALIGN_GRAN(align_reg), b = VPIO_XDMA_ALIGN_BITS(align_reg);

	memset(e, 0, sizeof(*e));
	e->present = true;
	e->id = id;
	e->stream = (id & VPIO_XDMA_ID_STREAM) != 0;
	e->version = (uint8_t)VPIO_XDMA_ID_VERSION(id);
	/* a register (or field) that reads 0 means what the vendor's driver
	 * assumes then: byte alignment and granularity, 64 address bits */
	e->align_reg_zero = align_reg == 0;
	e->addr_align = a ? a : 1;
	e->len_gran = g ? g : 1;
	e->addr_bits = b && b <= 64 ? b : 64;
}

static bool holds_config(struct vpio_pci_device *dev, unsigned bar)
{
	uint32_t irq, cfg;

	if (dev->bar[bar].len < VPIO_XDMA_CONFIG_BAR_MIN)
		return false;
	irq = vpio_pci_bar_read32(dev, bar, IRQ_ID_OFF);
	cfg = vpio_pci_bar_read32(dev, bar, CONFIG_ID_OFF);
	return (irq & VPIO_XDMA_ID_BLOCK_MASK) == VPIO_XDMA_ID_BLOCK(VPIO_XDMA_TGT_IRQ) &&
	       (cfg & VPIO_XDMA_ID_BLOCK_MASK) == VPIO_XDMA_ID_BLOCK(VPIO_XDMA_TGT_CONFIG);
}

/* User and bypass BARs by the config BAR's position among the present
 * ones; true when every present BAR got a role. */
static bool assign_roles(struct xdma_layout *l, const int *present)
{
	int n = l->n_present, pos = l->config_pos, named = 1;

	l->user_bar = l->bypass_bar = -1;
	if (n == 2) {
		if (pos == 0)
			l->bypass_bar = present[1];
		else
			l->user_bar = present[0];
		named++;
	} else if (n >= 3 && n <= 4 && (pos == 1 || pos == 2)) {
		l->user_bar = present[0];
		named++;
		if (pos != n - 1) {
			l->bypass_bar = present[n - 1];
			named++;
		}
	}
	return named == n;
}

static void probe_engines(struct vpio_pci_device *dev, struct xdma_layout *l)
{
	unsigned bar = (unsigned)l->config_bar;

	for (uint32_t d = 0; d < 2; d++) {
		struct vpio_xdma_engine_info *e = d ? l->c2h : l->h2c;
		uint32_t *n = d ? &l->n_c2h : &l->n_h2c;

		for (uint32_t ch = 0; ch < VPIO_XDMA_MAX_CHANNELS; ch++) {
			uint32_t off = VPIO_XDMA_BLOCK(d, ch), id = vpio_pci_bar_read32(dev, bar, off), sg;

			if ((id & VPIO_XDMA_ID_BLOCK_MASK) != VPIO_XDMA_ID_BLOCK(d) || VPIO_XDMA_ID_CHANNEL(id) != ch)
				break;
			xdma_engine_fill(&e[ch], id, vpio_pci_bar_read32(dev, bar, off + VPIO_XDMA_CH_ALIGNMENTS));
			sg = vpio_pci_bar_read32(dev, bar, off + VPIO_XDMA_SGDMA_OFFSET);
			if ((sg & VPIO_XDMA_ID_BLOCK_MASK) != VPIO_XDMA_ID_BLOCK(d + 4))
				VPIO_WARN(XDMA_MOD, "%s: %s channel %u has identifier 0x%08x but its SGDMA block 0x%08x (expected 0x%04x....); using it anyway",
					  dev->name, d ? "C2H" : "H2C", ch, id, sg, VPIO_XDMA_ID_BLOCK(d + 4) >> 16);
			(*n)++;
		}
	}
}

int xdma_discover(struct vpio_pci_device *dev, struct xdma_layout *l, bool *roles_known)
{
	int present[VPIO_PCI_BAR_MAX];

	memset(l, 0, sizeof(*l));
	l->config_bar = l->user_bar = l->bypass_bar = l->config_pos = -1;
	for (unsigned b = 0; b < VPIO_PCI_BAR_MAX; b++) {
		if (dev->bar[b].len == 0 || dev->bar[b].addr == NULL)
			continue; /* absent, or the upper half of a 64-bit BAR */
		if (l->config_bar < 0 && holds_config(dev, b)) {
			l->config_bar = (int)b;
			l->config_pos = l->n_present;
		}
		present[l->n_present++] = (int)b;
	}
	if (l->config_bar < 0) {
		VPIO_ERR(XDMA_MOD, "%s: no BAR holds the XDMA config block (a BAR of at least 32 KiB with identifiers 0x1fc2.... at 0x2000 and 0x1fc3.... at 0x3000; %d BARs mapped): is this an XDMA design, bound to vfio-pci?",
			 dev->name, l->n_present);
		return -ENODEV;
	}
	*roles_known = assign_roles(l, present);
	probe_engines(dev, l);
	return 0;
}
