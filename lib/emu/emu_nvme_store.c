/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Where an emulated controller keeps its blocks: nowhere (null), sparse
 * anonymous memory (untouched pages cost nothing and read as zeroes), or
 * a backing file (pread/pwrite).
 *
 * Sparse memory keeps a bit per 4 KiB page that was ever written (cleared
 * again when a whole page is zeroed): reads of the other pages fill the
 * host buffer with zeroes instead of touching the mapping, since the first
 * touch of a page is a page fault (a microsecond on bare metal, tens of
 * microseconds in some VMs), which would make a random-read benchmark of
 * a fresh emulated drive measure the kernel's fault path.  Only the
 * controller's thread uses a store, so the bitmap needs no lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emu_internal.h"

#define PAGE 4096ull

int emu_store_open(struct emu_store *st, enum emu_store_kind kind, uint64_t size, const char *path)
{
	struct stat sb;

	memset(st, 0, sizeof(*st));
	st->kind = kind;
	st->size = size;
	st->fd = -1;
	switch (kind) {
	case EMU_STORE_NULL:
		return 0;
	case EMU_STORE_MEM:
		if (size > SIZE_MAX - PAGE) {
			VPIO_ERR(EMU_MOD, "cannot keep %llu bytes in memory: too large for the address space",
				 (unsigned long long)size);
			return -ENOMEM;
		}
		st->mem = mmap(NULL, VPIO_ALIGN_UP(size, PAGE), PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (st->mem == MAP_FAILED) {
			int rc = -errno;

			st->mem = NULL;
			VPIO_ERR(EMU_MOD, "cannot reserve %llu MiB of sparse memory for the namespaces: %s (use a smaller size= or backing=FILE)",
				 (unsigned long long)(size >> 20), strerror(-rc));
			return rc;
		}
		st->written = calloc(VPIO_ALIGN_UP(size, PAGE * 64) / (PAGE * 64), sizeof(uint64_t));
		if (st->written == NULL) {
			VPIO_ERR(EMU_MOD, "cannot allocate the page map of %llu MiB of namespaces: out of memory",
				 (unsigned long long)(size >> 20));
			emu_store_close(st);
			return -ENOMEM;
		}
		return 0;
	case EMU_STORE_FILE:
		break;
	}
	snprintf(st->path, sizeof(st->path), "%s", path);
	st->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (st->fd < 0) {
		int rc = -errno;

		VPIO_ERR(EMU_MOD, "cannot open backing file '%s': %s", path, strerror(-rc));
		return rc;
	}
	if (fstat(st->fd, &sb) != 0 || ((uint64_t)sb.st_size < size && ftruncate(st->fd, (off_t)size) != 0)) {
		int rc = -errno;

		VPIO_ERR(EMU_MOD, "cannot extend backing file '%s' to %llu bytes: %s", path,
			 (unsigned long long)size, strerror(-rc));
		close(st->fd);
		st->fd = -1;
		return rc;
	}
	return 0;
}

void emu_store_close(struct emu_store *st)
{
	if (st->mem != NULL)
		munmap(st->mem, VPIO_ALIGN_UP(st->size, PAGE));
	free(st->written);
	st->written = NULL;
	if (st->fd >= 0)
		close(st->fd);
	st->mem = NULL;
	st->fd = -1;
}

/* Full pread/pwrite (short transfers are retried). */
static int file_io(struct emu_store *st, void *buf, uint64_t len, uint64_t off, bool write)
{
	while (len > 0) {
		ssize_t n = write ? pwrite(st->fd, buf, len, (off_t)off) : pread(st->fd, buf, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0) { /* read past the end of a shrunk file: zeroes */
			if (write)
				return -EIO;
			memset(buf, 0, len);
			return 0;
		}
		buf = (uint8_t *)buf + n;
		len -= (uint64_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static bool page_written(const struct emu_store *st, uint64_t page)
{
	return (st->written[page / 64] >> (page % 64)) & 1;
}

static void mark_pages(struct emu_store *st, uint64_t off, uint64_t len, bool written)
{
	for (uint64_t p = off / PAGE; p <= (off + len - 1) / PAGE; p++) {
		if (written)
			st->written[p / 64] |= 1ull << (p % 64);
		else
			st->written[p / 64] &= ~(1ull << (p % 64));
	}
}

/* Copy [off, off + len) out of sparse memory: pages never written are
 * zeroes, and are not touched. */
static void mem_read(const struct emu_store *st, uint8_t *buf, uint64_t len, uint64_t off)
{
	while (len > 0) {
		uint64_t n = VPIO_MIN(len, PAGE - off % PAGE);

		if (page_written(st, off / PAGE))
			memcpy(buf, st->mem + off, n);
		else
			memset(buf, 0, n);
		buf += n;
		off += n;
		len -= n;
	}
}

int emu_store_read(struct emu_store *st, void *buf, uint64_t len, uint64_t off)
{
	switch (st->kind) {
	case EMU_STORE_MEM:
		if (len > 0)
			mem_read(st, buf, len, off);
		return 0;
	case EMU_STORE_FILE:
		return file_io(st, buf, len, off, false);
	default:
		return 0;
	}
}

int emu_store_write(struct emu_store *st, const void *buf, uint64_t len, uint64_t off)
{
	switch (st->kind) {
	case EMU_STORE_MEM:
		if (len > 0) {
			memcpy(st->mem + off, buf, len);
			mark_pages(st, off, len, true);
		}
		return 0;
	case EMU_STORE_FILE:
		return file_io(st, (void *)(uintptr_t)buf, len, off, true);
	default:
		return 0;
	}
}

int emu_store_compare(struct emu_store *st, const void *buf, uint64_t len, uint64_t off)
{
	uint8_t tmp[4096];

	switch (st->kind) {
	case EMU_STORE_MEM:
	case EMU_STORE_FILE:
		while (len > 0) {
			uint64_t n = VPIO_MIN(len, sizeof(tmp));
			int rc = emu_store_read(st, tmp, n, off);

			if (rc != 0)
				return rc;
			if (memcmp(tmp, buf, n) != 0)
				return 1;
			buf = (const uint8_t *)buf + n;
			len -= n;
			off += n;
		}
		return 0;
	default:
		return 0;
	}
}

static int file_zero(struct emu_store *st, uint64_t off, uint64_t len)
{
	static const uint8_t zeroes[4096];

	if (fallocate(st->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) == 0)
		return 0;
	while (len > 0) {
		uint64_t n = VPIO_MIN(len, sizeof(zeroes));
		int rc = file_io(st, (void *)(uintptr_t)zeroes, n, off, true);

		if (rc != 0)
			return rc;
		off += n;
		len -= n;
	}
	return 0;
}

int emu_store_zero(struct emu_store *st, uint64_t off, uint64_t len)
{
	uint64_t a, b;

	switch (st->kind) {
	case EMU_STORE_MEM:
		a = VPIO_ALIGN_UP(off, PAGE);
		b = VPIO_ALIGN_DOWN(off + len, PAGE);
		if (a >= b) {
			memset(st->mem + off, 0, len);
			return 0;
		}
		memset(st->mem + off, 0, a - off);
		memset(st->mem + b, 0, off + len - b);
		/* whole pages go back to the kernel and read as zeroes */
		if (madvise(st->mem + a, b - a, MADV_DONTNEED) != 0)
			memset(st->mem + a, 0, b - a);
		mark_pages(st, a, b - a, false);
		return 0;
	case EMU_STORE_FILE:
		return file_zero(st, off, len);
	default:
		return 0;
	}
}

int emu_store_flush(struct emu_store *st)
{
	if (st->kind == EMU_STORE_FILE && fdatasync(st->fd) != 0)
		return -errno;
	return 0;
}

uint64_t emu_store_resident(const struct emu_store *st)
{
	uint64_t len, res = 0;
	unsigned char vec[256];

	if (st->kind != EMU_STORE_MEM)
		return 0;
	len = VPIO_ALIGN_UP(st->size, PAGE);
	for (uint64_t off = 0; off < len; off += sizeof(vec) * PAGE) {
		uint64_t n = VPIO_MIN(len - off, sizeof(vec) * PAGE);

		if (mincore(st->mem + off, n, vec) != 0)
			return 0;
		for (uint64_t i = 0; i < (n + PAGE - 1) / PAGE; i++)
			res += vec[i] & 1;
	}
	return res * PAGE;
}
