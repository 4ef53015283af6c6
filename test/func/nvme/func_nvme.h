/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * func_nvme: functional tests of lib/nvme against emulated controllers
 * (default) or real ones (-a ADDR, repeatable).  Shared helpers.
 */
#ifndef FUNC_NVME_H
#define FUNC_NVME_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vpio/emu.h>
#include <vpio/env.h>
#include <vpio/nvme.h>

#include "common/dma_guard.h"
#include "common/vpio_test.h"

#define FN_MAX_TARGETS 8

/* Controllers the data tests run on: -a addresses, or emulated ones with
 * 512- and 4096-byte blocks, a small one (FN_EMU_SMALL) and one with 8 KiB
 * memory pages (FN_EMU_MPS8K). */
extern const char *g_fn_targets[FN_MAX_TARGETS];
extern unsigned g_fn_ntargets;
extern bool g_fn_real; /* -a given: no emulator-only suites */
/* Iteration counts: n on emulated controllers, n / 5 (at least 2) on real
 * ones, which in the VM tier run under TCG, where every doorbell traps. */
unsigned fn_iters(unsigned n);

/* Emulated controllers of the emulator-only suites (distinct names, since
 * options differ). */
#define FN_EMU_512 "emu:nvme0?size=64M"
#define FN_EMU_4K "emu:nvme1?lba=4096&size=64M"
/* Legal but small: 8 KiB per command, 2 I/O queue pairs of 8 entries
 * (7 commands each), 4096-byte blocks; the VM tier's second QEMU
 * controller has the same MDTS, queue pairs and block size. */
#define FN_EMU_SMALL "emu:nvme8?lba=4096&size=64M&mdts=1&queues=2&qdepth=8"
/* Memory pages of 8 KiB (CAP.MPSMIN = 1): queues, PRP entries and lists
 * in the controller's page size, not the host's 4 KiB; MDTS 64 KiB. */
#define FN_EMU_MPS8K "emu:nvme16?lba=4096&size=64M&mpsmin=1&mdts=3"
#define FN_EMU_MDTS "emu:nvme2?size=16M&mdts=2"
#define FN_EMU_NOSGL "emu:nvme3?size=16M&sgl=0"
#define FN_EMU_NODBBUF "emu:nvme4?size=16M&dbbuf=0"
#define FN_EMU_FAULT "emu:nvme5?size=16M"
#define FN_EMU_REMOVE "emu:nvme6?size=16M"
#define FN_EMU_MULTINS "emu:nvme7?size=8M&ns=3"
#define FN_EMU_STRIDE "emu:nvme10?size=8M&dstrd=3&qdepth=64&queues=4&dbbuf=0"
/* 64 queue pairs with a 32-byte stride: the shadow doorbells of qids
 * 1..63 fill the 4 KiB page, qid 64's would lie beyond it */
/* detach and shutdown: its health log's unsafe shutdowns are counted */
#define FN_EMU_SHUTDOWN "emu:nvme13?size=8M"
/* CSTS.RDY follows CC.EN 200 ms late, both ways (a slow controller) */
#define FN_EMU_SLOW "emu:nvme12?size=8M&rdydelay=200000"
/* CSTS.RDY follows CC.EN 500 ms late: a reset takes over a second, the
 * stop of a failed controller half a second (suite "recovery") */
#define FN_EMU_SLOW_RESET "emu:nvme18?size=8M&rdydelay=500000"
#define FN_EMU_STRIDE_DBBUF "emu:nvme11?size=8M&dstrd=3&qdepth=64&queues=64&dbbuf=1"
/* 2^31 blocks and more (null: no storage): requests larger than a qpair */
#define FN_EMU_HUGE "emu:nvme20?size=2T&null=1"

/* Attach (CU_FAIL and NULL on failure); opts NULL = defaults. */
struct vpio_nvme_ctrlr *fn_attach(const char *name, const struct vpio_nvme_ctrlr_opts *opts);
/* An I/O qpair of queue_size entries (at most CAP.MQES + 1) and timeout_ms
 * (0 = defaults). */
struct vpio_nvme_qpair *fn_qpair(struct vpio_nvme_ctrlr *c, uint32_t queue_size, uint32_t timeout_ms);
struct vpio_nvme_ns *fn_ns(struct vpio_nvme_ctrlr *c, uint32_t nsid);
/* The emulator behind c, or NULL for a real controller. */
struct vpio_emu_nvme *fn_emu(struct vpio_nvme_ctrlr *c);

/* Guarded data buffers (test/common/dma_guard.h): every buffer a test
 * hands to the device comes from fn_gbuf() (DMA memory, zeroed, 4 KiB
 * aligned, between two registered guard regions of a pattern) and goes back
 * through fn_gbuf_free(), which asserts its guards.  Every live one is
 * checked after each command fn_wait(), fn_drain(), fn_read() and
 * fn_write() wait for (they return FN_EGUARD when a guard was overwritten;
 * safe from any thread), and by fn_gbuf_check() (CUnit, main thread) after
 * loops that poll by hand.  The same tests run against QEMU's controllers
 * in the VM tier (-a), so real devices are watched too. */
#define FN_EGUARD (-EBADMSG)
void *fn_gbuf(size_t len);
void fn_gbuf_free(void *buf);
void fn_gbuf_check(void);

struct fn_io {
	unsigned done;
	uint16_t status; /* without the phase tag */
	uint32_t cdw0;
};
void fn_io_cb(void *arg, const struct vpio_nvme_cpl *cpl);
/* Poll until w->done (0), the timeout (-ETIMEDOUT) or an error from
 * process_completions (returned after w may have completed); then
 * FN_EGUARD if a guarded buffer's guard was overwritten. */
int fn_wait(struct vpio_nvme_qpair *qp, struct fn_io *w, unsigned timeout_ms);
/* Poll until nothing is outstanding (0) or the timeout. */
int fn_drain(struct vpio_nvme_qpair *qp, unsigned timeout_ms);

/* Synchronous I/O: 0, the NVMe status (> 0), or a negative errno. */
int fn_write(struct vpio_nvme_ns *ns, struct vpio_nvme_qpair *qp, const void *buf, uint64_t lba, uint32_t n);
int fn_read(struct vpio_nvme_ns *ns, struct vpio_nvme_qpair *qp, void *buf, uint64_t lba, uint32_t n);

uint64_t fn_rand(void);
void fn_seed(uint64_t seed);
/* Deterministic bytes from seed. */
void fn_fill(void *buf, size_t len, uint64_t seed);
uint64_t fn_now_us(void);

/* What a controller allows (limits.c): a test sizes its I/O from these
 * instead of assuming a roomy device. */
struct fn_limits {
	uint32_t bs;	     /* bytes per block */
	uint32_t cmd_blocks; /* blocks per command (the transfer size, whole blocks) */
	uint32_t depth;	     /* commands the qpair holds */
	uint32_t req_blocks; /* blocks one contiguous request may span on an idle
			      * qpair: depth commands */
};
void fn_limits_get(struct vpio_nvme_ns *ns, struct vpio_nvme_qpair *qp, struct fn_limits *l);
/* Commands a contiguous request of nblocks is split into. */
uint32_t fn_cmds(const struct fn_limits *l, uint32_t nblocks);
/* min(want, have); when have is smaller, prints "adapted: FMT...: have
 * instead of want" so the output says what the test did not do. */
uint32_t fn_fit(uint32_t want, uint32_t have, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The controller's name for such lines (per thread, until the next call). */
const char *fn_name(const struct vpio_nvme_ctrlr *c);

/* Suites (one file each). */
int fn_register_bringup(void);
int fn_register_data(void);
int fn_register_queues(void);
int fn_register_bad_input(void);
int fn_register_faults(void);
int fn_register_recovery(void);

#endif
