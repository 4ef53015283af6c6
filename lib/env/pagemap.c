/* SPDX-License-Identifier: BSD-3-Clause */
/* Physical addresses from /proc/self/pagemap, for VFIO no-IOMMU mode. */
#include <fcntl.h>
#include <unistd.h>

#include "env_internal.h"

#define PM_PRESENT (1ULL << 63)
#define PM_PFN_MASK ((1ULL << 55) - 1)

uint64_t vpio_pagemap_vtophys_fd(int fd, const void *vaddr)
{
	uint64_t va = (uint64_t)(uintptr_t)vaddr, ent, pfn;
	long psz = sysconf(_SC_PAGESIZE);

	if (pread(fd, &ent, sizeof(ent), (off_t)((va / (uint64_t)psz) * sizeof(ent))) != sizeof(ent))
		return VPIO_VTOPHYS_ERROR;
	pfn = ent & PM_PFN_MASK;
	/* Without CAP_SYS_ADMIN the kernel reports PFN 0. */
	if (!(ent & PM_PRESENT) || pfn == 0)
		return VPIO_VTOPHYS_ERROR;
	return pfn * (uint64_t)psz + (va % (uint64_t)psz);
}

uint64_t vpio_pagemap_vtophys(const void *vaddr)
{
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	uint64_t pa;

	if (fd < 0)
		return VPIO_VTOPHYS_ERROR;
	/* Touch the page so that it is present. */
	(void)*(const volatile char *)vaddr;
	pa = vpio_pagemap_vtophys_fd(fd, vaddr);
	close(fd);
	return pa;
}
