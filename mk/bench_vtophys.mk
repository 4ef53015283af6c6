# benchmark of the memory map
deps env
bench vtophys_bench
src test/bench/vtophys_bench.c
