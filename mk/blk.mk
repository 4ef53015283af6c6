# lib/blk: block targets over NVMe (lib/nvme, real and emulated) and the
# kernel (io_uring) behind one API (include/vpio/blk.h, doc/blk.md)
lib blk
deps util env pci nvme
api blk.h
src lib/blk/blk_addr.c
src lib/blk/blk_target.c
src lib/blk/blk_channel.c
src lib/blk/blk_io.c
src lib/blk/blk_buf.c
src lib/blk/blk_nvme.c
src lib/blk/blk_nvme_io.c
src lib/blk/blk_uring.c
src lib/blk/blk_uring_ch.c
src lib/blk/blk_uring_io.c
