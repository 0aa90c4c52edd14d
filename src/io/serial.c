/* SPDX-License-Identifier: Apache-2.0 */
/* termios2 comes from the kernel's headers; glibc's <termios.h> and <sys/ioctl.h> define a different struct
 * termios and must stay out of this file. */
#include <asm/ioctls.h>
#include <asm/termbits.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/serial.h>
#include <unistd.h>

#include "fd-util.h"
#include "serial.h"

int ioctl(int fd, unsigned long request, ...);

static int serial_configure(int fd, uint32_t baud) {
        struct termios2 t;

        if (ioctl(fd, TCGETS2, &t) < 0)
                return -errno;

        /* raw: no break, parity or CR/NL handling on input, no software flow control */
        t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON | IXOFF |
                                 IXANY | INPCK | IUCLC | IMAXBEL);
        t.c_oflag &= ~(tcflag_t)OPOST;
        t.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL | ICANON | ISIG | IEXTEN);
        /* 8N1, receiver on, modem lines ignored, no RTS/CTS, the rate given in c_ispeed/c_ospeed */
        t.c_cflag &=
                ~(tcflag_t)(CSIZE | PARENB | PARODD | CSTOPB | CRTSCTS | CBAUD | (CBAUD << IBSHIFT) | HUPCL);
        t.c_cflag |= CS8 | CREAD | CLOCAL | BOTHER | (BOTHER << IBSHIFT);
        t.c_ispeed = baud;
        t.c_ospeed = baud;
        /* the fd is non-blocking; a read returns what is there */
        t.c_cc[VMIN] = 0;
        t.c_cc[VTIME] = 0;

        if (ioctl(fd, TCSETS2, &t) < 0)
                return -errno;
        return 0;
}

int serial_flush(int fd) {
        if (ioctl(fd, TCFLSH, TCIOFLUSH) < 0)
                return -errno;
        return 0;
}

int serial_set_baud(int fd, uint32_t baud) {
        int r;

        if (fd < 0 || baud == 0)
                return -EINVAL;
        r = serial_configure(fd, baud);
        if (r < 0)
                return r;
        return serial_flush(fd);
}

int serial_get_baud(int fd, uint32_t *ret) {
        struct termios2 t;

        if (ioctl(fd, TCGETS2, &t) < 0)
                return -errno;
        *ret = t.c_ospeed;
        return 0;
}

/* Asks USB serial drivers to hand over bytes at once instead of batching them; ptys and some drivers don't
 * support it, which is fine. */
static void serial_low_latency(int fd) {
        struct serial_struct ss;

        if (ioctl(fd, TIOCGSERIAL, &ss) < 0)
                return;
        ss.flags |= ASYNC_LOW_LATENCY;
        (void)ioctl(fd, TIOCSSERIAL, &ss);
}

int serial_open(const char *path, uint32_t baud) {
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (!path || baud == 0)
                return -EINVAL;

        fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0)
                return -errno;

        r = serial_configure(fd, baud); /* -ENOTTY if path is not a terminal */
        if (r < 0)
                return r;
        serial_low_latency(fd);
        r = serial_flush(fd);
        if (r < 0)
                return r;

        return TAKE_FD(fd);
}
