# lib/emu: emulated devices behind the PCI device handle (doc/emu.md):
# the NVMe controller ("emu:nvme0", emu_nvme_*.c) and the XDMA card
# ("emu:xdma0", emu_xdma_*.c)
lib emu
deps util env pci
api emu.h
src lib/emu/emu.c
src lib/emu/emu_nvme_opts.c
src lib/emu/emu_nvme_registry.c
src lib/emu/emu_nvme_ctrlr.c
src lib/emu/emu_nvme_regs.c
src lib/emu/emu_nvme_thread.c
src lib/emu/emu_nvme_pci.c
src lib/emu/emu_nvme_queue.c
src lib/emu/emu_nvme_admin.c
src lib/emu/emu_nvme_identify.c
src lib/emu/emu_nvme_feature.c
src lib/emu/emu_nvme_logpage.c
src lib/emu/emu_nvme_io.c
src lib/emu/emu_nvme_dma.c
src lib/emu/emu_nvme_store.c
src lib/emu/emu_nvme_fault.c
src lib/emu/emu_nvme_watch.c
src lib/emu/emu_xdma_opts.c
src lib/emu/emu_xdma_regs.c
src lib/emu/emu_xdma_engine.c
src lib/emu/emu_xdma_move.c
src lib/emu/emu_xdma_stream.c
src lib/emu/emu_xdma_dev.c
src lib/emu/emu_xdma_pci.c
src lib/emu/emu_xdma_fault.c
