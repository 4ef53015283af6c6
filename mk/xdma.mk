# lib/xdma: the polled XDMA driver (include/vpio/xdma.h, doc/xdma.md)
lib xdma
deps util env pci
api xdma.h
src lib/xdma/xdma_discover.c
src lib/xdma/xdma_desc.c
src lib/xdma/xdma_status.c
src lib/xdma/xdma_dev.c
src lib/xdma/xdma_chan.c
src lib/xdma/xdma_submit.c
src lib/xdma/xdma_poll.c
src lib/xdma/xdma_sync.c
