/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Discovery on fake BAR images (a device handle with no accessors: plain
 * loads from memory): the config BAR by its two block identifiers, the
 * user and bypass BARs by position (the AXI-Lite BAR before the config
 * BAR, 64-bit BARs with empty upper halves, an odd layout), engines
 * counted from 0 up to the first missing one, stream bit, versions, the
 * alignments register (0 means 1/1/64).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xdma_ut.h"

static int no_cfg(struct vpio_pci_device *d, void *b, size_t l, uint32_t o)
{
	(void)d, (void)b, (void)l, (void)o;
	return -ENOTSUP;
}

static const struct vpio_pci_device_ops g_ops = { .cfg_read = no_cfg };

struct fake {
	struct vpio_pci_device dev;
	uint8_t *img[VPIO_PCI_BAR_MAX];
	struct xdma_layout l;
	bool known;
};

enum { NONE, CFG, CFG_SMALL, USER, BYPASS, UPPER };

static void put(uint8_t *img, uint32_t off, uint32_t v)
{
	memcpy(img + off, &v, 4);
}

/* A config image with the IRQ and config identifiers. */
static void cfg_ids(uint8_t *img)
{
	put(img, 0x2000, 0x1fc20006);
	put(img, 0x3000, 0x1fc30006);
}

static void engine(uint8_t *img, bool c2h, unsigned ch, bool stream, uint32_t align)
{
	uint32_t base = VPIO_XDMA_BLOCK(c2h, ch);

	put(img, base, VPIO_XDMA_ID_BLOCK(c2h) | (stream ? VPIO_XDMA_ID_STREAM : 0) | ch << 8 | 5);
	put(img, base + VPIO_XDMA_CH_ALIGNMENTS, align);
	put(img, base + VPIO_XDMA_SGDMA_OFFSET, VPIO_XDMA_ID_BLOCK(c2h + 4) | ch << 8 | 5);
}

/* BARs of the given kinds; config images get their identifiers. */
static void fake_init(struct fake *f, const int *kinds)
{
	memset(f, 0, sizeof(*f));
	strcpy(f->dev.name, "fake");
	f->dev.ops = &g_ops;
	for (unsigned b = 0; b < VPIO_PCI_BAR_MAX; b++) {
		size_t len = kinds[b] == CFG ? 0x10000 : kinds[b] == CFG_SMALL ? 0x4000 : kinds[b] == NONE || kinds[b] == UPPER ? 0 : 0x10000;

		if (len == 0)
			continue;
		f->img[b] = calloc(1, len);
		f->dev.bar[b].addr = f->img[b];
		f->dev.bar[b].len = len;
		if (kinds[b] == CFG || kinds[b] == CFG_SMALL)
			cfg_ids(f->img[b]);
	}
}

static void fake_free(struct fake *f)
{
	for (unsigned b = 0; b < VPIO_PCI_BAR_MAX; b++)
		free(f->img[b]);
}

static int run(struct fake *f)
{
	return xdma_discover(&f->dev, &f->l, &f->known);
}

struct layout_case {
	int kinds[VPIO_PCI_BAR_MAX];
	int config, user, bypass;
	bool known;
};

static void test_layouts(void)
{
	static const struct layout_case cases[] = {
		{ { CFG }, 0, -1, -1, true },
		{ { CFG, BYPASS }, 0, -1, 1, true },
		{ { USER, CFG }, 1, 0, -1, true },			      /* AXI-Lite before the config BAR */
		{ { USER, CFG, BYPASS }, 1, 0, 2, true },
		{ { USER, UPPER, CFG, UPPER, BYPASS, UPPER }, 2, 0, 4, true }, /* 64-bit */
		{ { USER, UPPER, CFG, UPPER }, 2, 0, -1, true },
		{ { NONE, NONE, CFG }, 2, -1, -1, true },		      /* config alone, not at 0 */
		{ { USER, USER, CFG, BYPASS }, 2, 0, 3, false },	      /* four BARs: BAR1 unexplained */
		{ { CFG, USER, BYPASS }, 0, -1, -1, false },		      /* not a layout of the IP */
		{ { CFG_SMALL, CFG }, 1, 0, -1, true },			      /* a 16 KiB BAR with the ids is not it */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake f;

		fake_init(&f, cases[i].kinds);
		f.known = !cases[i].known;
		CU_ASSERT_EQUAL(run(&f), 0);
		CU_ASSERT_EQUAL(f.l.config_bar, cases[i].config);
		CU_ASSERT_EQUAL(f.l.user_bar, cases[i].user);
		CU_ASSERT_EQUAL(f.l.bypass_bar, cases[i].bypass);
		CU_ASSERT_EQUAL(f.known, cases[i].known);
		if (f.l.config_bar != cases[i].config || f.l.user_bar != cases[i].user || f.l.bypass_bar != cases[i].bypass)
			printf("\n    layout case %zu: config %d user %d bypass %d", i, f.l.config_bar, f.l.user_bar,
			       f.l.bypass_bar);
		fake_free(&f);
	}
}

static void test_no_config(void)
{
	struct fake f;

	fake_init(&f, (const int[VPIO_PCI_BAR_MAX]){ USER, BYPASS });
	put(f.img[0], 0x2000, 0x1fc20006); /* the IRQ id alone is not enough */
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(run(&f), -ENODEV);
	CU_ASSERT(vpio_test_log_has("no BAR holds the XDMA config block"));
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 1);
	vpio_test_log_release();
	fake_free(&f);
}

/* A card with only some channels: counted from 0 up to the first one
 * whose identifier does not name its target and channel. */
static void test_engines(void)
{
	const int kinds[VPIO_PCI_BAR_MAX] = { USER, CFG };
	struct xdma_layout *l;
	struct fake f;

	fake_init(&f, kinds);
	l = &f.l;
	engine(f.img[1], false, 0, false, 0x00010140);
	engine(f.img[1], false, 1, false, 0);
	engine(f.img[1], false, 3, false, 0); /* after a gap: not counted */
	engine(f.img[1], true, 0, true, 0x00400820);
	put(f.img[1], VPIO_XDMA_BLOCK(1, 1), 0x1fc10006);  /* C2H 1 claims channel 0 */
	CU_ASSERT_EQUAL(run(&f), 0);
	CU_ASSERT_EQUAL(l->n_h2c, 2);
	CU_ASSERT_EQUAL(l->n_c2h, 1);
	CU_ASSERT(l->h2c[0].present && l->h2c[1].present && !l->h2c[2].present && !l->h2c[3].present);
	CU_ASSERT(!l->h2c[0].stream && l->c2h[0].stream);
	CU_ASSERT_EQUAL(l->h2c[0].version, 5);
	CU_ASSERT_EQUAL(l->h2c[0].addr_align, 1);
	CU_ASSERT_EQUAL(l->h2c[0].len_gran, 1);
	CU_ASSERT_EQUAL(l->h2c[0].addr_bits, 64);
	CU_ASSERT(!l->h2c[0].align_reg_zero);
	/* alignments register 0: what the vendor's driver assumes */
	CU_ASSERT(l->h2c[1].align_reg_zero);
	CU_ASSERT_EQUAL(l->h2c[1].addr_align, 1);
	CU_ASSERT_EQUAL(l->h2c[1].len_gran, 1);
	CU_ASSERT_EQUAL(l->h2c[1].addr_bits, 64);
	CU_ASSERT_EQUAL(l->c2h[0].addr_align, 64);
	CU_ASSERT_EQUAL(l->c2h[0].len_gran, 8);
	CU_ASSERT_EQUAL(l->c2h[0].addr_bits, 32);
	fake_free(&f);
	/* no channel at all; an H2C id in the C2H block is not a C2H channel */
	fake_init(&f, kinds);
	put(f.img[1], VPIO_XDMA_BLOCK(1, 0), VPIO_XDMA_ID_BLOCK(0));
	CU_ASSERT_EQUAL(run(&f), 0);
	CU_ASSERT_EQUAL(l->n_h2c + l->n_c2h, 0);
	fake_free(&f);
}

/* A mismatched SGDMA identifier is said but does not hide the channel. */
static void test_sgdma_mismatch(void)
{
	enum vpio_log_level level = vpio_log_get_level();
	struct fake f;

	fake_init(&f, (const int[VPIO_PCI_BAR_MAX]){ CFG });
	engine(f.img[0], false, 0, false, 0);
	put(f.img[0], VPIO_XDMA_SGDMA_OFFSET, 0);
	vpio_log_set_level(VPIO_LOG_WARN);
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(run(&f), 0);
	CU_ASSERT(vpio_test_log_has("but its SGDMA block 0x00000000"));
	vpio_test_log_release();
	vpio_log_set_level(level);
	CU_ASSERT_EQUAL(f.l.n_h2c, 1);
	fake_free(&f);
}

CU_TestInfo ut_discover_tests[] = { UT_T(test_layouts), UT_T(test_no_config), UT_T(test_engines),
				    UT_T(test_sgdma_mismatch), CU_TEST_INFO_NULL };
