/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The I/O calls: every argument is checked here, the same way for every
 * backend, before a request context is taken and the backend builds the
 * command.  -EAGAIN (no free context, or the backend's queue is full) is
 * returned only after the checks, so it always means "retry after
 * polling".
 */
#include <errno.h>

#include "blk_internal.h"

static const char *const op_names[] = {
	[BLK_OP_READ] = "read",
	[BLK_OP_WRITE] = "write",
	[BLK_OP_FLUSH] = "flush",
	[BLK_OP_WRITE_ZEROES] = "write zeroes",
	[BLK_OP_DEALLOCATE] = "deallocate",
};

static int check_common(const struct vpio_blk_channel *ch, enum blk_op op, vpio_blk_cb cb)
{
	if (blk_unlikely(ch == NULL || cb == NULL)) {
		VPIO_ERR(BLK_MOD, "%s: %s is NULL", op_names[op], ch == NULL ? "the channel" : "the callback");
		return -EINVAL;
	}
	if (blk_unlikely(op != BLK_OP_READ && op != BLK_OP_FLUSH && ch->t->info.read_only)) {
		VPIO_ERR(BLK_MOD, "%s: %s is read-only", op_names[op], ch->t->name);
		return -EROFS;
	}
	return 0;
}

static int check_range(const struct vpio_blk_channel *ch, enum blk_op op, uint64_t lba, uint32_t nblocks,
		       uint32_t max_blocks)
{
	const struct vpio_blk_info *info = &ch->t->info;

	if (blk_unlikely(nblocks == 0)) {
		VPIO_ERR(BLK_MOD, "%s on %s: zero blocks", op_names[op], ch->t->name);
		return -EINVAL;
	}
	if (blk_unlikely(max_blocks == 0)) {
		VPIO_ERR(BLK_MOD, "%s: %s does not support it", op_names[op], ch->t->name);
		return -ENOTSUP;
	}
	if (blk_unlikely(nblocks > max_blocks)) {
		VPIO_ERR(BLK_MOD, "%s on %s: %u blocks is more than the %u one request can have", op_names[op], ch->t->name,
			nblocks, max_blocks);
		return -E2BIG;
	}
	if (blk_unlikely(lba >= info->num_blocks || nblocks > info->num_blocks - lba)) {
		VPIO_ERR(BLK_MOD, "%s on %s: blocks %llu..%llu are beyond the end (%llu blocks)", op_names[op], ch->t->name,
			(unsigned long long)lba, (unsigned long long)lba + nblocks - 1,
			(unsigned long long)info->num_blocks);
		return -ERANGE;
	}
	return 0;
}

static int check_iov(const struct vpio_blk_channel *ch, enum blk_op op, const struct iovec *iov, int iovcnt,
		     uint32_t nblocks)
{
	const struct vpio_blk_info *info = &ch->t->info;
	uint64_t total = 0;

	if (blk_unlikely(iov == NULL || iovcnt < 1 || (uint32_t)iovcnt > info->max_iovcnt)) {
		VPIO_ERR(BLK_MOD, "%s on %s: iovcnt %d (iov %p) must be 1..%u", op_names[op], ch->t->name, iovcnt,
			(const void *)iov, info->max_iovcnt);
		return -EINVAL;
	}
	for (int i = 0; i < iovcnt; i++) {
		uintptr_t base = (uintptr_t)iov[i].iov_base;

		if (blk_unlikely(base == 0 || base % info->buf_align != 0 ||
				 iov[i].iov_len % ch->t->iov_len_align != 0)) {
			VPIO_ERR(BLK_MOD, "%s on %s: buffer %d (%p, %zu bytes) is %s", op_names[op], ch->t->name, i,
				iov[i].iov_base, iov[i].iov_len,
				base == 0 ? "NULL" : base % info->buf_align != 0 ? "not aligned to buf_align" : "not a multiple of the block size long");
			return -EINVAL;
		}
		total += iov[i].iov_len;
	}
	if (blk_unlikely(total != (uint64_t)nblocks * info->block_size)) {
		VPIO_ERR(BLK_MOD, "%s on %s: the buffers hold %llu bytes, %u blocks are %llu", op_names[op], ch->t->name,
			(unsigned long long)total, nblocks, (unsigned long long)nblocks * info->block_size);
		return -EINVAL;
	}
	return 0;
}

static inline struct blk_req *req_get(struct vpio_blk_channel *ch, enum blk_op op, vpio_blk_cb cb, void *arg)
{
	struct blk_req *req = ch->free_list;

	if (blk_unlikely(req == NULL))
		return NULL;
	ch->free_list = req->next_free;
	req->cb = cb;
	req->arg = arg;
	req->op = (uint8_t)op;
	req->retried = 0;
	return req;
}

/* After the backend's verdict: count the request or give its context back. */
static inline int req_commit(struct vpio_blk_channel *ch, struct blk_req *req, int rc)
{
	if (blk_likely(rc == 0)) {
		ch->outstanding++;
		ch->st.submitted++;
	} else {
		req->next_free = ch->free_list;
		ch->free_list = req;
	}
	return rc;
}

static int rw(struct vpio_blk_channel *ch, enum blk_op op, const struct iovec *iov, int iovcnt, uint64_t lba,
	      uint32_t nblocks, vpio_blk_cb cb, void *arg)
{
	struct blk_req *req;
	int rc = check_common(ch, op, cb);

	if (blk_likely(rc == 0))
		rc = check_range(ch, op, lba, nblocks, ch->t->info.max_transfer_bytes / ch->t->info.block_size);
	if (blk_likely(rc == 0))
		rc = check_iov(ch, op, iov, iovcnt, nblocks);
	if (blk_unlikely(rc != 0))
		return rc;
	req = req_get(ch, op, cb, arg);
	if (blk_unlikely(req == NULL))
		return -EAGAIN;
	req->len = nblocks * ch->t->info.block_size;
	return req_commit(ch, req, ch->ops->submit_rw(ch, req, iov, iovcnt, lba, nblocks));
}

int vpio_blk_read(struct vpio_blk_channel *ch, void *buf, uint64_t lba, uint32_t nblocks, vpio_blk_cb cb,
		  void *arg)
{
	struct iovec iov = { buf, ch != NULL ? (size_t)nblocks * ch->t->info.block_size : 0 };

	return rw(ch, BLK_OP_READ, &iov, 1, lba, nblocks, cb, arg);
}

int vpio_blk_write(struct vpio_blk_channel *ch, const void *buf, uint64_t lba, uint32_t nblocks, vpio_blk_cb cb,
		   void *arg)
{
	struct iovec iov = { (void *)(uintptr_t)buf, ch != NULL ? (size_t)nblocks * ch->t->info.block_size : 0 };

	return rw(ch, BLK_OP_WRITE, &iov, 1, lba, nblocks, cb, arg);
}

int vpio_blk_readv(struct vpio_blk_channel *ch, const struct iovec *iov, int iovcnt, uint64_t lba,
		   uint32_t nblocks, vpio_blk_cb cb, void *arg)
{
	return rw(ch, BLK_OP_READ, iov, iovcnt, lba, nblocks, cb, arg);
}

int vpio_blk_writev(struct vpio_blk_channel *ch, const struct iovec *iov, int iovcnt, uint64_t lba,
		    uint32_t nblocks, vpio_blk_cb cb, void *arg)
{
	return rw(ch, BLK_OP_WRITE, iov, iovcnt, lba, nblocks, cb, arg);
}

static int misc(struct vpio_blk_channel *ch, enum blk_op op, uint64_t lba, uint32_t nblocks, vpio_blk_cb cb,
		void *arg)
{
	struct blk_req *req;
	int rc = check_common(ch, op, cb);

	if (blk_likely(rc == 0) && op != BLK_OP_FLUSH)
		rc = check_range(ch, op, lba, nblocks,
				 op == BLK_OP_WRITE_ZEROES ? ch->t->info.max_write_zeroes_blocks
							   : ch->t->info.max_deallocate_blocks);
	if (blk_unlikely(rc != 0))
		return rc;
	req = req_get(ch, op, cb, arg);
	if (blk_unlikely(req == NULL))
		return -EAGAIN;
	req->len = 0;
	return req_commit(ch, req, ch->ops->submit_misc(ch, req, lba, nblocks));
}

int vpio_blk_flush(struct vpio_blk_channel *ch, vpio_blk_cb cb, void *arg)
{
	return misc(ch, BLK_OP_FLUSH, 0, 0, cb, arg);
}

int vpio_blk_write_zeroes(struct vpio_blk_channel *ch, uint64_t lba, uint32_t nblocks, vpio_blk_cb cb, void *arg)
{
	return misc(ch, BLK_OP_WRITE_ZEROES, lba, nblocks, cb, arg);
}

int vpio_blk_deallocate(struct vpio_blk_channel *ch, uint64_t lba, uint32_t nblocks, vpio_blk_cb cb, void *arg)
{
	return misc(ch, BLK_OP_DEALLOCATE, lba, nblocks, cb, arg);
}

int vpio_blk_submit(struct vpio_blk_channel *ch)
{
	if (blk_unlikely(ch == NULL)) {
		VPIO_ERR(BLK_MOD, "vpio_blk_submit: the channel is NULL");
		return -EINVAL;
	}
	return ch->ops->submit(ch);
}

int vpio_blk_poll(struct vpio_blk_channel *ch, uint32_t max)
{
	if (blk_unlikely(ch == NULL || ch->in_callback > 0)) {
		if (ch == NULL)
			VPIO_ERR(BLK_MOD, "vpio_blk_poll: the channel is NULL");
		else
			VPIO_ERR(BLK_MOD, "%s: vpio_blk_poll() from one of the channel's own callbacks; return and poll again",
				ch->t->name);
		return ch == NULL ? -EINVAL : -EBUSY;
	}
	ch->st.polls++;
	return ch->ops->poll(ch, max == 0 || max > ch->depth ? ch->depth : max);
}
