# functional tests of lib/xdma against emulated XDMA cards (doc/xdma.md)
deps env emu xdma
test func_xdma
src test/func/xdma/main.c
src test/func/xdma/common.c
src test/func/xdma/data.c
src test/func/xdma/device.c
src test/func/xdma/stream.c
src test/func/xdma/threads.c
src test/func/xdma/bad_input.c
src test/func/xdma/faults.c

