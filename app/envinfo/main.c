/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpio-envinfo: what vpio sees on this machine: memory (hugepages or not),
 * how IOVAs are chosen, VFIO, the devices bound to vfio-pci, and, by
 * opening one, the facts of its IOMMU (page sizes, valid IOVA ranges,
 * DMA-mapping limit, cache coherency).
 *
 *   vpio-envinfo [-a PCI_ADDR] [-m MiB]
 *
 * Exit status: 0, 1 when the environment or the -a device cannot be
 * opened, 2 for bad usage (one line naming the argument).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vpio/env.h>
#include <vpio/log.h>
#include <vpio/parse.h>
#include <vpio/pci.h>
#include <vpio/vfio.h>

static int g_vfio_devs;
static char g_first[VPIO_PCI_ADDR_STRLEN];

static int list_cb(void *ctx, const struct vpio_pci_info *info)
{
	char name[VPIO_PCI_ADDR_STRLEN];

	(void)ctx;
	if (strcmp(info->driver, "vfio-pci") != 0)
		return 0;
	vpio_pci_addr_fmt(name, sizeof(name), &info->addr);
	printf("  %s  %04x:%04x  class %06x  numa %d  iommu group %d\n", name, info->vendor_id, info->device_id,
	       info->class_code, info->numa_node, info->iommu_group);
	if (g_vfio_devs++ == 0)
		snprintf(g_first, sizeof(g_first), "%s", name);
	return 0;
}

static void print_pgsizes(uint64_t bm)
{
	static const char *const names[] = { "4K", "8K", "16K", "32K", "64K", "128K", "256K", "512K", "1M", "2M",
					     "4M", "8M", "16M", "32M", "64M", "128M", "256M", "512M", "1G" };
	bool any = false;

	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (bm & (1ULL << (12 + i))) {
			printf("%s%s", any ? " " : "", names[i]);
			any = true;
		}
	}
	printf(any ? "\n" : "not reported\n");
}

/* -1 when addr cannot be opened (logged). */
static int iommu_facts(const char *addr, const char *const *modes)
{
	struct vpio_pci_device *dev;
	struct vpio_vfio_container *c;
	struct vpio_vfio_iommu_info info;
	char *buf;

	printf("IOMMU facts (through %s):\n", addr);
	if (vpio_pci_device_open(addr, &dev) != 0) {
		printf("  cannot open %s (see the line above)\n", addr);
		return -1;
	}
	if (!vpio_vfio_available())
		printf("  mode           : no VFIO on this machine (an emulated device needs none)\n");
	else if (vpio_vfio_container_get(&c) == 0 && vpio_vfio_container_info(c, &info) == 0) {
		printf("  mode           : %s\n", info.noiommu ? "no-IOMMU (unsafe, physical addresses)" : "Type1v2");
		printf("  page sizes     : ");
		print_pgsizes(info.pgsize_bitmap);
		for (uint32_t i = 0; i < info.n_ranges; i++)
			printf("  IOVA range %-3u : 0x%016llx - 0x%016llx\n", i, (unsigned long long)info.ranges[i].start,
			       (unsigned long long)info.ranges[i].end);
		if (info.has_dma_avail)
			printf("  DMA mappings   : %u more allowed (vfio_iommu_type1 dma_entry_limit)\n", info.dma_avail);
		else
			printf("  DMA mappings   : limit not reported by this kernel\n");
		printf("  IOMMU snooping : %s\n", info.cache_coherent ? "enforced (VFIO_DMA_CC_IOMMU)"
								 : "not enforced by the IOMMU (VFIO_DMA_CC_IOMMU = 0); x86 PCIe DMA snoops caches anyway");
	}
	buf = vpio_dma_zmalloc(4096, 4096);
	if (buf != NULL) {
		uint64_t iova = vpio_vtophys(buf, NULL);

		printf("  a DMA buffer   : va %p -> iova 0x%llx (%s)\n", (void *)buf, (unsigned long long)iova,
		       iova == (uint64_t)(uintptr_t)buf ? "IOVA = VA" : "IOVA allocated");
		vpio_dma_free(buf);
	}
	/* plain heap memory: its VA may lie outside the IOMMU's ranges */
	buf = aligned_alloc(4096, 4096);
	if (buf != NULL && vpio_mem_register(buf, 4096) == 0) {
		uint64_t iova = vpio_vtophys(buf, NULL);

		printf("  a heap buffer  : va %p -> iova 0x%llx (%s)\n", (void *)buf, (unsigned long long)iova,
		       iova == (uint64_t)(uintptr_t)buf ? "IOVA = VA" : "IOVA allocated");
		vpio_mem_unregister(buf, 4096);
	}
	free(buf);
	printf("  IOVA mode      : %s\n", modes[vpio_mem_iova_mode()]);
	vpio_pci_device_close(dev);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: vpio-envinfo [-a PCI_ADDR] [-m MiB]\n"
		   "  -a ADDR   show the IOMMU facts through this device (default: the first one on vfio-pci;\n"
		   "            emu:nvme works without VFIO)\n"
		   "  -m MiB    DMA memory to reserve, a decimal number of MiB (default 64)\n"
		   "  -h        this text\n");
}

/* -m: a positive decimal number of MiB, at most the machine's memory. */
static int parse_mem(const char *arg, size_t *mb)
{
	long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
	uint64_t max = pages > 0 && psz > 0 ? ((uint64_t)pages * (uint64_t)psz) >> 20 : SIZE_MAX >> 20;
	uint64_t v = 0;
	int rc = vpio_parse_u64(arg, max, &v);

	if (rc == -ERANGE) {
		fprintf(stderr, "vpio-envinfo: -m '%s': more than this machine's %llu MiB of memory; give fewer MiB\n", arg,
			(unsigned long long)max);
		return -1;
	}
	if (rc != 0 || v == 0) {
		fprintf(stderr, "vpio-envinfo: -m '%s': give the DMA memory size as a positive decimal number of MiB\n", arg);
		return -1;
	}
	*mb = (size_t)v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	struct vpio_env_opts o;
	struct vpio_mem_stats st;
	const char *addr = NULL;
	int rc = 0;
	static const char *const modes[] = { "IOVA = VA", "IOVA = VA where valid, else allocated", "physical addresses (no-IOMMU)" };
	int c;

	vpio_env_opts_init(&o);
	o.mem_size_mb = 64;
	while ((c = getopt_long(argc, argv, "a:m:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (addr != NULL) {
				fprintf(stderr, "vpio-envinfo: -a given twice ('%s', '%s'): it shows one device; run it once per device\n",
					addr, optarg);
				return 2;
			}
			addr = optarg;
			break;
		case 'm':
			if (parse_mem(optarg, &o.mem_size_mb) != 0)
				return 2;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vpio-envinfo: unexpected argument '%s' (it takes only options; see vpio-envinfo -h)\n",
			argv[optind]);
		return 2;
	}
	o.quiet = true;
	if (vpio_env_init(&o) != 0) {
		fprintf(stderr, "vpio-envinfo: the environment did not start (see the line above)\n");
		return 1;
	}
	vpio_mem_get_stats(&st);
	printf("vpio environment\n");
	printf("  memory         : %s, %llu MiB registered for DMA in %llu region(s)\n",
	       vpio_env_uses_hugepages() ? "hugepages" : "ordinary pages (no hugepages free)",
	       (unsigned long long)(st.bytes >> 20), (unsigned long long)st.regions);
	printf("  cores          : %u\n", vpio_env_core_count());
	printf("  tick rate      : %.3f GHz\n", (double)vpio_get_ticks_hz() / 1e9);
	printf("  VFIO           : %s\n", vpio_vfio_available() ? "available (/dev/vfio/vfio)" : "not available (modprobe vfio-pci)");
	printf("devices bound to vfio-pci:\n");
	vpio_pci_enumerate(list_cb, NULL);
	if (g_vfio_devs == 0)
		printf("  none (bind NVMe or XDMA devices with 'sudo scripts/setup.sh'; emulated devices need none: emu:nvme)\n");
	if (addr == NULL && g_vfio_devs > 0)
		addr = g_first;
	if (addr != NULL && iommu_facts(addr, modes) != 0 && addr != g_first)
		rc = 1; /* the address the user gave */
	else if (addr == NULL)
		printf("IOVA mode        : %s\n", modes[vpio_mem_iova_mode()]);
	vpio_env_fini();
	return rc;
}
