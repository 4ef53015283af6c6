# lib/emu: the emulated XDMA device ("emu:xdma0", doc/emu.md)
lib emu_xdma
src lib/emu/xdma_opts.c
src lib/emu/xdma_regs.c
src lib/emu/xdma_engine.c
src lib/emu/xdma_move.c
src lib/emu/xdma_stream.c
src lib/emu/xdma_dev.c
src lib/emu/xdma_pci.c
src lib/emu/xdma_fault.c
