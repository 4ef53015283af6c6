/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpio_env_init(): DPDK EAL with arguments vpio builds itself.  vpio owns
 * PCI and VFIO, so EAL gets --no-pci; memory is hugepages (--in-memory, no
 * files) or, when none are free, anonymous memory (--no-huge) with one
 * warning that says how to reserve hugepages.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>

#include "env_internal.h"

#define HP_DIR "/sys/kernel/mm/hugepages/hugepages-2048kB"

static struct {
	bool init;
	bool huge;
	bool was_init; /* EAL ran once in this process: it cannot run again */
} g_env;

/* The public struct's layout (doc/api.md). */
VPIO_ABI_SIZE(struct vpio_env_opts, 40);
VPIO_ABI_FIELD(struct vpio_env_opts, opts_size, 0);
VPIO_ABI_FIELD(struct vpio_env_opts, name, 8);
VPIO_ABI_FIELD(struct vpio_env_opts, core_mask, 16);
VPIO_ABI_FIELD(struct vpio_env_opts, mem_size_mb, 24);
VPIO_ABI_FIELD(struct vpio_env_opts, log_level, 32);
VPIO_ABI_FIELD(struct vpio_env_opts, no_huge, 36);
VPIO_ABI_FIELD(struct vpio_env_opts, quiet, 37);

static const struct vpio_env_opts g_opts_default = {
	.opts_size = sizeof(struct vpio_env_opts),
	.name = "vpio",
	.core_mask = "0x1",
	.mem_size_mb = 256,
	.log_level = -1,
};

int vpio_env_opts_init_sized(struct vpio_env_opts *opts, size_t opts_size)
{
	return vpio_opts_init_sized(ENV_MOD, "vpio_env_opts_init", opts, opts_size, &g_opts_default,
				    sizeof(g_opts_default));
}

bool vpio_env_is_init(void)
{
	return g_env.init;
}

bool vpio_env_uses_hugepages(void)
{
	return g_env.huge;
}

static int check_core_mask(const char *mask)
{
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	unsigned long long m;
	char *end;

	errno = 0;
	m = strtoull(mask, &end, 16);
	if (errno != 0 || *end != '\0' || end == mask || m == 0) {
		VPIO_ERR(ENV_MOD, "core mask '%s' is not a non-zero hex mask (e.g. 0x3 for cores 0 and 1)", mask);
		return -EINVAL;
	}
	if (ncpu > 0 && ncpu < 64 && (m >> ncpu) != 0) {
		VPIO_ERR(ENV_MOD, "core mask '%s' names core %d but this machine has %ld cores (0-%ld)", mask,
			 63 - __builtin_clzll(m), ncpu, ncpu - 1);
		return -EINVAL;
	}
	return 0;
}

/* Free 2 MiB hugepages, in MiB. */
static uint64_t free_hugepage_mb(void)
{
	uint64_t n = 0;

	if (vpio_read_u64_file(HP_DIR "/free_hugepages", &n) != 0)
		return 0;
	return n * 2;
}

int vpio_env_init(const struct vpio_env_opts *user_opts)
{
	struct vpio_env_opts opts = g_opts_default;
	char mem[32], *argv[16];
	int argc = 0, rc;
	uint64_t free_mb;

	if (g_env.init) {
		VPIO_ERR(ENV_MOD, "vpio_env_init() called twice; call vpio_env_fini() first");
		return -EALREADY;
	}
	if (g_env.was_init) {
		VPIO_ERR(ENV_MOD, "vpio_env_init() after vpio_env_fini(): DPDK's EAL cannot be started twice in one process; keep the environment up until the process ends");
		return -EALREADY;
	}
	if (vpio_opts_import(ENV_MOD, "vpio_env_init", &opts, sizeof(opts), user_opts,
			     "fill the options with vpio_env_opts_init(&opts)") != 0)
		return -EINVAL;
	if (opts.log_level >= 0)
		vpio_log_set_level((enum vpio_log_level)opts.log_level);
	if (opts.name == NULL)
		opts.name = "vpio";
	if (opts.core_mask == NULL)
		opts.core_mask = "0x1";
	if (opts.mem_size_mb == 0)
		opts.mem_size_mb = 256;
	rc = check_core_mask(opts.core_mask);
	if (rc != 0)
		return rc;

	free_mb = free_hugepage_mb();
	g_env.huge = !opts.no_huge && free_mb > 0;
	if (!opts.no_huge && free_mb == 0)
		VPIO_WARN(ENV_MOD, "no free hugepages: using ordinary memory (slower, pinned by VFIO); reserve hugepages with 'sudo scripts/setup.sh' (HUGEMEM=MiB)");
	if (g_env.huge && free_mb < opts.mem_size_mb) {
		VPIO_WARN(ENV_MOD, "only %llu MiB of hugepages free, %zu MiB asked; using %llu MiB",
			  (unsigned long long)free_mb, opts.mem_size_mb, (unsigned long long)free_mb);
		opts.mem_size_mb = free_mb;
	}
	snprintf(mem, sizeof(mem), "%zu", opts.mem_size_mb);

	argv[argc++] = (char *)opts.name;
	argv[argc++] = "-c";
	argv[argc++] = (char *)opts.core_mask;
	argv[argc++] = "--no-pci";
	argv[argc++] = "--no-telemetry";
	argv[argc++] = "--iova-mode=va";
	argv[argc++] = opts.quiet ? "--log-level=*:error"
		      : vpio_log_get_level() < VPIO_LOG_INFO ? "--log-level=*:warning" : "--log-level=*:info";
	if (g_env.huge) {
		argv[argc++] = "--in-memory";
	} else {
		argv[argc++] = "--no-huge";
		argv[argc++] = "--no-shconf";
	}
	argv[argc++] = "-m";
	argv[argc++] = mem;
	argv[argc] = NULL;

	if (rte_eal_init(argc, argv) < 0) {
		rc = rte_errno ? -rte_errno : -EIO;
		g_env.was_init = rte_errno == EALREADY;
		VPIO_ERR(ENV_MOD, "DPDK EAL initialization failed: %s (%s memory, %s MiB, cores %s)", rte_strerror(rte_errno),
			 g_env.huge ? "hugepage" : "ordinary", mem, opts.core_mask);
		return rc;
	}
	rc = vpio_env_mem_hooks_init();
	if (rc != 0) {
		rte_eal_cleanup();
		return rc;
	}
	g_env.init = true;
	g_env.was_init = true;
	VPIO_INFO(ENV_MOD, "environment up: %s memory %s MiB, cores %s", g_env.huge ? "hugepage" : "ordinary", mem,
		  opts.core_mask);
	return 0;
}

void vpio_env_fini(void)
{
	if (!g_env.init)
		return;
	vpio_env_mem_hooks_fini();
	rte_eal_cleanup();
	g_env.init = false;
}
