/* SPDX-License-Identifier: BSD-3-Clause */
/* vpio-identify: formatting helpers. */
#include <stdio.h>
#include <string.h>

#include "identify.h"

const char *identify_str(char *out, size_t outlen, const char *in, size_t inlen)
{
	size_t n = inlen < outlen - 1 ? inlen : outlen - 1;

	memcpy(out, in, n);
	out[n] = '\0';
	while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\0'))
		out[--n] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (out[i] < 0x20 || out[i] > 0x7e)
			out[i] = '?';
	}
	return out;
}

const char *identify_size(char *out, size_t outlen, uint64_t bytes)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)bytes;
	unsigned u = 0;

	while (v >= 1024.0 && u + 1 < sizeof(unit) / sizeof(unit[0])) {
		v /= 1024.0;
		u++;
	}
	snprintf(out, outlen, u ? "%.2f %s" : "%.0f %s", v, unit[u]);
	return out;
}
