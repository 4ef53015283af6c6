/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The one grammar for numbers and sizes that users give vpio (emulator
 * options such as emu:nvme?size=64M, program options such as vpio-perf's
 * -o 4K), for programs that want to read their own options the same way:
 * decimal digits only -- no sign, no spaces, no leading zero ("0" itself is
 * fine), no hex, no octal.  Both return 0, or -EINVAL for anything else and
 * -ERANGE for a value too large, and leave *out untouched on error.  They
 * log nothing (the caller names the option).  Any thread; no state.
 */
#ifndef VPIO_PARSE_H
#define VPIO_PARSE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A decimal integer in [0, max].  Thread: any. */
int vpio_parse_u64(const char *s, uint64_t max, uint64_t *out);
/* A size in bytes: a decimal integer and an optional binary unit, case
 * ignored: B, K or KiB (2^10), M or MiB (2^20), G or GiB (2^30), T or TiB
 * (2^40).  "4096", "4K", "4KiB", "512B", "1g" are sizes; "0x1000", "010",
 * "1MB" (SI or binary?), "1.5G", " 4K" are not; -ERANGE above 2^64 - 1.
 * Thread: any. */
int vpio_parse_size(const char *s, uint64_t *out);

#ifdef __cplusplus
}
#endif
#endif
