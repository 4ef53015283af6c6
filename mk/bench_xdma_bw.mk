# XDMA bandwidth (4 KiB, 64 KiB, 1 MiB; H2C, C2H, loopback) next to memcpy
# bandwidth measured in the same run (doc/performance.md)
deps env xdma
bench xdma_bw
src test/bench/xdma_bw.c
