# unit tests of lib/blk: addresses and options; the generic layer (checks,
# request contexts, flow control, callbacks) on a fake backend
deps blk
test unit_blk_addr
src test/unit/blk/addr_ut.c

test unit_blk_io
src test/unit/blk/io_ut.c
