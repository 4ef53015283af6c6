# unit tests of lib/vfio
deps vfio pci
test unit_vfio
src test/unit/vfio/vfio_ut.c
