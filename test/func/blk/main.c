/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * func_blk [-a ADDR]... [-s SEED]
 *
 * Functional tests of lib/blk.  Without -a the data suite runs on emulated
 * controllers (512- and 4096-byte blocks) and on a temporary file through
 * io_uring (4096- and 512-byte blocks, with and without sqpoll); the
 * cross-backend and bad-input suites always run on their own emulated
 * controllers and temporary files.  With -a, the data suite runs on the
 * given addresses instead (their data is overwritten).  Temporary files go
 * next to this program.  Where io_uring is refused (seccomp, sysctl
 * kernel.io_uring_disabled) the uring tests are skipped, and say so.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "func_blk.h"

const char *g_fb_targets[FB_MAX_TARGETS];
unsigned g_fb_ntargets;
bool g_fb_given;
bool g_fb_uring_ok;
char g_fb_dir[4096];
char g_fb_file[4200];

static char g_addrs[3][4300];

static int reg(void)
{
	if (fb_register_data() || fb_register_cross() || fb_register_bad_input())
		return -1;
	return 0;
}

/* io_uring may be forbidden here: find out once, say so once. */
static void probe_uring(void)
{
	struct vpio_blk_target *t;
	unsigned n;
	int rc;

	vpio_test_log_capture();
	rc = vpio_blk_open(g_addrs[0], NULL, &t, 1, &n);
	vpio_test_log_release();
	g_fb_uring_ok = rc == 0;
	if (rc == 0)
		vpio_blk_close(t);
	else if (rc == -EPERM || rc == -ENOSYS || rc == -EACCES)
		printf("func_blk: SKIPPING every io_uring test: io_uring is not available here (%s): %s",
		       strerror(-rc), vpio_test_log_buf.text);
	else
		printf("func_blk: io_uring on %s fails (%s): %s", g_fb_file, strerror(-rc), vpio_test_log_buf.text);
}

static void default_targets(void)
{
	if (g_fb_given)
		return;
	g_fb_targets[g_fb_ntargets++] = "emu:nvme0?size=64M";
	g_fb_targets[g_fb_ntargets++] = "emu:nvme1?lba=4096&size=64M&mdts=2";
	if (!g_fb_uring_ok)
		return;
	for (int i = 0; i < 3; i++)
		g_fb_targets[g_fb_ntargets++] = g_addrs[i];
}

static int find_dir(const char *argv0)
{
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		snprintf(exe, sizeof(exe), "%s", argv0);
	else
		exe[n] = '\0';
	snprintf(g_fb_dir, sizeof(g_fb_dir), "%s", dirname(exe));
	snprintf(g_addrs[0], sizeof(g_addrs[0]), "uring:%s/func_blk.img", g_fb_dir);
	snprintf(g_addrs[1], sizeof(g_addrs[1]), "uring:%s/func_blk.img?bs=512", g_fb_dir);
	snprintf(g_addrs[2], sizeof(g_addrs[2]), "uring:%s/func_blk.img?sqpoll=1", g_fb_dir);
	return fb_make_file(g_fb_file, sizeof(g_fb_file), "func_blk.img", FB_FILE_SIZE);
}

int main(int argc, char **argv)
{
	struct vpio_env_opts eo;
	uint64_t seed = 0xb10c;
	int c, rc;

	while ((c = getopt(argc, argv, "a:s:h")) != -1) {
		switch (c) {
		case 'a':
			if (g_fb_ntargets == FB_MAX_TARGETS) {
				fprintf(stderr, "func_blk: at most %d -a\n", FB_MAX_TARGETS);
				return 2;
			}
			g_fb_targets[g_fb_ntargets++] = optarg;
			g_fb_given = true;
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: func_blk [-a ADDR]... [-s SEED]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	rc = find_dir(argv[0]);
	if (rc != 0) {
		fprintf(stderr, "func_blk: cannot make a %llu MiB file in %s: %s\n", FB_FILE_SIZE >> 20, g_fb_dir,
			strerror(-rc));
		return 1;
	}
	printf("func_blk: seed 0x%llx (-s to repeat), files in %s\n", (unsigned long long)seed, g_fb_dir);
	fb_seed(seed);
	vpio_env_opts_init(&eo);
	eo.name = "func_blk";
	eo.mem_size_mb = 192;
	eo.quiet = true;
	if (vpio_env_init(&eo) != 0) {
		fprintf(stderr, "func_blk: vpio_env_init failed\n");
		unlink(g_fb_file);
		return 1;
	}
	probe_uring();
	default_targets();
	rc = vpio_test_run(reg);
	vpio_env_fini();
	unlink(g_fb_file);
	return rc;
}
