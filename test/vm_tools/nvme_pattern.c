/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nvme_pattern: write a deterministic pattern through vpio, or check it in
 * a file or block device read by the kernel (the VM tier does both).
 *
 *   nvme_pattern -a ADDR --write --lba N --count N --seed S [--nsid N]
 *       write COUNT blocks at LBA of the namespace (first active by
 *       default), flush, read them back through vpio and compare
 *   nvme_pattern --check-file FILE --lba N --count N --seed S --block-size B
 *       pread the same range (offset LBA * B) and compare
 * Exit status 0 when the data matches.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vpio/env.h>
#include <vpio/nvme.h>

#define DMA_GUARD_IMPLEMENTATION
#include "common/dma_guard.h"
#include "pattern.h"

#define CHUNK (1u << 20)

struct args {
	const char *addr, *file;
	bool write;
	uint64_t lba, count, seed;
	uint32_t bs, nsid;
};

static int usage(void)
{
	fprintf(stderr, "usage: nvme_pattern -a ADDR --write --lba N --count N --seed S [--nsid N]\n"
			"       nvme_pattern --check-file FILE --lba N --count N --seed S --block-size B\n");
	return 2;
}

static int parse(int argc, char **argv, struct args *a)
{
	static const struct option lo[] = {
		{ "write", no_argument, NULL, 'w' },	   { "check-file", required_argument, NULL, 'f' },
		{ "lba", required_argument, NULL, 'l' },   { "count", required_argument, NULL, 'c' },
		{ "seed", required_argument, NULL, 's' },  { "block-size", required_argument, NULL, 'b' },
		{ "nsid", required_argument, NULL, 'n' },  { NULL, 0, NULL, 0 },
	};
	int c;

	memset(a, 0, sizeof(*a));
	while ((c = getopt_long(argc, argv, "a:", lo, NULL)) != -1) {
		switch (c) {
		case 'a': a->addr = optarg; break;
		case 'w': a->write = true; break;
		case 'f': a->file = optarg; break;
		case 'l': a->lba = strtoull(optarg, NULL, 0); break;
		case 'c': a->count = strtoull(optarg, NULL, 0); break;
		case 's': a->seed = strtoull(optarg, NULL, 0); break;
		case 'b': a->bs = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'n': a->nsid = (uint32_t)strtoul(optarg, NULL, 0); break;
		default: return -1;
		}
	}
	if (optind != argc || a->count == 0 || (a->write ? a->addr == NULL : a->file == NULL) ||
	    (a->file != NULL && (a->bs == 0 || a->bs % 8 != 0)))
		return -1;
	return 0;
}

/* Compare [off, end) of fd with the pattern; 0 or 1 (printed). */
static int check_range(int fd, uint8_t *buf, const struct args *a, uint64_t off, uint64_t end)
{
	ssize_t n;
	size_t bad;

	while (off < end) {
		size_t want = end - off < CHUNK ? (size_t)(end - off) : CHUNK;

		n = pread(fd, buf, want, (off_t)off);
		if (n != (ssize_t)want) {
			fprintf(stderr, "nvme_pattern: %s: short read at byte %llu (%zd of %zu)\n", a->file,
				(unsigned long long)off, n, want);
			return 1;
		}
		bad = pattern_check(buf, want, a->seed, off);
		if (bad < want) {
			fprintf(stderr, "nvme_pattern: %s: mismatch at byte %llu (LBA %llu)\n", a->file,
				(unsigned long long)(off + bad), (unsigned long long)((off + bad) / a->bs));
			return 1;
		}
		off += want;
	}
	return 0;
}

static int check_file(const struct args *a)
{
	uint8_t *buf = malloc(CHUNK);
	int fd = open(a->file, O_RDONLY), rc = 1;

	if (fd < 0 || buf == NULL)
		fprintf(stderr, "nvme_pattern: cannot open %s: %s\n", a->file, strerror(errno));
	else
		rc = check_range(fd, buf, a, a->lba * a->bs, (a->lba + a->count) * a->bs);
	if (rc == 0)
		printf("nvme_pattern: %s: %llu blocks at LBA %llu match seed %llu\n", a->file,
		       (unsigned long long)a->count, (unsigned long long)a->lba, (unsigned long long)a->seed);
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc;
}

struct done {
	int n;
	uint16_t status;
};

static void done_cb(void *arg, const struct vpio_nvme_cpl *cpl)
{
	struct done *d = arg;

	d->n++;
	if (vpio_nvme_cpl_is_error(cpl) && d->status == 0)
		d->status = cpl->status;
}

/* Wait for the command just submitted (rc: the submission's result) and
 * check the guards around the data buffer; 0, or 1 after printing what
 * failed. */
static int run_one(struct vpio_nvme_qpair *qp, struct done *d, int rc, const char *what)
{
	char st[VPIO_NVME_STATUS_STRLEN];

	if (rc != 0) {
		fprintf(stderr, "nvme_pattern: %s: submit failed (%d)\n", what, rc);
		return 1;
	}
	while (d->n == 0) {
		rc = vpio_nvme_qpair_process_completions(qp, 0);
		if (rc < 0 && rc != -EAGAIN) {
			fprintf(stderr, "nvme_pattern: %s: polling failed (%d)\n", what, rc);
			return 1;
		}
	}
	if (d->status != 0) {
		fprintf(stderr, "nvme_pattern: %s: %s\n", what, vpio_nvme_status_fmt(st, sizeof(st), d->status));
		return 1;
	}
	if (dma_guard_check_all() != 0) {
		fprintf(stderr, "nvme_pattern: %s: the device wrote outside the data buffer (see above)\n", what);
		return 1;
	}
	return 0;
}

static int write_range(struct vpio_nvme_ns *ns, struct vpio_nvme_qpair *qp, uint8_t *buf, const struct args *a)
{
	uint32_t bs = vpio_nvme_ns_get_sector_size(ns), per = CHUNK / bs;
	/* a request may be split into as many commands as the qpair holds */
	uint64_t fit = (uint64_t)vpio_nvme_qpair_get_depth(qp) * (vpio_nvme_ns_get_max_io_xfer_size(ns) / bs);
	uint64_t lba, n;
	size_t bad;

	if (fit < per)
		per = fit ? (uint32_t)fit : 1u;

	for (lba = a->lba; lba < a->lba + a->count; lba += n) {
		struct done d = { 0, 0 };

		n = a->lba + a->count - lba < per ? a->lba + a->count - lba : per;
		pattern_fill(buf, n * bs, a->seed, lba * bs);
		if (run_one(qp, &d, vpio_nvme_ns_cmd_write(ns, qp, buf, lba, (uint32_t)n, done_cb, &d, 0), "write"))
			return 1;
	}
	{
		struct done d = { 0, 0 };

		if (run_one(qp, &d, vpio_nvme_ns_cmd_flush(ns, qp, done_cb, &d), "flush"))
			return 1;
	}
	for (lba = a->lba; lba < a->lba + a->count; lba += n) { /* read back through vpio */
		struct done d = { 0, 0 };

		n = a->lba + a->count - lba < per ? a->lba + a->count - lba : per;
		memset(buf, 0, n * bs);
		if (run_one(qp, &d, vpio_nvme_ns_cmd_read(ns, qp, buf, lba, (uint32_t)n, done_cb, &d, 0), "read"))
			return 1;
		bad = pattern_check(buf, n * bs, a->seed, lba * bs);
		if (bad < n * bs) {
			fprintf(stderr, "nvme_pattern: read back through vpio: mismatch at LBA %llu\n",
				(unsigned long long)(lba + bad / bs));
			return 1;
		}
	}
	printf("nvme_pattern: %s: wrote %llu blocks of %u bytes at LBA %llu with seed %llu, flushed, read back\n",
	       a->addr, (unsigned long long)a->count, bs, (unsigned long long)a->lba, (unsigned long long)a->seed);
	return 0;
}

static int write_mode(const struct args *a)
{
	struct vpio_nvme_ctrlr *c;
	struct vpio_nvme_qpair *qp;
	struct vpio_nvme_ns *ns;
	struct vpio_env_opts eo;
	uint8_t *buf;
	int rc = 1;

	vpio_env_opts_init(&eo);
	eo.name = "nvme_pattern";
	eo.mem_size_mb = 32;
	eo.quiet = true;
	if (vpio_env_init(&eo) != 0 || vpio_nvme_ctrlr_attach(a->addr, NULL, &c) != 0)
		return 1;
	if (vpio_nvme_ctrlr_get_ns(c, a->nsid ? a->nsid : vpio_nvme_ctrlr_first_active_ns(c), &ns) == 0 &&
	    vpio_nvme_ctrlr_alloc_io_qpair(c, NULL, &qp) == 0) {
		buf = dma_guard_alloc(CHUNK);
		if (buf == NULL)
			fprintf(stderr, "nvme_pattern: no DMA memory\n");
		else if (a->lba + a->count > vpio_nvme_ns_get_num_sectors(ns))
			fprintf(stderr, "nvme_pattern: LBA %llu + %llu is beyond the namespace\n",
				(unsigned long long)a->lba, (unsigned long long)a->count);
		else
			rc = write_range(ns, qp, buf, a);
		if (!dma_guard_free(buf))
			rc = 1;
		vpio_nvme_ctrlr_free_io_qpair(qp);
	}
	vpio_nvme_ctrlr_detach(c); /* shutdown: the data is durable for the kernel */
	vpio_env_fini();
	return rc;
}

int main(int argc, char **argv)
{
	struct args a;

	if (parse(argc, argv, &a) != 0)
		return usage();
	return a.write ? write_mode(&a) : check_file(&a);
}
