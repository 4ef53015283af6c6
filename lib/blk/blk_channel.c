/* SPDX-License-Identifier: BSD-3-Clause */
/* Channels: creation, the pool of request contexts, destruction, stats. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "blk_internal.h"

int blk_channel_init(struct vpio_blk_channel *ch, struct vpio_blk_target *t, uint32_t depth, uint32_t iov_per_req)
{
	struct iovec *iovs = NULL;

	memset(ch, 0, sizeof(*ch));
	ch->reqs = calloc(depth, sizeof(*ch->reqs));
	if (iov_per_req > 0)
		iovs = calloc((size_t)depth * iov_per_req, sizeof(*iovs));
	if (ch->reqs == NULL || (iov_per_req > 0 && iovs == NULL)) {
		VPIO_ERR(BLK_MOD, "%s: out of memory for %u request contexts", t->name, depth);
		free(ch->reqs);
		free(iovs);
		return -ENOMEM;
	}
	ch->t = t;
	ch->ops = t->ops;
	ch->depth = depth;
	for (uint32_t i = depth; i-- > 0;) {
		struct blk_req *req = &ch->reqs[i];

		req->ch = ch;
		req->iov = iovs != NULL ? iovs + (size_t)i * iov_per_req : NULL;
		req->next_free = ch->free_list;
		ch->free_list = req;
	}
	return 0;
}

void blk_channel_fini(struct vpio_blk_channel *ch)
{
	if (ch->reqs != NULL)
		free(ch->reqs[0].iov); /* the iovec block starts with request 0's */
	free(ch->reqs);
	ch->reqs = NULL;
}

int vpio_blk_channel_create(struct vpio_blk_target *t, uint32_t queue_depth, struct vpio_blk_channel **ch)
{
	int rc;

	if (t == NULL || ch == NULL) {
		VPIO_ERR(BLK_MOD, "vpio_blk_channel_create: %s is NULL", t == NULL ? "the target" : "ch");
		return -EINVAL;
	}
	if (queue_depth == 0)
		queue_depth = VPIO_MIN(t->default_depth, t->info.max_queue_depth);
	if (queue_depth > t->info.max_queue_depth) {
		VPIO_ERR(BLK_MOD, "%s: queue depth %u is above the %u a channel of this target can have", t->name, queue_depth,
			t->info.max_queue_depth);
		return -EINVAL;
	}
	rc = t->ops->channel_create(t, queue_depth, ch);
	if (rc == 0) {
		pthread_mutex_lock(&blk_lock);
		t->channels++;
		pthread_mutex_unlock(&blk_lock);
	}
	return rc;
}

int vpio_blk_channel_destroy(struct vpio_blk_channel *ch)
{
	struct vpio_blk_target *t;

	if (ch == NULL)
		return 0;
	if (ch->in_callback > 0) {
		VPIO_ERR(BLK_MOD, "%s: a channel cannot be destroyed from one of its own callbacks; destroy it after vpio_blk_poll() returns",
			ch->t->name);
		return -EBUSY;
	}
	t = ch->t;
	ch->ops->channel_destroy(ch);
	pthread_mutex_lock(&blk_lock);
	t->channels--;
	pthread_mutex_unlock(&blk_lock);
	return 0;
}

struct vpio_blk_target *vpio_blk_channel_get_target(const struct vpio_blk_channel *ch)
{
	return ch != NULL ? ch->t : NULL;
}

uint32_t vpio_blk_channel_get_depth(const struct vpio_blk_channel *ch)
{
	return ch != NULL ? ch->depth : 0;
}

uint32_t vpio_blk_channel_get_outstanding(const struct vpio_blk_channel *ch)
{
	return ch != NULL ? ch->outstanding : 0;
}

int vpio_blk_channel_get_nvme(struct vpio_blk_channel *ch, struct vpio_nvme_ns **ns, struct vpio_nvme_qpair **qp)
{
	if (ch == NULL || ns == NULL || qp == NULL) {
		VPIO_ERR(BLK_MOD, "vpio_blk_channel_get_nvme: NULL argument");
		return -EINVAL;
	}
	if (ch->t->ops->get_nvme == NULL) {
		VPIO_ERR(BLK_MOD, "%s: a %s channel has no NVMe qpair under it", ch->t->name, ch->t->ops->name);
		return -ENOTSUP;
	}
	ch->t->ops->get_nvme(ch, ns, qp);
	return 0;
}

VPIO_ABI_SIZE(struct vpio_blk_channel_stats, 56);
VPIO_ABI_FIELD(struct vpio_blk_channel_stats, stats_size, 0);
VPIO_ABI_FIELD(struct vpio_blk_channel_stats, submitted, 8);
VPIO_ABI_FIELD(struct vpio_blk_channel_stats, completed, 16);
VPIO_ABI_FIELD(struct vpio_blk_channel_stats, errors, 24);
VPIO_ABI_FIELD(struct vpio_blk_channel_stats, batches, 32);
VPIO_ABI_FIELD(struct vpio_blk_channel_stats, syscalls, 40);
VPIO_ABI_FIELD(struct vpio_blk_channel_stats, polls, 48);

int vpio_blk_channel_get_stats_sized(const struct vpio_blk_channel *ch, struct vpio_blk_channel_stats *st,
				     size_t stats_size)
{
	struct vpio_blk_channel_stats all;

	if (ch == NULL) {
		VPIO_ERR(BLK_MOD, "vpio_blk_channel_get_stats: channel is NULL");
		return -EINVAL;
	}
	if (vpio_struct_out_check(BLK_MOD, "vpio_blk_channel_get_stats", st, stats_size) != 0)
		return -EINVAL;
	all = ch->st;
	if (ch->ops->stats != NULL)
		ch->ops->stats(ch, &all);
	return vpio_struct_export(BLK_MOD, "vpio_blk_channel_get_stats", st, stats_size, &all, sizeof(all));
}
