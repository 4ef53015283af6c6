# vpio-perf: the benchmark (doc/perf.md): block targets through lib/blk and
# XDMA cards through lib/xdma,
# one I/O thread per core, latency histograms, --verify, --json
deps util env vfio pci xdma blk nvme
app vpio-perf
src app/perf/main.c
src app/perf/options.c
src app/perf/target.c
src app/perf/engine.c
src app/perf/hist.c
src app/perf/verify.c
src app/perf/stats.c
src app/perf/report.c
src app/perf/json.c
src app/perf/machine.c
src app/perf/xdma.c
src app/perf/nvme_batch.c
