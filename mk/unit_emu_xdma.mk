# unit tests of the emulated XDMA device, register by register (no lib/xdma)
deps env pci emu
test unit_emu_xdma
src test/unit/emu/emu_xdma_ut.c
