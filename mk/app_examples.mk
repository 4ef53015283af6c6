# examples: the smallest complete programs (doc/nvme.md)
deps env nvme
app vpio-hello-nvme
src app/examples/hello_nvme.c
