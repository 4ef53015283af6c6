/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internals of the NVMe driver: controller, namespace, qpair and request
 * structures, the pure data-pointer builders and the hot inline helpers.
 *
 * File map (grouped by object; each file's sections say more):
 *   nvme_ctrlr.c       the controller: attach, detach, references, getters,
 *                      probe over vfio-pci bound controllers
 *   nvme_ctrlr_init.c  registers and the enable/disable/shutdown sequences;
 *                      bring-up after enable: identify, queues, shadow
 *                      doorbells, namespaces
 *   nvme_reset.c       health checks of I/O qpairs (CSTS, timeouts -> Abort
 *                      -> reset), failure, reset, and the recovery thread
 *                      that runs resets and stops off the I/O threads
 *   nvme_admin.c       the admin queue: asynchronous core, synchronous wait
 *   nvme_admin_cmds.c  admin commands (identify, features, log pages,
 *                      abort, queues, dbbuf) and the bytes each one moves
 *   nvme_ns.c          namespaces: the active list, refresh, getters
 *   nvme_ns_cmd.c      namespace commands: the read/write fast path, the
 *                      general path (checks, splitting), write zeroes,
 *                      flush, deallocate, raw, batches
 *   nvme_qpair.c       I/O qpairs: queue memory in controller pages (admin
 *                      queue too), allocation, connect/reconnect, the
 *                      owner/state checks, the polling entry points
 *   nvme_qpair_core.c  pure qpair core (plain memory is enough: the unit
 *                      tests and the fuzzer drive it): ring state and cids,
 *                      requests, commit and doorbells (MMIO or shadow +
 *                      EventIdx), the completion path and CQE checks
 *   nvme_dptr.c        PRP and SGL builders (pure; translation is a
 *                      callback)
 *   nvme_status.c      status codes to text and errno
 * Hot inline helpers (request pool, doorbells, CQ head coalescing, the
 * namespace check, PRPs of one run, translation) are in this header.
 */
#ifndef VPIO_NVME_INTERNAL_H
#define VPIO_NVME_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include <vpio/env.h>
#include <vpio/log.h>
#include <vpio/nvme.h>
#include <vpio/nvme_spec.h>
#include <vpio/pci.h>

#include "env/env_vtophys.h"
#include "util/util.h"

#pragma GCC visibility push(hidden)

/* Log with VPIO_ERR(NVME_MOD, ...) etc. (util/util.h), as every library. */
#define NVME_MOD "nvme"

#define nvme_likely(x) __builtin_expect(!!(x), 1)
#define nvme_unlikely(x) __builtin_expect(!!(x), 0)

/*
 * Barriers between host memory (SQ entries, shadow doorbells) and the
 * device.  x86 keeps stores in order and MMIO is uncached, so a compiler
 * barrier is enough before a doorbell; the shadow doorbell protocol needs a
 * store->load barrier (write shadow tail, then read EventIdx).
 */
#if defined(__x86_64__) || defined(__i386__)
#define nvme_wmb() __asm__ volatile("" ::: "memory")
#define nvme_rmb() __asm__ volatile("" ::: "memory")
#define nvme_mb() __asm__ volatile("mfence" ::: "memory")
#elif defined(__aarch64__)
#define nvme_wmb() __asm__ volatile("dmb oshst" ::: "memory")
#define nvme_rmb() __asm__ volatile("dmb oshld" ::: "memory")
#define nvme_mb() __asm__ volatile("dmb osh" ::: "memory")
#else
#define nvme_wmb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define nvme_rmb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define nvme_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif

/* One request's PRP list / SGL segment / DSM range buffer: one 4 KiB
 * block of DMA memory, aligned so it never crosses a memory page. */
#define NVME_LIST_BYTES 4096u
#define NVME_PRP_LIST_MAX (NVME_LIST_BYTES / 8u)
#define NVME_SGL_LIST_MAX (NVME_LIST_BYTES / 16u)
#define NVME_MAX_NLB 65536u /* NLB is a 16-bit 0-based field */
#define NVME_MAX_IOVCNT 1024

/* ------------------------------------------------------- data pointers */

/* Virtual -> device address; *len (in: bytes wanted) is cut to the bytes
 * contiguous in device address space.  UINT64_MAX when not translatable. */
typedef uint64_t (*nvme_xlate_fn)(void *ctx, const void *vaddr, uint64_t *len);

struct nvme_dptr_env {
	nvme_xlate_fn xlate;
	void *xlate_ctx;
	uint32_t page_shift;	/* controller memory page size (CC.MPS) */
	uint8_t sgl_mode;	/* enum vpio_nvme_sgl_mode */
	bool sgl_supported;	/* SGLS says yes */
	bool sgl_dword;		/* SGL data must be dword aligned */
};

/* A position in an iovec array. */
struct nvme_iov_cur {
	const struct iovec *iov;
	uint32_t cnt;
	uint32_t idx;
	size_t off;
};

/* Returned (without a log line) by the PRP builder when the layout cannot
 * be described with PRPs; the caller tries SGLs or reports it. */
#define NVME_EPRPLAYOUT (-0x7001)

/* Build the data pointer of one command for the next len bytes at *cur.
 * PRP: all of len or an error; SGL: stops early when the segment list is
 * full, at a multiple of gran.  The list (list_iova) is NVME_LIST_BYTES.
 * Return the bytes described (> 0) and advance *cur, or a negative errno
 * (one line logged). */
int64_t nvme_build_prp(const struct nvme_dptr_env *env, struct nvme_iov_cur *cur, uint64_t len, uint64_t *list,
		       uint64_t list_iova, struct vpio_nvme_cmd *cmd);
int64_t nvme_build_sgl(const struct nvme_dptr_env *env, struct nvme_iov_cur *cur, uint64_t len, uint32_t gran,
		       struct vpio_nvme_sgl_desc *list, uint64_t list_iova, struct vpio_nvme_cmd *cmd);
/* PRP or SGL per env->sgl_mode (see enum vpio_nvme_sgl_mode). */
int64_t nvme_build_dptr(const struct nvme_dptr_env *env, struct nvme_iov_cur *cur, uint64_t len, uint32_t gran,
			void *list, uint64_t list_iova, struct vpio_nvme_cmd *cmd);
/* Move the cursor back by len bytes. */
void nvme_iov_cur_rewind(struct nvme_iov_cur *cur, uint64_t len);
/* The production translation: vpio_vtophys(). */
uint64_t nvme_xlate_vtophys(void *ctx, const void *vaddr, uint64_t *len);

/* Translate through env: a direct call for the production translation,
 * the callback only for tests and the fuzzer. */
static inline uint64_t nvme_xlate(const struct nvme_dptr_env *env, const void *vaddr, uint64_t *len)
{
	if (nvme_likely(env->xlate == nvme_xlate_vtophys))
		return env_vtophys_inline(vaddr, len);
	return env->xlate(env->xlate_ctx, vaddr, len);
}

/* ------------------------------------------------------------ requests */

enum nvme_req_state {
	NVME_REQ_FREE = 0,
	NVME_REQ_OUTSTANDING,	/* on the device */
	NVME_REQ_WAITING,	/* split leader whose own command is done */
	NVME_REQ_CANCELLING,	/* being completed by the host */
};

/*
 * One command slot (cid = index | generation << cid_shift).  Exactly one
 * cache line: everything the submit and completion paths touch.
 */
struct nvme_req {
	vpio_nvme_cmd_cb cb;
	void *cb_arg;
	struct nvme_req *next;	 /* free list; chain while a split is built */
	struct nvme_req *leader; /* split requests: the part that reports */
	void *list;		 /* PRP list / SGL segment / DSM ranges */
	uint64_t list_iova;
	uint32_t stamp;		 /* health-check sequence at submit */
	uint16_t cid;		 /* as last submitted */
	uint8_t state;
	uint8_t opc;
	uint16_t pending;	 /* leader: parts not yet completed */
	uint16_t status;	 /* leader: first error status */
	uint8_t aborted;	 /* an Abort was sent for it */
	uint8_t batch;		 /* submitted by submit_batch: no callback,
				  * completes through poll_batch */
	uint8_t rsvd[2];
};
_Static_assert(sizeof(struct nvme_req) == 64, "a request is one cache line");

/* -------------------------------------------------------------- qpairs */

enum nvme_qpair_state {
	NVME_QP_CONNECTED,
	NVME_QP_DISCONNECTED,	/* controller was reset: re-create on next use */
	NVME_QP_FAILED,		/* controller failed: -ENXIO until a reset */
	NVME_QP_REMOVED,	/* controller removed or detached: -ENODEV */
};

/* Counters the I/O path bumps: one cache line. */
struct nvme_qp_io_stats {
	uint64_t submitted, completed, polls;
	uint64_t sq_doorbells, cq_doorbells, mmio_doorbells;
};

/* Counters of rare events (cold). */
struct nvme_qp_err_stats {
	uint64_t bogus_cpls, bad_sqhd, timeouts, host_aborted, reconnects;
};

/*
 * An I/O (or the admin) qpair, laid out by use; allocated cache-line
 * aligned.  Line 0: the pointers submission and completion follow; line 1:
 * the ring indexes and everything a 4 KiB read checks; line 2: the data
 * pointer environment and the shadow doorbells; line 3: the I/O counters.
 * A read touches lines 0-3 of the qpair, its request (one line), its SQ
 * slot and its CQ entry.  Everything after is cold.
 */
struct vpio_nvme_qpair {
	/* --- line 0 --- */
	struct vpio_nvme_cmd *sq;
	volatile struct vpio_nvme_cpl *cq;
	struct nvme_req *reqs;
	struct nvme_req *free_reqs;
	volatile uint32_t *sq_db;
	volatile uint32_t *cq_db;
	const _Atomic uint32_t *ctrlr_epoch;
	uintptr_t owner;	/* nvme_thread_id() of its thread, 0 = none yet */
	/* --- line 1 --- */
	_Alignas(64) struct vpio_nvme_ctrlr *ctrlr;	/* NULL for a fake qpair (tests) */
	uint64_t next_check;	/* tick of the next health check, 0 = none */
	uint32_t epoch;		/* ctrlr epoch this qpair is in sync with */
	uint32_t outstanding;	/* commands on the device */
	uint32_t check_seq;	/* health checks run so far */
	uint32_t max_xfer;	/* bytes per command */
	uint32_t batch_outstanding; /* of outstanding: batch requests (no callback) */
	uint16_t sq_tail;	/* next slot to fill */
	uint16_t sq_rung;	/* tail the device was last told */
	uint16_t sq_head;	/* from the last valid CQE */
	uint16_t cq_head;
	uint16_t cq_rung;	/* CQ head the device was last told */
	uint16_t cq_unrung;	/* CQEs consumed since (cq_head - cq_rung) */
	uint16_t num_entries;	/* SQ and CQ size */
	uint16_t num_reqs;	/* num_entries - 1 */
	uint16_t cid_mask;	/* index bits of a cid */
	uint16_t cid_gen_inc;	/* 1 << index bits (0 when none are left) */
	uint16_t qid;
	uint8_t phase;
	uint8_t state;		/* enum nvme_qpair_state */
	bool delay_doorbell;
	bool check_thread;	/* opts.check_thread: refuse other threads */
	bool in_cpl;		/* inside the completion loop */
	bool fast_prp;		/* the production translation and PRPs allowed
				 * (not SGL-always): the direct path applies */
	/* --- line 2 --- */
	_Alignas(64) struct nvme_dptr_env dptr;
	/* shadow doorbells (NULL when not in use) */
	volatile uint32_t *sq_shadow;
	volatile uint32_t *cq_shadow;
	volatile uint32_t *sq_eventidx;
	volatile uint32_t *cq_eventidx;
	/* --- line 3 --- */
	_Alignas(64) struct nvme_qp_io_stats stats;

	/* --- cold --- */
	_Alignas(64) struct nvme_qp_err_stats err_stats;
	struct vpio_nvme_qpair_opts opts;
	uint32_t timeout_checks;	/* checks a command may span, 0 = none */
	uint64_t check_interval;	/* ticks */
	uint32_t log_budget;		/* device-error lines still allowed */
	void *sq_mem, *cq_mem, *list_mem;
	uint64_t sq_iova, cq_iova;
	struct vpio_nvme_qpair *next;	/* ctrlr's list */
	/* batch requests the host ended (reset, failure): reported by the
	 * next poll_batch; [num_reqs], allocated at the first batch */
	struct vpio_nvme_io_cpl *host_done;
	uint32_t host_done_n;
};

#define NVME_QP_LINE(f) (__builtin_offsetof(struct vpio_nvme_qpair, f) / 64u)
_Static_assert(NVME_QP_LINE(owner) == 0 && NVME_QP_LINE(sq) == 0, "line 0: ring and doorbell pointers");
_Static_assert(NVME_QP_LINE(ctrlr) == 1 && NVME_QP_LINE(fast_prp) == 1 && NVME_QP_LINE(cq_unrung) == 1,
	       "line 1: indexes and checks");
_Static_assert(NVME_QP_LINE(dptr) == 2 && NVME_QP_LINE(cq_eventidx) == 2, "line 2: data pointers, shadows");
_Static_assert(NVME_QP_LINE(stats) == 3 && sizeof(struct nvme_qp_io_stats) <= 64, "line 3: I/O counters");
_Static_assert(__builtin_offsetof(struct vpio_nvme_qpair, err_stats) == 256, "cold state after line 3");

/* Ring memory laid out by the caller (DMA memory or, for tests and the
 * fuzzer, plain memory): reset indexes and phase, zero the CQ, build the
 * request pool (lists left NULL; reqs has num_entries - 1 elements). */
void nvme_qpair_init_rings(struct vpio_nvme_qpair *qp, uint16_t num_entries, struct vpio_nvme_cmd *sq,
			   struct vpio_nvme_cpl *cq, struct nvme_req *reqs);
/* Reset ring indexes and phase and zero the CQ (reconnect). */
void nvme_qpair_reset_rings(struct vpio_nvme_qpair *qp);

/* Pop a free request (NULL when none) and give it a fresh cid. */
static inline struct nvme_req *nvme_req_get(struct vpio_nvme_qpair *qp)
{
	struct nvme_req *req = qp->free_reqs;
	uint16_t cid;

	if (nvme_unlikely(req == NULL))
		return NULL;
	qp->free_reqs = req->next;
	/* never FFFFh (reserved): the index bits are never all ones, since
	 * 1 << index bits > num_reqs (nvme_qpair_core.c) */
	cid = (uint16_t)(req->cid + qp->cid_gen_inc);
	req->cid = cid;
	req->leader = NULL;
	req->next = NULL;
	req->aborted = 0;
	req->batch = 0;
	return req;
}

static inline void nvme_req_put(struct vpio_nvme_qpair *qp, struct nvme_req *req)
{
	req->state = NVME_REQ_FREE;
	req->next = qp->free_reqs;
	qp->free_reqs = req;
}

/* A part of a split request completed (nvme_qpair_core.c). */
void nvme_req_complete_part(struct vpio_nvme_qpair *qp, struct nvme_req *req, const struct vpio_nvme_cpl *cpl);
/* A request without a callback completed (outstanding already counted
 * off): back to the pool, or, a batch command completing while no
 * poll_batch runs (a callback of process_completions submitted it), kept
 * for the next poll_batch. */
void nvme_req_complete_nocb(struct vpio_nvme_qpair *qp, struct nvme_req *req, const struct vpio_nvme_cpl *cpl);
/* A batch request ended by the host, or completed while no poll_batch
 * runs (no longer counted in outstanding): kept with status and cdw0 for
 * the next poll_batch.  There is room: submit_batch keeps
 * batch_outstanding + host_done_n <= num_reqs. */
void nvme_req_host_done_batch(struct vpio_nvme_qpair *qp, struct nvme_req *req, uint16_t status, uint32_t cdw0);

/* Complete req with *cpl: runs the callback (for split requests once all
 * parts are done) after returning the request(s) to the pool. */
static inline void nvme_req_complete(struct vpio_nvme_qpair *qp, struct nvme_req *req,
				     const struct vpio_nvme_cpl *cpl)
{
	vpio_nvme_cmd_cb cb = req->cb;
	void *arg = req->cb_arg;

	qp->outstanding--;
	if (nvme_unlikely(req->leader != NULL)) {
		nvme_req_complete_part(qp, req, cpl);
		return;
	}
	if (nvme_unlikely(cb == NULL)) {
		nvme_req_complete_nocb(qp, req, cpl);
		return;
	}
	nvme_req_put(qp, req); /* first, so that the callback can reuse it */
	cb(arg, cpl);
}
/* Complete every request the device holds with a host status
 * (VPIO_NVME_SCT_PATH / ABORTED_BY_HOST); returns how many. */
uint32_t nvme_qpair_cancel_all(struct vpio_nvme_qpair *qp);

/*
 * Drain up to max CQEs (0 or > depth: depth): validate each (phase, cid in
 * range and outstanding with the same generation, sqid, sqhd in range),
 * complete valid ones, ring the CQ head doorbell once.  Returns the number
 * of requests completed.  Touches nothing outside the qpair and its rings.
 */
uint32_t nvme_cq_drain(struct vpio_nvme_qpair *qp, uint32_t max);
/* The same for poll_batch: completions of batch requests go to out[*nout]
 * (callbacks of the others run as usual). */
uint32_t nvme_cq_drain_batch(struct vpio_nvme_qpair *qp, uint32_t max, struct vpio_nvme_io_cpl *out,
			     uint32_t *nout);

/* Doorbells (nvme_qpair_core.c): the shadow-doorbell variants out of line. */
void nvme_ring_sq_shadow(struct vpio_nvme_qpair *qp);
void nvme_ring_cq(struct vpio_nvme_qpair *qp);

static inline void nvme_ring_sq(struct vpio_nvme_qpair *qp)
{
	uint16_t tail = qp->sq_tail;

	if (nvme_unlikely(qp->sq_shadow != NULL)) {
		nvme_ring_sq_shadow(qp);
		return;
	}
	nvme_wmb(); /* SQ entries before the doorbell */
	qp->sq_rung = tail;
	*qp->sq_db = tail;
	qp->stats.sq_doorbells++;
	qp->stats.mmio_doorbells++;
}

/*
 * The CQ head doorbell, coalesced.  The device needs the head only before
 * the CQ could fill: it holds at most `outstanding` commands, so with
 * cq_unrung entries consumed but not acknowledged the CQ cannot fill while
 * cq_unrung + outstanding (+ more about to be submitted) < num_entries.
 * Rung when that is no longer true: before a submission that would break
 * it, and after a drain that leaves no room (bogus entries consume slots
 * too).  The same with shadow doorbells: the shadow head is written then,
 * and MMIO follows only when the controller's EventIdx asks.  A CQ that
 * never fills never needs EventIdx to wake the controller.
 */
static inline void nvme_cq_ack(struct vpio_nvme_qpair *qp, uint32_t more)
{
	if (nvme_unlikely((uint32_t)qp->cq_unrung + qp->outstanding + more > qp->num_reqs))
		nvme_ring_cq(qp);
}

/* At the end of a drain. */
static inline void nvme_cq_ack_drained(struct vpio_nvme_qpair *qp)
{
	if (qp->cq_unrung != 0 && (uint32_t)qp->cq_unrung + qp->outstanding >= qp->num_reqs)
		nvme_ring_cq(qp);
}

static inline bool nvme_sq_full(const struct vpio_nvme_qpair *qp, uint16_t tail)
{
	uint16_t next = (uint16_t)(tail + 1u == qp->num_entries ? 0u : tail + 1u);

	return next == qp->sq_head;
}

static inline uint16_t nvme_sq_next(const struct vpio_nvme_qpair *qp, uint16_t tail)
{
	return (uint16_t)(tail + 1u == qp->num_entries ? 0u : tail + 1u);
}

/* Mark the requests of one chain outstanding, publish the new tail and ring
 * the doorbell unless delayed. */
void nvme_qpair_commit(struct vpio_nvme_qpair *qp, struct nvme_req *chain, uint16_t new_tail, uint32_t ncmds);

/* The doorbells a submission made due when the fast path cannot ring
 * them inline (shadow doorbells, a CQ head that must go first); 0. */
int nvme_qpair_commit_slow(struct vpio_nvme_qpair *qp);

/* The same for one request (req->next is NULL), shaped for the read and
 * write fast path: the rare doorbell work is a tail call, so the caller
 * keeps everything in scratch registers.  Returns 0. */
static inline int nvme_qpair_commit_one(struct vpio_nvme_qpair *qp, struct nvme_req *req, uint16_t new_tail)
{
	req->state = NVME_REQ_OUTSTANDING;
	req->stamp = qp->check_seq;
	qp->sq_tail = new_tail;
	qp->outstanding++;
	qp->stats.submitted++;
	/* nvme_cq_ack(qp, 1) counted after the increment */
	if (nvme_unlikely(qp->sq_shadow != NULL || (uint32_t)qp->cq_unrung + qp->outstanding > qp->num_reqs))
		return nvme_qpair_commit_slow(qp);
	if (!qp->delay_doorbell)
		nvme_ring_sq(qp);
	return 0;
}
/* Give back the requests of a chain that was never committed. */
void nvme_qpair_rollback(struct vpio_nvme_qpair *qp, struct nvme_req *chain);

/* The calling thread, for the qpair owner check: the thread pointer (one
 * register read on x86-64 and arm64), distinct for every live thread. */
static inline uintptr_t nvme_thread_id(void)
{
#if defined(__x86_64__) || defined(__aarch64__)
	return (uintptr_t)__builtin_thread_pointer();
#else
	return (uintptr_t)pthread_self();
#endif
}

/* Check the qpair can take commands now (owner thread, state, epoch);
 * reconnects after a reset.  0 or a negative errno (logged). */
int nvme_qpair_enter(struct vpio_nvme_qpair *qp, const char *what);
int nvme_qpair_sync_state(struct vpio_nvme_qpair *qp, const char *what);
/* The calling thread may use qp: it owns it, or it becomes the owner (the
 * first user; any caller with check_thread off), or -EPERM (logged) for a
 * second thread with check_thread on, and for any other thread while the
 * owner is inside a completion callback. */
int nvme_qpair_check_owner(struct vpio_nvme_qpair *qp, const char *what);

/* The calling thread owns qp, which is connected and in step with its
 * controller: nothing to catch up with. */
static inline bool nvme_qpair_current(const struct vpio_nvme_qpair *qp)
{
	return qp != NULL && qp->owner == nvme_thread_id() && qp->state == NVME_QP_CONNECTED &&
	       qp->epoch == atomic_load_explicit(qp->ctrlr_epoch, memory_order_acquire);
}

/* Also the NULL check of every public qpair entry point (-EINVAL). */
static inline int nvme_qpair_ready(struct vpio_nvme_qpair *qp, const char *what)
{
	if (nvme_likely(nvme_qpair_current(qp)))
		return 0;
	return nvme_qpair_enter(qp, what);
}

/* Log a device error on this qpair unless its budget is spent. */
void nvme_qpair_log_device_error(struct vpio_nvme_qpair *qp, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Periodic health check: CSTS (fatal, removed), timeouts. */
void nvme_qpair_health_check(struct vpio_nvme_qpair *qp, uint64_t now);

/* Create the queues on the controller (rings reset, doorbells set up). */
int nvme_qpair_connect(struct vpio_nvme_qpair *qp);
/* Point the qpair at its shadow doorbell and EventIdx words (none when the
 * controller does not use them or the qid does not fit the page) and zero
 * them: called before the queues are created. */
void nvme_qpair_setup_shadow(struct vpio_nvme_qpair *qp);

/* ---------------------------------------------------------- namespaces */

struct vpio_nvme_ns {
	struct vpio_nvme_ctrlr *ctrlr;
	/* ctrlr while the namespace is active and has no metadata, else NULL:
	 * the read/write fast path's one compare */
	struct vpio_nvme_ctrlr *io_ctrlr;
	uint32_t id;
	bool active;
	uint32_t block_shift;
	uint32_t block_size;
	uint32_t md_size;
	bool md_extended;
	uint64_t num_blocks;
	struct vpio_nvme_ns_data data;
};

int nvme_ns_refresh(struct vpio_nvme_ns *ns);

/* The one writer of active and of io_ctrlr, which follows from it (and
 * from md_size, set before). */
static inline void nvme_ns_set_active(struct vpio_nvme_ns *ns, bool active)
{
	ns->active = active;
	ns->io_ctrlr = active && ns->md_size == 0 ? ns->ctrlr : NULL;
}

/* Why ns cannot take commands on qp, logged: -EINVAL (NULL, another
 * controller's) or -ENXIO (inactive). */
int nvme_ns_refuse(const struct vpio_nvme_ns *ns, const struct vpio_nvme_qpair *qp, const char *what);

static inline int nvme_ns_usable(const struct vpio_nvme_ns *ns, const struct vpio_nvme_qpair *qp, const char *what)
{
	if (nvme_likely(ns != NULL && ns->ctrlr == qp->ctrlr && ns->active))
		return 0;
	return nvme_ns_refuse(ns, qp, what);
}

/* Why an I/O on ns (lba, nlb blocks) is refused, logged: -EINVAL,
 * -ENXIO, -ERANGE or -ENOTSUP (metadata). */
int nvme_ns_io_refuse(const struct vpio_nvme_ns *ns, const struct vpio_nvme_qpair *qp, uint64_t lba, uint64_t nlb,
		      const char *what);

/* nlb blocks at lba may go to ns on qp: ns active, without metadata, on
 * qp's controller (io_ctrlr), and the range inside it. */
static inline bool nvme_ns_range_ok(const struct vpio_nvme_ns *ns, uint64_t lba, uint64_t nlb)
{
	return nlb != 0 && lba < ns->num_blocks && nlb <= ns->num_blocks - lba;
}

static inline bool nvme_ns_io_ok(const struct vpio_nvme_ns *ns, const struct vpio_nvme_qpair *qp, uint64_t lba,
				 uint64_t nlb)
{
	return ns != NULL && ns->io_ctrlr == qp->ctrlr && nvme_ns_range_ok(ns, lba, nlb);
}

/* io_flags of read, write, compare and write zeroes: FUA and LR only. */
static inline bool nvme_io_flags_ok(uint32_t io_flags)
{
	return (io_flags & ~(VPIO_NVME_IO_FUA | VPIO_NVME_IO_LR)) == 0;
}

static inline int nvme_ns_io_check(const struct vpio_nvme_ns *ns, const struct vpio_nvme_qpair *qp, uint64_t lba,
				   uint64_t nlb, const char *what)
{
	if (nvme_likely(nvme_ns_io_ok(ns, qp, lba, nlb)))
		return 0;
	return nvme_ns_io_refuse(ns, qp, lba, nlb, what);
}

/* Everything of a read/write/compare/write zeroes but the data pointer. */
static inline void nvme_rw_fill(struct vpio_nvme_cmd *cmd, uint8_t opc, uint32_t flags, uint32_t nsid, uint16_t cid,
				uint64_t lba, uint32_t nlb)
{
	cmd->opc = opc;
	cmd->cid = cid;
	cmd->nsid = nsid;
	cmd->cdw2 = 0;
	cmd->cdw3 = 0;
	cmd->mptr = 0;
	cmd->cdw10 = (uint32_t)lba;
	cmd->cdw11 = (uint32_t)(lba >> 32);
	cmd->cdw12 = (nlb - 1u) | flags;
	cmd->cdw13 = 0;
	cmd->cdw14 = 0;
	cmd->cdw15 = 0;
}

/* The PRPs of one command over one IOVA-contiguous run of len bytes
 * (len <= the transfer size, so the request's list is enough): PRP1, and
 * PRP2 or the list.  Any dword-aligned start is valid; the pages after
 * the first are whole. */
static inline void nvme_prp_contig(struct vpio_nvme_cmd *cmd, const struct nvme_req *req, uint32_t page_shift,
				   uint64_t iova, uint64_t len)
{
	const uint64_t pg = 1ull << page_shift;
	uint64_t next = (iova | (pg - 1u)) + 1u, end = iova + len, *list;
	uint32_t i;

	cmd->flags = VPIO_NVME_PSDT_PRP;
	cmd->dptr.prp.prp1 = iova;
	if (end <= next) {
		cmd->dptr.prp.prp2 = 0;
	} else if (end <= next + pg) {
		cmd->dptr.prp.prp2 = next;
	} else {
		list = req->list;
		for (i = 0; next < end; next += pg)
			list[i++] = next;
		cmd->dptr.prp.prp2 = req->list_iova;
	}
}

/* ---------------------------------------------------------- controllers */

struct vpio_nvme_ctrlr {
	/* read by every I/O thread: alone on its cache line.  The state and a
	 * change counter in one word, so that one load is a consistent
	 * snapshot: counter << NVME_STATE_BITS | enum vpio_nvme_ctrlr_state */
	_Alignas(64) _Atomic uint32_t epoch;
	_Alignas(64) char name[64];
	struct vpio_pci_device *dev;
	volatile uint8_t *regs;
	uint64_t cap;
	uint32_t vs;
	uint32_t dstrd;			/* CAP.DSTRD */
	uint32_t page_shift;
	uint32_t max_xfer;
	uint32_t max_queue_size;
	uint32_t max_io_queues;
	uint32_t num_ns;
	uint64_t ticks_hz;
	struct vpio_nvme_ctrlr_opts opts;
	struct vpio_nvme_ctrlr_data cdata;

	struct vpio_nvme_ns **ns;		/* [num_ns], NULL = never active */

	pthread_mutex_t admin_lock;		/* admin queue (recursive) */
	pthread_mutex_t lock;			/* qpair list, qids, reset (recursive) */
	struct vpio_nvme_qpair *adminq;
	struct vpio_nvme_qpair *qpairs;		/* I/O qpairs */
	uint8_t *qid_used;			/* [max_io_queues + 1] */
	_Atomic int refs;			/* attach + one per qpair */

	/* shadow doorbells: two pages, kept until detach once allocated (a
	 * qpair that has not reconnected after a reset may still write its
	 * shadow entry); dbbuf_on says whether the controller uses them */
	bool dbbuf_on;
	uint32_t *dbbuf;
	uint32_t *eventidx;
	uint64_t dbbuf_iova, eventidx_iova;

	_Atomic uint64_t stat_resets, stat_timeouts, stat_aborts, stat_admin, stat_failures;

	/* recovery thread (nvme_reset.c): the reset or disable an I/O
	 * thread's health check asked for; all under recovery_lock */
	pthread_mutex_t recovery_lock;
	pthread_cond_t recovery_cond;
	pthread_t recovery_thread;
	bool recovery_started;
	bool recovery_stop;
	uint8_t recovery_kind;		/* enum nvme_recovery */
	uint32_t recovery_epoch;	/* the RESETTING epoch it was asked in */
	uint32_t recovery_posted;	/* requests so far */
};

enum nvme_recovery {
	NVME_RECOVER_RESET = 1,		/* Abort did not help: reset */
	NVME_RECOVER_FAIL,		/* CSTS.CFS: stop it, then FAILED */
};

#define NVME_STATE_BITS 3u
#define NVME_STATE_MASK ((1u << NVME_STATE_BITS) - 1u)
#define NVME_EPOCH_STATE(e) ((e) & NVME_STATE_MASK)

static inline uint32_t nvme_ctrlr_state(const struct vpio_nvme_ctrlr *c)
{
	return NVME_EPOCH_STATE(atomic_load_explicit(&c->epoch, memory_order_acquire));
}

/* Registers (nvme_ctrlr_init.c). */
uint32_t nvme_reg_read32(const struct vpio_nvme_ctrlr *c, uint32_t off);
uint64_t nvme_reg_read64(const struct vpio_nvme_ctrlr *c, uint32_t off);
void nvme_reg_write32(struct vpio_nvme_ctrlr *c, uint32_t off, uint32_t val);
void nvme_reg_write64(struct vpio_nvme_ctrlr *c, uint32_t off, uint64_t val);
volatile uint32_t *nvme_doorbell(struct vpio_nvme_ctrlr *c, uint16_t qid, bool cq);
/* CC.EN = 0 (after an enable in progress finished) and wait for CSTS.RDY
 * = 0, each within CAP.TO. */
int nvme_ctrlr_disable(struct vpio_nvme_ctrlr *c);
/* Program the admin queue, CC, enable, wait for CSTS.RDY = 1. */
int nvme_ctrlr_enable(struct vpio_nvme_ctrlr *c);
/* CC.SHN normal, wait for SHST complete (bounded). */
int nvme_ctrlr_shutdown(struct vpio_nvme_ctrlr *c);
/* 0 ok, -ENXIO fatal (CSTS.CFS), -ENODEV all ones. */
int nvme_ctrlr_check_csts(struct vpio_nvme_ctrlr *c);
uint64_t nvme_ms_to_ticks(const struct vpio_nvme_ctrlr *c, uint64_t ms);

/* Admin queue (nvme_admin.c). */
int nvme_admin_qpair_create(struct vpio_nvme_ctrlr *c);
void nvme_admin_qpair_destroy(struct vpio_nvme_ctrlr *c);
/* Submit cmd (cid, PSDT, data pointer filled in) with registered buf. */
int nvme_admin_submit(struct vpio_nvme_ctrlr *c, const struct vpio_nvme_cmd *cmd, void *buf, uint32_t len,
		      vpio_nvme_cmd_cb cb, void *cb_arg);
/* Submit and wait; buf may be any memory: it is bounced through whole
 * pages as large as what the device moves (nvme_admin_xfer_len(); len may
 * be shorter, not longer), and only len bytes are copied back.  On an
 * error status:
 * with cpl_out the CQE is returned and 0; without, one line naming what
 * and the status is logged and a negative errno returned.  -ETIMEDOUT
 * after admin_timeout_ms, and a controller reset unless
 * no_reset_on_timeout (may be called with the controller lock held). */
int nvme_admin_sync(struct vpio_nvme_ctrlr *c, const struct vpio_nvme_cmd *cmd, void *buf, size_t len,
		    struct vpio_nvme_cpl *cpl_out, const char *what);
/* Bytes the controller moves for an admin command by the specification
 * (Identify 4 KiB, a log page NUMD dwords, a feature its data structure),
 * NVME_XFER_UNKNOWN for commands and features the driver does not know. */
#define NVME_XFER_UNKNOWN UINT64_MAX
uint64_t nvme_admin_xfer_len(const struct vpio_nvme_cmd *cmd);
uint64_t nvme_feature_xfer_len(uint8_t fid, bool set, uint32_t cdw11);
/* -EINVAL (logged) when a len-byte buffer is shorter than what the device
 * moves for cmd (with len 0: unless cmd carries its own data pointer). */
int nvme_admin_check_buf(const struct vpio_nvme_ctrlr *c, const struct vpio_nvme_cmd *cmd, uint64_t len);
/* Reap admin completions; with try, give up when the queue is busy. */
int nvme_admin_poll(struct vpio_nvme_ctrlr *c, bool try);

/* Admin commands the driver itself uses (nvme_admin_cmds.c). */
int nvme_ctrlr_set_num_queues(struct vpio_nvme_ctrlr *c, uint32_t want, uint32_t *granted);
int nvme_ctrlr_create_io_queues(struct vpio_nvme_ctrlr *c, struct vpio_nvme_qpair *qp);
int nvme_ctrlr_delete_io_queues(struct vpio_nvme_ctrlr *c, struct vpio_nvme_qpair *qp);
int nvme_ctrlr_config_dbbuf(struct vpio_nvme_ctrlr *c);
/* Fire-and-forget Abort for a timed-out command. */
int nvme_ctrlr_abort_async(struct vpio_nvme_ctrlr *c, uint16_t sqid, uint16_t cid);

/* Bring-up (nvme_ctrlr_init.c): start = first time, restart = after a disable
 * (admin queue memory kept). */
int nvme_ctrlr_start(struct vpio_nvme_ctrlr *c);
int nvme_ctrlr_restart(struct vpio_nvme_ctrlr *c);
int nvme_ctrlr_scan_ns(struct vpio_nvme_ctrlr *c);
void nvme_ctrlr_free_ns(struct vpio_nvme_ctrlr *c);
int nvme_ctrlr_alloc_dbbuf(struct vpio_nvme_ctrlr *c);
void nvme_ctrlr_free_dbbuf(struct vpio_nvme_ctrlr *c);

/* State changes (nvme_reset.c): a new epoch with state st; the
 * conditional one only from state `from` (false otherwise). */
void nvme_ctrlr_set_state(struct vpio_nvme_ctrlr *c, enum vpio_nvme_ctrlr_state st);
bool nvme_ctrlr_change_state(struct vpio_nvme_ctrlr *c, enum vpio_nvme_ctrlr_state from,
			     enum vpio_nvme_ctrlr_state to);
/* Mark removed (-ENODEV), or stop the controller and then mark it failed
 * (-ENXIO; waits up to CAP.TO); logged, only the first caller does it.
 * The admin side's; I/O threads use the _async form. */
void nvme_ctrlr_fail(struct vpio_nvme_ctrlr *c, int why);
/* The same from an I/O thread: removed at once (nothing to wait for); a
 * fatal status only moves the controller to RESETTING and leaves the stop
 * to the recovery thread. */
void nvme_ctrlr_fail_async(struct vpio_nvme_ctrlr *c, int why);
/* The second half of a failure, begun in epoch (RESETTING): stop the
 * controller, end the admin commands, then FAILED (or REMOVED) unless
 * the epoch moved on meanwhile. */
void nvme_ctrlr_fail_finish(struct vpio_nvme_ctrlr *c, uint32_t epoch);
/* Reset unless the epoch moved on since seen_epoch (admin side, and the
 * recovery thread). */
void nvme_ctrlr_timeout_escalate(struct vpio_nvme_ctrlr *c, uint32_t seen_epoch);
/* From an I/O thread: a timed-out command was not helped by Abort.  When
 * the controller is still in seen_epoch (READY), move it to RESETTING and
 * have the recovery thread reset it; returns at once. */
void nvme_ctrlr_escalate_async(struct vpio_nvme_ctrlr *c, uint32_t seen_epoch);

/* The recovery thread (nvme_reset.c): started at attach (0 or a negative
 * errno, logged), stopped at detach (after the work it is running). */
int nvme_recovery_start(struct vpio_nvme_ctrlr *c);
void nvme_recovery_stop(struct vpio_nvme_ctrlr *c);
/* Hand work to it (runs it inline on a controller without the thread). */
void nvme_recovery_post(struct vpio_nvme_ctrlr *c, enum nvme_recovery kind, uint32_t epoch);

/* Lifetime (nvme_ctrlr.c). */
void nvme_ctrlr_put(struct vpio_nvme_ctrlr *c);

/* Queue memory (nvme_qpair.c), for the admin queue and I/O queues alike.
 * Where it comes from: DMA memory (nvme_qmem_dma), or plain memory and a
 * fake translation in tests. */
struct nvme_qmem_ops {
	void *(*zmalloc)(size_t size, size_t align);
	void (*free)(void *p);
	nvme_xlate_fn xlate;
	void *xlate_ctx;
};
extern const struct nvme_qmem_ops nvme_qmem_dma;
/* SQ and CQ of n entries (2..65535) and n - 1 list blocks, aligned to and
 * sized in memory pages of 2^page_shift bytes (CC.MPS), each ring
 * contiguous for the device and each list block within one page; the
 * request pool (plain memory, freed by the qpair's owner) unless qp->reqs
 * is already there; rings initialized (nvme_qpair_init_rings), lists set.
 * 0, or a negative errno (one line logged) with nothing left allocated. */
int nvme_qmem_alloc(struct vpio_nvme_qpair *qp, uint32_t n, uint32_t page_shift, const struct nvme_qmem_ops *ops);
void nvme_qmem_free(struct vpio_nvme_qpair *qp, const struct nvme_qmem_ops *ops);
/* One region as the device sees it: iova translatable, contig >= len,
 * aligned to align, and when no larger than a page, within one.  0 or
 * -EFAULT (logged, naming controller, queue and what). */
int nvme_qmem_check(const char *name, uint16_t qid, const char *what, uint64_t iova, uint64_t contig, uint64_t len,
		    uint64_t align, uint32_t page_shift);
/* Free a qpair's DMA memory (queues, lists): nvme_qmem_free(qp, &nvme_qmem_dma). */
void nvme_qpair_free_mem(struct vpio_nvme_qpair *qp);

/* Status helpers. */
static inline uint16_t nvme_host_abort_status(void)
{
	return VPIO_NVME_STATUS(VPIO_NVME_SCT_PATH, VPIO_NVME_SC_ABORTED_BY_HOST);
}

/* Sleep a little while waiting for the device (bring-up, admin). */
void nvme_delay_us(uint32_t us);

#pragma GCC visibility pop

#endif
