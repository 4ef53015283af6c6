/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The emulated XDMA device object: creation (BAR layout, register file,
 * card memory, FIFOs, engine threads, unregistration watch), function
 * reset, host errors, and the registry of devices by canonical name.  A
 * device outlives its handles: closing resets it and keeps its card
 * memory until vpio_emu_destroy() or the end of the process.
 */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "emu_xdma_internal.h"

#define HOST_ERR_LOG_LINES 20u
#define MAX_DEVICES 64u

/* ------------------------------------------------------- host errors */

void emu_xdma_host_error(struct vpio_emu_xdma *x, const char *fmt, ...)
{
	char msg[EMU_XDMA_HOST_ERR_LEN];
	bool log;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&x->lock);
	memcpy(x->host_err, msg, sizeof(msg));
	log = x->host_err_logs > 0;
	if (log)
		x->host_err_logs--;
	__atomic_fetch_add(&x->stats.host_errors, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&x->lock);
	if (log)
		VPIO_ERR(EMU_MOD, "host error: %s%s", msg,
			 x->host_err_logs == 0 ? " (further host errors of this device are counted, not logged)" : "");
}

/* ------------------------------------------------------- the object */

static uint64_t bar_size(const struct emu_xdma_opts *o, uint8_t kind)
{
	switch (kind) {
	case EMU_XBAR_CFG: return VPIO_XDMA_CONFIG_BAR_SIZE;
	case EMU_XBAR_USER: return EMU_XDMA_USER_BAR_SIZE;
	default: return o->mem;
	}
}

static void layout_bars(struct vpio_emu_xdma *x)
{
	int slot = 0;

	x->cfg_bar = x->user_bar = x->bypass_bar = -1;
	for (uint32_t i = 0; i < x->opts.nbars; i++) {
		uint8_t k = x->opts.bars[i];

		x->bar_len[slot] = bar_size(&x->opts, k);
		if (k == EMU_XBAR_CFG)
			x->cfg_bar = slot;
		else if (k == EMU_XBAR_USER)
			x->user_bar = slot;
		else
			x->bypass_bar = slot;
		slot += x->opts.bar64 ? 2 : 1;
	}
}

static void *map_zeroed(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static int alloc_state(struct vpio_emu_xdma *x)
{
	int rc;

	x->regs = map_zeroed(VPIO_XDMA_CONFIG_BAR_SIZE);
	x->user = map_zeroed(EMU_XDMA_USER_BAR_SIZE);
	if (x->regs == NULL || x->user == NULL) {
		VPIO_ERR(EMU_MOD, "%s: out of memory for the register files", x->name);
		return -ENOMEM;
	}
	rc = emu_store_open(&x->mem, EMU_STORE_MEM, x->opts.mem, NULL);
	if (rc != 0)
		return rc;
	for (uint32_t ch = 0; ch < VPIO_XDMA_MAX_CHANNELS && x->opts.stream; ch++) {
		if (emu_xdma_fifo_init(&x->fifo[ch]) != 0) {
			VPIO_ERR(EMU_MOD, "%s: out of memory for the stream FIFOs", x->name);
			return -ENOMEM;
		}
	}
	return 0;
}

static void stop_threads(struct vpio_emu_xdma *x)
{
	pthread_mutex_lock(&x->lock);
	__atomic_store_n(&x->stop, true, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&x->cond);
	pthread_mutex_unlock(&x->lock);
	for (unsigned i = 0; i < VPIO_ARRAY_SIZE(x->eng); i++) {
		if (x->eng[i].thread_started)
			pthread_join(x->eng[i].thread, NULL);
		x->eng[i].thread_started = false;
	}
}

static void free_xdma(struct vpio_emu_xdma *x)
{
	if (x->watch != NULL) {
		/* freeing the map replays every region as unregistered: ignore it */
		__atomic_store_n(&x->watch_closing, true, __ATOMIC_RELEASE);
		vpio_mem_map_free(&x->watch);
	}
	stop_threads(x);
	for (uint32_t ch = 0; ch < VPIO_XDMA_MAX_CHANNELS; ch++)
		emu_xdma_fifo_free(&x->fifo[ch]);
	emu_store_close(&x->mem);
	if (x->regs != NULL)
		munmap(x->regs, VPIO_XDMA_CONFIG_BAR_SIZE);
	if (x->user != NULL)
		munmap(x->user, EMU_XDMA_USER_BAR_SIZE);
	pthread_mutex_destroy(&x->lock);
	pthread_cond_destroy(&x->cond);
	free(x);
}

/* The unmap side of the emulated IOMMU: an unregistration returns only
 * once no engine is inside a descriptor that started before it. */
static int watch_notify(void *ctx, struct vpio_mem_map *map, enum vpio_mem_map_action action, void *vaddr, size_t len)
{
	struct vpio_emu_xdma *x = ctx;

	(void)map;
	(void)vaddr;
	(void)len;
	if (action != VPIO_MEM_MAP_UNREGISTER || __atomic_load_n(&x->watch_closing, __ATOMIC_ACQUIRE))
		return 0;
	for (unsigned i = 0; i < VPIO_ARRAY_SIZE(x->eng); i++) {
		struct emu_xdma_engine *e = &x->eng[i];
		uint32_t epoch = __atomic_load_n(&e->dma_epoch, __ATOMIC_SEQ_CST);

		while (e->thread_started && __atomic_load_n(&e->in_dma, __ATOMIC_SEQ_CST) &&
		       __atomic_load_n(&e->dma_epoch, __ATOMIC_SEQ_CST) == epoch)
			sched_yield();
	}
	return 0;
}

static const struct vpio_mem_map_ops g_watch_ops = { .notify = watch_notify };

static int start_engines(struct vpio_emu_xdma *x)
{
	for (uint32_t d = 0; d < 2; d++) {
		for (uint32_t ch = 0; ch < VPIO_XDMA_MAX_CHANNELS; ch++) {
			struct emu_xdma_engine *e = emu_xdma_eng(x, d == 1, ch);
			char tname[16];
			int rc;

			e->x = x;
			e->c2h = d == 1;
			e->ch = ch;
			e->stream = x->opts.stream;
			e->base = VPIO_XDMA_BLOCK(d, ch);
			snprintf(e->label, sizeof(e->label), "%s %u", d ? "C2H" : "H2C", ch);
			if (!emu_xdma_present(x, e->c2h, ch))
				continue;
			rc = -pthread_create(&e->thread, NULL, emu_xdma_engine_thread, e);
			if (rc != 0) {
				VPIO_ERR(EMU_MOD, "%s: cannot start the %s engine thread: %s", x->name, e->label,
					 strerror(-rc));
				return rc;
			}
			e->thread_started = true;
			snprintf(tname, sizeof(tname), "xdma%u-%c%u", x->idx % 1000, d ? 'c' : 'h', ch);
			pthread_setname_np(e->thread, tname);
		}
	}
	return 0;
}

static void init_fields(struct vpio_emu_xdma *x, const char *canon, unsigned idx, const struct emu_xdma_opts *o)
{
	snprintf(x->name, sizeof(x->name), "%s", canon);
	x->idx = idx;
	x->opts = *o;
	x->host_err_logs = HOST_ERR_LOG_LINES;
	pthread_mutex_init(&x->lock, NULL);
	pthread_cond_init(&x->cond, NULL);
	layout_bars(x);
}

static int create(const char *canon, unsigned idx, const struct emu_xdma_opts *o, struct vpio_emu_xdma **out)
{
	struct vpio_emu_xdma *x = calloc(1, sizeof(*x));
	int rc;

	if (x == NULL) {
		VPIO_ERR(EMU_MOD, "%s: out of memory for the device", canon);
		return -ENOMEM;
	}
	init_fields(x, canon, idx, o);
	rc = alloc_state(x);
	if (rc == 0) {
		emu_xdma_regs_init(x);
		emu_xdma_cfg_init(x);
		rc = start_engines(x);
	}
	if (rc == 0 && (x->watch = vpio_mem_map_alloc(0, &g_watch_ops, x)) == NULL) {
		VPIO_ERR(EMU_MOD, "%s: cannot watch memory unregistrations (memory map allocation failed)",
			 canon);
		rc = -ENOMEM;
	}
	if (rc != 0) {
		free_xdma(x);
		return rc;
	}
	*out = x;
	return 0;
}

void emu_xdma_reset(struct vpio_emu_xdma *x)
{
	/* Run off everywhere, then wait for every engine to be idle */
	for (unsigned i = 0; i < VPIO_ARRAY_SIZE(x->eng); i++) {
		struct emu_xdma_engine *e = &x->eng[i];

		if (!e->thread_started)
			continue;
		emu_xdma_set(x, e->base + VPIO_XDMA_CH_CONTROL, 0);
		while (__atomic_load_n(&x->open, __ATOMIC_ACQUIRE) &&
		       ((emu_xdma_get(x, e->base + VPIO_XDMA_CH_STATUS) & VPIO_XDMA_ST_BUSY) ||
			__atomic_load_n(&e->in_dma, __ATOMIC_SEQ_CST)))
			sched_yield();
		__atomic_store_n(&e->fault_bits, 0, __ATOMIC_RELEASE);
	}
	for (uint32_t ch = 0; ch < VPIO_XDMA_MAX_CHANNELS && x->opts.stream; ch++)
		emu_xdma_fifo_reset(&x->fifo[ch]);
	emu_xdma_regs_init(x);
}

/* ------------------------------------------------------- registry */

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vpio_emu_xdma *g_devs[MAX_DEVICES];
static bool g_atexit;

static int slot_of(const char *canon)
{
	for (unsigned i = 0; i < MAX_DEVICES; i++) {
		if (g_devs[i] != NULL && strcmp(g_devs[i]->name, canon) == 0)
			return (int)i;
	}
	return -1;
}

/* Drop closed devices (all = also stop the threads of open ones: exit). */
static void sweep(bool at_exit)
{
	pthread_mutex_lock(&g_lock);
	for (unsigned i = 0; i < MAX_DEVICES; i++) {
		struct vpio_emu_xdma *x = g_devs[i];

		if (x == NULL)
			continue;
		if (!__atomic_load_n(&x->open, __ATOMIC_ACQUIRE)) {
			g_devs[i] = NULL;
			free_xdma(x);
		} else if (at_exit) {
			stop_threads(x); /* the application may still map its BARs */
		}
	}
	pthread_mutex_unlock(&g_lock);
}

static void at_exit(void)
{
	sweep(true);
}

void emu_xdma_destroy_all(void)
{
	sweep(false);
}

/* An existing device may be opened again, closed and with no or the
 * same options. */
static int reopen_check(struct vpio_emu_xdma *x, const struct emu_xdma_opts *o)
{
	const char *k = emu_xdma_opts_conflict(&x->opts, o);
	bool busy = __atomic_load_n(&x->open, __ATOMIC_ACQUIRE);

	if (k == NULL && !busy)
		return 0;
	if (k != NULL)
		VPIO_ERR(EMU_MOD, "%s exists with a different '%s' option; open it without options, or vpio_emu_destroy() it first",
			 x->name, k);
	else
		VPIO_ERR(EMU_MOD, "%s is already open (one device handle at a time); close it first", x->name);
	return k != NULL ? -EEXIST : -EBUSY;
}

static int add(struct vpio_emu_xdma *x)
{
	for (unsigned i = 0; i < MAX_DEVICES; i++) {
		if (g_devs[i] == NULL) {
			g_devs[i] = x;
			if (!g_atexit)
				g_atexit = atexit(at_exit) == 0;
			return 0;
		}
	}
	VPIO_ERR(EMU_MOD, "%s: already %u emulated XDMA devices; vpio_emu_destroy() one first", x->name,
		 MAX_DEVICES);
	return -ENOSPC;
}

int emu_xdma_open(const char *canon, unsigned idx, const char *optstr, struct vpio_pci_device **dev)
{
	struct emu_xdma_opts o;
	struct vpio_emu_xdma *x = NULL;
	bool created = false;
	int rc, i;

	rc = emu_xdma_opts_parse(canon, optstr, &o);
	if (rc != 0)
		return rc;
	pthread_mutex_lock(&g_lock);
	i = slot_of(canon);
	if (i >= 0) {
		x = g_devs[i];
		rc = reopen_check(x, &o);
	} else {
		rc = create(canon, idx, &o, &x);
		created = rc == 0;
		if (rc == 0)
			rc = add(x);
	}
	if (rc == 0)
		rc = emu_xdma_pci_fill(x, dev);
	if (rc != 0) {
		if (created) {
			if (slot_of(canon) >= 0)
				g_devs[slot_of(canon)] = NULL;
			free_xdma(x);
		}
		pthread_mutex_unlock(&g_lock);
		return rc;
	}
	pthread_mutex_lock(&x->lock);
	__atomic_store_n(&x->open, true, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&x->cond);
	pthread_mutex_unlock(&x->lock);
	for (unsigned k = 0; k < VPIO_ARRAY_SIZE(x->eng); k++) {
		if (x->eng[k].thread_started && !emu_place_thread(x->eng[k].thread))
			VPIO_WARN(EMU_MOD, "%s: cannot widen the %s engine thread's CPU affinity", x->name,
				 x->eng[k].label);
	}
	pthread_mutex_unlock(&g_lock);
	return 0;
}

void emu_xdma_closed(struct vpio_emu_xdma *x)
{
	emu_xdma_reset(x);
	pthread_mutex_lock(&g_lock);
	__atomic_store_n(&x->open, false, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&g_lock);
}

int emu_xdma_destroy(const char *canon)
{
	struct vpio_emu_xdma *x;
	int i;

	pthread_mutex_lock(&g_lock);
	i = slot_of(canon);
	if (i < 0 || __atomic_load_n(&g_devs[i]->open, __ATOMIC_ACQUIRE)) {
		pthread_mutex_unlock(&g_lock);
		VPIO_ERR(EMU_MOD, "cannot destroy %s: %s", canon,
			 i < 0 ? "no such emulated device" : "it is open; close its device handle first");
		return i < 0 ? -ENOENT : -EBUSY;
	}
	x = g_devs[i];
	g_devs[i] = NULL;
	pthread_mutex_unlock(&g_lock);
	free_xdma(x);
	return 0;
}
