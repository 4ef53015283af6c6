/* SPDX-License-Identifier: BSD-3-Clause */
/* vpio-perf: facts of the machine a run was made on, for --json. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <vpio/env.h>
#include <vpio/vfio.h>

#include "perf.h"

static void cpu_model(char *out, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];

	snprintf(out, len, "unknown");
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) != 0 || colon == NULL)
			continue;
		colon++;
		while (*colon == ' ' || *colon == '\t')
			colon++;
		colon[strcspn(colon, "\n")] = '\0';
		snprintf(out, len, "%s", colon);
		break;
	}
	fclose(f);
}

static int count_iommu_groups(void)
{
	DIR *d = opendir("/sys/kernel/iommu_groups");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

void perf_machine(struct perf_machine *m, bool pci_target_open)
{
	static const char *const modes[] = { "IOVA = VA", "IOVA = VA where valid, else allocated",
					     "physical addresses (no-IOMMU)" };
	struct vpio_vfio_container *c;
	struct vpio_vfio_iommu_info info;
	struct utsname u;
	unsigned mode = (unsigned)vpio_mem_iova_mode();

	memset(m, 0, sizeof(*m));
	cpu_model(m->cpu_model, sizeof(m->cpu_model));
	m->cpus = (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
	if (uname(&u) == 0) {
		snprintf(m->kernel, sizeof(m->kernel), "%s %s %s %s", u.sysname, u.release, u.version, u.machine);
		snprintf(m->hostname, sizeof(m->hostname), "%s", u.nodename);
	}
	m->vfio = vpio_vfio_available();
	m->hugepages = vpio_env_uses_hugepages();
	m->iommu_groups = count_iommu_groups();
	m->iova_mode = mode < sizeof(modes) / sizeof(modes[0]) ? modes[mode] : "unknown";
	m->dma_avail = UINT32_MAX;
	/* the container has IOMMU facts only once a device's group joined it */
	if (pci_target_open && m->vfio && vpio_vfio_container_get(&c) == 0 && vpio_vfio_container_info(c, &info) == 0) {
		m->iommu_info = true;
		m->noiommu = info.noiommu;
		m->pgsize_bitmap = info.pgsize_bitmap;
		if (info.has_dma_avail)
			m->dma_avail = info.dma_avail;
		m->cache_coherent = info.cache_coherent;
	}
}
