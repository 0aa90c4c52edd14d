/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <unistd.h>

#include "macro.h"

static inline int safe_close(int fd) {
        if (fd >= 0) {
                int saved = errno;
                (void)close(fd);
                errno = saved;
        }
        return -EBADF;
}

static inline void closep(int *fd) {
        *fd = safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

int fd_nonblock(int fd, bool nonblock);
int fd_cloexec(int fd, bool cloexec);
