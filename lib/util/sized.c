/* SPDX-License-Identifier: BSD-3-Clause */
/* Growable public structs: the size field an application's struct starts
 * with, checked and honoured in one place (util.h, doc/api.md). */
#include <errno.h>
#include <string.h>

#include "util.h"

int vpio_struct_size_check(const char *mod, const char *fn, const char *what, size_t size, const char *how)
{
	const char *why = NULL;

	if (size == 0)
		why = "is 0";
	else if (size < sizeof(size_t) || size % sizeof(size_t) != 0)
		why = "is not the size of a struct that starts with a size_t";
	else if (size > VPIO_STRUCT_SIZE_MAX)
		why = "is beyond any struct of vpio (uninitialized?)";
	if (why == NULL)
		return 0;
	VPIO_ERR(mod, "%s: %s size %zu %s: %s", fn, what, size, why, how);
	return -EINVAL;
}

int vpio_opts_init_sized(const char *mod, const char *fn, void *opts, size_t opts_size, const void *def,
			 size_t def_size)
{
	size_t n = VPIO_MIN(opts_size, def_size);

	if (opts == NULL) {
		VPIO_ERR(mod, "%s: opts is NULL", fn);
		return -EINVAL;
	}
	if (vpio_struct_size_check(mod, fn, "opts", opts_size, "pass sizeof(opts), or call the macro without _sized") != 0)
		return -EINVAL;
	memcpy(opts, def, n);
	memset((char *)opts + n, 0, opts_size - n);
	memcpy(opts, &opts_size, sizeof(opts_size));
	return 0;
}

int vpio_opts_import(const char *mod, const char *fn, void *full, size_t full_size, const void *user,
		     const char *init)
{
	size_t size;

	if (user != NULL) {
		memcpy(&size, user, sizeof(size));
		if (vpio_struct_size_check(mod, fn, "opts", size, init) != 0)
			return -EINVAL;
		memcpy(full, user, VPIO_MIN(size, full_size));
	}
	memcpy(full, &full_size, sizeof(full_size));
	return 0;
}

int vpio_struct_out_check(const char *mod, const char *fn, const void *out, size_t out_size)
{
	if (out == NULL) {
		VPIO_ERR(mod, "%s: the output struct is NULL", fn);
		return -EINVAL;
	}
	return vpio_struct_size_check(mod, fn, "output struct", out_size,
				      "pass sizeof(*out), or call the macro without _sized");
}

int vpio_struct_export(const char *mod, const char *fn, void *out, size_t out_size, const void *full,
		       size_t full_size)
{
	size_t n = VPIO_MIN(out_size, full_size);

	if (vpio_struct_out_check(mod, fn, out, out_size) != 0)
		return -EINVAL;
	memcpy(out, full, n);
	memset((char *)out + n, 0, out_size - n);
	memcpy(out, &n, sizeof(n));
	return 0;
}
