# lib/env: DPDK EAL, DMA memory, memory maps, the registry, IOVA allocation
lib env
deps util
api env.h
src lib/env/addr_map.c
src lib/env/mem_map.c
src lib/env/iova_alloc.c
src lib/env/mem_reg.c
src lib/env/pagemap.c
src lib/env/env.c
src lib/env/mem_hooks.c
src lib/env/dma.c
src lib/env/mempool.c
src lib/env/thread.c
dpdk
