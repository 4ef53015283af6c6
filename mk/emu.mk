# lib/emu: emulated devices behind the PCI device handle ("emu:nvme0")
lib emu
src lib/emu/emu.c
src lib/emu/nvme_opts.c
src lib/emu/nvme_registry.c
src lib/emu/nvme_ctrlr.c
src lib/emu/nvme_pci.c
src lib/emu/nvme_queue.c
src lib/emu/nvme_admin.c
src lib/emu/nvme_identify.c
src lib/emu/nvme_feature.c
src lib/emu/nvme_logpage.c
src lib/emu/nvme_io.c
src lib/emu/nvme_dma.c
src lib/emu/nvme_store.c
src lib/emu/nvme_fault.c
src lib/emu/nvme_watch.c
