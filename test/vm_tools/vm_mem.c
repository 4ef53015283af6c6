/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vm_mem -a ADDR: DMA from plain heap memory through a real IOMMU (VM
 * tier).
 *  1. heap buffers (4 KiB aligned, not hugepages) registered with
 *     vpio_mem_register(): write from them, read into others, byte
 *     compare, also vectored across buffers; unregistered memory is
 *     refused before the device sees it;
 *  2. the type1 DMA-mapping limit (dma_entry_limit, read from sysfs or the
 *     container): registering more separate regions than it allows fails
 *     with -ENOSPC and one error line naming the limit; skipped, with a
 *     message, when the kernel reports no limit;
 *  3. after unregistering everything, I/O still works.
 * Every buffer sits between registered guard regions (common/dma_guard.h),
 * checked after each command.
 * Prints "ok:"/"FAIL:"/"skip:" lines; exit status 0 when nothing failed.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <vpio/env.h>
#include <vpio/log.h>
#include <vpio/nvme.h>
#include <vpio/vfio.h>

#define DMA_GUARD_IMPLEMENTATION
#include "common/dma_guard.h"
#include "pattern.h"

#define NBUF 8
#define BUFLEN (64u * 1024u)
#define LIMIT_FILE "/sys/module/vfio_iommu_type1/parameters/dma_entry_limit"

static int g_failed;
static char g_log[4096];

#define OK(cond, ...)                                                                                    \
	do {                                                                                             \
		bool ok_ = (cond); /* once: it may have effects */                                       \
		printf(ok_ ? "ok: " : "FAIL: ");                                                         \
		printf(__VA_ARGS__);                                                                     \
		printf("\n");                                                                            \
		g_failed += !ok_;                                                                        \
	} while (0)

static void capture(enum vpio_log_level level, const char *module, const char *msg, void *ctx)
{
	size_t n = strlen(g_log);

	(void)ctx;
	if (level == VPIO_LOG_ERROR)
		snprintf(g_log + n, sizeof(g_log) - n, "%s: %s\n", module, msg);
	fprintf(stderr, "  (log) %s: %s\n", module, msg);
}

struct dev {
	struct vpio_nvme_ctrlr *c;
	struct vpio_nvme_ns *ns;
	struct vpio_nvme_qpair *qp;
	uint32_t bs;
};

struct done {
	int n;
	uint16_t status;
};

static void done_cb(void *arg, const struct vpio_nvme_cpl *cpl)
{
	struct done *d = arg;

	d->n++;
	d->status = cpl->status & 0xfffeu;
}

/* Submit result rc, then wait: 0 / NVMe status / negative errno; -EBADMSG
 * when a guard around a buffer was overwritten. */
static int wait_done(struct dev *d, int rc, struct done *w)
{
	while (rc == 0 && w->n == 0) {
		rc = vpio_nvme_qpair_process_completions(d->qp, 0);
		rc = rc < 0 ? rc : 0;
	}
	if (dma_guard_check_all() != 0)
		return -EBADMSG;
	return rc != 0 ? rc : w->status;
}

static int io(struct dev *d, bool write, void *buf, uint64_t lba, uint32_t len)
{
	struct done w = { 0, 0 };
	uint32_t n = len / d->bs;

	return wait_done(d, write ? vpio_nvme_ns_cmd_write(d->ns, d->qp, buf, lba, n, done_cb, &w, 0)
				  : vpio_nvme_ns_cmd_read(d->ns, d->qp, buf, lba, n, done_cb, &w, 0), &w);
}

static void heap_io(struct dev *d)
{
	uint8_t *buf[NBUF];
	struct iovec v[3];
	struct done w = { 0, 0 };
	int i, rc, regs = 0;
	uint64_t lba0 = 8192;

	for (i = 0; i < NBUF; i++) {
		buf[i] = dma_guard_alloc_heap(BUFLEN);
		regs += buf[i] != NULL && dma_guard_register(buf[i]) == 0; /* guards included */
	}
	OK(regs == NBUF, "registered %d heap buffers of %u KiB (with guard regions)", regs, BUFLEN / 1024);
	for (i = 0; i < NBUF && regs == NBUF; i++) {
		uint64_t lba = lba0 + (uint64_t)i * (BUFLEN / d->bs);

		pattern_fill(buf[i], BUFLEN, 7, lba * d->bs);
		rc = io(d, true, buf[i], lba, BUFLEN);
		memset(buf[(i + 1) % NBUF], 0, BUFLEN);
		rc = rc ? rc : io(d, false, buf[(i + 1) % NBUF], lba, BUFLEN);
		OK(rc == 0 && pattern_check(buf[(i + 1) % NBUF], BUFLEN, 7, lba * d->bs) == BUFLEN,
		   "heap buffer %d: write, read into buffer %d, compare (%d)", i, (i + 1) % NBUF, rc);
	}
	if (regs == NBUF) { /* one request over three heap buffers */
		for (i = 0; i < 3; i++)
			v[i] = (struct iovec){ buf[i * 2], BUFLEN / 2 };
		rc = wait_done(d, vpio_nvme_ns_cmd_readv(d->ns, d->qp, v, 3, lba0, done_cb, &w, 0), &w);
		OK(rc == 0 && pattern_check(buf[0], BUFLEN / 2, 7, lba0 * d->bs) == BUFLEN / 2 &&
			   pattern_check(buf[2], BUFLEN / 2, 7, lba0 * d->bs + BUFLEN / 2) == BUFLEN / 2,
		   "vectored read into three heap buffers (%d)", rc);
	}
	for (i = 0; i < NBUF; i++) {
		if (buf[i] != NULL && regs == NBUF)
			dma_guard_unregister(buf[i]);
	}
	rc = buf[0] ? io(d, false, buf[0], lba0, 4096) : 0;
	OK(rc == -EFAULT, "unregistered heap memory is refused before the device sees it (%d)", rc);
	for (i = 0; i < NBUF; i++)
		OK(dma_guard_free(buf[i]), "heap buffer %d: guards intact", i);
}

/* The limit from sysfs, else what the container says is left; 0 = unknown
 * or no VFIO container (an emulated device: nothing is DMA-mapped). */
static uint64_t dma_limit(void)
{
	struct vpio_vfio_container *c;
	struct vpio_vfio_iommu_info info;
	unsigned long long v = 0;
	FILE *f;

	if (vpio_vfio_container_get(&c) != 0 || vpio_vfio_container_info(c, &info) != 0 || info.noiommu)
		return 0;
	f = fopen(LIMIT_FILE, "r");
	if (f != NULL) {
		if (fscanf(f, "%llu", &v) != 1)
			v = 0;
		fclose(f);
	}
	if (v == 0 && info.has_dma_avail)
		v = info.dma_avail;
	return v;
}

static void mapping_limit(void)
{
	uint64_t limit = dma_limit(), n, i, done = 0;
	size_t len;
	uint8_t *mem;
	int rc = 0;

	if (limit == 0) {
		printf("skip: DMA-mapping limit: not reported (no VFIO container with an IOMMU, no %s, no dma_avail)\n",
		       LIMIT_FILE);
		return;
	}
	n = limit + 64; /* separate regions: every other page */
	len = (size_t)n * 2u * 4096u;
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		OK(0, "mmap of %zu bytes for %llu regions", len, (unsigned long long)n);
		return;
	}
	g_log[0] = '\0';
	for (i = 0; i < n; i++) {
		rc = vpio_mem_register(mem + i * 2u * 4096u, 4096);
		if (rc != 0)
			break;
		done++;
	}
	printf("  dma_entry_limit %llu: %llu separate regions registered, then %d\n", (unsigned long long)limit,
	       (unsigned long long)done, rc);
	OK(rc == -ENOSPC, "registering past the DMA-mapping limit fails with -ENOSPC (got %d)", rc);
	OK(strstr(g_log, "dma_entry_limit") != NULL && strchr(g_log, '\n') == strrchr(g_log, '\n'),
	   "one error line naming the limit and the fix (dma_entry_limit)");
	OK(done > 0 && done <= limit, "the failure came at the limit (%llu <= %llu)", (unsigned long long)done,
	   (unsigned long long)limit);
	for (i = 0; i < done; i++)
		vpio_mem_unregister(mem + i * 2u * 4096u, 4096);
	munmap(mem, len);
}

int main(int argc, char **argv)
{
	struct vpio_env_opts eo;
	struct dev d;
	const char *addr = NULL;
	uint8_t *buf;
	int c, rc;

	while ((c = getopt(argc, argv, "a:")) != -1) {
		if (c != 'a') {
			fprintf(stderr, "usage: vm_mem -a ADDR\n");
			return 2;
		}
		addr = optarg;
	}
	if (addr == NULL) {
		fprintf(stderr, "usage: vm_mem -a ADDR\n");
		return 2;
	}
	vpio_env_opts_init(&eo);
	eo.name = "vm_mem";
	eo.mem_size_mb = 32;
	eo.quiet = true;
	memset(&d, 0, sizeof(d));
	if (vpio_env_init(&eo) != 0 || vpio_nvme_ctrlr_attach(addr, NULL, &d.c) != 0 ||
	    vpio_nvme_ctrlr_get_ns(d.c, vpio_nvme_ctrlr_first_active_ns(d.c), &d.ns) != 0 ||
	    vpio_nvme_ctrlr_alloc_io_qpair(d.c, NULL, &d.qp) != 0) {
		printf("FAIL: cannot set up %s (see above)\n", addr);
		return 1;
	}
	d.bs = vpio_nvme_ns_get_sector_size(d.ns);
	vpio_log_set_callback(capture, NULL);
	heap_io(&d);
	mapping_limit();
	buf = dma_guard_alloc_heap(BUFLEN);
	rc = buf && dma_guard_register(buf) == 0 ? io(&d, false, buf, 8192, BUFLEN) : -ENOMEM;
	OK(rc == 0, "I/O from a fresh heap buffer after all that (%d)", rc);
	OK(dma_guard_free(buf), "its guards intact");
	vpio_log_set_callback(NULL, NULL);
	vpio_nvme_ctrlr_free_io_qpair(d.qp);
	vpio_nvme_ctrlr_detach(d.c);
	vpio_env_fini();
	printf("vm_mem: %s\n", g_failed ? "FAILED" : "passed");
	return g_failed ? 1 : 0;
}
