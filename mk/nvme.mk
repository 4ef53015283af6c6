# lib/nvme: the polled NVMe driver (include/vpio/nvme.h, doc/nvme.md)
lib nvme
deps util env pci
api nvme.h
src lib/nvme/nvme_dptr.c
src lib/nvme/nvme_ring.c
src lib/nvme/nvme_req.c
src lib/nvme/nvme_cpl.c
src lib/nvme/nvme_submit.c
src lib/nvme/nvme_io.c
src lib/nvme/nvme_batch.c
src lib/nvme/nvme_io_misc.c
src lib/nvme/nvme_qpair.c
src lib/nvme/nvme_qmem.c
src lib/nvme/nvme_qpair_state.c
src lib/nvme/nvme_poll.c
src lib/nvme/nvme_health.c
src lib/nvme/nvme_admin.c
src lib/nvme/nvme_admin_cmds.c
src lib/nvme/nvme_admin_xfer.c
src lib/nvme/nvme_regs.c
src lib/nvme/nvme_ctrlr.c
src lib/nvme/nvme_init.c
src lib/nvme/nvme_reset.c
src lib/nvme/nvme_recover.c
src lib/nvme/nvme_ns.c
src lib/nvme/nvme_probe.c
src lib/nvme/nvme_status.c
