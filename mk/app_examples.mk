# examples: the smallest complete programs (doc/nvme.md)
app vpio-hello-nvme
src app/examples/hello_nvme.c
