# unit tests of lib/vfio
test unit_vfio
src test/unit/vfio/vfio_ut.c
