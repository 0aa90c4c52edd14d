/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>

#include "text-util.h"

size_t utf8_sequence_len(const uint8_t *p, size_t n) {
        uint32_t cp;
        size_t len;

        if (n == 0)
                return 0;
        if (p[0] < 0x80)
                return 1;
        if (p[0] >= 0xc2 && p[0] <= 0xdf) {
                len = 2;
                cp = p[0] & 0x1f;
        } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
                len = 3;
                cp = p[0] & 0x0f;
        } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
                len = 4;
                cp = p[0] & 0x07;
        } else
                return 0;
        if (n < len)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (p[i] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return len;
}

bool utf8_valid(const void *s, size_t n) {
        const uint8_t *p = s;

        for (size_t i = 0; i < n;) {
                size_t l = utf8_sequence_len(p + i, n - i);
                if (l == 0)
                        return false;
                i += l;
        }
        return true;
}

char *terminal_escape(const void *s, size_t n, size_t *ret_width) {
        const uint8_t *p = s;
        size_t width = 0, o = 0;
        char *out;

        if (n > (SIZE_MAX - 1) / 4)
                return NULL;
        out = malloc(n * 4 + 1);
        if (!out)
                return NULL;
        for (size_t i = 0; i < n;) {
                size_t l = utf8_sequence_len(p + i, n - i);
                bool c1 = l == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0; /* U+0080..U+009F */

                if (l == 0 || c1 || (l == 1 && (p[i] < 0x20 || p[i] == 0x7f))) {
                        snprintf(out + o, 5, "\\x%02x", p[i]);
                        o += 4;
                        width += 4;
                        i++;
                        continue;
                }
                memcpy(out + o, p + i, l);
                o += l;
                i += l;
                width++;
        }
        out[o] = '\0';
        if (ret_width)
                *ret_width = width;
        return out;
}
