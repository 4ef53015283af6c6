/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The deterministic data pattern of the VM tools: the 8-byte word at byte
 * offset o of a device (o a multiple of 8) is pattern_word(seed, o / 8),
 * stored little-endian.  It depends on the absolute offset only, so data
 * written through vpio can be checked from a file or block device read by
 * the kernel, whatever the block size.
 */
#ifndef VPIO_VM_PATTERN_H
#define VPIO_VM_PATTERN_H

#include <stddef.h>
#include <stdint.h>

static inline uint64_t pattern_word(uint64_t seed, uint64_t index)
{
	uint64_t z = seed + (index + 1u) * 0x9e3779b97f4a7c15ull; /* splitmix64 */

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Fill buf (len a multiple of 8) with the pattern of device bytes
 * [offset, offset + len). */
static inline void pattern_fill(void *buf, size_t len, uint64_t seed, uint64_t offset)
{
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i += 8) {
		uint64_t w = pattern_word(seed, (offset + i) / 8u);

		for (unsigned b = 0; b < 8; b++)
			p[i + b] = (uint8_t)(w >> (8u * b));
	}
}

/* Index of the first byte of buf that differs from the pattern, or len. */
static inline size_t pattern_check(const void *buf, size_t len, uint64_t seed, uint64_t offset)
{
	const uint8_t *p = buf;

	for (size_t i = 0; i < len; i += 8) {
		uint64_t w = pattern_word(seed, (offset + i) / 8u);

		for (unsigned b = 0; b < 8; b++) {
			if (p[i + b] != (uint8_t)(w >> (8u * b)))
				return i + b;
		}
	}
	return len;
}

#endif
