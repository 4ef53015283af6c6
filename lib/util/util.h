/* SPDX-License-Identifier: BSD-3-Clause */
/* Internal helpers shared by vpio's libraries. */
#ifndef VPIO_UTIL_H
#define VPIO_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <vpio/log.h>
#include <vpio/parse.h>

/*
 * The one logging form of every library: VPIO_ERR(MOD, "fmt", ...) and its
 * siblings, MOD the library's module name from its internal header
 * (ENV_MOD, VFIO_MOD, PCI_MOD, EMU_MOD, NVME_MOD, XDMA_MOD, BLK_MOD), which
 * starts the line: "vpio nvme: error: ...".  No library calls vpio_log()
 * or prints to stderr itself.
 */
#define VPIO_ERR(mod, ...) vpio_log(VPIO_LOG_ERROR, (mod), __VA_ARGS__)
#define VPIO_WARN(mod, ...) vpio_log(VPIO_LOG_WARN, (mod), __VA_ARGS__)
#define VPIO_NOTICE(mod, ...) vpio_log(VPIO_LOG_NOTICE, (mod), __VA_ARGS__)
#define VPIO_INFO(mod, ...) vpio_log(VPIO_LOG_INFO, (mod), __VA_ARGS__)
#define VPIO_DEBUGLOG(mod, ...) vpio_log(VPIO_LOG_DEBUG, (mod), __VA_ARGS__)

#define VPIO_ALIGN_UP(x, a) (((x) + (a)-1) & ~((__typeof__(x))(a)-1))
#define VPIO_ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a)-1))
#define VPIO_IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a)-1)) == 0)
#define VPIO_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define VPIO_MIN(a, b) ((a) < (b) ? (a) : (b))
#define VPIO_MAX(a, b) ((a) > (b) ? (a) : (b))

static inline int vpio_is_pow2(uint64_t x)
{
	return x != 0 && (x & (x - 1)) == 0;
}

/* Read a whole small file (sysfs attribute) into buf, NUL terminated and
 * without the trailing newline.  Returns the length or a negative errno. */
int vpio_read_file(const char *path, char *buf, size_t len);
/* Parse an unsigned integer file (decimal or 0x-prefixed hex). */
int vpio_read_u64_file(const char *path, uint64_t *val);

#endif
