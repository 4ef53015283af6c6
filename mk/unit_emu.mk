# unit tests of lib/emu: internals (names, options, storage, PRP/SGL
# walker) and the controller driven register by register
deps env pci emu
test unit_emu
src test/unit/emu/emu_internal_ut.c

test unit_emu_ctrlr
src test/unit/emu/emu_ctrlr_ut.c
src test/unit/emu/mini_nvme.c
