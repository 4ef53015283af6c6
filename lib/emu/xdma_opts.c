/* SPDX-License-Identifier: BSD-3-Clause */
/* Options of an emulated XDMA device: "h2c=4&c2h=4&mem=256M&bars=user,cfg". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xdma_internal.h"

#define XOPT_KEYS "h2c, c2h, mem, stream, bars, bar64, align, gran, addrbits, errwb"
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

static int parse_num(const char *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;

	if (*v < '0' || *v > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoull(v, &end, 10);
	return errno == 0 && *end == '\0' && *out >= lo && *out <= hi ? 0 : -EINVAL;
}

/* One key=value; returns its bit, 0 for an unknown key, -EINVAL for a bad
 * value (and *what says what is accepted). */
static int set_one(struct emu_xdma_opts *o, const char *k, char *v, const char **what)
{
	uint64_t x = 0;

#define NUM(key, bit, lo, hi, field, text)                                     \
	if (strcmp(k, key) == 0) {                                             \
		*what = text;                                                  \
		if (parse_num(v, lo, hi, &x) != 0)                             \
			return -EINVAL;                                        \
		o->field = (__typeof__(o->field))x;                            \
		return (int)(bit);                                             \
	}
	NUM("h2c", EMU_XOPT_H2C, 0, VPIO_XDMA_MAX_CHANNELS, h2c, "0..4 (H2C channels)")
	NUM("c2h", EMU_XOPT_C2H, 0, VPIO_XDMA_MAX_CHANNELS, c2h, "0..4 (C2H channels)")
	NUM("stream", EMU_XOPT_STREAM, 0, 1, stream, "0 (AXI memory-mapped) or 1 (AXI stream loopback)")
	NUM("bar64", EMU_XOPT_BAR64, 0, 1, bar64, "0 or 1 (64-bit BARs on BAR0, 2, 4)")
	NUM("align", EMU_XOPT_ALIGN, 1, 128, align, "a power of two 1..128 (address alignment in bytes)")
	NUM("gran", EMU_XOPT_GRAN, 1, 128, gran, "a power of two 1..128 (length granularity in bytes)")
	NUM("addrbits", EMU_XOPT_ADDRBITS, 32, 64, addrbits, "32..64 (DMA address bits)")
	NUM("errwb", EMU_XOPT_ERRWB, 0, 1, errwb, "0 or 1 (an engine stopped by an error writes the writeback word)")
#undef NUM
	if (strcmp(k, "mem") == 0) {
		*what = "a size such as 4K, 64M, 1G (a multiple of 4 KiB, at most 1T)";
		/* TODO(h-setup): vpio_util_parse_size() once it is on main */
		if (vpio_parse_size(v, &x) != 0 || x == 0 || x % 4096 != 0 || x > EMU_XDMA_MAX_MEM)
			return -EINVAL;
		o->mem = x;
		return EMU_XOPT_MEM;
	}
	if (strcmp(k, "bars") == 0) {
		*what = "a comma list of cfg, user, bypass in BAR order, cfg once (e.g. user,cfg,bypass)";
		return parse_bars(v, o) == 0 ? EMU_XOPT_BARS : -EINVAL;
	}
	return 0;
}

int emu_xdma_opts_parse(const char *name, const char *str, struct emu_xdma_opts *o)
{
	char copy[XOPT_MAX_LEN];
	char *save = NULL;

	emu_xdma_opts_default(o);
	if (str == NULL || *str == '\0')
		return 0;
	if (strlen(str) >= sizeof(copy)) {
		vpio_log(VPIO_LOG_ERROR, EMU_MOD, "%s: options longer than %zu characters", name, sizeof(copy) - 1);
		return -EINVAL;
	}
	strcpy(copy, str);
	for (char *kv = strtok_r(copy, "&", &save); kv != NULL; kv = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(kv, '=');
		const char *what = "";
		int bit;

		if (eq == NULL) {
			vpio_log(VPIO_LOG_ERROR, EMU_MOD, "%s: malformed option '%s' (expected key=value; keys: %s)", name, kv,
				 XOPT_KEYS);
			return -EINVAL;
		}
		*eq = '\0';
		bit = set_one(o, kv, eq + 1, &what);
		if (bit == 0) {
			vpio_log(VPIO_LOG_ERROR, EMU_MOD, "%s: unknown option '%s' (options: %s)", name, kv, XOPT_KEYS);
			return -EINVAL;
		}
		if (bit < 0) {
			vpio_log(VPIO_LOG_ERROR, EMU_MOD, "%s: invalid value '%s' for option '%s' (accepted: %s)", name, eq + 1,
				 kv, what);
			return -EINVAL;
		}
		if (o->set & (uint32_t)bit) {
			vpio_log(VPIO_LOG_ERROR, EMU_MOD, "%s: option '%s' is given twice", name, kv);
			return -EINVAL;
		}
		o->set |= (uint32_t)bit;
	}
	if (!vpio_is_pow2(o->align) || !vpio_is_pow2(o->gran)) {
		vpio_log(VPIO_LOG_ERROR, EMU_MOD, "%s: options 'align=%u' and 'gran=%u' must be powers of two", name, o->align,
			 o->gran);
		return -EINVAL;
	}
	if (o->addrbits < 64 && o->mem > (1ull << o->addrbits)) {
		vpio_log(VPIO_LOG_ERROR, EMU_MOD, "%s: 'mem=%llu' does not fit in %u address bits", name,
			 (unsigned long long)o->mem, o->addrbits);
		return -EINVAL;
	}
	return 0;
}

const char *emu_xdma_opts_conflict(const struct emu_xdma_opts *have, const struct emu_xdma_opts *want)
{
	static const struct {
		uint32_t bit;
		const char *key;
	} keys[] = {
		{ EMU_XOPT_H2C, "h2c" },     { EMU_XOPT_C2H, "c2h" },	  { EMU_XOPT_MEM, "mem" },
		{ EMU_XOPT_STREAM, "stream" }, { EMU_XOPT_BARS, "bars" },   { EMU_XOPT_BAR64, "bar64" },
		{ EMU_XOPT_ALIGN, "align" }, { EMU_XOPT_GRAN, "gran" },	  { EMU_XOPT_ADDRBITS, "addrbits" },
		{ EMU_XOPT_ERRWB, "errwb" },
	};
	bool diff[16] = { false };

	diff[0] = have->h2c != want->h2c;
	diff[1] = have->c2h != want->c2h;
	diff[2] = have->mem != want->mem;
	diff[3] = have->stream != want->stream;
	diff[4] = have->nbars != want->nbars || memcmp(have->bars, want->bars, sizeof(have->bars)) != 0;
	diff[5] = have->bar64 != want->bar64;
	diff[6] = have->align != want->align;
	diff[7] = have->gran != want->gran;
	diff[8] = have->addrbits != want->addrbits;
	diff[9] = have->errwb != want->errwb;
	for (size_t i = 0; i < VPIO_ARRAY_SIZE(keys); i++) {
		if ((want->set & keys[i].bit) && diff[i])
			return keys[i].key;
	}
	return NULL;
}
