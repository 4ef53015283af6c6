# lib/nvme: the polled NVMe driver (include/vpio/nvme.h, doc/nvme.md)
lib nvme
deps util env pci
api nvme.h
src lib/nvme/nvme_ctrlr.c
src lib/nvme/nvme_ctrlr_init.c
src lib/nvme/nvme_reset.c
src lib/nvme/nvme_admin.c
src lib/nvme/nvme_admin_cmds.c
src lib/nvme/nvme_ns.c
src lib/nvme/nvme_ns_cmd.c
src lib/nvme/nvme_qpair.c
src lib/nvme/nvme_qpair_core.c
src lib/nvme/nvme_dptr.c
src lib/nvme/nvme_status.c
