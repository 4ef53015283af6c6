/* SPDX-License-Identifier: BSD-3-Clause */
/* Targets: options, open by address, info, close. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "blk_internal.h"

pthread_mutex_t blk_lock = PTHREAD_MUTEX_INITIALIZER;

static void opts_default(struct vpio_blk_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->opts_size = sizeof(*o);
	o->queue_depth = BLK_DEFAULT_QUEUE_DEPTH;
	o->sqpoll_idle_ms = 1000;
}

void vpio_blk_opts_init(struct vpio_blk_opts *opts, size_t opts_size)
{
	struct vpio_blk_opts d;

	if (opts == NULL || opts_size < sizeof(opts->opts_size))
		return;
	opts_default(&d);
	d.opts_size = VPIO_MIN(opts_size, sizeof(d));
	memcpy(opts, &d, d.opts_size);
}

void blk_opts_resolve(const struct vpio_blk_opts *in, struct vpio_blk_opts *out)
{
	opts_default(out);
	if (in != NULL)
		memcpy(out, in, VPIO_MIN(in->opts_size, sizeof(*out)));
	out->opts_size = sizeof(*out);
	if (out->queue_depth == 0)
		out->queue_depth = BLK_DEFAULT_QUEUE_DEPTH;
	if (out->sqpoll_idle_ms == 0)
		out->sqpoll_idle_ms = 1000;
}

static int check_opts(const char *address, const struct vpio_blk_opts *opts)
{
	if (opts != NULL && opts->opts_size < offsetof(struct vpio_blk_opts, queue_depth)) {
		VPIO_ERR(BLK_MOD, "%s: opts->opts_size is %zu: fill the options with vpio_blk_opts_init(&opts, sizeof(opts))",
			address, opts->opts_size);
		return -EINVAL;
	}
	if (opts != NULL && opts->opts_size > offsetof(struct vpio_blk_opts, queue_depth) &&
	    opts->queue_depth > VPIO_BLK_MAX_QUEUE_DEPTH) {
		VPIO_ERR(BLK_MOD, "%s: queue depth %u is above the %u a channel can have", address, opts->queue_depth,
			VPIO_BLK_MAX_QUEUE_DEPTH);
		return -EINVAL;
	}
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
		rc = check_opts(address, opts);
	if (rc == 0) {
		blk_opts_resolve(opts, &o);
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

int vpio_blk_get_info(const struct vpio_blk_target *t, struct vpio_blk_info *info)
{
	size_t min = offsetof(struct vpio_blk_info, backend) + sizeof(info->backend), size;

	if (t == NULL || info == NULL || info->info_size < min) {
		VPIO_ERR(BLK_MOD, "vpio_blk_get_info: %s; set info.info_size = sizeof(info)",
			t == NULL ? "target is NULL" : info == NULL ? "info is NULL" : "info.info_size is too small");
		return -EINVAL;
	}
	size = VPIO_MIN(info->info_size, sizeof(*info));
	memcpy((char *)info + sizeof(info->info_size), (const char *)&t->info + sizeof(info->info_size),
	       size - sizeof(info->info_size));
	return 0;
}
