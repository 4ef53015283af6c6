/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpio-xdma-info: list the Xilinx/AMD devices vpio could drive as XDMA
 * cards, or show one.
 *
 *   vpio-xdma-info                 list vendor 0x10ee devices and whether
 *                                  they are bound to vfio-pci
 *   vpio-xdma-info -a ADDR [...]   BARs, config block, card memory and
 *                                  channels (direction, mode, version,
 *                                  alignment) of ADDR: "0000:01:00.0"
 *                                  (bound to vfio-pci) or "emu:xdma"
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <vpio/pci.h>
#include <vpio/xdma.h>

#define MAX_ADDRS 16

static int list_cb(void *arg, const struct vpio_pci_info *info)
{
	unsigned *n = arg;
	char name[VPIO_PCI_ADDR_STRLEN];
	int usable = strcmp(info->driver, "vfio-pci") == 0;

	if (info->vendor_id != VPIO_XDMA_VENDOR_ID)
		return 0;
	vpio_pci_addr_fmt(name, sizeof(name), &info->addr);
	printf("  %s  %04x:%04x  class %06x  driver %s: %s%s\n", name, info->vendor_id, info->device_id,
	       info->class_code, info->driver[0] ? info->driver : "(none)",
	       usable ? "usable, vpio-xdma-info -a " : "not usable by vpio until bound to vfio-pci", usable ? name : "");
	n[usable]++;
	return 0;
}

static int list_devices(void)
{
	unsigned n[2] = { 0, 0 };

	printf("Xilinx/AMD devices (vendor 0x10ee):\n");
	if (vpio_pci_enumerate(list_cb, n) < 0) {
		fprintf(stderr, "vpio-xdma-info: cannot list PCI devices; is %s/bus/pci there?\n", vpio_pci_sysfs_root());
		return 1;
	}
	if (n[0] + n[1] == 0)
		printf("  none found\n");
	if (n[1] == 0)
		printf("None is bound to vfio-pci.  To hand a card to vpio (as root):\n"
		       "  sudo PCI_ALLOWED=0000:01:00.0 scripts/setup.sh config\n"
		       "Without hardware, use the emulated card: vpio-xdma-info -a emu:xdma\n");
	return 0;
}

static const char *version_name(unsigned v)
{
	static const char *const names[] = { "unknown", "2015.3/2015.4", "2016.1", "2016.2", "2016.3", "2016.4",
					     "2017.1 and later" };

	return v < sizeof(names) / sizeof(names[0]) ? names[v] : "later than 2017.1";
}

static void size_str(char *buf, size_t len, uint64_t bytes)
{
	if (bytes >= (1ull << 30) && bytes % (1ull << 30) == 0)
		snprintf(buf, len, "%llu GiB", (unsigned long long)(bytes >> 30));
	else if (bytes >= (1ull << 20) && bytes % (1ull << 20) == 0)
		snprintf(buf, len, "%llu MiB", (unsigned long long)(bytes >> 20));
	else if (bytes >= 1024 && bytes % 1024 == 0)
		snprintf(buf, len, "%llu KiB", (unsigned long long)(bytes >> 10));
	else
		snprintf(buf, len, "%llu bytes", (unsigned long long)bytes);
}

static void print_bar(const char *what, int bar, uint64_t len)
{
	char s[32];

	if (bar < 0) {
		printf("  %-16s: none\n", what);
		return;
	}
	size_str(s, sizeof(s), len);
	printf("  %-16s: BAR %d, %s\n", what, bar, s);
}

static void print_engine(const char *dir, unsigned ch, const struct vpio_xdma_engine_info *e)
{
	char label[16];

	snprintf(label, sizeof(label), "%s %u", dir, ch);
	printf("  %-16s: %s, version %u (%s), identifier 0x%08x, address alignment %u, length granularity %u, %u address bits%s\n",
	       label, e->stream ? "AXI4-Stream" : "AXI4 memory-mapped", e->version, version_name(e->version), e->id,
	       e->addr_align, e->len_gran, e->addr_bits, e->align_reg_zero ? " (alignments register 0: assumed)" : "");
}

static int show(const char *addr)
{
	struct vpio_xdma_info i;
	struct vpio_xdma_dev *d;
	char s[32];

	if (vpio_xdma_attach(addr, NULL, &d) != 0 || vpio_xdma_get_info(d, &i) != 0) {
		fprintf(stderr, "vpio-xdma-info: cannot attach %s as an XDMA card (see the line above)\n", addr);
		return 1;
	}
	printf("XDMA card %s (%04x:%04x%s)\n", i.name, i.vendor_id, i.device_id, i.emulated ? ", emulated" : "");
	print_bar("DMA config BAR", i.config_bar, i.config_bar_len);
	print_bar("User (AXI-Lite)", i.user_bar, i.user_bar_len);
	print_bar("DMA bypass", i.bypass_bar, i.bypass_bar_len);
	printf("  %-16s: version %u (%s), max payload %u bytes, max read request %u bytes, AXI data width %u bits\n",
	       "Config block", i.version, version_name(i.version), i.max_payload, i.max_read_request, i.data_width);
	if (i.card_mem_size != 0) {
		size_str(s, sizeof(s), i.card_mem_size);
		printf("  %-16s: %s at AXI address 0x%llx\n", "Card memory", s, (unsigned long long)i.card_mem_base);
	} else {
		printf("  %-16s: unknown (card addresses are not range-checked; set vpio_xdma_opts.card_mem_size)\n",
		       "Card memory");
	}
	printf("  %-16s: %u H2C, %u C2H\n", "Channels", i.n_h2c, i.n_c2h);
	for (unsigned c = 0; c < i.n_h2c; c++)
		print_engine("H2C", c, &i.h2c[c]);
	for (unsigned c = 0; c < i.n_c2h; c++)
		print_engine("C2H", c, &i.c2h[c]);
	vpio_xdma_detach(d);
	return 0;
}

static const char g_usage[] =
	"usage: vpio-xdma-info [-a ADDR]...\n"
	"  no -a     list Xilinx/AMD (0x10ee) devices and whether vpio can use them\n"
	"  -a ADDR   show an XDMA card: a PCI address bound to vfio-pci (0000:01:00.0)\n"
	"            or an emulated one (emu:xdma, emu:xdma0?h2c=4&c2h=4&bars=user,cfg)\n";

/* Attaching maps BARs and reads registers: no DMA memory, so no
 * vpio_env_init() (and no DPDK) is needed. */
int main(int argc, char **argv)
{
	const char *addrs[MAX_ADDRS];
	int c, n = 0, rc = 0;

	while ((c = getopt(argc, argv, "a:h")) != -1) {
		if (c != 'a' || n == MAX_ADDRS) {
			if (c == 'a')
				fprintf(stderr, "vpio-xdma-info: at most %d -a\n", MAX_ADDRS);
			fputs(g_usage, c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : 2;
		}
		addrs[n++] = optarg;
	}
	if (optind < argc) {
		fputs(g_usage, stderr);
		return 2;
	}
	if (n == 0)
		return list_devices();
	for (int k = 0; k < n; k++) {
		if (k > 0)
			putchar('\n');
		rc |= show(addrs[k]);
	}
	return rc;
}
