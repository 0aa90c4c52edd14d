/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "macro.h"

/* Writes 2*n hex digits and a NUL into buf (bufsz >= 2*n+1). Returns buf. */
char *hex_encode(const void *p, size_t n, char *buf, size_t bufsz);
/* Allocates. NULL on OOM. */
char *hex_encode_alloc(const void *p, size_t n);
/* Parses hex (optional "0x" prefix, no separators) into buf. Returns the number of bytes, -EINVAL on bad
 * digits or odd length, -EMSGSIZE if it would not fit in bufsz. */
int hex_decode(const char *s, uint8_t *buf, size_t bufsz);
