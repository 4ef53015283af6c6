# functional tests of lib/nvme: emulated controllers by default, real ones
# with -a ADDR (repeatable; the VM tier passes QEMU's NVMe controllers)
deps util env vfio emu nvme
test func_nvme
src test/func/nvme/main.c
src test/func/nvme/common.c
src test/func/nvme/limits.c
src test/func/nvme/bringup.c
src test/func/nvme/data.c
src test/func/nvme/queues.c
src test/func/nvme/bad_input.c
src test/func/nvme/faults.c
src test/func/nvme/recovery.c

# the I/O loop test/func/nosyscall.sh counts system calls of (not run
# directly by test/run.sh)
test nvme_nosyscall
src test/func/nvme/nosyscall_io.c

# VM-tier tools (test/vm/guest-test.sh runs them against QEMU's NVMe
# controllers on vfio-pci; not run by test/run.sh on the host)
test nvme_pattern
src test/vm_tools/nvme_pattern.c

test vm_mem
src test/vm_tools/vm_mem.c
