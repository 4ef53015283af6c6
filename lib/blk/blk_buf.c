/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * I/O buffers that serve every backend: DMA memory (registered with vpio,
 * so NVMe targets can use it) that is also an io_uring fixed buffer in
 * every ring of every uring channel.
 *
 * A process-wide table of VPIO_BLK_BUF_SLOTS slots mirrors each ring's
 * sparse fixed-buffer table: a buffer's slot number is its buf_index in
 * every ring.  New rings register the whole table in one call; a new or
 * freed buffer updates every live ring (one system call each, from the
 * allocating thread: the kernel serializes it with the ring's owner).  The
 * I/O path finds a pointer's slot in a vpio memory map (VA page -> slot <<
 * 32 | offset): a few table loads, no lock.
 */
#include <errno.h>
#include <liburing.h>
#include <string.h>

#include <vpio/env.h>

#include "blk_internal.h"

#define NO_SLOT UINT64_MAX

static struct {
	pthread_mutex_t lock;
	struct vpio_mem_map *map; /* published once, read without the lock */
	struct iovec slots[VPIO_BLK_BUF_SLOTS]; /* iov_base NULL: free */
	unsigned used;
	struct blk_buf_ring *rings;
} g = { .lock = PTHREAD_MUTEX_INITIALIZER };

int blk_buf_slot(const void *p, size_t len)
{
	struct vpio_mem_map *map = __atomic_load_n(&g.map, __ATOMIC_ACQUIRE);
	uint64_t first, last;

	if (map == NULL || len == 0)
		return -1;
	first = vpio_mem_map_translate(map, (uint64_t)(uintptr_t)p, NULL);
	if (first == NO_SLOT)
		return -1;
	last = vpio_mem_map_translate(map, (uint64_t)(uintptr_t)p + len - 1, NULL);
	return last != NO_SLOT && last >> 32 == first >> 32 ? (int)(first >> 32) : -1;
}

/* Point slot `slot` of every ring at iov (an empty iovec clears it).  On
 * failure the rings already updated are cleared again. */
static int rings_update(unsigned slot, const struct iovec *iov)
{
	static const struct iovec empty = { NULL, 0 };
	int rc = 0;

	for (struct blk_buf_ring *r = g.rings; r != NULL; r = r->next) {
		rc = io_uring_register_buffers_update_tag(r->ring, slot, iov, NULL, 1);
		if (rc >= 0)
			continue;
		for (struct blk_buf_ring *u = g.rings; u != r; u = u->next)
			io_uring_register_buffers_update_tag(u->ring, slot, &empty, NULL, 1);
		return rc;
	}
	return 0;
}

static int slot_take(void *p, size_t len)
{
	unsigned slot = 0;
	int rc;

	if (g.map == NULL) {
		struct vpio_mem_map *map = vpio_mem_map_alloc(NO_SLOT, NULL, NULL);

		if (map == NULL) {
			VPIO_ERR(BLK_MOD, "vpio_blk_buf_alloc: cannot create the buffer map (out of memory)");
			return -ENOMEM;
		}
		__atomic_store_n(&g.map, map, __ATOMIC_RELEASE);
	}
	if (g.used == VPIO_BLK_BUF_SLOTS) {
		VPIO_ERR(BLK_MOD, "vpio_blk_buf_alloc: %u buffers are alive, the most there can be; allocate fewer, larger ones and carve them",
			VPIO_BLK_BUF_SLOTS);
		return -ENOSPC;
	}
	while (g.slots[slot].iov_base != NULL)
		slot++;
	g.slots[slot] = (struct iovec){ p, len };
	rc = rings_update(slot, &g.slots[slot]);
	if (rc != 0) {
		VPIO_ERR(BLK_MOD, "vpio_blk_buf_alloc: io_uring refuses %zu bytes as a fixed buffer: %s%s", len, strerror(-rc),
			rc == -ENOMEM ? " (locked-memory limit? see ulimit -l)" : "");
	} else {
		rc = vpio_mem_map_set_translation(g.map, (uint64_t)(uintptr_t)p, len, (uint64_t)slot << 32);
		if (rc != 0) {
			VPIO_ERR(BLK_MOD, "vpio_blk_buf_alloc: cannot record the buffer (%s)", strerror(-rc));
			rings_update(slot, &(struct iovec){ NULL, 0 });
		}
	}
	if (rc != 0)
		g.slots[slot] = (struct iovec){ NULL, 0 };
	else
		g.used++;
	return rc;
}

void *vpio_blk_buf_alloc(size_t size)
{
	size_t len = VPIO_ALIGN_UP(size, (size_t)VPIO_PAGE_SIZE_4K);
	void *p;
	int rc;

	if (size == 0 || size > VPIO_BLK_BUF_MAX) {
		VPIO_ERR(BLK_MOD, "vpio_blk_buf_alloc: %zu bytes: a buffer is 1 byte to %llu MiB (the io_uring fixed-buffer limit)",
			size, VPIO_BLK_BUF_MAX >> 20);
		return NULL;
	}
	p = vpio_dma_malloc(len, VPIO_PAGE_SIZE_4K);
	if (p == NULL) {
		VPIO_ERR(BLK_MOD, "vpio_blk_buf_alloc: no %zu bytes of DMA memory%s", len,
			vpio_env_is_init() ? " left (reserve more: vpio_env_opts.mem_size_mb)" : ": call vpio_env_init() first");
		return NULL;
	}
	pthread_mutex_lock(&g.lock);
	rc = slot_take(p, len);
	pthread_mutex_unlock(&g.lock);
	if (rc != 0) {
		vpio_dma_free(p);
		return NULL;
	}
	return p;
}

void vpio_blk_buf_free(void *buf)
{
	uint64_t tr;
	unsigned slot;

	if (buf == NULL)
		return;
	pthread_mutex_lock(&g.lock);
	tr = g.map != NULL ? vpio_mem_map_translate(g.map, (uint64_t)(uintptr_t)buf, NULL) : NO_SLOT;
	slot = (unsigned)(tr >> 32);
	if (tr == NO_SLOT || g.slots[slot].iov_base != buf) {
		pthread_mutex_unlock(&g.lock);
		VPIO_ERR(BLK_MOD, "vpio_blk_buf_free(%p): not a buffer from vpio_blk_buf_alloc() (or its start); nothing freed", buf);
		return;
	}
	vpio_mem_map_clear_translation(g.map, (uint64_t)(uintptr_t)buf, g.slots[slot].iov_len);
	rings_update(slot, &(struct iovec){ NULL, 0 });
	g.slots[slot] = (struct iovec){ NULL, 0 };
	g.used--;
	pthread_mutex_unlock(&g.lock);
	vpio_dma_free(buf);
}

int blk_buf_ring_add(struct blk_buf_ring *r)
{
	unsigned used;
	int rc;

	pthread_mutex_lock(&g.lock);
	used = g.used;
	rc = io_uring_register_buffers_sparse(r->ring, VPIO_BLK_BUF_SLOTS);
	if (rc == 0 && g.used > 0) {
		rc = io_uring_register_buffers_update_tag(r->ring, 0, g.slots, NULL, VPIO_BLK_BUF_SLOTS);
		rc = rc < 0 ? rc : 0;
		if (rc != 0)
			io_uring_unregister_buffers(r->ring);
	}
	if (rc == 0) {
		r->next = g.rings;
		g.rings = r;
	}
	pthread_mutex_unlock(&g.lock);
	if (rc != 0)
		VPIO_ERR(BLK_MOD, "io_uring refuses the fixed-buffer table (%u slots, %u buffers): %s%s", VPIO_BLK_BUF_SLOTS,
			used, strerror(-rc), rc == -ENOMEM ? " (locked-memory limit? see ulimit -l)" : "");
	return rc;
}

void blk_buf_ring_remove(struct blk_buf_ring *r)
{
	pthread_mutex_lock(&g.lock);
	for (struct blk_buf_ring **p = &g.rings; *p != NULL; p = &(*p)->next) {
		if (*p == r) {
			*p = r->next;
			break;
		}
	}
	pthread_mutex_unlock(&g.lock);
}
