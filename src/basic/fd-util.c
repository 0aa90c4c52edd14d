/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>

#include "fd-util.h"

static int fd_flag(int fd, int get, int set, int flag, bool on) {
        int flags = fcntl(fd, get);
        if (flags < 0)
                return -errno;
        int nflags = on ? flags | flag : flags & ~flag;
        if (nflags == flags)
                return 0;
        if (fcntl(fd, set, nflags) < 0)
                return -errno;
        return 0;
}

int fd_nonblock(int fd, bool nonblock) {
        return fd_flag(fd, F_GETFL, F_SETFL, O_NONBLOCK, nonblock);
}

int fd_cloexec(int fd, bool cloexec) {
        return fd_flag(fd, F_GETFD, F_SETFD, FD_CLOEXEC, cloexec);
}
