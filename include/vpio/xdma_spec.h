/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Definitions of the AMD/Xilinx DMA/Bridge Subsystem for PCI Express
 * ("XDMA", product guide PG195): the DMA configuration BAR's register map,
 * the 32-byte descriptor and the writebacks.  Registers are 32 bits wide,
 * little-endian, accessed as aligned dwords only.  Shared by the driver
 * (lib/xdma) and the emulated device (lib/emu).  doc/xdma.md explains what
 * each piece is for and which parts are not confirmed on hardware.
 */
#ifndef VPIO_XDMA_SPEC_H
#define VPIO_XDMA_SPEC_H

#include <assert.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VPIO_XDMA_VENDOR_ID 0x10eeu
#define VPIO_XDMA_MAX_CHANNELS 4u /* per direction */

/* ------------------------------------------------------- config BAR map */

/* An offset decodes as target[15:12] | channel[11:8] | register[7:0]. */
#define VPIO_XDMA_TARGET_SHIFT 12
#define VPIO_XDMA_CHANNEL_SHIFT 8
enum vpio_xdma_target {
	VPIO_XDMA_TGT_H2C = 0,	      /* H2C channel (engine) registers */
	VPIO_XDMA_TGT_C2H = 1,	      /* C2H channel registers */
	VPIO_XDMA_TGT_IRQ = 2,	      /* interrupt block */
	VPIO_XDMA_TGT_CONFIG = 3,     /* config block */
	VPIO_XDMA_TGT_H2C_SGDMA = 4,  /* H2C descriptor fetch registers */
	VPIO_XDMA_TGT_C2H_SGDMA = 5,  /* C2H descriptor fetch registers */
	VPIO_XDMA_TGT_SGDMA_COMMON = 6,
	VPIO_XDMA_TGT_MSIX = 8,	      /* MSI-X table and PBA, no identifier */
};
#define VPIO_XDMA_BLOCK(target, ch) (((uint32_t)(target) << VPIO_XDMA_TARGET_SHIFT) | ((uint32_t)(ch) << VPIO_XDMA_CHANNEL_SHIFT))
/* A channel's SGDMA block lies 0x4000 above its channel block. */
#define VPIO_XDMA_SGDMA_OFFSET 0x4000u
#define VPIO_XDMA_CONFIG_BAR_MIN 0x8000u /* a config BAR is at least this big */
#define VPIO_XDMA_CONFIG_BAR_SIZE 0x10000u

/* Identifier register (offset 0 of every block but MSI-X). */
#define VPIO_XDMA_ID_SUBSYSTEM 0x1fc00000u /* bits 31:20 */
#define VPIO_XDMA_ID_BLOCK_MASK 0xffff0000u /* subsystem + target */
#define VPIO_XDMA_ID_BLOCK(target) (VPIO_XDMA_ID_SUBSYSTEM | ((uint32_t)(target) << 16))
#define VPIO_XDMA_ID_STREAM (1u << 15)	  /* channel/SGDMA blocks: AXI4-Stream engine */
#define VPIO_XDMA_ID_CHANNEL(id) (((id) >> 8) & 0xfu)
#define VPIO_XDMA_ID_VERSION(id) ((id) & 0xffu) /* 1 = 2015.3 ... 6 = 2017.1 and later */

/* Channel (engine) block registers, H2C and C2H alike. */
enum vpio_xdma_chan_reg {
	VPIO_XDMA_CH_ID = 0x00,
	VPIO_XDMA_CH_CONTROL = 0x04,
	VPIO_XDMA_CH_CONTROL_W1S = 0x08,
	VPIO_XDMA_CH_CONTROL_W1C = 0x0c,
	VPIO_XDMA_CH_STATUS = 0x40,	 /* RW1C (bit 0 read-only) */
	VPIO_XDMA_CH_STATUS_RC = 0x44,	 /* clear-on-read for bits 23:1 */
	VPIO_XDMA_CH_COMPLETED = 0x48,	 /* descriptors completed since Run rose */
	VPIO_XDMA_CH_ALIGNMENTS = 0x4c,
	VPIO_XDMA_CH_WB_LO = 0x88,	 /* poll-mode writeback address */
	VPIO_XDMA_CH_WB_HI = 0x8c,
	VPIO_XDMA_CH_IRQ_MASK = 0x90,
	VPIO_XDMA_CH_IRQ_MASK_W1S = 0x94,
	VPIO_XDMA_CH_IRQ_MASK_W1C = 0x98,
	VPIO_XDMA_CH_PERF_CTRL = 0xc0,
	VPIO_XDMA_CH_PERF_CYC_LO = 0xc4,
	VPIO_XDMA_CH_PERF_CYC_HI = 0xc8,
	VPIO_XDMA_CH_PERF_DATA_LO = 0xcc,
	VPIO_XDMA_CH_PERF_DATA_HI = 0xd0,
};

/* Control register bits. */
#define VPIO_XDMA_CTRL_RUN (1u << 0)
#define VPIO_XDMA_CTRL_IE_DESC_STOPPED (1u << 1)
#define VPIO_XDMA_CTRL_IE_DESC_COMPLETED (1u << 2)
#define VPIO_XDMA_CTRL_IE_ALIGN_MISMATCH (1u << 3)
#define VPIO_XDMA_CTRL_IE_MAGIC_STOPPED (1u << 4)
#define VPIO_XDMA_CTRL_IE_INVALID_LENGTH (1u << 5)
#define VPIO_XDMA_CTRL_IE_IDLE_STOPPED (1u << 6)
#define VPIO_XDMA_CTRL_IE_READ_ERROR (0x1fu << 9)
#define VPIO_XDMA_CTRL_IE_WRITE_ERROR (0x1fu << 14)
#define VPIO_XDMA_CTRL_IE_DESC_ERROR (0x1fu << 19)
#define VPIO_XDMA_CTRL_NON_INC (1u << 25)
#define VPIO_XDMA_CTRL_POLLMODE_WB (1u << 26)
#define VPIO_XDMA_CTRL_NO_ST_WB (1u << 27) /* C2H stream: no result writeback */
#define VPIO_XDMA_CTRL_MASK 0x0efffe7fu	   /* bits with a meaning */

/* Status register bits. */
#define VPIO_XDMA_ST_BUSY (1u << 0)
#define VPIO_XDMA_ST_DESC_STOPPED (1u << 1)
#define VPIO_XDMA_ST_DESC_COMPLETED (1u << 2)
#define VPIO_XDMA_ST_ALIGN_MISMATCH (1u << 3)
#define VPIO_XDMA_ST_MAGIC_STOPPED (1u << 4)
#define VPIO_XDMA_ST_INVALID_LENGTH (1u << 5)
#define VPIO_XDMA_ST_IDLE_STOPPED (1u << 6)
#define VPIO_XDMA_ST_READ_ERROR_SHIFT 9	  /* H2C: 5 bits (host side); C2H: 2 bits (AXI side) */
#define VPIO_XDMA_ST_WRITE_ERROR_SHIFT 14 /* H2C only: 2 bits (AXI side) */
#define VPIO_XDMA_ST_DESC_ERROR_SHIFT 19  /* 5 bits */
#define VPIO_XDMA_ST_READ_ERROR (0x1fu << 9)
#define VPIO_XDMA_ST_WRITE_ERROR (0x3u << 14)
#define VPIO_XDMA_ST_DESC_ERROR (0x1fu << 19)
#define VPIO_XDMA_ST_CLEARABLE 0x00fffffeu /* bits 23:1 */
/* The error bits of each direction. */
#define VPIO_XDMA_ST_H2C_ERRORS 0x00f8fe38u /* 3, 4, 5, 9-15 (13:9 read, 15:14 write), 19-23 */
#define VPIO_XDMA_ST_C2H_ERRORS 0x00f80638u /* 3, 4, 5, 9-10, 19-23 */
/* PCIe-side error kinds of the 5-bit groups (read error of H2C, descriptor
 * error of both), bit 0 of the group first. */
#define VPIO_XDMA_PCIE_UR 0u	     /* unsupported request */
#define VPIO_XDMA_PCIE_CA 1u	     /* completer abort */
#define VPIO_XDMA_PCIE_PARITY 2u
#define VPIO_XDMA_PCIE_EP 3u	     /* poisoned (header EP) */
#define VPIO_XDMA_PCIE_UC 4u	     /* unexpected completion */
/* AXI-side kinds of the 2-bit groups (write error of H2C, read error of C2H). */
#define VPIO_XDMA_AXI_DECERR 0u
#define VPIO_XDMA_AXI_SLVERR 1u

/* Alignments register. */
#define VPIO_XDMA_ALIGN_ADDR(v) (((v) >> 16) & 0xffu) /* address alignment, bytes */
#define VPIO_XDMA_ALIGN_GRAN(v) (((v) >> 8) & 0xffu)  /* length granularity, bytes */
#define VPIO_XDMA_ALIGN_BITS(v) ((v)&0xffu)	      /* address bits */

/* SGDMA block registers (channel block + 0x4000). */
enum vpio_xdma_sgdma_reg {
	VPIO_XDMA_SG_ID = 0x00,
	VPIO_XDMA_SG_DESC_LO = 0x80, /* first descriptor, fetched when Run rises */
	VPIO_XDMA_SG_DESC_HI = 0x84,
	VPIO_XDMA_SG_DESC_ADJ = 0x88, /* adjacent descriptors after the first (0..63) */
	VPIO_XDMA_SG_CREDITS = 0x8c,
};

/* SGDMA common block (target 6). */
enum vpio_xdma_common_reg {
	VPIO_XDMA_COMMON_ID = 0x00,
	VPIO_XDMA_COMMON_HALT = 0x10, /* h2c halt [3:0], c2h halt [19:16]; +4 W1S, +8 W1C */
	VPIO_XDMA_COMMON_HALT_W1S = 0x14,
	VPIO_XDMA_COMMON_HALT_W1C = 0x18,
	VPIO_XDMA_COMMON_CREDIT = 0x20, /* credit mode: h2c [3:0], c2h [19:16] */
	VPIO_XDMA_COMMON_CREDIT_W1S = 0x24,
	VPIO_XDMA_COMMON_CREDIT_W1C = 0x28,
};
#define VPIO_XDMA_COMMON_BIT(c2h, ch) (1u << ((c2h) ? 16u + (ch) : (ch)))

/* IRQ block (target 2). */
enum vpio_xdma_irq_reg {
	VPIO_XDMA_IRQ_ID = 0x00,
	VPIO_XDMA_IRQ_USER_EN = 0x04, /* +4 W1S, +8 W1C */
	VPIO_XDMA_IRQ_USER_EN_W1S = 0x08,
	VPIO_XDMA_IRQ_USER_EN_W1C = 0x0c,
	VPIO_XDMA_IRQ_CHAN_EN = 0x10,
	VPIO_XDMA_IRQ_CHAN_EN_W1S = 0x14,
	VPIO_XDMA_IRQ_CHAN_EN_W1C = 0x18,
	VPIO_XDMA_IRQ_USER_REQ = 0x40,
	VPIO_XDMA_IRQ_CHAN_REQ = 0x44,
	VPIO_XDMA_IRQ_USER_PEND = 0x48,
	VPIO_XDMA_IRQ_CHAN_PEND = 0x4c,
};

/* Config block (target 3). */
enum vpio_xdma_config_reg {
	VPIO_XDMA_CFG_ID = 0x00,
	VPIO_XDMA_CFG_BUSDEV = 0x04,
	VPIO_XDMA_CFG_MPS = 0x08,  /* 0 = 128 ... 5 = 4096 bytes */
	VPIO_XDMA_CFG_MRRS = 0x0c,
	VPIO_XDMA_CFG_SYSID = 0x10,
	VPIO_XDMA_CFG_MSI_EN = 0x14,
	VPIO_XDMA_CFG_DATA_WIDTH = 0x18,
	VPIO_XDMA_CFG_PCIE_CTRL = 0x1c,
	VPIO_XDMA_CFG_AXI_MPS = 0x40,
	VPIO_XDMA_CFG_AXI_MRRS = 0x44,
	VPIO_XDMA_CFG_WR_FLUSH_TIMEOUT = 0x60,
};

/* ------------------------------------------------------------ descriptor */

#define VPIO_XDMA_DESC_MAGIC 0xad4bu
#define VPIO_XDMA_DESC_STOP (1u << 0)
#define VPIO_XDMA_DESC_COMPLETED (1u << 1)
#define VPIO_XDMA_DESC_EOP (1u << 4)
#define VPIO_XDMA_DESC_ADJ_MAX 63u
#define VPIO_XDMA_DESC_LEN_MASK 0x0fffffffu /* bits 27:0 */
/* The largest length vpio puts in a descriptor: below every documented
 * limit (2^28 - 1, 256 MB, 2^28 - 4096) and a multiple of 4 KiB. */
#define VPIO_XDMA_DESC_LEN_MAX 0x0ffff000u
#define VPIO_XDMA_DESC_ALIGN 32u
/* Adjacent blocks never cross this boundary. */
#define VPIO_XDMA_DESC_BLOCK_BOUNDARY 4096u

struct vpio_xdma_desc {
	uint32_t control; /* magic [31:16], nxt_adj [13:8], control [7:0] */
	uint32_t len;	  /* bytes, bits 27:0 */
	uint32_t src_lo, src_hi;
	uint32_t dst_lo, dst_hi;
	uint32_t nxt_lo, nxt_hi; /* the next block */
};
static_assert(sizeof(struct vpio_xdma_desc) == 32, "an XDMA descriptor is 32 bytes");

/* The control word of a descriptor: magic, adjacent count, flags.
 * Thread: any (pure). */
static inline uint32_t vpio_xdma_desc_control(uint32_t adj, uint32_t flags)
{
	return (VPIO_XDMA_DESC_MAGIC << 16) | ((adj & 0x3fu) << 8) | (flags & 0xffu);
}
#define VPIO_XDMA_DESC_GET_MAGIC(c) ((c) >> 16)
#define VPIO_XDMA_DESC_GET_ADJ(c) (((c) >> 8) & 0x3fu)

/* ------------------------------------------------------------ writebacks */

/* Poll-mode completion word. */
#define VPIO_XDMA_WB_ERR (1u << 31)	  /* an error bit of Status is set */
#define VPIO_XDMA_WB_RESERVED 0x7f000000u /* always 0 */
#define VPIO_XDMA_WB_COUNT_MASK 0x00ffffffu /* completed descriptors since Run rose */

/* C2H stream result, written to each descriptor's source address. */
struct vpio_xdma_c2h_result {
	uint32_t status; /* magic [31:16], EOP [0] */
	uint32_t len;	 /* bytes received into that descriptor */
};
#define VPIO_XDMA_RESULT_MAGIC 0x52b4u
#define VPIO_XDMA_RESULT_EOP (1u << 0)

#ifdef __cplusplus
}
#endif
#endif
