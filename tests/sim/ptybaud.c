/* SPDX-License-Identifier: Apache-2.0 */
#include <asm/ioctls.h>
#include <asm/termbits.h>
#include <errno.h>

#include "ptybaud.h"

int ioctl(int fd, unsigned long request, ...); /* <sys/ioctl.h> would pull in glibc's struct termios */

int pty_get_speed(int fd, uint32_t *ret) {
        struct termios2 t;

        if (ioctl(fd, TCGETS2, &t) < 0)
                return -errno;
        *ret = t.c_ospeed;
        return 0;
}

int pty_set_speed(int fd, uint32_t speed) {
        struct termios2 t;

        if (ioctl(fd, TCGETS2, &t) < 0)
                return -errno;
        t.c_cflag &= ~(tcflag_t)CBAUD;
        t.c_cflag |= BOTHER;
        t.c_ispeed = t.c_ospeed = speed;
        if (ioctl(fd, TCSETS2, &t) < 0)
                return -errno;
        return 0;
}
