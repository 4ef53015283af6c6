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

/*
 * Growable public structs (doc/api.md).  Every options struct and every
 * struct a getter fills starts with a size_t that holds the struct's size
 * as the application was compiled: the library reads and writes only the
 * bytes below it, so an application built against an older (shorter)
 * header keeps working.  These helpers do that in one place.
 */
/* More than this is not a struct size but garbage (uninitialized memory). */
#define VPIO_STRUCT_SIZE_MAX 4096u
/* Bytes of TYPE up to and including FIELD: a caller's struct of size bytes
 * holds FIELD when size >= VPIO_FIELD_END(TYPE, FIELD). */
#define VPIO_FIELD_END(type, field) (offsetof(type, field) + sizeof(((type *)0)->field))
/* Layout pins, on LP64 targets: a public struct that changes size, or a
 * field that moves, fails the build (doc/api.md says what to do). */
#if defined(__LP64__)
#define VPIO_ABI_SIZE(type, size) \
	_Static_assert(sizeof(type) == (size), #type " changed size: new fields go at the end (doc/api.md)")
#define VPIO_ABI_FIELD(type, field, off) \
	_Static_assert(offsetof(type, field) == (off), #type "." #field " moved: old binaries would break (doc/api.md)")
#else
#define VPIO_ABI_SIZE(type, size) _Static_assert(1, "")
#define VPIO_ABI_FIELD(type, field, off) _Static_assert(offsetof(type, field) >= 0, "")
#endif

/* 0 when size is a size a caller's struct can have (at least its size_t
 * field, a multiple of it, at most VPIO_STRUCT_SIZE_MAX); else -EINVAL
 * after one line "FN: WHAT size N ...: fill it with HOW".  Any thread. */
int vpio_struct_size_check(const char *mod, const char *fn, const char *what, size_t size, const char *how);
/*
 * The init of an options struct: the library's defaults (def, def_size
 * bytes) into the caller's opts of opts_size bytes.  The bytes below
 * opts_size get the defaults (zeroes past def_size, for fields this
 * library does not know), and the size field gets opts_size.  -EINVAL
 * (nothing written) for a NULL opts or a bad opts_size.
 */
int vpio_opts_init_sized(const char *mod, const char *fn, void *opts, size_t opts_size, const void *def,
			 size_t def_size);
/*
 * Read a caller's options: full (full_size bytes) holds the defaults; the
 * caller's bytes below its size field (at most full_size) are copied over
 * them, and full's size field becomes full_size.  NULL user keeps the
 * defaults.  -EINVAL (full unchanged) when the caller's size is 0 or
 * garbage: the line names WHAT and says to use INIT.
 */
int vpio_opts_import(const char *mod, const char *fn, void *full, size_t full_size, const void *user,
		     const char *init);
/* 0 when out is not NULL and out_size a struct's size, else -EINVAL after
 * one line: for a getter that checks before it does any work. */
int vpio_struct_out_check(const char *mod, const char *fn, const void *out, size_t out_size);
/*
 * Fill a caller's output struct of out_size bytes from full (full_size
 * bytes): min(out_size, full_size) bytes are copied, the rest of the
 * caller's struct is zeroed, and its size field gets the bytes filled
 * (so a caller sees which fields this library knows).  Nothing is written
 * at or past out_size.  -EINVAL (nothing written) for a NULL out or a bad
 * out_size.
 */
int vpio_struct_export(const char *mod, const char *fn, void *out, size_t out_size, const void *full,
		       size_t full_size);

#endif
