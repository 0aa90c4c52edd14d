/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>

#include "string-util.h"

char *cescape_buf(const void *p, size_t n, char *buf, size_t bufsz) {
        static const char hex[] = "0123456789abcdef";
        const uint8_t *b = p;
        size_t o = 0;

        assert(bufsz >= 4);
        for (size_t i = 0; i < n; i++) {
                char tmp[4];
                size_t tl;
                if (b[i] >= 0x20 && b[i] < 0x7f && b[i] != '\\' && b[i] != '\'') {
                        tmp[0] = (char)b[i];
                        tl = 1;
                } else {
                        tmp[0] = '\\';
                        tmp[1] = 'x';
                        tmp[2] = hex[b[i] >> 4];
                        tmp[3] = hex[b[i] & 15];
                        tl = 4;
                }
                if (o + tl + 4 > bufsz) { /* room for "..." and NUL */
                        memcpy(buf + o, "...", 3);
                        o += 3;
                        break;
                }
                memcpy(buf + o, tmp, tl);
                o += tl;
        }
        buf[o] = '\0';
        return buf;
}

bool topic_level_valid(const char *s, size_t n) {
        if (!s || n == 0)
                return false;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                if (c < 0x20 || c >= 0x7f || c == '/' || c == '+' || c == '#')
                        return false;
        }
        return true;
}

int strappendf(char **s, size_t *len, const char *format, ...) {
        va_list ap;
        size_t cur = *s ? *len : 0;

        va_start(ap, format);
        int n = vsnprintf(NULL, 0, format, ap);
        va_end(ap);
        if (n < 0)
                return -EINVAL;

        char *t = realloc(*s, cur + (size_t)n + 1);
        if (!t)
                return -ENOMEM;
        va_start(ap, format);
        (void)vsnprintf(t + cur, (size_t)n + 1, format, ap);
        va_end(ap);
        *s = t;
        *len = cur + (size_t)n;
        return 0;
}

size_t strlist_format_bounded(const char *const *items, size_t n, char *buf, size_t size) {
        char more[48];
        size_t len = 0, reserve;
        int k;

        if (size == 0)
                return 0;
        buf[0] = '\0';
        /* room for the longest suffix there can be: ", ... and <n> more" */
        k = snprintf(more, sizeof(more), ", ... and %zu more", n);
        reserve = k > 0 ? (size_t)k : 0;

        for (size_t i = 0; i < n; i++) {
                const char *item = items[i] ? items[i] : "";
                size_t need = (i > 0 ? 2 : 0) + strlen(item), rest = 0;

                /* no room kept for the suffix once everything left fits */
                for (size_t j = i + 1; j < n; j++)
                        rest += 2 + strlen(items[j] ? items[j] : "");
                if (len + need + rest >= size && len + need + reserve >= size) {
                        (void)snprintf(buf + len, size - len, "%s... and %zu more", i > 0 ? ", " : "",
                                       n - i);
                        return i;
                }
                len += (size_t)snprintf(buf + len, size - len, "%s%s", i > 0 ? ", " : "", item);
        }
        return n;
}

int free_and_strdup(char **p, const char *s) {
        char *t = NULL;
        if (s) {
                t = strdup(s);
                if (!t)
                        return -ENOMEM;
        }
        free(*p);
        *p = t;
        return 0;
}
