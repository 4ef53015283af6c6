/* SPDX-License-Identifier: BSD-3-Clause */
/* vpio's version (configure puts the same into vpio.pc). */
#ifndef VPIO_VERSION_H
#define VPIO_VERSION_H

#define VPIO_VERSION "0.1.0"

#endif
