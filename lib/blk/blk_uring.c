/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * uring:PATH targets: open the block device or file with O_DIRECT, learn
 * its size and block size (a device's from its ioctls, a file's from stat
 * and bs=), and check with one real read that O_DIRECT, io_uring and the
 * asked-for ring flags work on it, so that problems show at open, in one
 * line, rather than as failed I/O later.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "blk_uring.h"

static int open_fd(struct blk_uring_target *ut, const char *path)
{
	int fd = open(path, O_RDWR | O_DIRECT | O_CLOEXEC);

	if (fd < 0 && (errno == EACCES || errno == EROFS || errno == EPERM)) {
		fd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
		ut->base.info.read_only = fd >= 0;
	}
	if (fd >= 0)
		return fd;
	if (errno == EINVAL)
		VPIO_ERR(BLK_MOD, "uring:%s: the filesystem does not support O_DIRECT (tmpfs before Linux 6.6?); put the file on a disk filesystem",
			path);
	else
		VPIO_ERR(BLK_MOD, "uring:%s: cannot open it: %s", path, strerror(errno));
	return errno == EINVAL ? -ENOTSUP : -errno;
}

/* Whether block device `dev` has poll queues: queue/io_poll of the disk
 * (of the parent disk for a partition).  -1 when sysfs does not say (e.g.
 * a filesystem without a block device). */
static int bdev_io_poll(dev_t rdev)
{
	char path[96], val[16];

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/queue/io_poll", major(rdev), minor(rdev));
	if (vpio_read_file(path, val, sizeof(val)) < 0) {
		snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/../queue/io_poll", major(rdev), minor(rdev));
		if (vpio_read_file(path, val, sizeof(val)) < 0)
			return -1;
	}
	return atoi(val) != 0;
}

static int get_geometry(struct blk_uring_target *ut, const char *path, const struct stat *st, uint32_t bs_opt,
			uint64_t *bytes, uint32_t *bs)
{
	int lbs;

	if (!ut->is_bdev) {
		*bytes = (uint64_t)st->st_size;
		*bs = bs_opt != 0 ? bs_opt : BLK_URING_FILE_BS;
	} else if (bs_opt != 0) {
		VPIO_ERR(BLK_MOD, "uring:%s: bs= is for regular files; a block device has its own logical block size", path);
		return -EINVAL;
	} else if (ioctl(ut->fd, BLKGETSIZE64, bytes) != 0 || ioctl(ut->fd, BLKSSZGET, &lbs) != 0 || lbs <= 0) {
		VPIO_ERR(BLK_MOD, "uring:%s: cannot read the device's size and block size (BLKGETSIZE64/BLKSSZGET): %s", path,
			strerror(errno));
		return -errno;
	} else {
		int ro = 0;

		*bs = (uint32_t)lbs;
		/* a read-only device may still open for writing (Linux lets the
		 * writes fail): refuse them here instead */
		if (ioctl(ut->fd, BLKROGET, &ro) == 0 && ro != 0)
			ut->base.info.read_only = true;
	}
	if (*bytes == 0 || *bytes % *bs != 0) {
		VPIO_ERR(BLK_MOD, "uring:%s: %llu bytes is %s; make its size a multiple of %u (e.g. truncate -s 64M)", path,
			(unsigned long long)*bytes, *bytes == 0 ? "empty" : "not a whole number of blocks", *bs);
		return -EINVAL;
	}
	return 0;
}

/* Read block 0 with O_DIRECT, then through a ring with the channel flags. */
static int probe(struct blk_uring_target *ut, const char *path)
{
	uint32_t bs = ut->base.info.block_size;
	struct io_uring ring;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	ssize_t got;
	void *buf;
	int rc;

	if (posix_memalign(&buf, 4096, bs) != 0) {
		VPIO_ERR(BLK_MOD, "uring:%s: out of memory", path);
		return -ENOMEM;
	}
	got = pread(ut->fd, buf, bs, 0);
	if (got != (ssize_t)bs) {
		int err = got < 0 ? errno : EIO;

		rc = err == EINVAL ? -ENOTSUP : -err;
		VPIO_ERR(BLK_MOD, "uring:%s: an O_DIRECT read of %u bytes fails (%s)%s", path, bs, got < 0 ? strerror(err) : "short read",
			err == EINVAL ? ": the filesystem needs larger blocks, try bs=4096" : "");
		free(buf);
		return rc;
	}
	rc = blk_uring_ring_init(ut, &ring, 2, ut->iopoll, ut->sqpoll);
	if (rc == 0) {
		sqe = io_uring_get_sqe(&ring);
		io_uring_prep_read(sqe, 0, buf, bs, 0);
		sqe->flags |= IOSQE_FIXED_FILE;
		rc = io_uring_submit_and_wait(&ring, 1);
		if (rc >= 0)
			rc = io_uring_wait_cqe(&ring, &cqe);
		if (rc == 0) {
			rc = cqe->res == (int)bs ? 0 : cqe->res < 0 ? cqe->res : -EIO;
			io_uring_cqe_seen(&ring, cqe);
		}
		io_uring_queue_exit(&ring);
		if (rc == -EOPNOTSUPP && ut->iopoll)
			VPIO_ERR(BLK_MOD, "uring:%s: iopoll=1: the kernel refuses polled I/O on it (a block device needs poll queues, a file a filesystem that polls)",
				path);
		else if (rc != 0)
			VPIO_ERR(BLK_MOD, "uring:%s: a read through io_uring fails: %s", path, strerror(-rc));
		rc = rc == -EOPNOTSUPP ? -ENOTSUP : rc;
	}
	free(buf);
	return rc;
}

static void fill_info(struct blk_uring_target *ut, const char *path, uint64_t bytes, uint32_t bs)
{
	struct vpio_blk_info *info = &ut->base.info;

	snprintf(ut->base.name, sizeof(ut->base.name), "uring:%s", path);
	info->info_size = sizeof(*info);
	info->name = ut->base.name;
	info->backend = "uring";
	info->block_size = bs;
	info->num_blocks = bytes / bs;
	info->max_transfer_bytes = BLK_URING_MAX_XFER;
	info->max_iovcnt = BLK_URING_MAX_IOV;
	info->max_write_zeroes_blocks = UINT32_MAX; /* fallocate */
	info->max_deallocate_blocks = UINT32_MAX;
	info->max_queue_depth = VPIO_BLK_MAX_QUEUE_DEPTH;
	info->buf_align = bs; /* O_DIRECT */
	info->iopoll = ut->iopoll;
	info->sqpoll = ut->sqpoll;
	ut->base.iov_len_align = bs;
}

static int open_checked(struct blk_uring_target *ut, const struct blk_addr *a)
{
	struct stat st;
	uint64_t bytes = 0;
	uint32_t bs = 0;
	int rc;

	if (stat(a->path, &st) != 0) {
		VPIO_ERR(BLK_MOD, "uring:%s: %s", a->path,
			errno == ENOENT ? "no such file or block device" : strerror(errno));
		return -errno;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		VPIO_ERR(BLK_MOD, "uring:%s is neither a block device nor a regular file", a->path);
		return -EINVAL;
	}
	ut->is_bdev = S_ISBLK(st.st_mode);
	/* A file's I/O is polled on the device under its filesystem. */
	if (ut->iopoll && bdev_io_poll(ut->is_bdev ? st.st_rdev : st.st_dev) == 0) {
		VPIO_ERR(BLK_MOD, "uring:%s: iopoll=1 needs poll queues, and the %s has none (queue/io_poll is 0; for NVMe: nvme.poll_queues=N)",
			a->path, ut->is_bdev ? "device" : "device under the file");
		return -ENOTSUP;
	}
	ut->fd = open_fd(ut, a->path);
	if (ut->fd < 0)
		return ut->fd;
	rc = get_geometry(ut, a->path, &st, a->bs, &bytes, &bs);
	if (rc == 0) {
		fill_info(ut, a->path, bytes, bs);
		rc = probe(ut, a->path);
	}
	if (rc != 0)
		close(ut->fd);
	return rc;
}

int blk_uring_open(const struct blk_addr *a, const struct vpio_blk_opts *opts, struct vpio_blk_target **out)
{
	struct blk_uring_target *ut = calloc(1, sizeof(*ut));
	int rc;

	if (ut == NULL) {
		VPIO_ERR(BLK_MOD, "uring:%s: out of memory", a->path);
		return -ENOMEM;
	}
	ut->base.ops = &blk_uring_ops;
	ut->base.default_depth = opts->queue_depth;
	ut->iopoll = a->iopoll >= 0 ? a->iopoll == 1 : opts->iopoll;
	ut->sqpoll = a->sqpoll >= 0 ? a->sqpoll == 1 : opts->sqpoll;
	ut->sqpoll_idle_ms = opts->sqpoll_idle_ms;
	rc = open_checked(ut, a);
	if (rc != 0) {
		free(ut);
		return rc;
	}
	*out = &ut->base;
	return 0;
}

void blk_uring_close(struct vpio_blk_target *t)
{
	close(UTGT(t)->fd);
	free(t);
}
