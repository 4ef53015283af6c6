#!/bin/sh
# xdma_nosyscall.sh [BUILD_DIR] - the XDMA transfer path makes no system
# call: test/func/nosyscall.sh run on BUILD_DIR/test/xdma_nosyscall (an
# emulated card, 4 KiB transfers, H2C and C2H alternating, 32 in flight on
# each channel, polled).  Prints "nosyscall: N passed, N failed".
exec env NOSYSCALL_PROG=xdma_nosyscall sh "$(dirname "$0")/nosyscall.sh" "$@"
