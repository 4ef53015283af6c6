# unit tests of lib/nvme: pure pieces on qpairs in plain memory, no device
# data pointers: PRP/PRP lists/SGLs, vectors, translation failures
deps nvme
test unit_nvme_dptr
src test/unit/nvme/dptr_ut.c

# completion path: phase, CQE validation, split completion, cancel, EventIdx
test unit_nvme_cpl
src test/unit/nvme/cpl_ut.c

# I/O commands: splitting, all-or-nothing, bad input, failed/detached, threads
test unit_nvme_io
src test/unit/nvme/io_ut.c

# admin commands: bytes moved by the specification, short buffers refused
test unit_nvme_admin_xfer
src test/unit/nvme/admin_xfer_ut.c

# status codes: names, format, errno
test unit_nvme_status
src test/unit/nvme/status_ut.c

# the completion-path fuzz harness on fixed pseudo-random inputs
test unit_nvme_cpl_random
src test/unit/nvme/cpl_random_ut.c
src test/fuzz/nvme_cpl_harness.c

# probe: which controllers are offered (fake sysfs)
test unit_nvme_probe
src test/unit/nvme/probe_ut.c

# the coalesced CQ head doorbell: never stalls, never fills, rung rarely
test unit_nvme_cq_ack
src test/unit/nvme/cq_ack_ut.c

# queue memory: rings and lists in controller pages, contiguity, refusals
test unit_nvme_qmem
src test/unit/nvme/qmem_ut.c

# batch calls at their edges: a split request's finished part, host-ended
# commands between polls, a failed controller, a batch from a callback
test unit_nvme_batch
src test/unit/nvme/batch_ut.c
