# unit tests of lib/xdma: descriptors and chain links, discovery on fake
# BAR images, Status decoding, submission rules (no device)
deps xdma
test unit_xdma
src test/unit/xdma/main.c
src test/unit/xdma/desc_ut.c
src test/unit/xdma/discover_ut.c
src test/unit/xdma/status_ut.c
src test/unit/xdma/submit_ut.c
