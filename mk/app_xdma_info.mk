# vpio-xdma-info: list Xilinx/AMD devices, or show an XDMA card (-a ADDR):
# BARs, config block, channels, modes, versions, alignment
deps pci xdma
app vpio-xdma-info
src app/xdma_info/main.c
