# vpio-envinfo: the env and IOMMU facts of this machine
deps util env vfio pci
app vpio-envinfo
src app/envinfo/main.c
