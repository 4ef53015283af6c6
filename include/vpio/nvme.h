/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpio's polled NVMe driver.
 *
 * Model (doc/nvme.md has the long version):
 *  - A controller is attached by name ("0000:00:03.0" for a device bound to
 *    vfio-pci, "emu:nvme0?..." for an emulated one) or found by
 *    vpio_nvme_probe().  Attach brings it up, reads its identify data and
 *    its active namespaces.
 *  - I/O goes through queue pairs.  A qpair belongs to one thread at a time
 *    and is never locked: submit with vpio_nvme_ns_cmd_*(), and call
 *    vpio_nvme_qpair_process_completions() to reap completions and run the
 *    callbacks.  Nothing happens behind your back on the I/O path: there
 *    are no interrupts, and the one driver thread per controller (its
 *    recovery thread, started at attach, joined at detach) sleeps until a
 *    qpair's health check finds the controller must be reset (a command
 *    Abort did not help) or stopped (CSTS.CFS).  It runs that reset or
 *    stop, which may take up to CAP.TO, so that the polling thread does
 *    not: that thread gets -EAGAIN meanwhile, then its requests end with
 *    ABORTED_BY_HOST and (after a reset) the qpair reconnects on its next
 *    call.
 *  - Submission never allocates and never makes a system call.  When the
 *    qpair is full it returns -EAGAIN.
 *  - Admin commands (identify, features, log pages, ...) are synchronous
 *    helpers, safe to call from any thread (the admin queue has a lock).
 *  - Every function returns 0 (or a count) on success and a negative errno on
 *    failure, after logging one line that says what failed and why.
 *  - Each call says which threads may make it ("Thread: ..."): "the
 *    qpair's owner" is the thread that uses the qpair (see check_thread).
 */
#ifndef VPIO_NVME_H
#define VPIO_NVME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <vpio/nvme_spec.h>
#include <vpio/pci.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vpio_nvme_ctrlr;
struct vpio_nvme_ns;
struct vpio_nvme_qpair;

/*
 * Completion callback.  cpl->status holds the NVMe status field (see
 * vpio_nvme_cpl_is_error() and vpio_nvme_status_fmt()); requests that the
 * driver itself ends (controller failed, removed, reset or detached) complete
 * with VPIO_NVME_SCT_PATH / VPIO_NVME_SC_ABORTED_BY_HOST.  A request split
 * into several commands completes once, with the first error of its parts.
 */
typedef void (*vpio_nvme_cmd_cb)(void *arg, const struct vpio_nvme_cpl *cpl);

/* ------------------------------------------------------------ controllers */

struct vpio_nvme_ctrlr_opts {
	size_t opts_size;	   /* sizeof(struct vpio_nvme_ctrlr_opts) the caller
				    * was built with: set by
				    * vpio_nvme_ctrlr_opts_init() (doc/api.md) */
	uint32_t num_io_queues;	   /* I/O queue pairs to ask for (default 64) */
	uint32_t admin_queue_size; /* admin SQ/CQ entries (default 32) */
	uint32_t admin_timeout_ms; /* synchronous admin commands (default 10000) */
	uint32_t max_xfer_size;	   /* bytes per command, 0 = what MDTS allows;
				    * larger requests are split */
	bool no_shadow_doorbells;  /* do not use Doorbell Buffer Config */
	bool no_reset_on_timeout;  /* a timed-out I/O command is aborted, never
				    * escalated to a controller reset; a
				    * timed-out admin command is left to
				    * complete (it keeps its admin queue slot) */
};
/* Fill *opts with the defaults: opts_size bytes of it (the size the caller
 * was compiled with; fields past what this library knows are zeroed), and
 * set opts_size.  -EINVAL for NULL or a size that is not a struct's (0,
 * garbage).  Call the macro; attach refuses opts whose opts_size is 0.
 * Thread: any. */
int vpio_nvme_ctrlr_opts_init_sized(struct vpio_nvme_ctrlr_opts *opts, size_t opts_size);
#define vpio_nvme_ctrlr_opts_init(opts) vpio_nvme_ctrlr_opts_init_sized((opts), sizeof(*(opts)))

/* Open the device by name, bring the controller up and read its namespaces.
 * opts may be NULL (defaults).  Thread: any (opening a VFIO device takes lib/vfio's lock). */
int vpio_nvme_ctrlr_attach(const char *name, const struct vpio_nvme_ctrlr_opts *opts,
			   struct vpio_nvme_ctrlr **ctrlr);
/*
 * Shut the controller down (CC.SHN, bounded wait) and release it.  Qpairs
 * that are still allocated stay valid as handles: their outstanding requests
 * complete with ABORTED_BY_HOST on their owner's next call, which then
 * returns -ENODEV; free them with vpio_nvme_ctrlr_free_io_qpair().
 * Thread: any, once no other thread is inside a call on the controller,
 * its namespaces or its qpairs.
 */
int vpio_nvme_ctrlr_detach(struct vpio_nvme_ctrlr *ctrlr);

/*
 * Probe every NVMe controller (class 0x010802) bound to vfio-pci.  probe_cb
 * decides for each (it may change the opts); accepted ones are attached and
 * handed to attach_cb.  probe_cb NULL accepts all.  Returns the number
 * attached, or a negative errno.  Thread: any (opening VFIO devices takes lib/vfio's lock).
 * Both callbacks run on the calling thread.
 */
typedef bool (*vpio_nvme_probe_cb)(void *ctx, const struct vpio_pci_info *info, struct vpio_nvme_ctrlr_opts *opts);
typedef void (*vpio_nvme_attach_cb)(void *ctx, const struct vpio_pci_info *info, struct vpio_nvme_ctrlr *ctrlr);
int vpio_nvme_probe(vpio_nvme_probe_cb probe_cb, vpio_nvme_attach_cb attach_cb, void *ctx);

enum vpio_nvme_ctrlr_state {
	VPIO_NVME_CTRLR_READY,	   /* enabled, usable */
	VPIO_NVME_CTRLR_RESETTING, /* vpio_nvme_ctrlr_reset() is running */
	VPIO_NVME_CTRLR_FAILED,	   /* CSTS.CFS or a failed reset: reset it */
	VPIO_NVME_CTRLR_REMOVED,   /* registers read all ones */
	VPIO_NVME_CTRLR_DETACHED,
};
/* The state now (an atomic load), and its name.  Thread: any. */
enum vpio_nvme_ctrlr_state vpio_nvme_ctrlr_get_state(const struct vpio_nvme_ctrlr *ctrlr);
const char *vpio_nvme_ctrlr_state_str(enum vpio_nvme_ctrlr_state state);

/*
 * Reset: disable the controller (a PCI function reset when disabling does
 * not work), bring it up again and re-read its data.  Outstanding requests
 * complete with ABORTED_BY_HOST; every I/O qpair re-creates its queues on
 * its owner's next call (submit or process_completions), so qpair handles
 * stay valid.  Thread: any (serialized with other resets and with admin
 * commands by the controller's locks); a reset that another thread already
 * finished is not repeated.  It runs on the calling thread and may take up
 * to twice CAP.TO (the resets the driver decides on itself run on the
 * controller's recovery thread instead).
 */
int vpio_nvme_ctrlr_reset(struct vpio_nvme_ctrlr *ctrlr);

struct vpio_nvme_ctrlr_info {
	size_t info_size;	 /* out: the bytes the library filled (doc/api.md) */
	char name[64];		 /* what attach was given (without options) */
	uint64_t cap;		 /* CAP register */
	uint32_t vs;		 /* VS register: major << 16 | minor << 8 */
	uint32_t page_size;	 /* memory page size in use (CC.MPS) */
	uint32_t doorbell_stride;/* bytes between doorbells (4 << CAP.DSTRD) */
	uint32_t max_queue_size; /* CAP.MQES + 1 */
	uint32_t max_io_queues;	 /* granted by Set Features Number of Queues */
	uint32_t max_xfer_size;	 /* bytes per command (MDTS and opts) */
	uint32_t num_ns;	 /* NN: namespace ids 1..NN */
	uint32_t num_active_ns;
	bool sgl_supported;
	bool shadow_doorbells;	 /* Doorbell Buffer Config in use */
};
/* Fill info_size bytes of *info (the caller's sizeof: nothing is written
 * past it; fields this library does not know read 0, and info->info_size
 * says how many bytes it filled).  -EINVAL for NULL or a bad size.  Call
 * the macro.  Thread: any; while a reset runs on another thread the values
 * may be half updated. */
int vpio_nvme_ctrlr_get_info_sized(const struct vpio_nvme_ctrlr *ctrlr, struct vpio_nvme_ctrlr_info *info,
				   size_t info_size);
#define vpio_nvme_ctrlr_get_info(ctrlr, info) vpio_nvme_ctrlr_get_info_sized((ctrlr), (info), sizeof(*(info)))
/* Identify Controller data, read at attach (and at each reset, in place).
 * Thread: any; not while a reset runs on another thread. */
const struct vpio_nvme_ctrlr_data *vpio_nvme_ctrlr_get_data(const struct vpio_nvme_ctrlr *ctrlr);
/* The device behind the controller (BARs, config space, emulator access).
 * Thread: any. */
struct vpio_pci_device *vpio_nvme_ctrlr_get_pci_device(const struct vpio_nvme_ctrlr *ctrlr);

struct vpio_nvme_ctrlr_stats {
	size_t stats_size;	/* out: the bytes the library filled */
	uint64_t resets;	/* successful resets */
	uint64_t timeouts;	/* I/O commands that timed out */
	uint64_t aborts_sent;	/* Abort commands sent for them */
	uint64_t admin_cmds;	/* admin commands submitted */
	uint64_t failures;	/* times the controller was found failed/removed */
};
/* As get_info: stats_size bytes of *st.  Call the macro.  Thread: any
 * (atomic counters). */
int vpio_nvme_ctrlr_get_stats_sized(const struct vpio_nvme_ctrlr *ctrlr, struct vpio_nvme_ctrlr_stats *st,
				    size_t stats_size);
#define vpio_nvme_ctrlr_get_stats(ctrlr, st) vpio_nvme_ctrlr_get_stats_sized((ctrlr), (st), sizeof(*(st)))

/* ------------------------------------------------------------- namespaces */

/*
 * Namespaces: the calls of this section.  Thread: any, while the controller
 * is attached; not while a reset runs on another thread (it re-reads the
 * namespace list and data; namespace handles stay valid).
 *
 * Active namespaces: first/next return 0 at the end.
 */
uint32_t vpio_nvme_ctrlr_first_active_ns(const struct vpio_nvme_ctrlr *ctrlr);
uint32_t vpio_nvme_ctrlr_next_active_ns(const struct vpio_nvme_ctrlr *ctrlr, uint32_t prev_nsid);
/* -EINVAL for nsid 0 or > NN, -ENOENT for an inactive one.  Thread: as
 * above. */
int vpio_nvme_ctrlr_get_ns(struct vpio_nvme_ctrlr *ctrlr, uint32_t nsid, struct vpio_nvme_ns **ns);

/* Facts of a namespace.  Thread: as above (any, not during a reset). */
uint32_t vpio_nvme_ns_get_id(const struct vpio_nvme_ns *ns);
uint32_t vpio_nvme_ns_get_sector_size(const struct vpio_nvme_ns *ns); /* bytes per logical block */
uint64_t vpio_nvme_ns_get_num_sectors(const struct vpio_nvme_ns *ns); /* NSZE */
uint64_t vpio_nvme_ns_get_size(const struct vpio_nvme_ns *ns);	      /* bytes */
uint32_t vpio_nvme_ns_get_md_size(const struct vpio_nvme_ns *ns);     /* metadata bytes per block */
uint32_t vpio_nvme_ns_get_max_io_xfer_size(const struct vpio_nvme_ns *ns);
const struct vpio_nvme_ns_data *vpio_nvme_ns_get_data(const struct vpio_nvme_ns *ns);
struct vpio_nvme_ctrlr *vpio_nvme_ns_get_ctrlr(const struct vpio_nvme_ns *ns);

/* ---------------------------------------------------------------- qpairs */

enum vpio_nvme_sgl_mode {
	VPIO_NVME_SGL_AUTO = 0, /* PRPs; SGLs only for vectors PRPs cannot describe */
	VPIO_NVME_SGL_NEVER,	/* PRPs only: such vectors fail with -EINVAL */
	VPIO_NVME_SGL_ALWAYS,	/* SGLs for every transfer (needs controller support) */
};

struct vpio_nvme_qpair_opts {
	size_t opts_size;	/* sizeof(struct vpio_nvme_qpair_opts) the caller
				 * was built with: set by
				 * vpio_nvme_qpair_opts_init() (doc/api.md) */
	uint32_t queue_size;	/* SQ/CQ entries (default 256, at most CAP.MQES + 1);
				 * queue_size - 1 commands can be outstanding */
	bool delay_doorbell;	/* default true: submissions only write the SQ; the
				 * SQ doorbell is rung once per batch, by
				 * process_completions() or vpio_nvme_qpair_flush() */
	uint32_t timeout_ms;	/* command timeout (default 30000, 0 = none): Abort,
				 * then a controller reset if that does not help */
	enum vpio_nvme_sgl_mode sgl_mode;
	bool check_thread;	/* default true: calls from a thread other than the
				 * qpair's owner (the first thread that used it)
				 * fail with -EPERM.  false: the qpair follows
				 * whichever thread calls (hand it over only when
				 * the old thread is done with it); a second thread
				 * is then refused only while the owner is inside a
				 * completion callback.  The check costs one compare
				 * per call (doc/nvme.md) */
};
/* As vpio_nvme_ctrlr_opts_init(): the defaults, opts_size set.  Call the
 * macro.  Thread: any. */
int vpio_nvme_qpair_opts_init_sized(struct vpio_nvme_qpair_opts *opts, size_t opts_size);
#define vpio_nvme_qpair_opts_init(opts) vpio_nvme_qpair_opts_init_sized((opts), sizeof(*(opts)))

/* Create an I/O SQ/CQ pair in DMA memory.  opts may be NULL.  *qp is NULL
 * on failure.  Thread: any (the controller's lock); the qpair then belongs
 * to the first thread that submits or polls on it (its owner). */
int vpio_nvme_ctrlr_alloc_io_qpair(struct vpio_nvme_ctrlr *ctrlr, const struct vpio_nvme_qpair_opts *opts,
				   struct vpio_nvme_qpair **qp);
/* Delete the queues; outstanding requests complete with ABORTED_BY_HOST.
 * -EBUSY (nothing freed) from a completion callback of the qpair, including
 * the ABORTED_BY_HOST ones the driver runs after a reset, failure or
 * detach.  Thread: the qpair's owner, or any thread once the owner is done
 * with it (nothing checks that no other thread is still inside a call on
 * it, except a callback: -EBUSY). */
int vpio_nvme_ctrlr_free_io_qpair(struct vpio_nvme_qpair *qp);

/*
 * Reap up to max completions (0 = up to the queue depth) and run their
 * callbacks; rings the SQ doorbell for delayed submissions first, and the CQ
 * head doorbell at the end when the CQ could otherwise fill (coalesced,
 * doc/nvme.md).  Returns the number of requests completed,
 * -ENXIO when the controller failed (reset it), -ENODEV when it is removed
 * or detached (outstanding requests have then been completed with errors),
 * -EAGAIN (not logged) while a reset of the controller is running, -EBUSY
 * from one of the qpair's own completion callbacks.  Thread: the qpair's
 * owner only (-EPERM from another thread, see check_thread); callbacks run
 * on it.  Never waits for the controller: a reset or stop its health
 * check asks for runs on the controller's recovery thread (see the top of
 * this file); the longest call is a reconnect after a reset (a few admin
 * commands).
 */
int vpio_nvme_qpair_process_completions(struct vpio_nvme_qpair *qp, uint32_t max);
/* Ring the SQ doorbell now for submissions made with delay_doorbell.
 * Thread: the qpair's owner only. */
int vpio_nvme_qpair_flush(struct vpio_nvme_qpair *qp);
/* The queue id and depth (fixed at allocation): Thread: any.  The
 * commands in flight: Thread: the qpair's owner (elsewhere a racy
 * snapshot). */
uint16_t vpio_nvme_qpair_get_id(const struct vpio_nvme_qpair *qp);
uint32_t vpio_nvme_qpair_get_depth(const struct vpio_nvme_qpair *qp);	    /* queue_size - 1 */
uint32_t vpio_nvme_qpair_get_outstanding(const struct vpio_nvme_qpair *qp); /* commands in flight */
/*
 * The largest read, write or compare (in bytes; lba_count * sector size)
 * that one call on qp accepts for ns: depth commands of the transfer size
 * each.  Larger requests fail with -E2BIG, since they could never fit
 * (vectors whose SGL segment lists fill up split into more, smaller
 * commands, and may be refused below it).  Write zeroes: 65536 * depth
 * blocks.  0 for a NULL argument.  Thread: any (reads values fixed at
 * allocation).
 */
uint64_t vpio_nvme_qpair_get_max_io_bytes(const struct vpio_nvme_qpair *qp, const struct vpio_nvme_ns *ns);

struct vpio_nvme_qpair_stats {
	size_t stats_size;	 /* out: the bytes the library filled */
	uint64_t submitted;	 /* commands written to the SQ */
	uint64_t completed;	 /* commands completed by the device */
	uint64_t polls;		 /* process_completions calls */
	uint64_t sq_doorbells;	 /* SQ tail updates given to the device */
	uint64_t cq_doorbells;	 /* CQ head updates given to the device */
	uint64_t mmio_doorbells; /* of these, MMIO register writes (the rest
				  * went to shadow doorbells only, EventIdx) */
	uint64_t bogus_cpls;	 /* completions rejected (cid, sqid) */
	uint64_t bad_sqhd;	 /* completions with an impossible SQ head */
	uint64_t timeouts;	 /* commands that timed out */
	uint64_t host_aborted;	 /* requests ended by the driver */
	uint64_t reconnects;	 /* queues re-created after a reset */
};
/* As vpio_nvme_ctrlr_get_info(): stats_size bytes of *st.  Call the
 * macro.  Thread: the qpair's owner (the counters are plain fields it
 * updates; from another thread a snapshot that may be torn). */
int vpio_nvme_qpair_get_stats_sized(const struct vpio_nvme_qpair *qp, struct vpio_nvme_qpair_stats *st,
				    size_t stats_size);
#define vpio_nvme_qpair_get_stats(qp, st) vpio_nvme_qpair_get_stats_sized((qp), (st), sizeof(*(st)))

/* ------------------------------------------------------------ I/O commands */

/* io_flags of read/write/compare/write zeroes */
#define VPIO_NVME_IO_FUA VPIO_NVME_RW_FUA /* force unit access */
#define VPIO_NVME_IO_LR VPIO_NVME_RW_LR	  /* limited retry */

/*
 * buf must be DMA memory (vpio_dma_malloc) or registered with
 * vpio_mem_register(), 4-byte aligned, lba_count * sector size bytes long.
 * Requests larger than the controller's transfer size are split into several
 * commands (all or nothing: -EAGAIN when the qpair cannot take them all now).
 * Errors: -EINVAL bad length/alignment/flags, -ERANGE beyond the namespace,
 * -E2BIG more commands than the qpair can ever hold (see
 * vpio_nvme_qpair_get_max_io_bytes(); also a vector too fragmented for one
 * raw command), -EFAULT buffer not registered, -EAGAIN qpair full or a
 * controller reset running (not logged: poll and retry; it succeeds once
 * the qpair drains), -ENXIO controller failed, -ENODEV removed/detached,
 * -ENOTSUP command not supported, -EPERM a thread other than the qpair's
 * owner (check_thread), -EBUSY nothing (only polling is refused from a
 * callback).  Thread: the qpair's owner only, as every I/O command of this
 * section (also from its completion callbacks).
 */
int vpio_nvme_ns_cmd_read(struct vpio_nvme_ns *ns, struct vpio_nvme_qpair *qp, void *buf, uint64_t lba,
			  uint32_t lba_count, vpio_nvme_cmd_cb cb, void *cb_arg, uint32_t io_flags);
int vpio_nvme_ns_cmd_write(struct vpio_nvme_ns *ns, struct vpio_nvme_qpair *qp, const void *buf, uint64_t lba,
			   uint32_t lba_count, vpio_nvme_cmd_cb cb, void *cb_arg, uint32_t io_flags);
int vpio_nvme_ns_cmd_compare(struct vpio_nvme_ns *ns, struct vpio_nvme_qpair *qp, const void *buf, uint64_t lba,
			     uint32_t lba_count, vpio_nvme_cmd_cb cb, void *cb_arg, uint32_t io_flags);
/* Vectored: the elements' total length must be a multiple of the sector
 * size; it gives the block count.  The iovec array need only live until the
 * call returns.  Thread: the qpair's owner only. */
int vpio_nvme_ns_cmd_readv(struct vpio_nvme_ns *ns, struct vpio_nvme_qpair *qp, const struct iovec *iov, int iovcnt,
			   uint64_t lba, vpio_nvme_cmd_cb cb, void *cb_arg, uint32_t io_flags);
int vpio_nvme_ns_cmd_writev(struct vpio_nvme_ns *ns, struct vpio_nvme_qpair *qp, const struct iovec *iov, int iovcnt,
			    uint64_t lba, vpio_nvme_cmd_cb cb, void *cb_arg, uint32_t io_flags);
int vpio_nvme_ns_cmd_comparev(struct vpio_nvme_ns *ns, struct vpio_nvme_qpair *qp, const struct iovec *iov,
			      int iovcnt, uint64_t lba, vpio_nvme_cmd_cb cb, void *cb_arg, uint32_t io_flags);
/* Write zeroes, flush.  Thread: the qpair's owner only. */
int vpio_nvme_ns_cmd_write_zeroes(struct vpio_nvme_ns *ns, struct vpio_nvme_qpair *qp, uint64_t lba,
				  uint32_t lba_count, vpio_nvme_cmd_cb cb, void *cb_arg, uint32_t io_flags);
int vpio_nvme_ns_cmd_flush(struct vpio_nvme_ns *ns, struct vpio_nvme_qpair *qp, vpio_nvme_cmd_cb cb, void *cb_arg);
/* Dataset Management / deallocate ("trim") of up to 256 ranges (host memory,
 * copied).  Thread: the qpair's owner only. */
int vpio_nvme_ns_cmd_deallocate(struct vpio_nvme_ns *ns, struct vpio_nvme_qpair *qp,
				const struct vpio_nvme_dsm_range *ranges, uint16_t num_ranges, vpio_nvme_cmd_cb cb,
				void *cb_arg);
/* Any I/O command: cmd's cid, PSDT and data pointer are filled in by the
 * driver; buf (len bytes, at most the max transfer size) as for read.  For
 * read, write, compare (on a namespace of this controller) and dataset
 * management, len must cover what the command moves (NLB + 1 blocks,
 * NR + 1 ranges): -EINVAL otherwise.  Thread: the qpair's owner only. */
int vpio_nvme_qpair_cmd_raw(struct vpio_nvme_qpair *qp, const struct vpio_nvme_cmd *cmd, void *buf, uint32_t len,
			    vpio_nvme_cmd_cb cb, void *cb_arg);

/* ----------------------------------------------------------- batch I/O */

/*
 * Batches: many reads and writes with one call and one SQ doorbell, and
 * completions returned as an array instead of callbacks (the shape of an
 * io_uring SQE/CQE pair).  Each command moves one buffer that is one
 * IOVA-contiguous run of at most the controller's transfer size
 * (vpio_nvme_ns_get_max_io_xfer_size()); larger or vectored I/O goes
 * through vpio_nvme_ns_cmd_*().  Batch and callback commands can share a
 * qpair, but batch commands complete only through
 * vpio_nvme_qpair_poll_batch(): process_completions() refuses a qpair with
 * batch commands outstanding (-EBUSY), and keeps for poll_batch the
 * completion of a batch command one of its callbacks submitted.  The
 * commands a reset, failure or removal ends are reported by poll_batch
 * before its error; vpio_nvme_ctrlr_free_io_qpair() ends those not yet
 * reported without a report (their buffers are free once it returns).
 * Thread: the qpair's owner thread, as for every qpair call.
 *
 * These two structs are array elements: their size is fixed for the life
 * of the ABI (no opts_size); rsvd must be zero.
 */
struct vpio_nvme_io {
	uint8_t opc;		/* VPIO_NVME_OPC_READ or VPIO_NVME_OPC_WRITE */
	uint8_t rsvd[3];
	uint32_t lba_count;	/* blocks, 1.. */
	uint64_t lba;
	void *buf;		/* vpio_nvme_ns_submit_batch(): DMA memory */
	uint64_t iova;		/* vpio_nvme_ns_submit_batch_iova(): buf's
				 * device address (vpio_vtophys()), one run */
	void *ctx;		/* returned in the completion */
};
_Static_assert(sizeof(struct vpio_nvme_io) == 40, "struct vpio_nvme_io is ABI");
_Static_assert(__builtin_offsetof(struct vpio_nvme_io, lba_count) == 4, "opc and rsvd are the first 4 bytes");

struct vpio_nvme_io_cpl {
	void *ctx;		/* struct vpio_nvme_io.ctx */
	uint16_t status;	/* as vpio_nvme_cpl.status without the phase:
				 * 0 success; VPIO_NVME_STATUS_SCT/SC decode it */
	uint16_t rsvd;
	uint32_t cdw0;
};
_Static_assert(sizeof(struct vpio_nvme_io_cpl) == 16, "struct vpio_nvme_io_cpl is ABI");

/*
 * Submit ios[0..n) in order with io_flags (FUA, LR) and one doorbell (or
 * none with delay_doorbell: process_completions/poll_batch/flush rings
 * it).  Returns how many were submitted, from the front: fewer than n when
 * the qpair has no room for the rest (submit them after a poll; the
 * completions poll_batch has not handed back yet take room too); -EAGAIN
 * (not logged) when none fit now.  A bad entry (opcode, range, buffer not
 * registered or not one contiguous run, larger than the transfer size,
 * rsvd not zero) is refused with one line and -EINVAL, -ERANGE or -EFAULT,
 * and nothing is submitted.  Thread: the qpair's owner only.
 */
int vpio_nvme_ns_submit_batch(struct vpio_nvme_ns *ns, struct vpio_nvme_qpair *qp, const struct vpio_nvme_io *ios,
			      uint32_t n, uint32_t io_flags);
/* The same with ios[i].iova already translated by the application (buf
 * is not looked at): no translation on the I/O path.  The driver checks
 * only the alignment (4 bytes); an IOVA that was never mapped makes the
 * device fail the command (or, without an IOMMU, corrupts memory).
 * Thread: the qpair's owner only. */
int vpio_nvme_ns_submit_batch_iova(struct vpio_nvme_ns *ns, struct vpio_nvme_qpair *qp,
				   const struct vpio_nvme_io *ios, uint32_t n, uint32_t io_flags);
/*
 * Reap up to max completions (max >= 1) like process_completions; batch
 * commands are reported in cpls[] (callback commands run their callbacks
 * and are not in cpls).  Returns the number of entries written to cpls, or
 * the errors of process_completions.  Commands the host ends (a reset or
 * failure) are reported here too, with status ABORTED_BY_HOST.
 * Thread: the qpair's owner only.
 */
int vpio_nvme_qpair_poll_batch(struct vpio_nvme_qpair *qp, struct vpio_nvme_io_cpl *cpls, uint32_t max);

/* ----------------------------------------------------------- admin commands */

/* Synchronous helpers: any buffer (they bounce through DMA memory), any
 * thread, but not from an admin completion callback (-EBUSY).  An error
 * status is logged and returned as a negative errno
 * (vpio_nvme_status_to_errno); -ETIMEDOUT after admin_timeout_ms, and the
 * controller is reset (unless no_reset_on_timeout), which ends the
 * command and frees its admin queue slot.
 * The device writes what the specification says, not what the caller asked
 * for: the bounce buffer is as large as the command's data (Identify: 4096
 * bytes; a feature: its data structure, e.g. LBA Range Type 4096, Timestamp
 * 8, Autonomous Power State Transition 256, Host Memory Buffer 4096 (get));
 * len may be shorter (the first len bytes are copied out; for a set, the
 * rest is zero), not longer (-EINVAL).  A feature without a data structure
 * takes no buffer (-EINVAL); a get of one with a data structure may pass
 * none.  A feature the driver does not know (vendor specific) moves len
 * bytes through whole memory pages.  doc/nvme.md lists the sizes.
 * Thread: any (the admin queue's lock), but not from an admin completion
 * callback; every helper of this section. */
int vpio_nvme_ctrlr_identify(struct vpio_nvme_ctrlr *ctrlr, uint8_t cns, uint32_t nsid, void *buf, size_t len);
int vpio_nvme_ctrlr_set_feature(struct vpio_nvme_ctrlr *ctrlr, uint8_t fid, uint32_t cdw11, uint32_t cdw12,
				void *buf, size_t len, uint32_t *cdw0);
int vpio_nvme_ctrlr_get_feature(struct vpio_nvme_ctrlr *ctrlr, uint8_t fid, uint32_t cdw11, void *buf, size_t len,
				uint32_t *cdw0);
int vpio_nvme_ctrlr_get_log_page(struct vpio_nvme_ctrlr *ctrlr, uint8_t lid, uint32_t nsid, void *buf, size_t len,
				 uint64_t offset);
int vpio_nvme_ctrlr_get_health_log(struct vpio_nvme_ctrlr *ctrlr, struct vpio_nvme_health_log *log);
/* Up to n entries (at most ELPE + 1).  Thread: any (as above). */
int vpio_nvme_ctrlr_get_error_log(struct vpio_nvme_ctrlr *ctrlr, struct vpio_nvme_error_log_entry *entries,
				  uint32_t n);
/* Abort command cid on queue sqid; *aborted tells whether it was.
 * Thread: any (as above). */
int vpio_nvme_ctrlr_abort(struct vpio_nvme_ctrlr *ctrlr, uint16_t sqid, uint16_t cid, bool *aborted);
/* Passthrough: cmd's cid is filled in, and with a buffer its PSDT and data
 * pointer (without one, cmd's data pointer is sent as given, e.g. a queue
 * base address).  cpl may be NULL; when it is given, 0 is returned also
 * for an error status (which is in *cpl).  Thread: any (as above). */
int vpio_nvme_ctrlr_admin_passthru(struct vpio_nvme_ctrlr *ctrlr, const struct vpio_nvme_cmd *cmd, void *buf,
				   size_t len, struct vpio_nvme_cpl *cpl);
/* Asynchronous passthrough: buf must be registered DMA memory, as large
 * as what the command moves when the driver knows it (Identify 4096 bytes,
 * a log page NUMD dwords, a feature its data structure): a shorter one is
 * refused with -EINVAL, since the device would write past it.  The
 * callback runs on whichever thread reaps the admin queue next:
 * vpio_nvme_ctrlr_process_admin_completions(), any synchronous admin
 * helper, or an I/O qpair's periodic health check (which reaps Abort
 * completions when the admin queue is free); for a command a reset or
 * failure ends (ABORTED_BY_HOST), the thread that runs that, which may be
 * the controller's recovery thread.  Thread: any (the admin queue's lock),
 * also process_admin_completions; a callback that runs while another
 * thread waits in a synchronous helper runs on that thread. */
int vpio_nvme_ctrlr_cmd_admin_raw(struct vpio_nvme_ctrlr *ctrlr, const struct vpio_nvme_cmd *cmd, void *buf,
				  uint32_t len, vpio_nvme_cmd_cb cb, void *cb_arg);
/* Reap admin completions and run their callbacks; returns the number
 * reaped.  Thread: any (the admin queue has a lock). */
int vpio_nvme_ctrlr_process_admin_completions(struct vpio_nvme_ctrlr *ctrlr);

/* ----------------------------------------------------------------- status */

/* Status helpers.  Thread: any (they touch only their arguments). */
static inline bool vpio_nvme_cpl_is_error(const struct vpio_nvme_cpl *cpl)
{
	return (cpl->status & VPIO_NVME_STATUS_ERROR_MASK) != 0;
}
/* "GENERIC", "COMMAND SPECIFIC", ...  Thread: any. */
const char *vpio_nvme_sct_str(uint32_t sct);
/* "INVALID FIELD", "LBA OUT OF RANGE", ... ("UNKNOWN" when not known).
 * Thread: any. */
const char *vpio_nvme_sc_str(uint32_t sct, uint32_t sc);
/* "LBA OUT OF RANGE (sct 0x0, sc 0x80, dnr)" into buf; returns buf.
 * Thread: any. */
char *vpio_nvme_status_fmt(char *buf, size_t len, uint16_t status);
#define VPIO_NVME_STATUS_STRLEN 96
/* 0 for success, else a negative errno in the spirit of the status.
 * Thread: any. */
int vpio_nvme_status_to_errno(uint16_t status);

#ifdef __cplusplus
}
#endif
#endif
