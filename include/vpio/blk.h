/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpio block targets: one small interface over every place vpio can read
 * and write blocks, so that a program moves from the kernel to vpio by
 * changing an address (doc/blk.md has the long version).
 *
 * Addresses (vpio_blk_open):
 *   0000:00:04.0         every active namespace of an NVMe controller bound
 *                        to vfio-pci, one target each (lib/nvme)
 *   0000:00:04.0/ns2     namespace 2 only
 *   emu:nvme[N][/nsK][?emulator options]
 *                        the emulated NVMe controller (doc/emu.md), e.g.
 *                        emu:nvme1/ns2?ns=2&size=64M; also through lib/nvme
 *   uring:PATH[?opts]    a block device or a regular file through the
 *                        kernel and io_uring (O_DIRECT, registered file and
 *                        buffers), e.g. uring:/dev/nvme0n1?iopoll=1&sqpoll=1;
 *                        options: iopoll=0|1, sqpoll=0|1, bs=512|4096
 *                        (block size of a regular file; default 4096)
 *
 * Model:
 *  - A target is a namespace or a file: block size, block count, limits.
 *  - I/O goes through channels.  A channel is one NVMe queue pair or one
 *    io_uring ring, owned by one thread at a time and never locked; make one
 *    per thread per target.  Nothing happens behind the caller's back:
 *    completions are found, and callbacks run, only in vpio_blk_poll().
 *  - Submission queues: an I/O call prepares the request (NVMe: writes the
 *    SQ entry; io_uring: fills an SQE) and returns.  The batch is handed to
 *    the device by the next vpio_blk_poll() (first thing it does, and again
 *    after the callbacks for what they submitted) or by vpio_blk_submit():
 *    one doorbell write / one io_uring_submit() per batch.
 *  - No allocation, no lock and (NVMe, io_uring with sqpoll) no system call
 *    per I/O: every channel has queue_depth preallocated request contexts.
 *  - Every function returns 0 (or a count) on success and a negative errno
 *    on failure, after logging one line that says what failed and why; the
 *    one failure that is not logged is -EAGAIN (flow control).
 *  - Callbacks have one shape for every backend: status 0 or a negative
 *    errno (an NVMe status is mapped with vpio_nvme_status_to_errno()).
 *
 * DMA memory must exist first: call vpio_env_init() before vpio_blk_open()
 * and vpio_blk_buf_alloc().
 */
#ifndef VPIO_BLK_H
#define VPIO_BLK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vpio_blk_target;
struct vpio_blk_channel;

/*
 * Completion callback: status 0, or a negative errno (-EIO for a media
 * error or a short transfer, -ECANCELED for a request ended by the host:
 * controller reset, failure or channel destroyed, ...).  Runs on the
 * channel's thread inside vpio_blk_poll() (or vpio_blk_channel_destroy()).
 * It may submit new I/O on any channel of this thread; it must not poll or
 * destroy its own channel (-EBUSY).
 */
typedef void (*vpio_blk_cb)(void *arg, int status);

/* ------------------------------------------------------------- targets */

/* Largest accepted queue_depth of a channel, for every backend. */
#define VPIO_BLK_MAX_QUEUE_DEPTH 4096u

struct vpio_blk_opts {
	size_t opts_size;      /* sizeof(struct vpio_blk_opts): set by
				* vpio_blk_opts_init(); fields past it are
				* taken as their defaults (doc/api.md) */
	uint32_t queue_depth;  /* default depth of channels created with
				* queue_depth 0 (0 = 128, capped by what the
				* target can hold) */
	bool iopoll;	       /* uring: IORING_SETUP_IOPOLL (the device needs
				* poll queues); address option iopoll=1 */
	bool sqpoll;	       /* uring: IORING_SETUP_SQPOLL (a kernel thread
				* per channel submits: no system call per
				* batch); address option sqpoll=1 */
	uint32_t sqpoll_idle_ms; /* uring with sqpoll: the kernel thread sleeps
				  * after this long without work (0 = 1000) */
};
/* Fill *opts (opts_size bytes of it: the caller's sizeof; fields this
 * library does not know are zeroed) with the defaults and set opts_size.
 * -EINVAL for NULL or a size that is not a struct's.  Call the macro;
 * vpio_blk_open() refuses opts whose opts_size is 0.  Thread: any. */
int vpio_blk_opts_init_sized(struct vpio_blk_opts *opts, size_t opts_size);
#define vpio_blk_opts_init(opts) vpio_blk_opts_init_sized((opts), sizeof(*(opts)))

/*
 * Open the target(s) an address names (see the top of this file).  A PCI
 * or emu: address without /nsN opens every active namespace, in id order;
 * the others open one.  targets[0..*n_targets) receive them.  opts may be
 * NULL (defaults); options in the address win over opts.  Errors (nothing
 * is left open): -EINVAL malformed address or bad/unknown option, -ENOENT
 * no such file, namespace or inactive namespace, -ENOSPC more namespaces
 * than max_targets, -EPERM io_uring refused by the system, -ENOTSUP (e.g.
 * iopoll refused by the kernel for that file), errors of
 * vpio_nvme_ctrlr_attach().  A controller is attached once and shared by
 * the targets of its namespaces, also across calls ("0000:00:04.0/ns1" and
 * then "0000:00:04.0/ns2"); it is detached with its last target.
 * Thread: any (serialized with the other open/close calls by a lock); (opening a VFIO device takes lib/vfio's lock).
 */
int vpio_blk_open(const char *address, const struct vpio_blk_opts *opts, struct vpio_blk_target **targets,
		  unsigned max_targets, unsigned *n_targets);
/* Close a target.  Every channel of it must have been destroyed first
 * (-EBUSY and one line otherwise, nothing closed).  NULL is ignored (0).
 * Thread: any (serialized with open/close); for the last target of a
 * controller on a PCI address, as vpio_blk_open(). */
int vpio_blk_close(struct vpio_blk_target *t);

struct vpio_blk_info {
	size_t info_size;	    /* out: the bytes the library filled
				     * (doc/api.md) */
	const char *name;	    /* canonical: "0000:00:04.0/ns1",
				     * "emu:nvme0/ns1", "uring:/dev/nvme0n1";
				     * valid until vpio_blk_close() */
	const char *backend;	    /* "nvme" or "uring" */
	uint32_t block_size;	    /* bytes per block (LBA) */
	uint64_t num_blocks;
	uint32_t max_transfer_bytes; /* largest read/write/readv/writev */
	uint32_t max_iovcnt;	    /* largest iovcnt of readv/writev */
	uint32_t max_write_zeroes_blocks; /* per request; 0 = not supported */
	uint32_t max_deallocate_blocks;	  /* per request; 0 = not supported */
	uint32_t max_queue_depth;   /* largest channel queue_depth */
	uint32_t buf_align;	    /* every buffer (and iovec element) must
				     * start at a multiple of this */
	uint32_t nsid;		    /* NVMe namespace id; 0 for uring */
	bool read_only;		    /* writes fail with -EROFS (uring: the file
				     * or device could only be opened read-only) */
	bool emulated;		    /* emu: controller */
	bool iopoll, sqpoll;	    /* uring: in effect for its channels */
};
/* Fill info_size bytes of *info (the caller's sizeof: nothing past it is
 * written; fields this library does not know read 0).  -EINVAL for NULL or
 * a bad size.  Call the macro.  Thread: any, while the target is open. */
int vpio_blk_get_info_sized(const struct vpio_blk_target *t, struct vpio_blk_info *info, size_t info_size);
#define vpio_blk_get_info(t, info) vpio_blk_get_info_sized((t), (info), sizeof(*(info)))

/* ------------------------------------------------------------- channels */

/*
 * A channel: one NVMe I/O qpair / one io_uring ring (with registered file
 * and buffers) and queue_depth request contexts.  queue_depth 0 takes the
 * opts default; more than info.max_queue_depth is -EINVAL (with the limit
 * in the line).  No call on a channel is thread-safe: one thread uses it,
 * the creating one or another it is handed to before its first I/O (an
 * NVMe qpair refuses, -EPERM, a second thread once one did I/O).  Fails
 * with the backend's errno (e.g. -EBUSY when the controller has no I/O
 * queue left, -EPERM when io_uring is restricted).  Thread: any
 * (serialized with open/close).
 */
int vpio_blk_channel_create(struct vpio_blk_target *t, uint32_t queue_depth, struct vpio_blk_channel **ch);
/*
 * Destroy a channel.  Outstanding requests complete first and their
 * callbacks run before this returns (NVMe: ended by the host with
 * -ECANCELED once the device can no longer touch their buffers; io_uring:
 * waited for, with their real status).  -EBUSY (nothing done) from one of
 * the channel's own callbacks.  NULL is ignored (0).  Thread: the
 * channel's owner only.
 */
int vpio_blk_channel_destroy(struct vpio_blk_channel *ch);

/* Facts of a channel.  Thread: any (target and depth are fixed); the
 * outstanding count: the owner (elsewhere a racy snapshot). */
struct vpio_blk_target *vpio_blk_channel_get_target(const struct vpio_blk_channel *ch);
uint32_t vpio_blk_channel_get_depth(const struct vpio_blk_channel *ch);	      /* request contexts */
uint32_t vpio_blk_channel_get_outstanding(const struct vpio_blk_channel *ch); /* queued or in flight */

struct vpio_nvme_ns;
struct vpio_nvme_qpair;
/*
 * The NVMe namespace and I/O qpair under a channel of an NVMe target (a
 * PCI controller or emu:nvme), for an application that drives the
 * driver's batch calls (vpio_nvme_ns_submit_batch, _poll_batch) on it
 * directly: vpio-perf does.  Commands submitted that way are the
 * application's to reap (vpio_blk_poll refuses the qpair while they are
 * outstanding) and are not counted by the channel; destroying the channel
 * ends them.  -ENOTSUP (one line) for other backends, -EINVAL for NULL.
 * Thread: the channel's owner only.
 */
int vpio_blk_channel_get_nvme(struct vpio_blk_channel *ch, struct vpio_nvme_ns **ns, struct vpio_nvme_qpair **qp);

struct vpio_blk_channel_stats {
	size_t stats_size;  /* out: the bytes the library filled (doc/api.md) */
	uint64_t submitted; /* requests accepted (I/O calls that returned 0) */
	uint64_t completed; /* callbacks run */
	uint64_t errors;    /* of which with status < 0 */
	uint64_t batches;   /* hand-overs to the device: NVMe SQ doorbell
			     * updates, io_uring_submit() calls that moved SQEs */
	uint64_t syscalls;  /* io_uring_enter() calls made (0 for NVMe) */
	uint64_t polls;	    /* vpio_blk_poll() calls */
};
/* Counters since the channel was created, into stats_size bytes of *st
 * (as vpio_blk_get_info()).  Call the macro.  Thread: the channel's owner
 * (or any thread while the owner is not inside a call). */
int vpio_blk_channel_get_stats_sized(const struct vpio_blk_channel *ch, struct vpio_blk_channel_stats *st,
				     size_t stats_size);
#define vpio_blk_channel_get_stats(ch, st) vpio_blk_channel_get_stats_sized((ch), (st), sizeof(*(st)))

/* ------------------------------------------------------------------ I/O */

/*
 * Queue one request on the channel.  Returns 0 when queued: the callback
 * will run exactly once, in a later vpio_blk_poll() (never inside this
 * call).  The request reaches the device at the next vpio_blk_poll() or
 * vpio_blk_submit().  Thread: the channel's owner only (every I/O call of
 * this section, also from its callbacks).
 *
 * buf: nblocks * block_size bytes, starting at a multiple of
 * info.buf_align.  Memory from vpio_blk_buf_alloc() works with every
 * backend (and is an io_uring fixed buffer); NVMe targets take any memory
 * registered with vpio (vpio_dma_malloc(), vpio_mem_register()); uring
 * targets take any memory (buffers not from vpio_blk_buf_alloc() go
 * through the kernel's page pinning on every I/O: slower).
 *
 * Errors, checked before anything is queued (one line each, nothing
 * queued):
 *   -EINVAL  ch/buf/iov NULL, nblocks 0, a buffer not aligned to buf_align,
 *            iovcnt not 1..max_iovcnt, iovec lengths not adding up to
 *            nblocks * block_size
 *   -ERANGE  [lba, lba + nblocks) beyond the target
 *   -E2BIG   more than max_transfer_bytes (or than max_write_zeroes_blocks
 *            / max_deallocate_blocks)
 *   -EFAULT  NVMe: buffer not registered with vpio
 *   -EROFS   write, write zeroes or deallocate on a read-only target
 *   -ENOTSUP the target does not support the command (limit 0 in info)
 *   -ENXIO / -ENODEV  the controller failed (reset it) / was removed
 *   -EAGAIN  (not logged) every request context of the channel is in use,
 *            or the NVMe qpair is full, or a controller reset is running:
 *            poll and retry.  Only ever returned when the request will be
 *            accepted once the channel drains.
 */
int vpio_blk_read(struct vpio_blk_channel *ch, void *buf, uint64_t lba, uint32_t nblocks, vpio_blk_cb cb,
		  void *arg);
int vpio_blk_write(struct vpio_blk_channel *ch, const void *buf, uint64_t lba, uint32_t nblocks, vpio_blk_cb cb,
		   void *arg);
/* Vectored: the iovec array is copied (it need only live until the call
 * returns); the elements' lengths must add up to nblocks * block_size, and
 * on uring targets each element's length must be a multiple of buf_align.
 * Thread: the channel's owner only. */
int vpio_blk_readv(struct vpio_blk_channel *ch, const struct iovec *iov, int iovcnt, uint64_t lba,
		   uint32_t nblocks, vpio_blk_cb cb, void *arg);
int vpio_blk_writev(struct vpio_blk_channel *ch, const struct iovec *iov, int iovcnt, uint64_t lba,
		    uint32_t nblocks, vpio_blk_cb cb, void *arg);
/* Make completed writes durable (NVMe Flush; uring fdatasync).
 * Thread: the channel's owner only. */
int vpio_blk_flush(struct vpio_blk_channel *ch, vpio_blk_cb cb, void *arg);
/* The blocks read as zeroes afterwards (NVMe Write Zeroes; uring
 * fallocate ZERO_RANGE, or PUNCH_HOLE on filesystems without it).
 * Thread: the channel's owner only. */
int vpio_blk_write_zeroes(struct vpio_blk_channel *ch, uint64_t lba, uint32_t nblocks, vpio_blk_cb cb, void *arg);
/* The device may forget the blocks (NVMe Dataset Management deallocate;
 * uring fallocate PUNCH_HOLE).  What they read afterwards is up to the
 * device (zeroes on the emulator and on files).  Thread: the channel's
 * owner only. */
int vpio_blk_deallocate(struct vpio_blk_channel *ch, uint64_t lba, uint32_t nblocks, vpio_blk_cb cb, void *arg);

/* Hand every queued request to the device now (one doorbell / one
 * io_uring_submit()), for a thread that will not poll soon.  Returns the
 * number handed over, or a negative errno.  Thread: the channel's owner
 * only. */
int vpio_blk_submit(struct vpio_blk_channel *ch);

/*
 * Submit what is queued, then reap up to max completions (0 = up to the
 * queue depth) and run their callbacks; submit again what they queued.
 * Returns the number of callbacks run (0 when nothing completed), or a
 * negative errno when the channel cannot go on: -ENXIO controller failed,
 * -ENODEV removed/detached (outstanding requests have then been completed
 * with errors), -EBUSY from one of the channel's own callbacks, or the
 * errno of a failed io_uring_enter().  Reaping makes no system call
 * (except with iopoll and without sqpoll: one io_uring_enter() per call
 * while requests are outstanding, which is what polls the device).
 * Thread: the channel's owner only; callbacks run on it.
 */
int vpio_blk_poll(struct vpio_blk_channel *ch, uint32_t max);

/* ------------------------------------------------------------- buffers */

/* Largest vpio_blk_buf_alloc() (the io_uring fixed-buffer limit). */
#define VPIO_BLK_BUF_MAX (1ull << 30)
/* Buffers alive at once (io_uring fixed-buffer table slots). */
#define VPIO_BLK_BUF_SLOTS 4096u

/*
 * size bytes (rounded up to 4 KiB) of DMA memory, 4 KiB aligned, not
 * zeroed: registered with vpio (every NVMe target can use it) and
 * registered as an io_uring fixed buffer in every ring of every uring
 * channel, present and future.  One allocation serves every backend;
 * carve it into pieces as you like (an I/O that lies inside one buffer uses
 * the fixed-buffer path).  NULL, after one line, when size is 0 or above
 * VPIO_BLK_BUF_MAX, VPIO_BLK_BUF_SLOTS buffers are alive, DMA memory is
 * short (or vpio_env_init() was not called) or io_uring refuses the
 * registration (RLIMIT_MEMLOCK).  Thread: any (takes a lock and makes one
 * system call per uring channel: not for the I/O path).
 */
void *vpio_blk_buf_alloc(size_t size);
/* Free a buffer from vpio_blk_buf_alloc() (NULL is ignored); no request may
 * still use it.  Thread: any (as alloc). */
void vpio_blk_buf_free(void *buf);

#ifdef __cplusplus
}
#endif
#endif
