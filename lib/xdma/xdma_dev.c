/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Attaching an XDMA card: open the device, find its BARs and engines
 * (xdma_discover.c), read the config block, turn every interrupt off in
 * the IRQ block (vpio polls), learn the card memory range.  Also the
 * card's info and the user (AXI-Lite) BAR's register access.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xdma_internal.h"

#define IRQ_BLOCK (VPIO_XDMA_TGT_IRQ << VPIO_XDMA_TARGET_SHIFT)
#define CONFIG_BLOCK (VPIO_XDMA_TGT_CONFIG << VPIO_XDMA_TARGET_SHIFT)

VPIO_ABI_SIZE(struct vpio_xdma_opts, 32);
VPIO_ABI_FIELD(struct vpio_xdma_opts, opts_size, 0);
VPIO_ABI_FIELD(struct vpio_xdma_opts, card_mem_base, 8);
VPIO_ABI_FIELD(struct vpio_xdma_opts, card_mem_size, 16);
VPIO_ABI_FIELD(struct vpio_xdma_opts, user_bar, 24);
VPIO_ABI_FIELD(struct vpio_xdma_opts, bypass_bar, 28);
VPIO_ABI_SIZE(struct vpio_xdma_info, 352);
VPIO_ABI_FIELD(struct vpio_xdma_info, info_size, 0);
VPIO_ABI_FIELD(struct vpio_xdma_info, name, 8);
VPIO_ABI_FIELD(struct vpio_xdma_info, vendor_id, 72);
VPIO_ABI_FIELD(struct vpio_xdma_info, device_id, 74);
VPIO_ABI_FIELD(struct vpio_xdma_info, emulated, 76);
VPIO_ABI_FIELD(struct vpio_xdma_info, config_bar, 80);
VPIO_ABI_FIELD(struct vpio_xdma_info, user_bar, 84);
VPIO_ABI_FIELD(struct vpio_xdma_info, bypass_bar, 88);
VPIO_ABI_FIELD(struct vpio_xdma_info, config_bar_len, 96);
VPIO_ABI_FIELD(struct vpio_xdma_info, user_bar_len, 104);
VPIO_ABI_FIELD(struct vpio_xdma_info, bypass_bar_len, 112);
VPIO_ABI_FIELD(struct vpio_xdma_info, n_h2c, 120);
VPIO_ABI_FIELD(struct vpio_xdma_info, n_c2h, 124);
VPIO_ABI_FIELD(struct vpio_xdma_info, h2c, 128);
VPIO_ABI_FIELD(struct vpio_xdma_info, c2h, 224);
VPIO_ABI_FIELD(struct vpio_xdma_info, version, 320);
VPIO_ABI_FIELD(struct vpio_xdma_info, max_payload, 324);
VPIO_ABI_FIELD(struct vpio_xdma_info, max_read_request, 328);
VPIO_ABI_FIELD(struct vpio_xdma_info, data_width, 332);
VPIO_ABI_FIELD(struct vpio_xdma_info, card_mem_base, 336);
VPIO_ABI_FIELD(struct vpio_xdma_info, card_mem_size, 344);
VPIO_ABI_SIZE(struct vpio_xdma_engine_info, 24);
VPIO_ABI_FIELD(struct vpio_xdma_engine_info, present, 0);
VPIO_ABI_FIELD(struct vpio_xdma_engine_info, stream, 1);
VPIO_ABI_FIELD(struct vpio_xdma_engine_info, version, 2);
VPIO_ABI_FIELD(struct vpio_xdma_engine_info, id, 4);
VPIO_ABI_FIELD(struct vpio_xdma_engine_info, addr_align, 8);
VPIO_ABI_FIELD(struct vpio_xdma_engine_info, len_gran, 12);
VPIO_ABI_FIELD(struct vpio_xdma_engine_info, addr_bits, 16);
VPIO_ABI_FIELD(struct vpio_xdma_engine_info, align_reg_zero, 20);

static const struct vpio_xdma_opts g_opts_default = {
	.opts_size = sizeof(struct vpio_xdma_opts),
	.user_bar = -1,
	.bypass_bar = -1,
};

int vpio_xdma_opts_init_sized(struct vpio_xdma_opts *opts, size_t opts_size)
{
	return vpio_opts_init_sized(XDMA_MOD, "vpio_xdma_opts_init", opts, opts_size, &g_opts_default,
				    sizeof(g_opts_default));
}

static int check_role_bar(const char *name, const struct vpio_xdma_dev *d, int bar, const char *what)
{
	if (bar == -1 || bar == -2)
		return 0;
	if (bar < 0 || bar >= VPIO_PCI_BAR_MAX || d->pci->bar[bar].addr == NULL || bar == d->l.config_bar) {
		VPIO_ERR(XDMA_MOD, "%s: opts.%s = %d: not a mapped BAR other than the config BAR %d (-1 = by position, -2 = none)",
			 name, what, bar, d->l.config_bar);
		return -EINVAL;
	}
	return 0;
}

/* Options over the layout's guesses. */
static int apply_roles(struct vpio_xdma_dev *d, const struct vpio_xdma_opts *o, bool roles_known)
{
	int rc = check_role_bar(d->name, d, o->user_bar, "user_bar");

	if (rc == 0)
		rc = check_role_bar(d->name, d, o->bypass_bar, "bypass_bar");
	if (rc != 0)
		return rc;
	if (o->user_bar != -1)
		d->l.user_bar = o->user_bar == -2 ? -1 : o->user_bar;
	if (o->bypass_bar != -1)
		d->l.bypass_bar = o->bypass_bar == -2 ? -1 : o->bypass_bar;
	if (!roles_known && o->user_bar == -1 && o->bypass_bar == -1)
		VPIO_NOTICE(XDMA_MOD, "%s: the config BAR is BAR %d, at position %d of %d mapped BARs, a layout the IP does not produce: user BAR %d, bypass BAR %d assumed; set opts.user_bar/bypass_bar to be sure",
			    d->name, d->l.config_bar, d->l.config_pos, d->l.n_present, d->l.user_bar, d->l.bypass_bar);
	return 0;
}

static void read_config_block(struct vpio_xdma_dev *d, const struct vpio_xdma_opts *o)
{
	d->version = (uint8_t)VPIO_XDMA_ID_VERSION(xdma_rd(d, CONFIG_BLOCK));
	d->max_payload = 128u << (xdma_rd(d, CONFIG_BLOCK + VPIO_XDMA_CFG_MPS) & 7);
	d->max_read_request = 128u << (xdma_rd(d, CONFIG_BLOCK + VPIO_XDMA_CFG_MRRS) & 7);
	d->data_width = 64u << (xdma_rd(d, CONFIG_BLOCK + VPIO_XDMA_CFG_DATA_WIDTH) & 7);
	d->card_base = o->card_mem_base;
	d->card_size = o->card_mem_size;
	/* not given: what the device says, if it can (an emulated card) */
	if (d->card_size == 0 && d->pci->ops->card_mem_size != NULL)
		d->card_size = d->pci->ops->card_mem_size(d->pci);
}

int vpio_xdma_attach(const char *name, const struct vpio_xdma_opts *opts, struct vpio_xdma_dev **devp)
{
	struct vpio_xdma_opts o;
	struct vpio_xdma_dev *d;
	bool roles_known = true;
	int rc;

	if (name == NULL || devp == NULL) {
		VPIO_ERR(XDMA_MOD, "vpio_xdma_attach: %s is NULL", name == NULL ? "the name" : "the place for the handle (dev)");
		return -EINVAL;
	}
	*devp = NULL;
	o = g_opts_default;
	if (vpio_opts_import(XDMA_MOD, name, &o, sizeof(o), opts, "fill the options with vpio_xdma_opts_init(&opts)") != 0)
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (d == NULL) {
		VPIO_ERR(XDMA_MOD, "%s: out of memory for the card", name);
		return -ENOMEM;
	}
	snprintf(d->name, sizeof(d->name), "%.*s", (int)strcspn(name, "?"), name);
	rc = vpio_pci_device_open(name, &d->pci);
	if (rc == 0)
		rc = xdma_discover(d->pci, &d->l, &roles_known);
	if (rc == 0)
		rc = apply_roles(d, &o, roles_known);
	if (rc != 0) {
		vpio_pci_device_close(d->pci);
		free(d);
		return rc;
	}
	if (!d->pci->emulated && d->pci->info.vendor_id != VPIO_XDMA_VENDOR_ID)
		VPIO_NOTICE(XDMA_MOD, "%s: vendor 0x%04x, not 0x%04x; its config block identifies it as XDMA", d->name,
			    d->pci->info.vendor_id, VPIO_XDMA_VENDOR_ID);
	read_config_block(d, &o);
	/* vpio polls: every channel and user interrupt off */
	xdma_wr(d, IRQ_BLOCK + VPIO_XDMA_IRQ_CHAN_EN_W1C, UINT32_MAX);
	xdma_wr(d, IRQ_BLOCK + VPIO_XDMA_IRQ_USER_EN_W1C, UINT32_MAX);
	pthread_mutex_init(&d->lock, NULL);
	*devp = d;
	return 0;
}

int vpio_xdma_detach(struct vpio_xdma_dev *d)
{
	unsigned open = 0;

	if (d == NULL)
		return 0;
	pthread_mutex_lock(&d->lock);
	for (unsigned i = 0; i < 2 * VPIO_XDMA_MAX_CHANNELS; i++)
		open += d->open_chans[i / VPIO_XDMA_MAX_CHANNELS][i % VPIO_XDMA_MAX_CHANNELS] != NULL;
	pthread_mutex_unlock(&d->lock);
	if (open > 0) {
		VPIO_ERR(XDMA_MOD, "%s: cannot detach: %u channel(s) still open; vpio_xdma_chan_close() them first", d->name, open);
		return -EBUSY;
	}
	vpio_pci_device_close(d->pci);
	pthread_mutex_destroy(&d->lock);
	free(d);
	return 0;
}

static uint64_t bar_len(const struct vpio_xdma_dev *d, int bar)
{
	return bar >= 0 ? d->pci->bar[bar].len : 0;
}

int vpio_xdma_get_info_sized(const struct vpio_xdma_dev *d, struct vpio_xdma_info *info, size_t info_size)
{
	struct vpio_xdma_info i = { 0 };

	if (d == NULL) {
		VPIO_ERR(XDMA_MOD, "vpio_xdma_get_info: the card is NULL");
		return -EINVAL;
	}
	snprintf(i.name, sizeof(i.name), "%s", d->name);
	i.vendor_id = d->pci->info.vendor_id;
	i.device_id = d->pci->info.device_id;
	i.emulated = d->pci->emulated;
	i.config_bar = d->l.config_bar;
	i.user_bar = d->l.user_bar;
	i.bypass_bar = d->l.bypass_bar;
	i.config_bar_len = bar_len(d, d->l.config_bar);
	i.user_bar_len = bar_len(d, d->l.user_bar);
	i.bypass_bar_len = bar_len(d, d->l.bypass_bar);
	i.n_h2c = d->l.n_h2c;
	i.n_c2h = d->l.n_c2h;
	memcpy(i.h2c, d->l.h2c, sizeof(i.h2c));
	memcpy(i.c2h, d->l.c2h, sizeof(i.c2h));
	i.version = d->version;
	i.max_payload = d->max_payload;
	i.max_read_request = d->max_read_request;
	i.data_width = d->data_width;
	i.card_mem_base = d->card_base;
	i.card_mem_size = d->card_size;
	return vpio_struct_export(XDMA_MOD, "vpio_xdma_get_info", info, info_size, &i, sizeof(i));
}

struct vpio_pci_device *vpio_xdma_get_pci_device(const struct vpio_xdma_dev *d)
{
	return d != NULL ? d->pci : NULL;
}

static int user_check(const struct vpio_xdma_dev *d, uint64_t off, const char *what)
{
	if (d == NULL) {
		VPIO_ERR(XDMA_MOD, "vpio_xdma_user_%s32: no card (NULL)", what);
		return -EINVAL;
	}
	if (d->l.user_bar < 0) {
		VPIO_ERR(XDMA_MOD, "%s: user BAR %s at 0x%llx: the card has no user (AXI-Lite) BAR", d->name, what,
			 (unsigned long long)off);
		return -ENODEV;
	}
	if (off % 4 != 0 || off > d->pci->bar[d->l.user_bar].len - 4) {
		VPIO_ERR(XDMA_MOD, "%s: user BAR %s at 0x%llx: %s (BAR %d is 0x%llx bytes, 32-bit registers at multiples of 4)",
			 d->name, what, (unsigned long long)off, off % 4 ? "offset not a multiple of 4" : "beyond the BAR",
			 d->l.user_bar, (unsigned long long)d->pci->bar[d->l.user_bar].len);
		return off % 4 ? -EINVAL : -ERANGE;
	}
	return 0;
}

int vpio_xdma_user_read32(struct vpio_xdma_dev *d, uint64_t off, uint32_t *val)
{
	int rc = user_check(d, off, "read");

	if (rc == 0 && val == NULL) {
		VPIO_ERR(XDMA_MOD, "%s: user BAR read at 0x%llx: no place for the value (val is NULL)", d->name, (unsigned long long)off);
		rc = -EINVAL;
	}
	if (rc == 0)
		*val = vpio_pci_bar_read32(d->pci, (unsigned)d->l.user_bar, off);
	return rc;
}

int vpio_xdma_user_write32(struct vpio_xdma_dev *d, uint64_t off, uint32_t val)
{
	int rc = user_check(d, off, "write");

	if (rc == 0)
		vpio_pci_bar_write32(d->pci, (unsigned)d->l.user_bar, off, val);
	return rc;
}
