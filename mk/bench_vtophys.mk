# benchmark of the memory map
bench vtophys_bench
src test/bench/vtophys_bench.c
