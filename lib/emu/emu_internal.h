/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/emu internals: the emulated NVMe controller.
 *
 * One controller = one object in a process-wide registry + one thread.
 * The thread owns all controller state (registers, queues, storage
 * position); other threads talk to it through requests (reset, detach,
 * faults) that it acknowledges, and read its counters with atomics.
 * BAR0 is ordinary page-aligned memory that the driver reads and writes
 * like a mapped BAR; the thread polls CC and the doorbells.
 */
#ifndef VPIO_EMU_INTERNAL_H
#define VPIO_EMU_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vpio/emu.h>
#include <vpio/env.h>
#include <vpio/nvme_spec.h>
#include <vpio/pci.h>

#include "util/util.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the NVMe emulator assumes a little-endian host"
#endif

#define EMU_MOD "emu"

/* A 32-bit word of shared memory (BAR, host queues) that may alias anything. */
typedef uint32_t __attribute__((may_alias)) emu_u32;
typedef uint64_t __attribute__((may_alias)) emu_u64;

static inline uint32_t emu_load32(const void *p)
{
	return __atomic_load_n((const emu_u32 *)p, __ATOMIC_ACQUIRE);
}
static inline void emu_store32(void *p, uint32_t v)
{
	__atomic_store_n((emu_u32 *)p, v, __ATOMIC_RELEASE);
}
static inline uint64_t emu_load64(const void *p)
{
	return __atomic_load_n((const emu_u64 *)p, __ATOMIC_ACQUIRE);
}
static inline void emu_store64(void *p, uint64_t v)
{
	__atomic_store_n((emu_u64 *)p, v, __ATOMIC_RELEASE);
}
/* Counters: one writer (the controller thread), readers anywhere. */
static inline void emu_count(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}
static inline uint64_t emu_read_count(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

uint64_t emu_now_ns(void);
/* Put a device thread on the CPUs the application's DPDK lcores do not
 * use (all CPUs when they use them all); false when that fails. */
bool emu_place_thread(pthread_t t);

/* ------------------------------------------------------------ names */

#define EMU_KIND_LEN 16
#define EMU_NAME_LEN 32
#define EMU_MAX_INDEX 9999

/* Split "emu:KIND[N][?opts]": kind, index (0 when absent), the option
 * string after '?' (NULL when none).  -EINVAL with one log line. */
int emu_parse_name(const char *name, char *kind, size_t kind_len, unsigned *idx, const char **opts);

/* ---------------------------------------------------------- options */

enum emu_nvme_opt_bit {
	EMU_OPT_NS = 1u << 0,
	EMU_OPT_LBA = 1u << 1,
	EMU_OPT_SIZE = 1u << 2,
	EMU_OPT_NULL = 1u << 3,
	EMU_OPT_BACKING = 1u << 4,
	EMU_OPT_MDTS = 1u << 5,
	EMU_OPT_QUEUES = 1u << 6,
	EMU_OPT_QDEPTH = 1u << 7,
	EMU_OPT_SGL = 1u << 8,
	EMU_OPT_DBBUF = 1u << 9,
	EMU_OPT_DSTRD = 1u << 10,
	EMU_OPT_RDYDELAY = 1u << 11,
	EMU_OPT_MPSMIN = 1u << 12,
};

#define EMU_NVME_MAX_NS 256
#define EMU_NVME_MAX_QUEUES 1024
#define EMU_NVME_MAX_MDTS 16
#define EMU_NVME_MPSMAX 4 /* CAP.MPSMAX: 64 KiB memory pages */
#define EMU_NVME_MAX_BAR (64u << 20)
#define EMU_BACKING_LEN 512

struct emu_nvme_opts {
	uint32_t ns;		/* namespaces */
	uint32_t lba;		/* 512 or 4096 */
	uint64_t size;		/* bytes per namespace */
	bool null_io;		/* complete without moving data */
	char backing[EMU_BACKING_LEN]; /* "" = memory */
	uint32_t mdts;		/* 2^mdts minimum memory pages, 0 = unlimited */
	uint32_t queues;	/* I/O queue pairs */
	uint32_t qdepth;	/* CAP.MQES + 1 */
	bool sgl;
	bool dbbuf;
	uint32_t dstrd;
	uint32_t rdy_delay_us;	/* CC.EN -> CSTS.RDY (disable: only when set) */
	uint32_t mpsmin;	/* CAP.MPSMIN: memory pages of at least 4 KiB << mpsmin */
	uint32_t set;		/* enum emu_nvme_opt_bit: given explicitly */
};

void emu_nvme_opts_default(struct emu_nvme_opts *o);
/* Parse "k=v&k=v" (NULL or "" = defaults) over the defaults; name is for
 * messages.  -EINVAL with one log line naming the option. */
int emu_nvme_opts_parse(const char *name, const char *str, struct emu_nvme_opts *o);
/* Name of the first option explicitly set in want that differs from
 * have, or NULL when they agree. */
const char *emu_nvme_opts_conflict(const struct emu_nvme_opts *have, const struct emu_nvme_opts *want);
/* Bytes of BAR0 for these options (registers + doorbells, page aligned). */
uint64_t emu_nvme_bar_size(const struct emu_nvme_opts *o);

/* ---------------------------------------------------------- storage */

enum emu_store_kind {
	EMU_STORE_NULL,
	EMU_STORE_MEM,
	EMU_STORE_FILE,
};

struct emu_store {
	enum emu_store_kind kind;
	uint64_t size;		/* bytes */
	uint8_t *mem;		/* EMU_STORE_MEM: sparse anonymous mapping */
	uint64_t *written;	/* EMU_STORE_MEM: a bit per 4 KiB page that may
				 * hold data; the others read as zeroes without
				 * touching (faulting in) mem */
	int fd;			/* EMU_STORE_FILE */
	char path[EMU_BACKING_LEN];
};

int emu_store_open(struct emu_store *st, enum emu_store_kind kind, uint64_t size, const char *path);
void emu_store_close(struct emu_store *st);
/* 0 or a negative errno (file I/O).  Ranges are checked by the caller. */
int emu_store_read(struct emu_store *st, void *buf, uint64_t len, uint64_t off);
int emu_store_write(struct emu_store *st, const void *buf, uint64_t len, uint64_t off);
/* 0 equal, 1 different, or a negative errno. */
int emu_store_compare(struct emu_store *st, const void *buf, uint64_t len, uint64_t off);
/* Zero a range, releasing its memory/blocks where whole pages allow. */
int emu_store_zero(struct emu_store *st, uint64_t off, uint64_t len);
int emu_store_flush(struct emu_store *st);
/* Bytes of memory the in-memory store currently holds (for tests). */
uint64_t emu_store_resident(const struct emu_store *st);

/* --------------------------------------------- DMA (emulated IOMMU) */

/* What a DMA walk sees: page size, SGL support and where to count faults. */
struct emu_dma {
	uint32_t page_bits;	/* CC.MPS + 12 */
	bool sgl;		/* SGLs accepted */
	uint64_t *iommu_faults;	/* counter (may be NULL) */
	unsigned *fault_logs;	/* log lines left for IOMMU faults (may be NULL) */
	const char *name;	/* for messages */
};

/* Called per piece of a transfer: host is the translated buffer, off the
 * byte offset in the transfer (SGL bit buckets are skipped: fn is not
 * called for them).  Returns an NVMe status (0 = success). */
typedef uint16_t (*emu_dma_fn)(void *arg, void *host, uint64_t len, uint64_t off);

#define EMU_SC(sct, sc) VPIO_NVME_STATUS(VPIO_NVME_SCT_##sct, VPIO_NVME_SC_##sc)
#define EMU_OK 0

/* Walk the data pointer of cmd (PRPs or SGLs per PSDT) for len bytes,
 * calling fn on each contiguous piece in order.  to_host: the command
 * moves data to the host (reads: bit buckets allowed).  Returns an NVMe
 * status: INVALID_PRP_OFFSET, SGL errors, DATA_TRANSFER_ERROR for an
 * unregistered address, or fn's first non-zero status. */
uint16_t emu_dma_walk(const struct emu_dma *dma, const struct vpio_nvme_cmd *cmd, uint64_t len, bool to_host,
		      emu_dma_fn fn, void *arg);
/* Copy between a local buffer and the command's data pointer. */
uint16_t emu_dma_to_host(const struct emu_dma *dma, const struct vpio_nvme_cmd *cmd, const void *buf, uint64_t len);
uint16_t emu_dma_from_host(const struct emu_dma *dma, const struct vpio_nvme_cmd *cmd, void *buf, uint64_t len);
/* Translate [iova, iova+len) to one virtual range; NULL (counted, logged
 * the first few times) when it is not registered. */
void *emu_dma_map(const struct emu_dma *dma, uint64_t iova, uint64_t len, const char *what);

/* ------------------------------------------------------------ queues */

struct emu_cq;

/* A doorbell: the MMIO word, and the shadow/event-index words once
 * Doorbell Buffer Config set them up.  The value in use is the shadow one
 * as soon as the driver has written it, the MMIO one before that (so a
 * driver may keep using MMIO for some queues, e.g. the admin queue). */
struct emu_db {
	uint8_t *mmio;
	emu_u32 *shadow;
	emu_u32 *eventidx;
	uint32_t last_mmio;
	uint32_t last_shadow;
	bool shadow_live;
};

#define EMU_MAX_ABORTS 4

struct emu_sq {
	bool live;
	uint16_t qid;
	uint32_t size;
	uint32_t head;		/* next entry to fetch */
	uint32_t tail;		/* last valid tail seen */
	struct vpio_nvme_cmd *ring;
	struct emu_cq *cq;
	struct emu_db db;
	bool bad_db_logged;
	unsigned n_aborts;	/* cids to abort when fetched */
	uint16_t aborts[EMU_MAX_ABORTS];
};

struct emu_cq {
	bool live;
	uint16_t qid;
	uint32_t size;
	uint32_t tail;		/* next entry to post */
	uint32_t head;		/* last valid head seen */
	uint16_t phase;
	struct vpio_nvme_cpl *ring;
	struct emu_db db;
	bool bad_db_logged;
	unsigned n_sqs;		/* SQs that post here */
};

/* A completion that waits: delayed by a fault, a duplicate, or one whose
 * CQ was full. */
struct emu_pending {
	uint64_t due_ns;
	uint16_t sqid;
	uint16_t cid;
	uint16_t status;
	uint32_t cdw0;
};
#define EMU_MAX_PENDING 256

/* ----------------------------------------------------------- faults */

enum emu_fault_bit {
	EMU_FAULT_DROP = 1u << 0,
	EMU_FAULT_BOGUS = 1u << 1,
	EMU_FAULT_DUP = 1u << 2,
	EMU_FAULT_SQHD = 1u << 3,
	EMU_FAULT_DELAY = 1u << 4,
	EMU_FAULT_DROP_ADMIN = 1u << 5, /* the only one for the admin queue */
};

/* Requests from other threads, handled by the controller thread. */
enum emu_req {
	EMU_REQ_NONE = 0,
	EMU_REQ_RESET,		/* function-level reset */
	EMU_REQ_DETACH,		/* reset and park until the next open */
	EMU_REQ_FATAL,
	EMU_REQ_REMOVE,
	EMU_REQ_UNMAP,		/* host memory [req_va, +req_len) is being unregistered */
};

/* ------------------------------------------------------ the controller */

#define EMU_ERRLOG_ENTRIES 16
#define EMU_MAX_AER 4
#define EMU_BOUNCE_SIZE (64u * 1024)

struct emu_nvme_ns {
	uint32_t nsid;
	uint32_t lbads;		/* log2 block size */
	uint64_t nsze;		/* blocks */
	uint64_t base;		/* byte offset in the store */
	/* LBA Range Type set by the host (4 KiB, NULL = the default: one
	 * range over the namespace); lba_range_num is NUM (0-based) */
	uint8_t *lba_ranges;
	uint8_t lba_range_num;
};

struct vpio_emu_nvme {
	/* identity and configuration (read-only after creation) */
	char name[EMU_NAME_LEN];
	unsigned idx;
	struct emu_nvme_opts opts;
	uint64_t cap;
	uint8_t *bar;
	uint64_t bar_len;
	uint32_t db_stride;	/* bytes between doorbells */
	uint8_t cfg[4096];	/* PCI config space */
	uint64_t created_ns;

	/* lifecycle (registry lock) */
	bool open;
	bool stop;
	bool stopped;		/* the thread has exited (lock) */
	pthread_t thread;
	bool thread_started;	/* atomic */
	struct vpio_mem_map *watch; /* unregistrations (emu_nvme_watch.c) */
	bool watch_closing;	/* atomic */

	/* requests: lock + cond, req polled by the thread */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned req;		/* enum emu_req, atomic */
	uint64_t req_va, req_len; /* EMU_REQ_UNMAP */
	int req_rc;
	uint64_t req_seq, ack_seq;
	bool removed;		/* atomic */

	/* faults (set under lock, read by the thread when fault_bits != 0) */
	uint32_t fault_bits;	/* atomic */
	uint64_t drop_left;
	uint64_t drop_admin_left;
	uint16_t bogus_cid;
	uint64_t delay_us;

	/* controller state (thread only) */
	uint32_t cc;		/* last CC seen */
	bool enabled;		/* CC.EN accepted */
	bool ready;		/* CSTS.RDY set */
	bool fatal;
	bool shutdown_done;
	uint64_t ready_due_ns;	/* CSTS.RDY goes 1 then (enable) */
	uint64_t unready_due_ns; /* CSTS.RDY goes 0 then (disable, rdydelay) */
	struct emu_dma dma;
	unsigned fault_logs;
	struct emu_sq *sqs;	/* [0..queues] */
	struct emu_cq *cqs;
	struct emu_sq **active;	/* live I/O SQs, for polling */
	unsigned n_active;
	uint32_t nsq_alloc, ncq_alloc; /* Number of Queues (1-based) */
	bool dbbuf_on;
	emu_u32 *dbbuf_shadow;	/* one memory page each */
	emu_u32 *dbbuf_eventidx;
	uint32_t dbbuf_len;	/* bytes: the page size at config time */
	struct emu_pending pending[EMU_MAX_PENDING];
	unsigned n_pending;
	uint16_t aer_cids[EMU_MAX_AER];
	unsigned n_aer;
	uint32_t feat[256];	/* Set Features values (cdw11) */
	uint64_t ts_ms;		/* Timestamp: value at ts_ns (ms since 1970) */
	uint64_t ts_ns;		/* emu_now_ns() when it was set or reset */
	bool ts_host_set;	/* origin: set by the host (else since reset) */
	bool idle_published;

	/* namespaces and data */
	struct emu_nvme_ns ns[EMU_NVME_MAX_NS];
	struct emu_store store;
	uint8_t *bounce;	/* EMU_BOUNCE_SIZE, compare/DSM */

	/* error log (thread) */
	struct vpio_nvme_error_log_entry errlog[EMU_ERRLOG_ENTRIES];
	uint64_t error_count;

	/* counters (thread writes, anyone reads) */
	struct vpio_emu_nvme_stats stats;
	uint64_t host_read_cmds;  /* reads + compares */
	uint64_t host_write_cmds; /* writes + write zeroes */
	uint64_t units_read;	  /* bytes, for the health log */
	uint64_t units_written;
	uint64_t media_errors;
	uint64_t busy_ns;	  /* time with work, for the health log */
	uint64_t power_cycles;
	uint64_t unsafe_shutdowns;
};

static inline uint32_t emu_reg32(const struct vpio_emu_nvme *c, uint32_t off)
{
	return emu_load32(c->bar + off);
}
static inline void emu_set_reg32(struct vpio_emu_nvme *c, uint32_t off, uint32_t v)
{
	emu_store32(c->bar + off, v);
}

/* emu_nvme_regs.c: the register state machine (controller thread) */
uint64_t emu_nvme_cap(const struct emu_nvme_opts *o);
void emu_regs_init(struct vpio_emu_nvme *c);
void emu_csts_update(struct vpio_emu_nvme *c, uint32_t clear, uint32_t set);
/* React to CC writes; true when something changed. */
bool emu_regs_poll(struct vpio_emu_nvme *c);
/* Drop every queue (no host memory is touched afterwards), CSTS = 0. */
void emu_ctrl_disable(struct vpio_emu_nvme *c);
/* Function-level reset: disable, registers back to power-on values. */
void emu_ctrl_flr(struct vpio_emu_nvme *c);

/* emu_nvme_thread.c */
void *emu_nvme_thread(void *arg);

/* emu_nvme_ctrlr.c: the controller object */
int emu_nvme_create(const char *canon, unsigned idx, const struct emu_nvme_opts *o, struct vpio_emu_nvme **out);
void emu_nvme_free(struct vpio_emu_nvme *c);
/* Put the thread on CPUs the application's lcores do not use. */
void emu_nvme_place(struct vpio_emu_nvme *c);
/* Stop and join the thread (the object stays). */
void emu_nvme_stop(struct vpio_emu_nvme *c);
/* Ask the thread to do req; waits for it.  Returns its result (-ENODEV
 * once the thread has stopped). */
int emu_nvme_request(struct vpio_emu_nvme *c, enum emu_req req);
int emu_nvme_request_range(struct vpio_emu_nvme *c, enum emu_req req, uint64_t va, uint64_t len);
/* Thread: fatal error, CSTS.CFS, queues dropped (no host memory touched). */
void emu_nvme_fatal(struct vpio_emu_nvme *c);
/* Wake the thread (after open). */
void emu_nvme_kick(struct vpio_emu_nvme *c);

/* emu_nvme_registry.c: the process-wide registry and vpio_emu_* entry points */
int emu_nvme_open(const char *canon, unsigned idx, const char *opts, struct vpio_pci_device **dev);
int emu_nvme_destroy(const char *canon);
void emu_nvme_destroy_all(void);
void emu_nvme_closed(struct vpio_emu_nvme *c);

/* emu_nvme_watch.c: memory unregistrations vs. live queues */
int emu_watch_start(struct vpio_emu_nvme *c);
void emu_watch_stop(struct vpio_emu_nvme *c);
void emu_watch_check(struct vpio_emu_nvme *c, uint64_t va, uint64_t len);

/* emu_nvme_pci.c: the device handle */
extern const struct vpio_pci_device_ops emu_nvme_pci_ops;
int emu_nvme_pci_fill(struct vpio_emu_nvme *c, struct vpio_pci_device **dev);
void emu_nvme_cfg_init(struct vpio_emu_nvme *c);

/* emu_nvme_queue.c */
uint32_t emu_db_read(struct vpio_emu_nvme *c, struct emu_db *db);
int emu_sq_create(struct vpio_emu_nvme *c, uint16_t qid, uint64_t iova, uint32_t size, struct emu_cq *cq);
int emu_cq_create(struct vpio_emu_nvme *c, uint16_t qid, uint64_t iova, uint32_t size);
void emu_sq_delete(struct vpio_emu_nvme *c, struct emu_sq *sq);
void emu_cq_delete(struct vpio_emu_nvme *c, struct emu_cq *cq);
void emu_queues_reset(struct vpio_emu_nvme *c);
/* Fetch and run up to budget commands of sq; returns how many. */
unsigned emu_sq_process(struct vpio_emu_nvme *c, struct emu_sq *sq, unsigned budget);
/* Complete a command of sq (faults, error log, CQ-full handling). */
void emu_complete(struct vpio_emu_nvme *c, struct emu_sq *sq, uint16_t cid, uint16_t status, uint32_t cdw0);
/* Post what waits in c->pending and is due; returns how many. */
unsigned emu_pending_process(struct vpio_emu_nvme *c, uint64_t now);
/* Publish event indexes = current positions (when going idle). */
void emu_dbbuf_publish(struct vpio_emu_nvme *c);
int emu_dbbuf_config(struct vpio_emu_nvme *c, uint64_t shadow_iova, uint64_t eventidx_iova);
void emu_dbbuf_reset(struct vpio_emu_nvme *c);

/* emu_nvme_admin.c, emu_nvme_identify.c, emu_nvme_feature.c, emu_nvme_logpage.c */
/* Run an admin command; returns its status, *cdw0 its result.
 * EMU_DEFER: the command completes later (AER). */
#define EMU_DEFER 0xffffu
uint16_t emu_admin_cmd(struct vpio_emu_nvme *c, const struct vpio_nvme_cmd *cmd, uint32_t *cdw0);
uint16_t emu_admin_identify(struct vpio_emu_nvme *c, const struct vpio_nvme_cmd *cmd);
uint16_t emu_admin_get_features(struct vpio_emu_nvme *c, const struct vpio_nvme_cmd *cmd, uint32_t *cdw0);
uint16_t emu_admin_set_features(struct vpio_emu_nvme *c, const struct vpio_nvme_cmd *cmd, uint32_t *cdw0);
/* Every feature back to its default (controller reset, creation). */
void emu_features_reset(struct vpio_emu_nvme *c);
uint16_t emu_admin_get_log_page(struct vpio_emu_nvme *c, const struct vpio_nvme_cmd *cmd);
void emu_errlog_add(struct vpio_emu_nvme *c, uint16_t sqid, const struct vpio_nvme_cmd *cmd, uint16_t status);

/* emu_nvme_io.c */
uint16_t emu_io_cmd(struct vpio_emu_nvme *c, const struct vpio_nvme_cmd *cmd);
struct emu_nvme_ns *emu_ns_get(struct vpio_emu_nvme *c, uint32_t nsid);
uint64_t emu_max_xfer(const struct vpio_emu_nvme *c);

/* Status classification for the counters. */
static inline bool emu_status_is_invalid(uint16_t st)
{
	uint32_t sct = VPIO_NVME_STATUS_SCT(st), sc = VPIO_NVME_STATUS_SC(st);

	if (st == 0)
		return false;
	if (sct == VPIO_NVME_SCT_GENERIC)
		return sc != VPIO_NVME_SC_DATA_TRANSFER_ERROR && sc != VPIO_NVME_SC_ABORTED_BY_REQUEST &&
		       sc != VPIO_NVME_SC_ABORTED_SQ_DELETION && sc != VPIO_NVME_SC_INTERNAL_DEVICE_ERROR;
	return sct == VPIO_NVME_SCT_COMMAND_SPECIFIC;
}

#endif
