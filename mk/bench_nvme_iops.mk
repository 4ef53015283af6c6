# nvme_iops: measurements for doc/nvme.md and doc/performance.md (driver
# cycles per I/O in loopback, IOPS against the null-mode emulator; never
# fails on speed); test/bench/run.sh runs it
deps env nvme
bench nvme_iops
src test/bench/nvme_iops.c
