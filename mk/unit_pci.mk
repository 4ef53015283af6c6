# unit tests of lib/pci
deps pci
test unit_pci_sysfs
src test/unit/pci/sysfs_ut.c
