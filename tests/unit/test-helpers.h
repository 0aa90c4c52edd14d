/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Shared by the cmocka unit tests. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hex.h"
#include "macro.h"

/* Decodes a hex literal into a static-sized buffer in a test; fails the test on bad hex. */
static inline size_t test_unhex(const char *hex, uint8_t *buf, size_t bufsz) {
        int n = hex_decode(hex, buf, bufsz);
        assert_true(n >= 0);
        return (size_t)n;
}

#define assert_memory_equal_hex(buf, len, hex)                     \
        do {                                                       \
                uint8_t _exp[4096];                                \
                size_t _n = test_unhex((hex), _exp, sizeof(_exp)); \
                assert_int_equal((len), _n);                       \
                assert_memory_equal((buf), _exp, _n);              \
        } while (0)
