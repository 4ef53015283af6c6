/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xdma_nosyscall: the transfer loop that test/func/xdma_nosyscall.sh
 * watches with strace (as test/func/nosyscall.sh does for NVMe).  It
 * attaches an emulated card (or -a ADDR), warms up, then marks the start
 * and the end of N transfers (4 KiB, H2C and C2H alternating, 32 in flight
 * on each channel, polled) with prctl(PR_SET_NAME), so that the script
 * counts exactly the system calls this thread makes in between.
 *
 *   xdma_nosyscall [-a ADDR] [-n N] [-x]
 *     -x  make one system call per transfer (getppid): the script's
 *         self-check that it would see them
 * Prints "io_tid=TID" (the thread to look at) and "ios=N failed=N".
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <vpio/env.h>
#include <vpio/xdma.h>

#define QD 32u
#define LEN 4096u

struct loop {
	struct vpio_xdma_chan *ch[2];
	uint8_t *buf;
	uint64_t done, errors, next;
	unsigned inflight[2];
	int per_io_syscall;
};

struct slot {
	struct loop *l;
	unsigned dir;
};

static struct slot g_slots[2];

static void io_done(void *arg, const struct vpio_xdma_cpl *cpl)
{
	struct slot *s = arg;

	s->l->done++;
	s->l->inflight[s->dir]--;
	s->l->errors += cpl->status != 0;
	if (s->l->per_io_syscall)
		(void)getppid();
}

/* Start the next transfer on channel d (slot i of its QD buffers). */
static int start_on(struct loop *l, unsigned d)
{
	unsigned i = (unsigned)(l->next++ % QD);
	uint8_t *b = l->buf + ((size_t)d * QD + i) * LEN;

	return d ? vpio_xdma_c2h(l->ch[1], (uint64_t)i * LEN, b, LEN, io_done, &g_slots[1])
		 : vpio_xdma_h2c(l->ch[0], (uint64_t)i * LEN, b, LEN, io_done, &g_slots[0]);
}

/* Keep QD transfers in flight on each channel until n have started, then
 * let them end; returns the failures. */
static uint64_t run(struct loop *l, uint64_t n)
{
	uint64_t started = 0;

	l->done = l->errors = 0;
	for (;;) {
		for (unsigned d = 0; d < 2; d++) {
			for (; started < n && l->inflight[d] < QD && start_on(l, d) == 0; started++)
				l->inflight[d]++;
		}
		if (started == n && l->inflight[0] + l->inflight[1] == 0)
			return l->errors + (n - l->done);
		if (vpio_xdma_poll(l->ch[0], 0) < 0 || vpio_xdma_poll(l->ch[1], 0) < 0)
			return n;
	}
}

/* n transfers between the two markers the script looks for. */
static uint64_t measured(struct loop *l, uint64_t n)
{
	uint64_t bad;

	prctl(PR_SET_NAME, "vpio-io-start", 0, 0, 0);
	bad = run(l, n);
	prctl(PR_SET_NAME, "vpio-io-end", 0, 0, 0);
	return bad;
}

static void teardown(struct loop *l, struct vpio_xdma_dev *d)
{
	for (int k = 0; k < 2; k++)
		vpio_xdma_chan_close(l->ch[k]);
	vpio_dma_free(l->buf);
	vpio_xdma_detach(d);
	vpio_env_fini();
}

/* The card and its two channels, or false (said on stderr). */
static bool setup(const char *addr, struct vpio_xdma_dev **d, struct loop *l)
{
	struct vpio_env_opts eo;

	vpio_env_opts_init(&eo);
	eo.name = "xdma_nosyscall";
	eo.mem_size_mb = 32;
	eo.quiet = true;
	if (vpio_env_init(&eo) == 0 && vpio_xdma_attach(addr, NULL, d) == 0 &&
	    vpio_xdma_chan_open(*d, VPIO_XDMA_H2C, 0, NULL, &l->ch[0]) == 0 &&
	    vpio_xdma_chan_open(*d, VPIO_XDMA_C2H, 0, NULL, &l->ch[1]) == 0 &&
	    (l->buf = vpio_dma_zmalloc(2 * QD * LEN, 4096)) != NULL)
		return true;
	fprintf(stderr, "xdma_nosyscall: cannot set up %s (see the line above)\n", addr);
	return false;
}

int main(int argc, char **argv)
{
	const char *addr = "emu:xdma8?mem=1M";
	struct vpio_xdma_dev *d;
	struct loop l = { 0 };
	uint64_t n = 10000, bad;
	int opt;

	g_slots[0] = (struct slot){ &l, 0 };
	g_slots[1] = (struct slot){ &l, 1 };
	while ((opt = getopt(argc, argv, "a:n:x")) != -1) {
		if (opt == 'a') {
			addr = optarg;
		} else if (opt == 'n') {
			n = strtoull(optarg, NULL, 0);
		} else if (opt == 'x') {
			l.per_io_syscall = 1;
		} else {
			fprintf(stderr, "usage: xdma_nosyscall [-a ADDR] [-n N] [-x]\n");
			return 2;
		}
	}
	if (!setup(addr, &d, &l))
		return 1;
	printf("io_tid=%ld\n", (long)syscall(SYS_gettid));
	fflush(stdout);
	/* a warm-up (first touches, lazy binding), then the measured part */
	bad = run(&l, 2000) + measured(&l, n);
	printf("ios=%llu failed=%llu\n", (unsigned long long)n, (unsigned long long)bad);
	teardown(&l, d);
	return bad ? 1 : 0;
}
