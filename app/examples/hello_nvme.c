/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpio-hello-nvme [-a ADDR]: write "Hello, NVMe!" to block 0 of the first
 * namespace and read it back.  ADDR: a controller bound to vfio-pci
 * ("0000:00:03.0") or an emulated one (default "emu:nvme").
 * The smallest complete use of the driver: environment, attach, qpair,
 * DMA buffer, submit, poll, detach.  (doc/nvme.md walks through it.)
 */
#include <stdio.h>
#include <string.h>

#include <vpio/env.h>
#include <vpio/nvme.h>

struct io {
	int done;
	uint16_t status;
};

/* Runs inside vpio_nvme_qpair_process_completions(), on our thread. */
static void io_done(void *arg, const struct vpio_nvme_cpl *cpl)
{
	struct io *io = arg;

	io->done = 1;
	io->status = cpl->status;
}

/* Poll until the command completes: no interrupt, no sleep. */
static int wait_io(struct vpio_nvme_qpair *qp, struct io *io)
{
	char st[VPIO_NVME_STATUS_STRLEN];

	while (!io->done) {
		int rc = vpio_nvme_qpair_process_completions(qp, 0);

		if (rc < 0)
			return rc;
	}
	if (vpio_nvme_cpl_is_error(&(struct vpio_nvme_cpl){ .status = io->status })) {
		fprintf(stderr, "hello_nvme: I/O failed: %s\n", vpio_nvme_status_fmt(st, sizeof(st), io->status));
		return -1;
	}
	return 0;
}

static int hello(struct vpio_nvme_ctrlr *ctrlr)
{
	struct vpio_nvme_qpair *qp;
	struct vpio_nvme_ns *ns;
	struct io io = { 0, 0 };
	char *buf;
	uint32_t bs;
	int rc;

	rc = vpio_nvme_ctrlr_get_ns(ctrlr, vpio_nvme_ctrlr_first_active_ns(ctrlr), &ns);
	if (rc != 0)
		return rc;
	rc = vpio_nvme_ctrlr_alloc_io_qpair(ctrlr, NULL, &qp); /* this thread's queue pair */
	if (rc != 0)
		return rc;
	bs = vpio_nvme_ns_get_sector_size(ns);
	buf = vpio_dma_zmalloc(bs, 4096); /* DMA memory: the device reads and writes it */
	if (buf == NULL) {
		vpio_nvme_ctrlr_free_io_qpair(qp);
		return -1;
	}
	snprintf(buf, bs, "Hello, NVMe! (block 0 of namespace %u, %u bytes)", vpio_nvme_ns_get_id(ns), bs);
	rc = vpio_nvme_ns_cmd_write(ns, qp, buf, 0, 1, io_done, &io, 0);
	if (rc == 0)
		rc = wait_io(qp, &io);
	if (rc == 0) {
		memset(buf, 0, bs);
		io.done = 0;
		rc = vpio_nvme_ns_cmd_read(ns, qp, buf, 0, 1, io_done, &io, 0);
		if (rc == 0)
			rc = wait_io(qp, &io);
	}
	if (rc == 0)
		printf("read back: %s\n", buf);
	vpio_dma_free(buf);
	vpio_nvme_ctrlr_free_io_qpair(qp);
	return rc;
}

int main(int argc, char **argv)
{
	const char *addr = "emu:nvme";
	struct vpio_nvme_ctrlr *ctrlr;
	struct vpio_env_opts opts;
	int rc;

	if (argc == 3 && strcmp(argv[1], "-a") == 0) {
		addr = argv[2];
	} else if (argc != 1) {
		fprintf(stderr, "usage: vpio-hello-nvme [-a ADDR]  (ADDR: 0000:00:03.0 or emu:nvme, the default)\n");
		return 2;
	}
	vpio_env_opts_init(&opts);
	opts.name = "hello_nvme";
	opts.mem_size_mb = 32;
	opts.quiet = true;
	if (vpio_env_init(&opts) != 0) /* DMA memory first */
		return 1;
	if (vpio_nvme_ctrlr_attach(addr, NULL, &ctrlr) != 0) {
		vpio_env_fini();
		return 1;
	}
	rc = hello(ctrlr);
	vpio_nvme_ctrlr_detach(ctrlr);
	vpio_env_fini();
	return rc == 0 ? 0 : 1;
}
