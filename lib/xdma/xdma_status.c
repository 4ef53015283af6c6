/* SPDX-License-Identifier: BSD-3-Clause */
/* Engine Status values into words: the bits PG195 defines, per direction
 * (bits 9-15 mean different things for H2C and C2H). */
#include <stdio.h>
#include <string.h>

#include "xdma_internal.h"

static const char *const g_pcie[] = { "unsupported request", "completer abort", "parity error", "poisoned (EP)",
				      "unexpected completion" };
static const char *const g_axi[] = { "decode error", "slave error" };

/* Append ", text" (or "text" first). */
static void add(char *buf, size_t len, size_t *n, const char *group, const char *kind)
{
	int w;

	if (*n >= len)
		return;
	w = snprintf(buf + *n, len - *n, "%s%s%s%s", *n ? ", " : "", group, kind ? ": " : "", kind ? kind : "");
	if (w > 0)
		*n += (size_t)w;
}

/* Each set bit of a group, with the kind names of that group. */
static void group(uint32_t st, unsigned shift, unsigned bits, const char *const *kinds, const char *name, char *buf,
		  size_t len, size_t *n)
{
	for (unsigned i = 0; i < bits; i++) {
		if (st & (1u << (shift + i)))
			add(buf, len, n, name, kinds[i]);
	}
}

const char *vpio_xdma_status_str(uint32_t st, enum vpio_xdma_dir dir, char *buf, size_t len)
{
	static const struct {
		uint32_t bit;
		const char *text;
	} flags[] = {
		{ VPIO_XDMA_ST_BUSY, "busy" },
		{ VPIO_XDMA_ST_DESC_STOPPED, "descriptor stopped" },
		{ VPIO_XDMA_ST_DESC_COMPLETED, "descriptor completed" },
		{ VPIO_XDMA_ST_ALIGN_MISMATCH, "alignment mismatch" },
		{ VPIO_XDMA_ST_MAGIC_STOPPED, "magic stopped (bad descriptor)" },
		{ VPIO_XDMA_ST_INVALID_LENGTH, "invalid length" },
		{ VPIO_XDMA_ST_IDLE_STOPPED, "idle stopped" },
	};
	size_t n = 0;

	if (buf == NULL || len == 0)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		if (st & flags[i].bit)
			add(buf, len, &n, flags[i].text, NULL);
	}
	if (dir == VPIO_XDMA_H2C) {
		group(st, VPIO_XDMA_ST_READ_ERROR_SHIFT, 5, g_pcie, "read error (host)", buf, len, &n);
		group(st, VPIO_XDMA_ST_WRITE_ERROR_SHIFT, 2, g_axi, "write error (card)", buf, len, &n);
	} else {
		group(st, VPIO_XDMA_ST_READ_ERROR_SHIFT, 2, g_axi, "read error (card)", buf, len, &n);
	}
	group(st, VPIO_XDMA_ST_DESC_ERROR_SHIFT, 5, g_pcie, "descriptor error", buf, len, &n);
	if ((st & xdma_error_mask(dir == VPIO_XDMA_C2H)) == 0 && n < len)
		snprintf(buf + n, len - n, "%sno error bits", n ? ", " : "");
	return buf;
}
