/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the emulator's internals, without a controller thread:
 * device names, options, sparse/file storage, and the PRP/SGL walker
 * against memory registered with vpio (the emulated IOMMU).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vpio/env.h>

#include "emu/emu_internal.h"
#include "common/vpio_test.h"

/* ------------------------------------------------------------ names */

static void test_parse_name(void)
{
	char kind[EMU_KIND_LEN];
	const char *opts;
	unsigned idx;

	CU_ASSERT_EQUAL(emu_parse_name("emu:nvme", kind, sizeof(kind), &idx, &opts), 0);
	CU_ASSERT_STRING_EQUAL(kind, "nvme");
	CU_ASSERT_EQUAL(idx, 0);
	CU_ASSERT_PTR_NULL(opts);
	CU_ASSERT_EQUAL(emu_parse_name("emu:nvme12?ns=2&lba=4096", kind, sizeof(kind), &idx, &opts), 0);
	CU_ASSERT_EQUAL(idx, 12);
	CU_ASSERT_STRING_EQUAL(opts, "ns=2&lba=4096");
	CU_ASSERT_EQUAL(emu_parse_name("emu:xdma3", kind, sizeof(kind), &idx, &opts), 0);
	CU_ASSERT_STRING_EQUAL(kind, "xdma");
	CU_ASSERT_EQUAL(emu_parse_name("nvme0", kind, sizeof(kind), &idx, &opts), -EINVAL);
	CU_ASSERT_EQUAL(emu_parse_name("emu:", kind, sizeof(kind), &idx, &opts), -EINVAL);
	CU_ASSERT_EQUAL(emu_parse_name("emu:nvme-1", kind, sizeof(kind), &idx, &opts), -EINVAL);
	CU_ASSERT_EQUAL(emu_parse_name("emu:nvme99999", kind, sizeof(kind), &idx, &opts), -EINVAL);
	CU_ASSERT_EQUAL(emu_parse_name("emu:NVME0", kind, sizeof(kind), &idx, &opts), -EINVAL);
	CU_ASSERT_EQUAL(emu_parse_name(NULL, kind, sizeof(kind), &idx, &opts), -EINVAL);
}

static void test_open_unknown_kind(void)
{
	struct vpio_pci_device *dev = (void *)1;

	CU_ASSERT_EQUAL(vpio_emu_device_open("emu:tape0", &dev), -ENODEV);
	CU_ASSERT_PTR_NULL(dev);
	CU_ASSERT_EQUAL(vpio_emu_device_open("emu:nvme0?bogus=1", &dev), -EINVAL);
	CU_ASSERT_EQUAL(vpio_emu_destroy("emu:nvme77"), -ENOENT);
	CU_ASSERT_EQUAL(vpio_emu_destroy("emu:tape0"), -ENODEV);
}

/* ---------------------------------------------------------- options */

static void test_opts_default(void)
{
	struct emu_nvme_opts o;

	CU_ASSERT_EQUAL(emu_nvme_opts_parse("t", NULL, &o), 0);
	CU_ASSERT_EQUAL(o.ns, 1);
	CU_ASSERT_EQUAL(o.lba, 512);
	CU_ASSERT_EQUAL(o.size, 1ull << 30);
	CU_ASSERT_FALSE(o.null_io);
	CU_ASSERT_EQUAL(o.backing[0], '\0');
	CU_ASSERT_EQUAL(o.mdts, 5);
	CU_ASSERT_EQUAL(o.queues, 8);
	CU_ASSERT_EQUAL(o.qdepth, 1024);
	CU_ASSERT_TRUE(o.sgl);
	CU_ASSERT_TRUE(o.dbbuf);
	CU_ASSERT_EQUAL(o.dstrd, 0);
	CU_ASSERT_EQUAL(o.rdy_delay_us, 500);
	CU_ASSERT_EQUAL(o.set, 0);
	CU_ASSERT_EQUAL(emu_nvme_opts_parse("t", "", &o), 0);
	CU_ASSERT_EQUAL(emu_nvme_bar_size(&o), 16384);
}

static void test_opts_all(void)
{
	struct emu_nvme_opts o;

	CU_ASSERT_EQUAL(emu_nvme_opts_parse("t", "ns=4&lba=4096&size=64M&null=1&mdts=0&queues=2&qdepth=64&sgl=0&dbbuf=0&dstrd=2"
					    "&rdydelay=250000&mpsmin=2", &o), 0);
	CU_ASSERT_EQUAL(o.ns, 4);
	CU_ASSERT_EQUAL(o.lba, 4096);
	CU_ASSERT_EQUAL(o.size, 64ull << 20);
	CU_ASSERT_TRUE(o.null_io);
	CU_ASSERT_EQUAL(o.mdts, 0);
	CU_ASSERT_EQUAL(o.queues, 2);
	CU_ASSERT_EQUAL(o.qdepth, 64);
	CU_ASSERT_FALSE(o.sgl);
	CU_ASSERT_FALSE(o.dbbuf);
	CU_ASSERT_EQUAL(o.dstrd, 2);
	CU_ASSERT_EQUAL(o.rdy_delay_us, 250000);
	CU_ASSERT_EQUAL(o.mpsmin, 2);
	CU_ASSERT_EQUAL(VPIO_NVME_CAP_MPSMIN(emu_nvme_cap(&o)), 2);
	CU_ASSERT_EQUAL(o.set, 0x1fffu & ~(uint32_t)EMU_OPT_BACKING);
	CU_ASSERT_EQUAL(emu_nvme_opts_parse("t", "backing=/tmp/x.img&size=1G", &o), 0);
	CU_ASSERT_STRING_EQUAL(o.backing, "/tmp/x.img");
	CU_ASSERT_EQUAL(emu_nvme_opts_parse("t", "size=4096", &o), 0);
	CU_ASSERT_EQUAL(o.size, 4096);
	CU_ASSERT_EQUAL(emu_nvme_opts_parse("t", "size=2T", &o), 0);
	CU_ASSERT_EQUAL(o.size, 2ull << 40);
	/* lib/util's size grammar: B and the KiB spellings too */
	CU_ASSERT_EQUAL(emu_nvme_opts_parse("t", "size=512B", &o), 0);
	CU_ASSERT_EQUAL(o.size, 512);
	CU_ASSERT_EQUAL(emu_nvme_opts_parse("t", "size=64KiB&lba=4096", &o), 0);
	CU_ASSERT_EQUAL(o.size, 64ull << 10);
	CU_ASSERT_EQUAL(emu_nvme_opts_parse("t", "size=1g", &o), 0);
	CU_ASSERT_EQUAL(o.size, 1ull << 30);
	/* many queues with a big stride need a bigger BAR */
	CU_ASSERT_EQUAL(emu_nvme_opts_parse("t", "queues=1024&dstrd=3", &o), 0);
	CU_ASSERT_EQUAL(emu_nvme_bar_size(&o), VPIO_ALIGN_UP(0x1000 + 1025ull * 2 * 32, 4096));
}

static void test_opts_bad(void)
{
	static const char *const bad[] = {
		"lba=1024", "lba=", "ns=0", "ns=257", "ns=x", "size=0", "size=1000", "size=12Q", "null=2",
		"mdts=17", "queues=0", "queues=1025", "qdepth=1", "qdepth=65537", "sgl=yes", "dbbuf=-1",
		"dstrd=16", "backing=", "nope=1", "ns", "ns=1&ns=2", "null=1&backing=/tmp/x",
		"lba=4096&size=6144", "queues=1024&dstrd=15", "ns=1&&lba=512", "rdydelay=4000001", "rdydelay=-1",
		"mpsmin=5", "mpsmin=-1", "mpsmin=", "mpsmin=01", "mpsmin=1K",
		/* one grammar: decimal, no octal ("01000000" would be 256 KiB), no hex, no SI units */
		"size=01000000", "size=0x1000", "size=1MB", "size=1.5G", "size= 1M", "size=99999999999999999999",
		"size=16777216T", "ns=02", "qdepth=064", "lba=0512", "queues=+4",
	};
	struct emu_nvme_opts o;

	for (size_t i = 0; i < VPIO_ARRAY_SIZE(bad); i++) {
		int rc = emu_nvme_opts_parse("t", bad[i], &o);

		if (rc != -EINVAL)
			fprintf(stderr, "option string '%s' gave %d\n", bad[i], rc);
		CU_ASSERT_EQUAL(rc, -EINVAL);
	}
}

static void test_opts_conflict(void)
{
	struct emu_nvme_opts have, want;

	CU_ASSERT_EQUAL(emu_nvme_opts_parse("t", "ns=2&size=16M", &have), 0);
	CU_ASSERT_EQUAL(emu_nvme_opts_parse("t", NULL, &want), 0);
	CU_ASSERT_PTR_NULL(emu_nvme_opts_conflict(&have, &want));
	CU_ASSERT_EQUAL(emu_nvme_opts_parse("t", "ns=2", &want), 0);
	CU_ASSERT_PTR_NULL(emu_nvme_opts_conflict(&have, &want));
	CU_ASSERT_EQUAL(emu_nvme_opts_parse("t", "lba=512", &want), 0); /* the default, same */
	CU_ASSERT_PTR_NULL(emu_nvme_opts_conflict(&have, &want));
	CU_ASSERT_EQUAL(emu_nvme_opts_parse("t", "ns=2&size=32M", &want), 0);
	CU_ASSERT_STRING_EQUAL(emu_nvme_opts_conflict(&have, &want), "size");
}

/* ---------------------------------------------------------- storage */

static void test_store_mem_sparse(void)
{
	struct emu_store st;
	uint8_t buf[8192], zero[8192] = { 0 };

	CU_ASSERT_EQUAL_FATAL(emu_store_open(&st, EMU_STORE_MEM, 8ull << 30, NULL), 0);
	CU_ASSERT(emu_store_resident(&st) < (1u << 20));
	memset(buf, 0xa5, sizeof(buf));
	CU_ASSERT_EQUAL(emu_store_write(&st, buf, 4096, (4ull << 30) + 512), 0);
	CU_ASSERT(emu_store_resident(&st) <= 3 * 4096);
	memset(buf, 0, sizeof(buf));
	CU_ASSERT_EQUAL(emu_store_read(&st, buf, 8192, 4ull << 30), 0);
	CU_ASSERT_EQUAL(buf[511], 0);
	CU_ASSERT_EQUAL(buf[512], 0xa5);
	CU_ASSERT_EQUAL(buf[4096 + 511], 0xa5);
	CU_ASSERT_EQUAL(buf[4096 + 512], 0);
	CU_ASSERT_EQUAL(emu_store_compare(&st, buf, 8192, 4ull << 30), 0);
	buf[100] ^= 1;
	CU_ASSERT_EQUAL(emu_store_compare(&st, buf, 8192, 4ull << 30), 1);
	/* zeroing frees whole pages and clears partial ones */
	CU_ASSERT_EQUAL(emu_store_zero(&st, 4ull << 30, 8192), 0);
	CU_ASSERT_EQUAL(emu_store_read(&st, buf, 8192, 4ull << 30), 0);
	CU_ASSERT_EQUAL(memcmp(buf, zero, sizeof(buf)), 0);
	memset(buf, 0x5a, sizeof(buf));
	CU_ASSERT_EQUAL(emu_store_write(&st, buf, 8192, 0), 0);
	CU_ASSERT_EQUAL(emu_store_zero(&st, 100, 200), 0);
	CU_ASSERT_EQUAL(emu_store_read(&st, buf, 8192, 0), 0);
	CU_ASSERT_EQUAL(buf[99], 0x5a);
	CU_ASSERT_EQUAL(buf[100], 0);
	CU_ASSERT_EQUAL(buf[299], 0);
	CU_ASSERT_EQUAL(buf[300], 0x5a);
	CU_ASSERT_EQUAL(emu_store_flush(&st), 0);
	emu_store_close(&st);
}

/* Reading pages never written touches no memory (no page faults: they
 * read as zeroes from the page map); a partial write makes its pages
 * real, a whole-page zeroing forgets them again. */
static void test_store_mem_reads_touch_nothing(void)
{
	struct emu_store st;
	uint8_t buf[3 * 4096];
	uint64_t before;

	CU_ASSERT_EQUAL_FATAL(emu_store_open(&st, EMU_STORE_MEM, 1ull << 30, NULL), 0);
	before = emu_store_resident(&st);
	for (uint64_t off = 0; off < (1ull << 30); off += 1ull << 20) {
		memset(buf, 0xee, sizeof(buf));
		CU_ASSERT_EQUAL(emu_store_read(&st, buf, sizeof(buf), off + 512), 0);
		CU_ASSERT_EQUAL(buf[0], 0);
		CU_ASSERT_EQUAL(buf[sizeof(buf) - 1], 0);
	}
	CU_ASSERT_EQUAL(emu_store_resident(&st), before);
	memset(buf, 0x11, sizeof(buf));
	CU_ASSERT_EQUAL(emu_store_write(&st, buf, 1024, 4096 + 3584), 0); /* straddles pages 1 and 2 */
	CU_ASSERT_EQUAL(emu_store_read(&st, buf, sizeof(buf), 4096), 0);
	CU_ASSERT_EQUAL(buf[3583], 0);
	CU_ASSERT_EQUAL(buf[3584], 0x11);
	CU_ASSERT_EQUAL(buf[4607], 0x11);
	CU_ASSERT_EQUAL(buf[4608], 0);
	CU_ASSERT_EQUAL(emu_store_zero(&st, 4096, 2 * 4096), 0);
	memset(buf, 0xee, sizeof(buf));
	CU_ASSERT_EQUAL(emu_store_read(&st, buf, sizeof(buf), 4096), 0);
	CU_ASSERT_EQUAL(buf[3584], 0);
	CU_ASSERT_EQUAL(buf[4607], 0);
	emu_store_close(&st);
}

static void test_store_file(void)
{
	char path[] = "/tmp/vpio-emu-ut-XXXXXX";
	int fd = mkstemp(path);
	struct emu_store st;
	uint8_t buf[4096], out[4096];

	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	CU_ASSERT_EQUAL_FATAL(emu_store_open(&st, EMU_STORE_FILE, 1 << 20, path), 0);
	memset(buf, 0x3c, sizeof(buf));
	CU_ASSERT_EQUAL(emu_store_write(&st, buf, sizeof(buf), 8192), 0);
	CU_ASSERT_EQUAL(emu_store_flush(&st), 0);
	emu_store_close(&st);
	/* reopened: the data is there, and the file kept its size */
	CU_ASSERT_EQUAL_FATAL(emu_store_open(&st, EMU_STORE_FILE, 1 << 20, path), 0);
	CU_ASSERT_EQUAL(emu_store_read(&st, out, sizeof(out), 8192), 0);
	CU_ASSERT_EQUAL(memcmp(buf, out, sizeof(buf)), 0);
	CU_ASSERT_EQUAL(emu_store_compare(&st, buf, sizeof(buf), 8192), 0);
	CU_ASSERT_EQUAL(emu_store_compare(&st, buf, sizeof(buf), 0), 1);
	CU_ASSERT_EQUAL(emu_store_zero(&st, 8192 + 512, 1024), 0);
	CU_ASSERT_EQUAL(emu_store_read(&st, out, sizeof(out), 8192), 0);
	CU_ASSERT_EQUAL(out[511], 0x3c);
	CU_ASSERT_EQUAL(out[512], 0);
	CU_ASSERT_EQUAL(out[1535], 0);
	CU_ASSERT_EQUAL(out[1536], 0x3c);
	emu_store_close(&st);
	CU_ASSERT_EQUAL(emu_store_open(&st, EMU_STORE_FILE, 1 << 20, "/nonexistent-dir/x.img"), -ENOENT);
	unlink(path);
}

/* -------------------------------------------------------------- DMA */

#define ARENA (1u << 20)
static uint8_t *g_arena;	/* registered */
static uint8_t *g_unreg;	/* not registered */
static uint64_t g_faults;
static unsigned g_fault_logs;
static struct emu_dma g_dma = { .page_bits = 12, .sgl = true, .iommu_faults = &g_faults, .fault_logs = &g_fault_logs,
				.name = "ut" };

static int dma_init(void)
{
	g_arena = aligned_alloc(4096, ARENA);
	g_unreg = aligned_alloc(4096, 4 * 4096);
	if (g_arena == NULL || g_unreg == NULL)
		return -1;
	g_fault_logs = 2;
	return vpio_mem_register(g_arena, ARENA);
}

static int dma_fini(void)
{
	vpio_mem_unregister(g_arena, ARENA);
	free(g_arena);
	free(g_unreg);
	return 0;
}

static uint64_t iova(const void *p)
{
	uint64_t a = vpio_vtophys(p, NULL);

	CU_ASSERT_NOT_EQUAL(a, VPIO_VTOPHYS_ERROR);
	return a;
}

/* Records the pieces a walk produced. */
struct pieces {
	unsigned n;
	uint8_t *host[64];
	uint64_t len[64];
	uint64_t off[64];
};

static uint16_t record(void *arg, void *host, uint64_t len, uint64_t off)
{
	struct pieces *p = arg;

	if (p->n < 64) {
		p->host[p->n] = host;
		p->len[p->n] = len;
		p->off[p->n] = off;
	}
	p->n++;
	return EMU_OK;
}

static struct vpio_nvme_cmd prp_cmd(uint64_t prp1, uint64_t prp2)
{
	struct vpio_nvme_cmd c;

	memset(&c, 0, sizeof(c));
	c.dptr.prp.prp1 = prp1;
	c.dptr.prp.prp2 = prp2;
	return c;
}

static void test_prp_simple(void)
{
	struct pieces p = { 0 };
	struct vpio_nvme_cmd c = prp_cmd(iova(g_arena + 0x100), 0);

	/* within one page: PRP2 unused */
	CU_ASSERT_EQUAL(emu_dma_walk(&g_dma, &c, 512, true, record, &p), EMU_OK);
	CU_ASSERT_EQUAL(p.n, 1);
	CU_ASSERT_PTR_EQUAL(p.host[0], g_arena + 0x100);
	CU_ASSERT_EQUAL(p.len[0], 512);
	/* two pages, PRP2 a data pointer; adjacent pages merge into one piece */
	memset(&p, 0, sizeof(p));
	c = prp_cmd(iova(g_arena + 0x100), iova(g_arena + 0x1000));
	CU_ASSERT_EQUAL(emu_dma_walk(&g_dma, &c, 4096, true, record, &p), EMU_OK);
	CU_ASSERT_EQUAL(p.n, 1);
	CU_ASSERT_EQUAL(p.len[0], 4096);
	/* not adjacent: two pieces */
	memset(&p, 0, sizeof(p));
	c = prp_cmd(iova(g_arena + 0x100), iova(g_arena + 0x8000));
	CU_ASSERT_EQUAL(emu_dma_walk(&g_dma, &c, 4096, true, record, &p), EMU_OK);
	CU_ASSERT_EQUAL(p.n, 2);
	CU_ASSERT_EQUAL(p.len[0], 4096 - 0x100);
	CU_ASSERT_PTR_EQUAL(p.host[1], g_arena + 0x8000);
	CU_ASSERT_EQUAL(p.len[1], 0x100);
	CU_ASSERT_EQUAL(p.off[1], 4096 - 0x100);
	/* PRP2 with an offset, and PRP1 not dword aligned */
	c = prp_cmd(iova(g_arena + 0x100), iova(g_arena + 0x8010));
	CU_ASSERT_EQUAL(emu_dma_walk(&g_dma, &c, 4096, true, record, &p), EMU_SC(GENERIC, INVALID_PRP_OFFSET));
	c = prp_cmd(iova(g_arena + 0x101), 0);
	CU_ASSERT_EQUAL(emu_dma_walk(&g_dma, &c, 16, true, record, &p), EMU_SC(GENERIC, INVALID_PRP_OFFSET));
}

static void test_prp_list(void)
{
	uint64_t *list = (uint64_t *)(g_arena + 0x10000);
	struct pieces p = { 0 };
	struct vpio_nvme_cmd c;

	/* 5 data pages scattered: PRP1 at offset, list of 4 pages (reversed) */
	for (int i = 0; i < 4; i++)
		list[i] = iova(g_arena + 0x20000 + (uint64_t)(3 - i) * 0x2000);
	c = prp_cmd(iova(g_arena + 0x800), iova(list));
	CU_ASSERT_EQUAL(emu_dma_walk(&g_dma, &c, 0x800 + 3 * 4096 + 0x200, false, record, &p), EMU_OK);
	CU_ASSERT_EQUAL(p.n, 5);
	CU_ASSERT_EQUAL(p.len[0], 0x800);
	CU_ASSERT_PTR_EQUAL(p.host[1], g_arena + 0x20000 + 3 * 0x2000);
	CU_ASSERT_EQUAL(p.len[3], 4096);
	CU_ASSERT_EQUAL(p.len[4], 0x200);
	CU_ASSERT_EQUAL(p.off[4], 0x800 + 3 * 4096);
	/* a misaligned entry */
	list[1] |= 0x200;
	CU_ASSERT_EQUAL(emu_dma_walk(&g_dma, &c, 0x800 + 3 * 4096, false, record, &p),
			EMU_SC(GENERIC, INVALID_PRP_OFFSET));
	list[1] &= ~0xfffull;
	/* chained lists: a list that starts 16 bytes before the end of its page
	 * holds one entry and the pointer to the next list page */
	{
		uint64_t *l1 = (uint64_t *)(g_arena + 0x30000 + 4096 - 16), *l2 = (uint64_t *)(g_arena + 0x31000);

		l1[0] = iova(g_arena + 0x40000);
		l1[1] = iova(l2);
		for (int i = 0; i < 3; i++)
			l2[i] = iova(g_arena + 0x41000 + (uint64_t)i * 0x1000);
		c = prp_cmd(iova(g_arena + 0x3f000), iova(l1));
		memset(&p, 0, sizeof(p));
		CU_ASSERT_EQUAL(emu_dma_walk(&g_dma, &c, 5 * 4096, true, record, &p), EMU_OK);
		/* 0x3f000 + 0x40000..0x43fff: all adjacent, one piece */
		CU_ASSERT_EQUAL(p.n, 1);
		CU_ASSERT_EQUAL(p.len[0], 5 * 4096);
		l1[1] |= 8; /* chain pointer must be page aligned */
		CU_ASSERT_EQUAL(emu_dma_walk(&g_dma, &c, 5 * 4096, true, record, &p),
				EMU_SC(GENERIC, INVALID_PRP_OFFSET));
	}
}

static void test_prp_iommu_fault(void)
{
	struct pieces p = { 0 };
	uint64_t *list = (uint64_t *)(g_arena + 0x10000);
	uint64_t before = g_faults;
	struct vpio_nvme_cmd c = prp_cmd((uint64_t)(uintptr_t)g_unreg, 0);

	CU_ASSERT_EQUAL(emu_dma_walk(&g_dma, &c, 512, true, record, &p), EMU_SC(GENERIC, DATA_TRANSFER_ERROR));
	CU_ASSERT_EQUAL(g_faults, before + 1);
	/* the list itself unregistered */
	c = prp_cmd(iova(g_arena), (uint64_t)(uintptr_t)g_unreg);
	CU_ASSERT_EQUAL(emu_dma_walk(&g_dma, &c, 3 * 4096, true, record, &p), EMU_SC(GENERIC, DATA_TRANSFER_ERROR));
	/* a list entry unregistered */
	list[0] = iova(g_arena + 0x1000);
	list[1] = (uint64_t)(uintptr_t)g_unreg;
	c = prp_cmd(iova(g_arena), iova(list));
	CU_ASSERT_EQUAL(emu_dma_walk(&g_dma, &c, 3 * 4096, true, record, &p), EMU_SC(GENERIC, DATA_TRANSFER_ERROR));
	CU_ASSERT_EQUAL(g_faults, before + 3);
	CU_ASSERT_EQUAL(g_fault_logs, 0); /* only the first two were logged */
}

static struct vpio_nvme_sgl_desc sgl(uint64_t addr, uint32_t len, unsigned type)
{
	struct vpio_nvme_sgl_desc d;

	memset(&d, 0, sizeof(d));
	d.address = addr;
	d.length = len;
	d.type = (uint8_t)(type << 4);
	return d;
}

static struct vpio_nvme_cmd sgl_cmd(struct vpio_nvme_sgl_desc d)
{
	struct vpio_nvme_cmd c;

	memset(&c, 0, sizeof(c));
	c.flags = VPIO_NVME_PSDT_SGL_MPTR_CONTIG;
	c.dptr.sgl1 = d;
	return c;
}

static void test_sgl(void)
{
	struct vpio_nvme_sgl_desc *seg1 = (struct vpio_nvme_sgl_desc *)(g_arena + 0x50000);
	struct vpio_nvme_sgl_desc *seg2 = (struct vpio_nvme_sgl_desc *)(g_arena + 0x51000);
	struct pieces p = { 0 };
	struct vpio_nvme_cmd c;
	struct emu_dma nosgl = g_dma;

	/* one data block of any alignment */
	c = sgl_cmd(sgl(iova(g_arena + 3), 10000, VPIO_NVME_SGL_TYPE_DATA_BLOCK));
	CU_ASSERT_EQUAL(emu_dma_walk(&g_dma, &c, 10000, true, record, &p), EMU_OK);
	CU_ASSERT_EQUAL(p.n, 1);
	CU_ASSERT_EQUAL(p.len[0], 10000);
	CU_ASSERT_EQUAL(emu_dma_walk(&g_dma, &c, 9000, true, record, &p), EMU_SC(GENERIC, DATA_SGL_LENGTH_INVALID));
	CU_ASSERT_EQUAL(emu_dma_walk(&g_dma, &c, 11000, true, record, &p), EMU_SC(GENERIC, DATA_SGL_LENGTH_INVALID));
	nosgl.sgl = false;
	CU_ASSERT_EQUAL(emu_dma_walk(&nosgl, &c, 10000, true, record, &p), EMU_SC(GENERIC, INVALID_FIELD));

	/* segment -> (data, bit bucket, last segment) -> (data, data) */
	seg1[0] = sgl(iova(g_arena + 0x60000), 1000, VPIO_NVME_SGL_TYPE_DATA_BLOCK);
	seg1[1] = sgl(0, 24, VPIO_NVME_SGL_TYPE_BIT_BUCKET);
	seg1[2] = sgl(iova(seg2), 2 * 16, VPIO_NVME_SGL_TYPE_LAST_SEGMENT);
	seg2[0] = sgl(iova(g_arena + 0x70000), 0, VPIO_NVME_SGL_TYPE_DATA_BLOCK);
	seg2[1] = sgl(iova(g_arena + 0x70000), 3000, VPIO_NVME_SGL_TYPE_DATA_BLOCK);
	c = sgl_cmd(sgl(iova(seg1), 3 * 16, VPIO_NVME_SGL_TYPE_SEGMENT));
	memset(&p, 0, sizeof(p));
	CU_ASSERT_EQUAL(emu_dma_walk(&g_dma, &c, 4024, true, record, &p), EMU_OK);
	CU_ASSERT_EQUAL(p.n, 2);
	CU_ASSERT_EQUAL(p.len[0], 1000);
	CU_ASSERT_EQUAL(p.off[1], 1024);
	CU_ASSERT_PTR_EQUAL(p.host[1], g_arena + 0x70000);
	/* a bit bucket cannot take data from the host */
	CU_ASSERT_EQUAL(emu_dma_walk(&g_dma, &c, 4024, false, record, &p), EMU_SC(GENERIC, SGL_DESCRIPTOR_TYPE_INVALID));
	/* same list as a Last Segment: a segment descriptor in it is invalid */
	c = sgl_cmd(sgl(iova(seg1), 3 * 16, VPIO_NVME_SGL_TYPE_LAST_SEGMENT));
	CU_ASSERT_EQUAL(emu_dma_walk(&g_dma, &c, 4024, true, record, &p), EMU_SC(GENERIC, INVALID_SGL_SEG_DESCRIPTOR));
	/* a segment descriptor that is not the last of its segment */
	seg1[1] = sgl(iova(seg2), 32, VPIO_NVME_SGL_TYPE_LAST_SEGMENT);
	c = sgl_cmd(sgl(iova(seg1), 3 * 16, VPIO_NVME_SGL_TYPE_SEGMENT));
	CU_ASSERT_EQUAL(emu_dma_walk(&g_dma, &c, 4024, true, record, &p), EMU_SC(GENERIC, INVALID_SGL_SEG_DESCRIPTOR));
	/* a Segment that does not end with a segment descriptor */
	seg1[1] = sgl(0, 24, VPIO_NVME_SGL_TYPE_BIT_BUCKET);
	seg1[2] = sgl(iova(g_arena + 0x70000), 3000, VPIO_NVME_SGL_TYPE_DATA_BLOCK);
	CU_ASSERT_EQUAL(emu_dma_walk(&g_dma, &c, 4024, true, record, &p), EMU_SC(GENERIC, INVALID_SGL_SEG_DESCRIPTOR));
	/* bad segment length, bad type, subtype */
	c = sgl_cmd(sgl(iova(seg1), 20, VPIO_NVME_SGL_TYPE_SEGMENT));
	CU_ASSERT_EQUAL(emu_dma_walk(&g_dma, &c, 4024, true, record, &p), EMU_SC(GENERIC, INVALID_SGL_SEG_DESCRIPTOR));
	c = sgl_cmd(sgl(iova(seg1), 16, 0x4));
	CU_ASSERT_EQUAL(emu_dma_walk(&g_dma, &c, 16, true, record, &p), EMU_SC(GENERIC, SGL_DESCRIPTOR_TYPE_INVALID));
	c = sgl_cmd(sgl(iova(seg1), 16, VPIO_NVME_SGL_TYPE_DATA_BLOCK));
	c.dptr.sgl1.type |= 1;
	CU_ASSERT_EQUAL(emu_dma_walk(&g_dma, &c, 16, true, record, &p), EMU_SC(GENERIC, SGL_DESCRIPTOR_TYPE_INVALID));
	/* a segment that points to itself forever ends */
	seg1[0] = sgl(iova(seg1), 16, VPIO_NVME_SGL_TYPE_SEGMENT);
	c = sgl_cmd(sgl(iova(seg1), 16, VPIO_NVME_SGL_TYPE_SEGMENT));
	CU_ASSERT_EQUAL(emu_dma_walk(&g_dma, &c, 16, true, record, &p), EMU_SC(GENERIC, INVALID_NUM_SGL_DESCIRPTORS));
	/* unregistered segment and data */
	c = sgl_cmd(sgl((uint64_t)(uintptr_t)g_unreg, 16, VPIO_NVME_SGL_TYPE_LAST_SEGMENT));
	CU_ASSERT_EQUAL(emu_dma_walk(&g_dma, &c, 16, true, record, &p), EMU_SC(GENERIC, DATA_TRANSFER_ERROR));
	c = sgl_cmd(sgl((uint64_t)(uintptr_t)g_unreg, 16, VPIO_NVME_SGL_TYPE_DATA_BLOCK));
	CU_ASSERT_EQUAL(emu_dma_walk(&g_dma, &c, 16, true, record, &p), EMU_SC(GENERIC, DATA_TRANSFER_ERROR));
	/* PSDT 11b is reserved */
	c.flags = VPIO_NVME_PSDT_MASK;
	CU_ASSERT_EQUAL(emu_dma_walk(&g_dma, &c, 16, true, record, &p), EMU_SC(GENERIC, INVALID_FIELD));
}

/* A data block across two separate registrations that are adjacent in
 * virtual memory is still one IOVA range here (IOVA = VA); a range that
 * is registered only in part fails. */
static void test_sgl_partial_registration(void)
{
	uint8_t *buf = aligned_alloc(4096, 3 * 4096);
	struct pieces p = { 0 };
	struct vpio_nvme_cmd c;

	CU_ASSERT_FATAL(buf != NULL);
	CU_ASSERT_EQUAL_FATAL(vpio_mem_register(buf, 4096), 0);
	CU_ASSERT_EQUAL_FATAL(vpio_mem_register(buf + 4096, 4096), 0);
	c = sgl_cmd(sgl(iova(buf + 100), 8000, VPIO_NVME_SGL_TYPE_DATA_BLOCK));
	CU_ASSERT_EQUAL(emu_dma_walk(&g_dma, &c, 8000, false, record, &p), EMU_OK);
	CU_ASSERT_EQUAL(p.n, 1);
	c = sgl_cmd(sgl(iova(buf + 100), 10000, VPIO_NVME_SGL_TYPE_DATA_BLOCK));
	CU_ASSERT_EQUAL(emu_dma_walk(&g_dma, &c, 10000, false, record, &p), EMU_SC(GENERIC, DATA_TRANSFER_ERROR));
	vpio_mem_unregister(buf, 2 * 4096);
	free(buf);
}

static void test_dma_copy(void)
{
	uint8_t src[6000], dst[6000];
	uint64_t *list = (uint64_t *)(g_arena + 0x10000);
	struct vpio_nvme_cmd c;

	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i * 7);
	list[0] = iova(g_arena + 0x90000);
	c = prp_cmd(iova(g_arena + 0x80f00), iova(g_arena + 0x90000));
	CU_ASSERT_EQUAL(emu_dma_to_host(&g_dma, &c, src, 4096), EMU_OK);
	CU_ASSERT_EQUAL(memcmp(g_arena + 0x80f00, src, 256), 0);
	CU_ASSERT_EQUAL(memcmp(g_arena + 0x90000, src + 256, 4096 - 256), 0);
	CU_ASSERT_EQUAL(emu_dma_from_host(&g_dma, &c, dst, 4096), EMU_OK);
	CU_ASSERT_EQUAL(memcmp(dst, src, 4096), 0);
	/* bigger pages (CC.MPS = 1, 8 KiB): PRP1's page holds more */
	{
		struct emu_dma big = g_dma;
		struct pieces p = { 0 };

		uint8_t *b = g_arena + 0xa0000 + ((iova(g_arena + 0xa0000) & 0x1fff) ? 0x1000 : 0);

		big.page_bits = 13;
		c = prp_cmd(iova(b), 0);
		CU_ASSERT_EQUAL(emu_dma_walk(&big, &c, 8192, true, record, &p), EMU_OK);
		CU_ASSERT_EQUAL(p.n, 1);
		c = prp_cmd(iova(b + 0x1000), iova(b + 0x11000));
		CU_ASSERT_EQUAL(emu_dma_walk(&big, &c, 8192, true, record, &p), EMU_SC(GENERIC, INVALID_PRP_OFFSET));
	}
}

static int register_tests(void)
{
	{
		VPIO_SUITE("emu_names_opts", NULL, NULL);
		VPIO_TEST(test_parse_name);
		VPIO_TEST(test_open_unknown_kind);
		VPIO_TEST(test_opts_default);
		VPIO_TEST(test_opts_all);
		VPIO_TEST(test_opts_bad);
		VPIO_TEST(test_opts_conflict);
	}
	{
		VPIO_SUITE("emu_store", NULL, NULL);
		VPIO_TEST(test_store_mem_sparse);
	VPIO_TEST(test_store_mem_reads_touch_nothing);
		VPIO_TEST(test_store_file);
	}
	{
		VPIO_SUITE("emu_dma", dma_init, dma_fini);
		VPIO_TEST(test_prp_simple);
		VPIO_TEST(test_prp_list);
		VPIO_TEST(test_prp_iommu_fault);
		VPIO_TEST(test_sgl);
		VPIO_TEST(test_sgl_partial_registration);
		VPIO_TEST(test_dma_copy);
	}
	return 0;
}

int main(void)
{
	return vpio_test_run_quiet(register_tests);
}
