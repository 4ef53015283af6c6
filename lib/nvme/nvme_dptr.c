/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Data pointers: PRPs and SGLs for one command, from a position in an
 * iovec array.  Pure functions: the only outside call is the translation
 * callback, so unit tests drive them with any address layout.
 *
 * PRP rules: the first entry may start anywhere dword aligned; every other
 * entry is a page-aligned page; so every IOVA-contiguous range except the
 * first must start on a page boundary and every range except the last must
 * end on one (pieces of the iovec that continue each other in device
 * address space count as one range).  Up to two entries go in the command, more in the request's
 * list (one 4 KiB block, never chained: transfers are capped so that it is
 * enough).
 */
#include <errno.h>
#include <string.h>

#include "nvme_internal.h"

uint64_t nvme_xlate_vtophys(void *ctx, const void *vaddr, uint64_t *len)
{
	(void)ctx;
	return vpio_vtophys(vaddr, len);
}

/* The current element, skipping exhausted and empty ones; NULL at the end. */
static const struct iovec *cur_elem(struct nvme_iov_cur *cur)
{
	while (cur->idx < cur->cnt && cur->off >= cur->iov[cur->idx].iov_len) {
		cur->idx++;
		cur->off = 0;
	}
	return cur->idx < cur->cnt ? &cur->iov[cur->idx] : NULL;
}

void nvme_iov_cur_rewind(struct nvme_iov_cur *cur, uint64_t len)
{
	while (len > 0) {
		if (cur->off >= len) {
			cur->off -= len;
			return;
		}
		len -= cur->off;
		if (cur->idx == 0) {
			cur->off = 0;
			return;
		}
		cur->idx--;
		cur->off = cur->iov[cur->idx].iov_len;
	}
}

/* Translate the next run (at most want bytes) at *cur; dword: its start
 * must be 4-byte aligned (PRPs always; SGLs when the controller says so). */
static int next_run(const struct nvme_dptr_env *env, struct nvme_iov_cur *cur, uint64_t want, bool dword,
		    uint64_t *iova, uint64_t *run)
{
	const struct iovec *v = cur_elem(cur);
	const uint8_t *va;
	uint64_t n;

	if (v == NULL) {
		VPIO_ERR(NVME_MOD, "data buffer ends %llu bytes before the transfer does", (unsigned long long)want);
		return -EINVAL;
	}
	va = (const uint8_t *)v->iov_base + cur->off;
	n = v->iov_len - cur->off;
	if (n > want)
		n = want;
	*run = n;
	*iova = env->xlate(env->xlate_ctx, va, run);
	if (*iova == UINT64_MAX || *run == 0) {
		VPIO_ERR(NVME_MOD, "buffer %p (element %u) is not registered for DMA: allocate it with vpio_dma_malloc() "
			 "or register it with vpio_mem_register()", (const void *)va, cur->idx);
		return -EFAULT;
	}
	if (*run > n)
		*run = n;
	if (dword && (*iova & 3u) != 0) {
		VPIO_ERR(NVME_MOD, "buffer %p (element %u) is not 4-byte aligned, as NVMe requires", (const void *)va, cur->idx);
		return -EINVAL;
	}
	cur->off += *run;
	return 0;
}

static int prp_add(uint64_t *list, uint32_t *n, uint64_t *prp1, uint64_t addr)
{
	if (*n == 0) {
		*prp1 = addr;
	} else {
		if (*n - 1u >= NVME_PRP_LIST_MAX) {
			VPIO_ERR(NVME_MOD, "transfer needs more than %u PRP entries", NVME_PRP_LIST_MAX + 1u);
			return -E2BIG;
		}
		list[*n - 1u] = addr;
	}
	(*n)++;
	return 0;
}

/* Add the PRP entries of one IOVA-contiguous range [start, end). */
static int prp_add_range(uint64_t *list, uint32_t *n, uint64_t *prp1, uint64_t start, uint64_t end, uint64_t mask)
{
	uint64_t p;
	int rc;

	for (p = start; p < end; p = (p | mask) + 1u) {
		rc = prp_add(list, n, prp1, p);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/*
 * Pieces that continue each other in device address space (the two
 * halves of one page in two elements, say) are one range: they are merged
 * before the PRP rules are checked, so that only real gaps need SGLs.
 */
int64_t nvme_build_prp(const struct nvme_dptr_env *env, struct nvme_iov_cur *cur, uint64_t len, uint64_t *list,
		       uint64_t list_iova, struct vpio_nvme_cmd *cmd)
{
	const uint64_t mask = (1ull << env->page_shift) - 1u;
	uint64_t left = len, prp1 = 0, iova, run, start = 0, end = 0;
	uint32_t n = 0;
	bool have = false;
	int rc;

	while (left > 0) {
		rc = next_run(env, cur, left, true, &iova, &run);
		if (rc != 0)
			return rc;
		left -= run;
		if (have && iova == end) { /* continues the range */
			end += run;
			continue;
		}
		if (have) { /* a range before this one: it must end on a page */
			if ((end & mask) != 0 || (iova & mask) != 0)
				return NVME_EPRPLAYOUT; /* a gap inside a page */
			rc = prp_add_range(list, &n, &prp1, start, end, mask);
			if (rc != 0)
				return rc;
		}
		start = iova;
		end = iova + run;
		have = true;
	}
	rc = prp_add_range(list, &n, &prp1, start, end, mask);
	if (rc != 0)
		return rc;
	cmd->flags = VPIO_NVME_PSDT_PRP;
	cmd->dptr.prp.prp1 = prp1;
	cmd->dptr.prp.prp2 = n <= 1 ? 0 : n == 2 ? list[0] : list_iova;
	return (int64_t)len;
}

/* Drop the last `drop` bytes of the descriptors, n is updated. */
static void sgl_trim(struct vpio_nvme_sgl_desc *list, uint32_t *n, uint64_t drop)
{
	while (drop > 0 && *n > 0) {
		struct vpio_nvme_sgl_desc *d = &list[*n - 1u];

		if (d->length > drop) {
			d->length -= (uint32_t)drop;
			return;
		}
		drop -= d->length;
		(*n)--;
	}
}

/* Append a run, merging with the previous descriptor when contiguous.
 * Returns false when the list is full. */
static bool sgl_add(struct vpio_nvme_sgl_desc *list, uint32_t *n, uint64_t iova, uint64_t run)
{
	struct vpio_nvme_sgl_desc *d;

	if (*n > 0) {
		d = &list[*n - 1u];
		if (d->address + d->length == iova && (uint64_t)d->length + run <= UINT32_MAX) {
			d->length += (uint32_t)run;
			return true;
		}
	}
	if (*n == NVME_SGL_LIST_MAX)
		return false;
	d = &list[(*n)++];
	memset(d, 0, sizeof(*d));
	d->address = iova;
	d->length = (uint32_t)run;
	d->type = VPIO_NVME_SGL_TYPE_DATA_BLOCK << 4;
	return true;
}

int64_t nvme_build_sgl(const struct nvme_dptr_env *env, struct nvme_iov_cur *cur, uint64_t len, uint32_t gran,
		       struct vpio_nvme_sgl_desc *list, uint64_t list_iova, struct vpio_nvme_cmd *cmd)
{
	uint64_t got = 0, iova, run, keep;
	uint32_t n = 0;
	int rc;

	while (got < len) {
		struct nvme_iov_cur before = *cur;

		rc = next_run(env, cur, len - got, env->sgl_dword, &iova, &run);
		if (rc != 0)
			return rc;
		if (env->sgl_dword && ((iova | run) & 3u) != 0) {
			VPIO_ERR(NVME_MOD, "SGL element at IOVA 0x%llx, %llu bytes, is not dword aligned, as the controller "
				 "requires", (unsigned long long)iova, (unsigned long long)run);
			return -EINVAL;
		}
		if (!sgl_add(list, &n, iova, run)) {
			*cur = before; /* list full: this run goes to the next command */
			break;
		}
		got += run;
	}
	keep = got - got % (gran ? gran : 1u);
	if (keep == 0) {
		VPIO_ERR(NVME_MOD, "one %u-byte block spans more than %u buffer pieces (SGL descriptors)", gran,
			 NVME_SGL_LIST_MAX);
		return -E2BIG;
	}
	if (keep < got) {
		sgl_trim(list, &n, got - keep);
		nvme_iov_cur_rewind(cur, got - keep);
	}
	cmd->flags = VPIO_NVME_PSDT_SGL_MPTR_CONTIG;
	if (n == 1) {
		cmd->dptr.sgl1 = list[0];
	} else {
		memset(&cmd->dptr.sgl1, 0, sizeof(cmd->dptr.sgl1));
		cmd->dptr.sgl1.address = list_iova;
		cmd->dptr.sgl1.length = n * (uint32_t)sizeof(*list);
		cmd->dptr.sgl1.type = VPIO_NVME_SGL_TYPE_LAST_SEGMENT << 4;
	}
	return (int64_t)keep;
}

int64_t nvme_build_dptr(const struct nvme_dptr_env *env, struct nvme_iov_cur *cur, uint64_t len, uint32_t gran,
			void *list, uint64_t list_iova, struct vpio_nvme_cmd *cmd)
{
	struct nvme_iov_cur start = *cur;
	int64_t rc;

	if (env->sgl_mode == VPIO_NVME_SGL_ALWAYS && env->sgl_supported)
		return nvme_build_sgl(env, cur, len, gran, list, list_iova, cmd);
	rc = nvme_build_prp(env, cur, len, list, list_iova, cmd);
	if (rc != NVME_EPRPLAYOUT)
		return rc;
	*cur = start;
	if (env->sgl_supported && env->sgl_mode != VPIO_NVME_SGL_NEVER)
		return nvme_build_sgl(env, cur, len, gran, list, list_iova, cmd);
	VPIO_ERR(NVME_MOD, "buffer layout needs SGLs (an element after the first does not start on a %u-byte page, or one "
		 "before the last does not end on one) and %s", 1u << env->page_shift,
		 env->sgl_supported ? "the qpair uses PRPs only (sgl_mode NEVER)" : "the controller has no SGL support");
	return -EINVAL;
}
