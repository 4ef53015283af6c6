/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit test of vpio_nvme_probe() against a fake sysfs tree: only NVMe
 * controllers (class 0x010802) bound to vfio-pci are offered to the probe
 * callback; a refused one is not attached; an accepted one is attached
 * (here it fails, the environment being down: one line, nothing handed to
 * attach_cb, probing goes on).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/vpio_test.h"
#include "nvme_ut_fake.h"

static char g_root[256];

static void put(const char *dev, const char *attr, const char *val)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/%s", g_root, dev, attr);
	f = fopen(path, "w");
	if (f != NULL) {
		fprintf(f, "%s\n", val);
		fclose(f);
	}
}

static void mkdev(const char *dev, const char *cls, const char *driver)
{
	char path[512], target[512];

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s", g_root, dev);
	mkdir(path, 0755);
	put(dev, "vendor", "0x1b36");
	put(dev, "device", "0x0010");
	put(dev, "class", cls);
	put(dev, "subsystem_vendor", "0x1af4");
	put(dev, "subsystem_device", "0x1100");
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/driver", g_root, dev);
	snprintf(target, sizeof(target), "../../../bus/pci/drivers/%s", driver);
	if (symlink(target, path) != 0)
		perror("symlink");
}

static int setup(void)
{
	char path[300];

	snprintf(g_root, sizeof(g_root), "/tmp/vpio-nvme-probe.XXXXXX");
	if (mkdtemp(g_root) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/bus", g_root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/bus/pci", g_root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/bus/pci/devices", g_root);
	mkdir(path, 0755);
	mkdev("0000:00:05.0", "0x010802", "vfio-pci"); /* offered */
	mkdev("0000:00:03.0", "0x010802", "nvme");     /* the kernel's: not offered */
	mkdev("0000:00:04.0", "0x058000", "vfio-pci"); /* not NVMe */
	mkdev("0000:00:06.0", "0x010801", "vfio-pci"); /* NVM, but not the NVMe I/O prog-if */
	vpio_pci_set_sysfs_root(g_root);
	return 0;
}

static int teardown(void)
{
	char cmd[400];

	vpio_pci_set_sysfs_root(NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_root);
	return system(cmd) == 0 ? 0 : -1;
}

struct seen {
	unsigned probed, attached;
	char last[VPIO_PCI_ADDR_STRLEN];
	bool accept;
};

static bool probe_cb(void *ctx, const struct vpio_pci_info *info, struct vpio_nvme_ctrlr_opts *opts)
{
	struct seen *s = ctx;

	s->probed++;
	vpio_pci_addr_fmt(s->last, sizeof(s->last), &info->addr);
	CU_ASSERT_EQUAL(info->class_code, VPIO_PCI_CLASS_NVME);
	CU_ASSERT_STRING_EQUAL(info->driver, "vfio-pci");
	CU_ASSERT_EQUAL(opts->num_io_queues, 64); /* defaults, the callback may change them */
	return s->accept;
}

static void attach_cb(void *ctx, const struct vpio_pci_info *info, struct vpio_nvme_ctrlr *ctrlr)
{
	struct seen *s = ctx;

	(void)info;
	s->attached++;
	vpio_nvme_ctrlr_detach(ctrlr);
}

static void test_probe_filters(void)
{
	struct seen s = { 0, 0, "", false };

	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_nvme_probe(probe_cb, attach_cb, &s), 0);
	CU_ASSERT_EQUAL(s.probed, 1);
	CU_ASSERT_STRING_EQUAL(s.last, "0000:00:05.0");
	CU_ASSERT_EQUAL(s.attached, 0);
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 0); /* refused: not even tried */
	vpio_test_log_release();
}

static void test_probe_attach_failure(void)
{
	struct seen s = { 0, 0, "", true };

	vpio_test_log_capture();
	CU_ASSERT_EQUAL(vpio_nvme_probe(probe_cb, attach_cb, &s), 0);
	CU_ASSERT_EQUAL(s.probed, 1);
	CU_ASSERT_EQUAL(s.attached, 0);
	CU_ASSERT_EQUAL(vpio_test_log_errors(), 1);
	CU_ASSERT(vpio_test_log_has("vpio_env_init"));
	vpio_test_log_release();
}

static int reg(void)
{
	VPIO_SUITE("nvme_probe", setup, teardown);
	VPIO_TEST(test_probe_filters);
	VPIO_TEST(test_probe_attach_failure);
	return 0;
}

int main(void)
{
	return vpio_test_run(reg);
}
