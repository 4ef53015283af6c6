# xdma_nosyscall: the XDMA transfer loop whose system calls
# test/func/xdma_nosyscall.sh counts (not run directly by test/run.sh)
deps env emu xdma
test xdma_nosyscall
src test/func/xdma/nosyscall_io.c
