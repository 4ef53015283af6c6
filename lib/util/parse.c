/* SPDX-License-Identifier: BSD-3-Clause */
/* The one grammar for numbers and sizes given by users (options, device
 * names, command lines): decimal digits, no sign, no spaces, no leading
 * zero, no hex, no octal; sizes take an optional binary unit. */
#include <errno.h>
#include <strings.h>

#include "util.h"

/* Decimal digits at s: the value (saturated) in *v, the first non-digit in
 * *end.  -EINVAL when there is no digit or a leading zero, -ERANGE when the
 * value does not fit in 64 bits, else 0. */
static int parse_digits(const char *s, const char **end, uint64_t *v)
{
	uint64_t x = 0;
	int rc = 0;

	*end = s;
	if (s == NULL || *s < '0' || *s > '9')
		return -EINVAL;
	if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
		return -EINVAL; /* "010": octal to some, decimal to others */
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');

		if (x > (UINT64_MAX - d) / 10)
			rc = -ERANGE;
		else
			x = x * 10 + d;
	}
	*end = s;
	*v = x;
	return rc;
}

int vpio_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	const char *end;
	uint64_t v = 0;
	int rc = parse_digits(s, &end, &v);

	if (rc == -EINVAL || *end != '\0')
		return -EINVAL;
	if (rc != 0 || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int vpio_parse_size(const char *s, uint64_t *out)
{
	static const struct {
		const char *name;
		unsigned shift;
	} units[] = {
		{ "", 0 }, { "B", 0 }, { "K", 10 }, { "KiB", 10 }, { "M", 20 }, { "MiB", 20 },
		{ "G", 30 }, { "GiB", 30 }, { "T", 40 }, { "TiB", 40 },
	};
	const char *end;
	uint64_t v = 0;
	int rc = parse_digits(s, &end, &v);

	if (rc == -EINVAL)
		return -EINVAL;
	for (size_t i = 0; i < VPIO_ARRAY_SIZE(units); i++) {
		if (strcasecmp(end, units[i].name) != 0)
			continue;
		if (rc != 0 || v > (UINT64_MAX >> units[i].shift))
			return -ERANGE;
		*out = v << units[i].shift;
		return 0;
	}
	return -EINVAL;
}
