/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Serial ports for the dual-MCU link (ref-dualmcu.md §1): raw, 8N1, no flow control (neither RTS/CTS nor
 * XON/XOFF), any bit rate including 125000 (termios2 with BOTHER).
 *
 * Kept apart from everything else because <asm/termbits.h> (termios2) and glibc's <termios.h> cannot be
 * included in the same file: nothing in this header pulls in either. */

#include <stdint.h>

/* Opens path read-write with O_NOCTTY|O_CLOEXEC|O_NONBLOCK, configures it raw 8N1 without flow control at
 * `baud` bit/s and discards anything already buffered in both directions. Returns the fd, or -ENOTTY if path
 * is not a terminal, -EINVAL for baud 0, or another -errno from open()/ioctl(). */
int serial_open(const char *path, uint32_t baud);

/* Changes the bit rate of an open port (input and output) and flushes both queues. */
int serial_set_baud(int fd, uint32_t baud);

/* The output bit rate the port is configured at (c_ospeed from TCGETS2). */
int serial_get_baud(int fd, uint32_t *ret);

/* Discards unread input and unsent output. */
int serial_flush(int fd);
