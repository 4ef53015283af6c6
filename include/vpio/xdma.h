/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpio's polled XDMA driver: AMD/Xilinx DMA/Bridge Subsystem for PCI
 * Express (PG195) cards, driven from user space (doc/xdma.md has the long
 * version).
 *
 * Model:
 *  - A card is attached by name: a PCI address ("0000:01:00.0", a device
 *    bound to vfio-pci by scripts/setup.sh) or an emulated card
 *    ("emu:xdma0?h2c=4&c2h=4&mem=256M", doc/emu.md).  Attach finds the DMA
 *    config BAR by its block identifiers, the user (AXI-Lite) and bypass
 *    BARs by their position, and the DMA channels (engines) from their
 *    identifier registers: up to 4 H2C (host to card) and 4 C2H (card to
 *    host), each memory-mapped (AXI-MM: card addresses) or stream (AXI-ST).
 *  - A channel is opened once and then used by one thread at a time: no
 *    call on a channel is thread-safe, and none takes a lock.  Channels of
 *    one card run in parallel on different threads.
 *  - Transfers are asynchronous.  vpio_xdma_h2c()/vpio_xdma_c2h() (and the
 *    vectored forms) write descriptors into the channel's ring and queue
 *    the transfer; vpio_xdma_poll() hands what is queued to the engine in
 *    one batch when it is idle, and finds completions in the poll-mode
 *    writeback word in host memory: no register read and no system call
 *    per transfer.  Callbacks run only inside vpio_xdma_poll() (and the
 *    sync helpers, and vpio_xdma_chan_close()) on the channel's thread.
 *  - Buffers are DMA memory (vpio_dma_malloc()) or memory registered with
 *    vpio_mem_register(), heap included.
 *  - Every function returns 0 (or a count) on success and a negative errno
 *    on failure, after logging one line that says what failed and why; the
 *    one failure that is not logged is -EAGAIN (the channel is full: poll
 *    and retry).
 *
 * vpio_env_init() must have run before vpio_xdma_chan_open() (DMA memory).
 */
#ifndef VPIO_XDMA_H
#define VPIO_XDMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <vpio/pci.h>
#include <vpio/xdma_spec.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vpio_xdma_dev;
struct vpio_xdma_chan;

enum vpio_xdma_dir {
	VPIO_XDMA_H2C = 0, /* host to card */
	VPIO_XDMA_C2H = 1, /* card to host */
};

/* ---------------------------------------------------------------- cards */

struct vpio_xdma_opts {
	size_t opts_size;	/* sizeof(struct vpio_xdma_opts): set by
				 * vpio_xdma_opts_init(); fields past it take
				 * their defaults (doc/api.md) */
	uint64_t card_mem_base;	/* AXI address where card memory starts (0) */
	uint64_t card_mem_size;	/* bytes of card memory for memory-mapped
				 * channels; transfers beyond it are refused.
				 * 0 (default): an emulated card's mem= size;
				 * on a real card unknown, and card addresses
				 * are then not range-checked (the card's AXI
				 * interconnect reports decode errors) */
	int user_bar;		/* BAR index of the AXI-Lite (user) BAR; -1
				 * (default): by position, as the IP lays them
				 * out; -2: none */
	int bypass_bar;		/* the same for the DMA bypass BAR */
};
/* Fill opts_size bytes of *opts with the defaults (the caller's sizeof;
 * fields this library does not know are zeroed) and set opts_size.
 * -EINVAL for NULL or a size that is not a struct's.  Call the macro;
 * attach refuses opts whose opts_size is 0.  Thread: any. */
int vpio_xdma_opts_init_sized(struct vpio_xdma_opts *opts, size_t opts_size);
#define vpio_xdma_opts_init(opts) vpio_xdma_opts_init_sized((opts), sizeof(*(opts)))

/*
 * Open the card by name, find its BARs and channels, and turn every
 * interrupt off (the IRQ block's channel and user enables).  opts may be
 * NULL.  -ENODEV when no BAR holds the XDMA config block, -EINVAL for bad
 * options (a BAR index that is not mapped), errors of
 * vpio_pci_device_open().  Thread: any (opening a VFIO device takes lib/vfio's lock).
 */
int vpio_xdma_attach(const char *name, const struct vpio_xdma_opts *opts, struct vpio_xdma_dev **dev);
/* Release the card.  -EBUSY (nothing done) while a channel is open.
 * Thread: any, once no other call on the card or its channels runs; for a
 * PCI address also as vpio_xdma_attach(). */
int vpio_xdma_detach(struct vpio_xdma_dev *dev);

/* One engine as found at attach. */
struct vpio_xdma_engine_info {
	bool present;
	bool stream;		/* AXI4-Stream (else AXI4 memory-mapped) */
	uint8_t version;	/* identifier bits 7:0: 1 = 2015.3 ... 6 = 2017.1+ */
	uint32_t id;		/* the identifier register */
	uint32_t addr_align;	/* bytes; the host and card addresses of a
				 * memory-mapped transfer must agree modulo it;
				 * a stream buffer must be aligned to it */
	uint32_t len_gran;	/* bytes; lengths (and buffer starts) are
				 * multiples of it */
	uint32_t addr_bits;	/* DMA address bits of the engine */
	bool align_reg_zero;	/* the alignments register read 0: 1/1/64 assumed */
};

struct vpio_xdma_info {
	size_t info_size;	/* out: the bytes the library filled (doc/api.md) */
	char name[64];		/* what attach was given, without options */
	uint16_t vendor_id, device_id;
	bool emulated;
	int config_bar;		/* BAR indexes, -1 when absent */
	int user_bar;
	int bypass_bar;
	uint64_t config_bar_len, user_bar_len, bypass_bar_len;
	uint32_t n_h2c, n_c2h;	/* channels found, numbered from 0 */
	struct vpio_xdma_engine_info h2c[VPIO_XDMA_MAX_CHANNELS];
	struct vpio_xdma_engine_info c2h[VPIO_XDMA_MAX_CHANNELS];
	uint8_t version;	/* of the config block */
	uint32_t max_payload;	/* bytes, from the config block */
	uint32_t max_read_request;
	uint32_t data_width;	/* bits of the AXI data path */
	uint64_t card_mem_base, card_mem_size; /* size 0: unknown */
};
/* Fill info_size bytes of *info (the caller's sizeof: nothing past it is
 * written; fields this library does not know read 0).  -EINVAL for NULL or
 * a bad size.  Call the macro.  Thread: any, while the card is attached. */
int vpio_xdma_get_info_sized(const struct vpio_xdma_dev *dev, struct vpio_xdma_info *info, size_t info_size);
#define vpio_xdma_get_info(dev, info) vpio_xdma_get_info_sized((dev), (info), sizeof(*(info)))
/* The device handle behind the card (BARs, config space, emulator); NULL
 * for NULL.  Thread: any. */
struct vpio_pci_device *vpio_xdma_get_pci_device(const struct vpio_xdma_dev *dev);

/* 32-bit register access to the user (AXI-Lite) BAR: off a multiple of 4
 * and off + 4 within the BAR (-EINVAL / -ERANGE otherwise), -ENODEV when
 * the card has no user BAR.  Thread: any (one dword access each). */
int vpio_xdma_user_read32(struct vpio_xdma_dev *dev, uint64_t off, uint32_t *val);
int vpio_xdma_user_write32(struct vpio_xdma_dev *dev, uint64_t off, uint32_t val);

/* ------------------------------------------------------------- channels */

#define VPIO_XDMA_MAX_IOV 256u	/* elements of a vectored transfer */
#define VPIO_XDMA_MIN_RING 128u
#define VPIO_XDMA_MAX_RING 65536u

struct vpio_xdma_chan_opts {
	size_t opts_size;	/* sizeof(struct vpio_xdma_chan_opts): set by
				 * vpio_xdma_chan_opts_init() (doc/api.md) */
	uint32_t ring_size;	/* descriptors in the ring: a power of two
				 * 128..65536 (default 4096); one transfer
				 * takes one per IOVA-contiguous piece of at
				 * most max_desc_len bytes */
	uint32_t max_transfers;	/* transfers queued or in flight: a power of
				 * two 1..65536 (default 256) */
	uint32_t timeout_ms;	/* no progress for this long while transfers
				 * are on the engine: it is stopped and they
				 * fail with -ETIMEDOUT (default 1000; 0 =
				 * never, e.g. a C2H stream that waits long
				 * for data) */
	uint32_t max_desc_len;	/* bytes per descriptor, 4096..VPIO_XDMA_DESC_LEN_MAX,
				 * a multiple of 4096 (default the maximum) */
};
/* As vpio_xdma_opts_init().  Call the macro.  Thread: any. */
int vpio_xdma_chan_opts_init_sized(struct vpio_xdma_chan_opts *opts, size_t opts_size);
#define vpio_xdma_chan_opts_init(opts) vpio_xdma_chan_opts_init_sized((opts), sizeof(*(opts)))

/*
 * Open channel index (0..n-1) of direction dir: allocate its descriptor
 * ring and writeback word in DMA memory, stop the engine (it waits up to a
 * second for a running one to stop), clear its Status, mask its
 * interrupts, turn its poll-mode writeback on.  opts may be NULL.
 * -ENOENT for a channel the card does not have, -EBUSY when it is open
 * already or its engine does not stop, -EINVAL for bad options, -ENOMEM.
 * Thread: any (the card's lock); the channel then belongs to one thread at
 * a time (its owner: the only one that may call the channel's calls).
 */
int vpio_xdma_chan_open(struct vpio_xdma_dev *dev, enum vpio_xdma_dir dir, unsigned index,
			const struct vpio_xdma_chan_opts *opts, struct vpio_xdma_chan **chan);
/* Stop the engine, end every transfer (queued or in flight) with
 * -ECANCELED (their callbacks run here), free the channel.  -EBUSY from a
 * callback of the channel.  Thread: the channel's owner only. */
int vpio_xdma_chan_close(struct vpio_xdma_chan *chan);
/* Change the stuck-engine timeout (ms, 0 = never).  Thread: the channel's
 * owner only. */
int vpio_xdma_chan_set_timeout(struct vpio_xdma_chan *chan, uint32_t timeout_ms);

/* How a transfer ended. */
struct vpio_xdma_cpl {
	int status;	/* 0; -EIO: the engine reported an error (the log line
			 * decodes Status); -ETIMEDOUT: no progress within the
			 * timeout; -ECANCELED: behind a failed transfer on the
			 * engine, or the channel was closed */
	uint64_t len;	/* bytes moved; C2H stream: bytes received */
	bool eop;	/* C2H stream: the received data ends a packet */
};
/* Runs on the channel's thread inside vpio_xdma_poll() (or a sync helper,
 * or vpio_xdma_chan_close()).  It may submit on any channel of this
 * thread; it must not poll or close its own channel (-EBUSY). */
typedef void (*vpio_xdma_cb)(void *arg, const struct vpio_xdma_cpl *cpl);

/*
 * Queue a transfer of len bytes between buf and the card: H2C writes card
 * memory at card_addr (an AXI address; a stream channel takes 0 and sends
 * one packet: EOP after the last byte), C2H reads it (a stream channel
 * receives up to len bytes and stops early at the end of a packet: see
 * cpl->len and cpl->eop).  Nothing is checked later that can be checked
 * now; refused, with nothing queued:
 *   -EINVAL  chan or buf NULL, len 0, the channel's other direction, a
 *            stream channel given a card address, a buffer or length that
 *            breaks the engine's alignment or granularity, iovcnt not
 *            1..VPIO_XDMA_MAX_IOV or an element of length 0
 *   -ERANGE  card_addr + len beyond card memory
 *   -EFAULT  a buffer page that is not registered for DMA, or an IOVA
 *            beyond the engine's address bits
 *   -E2BIG   more descriptors than the ring holds (the line names both)
 *   -EAGAIN  the ring or the transfer slots are full now (not logged)
 *   -EIO     the channel is broken (its engine did not stop after an error)
 * The transfer starts at the next vpio_xdma_poll() or vpio_xdma_flush()
 * that finds the engine idle.  Thread: the channel's owner only.
 */
int vpio_xdma_h2c(struct vpio_xdma_chan *chan, uint64_t card_addr, const void *buf, size_t len, vpio_xdma_cb cb,
		  void *arg);
int vpio_xdma_c2h(struct vpio_xdma_chan *chan, uint64_t card_addr, void *buf, size_t len, vpio_xdma_cb cb, void *arg);
/* The same for a vector: the elements in order, at consecutive card
 * addresses from card_addr.  Thread: the channel's owner only. */
int vpio_xdma_h2cv(struct vpio_xdma_chan *chan, uint64_t card_addr, const struct iovec *iov, int iovcnt,
		   vpio_xdma_cb cb, void *arg);
int vpio_xdma_c2hv(struct vpio_xdma_chan *chan, uint64_t card_addr, const struct iovec *iov, int iovcnt,
		   vpio_xdma_cb cb, void *arg);

/*
 * Find completed transfers (up to max; 0 = no limit) and run their
 * callbacks; start the queued transfers in one batch when the engine is
 * idle; stop the engine on an error or after timeout_ms without progress
 * (the transfer it was on and those behind it on the engine end with an
 * error, one log line says why, and the channel goes on).  Returns the
 * number of callbacks run, or -EINVAL (chan NULL), -EBUSY (from a callback
 * of the channel), -EIO (broken channel).  No system call and no register
 * read unless the engine is stopped.  Thread: the channel's owner only.
 */
int vpio_xdma_poll(struct vpio_xdma_chan *chan, uint32_t max);
/* Start the queued transfers now if the engine is idle (vpio_xdma_poll()
 * does this too).  Thread: the channel's owner only. */
int vpio_xdma_flush(struct vpio_xdma_chan *chan);

/* Synchronous helpers: queue one transfer and poll until it ends (the
 * channel's other transfers complete too).  Return the transfer's status
 * (0 or a negative errno) or a submission error; cpl (may be NULL) gets
 * the length and EOP.  Thread: the channel's owner only; not from a
 * callback. */
int vpio_xdma_h2c_sync(struct vpio_xdma_chan *chan, uint64_t card_addr, const void *buf, size_t len);
int vpio_xdma_c2h_sync(struct vpio_xdma_chan *chan, uint64_t card_addr, void *buf, size_t len,
		       struct vpio_xdma_cpl *cpl);

struct vpio_xdma_chan_info {
	size_t info_size;	/* out: the bytes the library filled (doc/api.md) */
	enum vpio_xdma_dir dir;
	unsigned index;
	struct vpio_xdma_engine_info engine;
	uint32_t ring_size, max_transfers, timeout_ms, max_desc_len;
};
/* As vpio_xdma_get_info().  Call the macro.  Thread: the channel's owner. */
int vpio_xdma_chan_get_info_sized(const struct vpio_xdma_chan *chan, struct vpio_xdma_chan_info *info,
				  size_t info_size);
#define vpio_xdma_chan_get_info(chan, info) vpio_xdma_chan_get_info_sized((chan), (info), sizeof(*(info)))

struct vpio_xdma_chan_stats {
	size_t stats_size;	/* out: the bytes the library filled (doc/api.md) */
	uint64_t transfers;	/* completed successfully */
	uint64_t bytes;		/* of those */
	uint64_t failed;	/* ended with an error (also -ECANCELED) */
	uint64_t batches;	/* engine starts */
	uint64_t descriptors;	/* descriptors handed to the engine */
	uint64_t engine_errors;	/* engine stops for an error or corrupt writeback */
	uint64_t timeouts;	/* engine stops for no progress */
	uint64_t early_eop;	/* C2H stream: engine stops for a packet that
				 * ended before the last descriptor of its
				 * transfer */
	uint64_t stream_dropped;/* C2H stream: bytes of a following packet that
				 * landed in the unused part of such a transfer */
	uint64_t polls;
	uint32_t queued, in_flight; /* now */
};
/* stats_size bytes of *st, as vpio_xdma_get_info(); all zero for a NULL
 * channel.  Call the macro.  Thread: the channel's owner. */
int vpio_xdma_chan_get_stats_sized(const struct vpio_xdma_chan *chan, struct vpio_xdma_chan_stats *st,
				   size_t stats_size);
#define vpio_xdma_chan_get_stats(chan, st) vpio_xdma_chan_get_stats_sized((chan), (st), sizeof(*(st)))

/* Decode an engine Status value into text ("magic stopped, descriptor
 * error: unsupported request"; "no error bits" when none); returns buf.
 * Thread: any. */
const char *vpio_xdma_status_str(uint32_t status, enum vpio_xdma_dir dir, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
