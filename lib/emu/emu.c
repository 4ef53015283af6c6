/* SPDX-License-Identifier: BSD-3-Clause */
/* Emulated devices: "emu:KIND[N][?opts]" names and dispatch on KIND. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pci/pci_backend.h"
#include "emu_xdma_internal.h"

#define EMU_PREFIX "emu:"
#define EMU_KINDS "nvme, xdma"

struct emu_kind {
	const char *name;
	int (*open)(const char *canon, unsigned idx, const char *opts, struct vpio_pci_device **dev);
	int (*destroy)(const char *canon);
	void (*destroy_all)(void);
};

static const struct emu_kind g_kinds[] = {
	{ "nvme", emu_nvme_open, emu_nvme_destroy, emu_nvme_destroy_all },
	{ "xdma", emu_xdma_open, emu_xdma_destroy, emu_xdma_destroy_all },
};

uint64_t emu_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A thread created after DPDK's EAL init inherits the main lcore's
 * affinity: an emulated device would share one core with a spinning driver
 * and get a time slice every few milliseconds.  Run it on the CPUs that
 * the application's lcores do not use (lcore ids taken as CPU ids), or on
 * any CPU when they use them all. */
bool emu_place_thread(pthread_t t)
{
	cpu_set_t all, free_cpus;
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	CPU_ZERO(&all);
	for (long i = 0; i < n && i < CPU_SETSIZE; i++)
		CPU_SET((int)i, &all);
	free_cpus = all;
	if (vpio_env_is_init()) {
		for (unsigned i = 0; i < vpio_env_core_count(); i++)
			CPU_CLR(vpio_env_core_nth(i), &free_cpus);
	}
	if (CPU_COUNT(&free_cpus) > 0 && pthread_setaffinity_np(t, sizeof(free_cpus), &free_cpus) == 0)
		return true;
	return pthread_setaffinity_np(t, sizeof(all), &all) == 0;
}

int emu_parse_name(const char *name, char *kind, size_t kind_len, unsigned *idx, const char **opts)
{
	const char *p, *k;
	size_t n = 0;
	unsigned v = 0;

	if (name == NULL || strncmp(name, EMU_PREFIX, strlen(EMU_PREFIX)) != 0) {
		VPIO_ERR(EMU_MOD, "'%s' is not an emulated device name (expected emu:KIND[N][?opts], KIND one of: %s)",
			 name ? name : "(null)", EMU_KINDS);
		return -EINVAL;
	}
	k = p = name + strlen(EMU_PREFIX);
	while (*p >= 'a' && *p <= 'z') {
		p++;
		n++;
	}
	while (*p >= '0' && *p <= '9') {
		v = v * 10 + (unsigned)(*p - '0');
		if (v > EMU_MAX_INDEX)
			break;
		p++;
	}
	if (n == 0 || n >= kind_len || v > EMU_MAX_INDEX || (*p != '\0' && *p != '?')) {
		VPIO_ERR(EMU_MOD, "malformed emulated device name '%s' (expected emu:KIND[N][?k=v&k=v], KIND one of: %s, N in 0..%d)",
			 name, EMU_KINDS, EMU_MAX_INDEX);
		return -EINVAL;
	}
	memcpy(kind, k, n);
	kind[n] = '\0';
	*idx = v;
	*opts = *p == '?' ? p + 1 : NULL;
	return 0;
}

static const struct emu_kind *find_kind(const char *name, const char *kind)
{
	for (size_t i = 0; i < VPIO_ARRAY_SIZE(g_kinds); i++) {
		if (strcmp(g_kinds[i].name, kind) == 0)
			return &g_kinds[i];
	}
	VPIO_ERR(EMU_MOD, "'%s': no emulated device of kind '%s' (kinds: %s)", name, kind, EMU_KINDS);
	return NULL;
}

static int lookup(const char *name, const struct emu_kind **k, char *canon, unsigned *idx, const char **opts)
{
	char kind[EMU_KIND_LEN];
	int rc = emu_parse_name(name, kind, sizeof(kind), idx, opts);

	if (rc != 0)
		return rc;
	*k = find_kind(name, kind);
	if (*k == NULL)
		return -ENODEV;
	snprintf(canon, EMU_NAME_LEN, EMU_PREFIX "%s%u", kind, *idx);
	return 0;
}

int vpio_emu_device_open(const char *name, struct vpio_pci_device **dev)
{
	const struct emu_kind *k;
	char canon[EMU_NAME_LEN];
	const char *opts;
	unsigned idx;
	int rc;

	if (dev == NULL) {
		VPIO_ERR(EMU_MOD, "cannot open '%s': no place for the device handle (dev is NULL)",
			 name ? name : "(null)");
		return -EINVAL;
	}
	*dev = NULL;
	rc = lookup(name, &k, canon, &idx, &opts);
	if (rc != 0)
		return rc;
	return k->open(canon, idx, opts, dev);
}

int vpio_emu_destroy(const char *name)
{
	const struct emu_kind *k;
	char canon[EMU_NAME_LEN];
	const char *opts;
	unsigned idx;
	int rc;

	rc = lookup(name, &k, canon, &idx, &opts);
	if (rc != 0)
		return rc;
	return k->destroy(canon);
}

/* lib/pci hands "emu:" names to vpio_emu_device_open() (pci_backend.h). */
static const struct vpio_pci_backend g_backend = {
	.prefix = EMU_PREFIX,
	.what = "the emulator (lib/emu)",
	.open = vpio_emu_device_open,
};

__attribute__((constructor)) static void register_backend(void)
{
	vpio_pci_backend_register(&g_backend);
}

void vpio_emu_destroy_all(void)
{
	for (size_t i = 0; i < VPIO_ARRAY_SIZE(g_kinds); i++)
		g_kinds[i].destroy_all();
}
