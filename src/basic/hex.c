/* SPDX-License-Identifier: Apache-2.0 */
#include "hex.h"

static const char hexdigits[] = "0123456789abcdef";

char *hex_encode(const void *p, size_t n, char *buf, size_t bufsz) {
        const uint8_t *b = p;
        assert(bufsz >= 2 * n + 1);
        for (size_t i = 0; i < n; i++) {
                buf[2 * i] = hexdigits[b[i] >> 4];
                buf[2 * i + 1] = hexdigits[b[i] & 15];
        }
        buf[2 * n] = '\0';
        return buf;
}

char *hex_encode_alloc(const void *p, size_t n) {
        char *s = malloc(2 * n + 1);
        if (!s)
                return NULL;
        return hex_encode(p, n, s, 2 * n + 1);
}

static int unhexchar(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -EINVAL;
}

int hex_decode(const char *s, uint8_t *buf, size_t bufsz) {
        if (!s)
                return -EINVAL;
        if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
                s += 2;
        size_t l = strlen(s);
        if (l % 2 != 0)
                return -EINVAL;
        if (l / 2 > bufsz)
                return -EMSGSIZE;
        for (size_t i = 0; i < l / 2; i++) {
                int a = unhexchar(s[2 * i]), b = unhexchar(s[2 * i + 1]);
                if (a < 0 || b < 0)
                        return -EINVAL;
                buf[i] = (uint8_t)((a << 4) | b);
        }
        return (int)(l / 2);
}
