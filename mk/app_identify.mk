# vpio-identify: list NVMe controllers, or show one (-a ADDR): id-ctrl,
# id-ns and SMART/health summaries
deps util env pci nvme
app vpio-identify
src app/identify/main.c
src app/identify/print_ctrlr.c
src app/identify/print_ns.c
src app/identify/print_health.c
src app/identify/util.c
