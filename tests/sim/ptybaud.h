/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The speed a program configured on a tty, read with TCGETS2 (c_ospeed), so that BOTHER rates such as 125000
 * are seen as set. Works on a Linux pty: the kernel keeps the termios a client sets on the slave (speed
 * included) and reports it on any fd of that pty, although nothing is clocked at that rate. Kept in its own
 * file because <asm/termbits.h> and glibc's <termios.h> cannot be included together. */

#include <stdint.h>

/* Returns the output speed in bit/s, or a negative errno. */
int pty_get_speed(int fd, uint32_t *ret);
/* Sets the speed (in and out) with TCSETS2 and BOTHER; for tests that act as the host. */
int pty_set_speed(int fd, uint32_t speed);
