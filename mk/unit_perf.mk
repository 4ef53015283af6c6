# unit tests of vpio-perf's pure parts: latency histogram, signatures,
# random offsets, the command line
deps util xdma blk
test unit_perf
src test/unit/perf/perf_ut.c
src app/perf/hist.c
src app/perf/verify.c
src app/perf/options.c
