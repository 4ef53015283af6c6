/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One engine thread per channel of the emulated XDMA device.  After a
 * rising edge of Run it walks the descriptor list: it fetches a block
 * (the first descriptor and its adjacent ones) through the emulated
 * IOMMU, checks each descriptor as hardware does, moves its data
 * (emu_xdma_move.c), counts it, writes the poll-mode writeback word after a
 * descriptor with COMPLETED, and goes idle after one with STOP (Run stays
 * set; busy goes to 0 after its writeback, so a driver that read busy = 0
 * has every word of the run) or when Run is cleared (after the current
 * descriptor).  Errors set Status bits (those whose ie_ bits are set in
 * Control) and stop it.
 *
 * Idle engines back off: they spin 5 us after work, then yield the core
 * until 1 ms, then nap (50 us until 20 ms, then 1 ms); while the device
 * is closed they sleep on a condition variable.
 */
#include <sched.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "emu_xdma_internal.h"

#define SPIN_NS 5000ull	/* busy-poll this long after work (short: engines share a core) */
#define YIELD_NS 1000000ull	/* then yield until this */
#define NAP_NS 20000000ull	/* then 50 us naps until this, then 1 ms */
#define NAP_SHORT_NS 50000u	/* (tens of thousands of wake-ups a second
				 * would take a sizeable part of the core
				 * from a busy engine or program there) */
/* descriptor error: unsupported request */
#define ST_DESC_UR (1u << (VPIO_XDMA_ST_DESC_ERROR_SHIFT + VPIO_XDMA_PCIE_UR))

static uint32_t ctrl(struct emu_xdma_engine *e)
{
	return emu_xdma_get(e->x, e->base + VPIO_XDMA_CH_CONTROL);
}

static uint32_t *status(struct emu_xdma_engine *e)
{
	return emu_xdma_reg(e->x, e->base + VPIO_XDMA_CH_STATUS);
}

/* Set Status bits; count the interrupt the card would raise for them.
 * Channel enable bits: H2C channels first, then C2H. */
static void status_set(struct emu_xdma_engine *e, uint32_t bits)
{
	struct vpio_emu_xdma *x = e->x;
	uint32_t irq_bit = 1u << (e->c2h ? x->opts.h2c + e->ch : e->ch);

	if (bits == 0)
		return;
	__atomic_fetch_or(status(e), bits, __ATOMIC_SEQ_CST);
	if ((bits & emu_xdma_get(x, e->base + VPIO_XDMA_CH_IRQ_MASK)) &&
	    (emu_xdma_get(x, VPIO_XDMA_BLOCK(VPIO_XDMA_TGT_IRQ, 0) + VPIO_XDMA_IRQ_CHAN_EN) & irq_bit))
		emu_xdma_stat(&x->stats.interrupts, 1);
}

static void go_idle(struct emu_xdma_engine *e)
{
	if (e->stuck) { /* the STUCK fault ends with the run it held */
		__atomic_fetch_and(&e->fault_bits, ~EMU_XF(STUCK), __ATOMIC_ACQ_REL);
		e->stuck = false;
	}
	e->running = false;
	e->stream_done = 0;
	/* busy first: a Run edge that saw finishing = 0 sees busy = 0 */
	__atomic_fetch_and(status(e), ~VPIO_XDMA_ST_BUSY, __ATOMIC_SEQ_CST);
	__atomic_store_n(&e->finishing, 0, __ATOMIC_SEQ_CST);
}

/* The poll-mode writeback word: the completed count, bit 31 when Status
 * holds an error bit. */
static void writeback(struct emu_xdma_engine *e)
{
	struct vpio_emu_xdma *x = e->x;
	uint32_t err_mask = e->c2h ? VPIO_XDMA_ST_C2H_ERRORS : VPIO_XDMA_ST_H2C_ERRORS;
	uint32_t word = (e->count & VPIO_XDMA_WB_COUNT_MASK) |
			((__atomic_load_n(status(e), __ATOMIC_SEQ_CST) & err_mask) ? VPIO_XDMA_WB_ERR : 0);
	uint64_t addr = emu_xdma_get(x, e->base + VPIO_XDMA_CH_WB_LO) |
			(uint64_t)emu_xdma_get(x, e->base + VPIO_XDMA_CH_WB_HI) << 32;
	uint32_t *p;

	if (__builtin_expect(__atomic_load_n(&e->fault_bits, __ATOMIC_ACQUIRE) != 0, 0)) {
		pthread_mutex_lock(&x->lock);
		if ((e->fault_bits & EMU_XF(DROP_WB)) && e->drop_wb_left > 0) {
			if (--e->drop_wb_left == 0)
				__atomic_fetch_and(&e->fault_bits, ~EMU_XF(DROP_WB), __ATOMIC_RELEASE);
			pthread_mutex_unlock(&x->lock);
			return;
		}
		if (e->fault_bits & EMU_XF(CORRUPT_WB)) {
			word = e->corrupt_word ? e->corrupt_word : word | VPIO_XDMA_WB_RESERVED;
			__atomic_fetch_and(&e->fault_bits, ~EMU_XF(CORRUPT_WB), __ATOMIC_RELEASE);
		}
		pthread_mutex_unlock(&x->lock);
	}
	p = vpio_iova_to_vaddr(addr, 4);
	if (p == NULL || addr % 4 != 0) {
		emu_xdma_stat(&x->stats.iommu_faults, p == NULL);
		emu_xdma_host_error(x, "%s %s: poll-mode writeback address 0x%llx is %s; the word was dropped", x->name,
				    e->label, (unsigned long long)addr, p == NULL ? "not registered (IOMMU fault)" : "not 4-byte aligned");
		return;
	}
	__atomic_store_n(p, word, __ATOMIC_RELEASE);
	emu_xdma_stat(&x->stats.writebacks, 1);
}

void emu_xdma_engine_error(struct emu_xdma_engine *e, uint32_t bits, const char *why)
{
	struct vpio_emu_xdma *x = e->x;
	uint32_t c = ctrl(e), logged = bits & c & VPIO_XDMA_ST_CLEARABLE;

	if (logged != bits)
		emu_xdma_host_error(x, "%s %s: %s (Status 0x%08x), but its ie_ bits are off in Control 0x%08x: not reported",
				    x->name, e->label, why, bits, c);
	status_set(e, logged);
	emu_xdma_stat(&x->stats.engine_errors, 1);
	VPIO_INFO(EMU_MOD, "%s %s: engine stopped: %s (Status bits 0x%08x)", x->name, e->label, why, bits);
	if (x->opts.errwb && (c & VPIO_XDMA_CTRL_POLLMODE_WB))
		writeback(e);
	go_idle(e);
}

/* Fetch the next block of descriptors into e->blk; false when the engine
 * stopped on an error. */
static bool fetch_block(struct emu_xdma_engine *e)
{
	struct vpio_emu_xdma *x = e->x;
	uint32_t n = e->cur_adj + 1;
	const void *p;

	if (emu_xdma_take_fault(e, EMU_XF(DESC))) {
		emu_xdma_engine_error(e, VPIO_XDMA_ST_MAGIC_STOPPED | ST_DESC_UR,
				      "injected descriptor fetch error");
		return false;
	}
	if (e->cur % VPIO_XDMA_DESC_ALIGN != 0 ||
	    (e->cur % VPIO_XDMA_DESC_BLOCK_BOUNDARY) + (uint64_t)n * 32 > VPIO_XDMA_DESC_BLOCK_BOUNDARY) {
		emu_xdma_host_error(x, "%s %s: descriptor block at 0x%llx with %u adjacent %s", x->name, e->label,
				    (unsigned long long)e->cur, n - 1,
				    e->cur % 32 ? "is not 32-byte aligned" : "crosses a 4 KiB boundary");
		emu_xdma_engine_error(e, ST_DESC_UR,
				      "bad descriptor block address");
		return false;
	}
	p = vpio_iova_to_vaddr(e->cur, (uint64_t)n * 32);
	if (p == NULL) {
		emu_xdma_stat(&x->stats.iommu_faults, 1);
		emu_xdma_host_error(x, "%s %s: descriptor fetch from 0x%llx (%u descriptors): not registered (IOMMU fault)",
				    x->name, e->label, (unsigned long long)e->cur, n);
		/* as seen on hardware: unsupported request and magic stopped */
		emu_xdma_engine_error(e, VPIO_XDMA_ST_MAGIC_STOPPED | ST_DESC_UR,
				      "descriptor fetch IOMMU fault");
		return false;
	}
	if (emu_xdma_take_fault(e, EMU_XF(MAGIC))) {
		emu_xdma_engine_error(e, VPIO_XDMA_ST_MAGIC_STOPPED, "injected bad descriptor magic");
		return false;
	}
	memcpy(e->blk, p, (size_t)n * 32);
	e->blk_n = n;
	e->blk_i = 0;
	return true;
}

/* Check what the hardware checks before it moves a descriptor's data;
 * 0 or the Status error bits. */
static uint32_t check_desc(struct emu_xdma_engine *e, const struct vpio_xdma_desc *d)
{
	struct vpio_emu_xdma *x = e->x;
	uint32_t len = d->len & VPIO_XDMA_DESC_LEN_MASK;

	if (VPIO_XDMA_DESC_GET_MAGIC(d->control) != VPIO_XDMA_DESC_MAGIC) {
		emu_xdma_host_error(x, "%s %s: descriptor %u of the run has magic 0x%04x (not 0x%04x)", x->name, e->label,
				    e->count, VPIO_XDMA_DESC_GET_MAGIC(d->control), VPIO_XDMA_DESC_MAGIC);
		return VPIO_XDMA_ST_MAGIC_STOPPED;
	}
	if (len == 0 || (d->len & ~VPIO_XDMA_DESC_LEN_MASK) != 0) {
		emu_xdma_host_error(x, "%s %s: descriptor %u of the run has length field 0x%08x (1..2^28-1 bytes, bits 31:28 zero)",
				    x->name, e->label, e->count, d->len);
		return 1u << (VPIO_XDMA_ST_DESC_ERROR_SHIFT + VPIO_XDMA_PCIE_UR);
	}
	if (len % x->opts.gran != 0) {
		emu_xdma_host_error(x, "%s %s: descriptor %u of the run has length %u, not a multiple of the granularity %u",
				    x->name, e->label, e->count, len, x->opts.gran);
		return e->stream ? VPIO_XDMA_ST_INVALID_LENGTH : VPIO_XDMA_ST_ALIGN_MISMATCH;
	}
	return 0;
}

/* Run the descriptor at blk_i; returns true when it made progress. */
static bool run_desc(struct emu_xdma_engine *e)
{
	const struct vpio_xdma_desc *d = &e->blk[e->blk_i];
	uint32_t err, c = ctrl(e);

	if (e->stream_done == 0) {
		err = check_desc(e, d);
		if (err != 0) {
			emu_xdma_engine_error(e, err, "invalid descriptor");
			return true;
		}
	}
	__atomic_store_n(&e->in_dma, 1, __ATOMIC_SEQ_CST);
	err = emu_xdma_move(e, d);
	__atomic_store_n(&e->in_dma, 0, __ATOMIC_SEQ_CST);
	__atomic_fetch_add(&e->dma_epoch, 1, __ATOMIC_SEQ_CST);
	if (err == EMU_XDMA_AGAIN)
		return false;
	if (err != 0) {
		emu_xdma_engine_error(e, err, "data transfer error");
		return true;
	}
	e->count++;
	emu_xdma_set(e->x, e->base + VPIO_XDMA_CH_COMPLETED, e->count);
	emu_xdma_stat(&e->x->stats.descriptors, 1);
	if ((d->control & VPIO_XDMA_DESC_COMPLETED) && (c & VPIO_XDMA_CTRL_IE_DESC_COMPLETED))
		status_set(e, VPIO_XDMA_ST_DESC_COMPLETED);
	if (d->control & VPIO_XDMA_DESC_STOP) {
		if (c & VPIO_XDMA_CTRL_IE_DESC_STOPPED)
			status_set(e, VPIO_XDMA_ST_DESC_STOPPED);
		/* a driver that sees the final count may set Run again at
		 * once: not "Run set while busy" (emu_xdma_regs.c) */
		__atomic_store_n(&e->finishing, 1, __ATOMIC_SEQ_CST);
	}
	if ((d->control & VPIO_XDMA_DESC_COMPLETED) && (c & VPIO_XDMA_CTRL_POLLMODE_WB))
		writeback(e);
	if (d->control & VPIO_XDMA_DESC_STOP) {
		/* idle after the writeback: a driver that cleared Run and
		 * read busy = 0 takes the word as final and reuses it */
		go_idle(e);
		return true;
	}
	if (++e->blk_i == e->blk_n) {
		e->cur = (uint64_t)d->nxt_hi << 32 | d->nxt_lo;
		e->cur_adj = VPIO_XDMA_DESC_GET_ADJ(d->control);
		e->blk_n = 0;
	}
	return true;
}

static bool halted(struct emu_xdma_engine *e)
{
	uint32_t h = emu_xdma_get(e->x, VPIO_XDMA_BLOCK(VPIO_XDMA_TGT_SGDMA_COMMON, 0) + VPIO_XDMA_COMMON_HALT);

	return (h & VPIO_XDMA_COMMON_BIT(e->c2h, e->ch)) != 0;
}

/* One step of a running engine: a descriptor (or a wait); true on progress. */
static bool step(struct emu_xdma_engine *e)
{
	uint32_t seq = __atomic_load_n(&e->start_seq, __ATOMIC_ACQUIRE);

	if (seq != e->seen_seq || !(ctrl(e) & VPIO_XDMA_CTRL_RUN)) {
		/* Run cleared (or restarted): stop after the current descriptor */
		if (e->stream_done != 0)
			VPIO_INFO(EMU_MOD, "%s %s: Run cleared in the middle of a stream descriptor (%llu bytes moved)",
				 e->x->name, e->label, (unsigned long long)e->stream_done);
		go_idle(e);
		return true;
	}
	if (__builtin_expect(__atomic_load_n(&e->fault_bits, __ATOMIC_ACQUIRE) & EMU_XF(STUCK), 0)) {
		e->stuck = true; /* until Run is cleared (above) */
		return false;
	}
	if (halted(e))
		return false;
	if (e->blk_n == 0 && !fetch_block(e))
		return true;
	return run_desc(e);
}

static void begin_run(struct emu_xdma_engine *e, uint32_t seq)
{
	e->seen_seq = seq;
	/* a run that begins with STUCK armed is held until Run is cleared */
	e->stuck = (__atomic_load_n(&e->fault_bits, __ATOMIC_ACQUIRE) & EMU_XF(STUCK)) != 0;
	/* busy first, then look at Run: a driver that cleared Run and then
	 * read busy = 0 is sure that this run touches nothing */
	__atomic_fetch_or(status(e), VPIO_XDMA_ST_BUSY, __ATOMIC_SEQ_CST);
	if (!(ctrl(e) & VPIO_XDMA_CTRL_RUN)) {
		go_idle(e);
		return;
	}
	e->running = true;
	e->cur = __atomic_load_n(&e->start_desc, __ATOMIC_RELAXED);
	e->cur_adj = __atomic_load_n(&e->start_adj, __ATOMIC_RELAXED);
	e->count = 0;
	e->blk_n = 0;
	e->stream_done = 0;
}

/* ------------------------------------------------------------ thread */

static void nap(uint64_t ns)
{
	struct timespec ts = { 0, (long)ns };

	nanosleep(&ts, NULL);
}

static inline void relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield");
#endif
}

/* Wait while the device is closed; false when the thread must exit. */
static bool park(struct emu_xdma_engine *e)
{
	struct vpio_emu_xdma *x = e->x;
	bool go;

	pthread_mutex_lock(&x->lock);
	while (!__atomic_load_n(&x->stop, __ATOMIC_ACQUIRE) && !__atomic_load_n(&x->open, __ATOMIC_ACQUIRE))
		pthread_cond_wait(&x->cond, &x->lock);
	go = !__atomic_load_n(&x->stop, __ATOMIC_ACQUIRE);
	pthread_mutex_unlock(&x->lock);
	return go;
}

void *emu_xdma_engine_thread(void *arg)
{
	struct emu_xdma_engine *e = arg;
	struct vpio_emu_xdma *x = e->x;
	uint64_t idle_since = 0;
	unsigned iters = 0;

	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	for (;;) {
		uint32_t seq;
		bool work = false;

		/* closed, or the device going away while open (at exit) */
		if (__builtin_expect(!__atomic_load_n(&x->open, __ATOMIC_ACQUIRE) || __atomic_load_n(&x->stop, __ATOMIC_ACQUIRE),
				     0)) {
			if (e->running)
				go_idle(e);
			if (!park(e))
				break;
			idle_since = 0;
			continue;
		}
		seq = __atomic_load_n(&e->start_seq, __ATOMIC_ACQUIRE);
		if (seq != e->seen_seq) {
			begin_run(e, seq);
			work = true;
		}
		if (e->running)
			work |= step(e);
		if (work) {
			idle_since = 0;
			iters = 0;
			continue;
		}
		if ((++iters & 63) != 0) {
			relax();
			continue;
		}
		if (idle_since == 0) {
			idle_since = emu_now_ns();
			continue;
		}
		{
			uint64_t idle = emu_now_ns() - idle_since;

			if (idle < SPIN_NS)
				relax();
			else if (idle < YIELD_NS)
				sched_yield();
			else
				nap(idle < NAP_NS || e->running ? NAP_SHORT_NS : 1000000);
		}
	}
	return NULL;
}
