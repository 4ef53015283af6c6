# growable public structs of every library: old sizes, bad sizes, guards
# (doc/api.md)
deps util env nvme xdma blk emu
test unit_util_sized
src test/unit/util/sized_ut.c
