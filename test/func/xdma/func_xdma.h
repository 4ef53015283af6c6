/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * func_xdma: functional tests of lib/xdma against emulated XDMA cards
 * (lib/emu).  Shared helpers.
 */
#ifndef FUNC_XDMA_H
#define FUNC_XDMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vpio/emu.h>
#include <vpio/env.h>
#include <vpio/xdma.h>

#include "common/vpio_test.h"

/* Cards of the suites (distinct names: their options differ). */
#define FX_MM "emu:xdma0?h2c=2&c2h=2&mem=16M"
#define FX_MM4 "emu:xdma1?h2c=4&c2h=4&mem=16M"
#define FX_STREAM "emu:xdma2?h2c=2&c2h=2&stream=1"
#define FX_ALIGN "emu:xdma3?mem=1M&align=64&gran=4&addrbits=48"
#define FX_BARS "emu:xdma4?mem=1M&bars=user,cfg,bypass&bar64=1"
#define FX_FAULT "emu:xdma5?mem=1M&c2h=1&stream=0"
#define FX_FAULT_NOWB "emu:xdma6?mem=1M&errwb=0"
#define FX_SFAULT "emu:xdma7?stream=1&errwb=0"

#define FX_GUARD 4096u

/* A buffer of len bytes at offset off of a DMA allocation, with guard
 * bytes (a known pattern) all around it. */
struct fx_buf {
	uint8_t *mem;
	size_t total;
	uint8_t *p;
	size_t len;
	bool heap;	/* plain heap memory, registered */
};
bool fx_buf_alloc(struct fx_buf *b, size_t len, size_t off);
/* The same in heap memory (aligned_alloc + vpio_mem_register). */
bool fx_buf_alloc_heap(struct fx_buf *b, size_t len, size_t off);
/* true when every guard byte is intact (any thread). */
bool fx_guard_ok(const struct fx_buf *b);
void fx_buf_free(struct fx_buf *b);
/* Check the guard bytes, then free. */
void fx_buf_done(struct fx_buf *b);

/* A card and its H2C and C2H channel of one index. */
struct fx_pair {
	struct vpio_xdma_dev *d;
	struct vpio_xdma_chan *h, *c;
};
/* Attach name and open both channels idx with opts (NULL: defaults);
 * false (asserted) when something fails.  h2c_only leaves c NULL. */
bool fx_pair_open(struct fx_pair *p, const char *name, unsigned idx, const struct vpio_xdma_chan_opts *opts,
		  bool h2c_only);
/* Close the channels, assert the card saw no host error, detach. */
void fx_pair_close(struct fx_pair *p);
/* Channel options with a timeout (ms) and defaults otherwise. */
struct vpio_xdma_chan_opts fx_opts(uint32_t timeout_ms);

/* Attach (CU_FAIL and NULL on failure). */
struct vpio_xdma_dev *fx_attach(const char *name);
struct vpio_xdma_chan *fx_open(struct vpio_xdma_dev *d, enum vpio_xdma_dir dir, unsigned idx,
			       const struct vpio_xdma_chan_opts *opts);
/* The emulator behind a card. */
struct vpio_emu_xdma *fx_emu(struct vpio_xdma_dev *d);
/* Card memory of an emulated card. */
uint8_t *fx_card(struct vpio_xdma_dev *d, uint64_t *size);
uint64_t fx_host_errors(struct vpio_xdma_dev *d);

/* Completion record for callbacks. */
struct fx_cpl {
	unsigned done;
	struct vpio_xdma_cpl last;
	unsigned errors;
};
void fx_cb(void *arg, const struct vpio_xdma_cpl *cpl);
/* Poll until w->done >= n or ms pass (0: done, -ETIMEDOUT, or a poll error). */
int fx_wait(struct vpio_xdma_chan *ch, struct fx_cpl *w, unsigned n, unsigned ms);

/* A synchronous C2H that must succeed with want_len bytes and want_eop. */
void fx_c2h_expect(struct vpio_xdma_chan *c, void *buf, size_t len, uint64_t want_len, bool want_eop);

uint64_t fx_rand(void);
void fx_seed(uint64_t seed);
void fx_fill(void *buf, size_t len, uint64_t seed);
uint64_t fx_now_ms(void);

/* The suites' tests (one file each), for CU_register_suites(). */
#define FX_T(fn) { #fn, fn }
extern CU_TestInfo fx_device_tests[], fx_data_tests[], fx_stream_tests[], fx_threads_tests[],
	fx_bad_input_tests[], fx_faults_tests[];

#endif
