/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "macro.h"

/* Reads a whole file (or stdin for "-") of at most max_size bytes into a NUL-terminated heap buffer.
 * -EFBIG if it is larger. */
int read_full_file(const char *path, size_t max_size, char **ret, size_t *ret_size);
/* Reads random bytes from the kernel (getrandom). */
int random_bytes(void *p, size_t n);
/* Writes data to path atomically (temp file + rename) with the given mode. */
int write_file_atomic(const char *path, const void *data, size_t n, unsigned mode);
/* Creates the directory that holds path (one level, with mode) if it does not exist yet: a new database's
 * directory. 0 if it exists or was made. */
int mkdir_parent(const char *path, unsigned mode);
