/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "fd-util.h"
#include "fileio.h"

int read_full_file(const char *path, size_t max_size, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, alloc = 0;
        int in;

        if (streq(path, "-"))
                in = STDIN_FILENO;
        else {
                fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
                if (fd < 0)
                        return -errno;
                in = fd;
        }

        for (;;) {
                if (len + 1 >= alloc) {
                        size_t na = alloc ? alloc * 2 : 4096;
                        if (na > max_size + 2)
                                na = max_size + 2;
                        if (na <= len + 1)
                                return -EFBIG;
                        char *t = realloc(buf, na);
                        if (!t)
                                return -ENOMEM;
                        buf = t;
                        alloc = na;
                }
                ssize_t n = read(in, buf + len, alloc - len - 1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
                if (len > max_size)
                        return -EFBIG;
        }
        buf[len] = '\0';
        *ret = TAKE_PTR(buf);
        if (ret_size)
                *ret_size = len;
        return 0;
}

int random_bytes(void *p, size_t n) {
        uint8_t *b = p;
        while (n > 0) {
                ssize_t k = getrandom(b, n, 0);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                b += k;
                n -= (size_t)k;
        }
        return 0;
}

int write_file_atomic(const char *path, const void *data, size_t n, unsigned mode) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;

        if (asprintf(&tmp, "%s.tmpXXXXXX", path) < 0)
                return -ENOMEM;
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        const uint8_t *b = data;
        size_t left = n;
        while (left > 0) {
                ssize_t k = write(fd, b, left);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        int r = -errno;
                        (void)unlink(tmp);
                        return r;
                }
                b += k;
                left -= (size_t)k;
        }
        if (fchmod(fd, (mode_t)mode) < 0 || fsync(fd) < 0 || rename(tmp, path) < 0) {
                int r = -errno;
                (void)unlink(tmp);
                return r;
        }
        return 0;
}

int mkdir_parent(const char *path, unsigned mode) {
        _cleanup_free_ char *dir = strdup(path);
        char *slash;

        if (!dir)
                return -ENOMEM;
        slash = strrchr(dir, '/');
        if (!slash || slash == dir)
                return 0;
        *slash = '\0';
        if (mkdir(dir, (mode_t)mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}
