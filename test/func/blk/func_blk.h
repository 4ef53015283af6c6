/* SPDX-License-Identifier: BSD-3-Clause */
/* func_blk: functional tests of lib/blk (shared declarations). */
#ifndef FUNC_BLK_H
#define FUNC_BLK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vpio/blk.h>
#include <vpio/env.h>

#include "common/vpio_test.h"

#define FB_MAX_TARGETS 16
#define VPIO_TEST_MIN(a, b) ((a) < (b) ? (a) : (b))
#define VPIO_TEST_MAX(a, b) ((a) > (b) ? (a) : (b))
#define FB_FILE_SIZE (64ull << 20)
#define FB_GUARD 4096u /* guard bytes before and after every buffer handed to a device */

/* The targets the data suites run on: the defaults (emulated controllers
 * and files through io_uring) or the -a addresses. */
extern const char *g_fb_targets[FB_MAX_TARGETS];
extern unsigned g_fb_ntargets;
extern bool g_fb_given;	   /* -a given: real devices, whose data is overwritten */
extern bool g_fb_uring_ok; /* io_uring works here (else uring suites are skipped, and say so) */
extern char g_fb_dir[4096]; /* where temporary files go (next to the program) */
extern char g_fb_file[4200]; /* a FB_FILE_SIZE file in g_fb_dir */

void fb_seed(uint64_t seed);
uint64_t fb_rand(void);
void fb_fill(void *buf, size_t len, uint64_t seed);
uint64_t fb_now_us(void);
/* Make (or resize) a file of len bytes in g_fb_dir; returns its path in
 * path.  0 or -errno. */
int fb_make_file(char *path, size_t path_len, const char *name, uint64_t len);

/* Open exactly one target (CU assertion otherwise); NULL on failure. */
struct vpio_blk_target *fb_open1(const char *address);
struct vpio_blk_info fb_info(const struct vpio_blk_target *t);

/* One request's completion. */
struct fb_io {
	unsigned done;
	int status; /* the first non-zero status seen, else 0 */
};
void fb_cb(void *arg, int status);
/* Poll ch until io->done reaches n (10 s at most: a CU failure then).
 * Returns io->status. */
int fb_wait(struct vpio_blk_channel *ch, struct fb_io *io, unsigned n);

/* A buffer with FB_GUARD bytes of a known pattern on each side. */
struct fb_buf {
	uint8_t *base; /* guard | data | guard */
	uint8_t *data;
	size_t len;
	bool heap;     /* aligned_alloc rather than vpio_blk_buf_alloc */
};
int fb_buf_alloc(struct fb_buf *b, size_t len, bool heap);
void fb_buf_free(struct fb_buf *b);
/* true when both guards still hold their pattern (CU assertion too). */
bool fb_guards_ok(const struct fb_buf *b);

/* Synchronous helpers: submit, poll to completion; the status (or the
 * submit error). */
int fb_read(struct vpio_blk_channel *ch, void *buf, uint64_t lba, uint32_t n);
int fb_write(struct vpio_blk_channel *ch, const void *buf, uint64_t lba, uint32_t n);

/* Write a pattern to byte offset off through wch, read it back through
 * rch (the same channel, or one of another target on the same data) into
 * another buffer, compare, check both buffers' guards. */
void fb_roundtrip(struct vpio_blk_channel *wch, struct vpio_blk_channel *rch, uint64_t off, size_t len,
		  uint64_t seed, bool heap);

int fb_register_data(void);
int fb_register_cross(void);
int fb_register_bad_input(void);

#endif
