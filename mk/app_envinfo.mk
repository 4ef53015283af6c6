# vpio-envinfo: the env and IOMMU facts of this machine
app vpio-envinfo
src app/envinfo/main.c
