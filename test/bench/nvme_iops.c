/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nvme_iops: measurements behind doc/nvme.md and doc/performance.md (a
 * benchmark, build/bench/nvme_iops; test/bench/run.sh runs it).
 *
 *   nvme_iops [-a ADDR] [-t SECONDS] [-b BYTES] [-l] [-q QD] [-B]
 *
 *   -l  loopback only (no controller; what test/bench/driver_instr.sh runs
 *       under callgrind)    -q QD  only this queue depth
 *   -B  loopback through the batch calls (submit_batch_iova, poll_batch)
 *
 * 1. loopback: the driver alone.  A qpair in plain memory whose "device" is
 *    this thread: after each poll it completes every command it finds in
 *    the SQ.  Reports TSC cycles per I/O for submit + complete (read of
 *    BYTES, default 4096), with the SQ doorbell per command and batched.
 * 2. device: 4 KiB reads against ADDR (default a null-mode emulated
 *    controller; its thread runs on the other core), at QD 1, 32 and 128,
 *    with the SQ doorbell per command and batched: IOPS, MMIO doorbell
 *    writes per I/O, mean latency.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <x86intrin.h>

#include <vpio/env.h>
#include <vpio/nvme.h>

#include "unit/nvme/nvme_ut_fake.h"

static double g_secs = 1.0;
static uint32_t g_bytes = 4096;
static bool g_loop_only;
static bool g_batch;
static uint32_t g_qd;

struct loop {
	struct vpio_nvme_ns *ns;
	struct vpio_nvme_qpair *qp;
	uint8_t *buf;
	uint32_t qd, nlb;
	uint64_t done, lat_sum;
};

static void done_cb(void *arg, const struct vpio_nvme_cpl *cpl)
{
	struct loop *l = arg;

	(void)cpl;
	l->done++;
}

/* ------------------------------------------------------------- loopback */

/* Complete every command the "device" has not seen yet. */
static void loopback_device(struct ut_qpair *u, uint16_t *seen, uint16_t *tail, uint8_t *phase)
{
	while (*seen != u->qp.sq_rung) {
		ut_post(u, tail, phase, u->sq[*seen].cid, (uint16_t)((*seen + 1u) % u->qp.num_entries), 0);
		*seen = (uint16_t)((*seen + 1u) % u->qp.num_entries);
	}
}

/* A qpair in plain memory set up as a real one: the real translation, the
 * direct path, ticks read per poll as on a device. */
static struct ut_qpair *loop_qpair(bool delay)
{
	struct ut_qpair *u = ut_qpair_new(256, 128u << 10, 9, 1u << 20);

	u->qp.delay_doorbell = delay;
	u->qp.dptr.xlate = nvme_xlate_vtophys;
	u->qp.fast_prp = true;
	u->qp.next_check = UINT64_MAX;
	return u;
}

static void loopback(bool delay, uint32_t qd)
{
	struct ut_qpair *u = loop_qpair(delay);
	struct loop l = { &u->ns, &u->qp, vpio_dma_zmalloc((size_t)qd * g_bytes, 4096), qd, g_bytes / 512u, 0, 0 };
	uint16_t seen = 0, tail = 0;
	uint8_t phase = 1;
	uint64_t n = 0, t0, cycles, target = (uint64_t)(g_secs * 4e6);
	uint32_t i;

	t0 = __rdtsc();
	while (n < target) {
		for (i = 0; vpio_nvme_qpair_get_outstanding(&u->qp) < qd; i++, n++)
			vpio_nvme_ns_cmd_read(l.ns, l.qp, l.buf + (size_t)(i % qd) * g_bytes, n % 1000u, l.nlb, done_cb, &l,
					      0);
		if (!delay)
			loopback_device(u, &seen, &tail, &phase);
		vpio_nvme_qpair_process_completions(&u->qp, 0); /* rings the delayed doorbell first */
		loopback_device(u, &seen, &tail, &phase);
	}
	vpio_nvme_qpair_process_completions(&u->qp, 0);
	cycles = __rdtsc() - t0;
	printf("  loopback  QD %3u  doorbell %-9s  %6.1f cycles per I/O (submit + complete, %u-byte reads)  %llu I/Os\n",
	       qd, delay ? "batched" : "per cmd", (double)cycles / (double)l.done, g_bytes,
	       (unsigned long long)l.done);
	vpio_dma_free(l.buf);
	ut_qpair_free(u);
}

/* The same through the batch calls: pre-translated IOVAs, one
 * submit_batch_iova for what the qpair can take, completions as an array. */
static void loopback_batch(uint32_t qd)
{
	struct ut_qpair *u = loop_qpair(true);
	uint8_t *buf = vpio_dma_zmalloc((size_t)qd * g_bytes, 4096);
	struct vpio_nvme_io *ios = calloc(qd, sizeof(*ios));
	struct vpio_nvme_io_cpl *cpl = calloc(qd, sizeof(*cpl));
	uint16_t seen = 0, tail = 0;
	uint8_t phase = 1;
	uint64_t n = 0, done = 0, t0, cycles, target = (uint64_t)(g_secs * 4e6), len;
	uint32_t i, want;
	int rc;

	for (i = 0; i < qd; i++) {
		len = g_bytes;
		ios[i].opc = VPIO_NVME_OPC_READ;
		ios[i].lba_count = g_bytes / 512u;
		ios[i].iova = vpio_vtophys(buf + (size_t)i * g_bytes, &len);
		ios[i].ctx = &ios[i];
	}
	t0 = __rdtsc();
	while (n < target) {
		want = qd - vpio_nvme_qpair_get_outstanding(&u->qp);
		for (i = 0; i < want; i++)
			ios[i].lba = (n + i) % 1000u;
		if (want > 0 && (rc = vpio_nvme_ns_submit_batch_iova(&u->ns, &u->qp, ios, want, 0)) > 0)
			n += (uint64_t)rc;
		rc = vpio_nvme_qpair_poll_batch(&u->qp, cpl, qd); /* rings the SQ doorbell first */
		done += rc > 0 ? (uint64_t)rc : 0;
		loopback_device(u, &seen, &tail, &phase);
	}
	while (vpio_nvme_qpair_get_outstanding(&u->qp) > 0) {
		rc = vpio_nvme_qpair_poll_batch(&u->qp, cpl, qd);
		done += rc > 0 ? (uint64_t)rc : 0;
		loopback_device(u, &seen, &tail, &phase);
	}
	cycles = __rdtsc() - t0;
	printf("  loopback  QD %3u  batch calls (IOVAs)  %6.1f cycles per I/O (submit + complete, %u-byte reads)  %llu I/Os\n",
	       qd, (double)cycles / (double)done, g_bytes, (unsigned long long)done);
	free(ios);
	free(cpl);
	vpio_dma_free(buf);
	ut_qpair_free(u);
}

/* --------------------------------------------------------------- device */

static void device_run(struct vpio_nvme_ctrlr *c, struct vpio_nvme_ns *ns, uint32_t qd, bool delay)
{
	struct vpio_nvme_qpair_opts o;
	struct vpio_nvme_qpair_stats st;
	struct loop l = { ns, NULL, NULL, qd, 4096u / vpio_nvme_ns_get_sector_size(ns), 0, 0 };
	uint64_t hz = vpio_get_ticks_hz(), t0, end, n = 0;

	vpio_nvme_qpair_opts_init(&o);
	o.queue_size = qd < 128 ? 256 : qd * 2;
	o.delay_doorbell = delay;
	if (vpio_nvme_ctrlr_alloc_io_qpair(c, &o, &l.qp) != 0)
		return;
	l.buf = vpio_dma_zmalloc((size_t)qd * 4096u, 4096);
	t0 = vpio_get_ticks();
	end = t0 + (uint64_t)(g_secs * (double)hz);
	while (vpio_get_ticks() < end) {
		while (vpio_nvme_qpair_get_outstanding(l.qp) < qd &&
		       vpio_nvme_ns_cmd_read(ns, l.qp, l.buf + (n % qd) * 4096u, n % 4096u, l.nlb, done_cb, &l, 0) == 0)
			n++;
		vpio_nvme_qpair_process_completions(l.qp, 0);
	}
	while (vpio_nvme_qpair_get_outstanding(l.qp) > 0)
		vpio_nvme_qpair_process_completions(l.qp, 0);
	vpio_nvme_qpair_get_stats(l.qp, &st);
	printf("  device    QD %3u  doorbell %-9s  %9.0f IOPS  %5.2f MMIO doorbells per I/O  %6.2f us mean latency\n",
	       qd, delay ? "batched" : "per cmd", (double)l.done / g_secs, (double)st.mmio_doorbells / (double)l.done,
	       g_secs * 1e6 * qd / (double)l.done);
	vpio_dma_free(l.buf);
	vpio_nvme_ctrlr_free_io_qpair(l.qp);
}

int main(int argc, char **argv)
{
	const char *addr = "emu:nvme9?null=1&size=1G";
	static const uint32_t qds[] = { 1, 32, 128 };
	struct vpio_nvme_ctrlr *c;
	struct vpio_nvme_ns *ns;
	struct vpio_env_opts eo;
	int opt;

	while ((opt = getopt(argc, argv, "a:t:b:lq:B")) != -1) {
		switch (opt) {
		case 'a': addr = optarg; break;
		case 't': g_secs = atof(optarg); break;
		case 'b': g_bytes = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'l': g_loop_only = true; break;
		case 'B': g_batch = true; break;
		case 'q': g_qd = (uint32_t)strtoul(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: nvme_iops [-a ADDR] [-t SECONDS] [-b BYTES] [-l] [-q QD] [-B]\n");
			return 2;
		}
	}
	if (g_bytes < 512 || g_bytes % 512 || g_bytes > (128u << 10))
		g_bytes = 4096;
	vpio_env_opts_init(&eo);
	eo.name = "nvme_iops";
	eo.mem_size_mb = 32;
	eo.quiet = true;
	if (vpio_env_init(&eo) != 0)
		return 1;
	printf("driver alone (qpair in memory, this thread completes the commands):\n");
	for (unsigned i = 0; i < 3; i++) {
		if (g_qd != 0 && qds[i] != g_qd)
			continue;
		if (g_batch) {
			loopback_batch(qds[i]);
			continue;
		}
		loopback(false, qds[i]);
		loopback(true, qds[i]);
	}
	if (g_loop_only) {
		vpio_env_fini();
		return 0;
	}
	if (vpio_nvme_ctrlr_attach(addr, NULL, &c) != 0 ||
	    vpio_nvme_ctrlr_get_ns(c, vpio_nvme_ctrlr_first_active_ns(c), &ns) != 0)
		return 1;
	printf("%s, 4 KiB reads, %.1f s each:\n", addr, g_secs);
	for (unsigned i = 0; i < 3; i++) {
		if (g_qd != 0 && qds[i] != g_qd)
			continue;
		device_run(c, ns, qds[i], false);
		device_run(c, ns, qds[i], true);
	}
	vpio_nvme_ctrlr_detach(c);
	vpio_env_fini();
	return 0;
}
