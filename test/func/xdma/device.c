/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Cards and channels: what attach finds (BAR layouts, channels, engine
 * facts), the user and bypass BARs, channel open/close rules, and the
 * engine set up for polling.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "func_xdma.h"

static void test_info_bars(void)
{
	struct vpio_xdma_info i;
	struct vpio_xdma_dev *d = fx_attach(FX_BARS);
	struct vpio_xdma_chan *h;
	struct vpio_pci_device *pci;
	struct fx_buf a;
	uint32_t v = 0;

	CU_ASSERT_FATAL(d != NULL);
	CU_ASSERT_EQUAL(vpio_xdma_get_info(d, &i), 0);
	CU_ASSERT_STRING_EQUAL(i.name, "emu:xdma4");
	CU_ASSERT_EQUAL(i.vendor_id, 0x10ee);
	CU_ASSERT(i.emulated);
	/* 64-bit BARs: user, config, bypass on 0, 2, 4 */
	CU_ASSERT_EQUAL(i.user_bar, 0);
	CU_ASSERT_EQUAL(i.config_bar, 2);
	CU_ASSERT_EQUAL(i.bypass_bar, 4);
	CU_ASSERT_EQUAL(i.config_bar_len, 0x10000);
	CU_ASSERT_EQUAL(i.bypass_bar_len, 1u << 20);
	CU_ASSERT_EQUAL(i.n_h2c, 1);
	CU_ASSERT_EQUAL(i.n_c2h, 1);
	CU_ASSERT(i.h2c[0].present && !i.h2c[0].stream && !i.h2c[1].present);
	CU_ASSERT_EQUAL(i.h2c[0].version, 6);
	CU_ASSERT_EQUAL(i.h2c[0].addr_align, 1);
	CU_ASSERT_EQUAL(i.h2c[0].len_gran, 1);
	CU_ASSERT_EQUAL(i.h2c[0].addr_bits, 64);
	CU_ASSERT_EQUAL(i.card_mem_size, 1u << 20);
	CU_ASSERT_EQUAL(i.max_payload, 256);
	CU_ASSERT_EQUAL(i.max_read_request, 512);
	CU_ASSERT_EQUAL(i.data_width, 256);
	/* user BAR: registers, bounds */
	CU_ASSERT_EQUAL(vpio_xdma_user_write32(d, 0x40, 0x12345678), 0);
	CU_ASSERT_EQUAL(vpio_xdma_user_read32(d, 0x40, &v), 0);
	CU_ASSERT_EQUAL(v, 0x12345678);
	CU_ASSERT_EQUAL(vpio_xdma_user_read32(d, 0xfffc, &v), 0);
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_xdma_user_read32(d, 0x10000, &v), -ERANGE);
	CU_ASSERT_EQUAL(vpio_xdma_user_write32(d, 0x42, 1), -EINVAL);
	CU_ASSERT_EQUAL(vpio_xdma_user_read32(d, UINT64_MAX - 3, &v), -ERANGE);
	CU_ASSERT_EQUAL(vpio_xdma_user_read32(d, 0, NULL), -EINVAL);
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 4);
	vpio_test_log_release();
	/* the bypass BAR shows card memory */
	h = fx_open(d, VPIO_XDMA_H2C, 0, NULL);
	CU_ASSERT_FATAL(h != NULL && fx_buf_alloc(&a, 4096, 0));
	fx_fill(a.p, 4096, 77);
	CU_ASSERT_EQUAL(vpio_xdma_h2c_sync(h, 0x8000, a.p, 4096), 0);
	pci = vpio_xdma_get_pci_device(d);
	memcpy(&v, a.p + 8, 4);
	CU_ASSERT_EQUAL(vpio_pci_bar_read32(pci, 4, 0x8008), v);
	fx_buf_done(&a);
	vpio_xdma_chan_close(h);
	CU_ASSERT_EQUAL(fx_host_errors(d), 0);
	CU_ASSERT_EQUAL(vpio_xdma_detach(d), 0);
}

struct layout {
	const char *name;
	int user, config, bypass;
};

/* The layouts the IP produces, and one it does not (roles from opts). */
static void test_layouts(void)
{
	static const struct layout ls[] = {
		{ "emu:xdma11?mem=64K&bars=cfg", -1, 0, -1 },
		{ "emu:xdma12?mem=64K&bars=cfg,bypass", -1, 0, 1 },
		{ "emu:xdma13?mem=64K&bars=user,cfg", 0, 1, -1 },
		{ "emu:xdma14?mem=64K&bars=user,cfg,bypass", 0, 1, 2 },
		/* not a layout of the IP: the first is taken for the user BAR */
		{ "emu:xdma15?mem=64K&bars=bypass,user,cfg&bar64=1", 0, 4, -1 },
	};
	struct vpio_xdma_info i;
	struct vpio_xdma_opts o;
	struct vpio_xdma_dev *d;
	enum vpio_log_level level = vpio_log_get_level();

	vpio_log_set_level(VPIO_LOG_NOTICE);
	for (size_t k = 0; k < sizeof(ls) / sizeof(ls[0]); k++) {
		vpio_test_log_capture();
		d = fx_attach(ls[k].name);
		CU_ASSERT_FATAL(d != NULL);
		CU_ASSERT_EQUAL(vpio_xdma_get_info(d, &i), 0);
		CU_ASSERT_EQUAL(i.user_bar, ls[k].user);
		CU_ASSERT_EQUAL(i.config_bar, ls[k].config);
		CU_ASSERT_EQUAL(i.bypass_bar, ls[k].bypass);
		/* the odd layout is said, once */
		CU_ASSERT_EQUAL(vpio_test_log_has("a layout the IP does not produce"), k == 4);
		vpio_test_log_release();
		vpio_xdma_detach(d);
	}
	vpio_log_set_level(level);
	/* its roles given */
	vpio_xdma_opts_init(&o);
	o.user_bar = 2;
	o.bypass_bar = 0;
	CU_ASSERT_EQUAL(vpio_xdma_attach("emu:xdma15", &o, &d), 0);
	CU_ASSERT_EQUAL(vpio_xdma_get_info(d, &i), 0);
	CU_ASSERT_EQUAL(i.user_bar, 2);
	CU_ASSERT_EQUAL(i.bypass_bar, 0);
	vpio_xdma_detach(d);
	/* a BAR that is not there, or the config BAR */
	vpio_test_log_capture();
	o.user_bar = 1;
	CU_ASSERT_EQUAL(vpio_xdma_attach("emu:xdma15", &o, &d), -EINVAL);
	o.user_bar = 4;
	CU_ASSERT_EQUAL(vpio_xdma_attach("emu:xdma15", &o, &d), -EINVAL);
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 2);
	vpio_test_log_release();
	for (unsigned n = 11; n <= 15; n++) {
		char name[16];

		snprintf(name, sizeof(name), "emu:xdma%u", n);
		CU_ASSERT_EQUAL(vpio_emu_destroy(name), 0);
	}
}

/* A card with only some channels; not an XDMA card. */
static void test_channels(void)
{
	struct vpio_xdma_info i;
	struct vpio_xdma_chan_opts o;
	struct vpio_xdma_dev *d = fx_attach("emu:xdma16?h2c=3&c2h=1&mem=64K&align=64&gran=4&addrbits=48&stream=1");
	struct vpio_xdma_chan *ch = NULL, *ch2 = NULL;

	CU_ASSERT_FATAL(d != NULL);
	CU_ASSERT_EQUAL(vpio_xdma_get_info(d, &i), 0);
	CU_ASSERT_EQUAL(i.n_h2c, 3);
	CU_ASSERT_EQUAL(i.n_c2h, 1);
	CU_ASSERT(i.c2h[0].stream);
	CU_ASSERT_EQUAL(i.c2h[0].addr_align, 64);
	CU_ASSERT_EQUAL(i.c2h[0].len_gran, 4);
	CU_ASSERT_EQUAL(i.c2h[0].addr_bits, 48);
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_xdma_chan_open(d, VPIO_XDMA_C2H, 1, NULL, &ch), -ENOENT);
	CU_ASSERT_EQUAL(vpio_xdma_chan_open(d, VPIO_XDMA_H2C, 3, NULL, &ch), -ENOENT);
	CU_ASSERT_EQUAL(vpio_xdma_chan_open(d, (enum vpio_xdma_dir)2, 0, NULL, &ch), -EINVAL);
	CU_ASSERT_EQUAL(vpio_xdma_chan_open(NULL, VPIO_XDMA_H2C, 0, NULL, &ch), -EINVAL);
	vpio_xdma_chan_opts_init(&o);
	o.ring_size = 100;
	CU_ASSERT_EQUAL(vpio_xdma_chan_open(d, VPIO_XDMA_H2C, 0, &o, &ch), -EINVAL);
	vpio_xdma_chan_opts_init(&o);
	o.max_transfers = 3;
	CU_ASSERT_EQUAL(vpio_xdma_chan_open(d, VPIO_XDMA_H2C, 0, &o, &ch), -EINVAL);
	vpio_xdma_chan_opts_init(&o);
	o.max_desc_len = 1000;
	CU_ASSERT_EQUAL(vpio_xdma_chan_open(d, VPIO_XDMA_H2C, 0, &o, &ch), -EINVAL);
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 7);
	CU_ASSERT(vpio_test_log_has("no C2H channel 1: the card has 1"));
	vpio_test_log_release();
	/* one handle per channel; no detach while one is open */
	CU_ASSERT_EQUAL(vpio_xdma_chan_open(d, VPIO_XDMA_H2C, 2, NULL, &ch), 0);
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_xdma_chan_open(d, VPIO_XDMA_H2C, 2, NULL, &ch2), -EBUSY);
	CU_ASSERT_EQUAL(vpio_xdma_detach(d), -EBUSY);
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 2);
	vpio_test_log_release();
	CU_ASSERT_EQUAL(vpio_xdma_chan_close(ch), 0);
	CU_ASSERT_EQUAL(vpio_xdma_detach(d), 0);
	CU_ASSERT_EQUAL(vpio_emu_destroy("emu:xdma16"), 0);
	/* an NVMe controller has no XDMA config block */
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_xdma_attach("emu:nvme9?size=1M", NULL, &d), -ENODEV);
	CU_ASSERT(vpio_test_log_has("no BAR holds the XDMA config block"));
	vpio_test_log_release();
	vpio_emu_destroy("emu:nvme9");
	/* DMA memory beyond the engine's address bits */
	d = fx_attach("emu:xdma17?mem=64K&addrbits=32");
	CU_ASSERT_FATAL(d != NULL);
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_xdma_chan_open(d, VPIO_XDMA_H2C, 0, NULL, &ch), -EFAULT);
	CU_ASSERT(vpio_test_log_has("beyond the engine's 32 address bits"));
	vpio_test_log_release();
	vpio_xdma_detach(d);
	vpio_emu_destroy("emu:xdma17");
}

/* Open sets the engine up for polling, also one left running. */
static void test_engine_setup(void)
{
	struct vpio_xdma_dev *d = fx_attach(FX_MM);
	struct vpio_pci_device *pci;
	struct vpio_xdma_info i;
	struct vpio_xdma_chan *c;
	struct fx_buf a;
	uint32_t base = VPIO_XDMA_BLOCK(1, 0), ctrl;
	unsigned cfg;

	CU_ASSERT_FATAL(d != NULL && fx_buf_alloc(&a, 4096, 0));
	vpio_xdma_get_info(d, &i);
	pci = vpio_xdma_get_pci_device(d);
	cfg = (unsigned)i.config_bar;
	/* someone left the engine running (stuck) with interrupts unmasked */
	vpio_pci_bar_write32(pci, cfg, base + VPIO_XDMA_CH_IRQ_MASK, 0x00f83e1e);
	vpio_pci_bar_write32(pci, cfg, 0x2000 + VPIO_XDMA_IRQ_CHAN_EN, 0xff);
	vpio_emu_xdma_inject(fx_emu(d), true, 0, VPIO_EMU_XDMA_FAULT_STUCK, 0);
	vpio_pci_bar_write32(pci, cfg, base + VPIO_XDMA_CH_CONTROL, VPIO_XDMA_CTRL_RUN | VPIO_XDMA_CTRL_NON_INC);
	{
		uint64_t end = fx_now_ms() + 2000;

		while (!(vpio_pci_bar_read32(pci, cfg, base + VPIO_XDMA_CH_STATUS) & VPIO_XDMA_ST_BUSY) && fx_now_ms() < end)
			;
	}
	CU_ASSERT(vpio_pci_bar_read32(pci, cfg, base + VPIO_XDMA_CH_STATUS) & VPIO_XDMA_ST_BUSY);
	c = fx_open(d, VPIO_XDMA_C2H, 0, NULL);
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_EQUAL(vpio_pci_bar_read32(pci, cfg, base + VPIO_XDMA_CH_CONTROL), 0);
	CU_ASSERT_EQUAL(vpio_pci_bar_read32(pci, cfg, base + VPIO_XDMA_CH_STATUS), 0);
	CU_ASSERT_EQUAL(vpio_pci_bar_read32(pci, cfg, base + VPIO_XDMA_CH_IRQ_MASK), 0);
	CU_ASSERT_NOT_EQUAL(vpio_pci_bar_read32(pci, cfg, base + VPIO_XDMA_CH_WB_HI) |
				    vpio_pci_bar_read32(pci, cfg, base + VPIO_XDMA_CH_WB_LO), 0);
	CU_ASSERT_EQUAL(vpio_xdma_c2h_sync(c, 0, a.p, 4096, NULL), 0);
	/* after a batch: Run cleared, poll-mode writeback and error logging on */
	ctrl = vpio_pci_bar_read32(pci, cfg, base + VPIO_XDMA_CH_CONTROL);
	CU_ASSERT_EQUAL(ctrl & VPIO_XDMA_CTRL_RUN, 0);
	CU_ASSERT(ctrl & VPIO_XDMA_CTRL_POLLMODE_WB);
	CU_ASSERT_EQUAL(ctrl & VPIO_XDMA_CTRL_IE_DESC_ERROR, VPIO_XDMA_CTRL_IE_DESC_ERROR);
	CU_ASSERT_EQUAL(ctrl & VPIO_XDMA_CTRL_NON_INC, 0);
	/* no interrupt was raised although the IRQ block enables it: open
	 * masked the engine's interrupts */
	{
		struct vpio_emu_xdma_stats st;

		vpio_emu_xdma_get_stats(fx_emu(d), &st);
		CU_ASSERT_EQUAL(st.interrupts, 0);
		/* the check sees them: unmask and enable, transfer again */
		vpio_pci_bar_write32(pci, cfg, base + VPIO_XDMA_CH_IRQ_MASK, VPIO_XDMA_ST_DESC_COMPLETED);
		vpio_pci_bar_write32(pci, cfg, 0x2000 + VPIO_XDMA_IRQ_CHAN_EN, 0xff);
		CU_ASSERT_EQUAL(vpio_xdma_c2h_sync(c, 0, a.p, 4096, NULL), 0);
		vpio_emu_xdma_get_stats(fx_emu(d), &st);
		CU_ASSERT_EQUAL(st.interrupts, 1);
	}
	fx_buf_done(&a);
	vpio_xdma_chan_close(c);
	vpio_xdma_detach(d);
}

CU_TestInfo fx_device_tests[] = { FX_T(test_info_bars), FX_T(test_layouts), FX_T(test_channels),
				  FX_T(test_engine_setup), CU_TEST_INFO_NULL };
