# libFuzzer: arbitrary completion-queue contents against the NVMe completion
# path (ninja -C build fuzz; test/func/fuzz_cpl.sh runs it briefly)
deps util nvme
fuzz fuzz_nvme_cpl
src test/fuzz/fuzz_nvme_cpl.c
src test/fuzz/nvme_cpl_harness.c
src lib/nvme/nvme_qpair_core.c
src lib/util/log.c
