# functional tests of lib/blk: emulated controllers and temporary files
# through io_uring by default, the given targets with -a ADDR (repeatable)
deps env emu nvme blk
test func_blk
src test/func/blk/main.c
src test/func/blk/common.c
src test/func/blk/data.c
src test/func/blk/cross.c
src test/func/blk/bad_input.c
