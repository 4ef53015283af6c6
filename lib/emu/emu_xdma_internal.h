/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/emu internals: the emulated XDMA device ("emu:xdma").
 *
 * One device = one object in a registry of its own + one engine thread per
 * present channel (H2C n and C2H n are separate engines).  The DMA config
 * BAR is a register file in memory whose side effects (write 1 to set or
 * clear, clear-on-read, the rising edge of Run) are carried out by the
 * BAR accessors (emu_xdma_regs.c), on the thread of the access; the engine
 * threads only walk descriptor lists and move data (emu_xdma_engine.c,
 * emu_xdma_move.c).  Card memory is sparse anonymous memory; a stream engine
 * pair (H2C n -> C2H n) is joined by a byte FIFO that keeps packet ends
 * (emu_xdma_stream.c).
 */
#ifndef VPIO_EMU_XDMA_INTERNAL_H
#define VPIO_EMU_XDMA_INTERNAL_H

#include <vpio/xdma_spec.h>

#include "emu_internal.h"

#define EMU_XDMA_BARS_MAX 3
#define EMU_XDMA_USER_BAR_SIZE 0x10000u /* AXI-Lite BAR: a 64 KiB register file */
#define EMU_XDMA_MAX_MEM (1ull << 40)
#define EMU_XDMA_HOST_ERR_LEN 256

enum emu_xdma_bar_kind {
	EMU_XBAR_CFG = 1,  /* DMA config registers */
	EMU_XBAR_USER,	   /* AXI-Lite master: user registers */
	EMU_XBAR_BYPASS,   /* DMA bypass: card memory */
};

/* Options, in the order of their names (emu_xdma_opts.c); "set" has bit
 * 1 << option for each one given. */
enum emu_xdma_opt { XO_H2C, XO_C2H, XO_MEM, XO_STREAM, XO_BARS, XO_BAR64, XO_ALIGN, XO_GRAN, XO_ADDRBITS, XO_ERRWB,
		    XO_CORRUPT, XO_COUNT };

struct emu_xdma_opts {
	uint32_t h2c, c2h;	/* channels per direction, 0..4 */
	uint64_t mem;		/* card memory bytes */
	bool stream;		/* AXI4-Stream engines (loopback) instead of AXI-MM */
	uint8_t bars[EMU_XDMA_BARS_MAX]; /* enum emu_xdma_bar_kind, in BAR order */
	uint32_t nbars;
	bool bar64;		/* 64-bit BARs: BAR0/2/4 */
	uint32_t align, gran, addrbits; /* the alignments register */
	bool errwb;		/* an error stop writes the writeback word (Sts_err) */
	uint64_t corrupt;	/* the corrupt=N-th memory-mapped C2H descriptor reads
				 * a flipped first byte; 0: never */
	uint32_t set;		/* 1 << enum emu_xdma_opt: given explicitly */
};

void emu_xdma_opts_default(struct emu_xdma_opts *o);
/* Parse "k=v&k=v" (NULL or "" = defaults) over the defaults.  -EINVAL
 * with one log line naming the option. */
int emu_xdma_opts_parse(const char *name, const char *str, struct emu_xdma_opts *o);
/* Name of the first option set in want that differs from have, or NULL. */
const char *emu_xdma_opts_conflict(const struct emu_xdma_opts *have, const struct emu_xdma_opts *want);
/* "user,cfg,bypass" into buf. */
void emu_xdma_bars_fmt(const struct emu_xdma_opts *o, char *buf, size_t len);

/* ------------------------------------------------------------ stream */

/* A single-producer single-consumer byte FIFO with packet ends: the H2C
 * stream engine n writes, C2H stream engine n reads. */
#define EMU_XDMA_FIFO_BYTES (256u * 1024)
#define EMU_XDMA_FIFO_EOPS 4096u

struct emu_xdma_fifo {
	uint8_t *buf;		 /* EMU_XDMA_FIFO_BYTES */
	uint64_t head, tail;	 /* bytes read / written (atomic) */
	uint64_t eop[EMU_XDMA_FIFO_EOPS]; /* byte positions where packets end */
	uint64_t eop_head, eop_tail;	  /* atomic */
};

int emu_xdma_fifo_init(struct emu_xdma_fifo *f);
void emu_xdma_fifo_free(struct emu_xdma_fifo *f);
void emu_xdma_fifo_reset(struct emu_xdma_fifo *f); /* nobody uses it */
/* Producer: copy up to len bytes in; returns how many fit. */
uint64_t emu_xdma_fifo_put(struct emu_xdma_fifo *f, const void *src, uint64_t len);
/* Producer: put a packet's last byte and its end together; false when
 * there is no room for either (retry). */
bool emu_xdma_fifo_put_last(struct emu_xdma_fifo *f, const void *byte);
/* Consumer: copy out up to len bytes, never across a packet end; *eop
 * when the copy reached one (dst NULL: drop them). */
uint64_t emu_xdma_fifo_get(struct emu_xdma_fifo *f, void *dst, uint64_t len, bool *eop);

/* ------------------------------------------------------------ device */

/* Faults armed on an engine: bit 1 << enum vpio_emu_xdma_fault (under
 * the device lock; the bits are atomic). */
#define EMU_XF(name) (1u << VPIO_EMU_XDMA_FAULT_##name)

struct vpio_emu_xdma;

struct emu_xdma_engine {
	struct vpio_emu_xdma *x;
	bool c2h;
	uint32_t ch;
	bool stream;
	uint32_t base;		/* channel block offset in the config BAR */
	char label[8];		/* "H2C 0" */

	/* the register side (accessors, any thread) publishes a rising edge
	 * of Run: the latched first descriptor, then start_seq (release) */
	uint64_t start_desc;
	uint32_t start_adj;
	uint32_t start_seq;

	/* engine thread */
	pthread_t thread;
	bool thread_started;
	uint32_t seen_seq;
	bool running;		/* walking a list */
	uint64_t cur;		/* next block */
	uint32_t cur_adj;
	uint32_t count;		/* descriptors completed since Run rose */
	struct vpio_xdma_desc blk[VPIO_XDMA_DESC_ADJ_MAX + 1]; /* the block fetched */
	uint32_t blk_n, blk_i;	/* descriptors in it, the current one */
	uint64_t stream_done;	/* stream: bytes of the current descriptor so far */
	bool stuck;		/* the STUCK fault holds it */
	uint32_t in_dma;	/* atomic: inside a descriptor (unmap watch) */
	uint32_t dma_epoch;	/* atomic: bumped after each descriptor */
	uint32_t finishing;	/* atomic: past its STOP descriptor, still busy
				 * until that one's writeback is out */

	/* faults (armed under x->lock) */
	uint32_t fault_bits;	/* atomic */
	uint64_t drop_wb_left;
	uint32_t corrupt_word;
};

struct vpio_emu_xdma {
	/* identity and configuration (read-only after creation) */
	char name[EMU_NAME_LEN];
	unsigned idx;
	struct emu_xdma_opts opts;
	int cfg_bar;		/* BAR index of each kind, -1 if absent */
	int user_bar;
	int bypass_bar;
	uint64_t bar_len[VPIO_PCI_BAR_MAX];
	uint8_t *regs;		/* config BAR: VPIO_XDMA_CONFIG_BAR_SIZE */
	uint8_t *user;		/* user BAR: EMU_XDMA_USER_BAR_SIZE */
	struct emu_store mem;	/* card memory (bypass BAR) */
	uint8_t cfg[4096];	/* PCI config space (lock) */
	uint32_t bar_mask_lo[VPIO_PCI_BAR_MAX]; /* config space BAR sizing */

	/* engines: [0..3] H2C, [4..7] C2H; absent ones have no thread */
	struct emu_xdma_engine eng[2 * VPIO_XDMA_MAX_CHANNELS];
	struct emu_xdma_fifo fifo[VPIO_XDMA_MAX_CHANNELS];

	/* lifecycle */
	pthread_mutex_t lock;
	pthread_cond_t cond;	/* engines park on it while closed */
	bool open;		/* atomic */
	bool stop;		/* atomic: engine threads exit */
	uint32_t reset_seq;	/* atomic: bumped by a function reset */
	struct vpio_mem_map *watch;
	bool watch_closing;	/* atomic */

	/* host errors: counted, the last one kept (lock) */
	char host_err[EMU_XDMA_HOST_ERR_LEN];
	unsigned host_err_logs;	/* log lines left */
	unsigned iommu_logs;

	/* counters (atomic adds) */
	struct vpio_emu_xdma_stats stats;
	uint64_t c2h_mm_descs;	/* atomic: for opts.corrupt */
};

static inline struct emu_xdma_engine *emu_xdma_eng(struct vpio_emu_xdma *x, bool c2h, uint32_t ch)
{
	return &x->eng[(c2h ? VPIO_XDMA_MAX_CHANNELS : 0) + ch];
}
static inline bool emu_xdma_present(const struct vpio_emu_xdma *x, bool c2h, uint32_t ch)
{
	return ch < (c2h ? x->opts.c2h : x->opts.h2c);
}
/* A register word of the config BAR. */
static inline uint32_t *emu_xdma_reg(struct vpio_emu_xdma *x, uint32_t off)
{
	return (uint32_t *)(void *)(x->regs + off);
}
static inline uint32_t emu_xdma_get(struct vpio_emu_xdma *x, uint32_t off)
{
	return __atomic_load_n(emu_xdma_reg(x, off), __ATOMIC_SEQ_CST);
}
static inline void emu_xdma_set(struct vpio_emu_xdma *x, uint32_t off, uint32_t v)
{
	__atomic_store_n(emu_xdma_reg(x, off), v, __ATOMIC_SEQ_CST);
}
static inline void emu_xdma_stat(uint64_t *c, uint64_t n)
{
	__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

/* emu_xdma_regs.c: the register model */
void emu_xdma_regs_init(struct vpio_emu_xdma *x); /* power-on values */
uint32_t emu_xdma_reg_read(struct vpio_emu_xdma *x, uint32_t off);
void emu_xdma_reg_write(struct vpio_emu_xdma *x, uint32_t off, uint32_t val);

/* emu_xdma_engine.c: the engine threads */
void *emu_xdma_engine_thread(void *arg);
/* The engine stops on an error: Status bits (those enabled by ie_ bits),
 * the writeback with Sts_err when errwb=1, busy cleared. */
void emu_xdma_engine_error(struct emu_xdma_engine *e, uint32_t bits, const char *why);
/* Take a one-shot fault armed on e (true once). */
static inline bool emu_xdma_take_fault(struct emu_xdma_engine *e, uint32_t bit)
{
	if (__builtin_expect(!(__atomic_load_n(&e->fault_bits, __ATOMIC_ACQUIRE) & bit), 1))
		return false;
	return (__atomic_fetch_and(&e->fault_bits, ~bit, __ATOMIC_ACQ_REL) & bit) != 0;
}

/* emu_xdma_move.c: one descriptor's data; returns 0 or the Status error bits
 * (the engine stops).  Stream C2H may return EMU_XDMA_AGAIN: no data yet. */
#define EMU_XDMA_AGAIN 0xffffffffu
uint32_t emu_xdma_move(struct emu_xdma_engine *e, const struct vpio_xdma_desc *d);

/* emu_xdma_dev.c: object, registry, unregistration watch */
int emu_xdma_open(const char *canon, unsigned idx, const char *opts, struct vpio_pci_device **dev);
int emu_xdma_destroy(const char *canon);
void emu_xdma_destroy_all(void);
void emu_xdma_closed(struct vpio_emu_xdma *x);
/* Stop every engine and bring the registers to power-on values (card
 * memory stays).  Waits until no engine touches host memory. */
void emu_xdma_reset(struct vpio_emu_xdma *x);
/* One line for a host error (what hardware would not report): counted,
 * kept for vpio_emu_xdma_last_host_error(), logged the first times. */
void emu_xdma_host_error(struct vpio_emu_xdma *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* emu_xdma_pci.c: the device handle */
extern const struct vpio_pci_device_ops emu_xdma_pci_ops;
void emu_xdma_cfg_init(struct vpio_emu_xdma *x);
int emu_xdma_pci_fill(struct vpio_emu_xdma *x, struct vpio_pci_device **dev);

#endif
