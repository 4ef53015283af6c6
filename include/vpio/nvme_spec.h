/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NVMe definitions from the NVM Express Base Specification (2.0) and the
 * NVM Command Set Specification: controller registers, queue entries,
 * opcodes, status codes and the identify/log page layouts vpio uses.
 * Shared by the driver (lib/nvme) and the emulated controller (lib/emu).
 */
#ifndef VPIO_NVME_SPEC_H
#define VPIO_NVME_SPEC_H

#include <assert.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------- controller registers */

enum vpio_nvme_reg {
	VPIO_NVME_REG_CAP = 0x00,	/* 64-bit */
	VPIO_NVME_REG_VS = 0x08,
	VPIO_NVME_REG_INTMS = 0x0c,
	VPIO_NVME_REG_INTMC = 0x10,
	VPIO_NVME_REG_CC = 0x14,
	VPIO_NVME_REG_CSTS = 0x1c,
	VPIO_NVME_REG_NSSR = 0x20,
	VPIO_NVME_REG_AQA = 0x24,
	VPIO_NVME_REG_ASQ = 0x28,	/* 64-bit */
	VPIO_NVME_REG_ACQ = 0x30,	/* 64-bit */
	VPIO_NVME_REG_CMBLOC = 0x38,
	VPIO_NVME_REG_CMBSZ = 0x3c,
	VPIO_NVME_REG_DBS = 0x1000,	/* first doorbell */
};

/* CAP fields */
#define VPIO_NVME_CAP_MQES(cap) ((uint32_t)((cap) & 0xffff))		/* 0-based */
#define VPIO_NVME_CAP_CQR(cap) ((uint32_t)(((cap) >> 16) & 0x1))
#define VPIO_NVME_CAP_TO(cap) ((uint32_t)(((cap) >> 24) & 0xff))	/* 500 ms units */
#define VPIO_NVME_CAP_DSTRD(cap) ((uint32_t)(((cap) >> 32) & 0xf))
#define VPIO_NVME_CAP_NSSRS(cap) ((uint32_t)(((cap) >> 36) & 0x1))
#define VPIO_NVME_CAP_CSS(cap) ((uint32_t)(((cap) >> 37) & 0xff))
#define VPIO_NVME_CAP_MPSMIN(cap) ((uint32_t)(((cap) >> 48) & 0xf))	/* 2^(12+x) */
#define VPIO_NVME_CAP_MPSMAX(cap) ((uint32_t)(((cap) >> 52) & 0xf))
#define VPIO_NVME_CAP_CMBS(cap) ((uint32_t)(((cap) >> 57) & 0x1))
#define VPIO_NVME_CAP_CSS_NVM 0x01u

/* CC fields */
#define VPIO_NVME_CC_EN (1u << 0)
#define VPIO_NVME_CC_CSS_SHIFT 4
#define VPIO_NVME_CC_MPS_SHIFT 7
#define VPIO_NVME_CC_AMS_SHIFT 11
#define VPIO_NVME_CC_SHN_SHIFT 14
#define VPIO_NVME_CC_SHN_MASK (3u << 14)
#define VPIO_NVME_CC_SHN_NORMAL (1u << 14)
#define VPIO_NVME_CC_SHN_ABRUPT (2u << 14)
#define VPIO_NVME_CC_IOSQES_SHIFT 16
#define VPIO_NVME_CC_IOCQES_SHIFT 20

/* CSTS fields */
#define VPIO_NVME_CSTS_RDY (1u << 0)
#define VPIO_NVME_CSTS_CFS (1u << 1)
#define VPIO_NVME_CSTS_SHST_MASK (3u << 2)
#define VPIO_NVME_CSTS_SHST_NORMAL (0u << 2)
#define VPIO_NVME_CSTS_SHST_OCCURRING (1u << 2)
#define VPIO_NVME_CSTS_SHST_COMPLETE (2u << 2)
#define VPIO_NVME_CSTS_NSSRO (1u << 4)
#define VPIO_NVME_CSTS_PP (1u << 5)

/* AQA: 0-based sizes */
#define VPIO_NVME_AQA(asqs, acqs) ((((uint32_t)(acqs)-1) << 16) | ((uint32_t)(asqs)-1))

/* Doorbell offsets from BAR0 for queue qid with stride dstrd.
 * Thread: any (pure). */
static inline uint32_t vpio_nvme_sq_tdbl_off(uint16_t qid, uint32_t dstrd)
{
	return VPIO_NVME_REG_DBS + (2u * qid) * (4u << dstrd);
}
static inline uint32_t vpio_nvme_cq_hdbl_off(uint16_t qid, uint32_t dstrd)
{
	return VPIO_NVME_REG_DBS + (2u * qid + 1u) * (4u << dstrd);
}

/* ------------------------------------------------------- queue entries */

struct vpio_nvme_sgl_desc {
	uint64_t address;
	uint32_t length;
	uint8_t rsvd[3];
	uint8_t type; /* type << 4 | subtype */
};
static_assert(sizeof(struct vpio_nvme_sgl_desc) == 16, "SGL descriptor is 16 bytes");

enum vpio_nvme_sgl_type {
	VPIO_NVME_SGL_TYPE_DATA_BLOCK = 0x0,
	VPIO_NVME_SGL_TYPE_BIT_BUCKET = 0x1,
	VPIO_NVME_SGL_TYPE_SEGMENT = 0x2,
	VPIO_NVME_SGL_TYPE_LAST_SEGMENT = 0x3,
};

/* Submission queue entry (64 bytes). */
struct vpio_nvme_cmd {
	uint8_t opc;
	uint8_t flags;	/* FUSE [1:0], PSDT [7:6] */
	uint16_t cid;
	uint32_t nsid;
	uint32_t cdw2;
	uint32_t cdw3;
	uint64_t mptr;
	union {
		struct {
			uint64_t prp1;
			uint64_t prp2;
		} prp;
		struct vpio_nvme_sgl_desc sgl1;
	} dptr;
	uint32_t cdw10;
	uint32_t cdw11;
	uint32_t cdw12;
	uint32_t cdw13;
	uint32_t cdw14;
	uint32_t cdw15;
};
static_assert(sizeof(struct vpio_nvme_cmd) == 64, "SQE is 64 bytes");

#define VPIO_NVME_PSDT_PRP 0x00u
#define VPIO_NVME_PSDT_SGL_MPTR_CONTIG 0x40u
#define VPIO_NVME_PSDT_SGL_MPTR_SGL 0x80u
#define VPIO_NVME_PSDT_MASK 0xc0u

/* Status field (upper 16 bits of CQE dword 3), phase tag in bit 0: the
 * masks of its parts in place, and the parts as numbers. */
#define VPIO_NVME_STATUS_P_MASK 0x0001u	  /* phase tag */
#define VPIO_NVME_STATUS_SC_MASK 0x01feu  /* status code */
#define VPIO_NVME_STATUS_SCT_MASK 0x0e00u /* status code type */
#define VPIO_NVME_STATUS_CRD_MASK 0x3000u /* command retry delay */
#define VPIO_NVME_STATUS_M_MASK 0x4000u	  /* more */
#define VPIO_NVME_STATUS_DNR_MASK 0x8000u /* do not retry */
/* SC or SCT not zero: the command failed */
#define VPIO_NVME_STATUS_ERROR_MASK (VPIO_NVME_STATUS_SCT_MASK | VPIO_NVME_STATUS_SC_MASK)
/* the status without the phase tag (what a request keeps, what the error
 * log's Status field holds) */
#define VPIO_NVME_STATUS_NO_PHASE_MASK ((uint16_t)~VPIO_NVME_STATUS_P_MASK)
#define VPIO_NVME_STATUS_SC_SHIFT 1
#define VPIO_NVME_STATUS_SCT_SHIFT 9
#define VPIO_NVME_STATUS_CRD_SHIFT 12
#define VPIO_NVME_STATUS_P(s) ((s) & VPIO_NVME_STATUS_P_MASK)
#define VPIO_NVME_STATUS_SC(s) (((s) & VPIO_NVME_STATUS_SC_MASK) >> VPIO_NVME_STATUS_SC_SHIFT)
#define VPIO_NVME_STATUS_SCT(s) (((s) & VPIO_NVME_STATUS_SCT_MASK) >> VPIO_NVME_STATUS_SCT_SHIFT)
#define VPIO_NVME_STATUS_CRD(s) (((s) & VPIO_NVME_STATUS_CRD_MASK) >> VPIO_NVME_STATUS_CRD_SHIFT)
#define VPIO_NVME_STATUS_M(s) (((s) & VPIO_NVME_STATUS_M_MASK) != 0)
#define VPIO_NVME_STATUS_DNR(s) (((s) & VPIO_NVME_STATUS_DNR_MASK) != 0)
#define VPIO_NVME_STATUS(sct, sc)                                                                          \
	((uint16_t)((((unsigned)(sct) << VPIO_NVME_STATUS_SCT_SHIFT) & VPIO_NVME_STATUS_SCT_MASK) |         \
		    (((unsigned)(sc) << VPIO_NVME_STATUS_SC_SHIFT) & VPIO_NVME_STATUS_SC_MASK)))

/* Completion queue entry (16 bytes). */
struct vpio_nvme_cpl {
	uint32_t cdw0;
	uint32_t cdw1;
	uint16_t sqhd;
	uint16_t sqid;
	uint16_t cid;
	uint16_t status; /* phase tag in bit 0 */
};
static_assert(sizeof(struct vpio_nvme_cpl) == 16, "CQE is 16 bytes");

/* ------------------------------------------------------------ opcodes */

enum vpio_nvme_admin_opc {
	VPIO_NVME_OPC_DELETE_IO_SQ = 0x00,
	VPIO_NVME_OPC_CREATE_IO_SQ = 0x01,
	VPIO_NVME_OPC_GET_LOG_PAGE = 0x02,
	VPIO_NVME_OPC_DELETE_IO_CQ = 0x04,
	VPIO_NVME_OPC_CREATE_IO_CQ = 0x05,
	VPIO_NVME_OPC_IDENTIFY = 0x06,
	VPIO_NVME_OPC_ABORT = 0x08,
	VPIO_NVME_OPC_SET_FEATURES = 0x09,
	VPIO_NVME_OPC_GET_FEATURES = 0x0a,
	VPIO_NVME_OPC_ASYNC_EVENT_REQUEST = 0x0c,
	VPIO_NVME_OPC_NS_MANAGEMENT = 0x0d,
	VPIO_NVME_OPC_FIRMWARE_COMMIT = 0x10,
	VPIO_NVME_OPC_FIRMWARE_IMAGE_DOWNLOAD = 0x11,
	VPIO_NVME_OPC_NS_ATTACHMENT = 0x15,
	VPIO_NVME_OPC_DIRECTIVE_SEND = 0x19,
	VPIO_NVME_OPC_DIRECTIVE_RECEIVE = 0x1a,
	VPIO_NVME_OPC_DOORBELL_BUFFER_CONFIG = 0x7c,
	VPIO_NVME_OPC_FORMAT_NVM = 0x80,
	VPIO_NVME_OPC_SECURITY_SEND = 0x81,
	VPIO_NVME_OPC_SECURITY_RECEIVE = 0x82,
};
/* Data transfer direction: bits 1:0 of an opcode */
#define VPIO_NVME_OPC_DATA_DIR(opc) ((opc) & 0x3u)
#define VPIO_NVME_DATA_NONE 0x0u
#define VPIO_NVME_DATA_HOST_TO_CTRLR 0x1u
#define VPIO_NVME_DATA_CTRLR_TO_HOST 0x2u
#define VPIO_NVME_DATA_BIDIRECTIONAL 0x3u
/* Identify data structures are always this size (the controller writes all
 * of it, whatever the host meant to read) */
#define VPIO_NVME_IDENTIFY_DATA_SIZE 4096u

enum vpio_nvme_io_opc {
	VPIO_NVME_OPC_FLUSH = 0x00,
	VPIO_NVME_OPC_WRITE = 0x01,
	VPIO_NVME_OPC_READ = 0x02,
	VPIO_NVME_OPC_WRITE_UNCORRECTABLE = 0x04,
	VPIO_NVME_OPC_COMPARE = 0x05,
	VPIO_NVME_OPC_WRITE_ZEROES = 0x08,
	VPIO_NVME_OPC_DATASET_MANAGEMENT = 0x09,
};

/* Identify CNS values */
enum vpio_nvme_cns {
	VPIO_NVME_CNS_NS = 0x00,
	VPIO_NVME_CNS_CTRLR = 0x01,
	VPIO_NVME_CNS_ACTIVE_NS_LIST = 0x02,
};

/* Feature identifiers */
enum vpio_nvme_feat {
	VPIO_NVME_FEAT_ARBITRATION = 0x01,
	VPIO_NVME_FEAT_POWER_MANAGEMENT = 0x02,
	VPIO_NVME_FEAT_LBA_RANGE_TYPE = 0x03,	   /* 4096-byte data structure */
	VPIO_NVME_FEAT_TEMPERATURE_THRESHOLD = 0x04,
	VPIO_NVME_FEAT_ERROR_RECOVERY = 0x05,
	VPIO_NVME_FEAT_VOLATILE_WRITE_CACHE = 0x06,
	VPIO_NVME_FEAT_NUMBER_OF_QUEUES = 0x07,
	VPIO_NVME_FEAT_INTERRUPT_COALESCING = 0x08,
	VPIO_NVME_FEAT_IV_CONFIG = 0x09,
	VPIO_NVME_FEAT_WRITE_ATOMICITY = 0x0a,
	VPIO_NVME_FEAT_ASYNC_EVENT_CONFIG = 0x0b,
	VPIO_NVME_FEAT_AUTONOMOUS_POWER_STATE = 0x0c, /* 256 bytes */
	VPIO_NVME_FEAT_HOST_MEM_BUFFER = 0x0d,	   /* get: 4096 bytes; set: none */
	VPIO_NVME_FEAT_TIMESTAMP = 0x0e,	   /* 8 bytes */
	VPIO_NVME_FEAT_KEEP_ALIVE_TIMER = 0x0f,
	VPIO_NVME_FEAT_PLM_CONFIG = 0x13,	   /* 512 bytes */
	VPIO_NVME_FEAT_HOST_BEHAVIOR_SUPPORT = 0x16, /* 512 bytes */
	VPIO_NVME_FEAT_HOST_IDENTIFIER = 0x81,	   /* 8 bytes, 16 with EXHID */
};
/* LBA Range Type: CDW11 / completion dword 0 NUM (0-based entries), and
 * one 64-byte entry of the data structure */
struct vpio_nvme_lba_range_type {
	uint8_t type;
	uint8_t attributes;
	uint8_t rsvd2[14];
	uint64_t slba;
	uint64_t nlb; /* 0-based */
	uint8_t guid[16];
	uint8_t rsvd48[16];
};
static_assert(sizeof(struct vpio_nvme_lba_range_type) == 64, "LBA range type entry is 64 bytes");
#define VPIO_NVME_LBA_RANGE_TYPE_SIZE 4096u /* 64 entries */
/* Timestamp: milliseconds since 1970 in bytes 0..5; attributes in byte 6 */
#define VPIO_NVME_TIMESTAMP_SIZE 8u

/* Log page identifiers */
enum vpio_nvme_log {
	VPIO_NVME_LOG_ERROR = 0x01,
	VPIO_NVME_LOG_HEALTH = 0x02,
	VPIO_NVME_LOG_FIRMWARE_SLOT = 0x03,
};

/* Create I/O CQ/SQ: CDW10 = QSIZE (0-based) << 16 | QID; CDW11 below */
#define VPIO_NVME_CREATE_Q_CDW10(qid, qsize) ((((uint32_t)(qsize)-1) << 16) | (uint32_t)(qid))
#define VPIO_NVME_CREATE_Q_PC (1u << 0)		/* physically contiguous */
#define VPIO_NVME_CREATE_CQ_IEN (1u << 1)	/* interrupts enabled */
#define VPIO_NVME_CREATE_SQ_CQID(cqid) ((uint32_t)(cqid) << 16)
/* Abort: CDW10 = CID << 16 | SQID; bit 0 of the completion's CDW0 is set
 * when the command was not aborted */
#define VPIO_NVME_ABORT_CDW10(sqid, cid) (((uint32_t)(cid) << 16) | (uint32_t)(sqid))
#define VPIO_NVME_ABORT_NOT_ABORTED(cdw0) ((cdw0) & 0x1u)

/* CDW12 of read/write/compare/write zeroes */
#define VPIO_NVME_RW_FUA (1u << 30)
#define VPIO_NVME_RW_LR (1u << 31)
#define VPIO_NVME_WZ_DEAC (1u << 25)
/* CDW11 of dataset management */
#define VPIO_NVME_DSM_ATTR_DEALLOCATE (1u << 2)

struct vpio_nvme_dsm_range {
	uint32_t attributes;
	uint32_t length; /* in logical blocks (1-based) */
	uint64_t starting_lba;
};
static_assert(sizeof(struct vpio_nvme_dsm_range) == 16, "DSM range is 16 bytes");
#define VPIO_NVME_DSM_MAX_RANGES 256

/* ------------------------------------------------------- status codes */

enum vpio_nvme_sct {
	VPIO_NVME_SCT_GENERIC = 0x0,
	VPIO_NVME_SCT_COMMAND_SPECIFIC = 0x1,
	VPIO_NVME_SCT_MEDIA_ERROR = 0x2,
	VPIO_NVME_SCT_PATH = 0x3,
	VPIO_NVME_SCT_VENDOR = 0x7,
};

enum vpio_nvme_generic_sc {
	VPIO_NVME_SC_SUCCESS = 0x00,
	VPIO_NVME_SC_INVALID_OPCODE = 0x01,
	VPIO_NVME_SC_INVALID_FIELD = 0x02,
	VPIO_NVME_SC_COMMAND_ID_CONFLICT = 0x03,
	VPIO_NVME_SC_DATA_TRANSFER_ERROR = 0x04,
	VPIO_NVME_SC_ABORTED_POWER_LOSS = 0x05,
	VPIO_NVME_SC_INTERNAL_DEVICE_ERROR = 0x06,
	VPIO_NVME_SC_ABORTED_BY_REQUEST = 0x07,
	VPIO_NVME_SC_ABORTED_SQ_DELETION = 0x08,
	VPIO_NVME_SC_ABORTED_FAILED_FUSED = 0x09,
	VPIO_NVME_SC_ABORTED_MISSING_FUSED = 0x0a,
	VPIO_NVME_SC_INVALID_NAMESPACE_OR_FORMAT = 0x0b,
	VPIO_NVME_SC_COMMAND_SEQUENCE_ERROR = 0x0c,
	VPIO_NVME_SC_INVALID_SGL_SEG_DESCRIPTOR = 0x0d,
	VPIO_NVME_SC_INVALID_NUM_SGL_DESCIRPTORS = 0x0e,
	VPIO_NVME_SC_DATA_SGL_LENGTH_INVALID = 0x0f,
	VPIO_NVME_SC_METADATA_SGL_LENGTH_INVALID = 0x10,
	VPIO_NVME_SC_SGL_DESCRIPTOR_TYPE_INVALID = 0x11,
	VPIO_NVME_SC_INVALID_CONTROLLER_MEM_BUF = 0x12,
	VPIO_NVME_SC_INVALID_PRP_OFFSET = 0x13,
	VPIO_NVME_SC_ATOMIC_WRITE_UNIT_EXCEEDED = 0x14,
	VPIO_NVME_SC_OPERATION_DENIED = 0x15,
	VPIO_NVME_SC_INVALID_SGL_OFFSET = 0x16,
	VPIO_NVME_SC_COMMAND_INTERRUPTED = 0x21,
	VPIO_NVME_SC_TRANSIENT_TRANSPORT_ERROR = 0x22,
	VPIO_NVME_SC_LBA_OUT_OF_RANGE = 0x80,
	VPIO_NVME_SC_CAPACITY_EXCEEDED = 0x81,
	VPIO_NVME_SC_NAMESPACE_NOT_READY = 0x82,
	VPIO_NVME_SC_RESERVATION_CONFLICT = 0x83,
	VPIO_NVME_SC_FORMAT_IN_PROGRESS = 0x84,
};

enum vpio_nvme_command_specific_sc {
	VPIO_NVME_SC_COMPLETION_QUEUE_INVALID = 0x00,
	VPIO_NVME_SC_INVALID_QUEUE_IDENTIFIER = 0x01,
	VPIO_NVME_SC_INVALID_QUEUE_SIZE = 0x02,
	VPIO_NVME_SC_ABORT_COMMAND_LIMIT_EXCEEDED = 0x03,
	VPIO_NVME_SC_ASYNC_EVENT_REQUEST_LIMIT_EXCEEDED = 0x05,
	VPIO_NVME_SC_INVALID_FIRMWARE_SLOT = 0x06,
	VPIO_NVME_SC_INVALID_FIRMWARE_IMAGE = 0x07,
	VPIO_NVME_SC_INVALID_INTERRUPT_VECTOR = 0x08,
	VPIO_NVME_SC_INVALID_LOG_PAGE = 0x09,
	VPIO_NVME_SC_INVALID_FORMAT = 0x0a,
	VPIO_NVME_SC_INVALID_QUEUE_DELETION = 0x0c,
	VPIO_NVME_SC_FEATURE_ID_NOT_SAVEABLE = 0x0d,
	VPIO_NVME_SC_FEATURE_NOT_CHANGEABLE = 0x0e,
	VPIO_NVME_SC_FEATURE_NOT_NAMESPACE_SPECIFIC = 0x0f,
	VPIO_NVME_SC_CONFLICTING_ATTRIBUTES = 0x80,
	VPIO_NVME_SC_INVALID_PROTECTION_INFO = 0x81,
	VPIO_NVME_SC_ATTEMPTED_WRITE_TO_RO_RANGE = 0x82,
};

enum vpio_nvme_media_error_sc {
	VPIO_NVME_SC_WRITE_FAULTS = 0x80,
	VPIO_NVME_SC_UNRECOVERED_READ_ERROR = 0x81,
	VPIO_NVME_SC_GUARD_CHECK_ERROR = 0x82,
	VPIO_NVME_SC_APPLICATION_TAG_CHECK_ERROR = 0x83,
	VPIO_NVME_SC_REFERENCE_TAG_CHECK_ERROR = 0x84,
	VPIO_NVME_SC_COMPARE_FAILURE = 0x85,
	VPIO_NVME_SC_ACCESS_DENIED = 0x86,
	VPIO_NVME_SC_DEALLOCATED_OR_UNWRITTEN_BLOCK = 0x87,
};

enum vpio_nvme_path_sc {
	VPIO_NVME_SC_INTERNAL_PATH_ERROR = 0x00,
	VPIO_NVME_SC_CONTROLLER_PATH_ERROR = 0x60,
	VPIO_NVME_SC_HOST_PATH_ERROR = 0x70,
	VPIO_NVME_SC_ABORTED_BY_HOST = 0x71,
};

/* -------------------------------------------------- identify structures */

struct vpio_nvme_power_state {
	uint16_t mp; /* maximum power, centiwatts (or 0.0001 W with MXPS) */
	uint8_t rsvd2;
	uint8_t flags;
	uint32_t enlat;
	uint32_t exlat;
	uint8_t rrt, rrl, rwt, rwl;
	uint16_t idlp;
	uint8_t ips;
	uint8_t rsvd19;
	uint16_t actp;
	uint8_t apw_aps;
	uint8_t rsvd23[9];
};
static_assert(sizeof(struct vpio_nvme_power_state) == 32, "power state is 32 bytes");

/* Identify Controller data (CNS 01h), 4096 bytes. */
struct vpio_nvme_ctrlr_data {
	uint16_t vid;
	uint16_t ssvid;
	char sn[20];
	char mn[40];
	char fr[8];
	uint8_t rab;
	uint8_t ieee[3];
	uint8_t cmic;
	uint8_t mdts;		/* 2^mdts * MPSMIN; 0 = no limit */
	uint16_t cntlid;
	uint32_t ver;
	uint32_t rtd3r;
	uint32_t rtd3e;
	uint32_t oaes;
	uint32_t ctratt;
	uint16_t rrls;
	uint8_t rsvd102[9];
	uint8_t cntrltype;
	uint8_t fguid[16];
	uint16_t crdt[3];
	uint8_t rsvd134[122];
	uint16_t oacs;		/* 256 */
	uint8_t acl;
	uint8_t aerl;
	uint8_t frmw;
	uint8_t lpa;
	uint8_t elpe;		/* 0-based */
	uint8_t npss;
	uint8_t avscc;
	uint8_t apsta;
	uint16_t wctemp;
	uint16_t cctemp;
	uint16_t mtfa;
	uint32_t hmpre;
	uint32_t hmmin;
	uint8_t tnvmcap[16];
	uint8_t unvmcap[16];
	uint32_t rpmbs;
	uint16_t edstt;
	uint8_t dsto;
	uint8_t fwug;
	uint16_t kas;
	uint16_t hctma;
	uint16_t mntmt;
	uint16_t mxtmt;
	uint32_t sanicap;
	uint32_t hmminds;
	uint16_t hmmaxd;
	uint16_t nsetidmax;
	uint16_t endgidmax;
	uint8_t anatt;
	uint8_t anacap;
	uint32_t anagrpmax;
	uint32_t nanagrpid;
	uint32_t pels;
	uint8_t rsvd356[156];
	uint8_t sqes;		/* 512 */
	uint8_t cqes;
	uint16_t maxcmd;
	uint32_t nn;
	uint16_t oncs;
	uint16_t fuses;
	uint8_t fna;
	uint8_t vwc;
	uint16_t awun;
	uint16_t awupf;
	uint8_t icsvscc;
	uint8_t nwpc;
	uint16_t acwu;
	uint16_t rsvd534;
	uint32_t sgls;		/* 536 */
	uint32_t mnan;
	uint8_t rsvd544[224];
	char subnqn[256];	/* 768 */
	uint8_t rsvd1024[768];
	uint8_t nvmf[256];
	struct vpio_nvme_power_state psd[32]; /* 2048 */
	uint8_t vs[1024];
};
static_assert(sizeof(struct vpio_nvme_ctrlr_data) == 4096, "identify controller is 4096 bytes");
static_assert(__builtin_offsetof(struct vpio_nvme_ctrlr_data, oacs) == 256, "oacs at 256");
static_assert(__builtin_offsetof(struct vpio_nvme_ctrlr_data, sqes) == 512, "sqes at 512");
static_assert(__builtin_offsetof(struct vpio_nvme_ctrlr_data, sgls) == 536, "sgls at 536");
static_assert(__builtin_offsetof(struct vpio_nvme_ctrlr_data, subnqn) == 768, "subnqn at 768");
static_assert(__builtin_offsetof(struct vpio_nvme_ctrlr_data, psd) == 2048, "psd at 2048");

/* OACS bits */
#define VPIO_NVME_OACS_SECURITY (1u << 0)
#define VPIO_NVME_OACS_FORMAT (1u << 1)
#define VPIO_NVME_OACS_FIRMWARE (1u << 2)
#define VPIO_NVME_OACS_NS_MANAGE (1u << 3)
#define VPIO_NVME_OACS_DOORBELL_BUFFER_CONFIG (1u << 8)
/* ONCS bits */
#define VPIO_NVME_ONCS_COMPARE (1u << 0)
#define VPIO_NVME_ONCS_WRITE_UNCORRECTABLE (1u << 1)
#define VPIO_NVME_ONCS_DSM (1u << 2)
#define VPIO_NVME_ONCS_WRITE_ZEROES (1u << 3)
#define VPIO_NVME_ONCS_TIMESTAMP (1u << 6)
/* SGLS: bits 1:0 */
#define VPIO_NVME_SGLS_SUPPORTED(sgls) (((sgls) & 0x3u) != 0)
#define VPIO_NVME_SGLS_DWORD_ALIGNED(sgls) (((sgls) & 0x3u) == 0x2u)
/* VWC bit 0: volatile write cache present */
#define VPIO_NVME_VWC_PRESENT 0x1u

struct vpio_nvme_lbaf {
	uint16_t ms;	/* metadata bytes per block */
	uint8_t lbads;	/* log2 of the block size */
	uint8_t rp;	/* relative performance [1:0] */
};
static_assert(sizeof(struct vpio_nvme_lbaf) == 4, "LBA format is 4 bytes");

/* Identify Namespace data (CNS 00h), 4096 bytes. */
struct vpio_nvme_ns_data {
	uint64_t nsze;
	uint64_t ncap;
	uint64_t nuse;
	uint8_t nsfeat;
	uint8_t nlbaf;		/* 0-based */
	uint8_t flbas;		/* [3:0] format index, [4] extended metadata */
	uint8_t mc;
	uint8_t dpc;
	uint8_t dps;
	uint8_t nmic;
	uint8_t rescap;
	uint8_t fpi;
	uint8_t dlfeat;
	uint16_t nawun;
	uint16_t nawupf;
	uint16_t nacwu;
	uint16_t nabsn;
	uint16_t nabo;
	uint16_t nabspf;
	uint16_t noiob;
	uint8_t nvmcap[16];
	uint16_t npwg;
	uint16_t npwa;
	uint16_t npdg;
	uint16_t npda;
	uint16_t nows;
	uint8_t rsvd74[18];
	uint32_t anagrpid;
	uint8_t rsvd96[3];
	uint8_t nsattr;
	uint16_t nvmsetid;
	uint16_t endgid;
	uint8_t nguid[16];
	uint8_t eui64[8];
	struct vpio_nvme_lbaf lbaf[64]; /* 128 */
	uint8_t vs[3712];
};
static_assert(sizeof(struct vpio_nvme_ns_data) == 4096, "identify namespace is 4096 bytes");
static_assert(__builtin_offsetof(struct vpio_nvme_ns_data, lbaf) == 128, "lbaf at 128");

#define VPIO_NVME_FLBAS_INDEX(flbas) ((flbas) & 0xfu)

/* ------------------------------------------------------------ log pages */

struct vpio_nvme_error_log_entry {
	uint64_t error_count;
	uint16_t sqid;
	uint16_t cid;
	uint16_t status;
	uint16_t error_location;
	uint64_t lba;
	uint32_t nsid;
	uint8_t vs_info;
	uint8_t trtype;
	uint8_t rsvd30[2];
	uint64_t cmd_specific;
	uint16_t trtype_specific;
	uint8_t rsvd42[22];
};
static_assert(sizeof(struct vpio_nvme_error_log_entry) == 64, "error log entry is 64 bytes");

struct __attribute__((packed)) vpio_nvme_health_log {
	uint8_t critical_warning;
	uint16_t composite_temperature; /* kelvin */
	uint8_t available_spare;
	uint8_t available_spare_threshold;
	uint8_t percentage_used;
	uint8_t endurance_group_warning;
	uint8_t rsvd7[25];
	uint64_t data_units_read[2];	/* 1000 * 512 bytes */
	uint64_t data_units_written[2];
	uint64_t host_read_commands[2];
	uint64_t host_write_commands[2];
	uint64_t controller_busy_time[2];
	uint64_t power_cycles[2];
	uint64_t power_on_hours[2];
	uint64_t unsafe_shutdowns[2];
	uint64_t media_errors[2];
	uint64_t num_error_info_log_entries[2];
	uint32_t warning_temp_time;
	uint32_t critical_temp_time;
	uint16_t temp_sensor[8];
	uint8_t rsvd216[296];
};
static_assert(sizeof(struct vpio_nvme_health_log) == 512, "health log is 512 bytes");

/* Shadow doorbell (Doorbell Buffer Config): the MMIO doorbell is needed
 * only when the controller's event index lies in (old, new].  Thread: any
 * (pure). */
static inline int vpio_nvme_dbbuf_need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old_idx);
}

#ifdef __cplusplus
}
#endif
#endif
