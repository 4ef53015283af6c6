/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Guard regions around buffers handed to a device.  A device writes what
 * the specification says, not what the host meant (Identify writes 4096
 * bytes whatever the buffer; a read writes NLB + 1 blocks), so every data
 * buffer of the functional tests and the VM tools sits between two
 * registered guard regions filled with a pattern, and the guards are
 * checked after each command: a device (or a driver) that writes past a
 * buffer is caught where it happens, not when DPDK's heap or another
 * buffer falls over later.  Not tied to CUnit (the VM tools use it too);
 * thread-safe.
 *
 * One translation unit of each program defines DMA_GUARD_IMPLEMENTATION
 * before including this header, and so holds the code and the table of
 * live buffers (the build compiles each source once, for one program).
 * Layout: [front guard | len bytes | back guard], the back guard starting
 * right after the last byte, so a single byte too many is seen.
 */
#ifndef VPIO_TEST_DMA_GUARD_H
#define VPIO_TEST_DMA_GUARD_H

#include <stdbool.h>
#include <stddef.h>

#define DMA_GUARD_LEN 4096u /* bytes of pattern on each side */

/* len bytes of DMA memory (vpio_dma_malloc), zeroed, starting on a 4 KiB
 * boundary, between two guard regions of DMA memory; NULL (one line on
 * stderr) when out of memory or when too many are live. */
void *dma_guard_alloc(size_t len);
/* The same in plain heap memory, not registered: register it, guards
 * included, with dma_guard_register() (vpio_mem_register's result). */
void *dma_guard_alloc_heap(size_t len);
int dma_guard_register(void *buf);
int dma_guard_unregister(void *buf);
/* Whether both guards of buf are intact; when not, one line on stderr
 * names the buffer, the side and the first changed byte. */
bool dma_guard_ok(const void *buf);
/* Check every live guarded buffer: how many have a broken guard. */
unsigned dma_guard_check_all(void);
/* Check, then free (unregistering heap memory still registered); NULL is
 * fine.  Returns whether the guards were intact. */
bool dma_guard_free(void *buf);

#ifdef DMA_GUARD_IMPLEMENTATION
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vpio/env.h>

#define DMA_GUARD_MAX_LIVE 256

struct dg_buf {
	uint8_t *base; /* NULL: slot free */
	uint8_t *user;
	size_t len, total;
	bool heap, registered;
};

static struct dg_buf dg_live[DMA_GUARD_MAX_LIVE];
static pthread_mutex_t dg_lock = PTHREAD_MUTEX_INITIALIZER;

/* The guard pattern: not zero, not all one value, never what a device
 * would write by chance over a whole region. */
static uint8_t dg_pattern(size_t i)
{
	return (uint8_t)(0xa5u ^ (i * 0x3bu) ^ (i >> 8));
}

static void dg_fill(uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = dg_pattern(i);
}

/* Offset of the first byte that differs from the pattern, or len. */
static size_t dg_first_bad(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] != dg_pattern(i))
			return i;
	}
	return len;
}

static void *dg_alloc(size_t len, bool heap)
{
	size_t total = DMA_GUARD_LEN + len + DMA_GUARD_LEN;
	struct dg_buf *g = NULL;
	uint8_t *base;
	unsigned i;

	total = (total + 4095u) & ~(size_t)4095u; /* whole pages (registration) */
	base = heap ? aligned_alloc(4096, total) : vpio_dma_malloc(total, 4096);
	if (base == NULL) {
		fprintf(stderr, "dma_guard: no %s memory for a guarded buffer of %zu bytes\n", heap ? "heap" : "DMA",
			len);
		return NULL;
	}
	pthread_mutex_lock(&dg_lock);
	for (i = 0; i < DMA_GUARD_MAX_LIVE && g == NULL; i++) {
		if (dg_live[i].base == NULL)
			g = &dg_live[i];
	}
	if (g != NULL)
		*g = (struct dg_buf){ base, base + DMA_GUARD_LEN, len, total, heap, false };
	pthread_mutex_unlock(&dg_lock);
	if (g == NULL) {
		fprintf(stderr, "dma_guard: more than %d guarded buffers live\n", DMA_GUARD_MAX_LIVE);
		if (heap)
			free(base);
		else
			vpio_dma_free(base);
		return NULL;
	}
	dg_fill(base, DMA_GUARD_LEN);
	memset(base + DMA_GUARD_LEN, 0, len);
	dg_fill(base + DMA_GUARD_LEN + len, total - DMA_GUARD_LEN - len);
	return base + DMA_GUARD_LEN;
}

void *dma_guard_alloc(size_t len)
{
	return dg_alloc(len, false);
}

void *dma_guard_alloc_heap(size_t len)
{
	return dg_alloc(len, true);
}

/* The slot of buf (lock held), NULL (and a line) when it is not one. */
static struct dg_buf *dg_find(const void *buf, const char *what)
{
	for (unsigned i = 0; i < DMA_GUARD_MAX_LIVE; i++) {
		if (dg_live[i].base != NULL && dg_live[i].user == buf)
			return &dg_live[i];
	}
	fprintf(stderr, "dma_guard: %s: %p is not a live guarded buffer\n", what, buf);
	return NULL;
}

static bool dg_check(const struct dg_buf *g)
{
	size_t front = dg_first_bad(g->base, DMA_GUARD_LEN);
	size_t back_len = g->total - DMA_GUARD_LEN - g->len;
	size_t back = dg_first_bad(g->user + g->len, back_len);

	if (front < DMA_GUARD_LEN)
		fprintf(stderr, "dma_guard: buffer %p (%zu bytes): front guard overwritten, %zu bytes before it\n",
			(void *)g->user, g->len, (size_t)DMA_GUARD_LEN - front);
	if (back < back_len)
		fprintf(stderr, "dma_guard: buffer %p (%zu bytes): back guard overwritten at byte %zu past its end\n",
			(void *)g->user, g->len, back);
	return front == DMA_GUARD_LEN && back == back_len;
}

bool dma_guard_ok(const void *buf)
{
	struct dg_buf *g;
	bool ok = false;

	pthread_mutex_lock(&dg_lock);
	g = dg_find(buf, "check");
	if (g != NULL)
		ok = dg_check(g);
	pthread_mutex_unlock(&dg_lock);
	return ok;
}

unsigned dma_guard_check_all(void)
{
	unsigned i, bad = 0;

	pthread_mutex_lock(&dg_lock);
	for (i = 0; i < DMA_GUARD_MAX_LIVE; i++)
		bad += dg_live[i].base != NULL && !dg_check(&dg_live[i]);
	pthread_mutex_unlock(&dg_lock);
	return bad;
}

static int dg_set_registered(void *buf, bool on)
{
	struct dg_buf *g;
	int rc = -1;

	pthread_mutex_lock(&dg_lock);
	g = dg_find(buf, on ? "register" : "unregister");
	if (g != NULL && g->heap && g->registered != on) {
		rc = on ? vpio_mem_register(g->base, g->total) : vpio_mem_unregister(g->base, g->total);
		if (rc == 0)
			g->registered = on;
	}
	pthread_mutex_unlock(&dg_lock);
	return rc;
}

int dma_guard_register(void *buf)
{
	return dg_set_registered(buf, true);
}

int dma_guard_unregister(void *buf)
{
	return dg_set_registered(buf, false);
}

bool dma_guard_free(void *buf)
{
	struct dg_buf *g, copy;
	bool ok;

	if (buf == NULL)
		return true;
	pthread_mutex_lock(&dg_lock);
	g = dg_find(buf, "free");
	if (g == NULL) {
		pthread_mutex_unlock(&dg_lock);
		return false;
	}
	copy = *g;
	g->base = NULL;
	pthread_mutex_unlock(&dg_lock);
	ok = dg_check(&copy);
	if (!copy.heap) {
		vpio_dma_free(copy.base);
		return ok;
	}
	if (copy.registered)
		vpio_mem_unregister(copy.base, copy.total);
	free(copy.base);
	return ok;
}
#endif /* DMA_GUARD_IMPLEMENTATION */

#endif
