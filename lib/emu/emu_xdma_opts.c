/* SPDX-License-Identifier: BSD-3-Clause */
/* Options of an emulated XDMA device: "h2c=4&c2h=4&mem=256M&bars=user,cfg". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu_xdma_internal.h"

#define XOPT_KEYS "h2c, c2h, mem, stream, bars, bar64, align, gran, addrbits, errwb, corrupt"
#define XOPT_MAX_LEN 256

void emu_xdma_opts_default(struct emu_xdma_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->h2c = 1;
	o->c2h = 1;
	o->mem = 64ull << 20;
	o->bars[0] = EMU_XBAR_CFG;
	o->nbars = 1;
	o->align = 1;
	o->gran = 1;
	o->addrbits = 64;
	o->errwb = true;
}

static const char *const g_bar_names[] = { [EMU_XBAR_CFG] = "cfg", [EMU_XBAR_USER] = "user", [EMU_XBAR_BYPASS] = "bypass" };

void emu_xdma_bars_fmt(const struct emu_xdma_opts *o, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (uint32_t i = 0; i < o->nbars && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? "," : "", g_bar_names[o->bars[i]]);
}

/* "user,cfg,bypass": each kind at most once, cfg exactly once. */
static int parse_bars(char *v, struct emu_xdma_opts *o)
{
	uint32_t seen = 0, n = 0;
	char *save = NULL;

	for (char *t = strtok_r(v, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
		uint8_t k = 0;

		for (uint8_t i = EMU_XBAR_CFG; i <= EMU_XBAR_BYPASS; i++) {
			if (strcmp(t, g_bar_names[i]) == 0)
				k = i;
		}
		if (k == 0 || (seen & (1u << k)) || n == EMU_XDMA_BARS_MAX)
			return -EINVAL;
		seen |= 1u << k;
		o->bars[n++] = k;
	}
	if (!(seen & (1u << EMU_XBAR_CFG)))
		return -EINVAL;
	o->nbars = n;
	return 0;
}

/* A plain decimal number in [lo, hi] (the project's grammar: no sign,
 * no leading zero, no hex or octal; lib/util/parse.c). */
static int parse_num(const char *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
	return vpio_parse_u64(v, hi, out) == 0 && *out >= lo ? 0 : -EINVAL;
}

static const char *const g_keys[XO_COUNT] = { "h2c", "c2h", "mem", "stream", "bars", "bar64", "align", "gran",
					       "addrbits", "errwb", "corrupt" };

/* Numbers: [min, max] and what is accepted, per option (max 0: not a
 * plain number). */
static const struct {
	uint64_t min, max;
	const char *what;
} g_num[XO_COUNT] = {
	[XO_H2C] = { 0, VPIO_XDMA_MAX_CHANNELS, "0..4 (H2C channels)" },
	[XO_C2H] = { 0, VPIO_XDMA_MAX_CHANNELS, "0..4 (C2H channels)" },
	[XO_MEM] = { 0, 0, "a size such as 4K, 64M, 1G (a multiple of 4 KiB, at most 1T)" },
	[XO_STREAM] = { 0, 1, "0 (AXI memory-mapped) or 1 (AXI stream loopback)" },
	[XO_BARS] = { 0, 0, "a comma list of cfg, user, bypass in BAR order, cfg once (e.g. user,cfg,bypass)" },
	[XO_BAR64] = { 0, 1, "0 or 1 (64-bit BARs on BAR0, 2, 4)" },
	[XO_ALIGN] = { 1, 128, "a power of two 1..128 (address alignment in bytes)" },
	[XO_GRAN] = { 1, 128, "a power of two 1..128 (length granularity in bytes)" },
	[XO_ADDRBITS] = { 32, 64, "32..64 (DMA address bits)" },
	[XO_ERRWB] = { 0, 1, "0 or 1 (an engine stopped by an error writes the writeback word)" },
	[XO_CORRUPT] = { 0, UINT64_MAX, "a count: the N-th memory-mapped C2H descriptor reads a flipped byte (0: never)" },
};

/* Store option k = v; -EINVAL for a bad value. */
static int set_one(struct emu_xdma_opts *o, enum emu_xdma_opt k, char *v)
{
	uint64_t x = 0;

	if (k == XO_BARS)
		return parse_bars(v, o);
	if (k == XO_MEM) {
		if (vpio_parse_size(v, &x) != 0 || x == 0 || x % 4096 != 0 || x > EMU_XDMA_MAX_MEM)
			return -EINVAL;
		o->mem = x;
		return 0;
	}
	if (parse_num(v, g_num[k].min, g_num[k].max, &x) != 0)
		return -EINVAL;
	if (k == XO_CORRUPT) {
		o->corrupt = x;
		return 0;
	}
	{
		uint32_t *num[XO_COUNT] = { [XO_H2C] = &o->h2c, [XO_C2H] = &o->c2h, [XO_ALIGN] = &o->align,
					    [XO_GRAN] = &o->gran, [XO_ADDRBITS] = &o->addrbits };
		bool *flag[XO_COUNT] = { [XO_STREAM] = &o->stream, [XO_BAR64] = &o->bar64, [XO_ERRWB] = &o->errwb };

		if (num[k] != NULL)
			*num[k] = (uint32_t)x;
		else
			*flag[k] = x != 0;
	}
	return 0;
}

static int find_key(const char *k)
{
	for (int i = 0; i < XO_COUNT; i++) {
		if (strcmp(g_keys[i], k) == 0)
			return i;
	}
	return -1;
}

int emu_xdma_opts_parse(const char *name, const char *str, struct emu_xdma_opts *o)
{
	char copy[XOPT_MAX_LEN];
	char *save = NULL;

	emu_xdma_opts_default(o);
	if (str == NULL || *str == '\0')
		return 0;
	if (strlen(str) >= sizeof(copy)) {
		VPIO_ERR(EMU_MOD, "%s: options longer than %zu characters", name, sizeof(copy) - 1);
		return -EINVAL;
	}
	strcpy(copy, str);
	for (char *kv = strtok_r(copy, "&", &save); kv != NULL; kv = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(kv, '=');
		int k;

		if (eq != NULL)
			*eq = '\0';
		k = eq != NULL ? find_key(kv) : -1;
		if (k < 0) {
			VPIO_ERR(EMU_MOD, "%s: %s option '%s' (expected key=value; keys: %s)", name,
				 eq == NULL ? "malformed" : "unknown", kv, XOPT_KEYS);
			return -EINVAL;
		}
		if (set_one(o, (enum emu_xdma_opt)k, eq + 1) != 0) {
			VPIO_ERR(EMU_MOD, "%s: invalid value '%s' for option '%s' (accepted: %s)", name, eq + 1,
				 kv, g_num[k].what);
			return -EINVAL;
		}
		if (o->set & (1u << k)) {
			VPIO_ERR(EMU_MOD, "%s: option '%s' is given twice", name, kv);
			return -EINVAL;
		}
		o->set |= 1u << k;
	}
	if (!vpio_is_pow2(o->align) || !vpio_is_pow2(o->gran)) {
		VPIO_ERR(EMU_MOD, "%s: options 'align=%u' and 'gran=%u' must be powers of two", name, o->align,
			 o->gran);
		return -EINVAL;
	}
	if (o->addrbits < 64 && o->mem > (1ull << o->addrbits)) {
		VPIO_ERR(EMU_MOD, "%s: 'mem=%llu' does not fit in %u address bits", name,
			 (unsigned long long)o->mem, o->addrbits);
		return -EINVAL;
	}
	return 0;
}

const char *emu_xdma_opts_conflict(const struct emu_xdma_opts *have, const struct emu_xdma_opts *want)
{
	bool diff[XO_COUNT];

	diff[XO_H2C] = have->h2c != want->h2c;
	diff[XO_C2H] = have->c2h != want->c2h;
	diff[XO_MEM] = have->mem != want->mem;
	diff[XO_STREAM] = have->stream != want->stream;
	diff[XO_BARS] = have->nbars != want->nbars || memcmp(have->bars, want->bars, sizeof(have->bars)) != 0;
	diff[XO_BAR64] = have->bar64 != want->bar64;
	diff[XO_ALIGN] = have->align != want->align;
	diff[XO_GRAN] = have->gran != want->gran;
	diff[XO_ADDRBITS] = have->addrbits != want->addrbits;
	diff[XO_ERRWB] = have->errwb != want->errwb;
	diff[XO_CORRUPT] = have->corrupt != want->corrupt;
	for (int i = 0; i < XO_COUNT; i++) {
		if ((want->set & (1u << i)) && diff[i])
			return g_keys[i];
	}
	return NULL;
}
