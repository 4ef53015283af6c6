/* SPDX-License-Identifier: BSD-3-Clause */
/* Targets: options, open by address, info, close. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "blk_internal.h"

pthread_mutex_t blk_lock = PTHREAD_MUTEX_INITIALIZER;

VPIO_ABI_SIZE(struct vpio_blk_opts, 24);
VPIO_ABI_FIELD(struct vpio_blk_opts, opts_size, 0);
VPIO_ABI_FIELD(struct vpio_blk_opts, queue_depth, 8);
VPIO_ABI_FIELD(struct vpio_blk_opts, iopoll, 12);
VPIO_ABI_FIELD(struct vpio_blk_opts, sqpoll, 13);
VPIO_ABI_FIELD(struct vpio_blk_opts, sqpoll_idle_ms, 16);
VPIO_ABI_SIZE(struct vpio_blk_info, 72);
VPIO_ABI_FIELD(struct vpio_blk_info, info_size, 0);
VPIO_ABI_FIELD(struct vpio_blk_info, name, 8);
VPIO_ABI_FIELD(struct vpio_blk_info, backend, 16);
VPIO_ABI_FIELD(struct vpio_blk_info, block_size, 24);
VPIO_ABI_FIELD(struct vpio_blk_info, num_blocks, 32);
VPIO_ABI_FIELD(struct vpio_blk_info, max_transfer_bytes, 40);
VPIO_ABI_FIELD(struct vpio_blk_info, max_iovcnt, 44);
VPIO_ABI_FIELD(struct vpio_blk_info, max_write_zeroes_blocks, 48);
VPIO_ABI_FIELD(struct vpio_blk_info, max_deallocate_blocks, 52);
VPIO_ABI_FIELD(struct vpio_blk_info, max_queue_depth, 56);
VPIO_ABI_FIELD(struct vpio_blk_info, buf_align, 60);
VPIO_ABI_FIELD(struct vpio_blk_info, nsid, 64);
VPIO_ABI_FIELD(struct vpio_blk_info, read_only, 68);
VPIO_ABI_FIELD(struct vpio_blk_info, emulated, 69);
VPIO_ABI_FIELD(struct vpio_blk_info, iopoll, 70);
VPIO_ABI_FIELD(struct vpio_blk_info, sqpoll, 71);

static const struct vpio_blk_opts g_opts_default = {
	.opts_size = sizeof(struct vpio_blk_opts),
	.queue_depth = BLK_DEFAULT_QUEUE_DEPTH,
	.sqpoll_idle_ms = 1000,
};

int vpio_blk_opts_init_sized(struct vpio_blk_opts *opts, size_t opts_size)
{
	return vpio_opts_init_sized(BLK_MOD, "vpio_blk_opts_init", opts, opts_size, &g_opts_default,
				    sizeof(g_opts_default));
}

int blk_opts_resolve(const char *address, const struct vpio_blk_opts *in, struct vpio_blk_opts *out)
{
	*out = g_opts_default;
	if (vpio_opts_import(BLK_MOD, address, out, sizeof(*out), in,
			     "fill the options with vpio_blk_opts_init(&opts)") != 0)
		return -EINVAL;
	if (out->queue_depth > VPIO_BLK_MAX_QUEUE_DEPTH) {
		VPIO_ERR(BLK_MOD, "%s: queue depth %u is above the %u a channel can have", address, out->queue_depth,
			VPIO_BLK_MAX_QUEUE_DEPTH);
		return -EINVAL;
	}
	if (out->queue_depth == 0)
		out->queue_depth = BLK_DEFAULT_QUEUE_DEPTH;
	if (out->sqpoll_idle_ms == 0)
		out->sqpoll_idle_ms = 1000;
	return 0;
}

int vpio_blk_open(const char *address, const struct vpio_blk_opts *opts, struct vpio_blk_target **targets,
		  unsigned max_targets, unsigned *n_targets)
{
	struct vpio_blk_opts o;
	struct blk_addr *a;
	int rc;

	if (targets == NULL || max_targets == 0 || n_targets == NULL) {
		VPIO_ERR(BLK_MOD, "vpio_blk_open(%s): targets, max_targets and n_targets must be given", address ? address : "NULL");
		return -EINVAL;
	}
	*n_targets = 0;
	a = malloc(sizeof(*a)); /* PATH_MAX inside: not for the stack */
	if (a == NULL) {
		VPIO_ERR(BLK_MOD, "vpio_blk_open(%s): out of memory", address ? address : "NULL");
		return -ENOMEM;
	}
	rc = blk_addr_parse(address, a);
	if (rc == 0)
		rc = blk_opts_resolve(address, opts, &o);
	if (rc == 0) {
		pthread_mutex_lock(&blk_lock);
		if (a->kind == BLK_KIND_URING) {
			rc = blk_uring_open(a, &o, &targets[0]);
			*n_targets = rc == 0;
		} else {
			rc = blk_nvme_open(a, &o, targets, max_targets, n_targets);
		}
		pthread_mutex_unlock(&blk_lock);
	}
	free(a);
	return rc;
}

int vpio_blk_close(struct vpio_blk_target *t)
{
	int rc = 0;

	if (t == NULL)
		return 0;
	pthread_mutex_lock(&blk_lock);
	if (t->channels > 0) {
		VPIO_ERR(BLK_MOD, "%s: cannot close: %u channel(s) still exist; destroy them first", t->name, t->channels);
		rc = -EBUSY;
	} else {
		t->ops->close(t);
	}
	pthread_mutex_unlock(&blk_lock);
	return rc;
}

int vpio_blk_get_info_sized(const struct vpio_blk_target *t, struct vpio_blk_info *info, size_t info_size)
{
	if (t == NULL) {
		VPIO_ERR(BLK_MOD, "vpio_blk_get_info: target is NULL");
		return -EINVAL;
	}
	return vpio_struct_export(BLK_MOD, "vpio_blk_get_info", info, info_size, &t->info, sizeof(t->info));
}
