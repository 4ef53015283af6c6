/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nvme_nosyscall: the I/O loop that test/func/nosyscall.sh watches with
 * strace.  It attaches a null-mode emulated controller (or -a ADDR), warms
 * up, then marks the start and the end of N I/Os (reads and writes, 32 in
 * flight, polled) with prctl(PR_SET_NAME) calls, so that the script counts
 * exactly the system calls this thread makes in between.
 *
 *   nvme_nosyscall [-a ADDR] [-n N] [-x]
 *     -x  make one system call per I/O (getppid): the script's self-check
 *         that it would see them
 * Prints "io_tid=TID" (the thread to look at) and "ios=N".
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <vpio/env.h>
#include <vpio/nvme.h>

#define QD 32u

struct loop {
	struct vpio_nvme_ns *ns;
	struct vpio_nvme_qpair *qp;
	uint8_t *buf;
	uint64_t left, done, errors, lba;
	int per_io_syscall;
};

static void io_done(void *arg, const struct vpio_nvme_cpl *cpl)
{
	struct loop *l = arg;

	l->done++;
	l->errors += vpio_nvme_cpl_is_error(cpl);
	if (l->per_io_syscall)
		(void)getppid();
}

static int submit(struct loop *l)
{
	uint8_t *b = l->buf + (l->lba % QD) * 4096u;
	int rc;

	if (l->lba & 1)
		rc = vpio_nvme_ns_cmd_write(l->ns, l->qp, b, l->lba % 1024u, 8, io_done, l, 0);
	else
		rc = vpio_nvme_ns_cmd_read(l->ns, l->qp, b, l->lba % 1024u, 8, io_done, l, 0);
	if (rc == 0) {
		l->lba++;
		l->left--;
	}
	return rc;
}

/* n I/Os, QD in flight; returns the number of failures. */
static uint64_t run(struct loop *l, uint64_t n)
{
	l->left = n;
	l->done = 0;
	while (l->left > 0 || vpio_nvme_qpair_get_outstanding(l->qp) > 0) {
		while (l->left > 0 && vpio_nvme_qpair_get_outstanding(l->qp) < QD && submit(l) == 0)
			;
		if (vpio_nvme_qpair_process_completions(l->qp, 0) < 0)
			return n;
	}
	return l->errors + (n - l->done);
}

int main(int argc, char **argv)
{
	const char *addr = "emu:nvme8?null=1&size=64M";
	struct vpio_nvme_ctrlr *c;
	struct vpio_env_opts eo;
	struct loop l = { 0 };
	uint64_t n = 10000, bad;
	int opt;

	while ((opt = getopt(argc, argv, "a:n:x")) != -1) {
		switch (opt) {
		case 'a': addr = optarg; break;
		case 'n': n = strtoull(optarg, NULL, 0); break;
		case 'x': l.per_io_syscall = 1; break;
		default:
			fprintf(stderr, "usage: nvme_nosyscall [-a ADDR] [-n N] [-x]\n");
			return 2;
		}
	}
	vpio_env_opts_init(&eo);
	eo.name = "nvme_nosyscall";
	eo.mem_size_mb = 32;
	eo.quiet = true;
	if (vpio_env_init(&eo) != 0 || vpio_nvme_ctrlr_attach(addr, NULL, &c) != 0 ||
	    vpio_nvme_ctrlr_get_ns(c, vpio_nvme_ctrlr_first_active_ns(c), &l.ns) != 0 ||
	    vpio_nvme_ctrlr_alloc_io_qpair(c, NULL, &l.qp) != 0 || (l.buf = vpio_dma_zmalloc(QD * 4096u, 4096)) == NULL)
		return 1;
	printf("io_tid=%ld\n", (long)syscall(SYS_gettid));
	fflush(stdout);
	bad = run(&l, 2000); /* warm-up: first touches, lazy binding */
	prctl(PR_SET_NAME, "vpio-io-start", 0, 0, 0);
	bad += run(&l, n);
	prctl(PR_SET_NAME, "vpio-io-end", 0, 0, 0);
	printf("ios=%llu failed=%llu\n", (unsigned long long)n, (unsigned long long)bad);
	vpio_dma_free(l.buf);
	vpio_nvme_ctrlr_free_io_qpair(l.qp);
	vpio_nvme_ctrlr_detach(c);
	vpio_env_fini();
	return bad ? 1 : 0;
}
