# lib/pci: sysfs enumeration, device handles (VFIO or emulated)
lib pci
deps util vfio
api pci.h
src lib/pci/addr.c
src lib/pci/sysfs.c
src lib/pci/device.c
src lib/pci/vfio_dev.c
