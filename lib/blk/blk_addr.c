/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Block target addresses:
 *   DDDD:BB:DD.F[/nsN]            an NVMe controller bound to vfio-pci
 *   emu:KIND[M][/nsN][?opts]      an emulated one (opts go to the emulator)
 *   uring:PATH[?k=v&k=v]          a file or block device through io_uring
 * Pure string work: nothing is opened here.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vpio/pci.h>

#include "blk_internal.h"

#define FORMS "a PCI address (0000:00:04.0[/nsN]), emu:nvme[M][/nsN][?options] or uring:PATH[?options]"
#define URING_OPTS "iopoll=0|1, sqpoll=0|1, bs=512|4096"

/* "ns7" -> 7; 0 on anything else (namespace ids are 1..0xfffffffe). */
static uint32_t parse_nsid(const char *s, size_t len)
{
	unsigned long long v = 0;

	if (len < 3 || len > 12 || strncmp(s, "ns", 2) != 0)
		return 0;
	for (size_t i = 2; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return 0;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	return v >= 1 && v <= 0xfffffffeull ? (uint32_t)v : 0;
}

/* Split "NAME[/nsN]" (len bytes at s): the name's length and the nsid. */
static int split_ns(const char *address, const char *s, size_t len, size_t *name_len, uint32_t *nsid)
{
	const char *slash = memchr(s, '/', len);

	*nsid = 0;
	*name_len = len;
	if (slash == NULL)
		return 0;
	*name_len = (size_t)(slash - s);
	*nsid = parse_nsid(slash + 1, len - *name_len - 1);
	if (*nsid == 0) {
		VPIO_ERR(BLK_MOD, "address '%s': '%.*s' is not a namespace; write /nsN with N from 1 (e.g. /ns1)", address,
			(int)(len - *name_len), slash);
		return -EINVAL;
	}
	return 0;
}

static int parse_pci(const char *address, struct blk_addr *a)
{
	struct vpio_pci_addr pci;
	size_t name_len;
	char name[32];
	int rc;

	if (strchr(address, '?') != NULL) {
		VPIO_ERR(BLK_MOD, "address '%s': a PCI address takes no options (only emu: and uring: addresses do)", address);
		return -EINVAL;
	}
	rc = split_ns(address, address, strlen(address), &name_len, &a->nsid);
	if (rc != 0)
		return rc;
	if (name_len < sizeof(name)) {
		memcpy(name, address, name_len);
		name[name_len] = '\0';
	}
	if (name_len >= sizeof(name) || vpio_pci_addr_parse(name, &pci) != 0) {
		VPIO_ERR(BLK_MOD, "address '%s' is not valid: expected %s", address, FORMS);
		return -EINVAL;
	}
	a->kind = BLK_KIND_PCI;
	vpio_pci_addr_fmt(a->ctrlr_key, sizeof(a->ctrlr_key), &pci);
	snprintf(a->attach_name, sizeof(a->attach_name), "%s", a->ctrlr_key);
	a->emu_opts = "";
	return 0;
}

/* emu:KIND[M][/nsN][?opts]: the key is emu:KINDM (M defaults to 0); the
 * emulator itself checks the kind and the options. */
static int parse_emu(const char *address, struct blk_addr *a)
{
	const char *q = strchr(address, '?');
	size_t len = q != NULL ? (size_t)(q - address) : strlen(address), name_len, k = 4, kind_end;
	unsigned long num = 0;
	int rc;

	rc = split_ns(address, address, len, &name_len, &a->nsid);
	if (rc != 0)
		return rc;
	while (k < name_len && isalpha((unsigned char)address[k]))
		k++;
	kind_end = k;
	while (k < name_len && isdigit((unsigned char)address[k]) && num <= 9999)
		num = num * 10 + (unsigned long)(address[k++] - '0');
	if (kind_end == 4 || k != name_len || num > 9999 || kind_end - 4 > 16) {
		VPIO_ERR(BLK_MOD, "address '%s': an emulated device is emu:KIND[N] with N 0..9999 (e.g. emu:nvme, emu:nvme1/ns2?ns=2)",
			address);
		return -EINVAL;
	}
	a->kind = BLK_KIND_EMU;
	snprintf(a->ctrlr_key, sizeof(a->ctrlr_key), "%.*s%lu", (int)kind_end, address, num);
	if ((size_t)snprintf(a->attach_name, sizeof(a->attach_name), "%s%s", a->ctrlr_key, q != NULL ? q : "") >=
	    sizeof(a->attach_name)) {
		VPIO_ERR(BLK_MOD, "address '%s': longer than %zu characters", address, sizeof(a->attach_name) - 1);
		return -EINVAL;
	}
	a->emu_opts = a->attach_name + strlen(a->ctrlr_key);
	if (*a->emu_opts == '?')
		a->emu_opts++;
	return 0;
}

static int uring_opt(const char *address, const char *opt, size_t len, struct blk_addr *a)
{
	const char *eq = memchr(opt, '=', len);
	size_t klen = eq != NULL ? (size_t)(eq - opt) : len;
	const char *v = eq != NULL ? eq + 1 : "";
	size_t vlen = eq != NULL ? len - klen - 1 : 0;
	int *flag = NULL;

	if (klen == 6 && strncmp(opt, "iopoll", 6) == 0)
		flag = &a->iopoll;
	else if (klen == 6 && strncmp(opt, "sqpoll", 6) == 0)
		flag = &a->sqpoll;
	if (flag != NULL && *flag < 0 && vlen == 1 && (*v == '0' || *v == '1')) {
		*flag = *v - '0';
		return 0;
	}
	if (klen == 2 && strncmp(opt, "bs", 2) == 0 && a->bs == 0) {
		if (vlen == 3 && strncmp(v, "512", 3) == 0)
			a->bs = 512;
		else if (vlen == 4 && strncmp(v, "4096", 4) == 0)
			a->bs = 4096;
		if (a->bs != 0)
			return 0;
	}
	if (flag != NULL || (klen == 2 && strncmp(opt, "bs", 2) == 0))
		VPIO_ERR(BLK_MOD, "address '%s': option '%.*s' is given twice or has a bad value (accepted: %s)", address,
			(int)len, opt, URING_OPTS);
	else
		VPIO_ERR(BLK_MOD, "address '%s': unknown option '%.*s' (accepted: %s)", address, (int)len, opt, URING_OPTS);
	return -EINVAL;
}

static int parse_uring(const char *address, struct blk_addr *a)
{
	const char *path = address + 6, *q = strchr(path, '?');
	size_t plen = q != NULL ? (size_t)(q - path) : strlen(path);

	a->kind = BLK_KIND_URING;
	a->iopoll = a->sqpoll = -1;
	a->bs = 0;
	if (plen == 0 || plen >= sizeof(a->path)) {
		VPIO_ERR(BLK_MOD, "address '%s': uring: needs the path of a block device or file (uring:/dev/nvme0n1, uring:/data/f)",
			address);
		return -EINVAL;
	}
	memcpy(a->path, path, plen);
	a->path[plen] = '\0';
	for (const char *o = q; o != NULL;) {
		const char *next = strchr(o + 1, '&');
		size_t len = next != NULL ? (size_t)(next - o - 1) : strlen(o + 1);
		int rc = uring_opt(address, o + 1, len, a);

		if (rc != 0)
			return rc;
		o = next;
	}
	return 0;
}

int blk_addr_parse(const char *address, struct blk_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->iopoll = a->sqpoll = -1;
	if (address == NULL || *address == '\0') {
		VPIO_ERR(BLK_MOD, "no address given: expected %s", FORMS);
		return -EINVAL;
	}
	if (strncmp(address, "uring:", 6) == 0)
		return parse_uring(address, a);
	if (strncmp(address, "emu:", 4) == 0)
		return parse_emu(address, a);
	return parse_pci(address, a);
}
