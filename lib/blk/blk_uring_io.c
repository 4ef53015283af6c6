/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * uring I/O: requests become SQEs on the registered file (fixed-buffer
 * reads and writes when the buffer is a blk buffer), handed to the kernel
 * by one io_uring_submit() per batch; completions are reaped from the CQ
 * ring in user space (with iopoll and no sqpoll, io_uring_enter() polls
 * the device when the CQ is empty).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "blk_uring.h"

static inline struct io_uring_sqe *sqe_get(struct blk_uring_channel *uc, bool aux)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(aux ? &uc->aux : &uc->ring);

	if (blk_likely(sqe != NULL) && aux) {
		uc->aux_unsubmitted++;
	} else if (blk_likely(sqe != NULL)) {
		uc->ring_unsubmitted++;
		uc->ring_inflight++;
	}
	return sqe;
}

static int uring_submit_rw(struct vpio_blk_channel *ch, struct blk_req *req, const struct iovec *iov, int iovcnt,
			   uint64_t lba, uint32_t nblocks)
{
	struct blk_uring_channel *uc = UCH(ch);
	struct io_uring_sqe *sqe = sqe_get(uc, false);
	uint64_t off = lba * ch->t->info.block_size;
	bool rd = req->op == BLK_OP_READ;
	int slot;

	(void)nblocks;
	if (blk_unlikely(sqe == NULL))
		return -EAGAIN; /* the SQ is full of unsubmitted entries: poll */
	if (iovcnt == 1) {
		slot = blk_buf_slot(iov->iov_base, iov->iov_len);
		if (slot >= 0 && rd)
			io_uring_prep_read_fixed(sqe, 0, iov->iov_base, (unsigned)iov->iov_len, off, slot);
		else if (slot >= 0)
			io_uring_prep_write_fixed(sqe, 0, iov->iov_base, (unsigned)iov->iov_len, off, slot);
		else if (rd)
			io_uring_prep_read(sqe, 0, iov->iov_base, (unsigned)iov->iov_len, off);
		else
			io_uring_prep_write(sqe, 0, iov->iov_base, (unsigned)iov->iov_len, off);
	} else {
		memcpy(req->iov, iov, (size_t)iovcnt * sizeof(*iov)); /* the kernel may read it after we return */
		if (rd)
			io_uring_prep_readv(sqe, 0, req->iov, (unsigned)iovcnt, off);
		else
			io_uring_prep_writev(sqe, 0, req->iov, (unsigned)iovcnt, off);
	}
	sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data(sqe, req);
	return 0;
}

static void prep_misc(struct blk_uring_channel *uc, struct io_uring_sqe *sqe, struct blk_req *req)
{
	uint32_t bs = uc->base.t->info.block_size;
	int mode = FALLOC_FL_KEEP_SIZE;

	if (req->op == BLK_OP_FLUSH) {
		io_uring_prep_fsync(sqe, 0, IORING_FSYNC_DATASYNC);
	} else {
		if (req->op == BLK_OP_WRITE_ZEROES && !uc->no_zero_range)
			mode |= FALLOC_FL_ZERO_RANGE;
		else
			mode |= FALLOC_FL_PUNCH_HOLE;
		io_uring_prep_fallocate(sqe, 0, mode, (off_t)(req->lba * bs), (off_t)((uint64_t)req->nblocks * bs));
	}
	sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data(sqe, req);
}

static int uring_submit_misc(struct vpio_blk_channel *ch, struct blk_req *req, uint64_t lba, uint32_t nblocks)
{
	struct blk_uring_channel *uc = UCH(ch);
	struct io_uring_sqe *sqe = sqe_get(uc, uc->has_aux);

	if (blk_unlikely(sqe == NULL))
		return -EAGAIN;
	req->lba = lba;
	req->nblocks = nblocks;
	prep_misc(uc, sqe, req);
	return 0;
}

/* Hand a ring's prepared SQEs to the kernel: one io_uring_submit(). */
static int ring_submit(struct blk_uring_channel *uc, struct io_uring *ring, uint32_t *unsubmitted)
{
	bool sqpoll = ring->flags & IORING_SETUP_SQPOLL;
	int rc;

	if (*unsubmitted == 0)
		return 0;
	if (!sqpoll || (IO_URING_READ_ONCE(*ring->sq.kflags) & IORING_SQ_NEED_WAKEUP))
		uc->base.st.syscalls++;
	rc = io_uring_submit(ring);
	if (blk_unlikely(rc < 0)) {
		if (rc == -EAGAIN || rc == -EBUSY || rc == -EINTR)
			return 0; /* the kernel is short of something: the SQEs stay, retry at the next poll */
		VPIO_ERR(BLK_MOD, "%s: io_uring_submit fails: %s", uc->base.t->name, strerror(-rc));
		return rc;
	}
	uc->base.st.batches++;
	/* with sqpoll every prepared SQE is now the kernel thread's */
	*unsubmitted = sqpoll || (uint32_t)rc >= *unsubmitted ? 0 : *unsubmitted - (uint32_t)rc;
	return rc;
}

static int uring_submit(struct vpio_blk_channel *ch)
{
	struct blk_uring_channel *uc = UCH(ch);
	int n = ring_submit(uc, &uc->ring, &uc->ring_unsubmitted), m = 0;

	if (uc->has_aux && n >= 0)
		m = ring_submit(uc, &uc->aux, &uc->aux_unsubmitted);
	return n < 0 ? n : m < 0 ? m : n + m;
}

/* A completion's status; false when the request went back to the kernel
 * (write zeroes retried as a punched hole). */
static bool cqe_status(struct blk_uring_channel *uc, struct blk_req *req, int res, int *status)
{
	if (blk_unlikely(res == -EOPNOTSUPP && req->op == BLK_OP_WRITE_ZEROES && !req->retried &&
			 !UTGT(uc->base.t)->is_bdev)) {
		struct io_uring_sqe *sqe = sqe_get(uc, uc->has_aux);

		uc->no_zero_range = true; /* from now on, for this channel */
		if (sqe != NULL) {
			req->retried = 1;
			prep_misc(uc, sqe, req);
			return false;
		}
	}
	if (res >= 0)
		*status = req->len == 0 || (uint32_t)res == req->len ? 0 : -EIO; /* short transfer */
	else
		*status = res;
	return true;
}

static uint32_t reap(struct blk_uring_channel *uc, struct io_uring *ring, uint32_t max)
{
	struct io_uring_cqe *cqe;
	uint32_t seen = 0, done = 0;
	unsigned head;

	io_uring_for_each_cqe(ring, head, cqe) {
		struct blk_req *req = io_uring_cqe_get_data(cqe);
		int status;

		if (done == max)
			break;
		seen++;
		if (ring == &uc->ring)
			uc->ring_inflight--;
		if (cqe_status(uc, req, cqe->res, &status)) {
			blk_req_done(&uc->base, req, status);
			done++;
		}
	}
	io_uring_cq_advance(ring, seen);
	return done;
}

int blk_uring_poll(struct vpio_blk_channel *ch, uint32_t max)
{
	struct blk_uring_channel *uc = UCH(ch);
	uint32_t n;
	int rc = uring_submit(ch);

	if (blk_unlikely(rc < 0))
		return rc;
	n = reap(uc, &uc->ring, max);
	if (n == 0 && uc->getevents && uc->ring_inflight > 0) {
		ch->st.syscalls++;
		rc = io_uring_get_events(&uc->ring); /* polls the device once */
		if (blk_unlikely(rc < 0 && rc != -EAGAIN && rc != -EINTR && rc != -EBUSY)) {
			VPIO_ERR(BLK_MOD, "%s: io_uring_enter (polling) fails: %s", ch->t->name, strerror(-rc));
			return rc;
		}
		n = reap(uc, &uc->ring, max);
	}
	if (uc->has_aux && n < max)
		n += reap(uc, &uc->aux, max - n);
	rc = uring_submit(ch); /* what the callbacks queued */
	return rc < 0 ? rc : (int)n;
}

const struct blk_ops blk_uring_ops = {
	.name = "uring",
	.channel_create = blk_uring_channel_create,
	.channel_destroy = blk_uring_channel_destroy,
	.submit_rw = uring_submit_rw,
	.submit_misc = uring_submit_misc,
	.submit = uring_submit,
	.poll = blk_uring_poll,
	.stats = NULL,
	.close = blk_uring_close,
};
