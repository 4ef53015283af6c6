# lib/vfio: containers, groups, devices, DMA map/unmap, IOMMU facts
lib vfio
deps util env
api vfio.h
src lib/vfio/container.c
src lib/vfio/group.c
src lib/vfio/device.c
