/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of block target addresses and options (lib/blk/blk_addr.c,
 * blk_target.c): PCI addresses with and without a namespace, emu: names
 * with namespaces and emulator options, uring: paths and their options,
 * and every malformed address or option refused with one line naming it.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "blk/blk_internal.h"
#include "common/vpio_test.h"

static struct blk_addr g_a;

static int parse(const char *s)
{
	return blk_addr_parse(s, &g_a);
}

static void test_pci(void)
{
	CU_ASSERT_EQUAL(parse("0000:00:04.0"), 0);
	CU_ASSERT_EQUAL(g_a.kind, BLK_KIND_PCI);
	CU_ASSERT_EQUAL(g_a.nsid, 0);
	CU_ASSERT_STRING_EQUAL(g_a.ctrlr_key, "0000:00:04.0");
	CU_ASSERT_STRING_EQUAL(g_a.attach_name, "0000:00:04.0");
	CU_ASSERT_STRING_EQUAL(g_a.emu_opts, "");

	CU_ASSERT_EQUAL(parse("0000:00:04.0/ns2"), 0);
	CU_ASSERT_EQUAL(g_a.nsid, 2);
	CU_ASSERT_STRING_EQUAL(g_a.ctrlr_key, "0000:00:04.0");

	/* short form and upper case are made canonical */
	CU_ASSERT_EQUAL(parse("3B:00.1/ns4294967294"), 0);
	CU_ASSERT_STRING_EQUAL(g_a.ctrlr_key, "0000:3b:00.1");
	CU_ASSERT_EQUAL(g_a.nsid, 0xfffffffeu);
}

static void test_emu(void)
{
	CU_ASSERT_EQUAL(parse("emu:nvme"), 0);
	CU_ASSERT_EQUAL(g_a.kind, BLK_KIND_EMU);
	CU_ASSERT_STRING_EQUAL(g_a.ctrlr_key, "emu:nvme0");
	CU_ASSERT_STRING_EQUAL(g_a.attach_name, "emu:nvme0");
	CU_ASSERT_STRING_EQUAL(g_a.emu_opts, "");
	CU_ASSERT_EQUAL(g_a.nsid, 0);

	CU_ASSERT_EQUAL(parse("emu:nvme12/ns3?ns=4&size=64M"), 0);
	CU_ASSERT_STRING_EQUAL(g_a.ctrlr_key, "emu:nvme12");
	CU_ASSERT_STRING_EQUAL(g_a.attach_name, "emu:nvme12?ns=4&size=64M");
	CU_ASSERT_STRING_EQUAL(g_a.emu_opts, "ns=4&size=64M");
	CU_ASSERT_EQUAL(g_a.nsid, 3);

	/* options without a namespace; a '/' inside the options is theirs */
	CU_ASSERT_EQUAL(parse("emu:nvme1?backing=/tmp/x/ns2"), 0);
	CU_ASSERT_EQUAL(g_a.nsid, 0);
	CU_ASSERT_STRING_EQUAL(g_a.emu_opts, "backing=/tmp/x/ns2");
	CU_ASSERT_STRING_EQUAL(g_a.ctrlr_key, "emu:nvme1");
}

static void test_uring(void)
{
	CU_ASSERT_EQUAL(parse("uring:/dev/nvme0n1"), 0);
	CU_ASSERT_EQUAL(g_a.kind, BLK_KIND_URING);
	CU_ASSERT_STRING_EQUAL(g_a.path, "/dev/nvme0n1");
	CU_ASSERT_EQUAL(g_a.iopoll, -1);
	CU_ASSERT_EQUAL(g_a.sqpoll, -1);
	CU_ASSERT_EQUAL(g_a.bs, 0);

	CU_ASSERT_EQUAL(parse("uring:/dev/nvme0n1?iopoll=1&sqpoll=1"), 0);
	CU_ASSERT_STRING_EQUAL(g_a.path, "/dev/nvme0n1");
	CU_ASSERT_EQUAL(g_a.iopoll, 1);
	CU_ASSERT_EQUAL(g_a.sqpoll, 1);

	CU_ASSERT_EQUAL(parse("uring:data/f.img?sqpoll=0&bs=512"), 0);
	CU_ASSERT_STRING_EQUAL(g_a.path, "data/f.img");
	CU_ASSERT_EQUAL(g_a.sqpoll, 0);
	CU_ASSERT_EQUAL(g_a.iopoll, -1);
	CU_ASSERT_EQUAL(g_a.bs, 512);

	CU_ASSERT_EQUAL(parse("uring:/f?bs=4096"), 0);
	CU_ASSERT_EQUAL(g_a.bs, 4096);
}

/* Each bad address: -EINVAL and exactly one error line containing what. */
static void refused(const char *address, const char *what)
{
	vpio_test_log_capture();
	CU_ASSERT_EQUAL(parse(address), -EINVAL);
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 1);
	if (!vpio_test_log_has(what))
		fprintf(stderr, "\n  '%s': expected '%s' in: %s", address, what, vpio_test_log_buf.text);
	CU_ASSERT(vpio_test_log_has(what));
	vpio_test_log_release();
}

static void test_bad(void)
{
	refused("", "no address given");
	refused("nvme0", "is not valid");
	refused("0000:00:04", "is not valid");
	refused("0000:00:04.8", "is not valid");
	refused("0000:00:04.0/", "is not a namespace");
	refused("0000:00:04.0/ns0", "is not a namespace");
	refused("0000:00:04.0/ns", "is not a namespace");
	refused("0000:00:04.0/ns1x", "is not a namespace");
	refused("0000:00:04.0/ns4294967295", "is not a namespace");
	refused("0000:00:04.0/nvme1", "is not a namespace");
	refused("0000:00:04.0?iopoll=1", "takes no options");
	refused("emu:", "emu:KIND[N]");
	refused("emu:123", "emu:KIND[N]");
	refused("emu:nvme1x", "emu:KIND[N]");
	refused("emu:nvme10000", "emu:KIND[N]");
	refused("emu:nvme/ns0?ns=2", "is not a namespace");
	refused("uring:", "needs the path");
	refused("uring:?iopoll=1", "needs the path");
	refused("uring:/f?iopoll=2", "bad value");
	refused("uring:/f?iopoll", "bad value");
	refused("uring:/f?iopoll=1&iopoll=0", "given twice");
	refused("uring:/f?sqpoll=yes", "sqpoll=yes");
	refused("uring:/f?bs=1024", "bs=1024");
	refused("uring:/f?bs=512&bs=512", "given twice");
	refused("uring:/f?direct=0", "unknown option 'direct=0'");
	refused("uring:/f?", "unknown option ''");
	refused("uring:/f?iopoll=1&&sqpoll=1", "unknown option ''");
}

static void test_opts(void)
{
	struct vpio_blk_opts o, r;
	struct {
		size_t opts_size;
		uint32_t queue_depth;
	} old; /* a caller built against a smaller struct */

	memset(&o, 0xff, sizeof(o));
	vpio_blk_opts_init(&o);
	CU_ASSERT_EQUAL(o.opts_size, sizeof(o));
	CU_ASSERT_EQUAL(o.queue_depth, 128);
	CU_ASSERT_FALSE(o.iopoll);
	CU_ASSERT_FALSE(o.sqpoll);
	CU_ASSERT_EQUAL(o.sqpoll_idle_ms, 1000);

	memset(&old, 0xff, sizeof(old));
	vpio_blk_opts_init_sized((struct vpio_blk_opts *)&old, sizeof(old));
	CU_ASSERT_EQUAL(old.opts_size, sizeof(old));
	CU_ASSERT_EQUAL(old.queue_depth, 128);
	old.queue_depth = 7;
	/* fields past opts_size take their defaults */
	CU_ASSERT_EQUAL(blk_opts_resolve("t", (struct vpio_blk_opts *)&old, &r), 0);
	CU_ASSERT_EQUAL(r.queue_depth, 7);
	CU_ASSERT_FALSE(r.sqpoll);
	CU_ASSERT_EQUAL(r.sqpoll_idle_ms, 1000);

	CU_ASSERT_EQUAL(blk_opts_resolve("t", NULL, &r), 0);
	CU_ASSERT_EQUAL(r.queue_depth, 128);
	o.queue_depth = 0;
	o.sqpoll = true;
	CU_ASSERT_EQUAL(blk_opts_resolve("t", &o, &r), 0);
	CU_ASSERT_EQUAL(r.queue_depth, 128);
	CU_ASSERT_TRUE(r.sqpoll);
}

/* vpio_blk_open refuses before it touches anything. */
static void test_open_refuses(void)
{
	struct vpio_blk_target *t[2];
	struct vpio_blk_opts o;
	unsigned n = 99;

	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_blk_open("uring:/f?x=1", NULL, t, 2, &n), -EINVAL);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL(vpio_blk_open("emu:nvme", NULL, t, 0, &n), -EINVAL);
	CU_ASSERT_EQUAL(vpio_blk_open("emu:nvme", NULL, NULL, 2, &n), -EINVAL);
	CU_ASSERT_EQUAL(vpio_blk_open(NULL, NULL, t, 2, &n), -EINVAL);
	vpio_blk_opts_init(&o);
	o.queue_depth = VPIO_BLK_MAX_QUEUE_DEPTH + 1;
	CU_ASSERT_EQUAL(vpio_blk_open("uring:/nonexistent", &o, t, 2, &n), -EINVAL);
	CU_ASSERT(vpio_test_log_has("queue depth 4097 is above the 4096"));
	o.opts_size = 0;
	CU_ASSERT_EQUAL(vpio_blk_open("uring:/nonexistent", &o, t, 2, &n), -EINVAL);
	CU_ASSERT(vpio_test_log_has("vpio_blk_opts_init"));
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 6);
	vpio_test_log_release();
}

static int reg(void)
{
	VPIO_SUITE("blk_addr", NULL, NULL);
	VPIO_TEST(test_pci);
	VPIO_TEST(test_emu);
	VPIO_TEST(test_uring);
	VPIO_TEST(test_bad);
	VPIO_TEST(test_opts);
	VPIO_TEST(test_open_refuses);
	return 0;
}

int main(void)
{
	return vpio_test_run(reg);
}
